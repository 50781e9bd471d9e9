"""Prepare's spatial joins on a Dask cluster with dask-geopandas, with the in-process results.

Cells are joined to the states in latitude bands (the cells frame is sorted by cell_id, row-major:
contiguous partitions are bands of grid rows); points (hotspots) are joined to the region one
partition per calendar year. Both use `sjoin(predicate="within")`, which, like the in-process
`shapely.contains_xy`, leaves out points on a polygon's edge.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from geih.tasks.common import IN_PROCESS, SpatialJoins

_ROW = "_geih_row"  # the row's position in the input frame, to restore order after the join


def _points(frame: pd.DataFrame, crs: Any) -> Any:
    import geopandas as gpd

    return gpd.GeoDataFrame({_ROW: np.arange(len(frame), dtype=np.int64)},
                            geometry=gpd.points_from_xy(frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)),
                            crs=crs)


def assign_states_dask(cells: pd.DataFrame, states: pd.DataFrame, npartitions: int) -> pd.Series:
    """`geih.tasks.common.assign_states` as a dask-geopandas join over `npartitions` bands of cells:
    the first state (in the states table's order) containing each cell centre; 'NA' where none does."""
    import dask_geopandas
    import geopandas as gpd

    polygons = gpd.GeoDataFrame({"_order": np.arange(len(states)), "state": states["state"].to_numpy()},
                                geometry=list(states.geometry), crs=getattr(states, "crs", None))
    points = dask_geopandas.from_geopandas(_points(cells, polygons.crs), npartitions=max(1, npartitions), sort=False)
    joined = dask_geopandas.sjoin(points, polygons, how="inner", predicate="within").compute()
    first = joined.sort_values([_ROW, "_order"], kind="stable").drop_duplicates(_ROW)
    out = np.full(len(cells), "NA", dtype=object)
    out[first[_ROW].to_numpy()] = first["state"].to_numpy()
    return pd.Series(out, index=cells.index, name="state")


def clip_to_region_dask(points: pd.DataFrame, region_geometry: Any, time_column: str = "datetime"
                        ) -> tuple[pd.DataFrame, int]:
    """`geih.ingest.sources.hotspot_rules.clip_to_region` as a dask-geopandas join, one partition per
    calendar year of `time_column`: the rows inside the region (one geometry, as the in-process rule takes
    it) in their input order, and the number dropped."""
    import dask_geopandas
    import geopandas as gpd

    region = gpd.GeoDataFrame(geometry=[region_geometry])
    frame = _points(points, None)
    years = pd.to_datetime(points[time_column]).dt.year.to_numpy() if len(points) else np.zeros(0, dtype=np.int64)
    frame.index = pd.Index(years, name="_year")  # the year defines the partitions
    uniq = np.unique(years)
    if len(uniq) == 0:
        return points.iloc[:0].reset_index(drop=True), 0
    by_year = dask_geopandas.from_geopandas(frame.sort_index(kind="stable"), npartitions=len(uniq), sort=True)
    by_year = by_year.repartition(divisions=[*uniq.tolist(), int(uniq[-1])])
    joined = dask_geopandas.sjoin(by_year, region, how="inner", predicate="within").compute()
    inside = np.zeros(len(points), dtype=bool)
    inside[joined[_ROW].to_numpy()] = True
    return points.loc[inside].reset_index(drop=True), int((~inside).sum())


def dask_joins(n_band_partitions: int) -> SpatialJoins:
    """The SpatialJoins of prepare on the Dask client in use (`distributed.Client` as the default
    scheduler): states in `n_band_partitions` latitude bands, points by year."""

    def assign_states(cells: pd.DataFrame, states: pd.DataFrame) -> pd.Series:
        return assign_states_dask(cells, states, n_band_partitions)

    return SpatialJoins(assign_states=assign_states, clip_to_region=clip_to_region_dask)


def prepare_joins(client: Any, grid_resolution_deg: float, band_deg: float) -> SpatialJoins:
    """Where prepare's joins run: in this process without a client (IN_PROCESS), else `dask_joins` with the
    cells in latitude bands of `band_deg` (the client is Dask's default scheduler while it is open)."""
    if client is None:
        return IN_PROCESS
    from geih.compute.partitions import band_count
    from geih.domain.grid import Grid

    return dask_joins(band_count(Grid(grid_resolution_deg), band_deg))
