"""Prepare's spatial joins with dask-geopandas give the in-process results."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from geih.compute.spatial import assign_states_dask, clip_to_region_dask, dask_joins
from geih.domain.grid import Grid
from geih.ingest.sources.hotspot_rules import clip_to_region
from geih.tasks import common


def test_states_first_match_and_no_match_like_in_process():
    states = gpd.GeoDataFrame({"state": ["AA", "BB"]}, geometry=[box(0, 0, 2, 2), box(1, 0, 3, 2)])
    cells = pd.DataFrame({"cell_id": [1, 2, 3, 4], "lat": [1.0, 1.0, 1.0, 5.0], "lon": [0.5, 1.5, 2.5, 0.5]})
    got = assign_states_dask(cells, states, npartitions=2)
    assert got.tolist() == ["AA", "AA", "BB", "NA"]  # the overlap goes to the first state, as in-process
    pd.testing.assert_series_equal(got, common.assign_states(cells, states))


def test_points_on_the_edge_are_dropped_and_order_kept_across_years():
    region = box(0, 0, 2, 2)
    points = pd.DataFrame({"lat": [1.0, 0.0, 1.5, 3.0, 0.5], "lon": [1.0, 1.0, 0.5, 1.0, 1.9],
                           "datetime": pd.to_datetime(["2021-03-01", "2020-01-01", "2020-06-01", "2021-01-01",
                                                       "2019-12-31"]), "frp": [1, 2, 3, 4, 5]})
    kept, dropped = clip_to_region_dask(points, region)
    assert kept["frp"].tolist() == [1, 3, 5] and dropped == 2
    expected, n = clip_to_region(points, region)
    pd.testing.assert_frame_equal(kept, expected)
    assert n == dropped
    empty, none = clip_to_region_dask(points.iloc[:0], region)
    assert empty.empty and none == 0


@pytest.fixture(scope="module")
def raw(tiny_world: Path):
    grid = Grid(1.5)
    return grid, common.load_raw(tiny_world, ["boundary", "states", "hotspots"], grid)


def test_the_tiny_world_joins_match_in_process(raw):
    grid, loaded = raw
    boundary, states, hotspots = loaded["boundary"][0], loaded["states"][0], loaded["hotspots"][0]
    cells = common.region_cells(grid, boundary)
    joins = dask_joins(n_band_partitions=4)
    pd.testing.assert_series_equal(joins.assign_states(cells, states), common.assign_states(cells, states))
    region = boundary.geometry.union_all()
    kept, dropped = joins.clip_to_region(hotspots, region)
    expected, n = clip_to_region(hotspots, region)
    assert len(np.unique(hotspots["datetime"].dt.year)) > 1  # several yearly partitions
    pd.testing.assert_frame_equal(kept, expected)
    assert dropped == n


def test_without_a_client_the_joins_run_in_this_process():
    from geih.compute.spatial import prepare_joins

    assert prepare_joins(None, 0.5, 4.0) is common.IN_PROCESS
    assert prepare_joins(object(), 0.5, 4.0) is not common.IN_PROCESS
