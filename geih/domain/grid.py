"""The regular lat/lon analysis grid over the Legal Amazon, and metric geometry helpers.

Cells are indexed row-major from the north-west corner of a fixed bounding box, so a cell id
means the same place for every dataset and task that uses the same resolution.
Distances and areas are computed in SIRGAS 2000 / Brazil Polyconic (EPSG:5880).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

WGS84 = "EPSG:4326"
METRIC_CRS = "EPSG:5880"  # SIRGAS 2000 / Brazil Polyconic
# Bounding box of the Legal Amazon, a little padded (lon -74..-44, lat -18.1..5.3).
LON_MIN, LON_MAX = -74.0, -43.5
LAT_MIN, LAT_MAX = -18.5, 5.5


@dataclass(frozen=True)
class Grid:
    """A regular grid of square cells of `resolution` degrees over the fixed bounding box."""

    resolution: float

    @property
    def ncols(self) -> int:
        return int(np.ceil((LON_MAX - LON_MIN) / self.resolution - 1e-9))

    @property
    def nrows(self) -> int:
        return int(np.ceil((LAT_MAX - LAT_MIN) / self.resolution - 1e-9))

    def cell_of(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Cell id of each point; -1 for points outside the bounding box."""
        with np.errstate(invalid="ignore"):  # NaN → a huge negative index → outside
            col = np.floor((np.asarray(lon, dtype=float) - LON_MIN) / self.resolution).astype(np.int64)
            row = np.floor((LAT_MAX - np.asarray(lat, dtype=float)) / self.resolution).astype(np.int64)
        inside = (col >= 0) & (col < self.ncols) & (row >= 0) & (row < self.nrows)
        return np.where(inside, row * self.ncols + col, -1)

    def row_col(self, cell_id: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cell_id = np.asarray(cell_id, dtype=np.int64)
        return cell_id // self.ncols, cell_id % self.ncols

    def center(self, cell_id: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(lat, lon) of the centre of each cell."""
        row, col = self.row_col(cell_id)
        lat = LAT_MAX - (row + 0.5) * self.resolution
        lon = LON_MIN + (col + 0.5) * self.resolution
        return lat, lon

    def cell_area_km2(self, cell_id: np.ndarray) -> np.ndarray:
        """Approximate area of each cell on the sphere, in km²."""
        lat, _ = self.center(cell_id)
        side_km = 111.32 * self.resolution
        return side_km * side_km * np.cos(np.deg2rad(lat))


def cell_positions(grid: Grid, cells: pd.DataFrame, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Row position in `cells` of each point's cell; -1 outside the region."""
    lookup = np.full(grid.nrows * grid.ncols + 1, -1, dtype=np.int64)  # last slot: outside (-1)
    lookup[cells["cell_id"].to_numpy()] = np.arange(len(cells))
    return lookup[grid.cell_of(lat, lon)]


def cells_in_boundary(grid: Grid, boundary) -> pd.DataFrame:
    """Cells whose centre lies inside `boundary` (a shapely geometry in WGS84).

    Returns columns cell_id, row, col, lat, lon (cell centre), area_km2, sorted by cell_id.
    """
    import shapely

    ids = np.arange(grid.nrows * grid.ncols, dtype=np.int64)
    lat, lon = grid.center(ids)
    inside = shapely.contains_xy(boundary, lon, lat)
    ids = ids[inside]
    row, col = grid.row_col(ids)
    return pd.DataFrame({
        "cell_id": ids, "row": row, "col": col,
        "lat": lat[inside], "lon": lon[inside],
        "area_km2": grid.cell_area_km2(ids),
    })


def neighbour_pairs(grid: Grid, cell_ids: np.ndarray) -> pd.DataFrame:
    """Pairs (cell_id, neighbour_id) of the 8-connected neighbours present in `cell_ids`."""
    cell_ids = np.asarray(cell_ids, dtype=np.int64)
    present = pd.Index(cell_ids)
    row, col = grid.row_col(cell_ids)
    parts = []
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            if dr == 0 and dc == 0:
                continue
            r, c = row + dr, col + dc
            ok = (r >= 0) & (r < grid.nrows) & (c >= 0) & (c < grid.ncols)
            nid = r * grid.ncols + c
            ok &= present.get_indexer(nid) >= 0
            parts.append(pd.DataFrame({"cell_id": cell_ids[ok], "neighbour_id": nid[ok]}))
    return pd.concat(parts, ignore_index=True)


def neighbour_array_sum(arr: np.ndarray, cell_ids: np.ndarray, pairs: pd.DataFrame) -> np.ndarray:
    """Sum of each cell's 8-neighbours' rows of `arr` (cells aligned with `cell_ids`)."""
    index = pd.Index(cell_ids)
    src = index.get_indexer(pairs["neighbour_id"].to_numpy())
    dst = index.get_indexer(pairs["cell_id"].to_numpy())
    out = np.zeros_like(arr)
    np.add.at(out, dst, arr[src])
    return out


def distance_to_features_km(lat: np.ndarray, lon: np.ndarray, geometries) -> np.ndarray:
    """Distance in km from each (lat, lon) point to the nearest of `geometries` (WGS84 GeoSeries).

    Computed in EPSG:5880. Returns +inf for every point when `geometries` is empty.
    """
    import geopandas as gpd
    import shapely

    if len(geometries) == 0:
        return np.full(len(lat), np.inf)
    points = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=WGS84).to_crs(METRIC_CRS)
    targets = gpd.GeoSeries(geometries, crs=WGS84).to_crs(METRIC_CRS)
    tree = shapely.STRtree(targets.values)
    _, dist = tree.query_nearest(points.values, return_distance=True, all_matches=False)
    return np.asarray(dist) / 1000.0
