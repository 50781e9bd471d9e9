"""Where an alert is: its cell's polygon on the project grid (EPSG:4326), its state and its municipality,
each with its IBGE code.

State: the `state` column (UF) of the features when present (prepare assigns it from the state boundaries),
else the state of the nearest municipality seat. Municipality: the nearest municipality seat within the
cell's state, from the table of Legal Amazon municipality seats with their real IBGE codes
(`geih.ingest.synthetic.geography.MUNICIPALITIES`) — the raw data carry no municipality polygons, so this is
the seat nearest to the cell centre, not the polygon containing it (the synthetic world assigns cells the same
way). Distances are compared on a local equirectangular projection (longitude scaled by cos(latitude)).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from geih.domain.grid import Grid
from geih.ingest.sources.states import UF_TO_ID


def cell_bounds(grid: Grid, cell_id: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(west, south, east, north) of each cell, in degrees."""
    lat, lon = grid.center(np.asarray(cell_id, dtype=np.int64))
    half = grid.resolution / 2
    return lon - half, lat - half, lon + half, lat + half


def polygon_ring(west: float, south: float, east: float, north: float, digits: int = 6) -> list[list[float]]:
    """A cell's closed exterior ring, counter-clockwise (RFC 7946), coordinates [lon, lat]."""
    w, s, e, n = (round(float(v), digits) for v in (west, south, east, north))
    return [[w, s], [e, s], [e, n], [w, n], [w, s]]


@cache
def municipality_seats() -> pd.DataFrame:
    """Municipality seats: name, state (UF), code (IBGE), lat, lon."""
    from geih.ingest.synthetic.geography import municipalities

    return municipalities()[["name", "state", "code", "lat", "lon"]].reset_index(drop=True)


def nearest_seats(lat: np.ndarray, lon: np.ndarray, state: np.ndarray | None, seats: pd.DataFrame) -> np.ndarray:
    """Row position in `seats` of the nearest seat to each point, within the point's state when it has seats
    there (else among all seats)."""
    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    s_lat, s_lon = seats["lat"].to_numpy(float), seats["lon"].to_numpy(float)
    s_state = seats["state"].to_numpy(dtype=object)
    out = np.empty(len(lat), dtype=np.int64)
    keys = np.asarray(state, dtype=object) if state is not None else np.full(len(lat), None, dtype=object)
    for key in pd.unique(keys):
        rows = np.flatnonzero(keys == key) if key is not None else np.flatnonzero(pd.isna(keys))
        pool = np.flatnonzero(s_state == key)
        if len(pool) == 0:
            pool = np.arange(len(seats))
        d2 = ((lat[rows, None] - s_lat[None, pool]) ** 2
              + ((lon[rows, None] - s_lon[None, pool]) * np.cos(np.deg2rad(lat[rows, None]))) ** 2)
        out[rows] = pool[d2.argmin(axis=1)]
    return out


def places(lat: np.ndarray, lon: np.ndarray, state: np.ndarray | None,
           seats: pd.DataFrame | None = None) -> pd.DataFrame:
    """state, state_code, municipality, municipality_code of each point (cell centre); `state` (UF per point,
    or None) as given, else the nearest seat's."""
    seats = municipality_seats() if seats is None else seats
    known = None if state is None else np.where(pd.Series(state).isin(list(UF_TO_ID)).to_numpy(),
                                                np.asarray(state, dtype=object), None)
    pos = nearest_seats(lat, lon, known, seats)
    uf = seats["state"].to_numpy(dtype=object)[pos] if known is None else np.where(
        pd.isna(known), seats["state"].to_numpy(dtype=object)[pos], known)
    return pd.DataFrame({
        "state": uf.astype(object),
        "state_code": pd.array([UF_TO_ID.get(u) for u in uf], dtype="Int64"),
        "municipality": seats["name"].to_numpy(dtype=object)[pos],
        "municipality_code": seats["code"].to_numpy(dtype=np.int64)[pos],
    })
