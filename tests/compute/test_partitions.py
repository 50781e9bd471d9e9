"""Featurize on Dask (latitude bands with a halo) gives the rows of the whole-panel featurize, value for value."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geih.compute.partitions import Band, band_count, featurize, featurize_on_dask, latitude_bands, rows_per_band
from geih.domain.grid import Grid
from geih.tasks import get_task, task_names

RESOLUTION = 1.5  # the tiny world's grid


@pytest.fixture(scope="module")
def panels(tiny_world: Path) -> dict[str, pd.DataFrame]:
    out = {}
    for name in task_names():
        task = get_task(name)
        params = {"grid_resolution_deg": RESOLUTION, "dedup": "reference", "reference_satellite": "AQUA_M-T",
                  "threshold_km2": 1.0}
        keys = {"fire_risk": {"grid_resolution_deg", "dedup", "reference_satellite"},
                "deforestation": {"grid_resolution_deg", "threshold_km2"}}.get(name, {"grid_resolution_deg"})
        out[name] = task.prepare(tiny_world, {k: v for k, v in params.items() if k in keys})[0]
    return out


def test_bands_cover_the_rows_once_with_their_halo():
    grid = Grid(1.0)
    ids = np.array([0, 5 * grid.ncols + 3, 9 * grid.ncols])  # rows 0, 5, 9
    bands = latitude_bands(grid, ids, band_rows=4, halo_rows=1)
    assert [(b.first // grid.ncols, b.stop // grid.ncols) for b in bands] == [(0, 4), (4, 8), (8, 12)]
    assert [(b.read_first // grid.ncols, b.read_stop // grid.ncols) for b in bands] == [(0, 5), (3, 9), (7, 13)]
    assert latitude_bands(grid, ids, 4, None) == [Band(0, grid.nrows * grid.ncols, 0, grid.nrows * grid.ncols)]
    assert rows_per_band(Grid(0.5), 4.0) == 8 and rows_per_band(Grid(5.0), 1.0) == 1
    assert band_count(Grid(0.5), 4.0) == 6  # 48 rows of 0.5° in 8-row bands


@pytest.mark.parametrize("band_deg", [1.5, 4.5])
@pytest.mark.parametrize("name", task_names())
def test_featurize_on_dask_equals_the_whole_panel(name, band_deg, panels, dask_client):
    task = get_task(name)
    whole = task.featurize(panels[name], RESOLUTION)
    banded = featurize(dask_client, task, panels[name], RESOLUTION, band_deg)
    pd.testing.assert_frame_equal(banded, whole, check_exact=True)
    pd.testing.assert_frame_equal(featurize(None, task, panels[name], RESOLUTION, band_deg), whole)  # in-process


def test_without_the_halo_the_neighbour_features_would_differ(panels, dask_client):
    """The test above can fail: fire risk's neighbour counts need the 1-cell halo."""
    task = replace(get_task("fire_risk"), featurize_halo_cells=0)
    whole = get_task("fire_risk").featurize(panels["fire_risk"], RESOLUTION)
    banded = featurize_on_dask(dask_client, task, panels["fire_risk"], RESOLUTION, 1.5)
    assert not banded["neighbour_hotspots_12m"].equals(whole["neighbour_hotspots_12m"])
    assert banded["hotspots_12m"].equals(whole["hotspots_12m"])


def test_a_task_without_a_halo_is_featurized_whole(panels, dask_client):
    task = replace(get_task("climate_prediction"), featurize_halo_cells=None)
    pd.testing.assert_frame_equal(featurize_on_dask(dask_client, task, panels["climate_prediction"], RESOLUTION, 1.5),
                                  task.featurize(panels["climate_prediction"], RESOLUTION))
