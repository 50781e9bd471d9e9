"""The tiling of benchmarks/dask_panel.py: each fine cell carries its coarse cell's months under its own id."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geih.domain.grid import Grid
from tests.conftest import load_benchmark


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("dask_panel")


def test_fine_cells_tile_their_coarse_cells(bench):
    coarse, fine = Grid(1.0), Grid(0.5)
    coarse_ids = np.array([0, coarse.ncols + 2])  # (row 0, col 0) and (row 1, col 2)
    ids, pos = bench.fine_cells(coarse, coarse_ids, fine)
    assert len(ids) == 8 and np.all(np.diff(ids) > 0)
    assert (pos == 0).sum() == 4 and (pos == 1).sum() == 4
    lat, lon = fine.center(ids)
    np.testing.assert_array_equal(coarse.cell_of(lat, lon), coarse_ids[pos])


def test_tiled_panel_repeats_the_source_months(bench):
    months = pd.date_range("2020-01-01", periods=3, freq="MS")
    template = pd.DataFrame({"cell_id": np.repeat([10, 20], 3), "month": np.tile(months, 2),
                             "lat": 0.0, "lon": 0.0, "n_hotspots": [1, 2, 3, 4, 5, 6]})
    fine = Grid(0.5)
    panel = bench.tiled_panel(template, 3, fine, np.array([7, 8]), np.array([1, 0]))
    assert panel["cell_id"].tolist() == [7, 7, 7, 8, 8, 8]
    assert panel["n_hotspots"].tolist() == [4, 5, 6, 1, 2, 3]
    assert panel["month"].tolist() == list(months) * 2
    np.testing.assert_allclose(panel["lat"].to_numpy()[::3], fine.center(np.array([7, 8]))[0])
