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

Numbers and text go through `tabular.to_float` (numeric columns straight from pyarrow to numpy; text
parsed, naming the row of a bad value); timestamp/date columns go from pyarrow straight to numpy
(`_numpy_dates`), text dates (and dates outside the datetime64[ns] range) through `tabular.to_datetime`.

`weather_pieces` reads a Parquet weather file a few million rows at a time, each piece checked and counted as
the whole file would be (rows numbered in the file; a range error counts the offending rows of its piece): the
prepare stages build the daily weather cube from the pieces (`geih.tasks.common.load_weather_cube`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from geih.errors import DataError
from geih.ingest.sources import tabular as tab
from geih.ingest.sources.cleaning import CleaningReport

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
    if path.suffix.lower() == ".parquet":
        names = tab.parquet_columns(path)
        tab.require_columns(names, required, report.file)
        table, rows = tab.read_parquet_table(path, report, required + optional)
    else:
        table, rows = tab.read_csv_table(path, report, as_strings=False)
        tab.require_columns(table.column_names, required, report.file)
    out = _clean_table(table, rows, report, required, optional)
    log.debug("%s: %s, %d rows", report.file, fmt, len(out))
    return out, report


def _clean_table(table, rows: tab.RowNumbers, report: CleaningReport, required: list[str], optional: list[str],
                 scope: str = "") -> pd.DataFrame:
    """The checked, converted frame of one pyarrow table (a whole file, or one piece of it: `rows` numbers its
    rows in the file, `scope` says which rows a range error counted in); counts are added to `report`."""
    file = report.file
    columns = required + [c for c in optional if c in table.column_names]
    arrays: dict[str, np.ndarray] = {}
    for col in columns:
        values = table.column(col)
        arrays[col] = _dates(values, file, rows) if col == "date" else tab.to_float(values, col, file, rows)
    missing_key = np.isnat(arrays["date"]) | np.isnan(arrays["lat"]) | np.isnan(arrays["lon"])
    for col in columns[3:]:
        report.add(f"nan_{col}_missing", int((np.isnan(arrays[col]) & ~missing_key).sum()))
    if "precip_mm" in arrays:
        precip = arrays["precip_mm"]
        tiny = (precip >= _PRECIP_TOLERANCE) & (precip < 0)
        report.add("clipped_precip_mm", int(tiny.sum()))
        precip[tiny] = 0.0
    for col in columns[1:]:
        _check_range(arrays[col], col, file, rows, scope)
    if missing_key.any():
        report.add("dropped_missing_key", int(missing_key.sum()))
        arrays = {col: arr[~missing_key] for col, arr in arrays.items()}
    out = pd.DataFrame(arrays, copy=False)
    report.rows_kept += len(out)
    return out


def _dates(values, file: str, rows: tab.RowNumbers) -> np.ndarray:
    """The `date` column as naive datetime64[ns] (NaT where missing)."""
    arr = _numpy_dates(values)
    return arr if arr is not None else tab.to_datetime(values, "date", file, rows)


WEATHER_PIECE_ROWS = 2_000_000  # rows of a Parquet weather file converted at once by `weather_pieces`


def weather_pieces(path: str | Path, report: CleaningReport, piece_rows: int = WEATHER_PIECE_ROWS,
                   dates_only: bool = False) -> Iterator[pd.DataFrame]:
    """`read_weather` one piece at a time: a Parquet file `piece_rows` rows at a time (so that a file of
    tens of millions of rows never sits in memory whole), a CSV whole (station files are small; a CSV is also read
    whole for `dates_only`, so a large gridded table belongs in Parquet). Each piece is checked and cleaned as
    `read_weather` does, with rows numbered in the file; the counts add up in `report`. `dates_only`: just
    the `date` column of each piece (NaT dropped), unchecked otherwise."""
    path = Path(path)
    if path.suffix.lower() != ".parquet":
        frame, whole = read_weather(path)
        report.absorb(whole)
        yield frame[["date"]].dropna() if dates_only else frame
        return
    tab.require_columns(tab.parquet_columns(path), WEATHER_COLUMNS, report.file)
    wanted = ["date"] if dates_only else WEATHER_COLUMNS + WEATHER_OPTIONAL
    for table, rows in tab.iter_parquet_tables(path, report, wanted, piece_rows):
        if dates_only:
            dates = _dates(table.column("date"), report.file, rows)
            yield pd.DataFrame({"date": dates[~np.isnat(dates)]})
        else:
            whole = table.num_rows == report.rows_read
            scope = "" if whole else f"rows {rows.first}–{rows.first + table.num_rows - 1}"
            yield _clean_table(table, rows, report, WEATHER_COLUMNS, WEATHER_OPTIONAL, scope)


_NS_PER_UNIT = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


def _numpy_dates(values) -> np.ndarray | None:
    """Naive UTC datetime64[ns] (null -> NaT) from a timestamp or date pyarrow column; else None.

    None too for values outside the datetime64[ns] range (the pandas path reports them).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = values.type
    if pa.types.is_timestamp(kind):
        factor = _NS_PER_UNIT[kind.unit]
    elif pa.types.is_date32(kind):
        factor = 86_400 * 1_000_000_000
    elif pa.types.is_date64(kind):
        factor = 1_000_000
    else:
        return None
    raw = pc.fill_null(values.cast(pa.int64()) if not pa.types.is_date32(kind)
                       else values.cast(pa.int32()).cast(pa.int64()), 0).to_numpy()
    limit = (2 ** 63 - 1) // factor - 1
    if len(raw) and (raw.min() < -limit or raw.max() > limit):
        return None
    out = (raw * factor).view("datetime64[ns]")
    if values.null_count:
        out[~np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=bool)] = np.datetime64("NaT")
    return out


def _check_range(values, column: str, file: str, rows: tab.RowNumbers, scope: str = "") -> None:
    """DataError naming the first value outside RANGES[column] (NaN is allowed); `scope`: which rows of the
    file `values` are, when they are a piece of it (the count is theirs)."""
    lo, hi = RANGES[column]
    arr = np.asarray(values)
    with np.errstate(invalid="ignore"):
        bad = (arr < lo) | (arr > hi)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        hint = ""
        if column in ("ndvi", "evi") and np.nanmax(np.abs(arr)) <= 10000:
            hint = " (MODIS scaled integers? divide by 10000)"
        where = f" of {scope}" if scope else ""
        raise DataError(f"value {arr[pos]:g} outside {lo:g}..{hi:g} in {int(bad.sum())} row(s){where}{hint}",
                        file=file, row=rows(pos), column=column)
