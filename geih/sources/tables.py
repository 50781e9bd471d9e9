"""Gridded daily weather and 16-day vegetation-index tables (Parquet or CSV), read with pyarrow.

- weather: ``date, lat, lon, precip_mm, tmax_c, rhmin_pct, wind_ms[, elevation_m]``
- vegetation index: ``date, lat, lon, ndvi, evi``

Both return the same columns (``date`` naive datetime64[ns], the rest float64) and a CleaningReport.
Checks, all vectorised: a missing required column -> DataError naming it; non-numeric text or an
unparseable date -> DataError naming the row; values outside their range -> DataError naming the
column, the first offending row and how many rows are affected. Ranges: precip_mm >= 0,
tmax_c -10..60, rhmin_pct 0..100, wind_ms 0..100, elevation_m -500..9000, ndvi/evi -1..1,
lat -90..90, lon -180..180. Tiny negative precipitation (>= -0.001 mm, reanalysis round-off) is set
to 0 and counted (``clipped_precip_mm``). Missing values are kept as NaN and counted
(``nan_<column>_missing``); rows without date, lat or lon are dropped (``dropped_missing_key``).
NDVI/EVI given as MODIS scaled integers (x10000) are rejected with a hint to divide by 10000.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from geih.errors import DataError
from geih.sources import _tabular as tab
from geih.sources.report import CleaningReport

log = logging.getLogger(__name__)

WEATHER_COLUMNS = ["date", "lat", "lon", "precip_mm", "tmax_c", "rhmin_pct", "wind_ms"]
WEATHER_OPTIONAL = ["elevation_m"]
VEGETATION_COLUMNS = ["date", "lat", "lon", "ndvi", "evi"]
RANGES: dict[str, tuple[float, float]] = {
    "lat": (-90.0, 90.0), "lon": (-180.0, 180.0), "precip_mm": (0.0, np.inf),
    "tmax_c": (-10.0, 60.0), "rhmin_pct": (0.0, 100.0), "wind_ms": (0.0, 100.0),
    "elevation_m": (-500.0, 9000.0), "ndvi": (-1.0, 1.0), "evi": (-1.0, 1.0),
}
_PRECIP_TOLERANCE = -1e-3


def read_weather(path: str | Path) -> tuple[pd.DataFrame, CleaningReport]:
    """Daily weather table: date, lat, lon, precip_mm, tmax_c, rhmin_pct, wind_ms[, elevation_m]."""
    return _read_table(Path(path), "weather", WEATHER_COLUMNS, WEATHER_OPTIONAL)


def read_vegetation_index(path: str | Path) -> tuple[pd.DataFrame, CleaningReport]:
    """16-day vegetation-index table: date, lat, lon, ndvi, evi."""
    return _read_table(Path(path), "vegetation_index", VEGETATION_COLUMNS, [])


def _read_table(path: Path, fmt: str, required: list[str], optional: list[str]
                ) -> tuple[pd.DataFrame, CleaningReport]:
    report = CleaningReport(file=str(path), format=fmt)
    file = report.file
    if path.suffix.lower() == ".parquet":
        names = tab.parquet_columns(path)
        tab.require_columns(names, required, file)
        frame, rows = tab.read_parquet(path, report, required + optional)
    else:
        frame, rows = tab.read_csv(path, report, as_strings=False)
        tab.require_columns(frame.columns, required, file)
    columns = required + [c for c in optional if c in frame.columns]
    out = pd.DataFrame({"date": tab.to_datetime(frame["date"], "date", file, rows)})
    for col in columns[1:]:
        out[col] = tab.to_float(frame[col], col, file, rows)
    missing_key = out["date"].isna() | out["lat"].isna() | out["lon"].isna()
    for col in columns[3:]:
        report.add(f"nan_{col}_missing", int((out[col].isna() & ~missing_key).sum()))
    if "precip_mm" in out:
        tiny = out["precip_mm"].between(_PRECIP_TOLERANCE, 0, inclusive="left")
        report.add("clipped_precip_mm", int(tiny.sum()))
        out.loc[tiny, "precip_mm"] = 0.0
    for col in columns[1:]:
        _check_range(out[col], col, file, rows)
    if missing_key.any():
        report.add("dropped_missing_key", int(missing_key.sum()))
        out = out.loc[~missing_key.to_numpy()].reset_index(drop=True)
    report.rows_kept = len(out)
    log.info("%s: %s, %d rows", file, fmt, len(out))
    return out, report


def _check_range(values: pd.Series, column: str, file: str, rows: tab.RowNumbers) -> None:
    """DataError naming the first value outside RANGES[column] (NaN is allowed)."""
    lo, hi = RANGES[column]
    arr = values.to_numpy()
    with np.errstate(invalid="ignore"):
        bad = (arr < lo) | (arr > hi)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        hint = ""
        if column in ("ndvi", "evi") and np.nanmax(np.abs(arr)) <= 10000:
            hint = " (MODIS scaled integers? divide by 10000)"
        raise DataError(f"value {arr[pos]:g} outside {lo:g}..{hi:g} in {int(bad.sum())} row(s){hint}",
                        file=file, row=rows(pos), column=column)
