"""The hotspot cleaning rules, each written once as a pure function over arrays or frames.

`geih.ingest.sources.hotspots` applies the row and value rules to every file it reads (whichever
parsing strategy it takes); `dedup_hotspots` and `clip_to_region` run on the canonical frame in
prepare. Truncated last lines are dropped while reading (`geih.ingest.sources.tabular.read_csv_table`).

Row rules (a True marks a row to drop), applied in this order, each row counted under the first:
`exact_duplicates`, `missing_datetime`, `invalid_lat_lon`, `missing_satellite`, `non_vegetation_type`.
Value rules (a True marks a value to blank in a kept row): `invalid_marker` (INPE's -999),
`negative_frp`. File rule: `swapped_sample` (the lat and lon columns look exchanged). Cross-check:
`geom_cross_check` (a WKT geometry column against the coordinate columns; counted, never trusted).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from geih.errors import ParamsError

log = logging.getLogger(__name__)

REFERENCE_SATELLITE = "AQUA_M-T"  # INPE's reference satellite (its consistent series)
INVALID_MARKER = -999.0  # INPE's "no valid value" in frp, days without rain, precipitation, fire risk
# South America bounding box, for the swapped-columns test
SOUTH_AMERICA_LON, SOUTH_AMERICA_LAT = (-82.0, -34.0), (-56.0, 13.0)


def exact_duplicates(table, lat: np.ndarray, lon: np.ndarray, file_id: np.ndarray) -> np.ndarray:
    """Rows equal in every field (as text) to an earlier row of the same file.

    `table` is a pyarrow Table of the rows; `lat`/`lon` are their parsed coordinates and `file_id` the
    file of each row. Rows are pre-filtered on the bits of lat/lon (equal text parses to equal bits),
    then compared field by field.
    """
    bits = (lat.view(np.uint64) * np.uint64(0x9E3779B97F4A7C15) ^ lon.view(np.uint64)
            ^ file_id.astype(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F))
    candidates = pd.Series(bits, copy=False).duplicated(keep=False).to_numpy()
    dup = np.zeros(len(lat), dtype=bool)
    if candidates.any():
        positions = np.flatnonzero(candidates)
        sub = table.take(positions)
        seen: set = set()
        for pos, file, row in zip(positions, file_id[positions].tolist(),
                                  zip(*(c.to_pylist() for c in sub.columns))):
            if (file, row) in seen:
                dup[pos] = True
            else:
                seen.add((file, row))
    return dup


def missing_datetime(dt: np.ndarray) -> np.ndarray:
    """No date-time (an empty field; text that does not parse is an error, not a missing value)."""
    return np.isnat(dt)


def invalid_lat_lon(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Latitude or longitude missing, -999 or outside ±90 / ±180."""
    with np.errstate(invalid="ignore"):
        return ~((np.abs(lat) <= 90) & (np.abs(lon) <= 180))


def missing_satellite(names: np.ndarray) -> np.ndarray:
    """An empty satellite name (after trimming and mapping)."""
    return np.asarray(names, dtype=object) == ""


def non_vegetation_type(fire_type: np.ndarray) -> np.ndarray:
    """FIRMS ``type`` 1 (volcano), 2 (static land source) or 3 (offshore), or INPE's
    ``id_area_industrial`` 1 (a detection in an industrial area); empty or 0 is kept."""
    with np.errstate(invalid="ignore"):
        return ~np.isnan(fire_type) & (fire_type != 0)


def invalid_marker(values: np.ndarray) -> np.ndarray:
    """INPE's invalid-value marker -999 (the value becomes missing)."""
    return values == INVALID_MARKER


def negative_frp(frp: np.ndarray) -> np.ndarray:
    """A negative fire radiative power (the value becomes missing)."""
    with np.errstate(invalid="ignore"):
        return frp < 0


GEOM_TOLERANCE_DEG = 1e-5  # a geometry within this of the coordinates is the same point


def geom_cross_check(lat: np.ndarray, lon: np.ndarray, x: np.ndarray, y: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose geometry point (x, y) holds the coordinates with the axes swapped (x = lat, y = lon),
    and rows whose point is neither (lon, lat) nor (lat, lon). Rows without a point are neither."""
    with np.errstate(invalid="ignore"):
        same = (np.abs(x - lon) <= GEOM_TOLERANCE_DEG) & (np.abs(y - lat) <= GEOM_TOLERANCE_DEG)
        swapped = (np.abs(x - lat) <= GEOM_TOLERANCE_DEG) & (np.abs(y - lon) <= GEOM_TOLERANCE_DEG) & ~same
    present = ~np.isnan(x) & ~np.isnan(y)
    return swapped, present & ~same & ~swapped


def in_south_america(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Inside the South America box, reading `x` as longitude and `y` as latitude."""
    return ((x >= SOUTH_AMERICA_LON[0]) & (x <= SOUTH_AMERICA_LON[1])
            & (y >= SOUTH_AMERICA_LAT[0]) & (y <= SOUTH_AMERICA_LAT[1]))


def swapped_sample(lat: np.ndarray, lon: np.ndarray) -> tuple[float, float] | None:
    """The first (lat, lon) of a file whose columns look exchanged, else None.

    Over rows with both values present and not -999: more than half have |lat| > 90 while |lon| <= 90,
    or more than half fall outside South America as given but inside it with lat and lon exchanged.
    """
    ok = ~np.isnan(lat) & ~np.isnan(lon) & (lat != INVALID_MARKER) & (lon != INVALID_MARKER)
    if not ok.any():
        return None
    la, lo = lat[ok], lon[ok]
    half = len(la) / 2
    impossible = (np.abs(la) > 90) & (np.abs(lo) <= 90)
    flipped = ~in_south_america(lo, la) & in_south_america(la, lo)
    if impossible.sum() > half or flipped.sum() > half:
        return float(la[0]), float(lo[0])
    return None


def dedup_hotspots(df: pd.DataFrame, method: str, reference_satellite: str = REFERENCE_SATELLITE,
                   place_decimals: int = 2, time_window_minutes: int = 60
                   ) -> tuple[pd.DataFrame, dict[str, int]]:
    """Remove repeated detections of one fire; returns the frame and counts of removed rows.

    - ``reference``: keep only `reference_satellite` (INPE's consistent series), count
      ``dropped_not_reference_satellite``.
    - ``place_time``: across satellites, keep the earliest detection (ties: satellite, lat, lon order)
      per place rounded to `place_decimals` decimals and fixed `time_window_minutes` window
      (windows are aligned to midnight UTC, not sliding), count ``dropped_place_time_duplicates``.
    Any other method raises ParamsError for ``prepare.dedup``. Row order of the input is kept.
    """
    df = df.reset_index(drop=True)
    if method == "reference":
        keep = df["satellite"].eq(reference_satellite).to_numpy()
        if len(df) and not keep.any():
            log.warning("no hotspots from the reference satellite %s", reference_satellite)
        return df.loc[keep].reset_index(drop=True), {"dropped_not_reference_satellite": int((~keep).sum())}
    if method == "place_time":
        if int(place_decimals) < 0 or int(time_window_minutes) <= 0:
            raise ParamsError("prepare.dedup", "place_decimals must be >= 0 and time_window_minutes > 0, "
                              f"got {place_decimals} and {time_window_minutes}")
        scale = 10.0 ** int(place_decimals)
        key = pd.DataFrame({
            "la": np.rint(df["lat"].to_numpy(float) * scale).astype(np.int64),
            "lo": np.rint(df["lon"].to_numpy(float) * scale).astype(np.int64),
            "t": df["datetime"].dt.floor(f"{int(time_window_minutes)}min"),
        })
        order = df.sort_values(["datetime", "satellite", "lat", "lon"], kind="stable").index
        dup = key.loc[order].duplicated(keep="first").reindex(df.index).to_numpy()
        return df.loc[~dup].reset_index(drop=True), {"dropped_place_time_duplicates": int(dup.sum())}
    raise ParamsError("prepare.dedup", f"unknown method {method!r}: use 'reference' or 'place_time'")


def clip_to_region(df: pd.DataFrame, boundary_geometry) -> tuple[pd.DataFrame, int]:
    """Keep points (lat, lon) inside a shapely polygon (or a GeoSeries/GeoDataFrame, unioned).

    Returns the kept rows and the number dropped. Points exactly on the boundary are dropped.
    """
    import shapely

    geom = boundary_geometry
    if hasattr(geom, "union_all"):
        geom = geom.union_all()
    inside = shapely.contains_xy(geom, df["lon"].to_numpy(float), df["lat"].to_numpy(float))
    return df.loc[inside].reset_index(drop=True), int((~inside).sum())
