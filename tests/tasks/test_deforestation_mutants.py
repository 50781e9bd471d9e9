"""Deforestation prepare reads its raw folders on the analysis grid, with the official increment tables optional
(cases found by mutation testing). Without the grid, land-cover rasters would be summarised on the 0.5° summary
grid, which differs from an analysis grid that is not a multiple of it (0.75° here); a required
``prodes_increments/`` would refuse every raw folder without official tables."""

from __future__ import annotations

import pytest

from geih.domain.grid import Grid
from geih.tasks import deforestation


class _Stop(Exception):
    """Raised by the stand-in loader: only the arguments of the call are under test."""


def test_prepare_loads_the_raw_folders_on_its_grid_with_official_tables_optional(monkeypatch, tmp_path):
    calls = []

    region_cells = object()

    def fake_load_raw(raw_dir, kinds, grid, optional=(), cells=None):
        calls.append((raw_dir, kinds, grid, optional, cells))
        raise _Stop

    monkeypatch.setattr(deforestation.common, "load_region", lambda raw_dir, grid: (None, region_cells))
    monkeypatch.setattr(deforestation.common, "load_raw", fake_load_raw)
    with pytest.raises(_Stop):
        deforestation.prepare(tmp_path, {"grid_resolution_deg": 0.75, "threshold_km2": 1.0})
    [(raw_dir, kinds, grid, optional, cells)] = calls
    assert raw_dir == tmp_path and {"landcover", "prodes_increments", "weather"} <= set(kinds)
    assert isinstance(grid, Grid) and grid == Grid(0.75)
    assert optional == ("prodes_increments",)
    assert cells is region_cells  # the weather cube is built on the region's cells


def test_recent_clearing_features_by_hand():
    """add_recent_clearing on five panel years (2016–2020), worked by hand: the last three covered years,
    events strictly above the threshold, the neighbours' share and trend, NaN where years are not covered
    (the 7 km² of 2015 are not panel data) and for a cell without neighbours."""
    import warnings

    import numpy as np
    import pandas as pd

    grid = Grid(1.0)  # 31 columns: A = row 2 col 2, B its east neighbour, C its south one, D alone
    a, b, c, d = 2 * 31 + 2, 2 * 31 + 3, 3 * 31 + 2, 10 * 31 + 20
    years = [2016, 2017, 2018, 2019, 2020]
    cells = pd.DataFrame({"cell_id": [a, b, c, d]})
    clearing = pd.DataFrame([
        (a, 2016, 3.0), (a, 2017, 2.0), (a, 2018, 5.0), (a, 2020, 1.0),
        (b, 2017, 4.0), (b, 2018, 2.5), (b, 2019, 6.0),
        (c, 2015, 7.0), (c, 2017, 2.0), (c, 2018, 1.0), (c, 2019, 3.0),
        (d, 2017, 10.0), (d, 2019, 2.0),
    ], columns=["cell_id", "year", "cleared_km2"])
    panel = pd.DataFrame({"cell_id": np.repeat([a, b, c, d], 5), "year": np.tile(years, 4),
                          "cleared_km2_prev_year": 1.0, "neighbour_cleared_km2_prev_year": 1.0})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # D's 0 / 0 neighbours is NaN without a warning
        out = deforestation.add_recent_clearing(panel.copy(), cells, clearing, grid, years, threshold_km2=2.0)

    nan = np.nan
    expected = {
        a: {"cleared_km2_prev_3_years": [nan, 3.0, 5.0, 10.0, 7.0],
            "clearing_event_rate_before": [nan, 1.0, 0.5, 2 / 3, 0.5],  # 2017's 2.0 km² is not an event
            "neighbour_event_frac_prev_year": [nan, 0.0, 0.5, 0.5, 1.0],  # B and C
            "neighbour_cleared_km2_trend": [nan, nan, 6.0, -2.5, 5.5]},
        c: {"cleared_km2_prev_3_years": [nan, 0.0, 2.0, 3.0, 6.0]},
        d: {"cleared_km2_prev_3_years": [nan, 0.0, 10.0, 10.0, 12.0],
            "clearing_event_rate_before": [nan, 0.0, 0.5, 1 / 3, 0.25],
            "neighbour_event_frac_prev_year": [nan] * 5,
            "neighbour_cleared_km2_trend": [nan, nan, 0.0, 0.0, 0.0]},
    }
    for cell, columns in expected.items():
        rows = out[out["cell_id"] == cell]
        for column, values in columns.items():
            assert rows[column].dtype == np.float64, column
            np.testing.assert_allclose(rows[column].to_numpy(), values, err_msg=f"cell {cell} {column}")
    first = out["year"] == 2016
    assert out.loc[first, ["cleared_km2_prev_year", "neighbour_cleared_km2_prev_year"]].isna().all().all()
    assert (out.loc[~first, ["cleared_km2_prev_year", "neighbour_cleared_km2_prev_year"]] == 1.0).all().all()
