"""Regridding between the project's cells and an external model's regular lat/lon grid.

To the model grid (`cells_to_grid`): each grid point inside a project cell (the square of side
`resolution_deg` around the cell centre) takes that cell's value; points in no cell take `fill` (the
variable's mean: the model sees "no anomaly" outside the region). This is nearest-neighbour sampling;
when the model grid is coarser than the cells it samples one cell per point rather than averaging.

Back to the cells (`grid_to_cells`): 'nearest' takes the grid point nearest each cell centre; 'bilinear'
interpolates the four surrounding grid points (longitude wraps on a 360° grid; at the grid's edge the
weights fall on the edge points). Both are exact where cell centres coincide with grid points.
"""

from __future__ import annotations

import numpy as np

from geih.external.adapter import ContractError, GridSpec

REGRID_METHODS = ("nearest", "bilinear")


def _lon_offset(grid: GridSpec, lon: np.ndarray) -> np.ndarray:
    """Longitude in grid steps from the first column; wrapped into [0, 360) on a global grid."""
    delta = np.asarray(lon, dtype=float) - grid.lon_first
    if grid.wraps:
        delta = np.mod(delta, 360.0)
    return delta / grid.lon_step


def cells_to_grid(grid: GridSpec, lat: np.ndarray, lon: np.ndarray, values: np.ndarray,
                  resolution_deg: float, fill: np.ndarray) -> np.ndarray:
    """Values (variables, cells) of cells centred at (lat, lon) on the grid → (variables, n_lat, n_lon);
    grid points in no cell get `fill` (one value per variable)."""
    glat, glon = grid.lats, grid.lons
    half = resolution_deg / 2
    out = np.broadcast_to(np.asarray(fill, dtype=float)[:, None, None],
                          (values.shape[0], *grid.shape)).copy()
    for i, (clat, clon) in enumerate(zip(np.asarray(lat, dtype=float), np.asarray(lon, dtype=float))):
        rows = np.flatnonzero((glat >= clat - half) & (glat < clat + half))
        dlon = np.mod(glon - clon + 180.0, 360.0) - 180.0 if grid.wraps else glon - clon
        cols = np.flatnonzero((dlon >= -half) & (dlon < half))
        if len(rows) and len(cols):
            out[:, rows[:, None], cols[None, :]] = values[:, i][:, None, None]
    return out


def grid_to_cells(grid: GridSpec, field: np.ndarray, lat: np.ndarray, lon: np.ndarray,
                  method: str = "bilinear") -> np.ndarray:
    """A field (variables, n_lat, n_lon) at cell centres (lat, lon) → (variables, cells)."""
    if method not in REGRID_METHODS:
        raise ContractError(f"regrid method {method!r} is not one of {list(REGRID_METHODS)}")
    row = (np.asarray(lat, dtype=float) - grid.lat_first) / grid.lat_step
    col = _lon_offset(grid, lon)
    outside = (row < -0.5) | (row > grid.n_lat - 0.5)
    if not grid.wraps:
        outside |= (col < -0.5) | (col > grid.n_lon - 0.5)
    if outside.any():
        first = int(np.flatnonzero(outside)[0])
        raise ContractError(f"{int(outside.sum())} cell(s) lie outside the model grid, e.g. lat {lat[first]}, "
                            f"lon {lon[first]}")
    if method == "nearest":
        r = np.clip(np.rint(row).astype(np.int64), 0, grid.n_lat - 1)
        c = np.rint(col).astype(np.int64)
        c = np.mod(c, grid.n_lon) if grid.wraps else np.clip(c, 0, grid.n_lon - 1)
        return field[:, r, c]
    r0 = np.clip(np.floor(row).astype(np.int64), 0, max(grid.n_lat - 2, 0))
    wr = np.clip(row - r0, 0.0, 1.0)
    r1 = np.minimum(r0 + 1, grid.n_lat - 1)
    c0 = np.floor(col).astype(np.int64)
    if grid.wraps:
        wc = col - c0
        c0, c1 = np.mod(c0, grid.n_lon), np.mod(c0 + 1, grid.n_lon)
    else:
        c0 = np.clip(c0, 0, max(grid.n_lon - 2, 0))
        wc = np.clip(col - c0, 0.0, 1.0)
        c1 = np.minimum(c0 + 1, grid.n_lon - 1)
    return ((1 - wr) * (1 - wc) * field[:, r0, c0] + (1 - wr) * wc * field[:, r0, c1]
            + wr * (1 - wc) * field[:, r1, c0] + wr * wc * field[:, r1, c1])
