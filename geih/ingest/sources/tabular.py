"""Shared reading and parsing helpers for CSV and Parquet inputs (not public).

Row numbers in errors are CSV record numbers with the header as row 1 (blank lines are not counted;
they are skipped by the parser). For Parquet, which has no header, the first record is row 1.

Speed: `read_csv_table`/`read_parquet_table` stop at the pyarrow Table; `arrow_float` and
`arrow_datetime` convert plainly valid text columns with pyarrow and numpy and return None for
anything else, so that callers run the careful pandas converters (`to_float`, `to_datetime`) only
then, which gives the same values or the DataError naming the row.

Encoding: a CSV is read as UTF-8 (a byte-order mark is accepted); a file that is not valid UTF-8 is
decoded as Latin-1 instead — which never fails and is what Brazilian Windows exports use — and the
report records ``encoding='latin-1'`` with a note.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geih.errors import DataError
from geih.ingest.sources.cleaning import CleaningReport

log = logging.getLogger(__name__)

_OTHER_DELIMITERS = (";", "\t", "|")
_MISSING_TEXT = frozenset({"", "nan", "na", "n/a", "null", "none"})


@dataclass
class RowNumbers:
    """Maps a 0-based position in the parsed table back to the row number in the file."""

    first: int = 2  # row number of the first data record (header = row 1)
    skipped: list[int] = field(default_factory=list)  # row numbers the parser dropped, sorted

    def __call__(self, pos: int) -> int:
        n = int(pos) + self.first
        for s in self.skipped:
            if s <= n:
                n += 1
            else:
                break
        return n


def read_header(path: Path) -> tuple[list[str], str]:
    """The header fields of a CSV (stripped) and the encoding to read it with.

    Raises DataError for an empty file, an empty first line or a non-comma delimiter.
    """
    name = str(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            first = fh.readline(1 << 20)
    except OSError as exc:
        raise DataError(f"cannot read file: {exc.strerror or exc}", file=name) from None
    if size == 0:
        raise DataError("file is empty (0 bytes)", file=name)
    try:
        line, encoding = first.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        line, encoding = first.decode("latin-1"), "latin-1"
    line = line.rstrip("\r\n")
    if not line.strip():
        raise DataError("first line is empty: expected a header line", file=name, row=1)
    header = [h.strip() for h in next(csv.reader([line]))]
    if len(header) == 1:
        for delim in _OTHER_DELIMITERS:
            if delim in line:
                raise DataError(f"wrong delimiter {delim!r}: expected comma-separated values "
                                "(re-save the file with ',' as separator and '.' as decimal point)",
                                file=name, row=1)
    lowered = [h.lower() for h in header]
    dupes = sorted({h for h in lowered if lowered.count(h) > 1})
    if dupes:
        raise DataError(f"duplicate column names in header: {dupes}", file=name, row=1, column=dupes[0])
    return header, encoding


def read_csv(path: Path, report: CleaningReport, as_strings: bool) -> tuple[pd.DataFrame, RowNumbers]:
    """Read a comma-separated file with pyarrow; column names are the header, stripped and lower-cased.

    `as_strings` reads every column as text (empty fields become ""); otherwise types are inferred.
    Rows with fewer fields than the header (a truncated line) are dropped and counted as
    ``dropped_truncated_rows``; a row with more fields raises DataError naming it. A header-only file
    gives an empty frame and a note.
    """
    table, rows = read_csv_table(path, report, as_strings)
    return table.to_pandas(date_as_object=False), rows


def read_csv_table(path: Path, report: CleaningReport, as_strings: bool):
    """`read_csv` without the conversion to pandas: the pyarrow Table and its row numbers."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    name = str(path)
    header, encoding = read_header(path)
    names = [h.lower() for h in header]
    invalid: list = []

    def handler(row) -> str:
        invalid.append(row)
        return "skip"

    convert = pacsv.ConvertOptions(
        column_types={n: pa.string() for n in names} if as_strings else None,
        strings_can_be_null=not as_strings,
    )

    def attempt(enc: str, threads: bool):
        invalid.clear()
        opts = pacsv.ReadOptions(column_names=names, skip_rows=1, encoding=enc, use_threads=threads,
                                 block_size=1 << 24)
        return pacsv.read_csv(path, read_options=opts, convert_options=convert,
                              parse_options=pacsv.ParseOptions(invalid_row_handler=handler))

    try:
        try:
            table = attempt("utf8" if encoding == "utf-8" else encoding, True)
        except pa.ArrowInvalid as exc:
            if "UTF8" not in str(exc) or encoding != "utf-8":
                raise
            encoding = "latin-1"
            table = attempt(encoding, True)
        if invalid and any(r.number is None for r in invalid):
            table = attempt("utf8" if encoding == "utf-8" else encoding, False)  # to get row numbers
    except pa.ArrowInvalid as exc:
        raise DataError(f"cannot parse CSV: {exc}", file=name) from None
    if encoding == "latin-1":
        report.note("not valid UTF-8: decoded as Latin-1")
        log.warning("%s is not valid UTF-8: decoded as Latin-1", name)
    report.encoding = encoding

    too_many = [r for r in invalid if r.actual_columns > r.expected_columns]
    if too_many:
        r = too_many[0]
        raise DataError(f"row has {r.actual_columns} fields but the header has {r.expected_columns} "
                        "(unquoted comma in a value?)", file=name, row=r.number)
    skipped = sorted(int(r.number) for r in invalid if r.number is not None)
    if invalid:
        report.add("dropped_truncated_rows", len(invalid))
        report.note(f"{len(invalid)} row(s) with fewer fields than the header dropped "
                    f"(first: row {skipped[0] if skipped else '?'})")
    report.rows_read = table.num_rows + len(invalid)
    if table.num_rows == 0 and not invalid:
        report.note("header only: the file has no data rows")
    return table, RowNumbers(first=2, skipped=skipped)


def read_parquet(path: Path, report: CleaningReport, columns: list[str] | None = None
                 ) -> tuple[pd.DataFrame, RowNumbers]:
    """Read a Parquet file (selected columns, names lower-cased); errors become DataError."""
    table, rows = read_parquet_table(path, report, columns)
    return table.to_pandas(date_as_object=False), rows


def read_parquet_table(path: Path, report: CleaningReport, columns: list[str] | None = None):
    """`read_parquet` without the conversion to pandas: the pyarrow Table and its row numbers."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    name = str(path)
    if path.stat().st_size == 0:
        raise DataError("file is empty (0 bytes)", file=name)
    try:
        schema_names = pq.read_schema(path).names
        lower = {n.lower(): n for n in schema_names}
        wanted = None if columns is None else [lower[c] for c in columns if c in lower]
        table = pq.read_table(path, columns=wanted)
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"cannot read Parquet file: {exc}", file=name) from None
    table = table.rename_columns([n.lower() for n in table.column_names])
    report.rows_read = table.num_rows
    if table.num_rows == 0:
        report.note("no data rows")
    return table, RowNumbers(first=1)


def parquet_columns(path: Path) -> list[str]:
    """Column names (lower-cased) of a Parquet file, without reading the data."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return [n.lower() for n in pq.read_schema(path).names]
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"cannot read Parquet file: {exc}", file=str(path)) from None


def require_columns(columns, required: list[str], file: str) -> None:
    """DataError naming the first required column that is absent."""
    present = set(columns)
    for col in required:
        if col not in present:
            raise DataError(f"missing required column {col!r} (columns present: {sorted(present)})",
                            file=file, column=col)


def is_missing_text(text: pd.Series) -> pd.Series:
    """True where a text value means 'no value' (empty, NaN, NA, null, none)."""
    return text.isna() | text.str.strip().str.lower().isin(_MISSING_TEXT)


def to_float(values: pd.Series, column: str, file: str, rows: RowNumbers) -> pd.Series:
    """float64 column from numbers or text (surrounding spaces allowed; empty/NA text -> NaN).

    Non-numeric text raises DataError naming the first offending row.
    """
    if pd.api.types.is_bool_dtype(values.dtype) or not (
            pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_string_dtype(values.dtype)
            or values.dtype == object):
        raise DataError(f"expected numbers, found {values.dtype}", file=file, column=column)
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.astype("float64")
    fast = _fast_float(values)
    if fast is not None:
        return fast
    text = values.astype("str")
    out = pd.to_numeric(text.str.strip(), errors="coerce").astype("float64")
    bad = out.isna() & ~is_missing_text(text)
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"not a number: {values.iloc[pos]!r}", file=file, row=rows(pos), column=column)
    return out


def _fast_float(values: pd.Series) -> pd.Series | None:
    """Text -> float64 with pyarrow (trimmed, empty -> NaN); None when any value does not parse."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        arr = pa.array(values, from_pandas=True)
        if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
            return None
        trimmed = pc.utf8_trim_whitespace(arr)
        trimmed = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, arr.type), trimmed)
        out = pc.cast(trimmed, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    return pd.Series(out, index=values.index, dtype="float64")


def to_datetime(values: pd.Series, column: str, file: str, rows: RowNumbers) -> pd.Series:
    """Naive UTC datetime64[ns] from dates or date-time text ('-' or '/' separated, ISO order).

    Empty text -> NaT; text that does not parse raises DataError naming the first offending row.
    Time-zone-aware values are converted to UTC and made naive.
    """
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        out = values
    else:
        text = values.astype("str").str.strip()
        missing = is_missing_text(text)
        try:
            out = pd.to_datetime(text.str.replace("/", "-", regex=False), format="ISO8601",
                                 errors="coerce", utc=True)
        except (ValueError, TypeError) as exc:
            raise DataError(f"cannot parse dates: {exc}", file=file, column=column) from None
        bad = out.isna() & ~missing
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(f"cannot parse date {values.iloc[pos]!r} (expected YYYY-MM-DD[ HH:MM:SS])",
                            file=file, row=rows(pos), column=column)
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_convert("UTC").dt.tz_localize(None)
    return out.astype("datetime64[ns]")


def first_row(mask: pd.Series | np.ndarray) -> int:
    """Position of the first True in a boolean mask."""
    return int(np.flatnonzero(np.asarray(mask))[0])


# ---------------------------------------------------------------- fast paths on pyarrow arrays
#
# Each returns None when a value is anything but plainly valid; the caller then takes the careful
# pandas path above, which gives the same result or the exact DataError. They never raise DataError.

_ASCII_SPACE = " \t\n\r\x0b\x0c"  # stripped by every path: what is left must then parse strictly
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
_NS_PER_S = 1_000_000_000


def single_array(values):
    """One contiguous pyarrow Array from an Array or ChunkedArray."""
    import pyarrow as pa

    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    return values


def arrow_float(values) -> np.ndarray | None:
    """`_fast_float` on a pyarrow string array: trimmed, '' -> NaN, cast to float64; None on failure."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return None
    try:  # plain numbers parse as they are (the cast rejects surrounding spaces and empty text)
        return np.asarray(pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        pass
    try:
        trimmed = pc.utf8_trim_whitespace(values)
        trimmed = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, values.type), trimmed)
        out = pc.cast(trimmed, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    return np.asarray(out.to_numpy(zero_copy_only=False), dtype=np.float64)


def _string_buffers(arr) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, data bytes) of a pyarrow string Array without nulls."""
    import pyarrow as pa

    bufs = arr.buffers()
    dtype = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    if bufs[1] is None:  # an empty array may come without offsets
        return np.zeros(1, dtype=np.int64), np.zeros(0, np.uint8)
    offsets = np.frombuffer(bufs[1], dtype=dtype)[arr.offset:arr.offset + len(arr) + 1].astype(np.int64)
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    return offsets, data


def char_matrix(arr, starts: np.ndarray, width: int) -> np.ndarray:
    """The first `width` bytes of the strings starting at byte `starts` (all at least that long)."""
    _, data = _string_buffers(arr)
    return data[starts[:, None] + np.arange(width)]


def missing_text_mask(values) -> np.ndarray | None:
    """Where plain ASCII text means 'no value' (see `is_missing_text`); for the fast paths."""
    import pyarrow as pa
    import pyarrow.compute as pc

    lowered = pc.ascii_lower(pc.utf8_trim(values, characters=_ASCII_SPACE))
    return np.asarray(pc.is_in(lowered, value_set=pa.array(sorted(_MISSING_TEXT))).to_numpy(
        zero_copy_only=False), dtype=bool)


def arrow_datetime(values) -> np.ndarray | None:
    """Strict text -> naive datetime64[ns], or None to take the careful path (`to_datetime`).

    Accepts only ``YYYY-MM-DD`` and ``YYYY-MM-DD HH:MM:SS`` ('/' or '-' between date parts), with
    ASCII spaces around, valid calendar dates between 1678 and 2261; text meaning 'no value' gives NaT.
    Anything else returns None, so that the careful path parses it or names the row.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return None
    arr = single_array(values)
    if arr.null_count:
        return None
    trimmed = single_array(pc.utf8_trim(arr, characters=_ASCII_SPACE))
    n = len(trimmed)
    offsets, data = _string_buffers(trimmed)
    lengths = np.diff(offsets)
    full, date_only = lengths == 19, lengths == 10
    if full.all() or date_only.all():  # the usual case: every value has one shape, no gaps
        valid = slice(None)
        chars = data[offsets[0]:offsets[-1]].reshape(n, 19 if n and full[0] else 10)
        has_time = full if chars.shape[1] == 19 else None
    else:
        other = ~(full | date_only)
        if other.any() and not missing_text_mask(trimmed)[other].all():
            return None
        valid = ~other
        width = 19 if full.any() else 10
        starts = offsets[:-1][valid]
        has_time = full[valid]
        # pad short values with the separators the check expects (they are ignored below)
        chars = np.empty((len(starts), width), dtype=np.uint8)
        chars[:, :10] = data[starts[:, None] + np.arange(10)]
        if width == 19:
            chars[:, 10:] = np.frombuffer(b" 00:00:00", dtype=np.uint8)
            timed = starts[has_time]
            chars[has_time, 10:] = data[timed[:, None] + np.arange(10, 19)]
    width = chars.shape[1]
    expected = np.frombuffer(b"0000-00-00 00:00:00"[:width], dtype=np.uint8)
    is_digit = expected == ord("0")
    digits = chars - np.uint8(ord("0"))  # non-digits wrap around to > 9
    if (digits[:, is_digit] > 9).any():
        return None
    sep = chars[:, ~is_digit]
    expected_sep = expected[~is_digit]
    ok = sep == expected_sep
    ok[:, :2] |= sep[:, :2] == ord("/")  # date parts may be separated by '/' as well
    if not ok.all():
        return None

    def number(first: int, count: int) -> np.ndarray:
        out = digits[:, first].astype(np.int32)
        for i in range(first + 1, first + count):
            out = out * 10 + digits[:, i]
        return out

    year, month, day = number(0, 4), number(5, 2), number(8, 2)
    if ((year < 1678) | (year > 2261) | (month < 1) | (month > 12) | (day < 1)).any():
        return None
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    if (day > _DAYS_IN_MONTH[month] + ((month == 2) & leap)).any():
        return None
    seconds = _days_from_civil(year.astype(np.int64), month, day) * 86400
    if width == 19:
        hour, minute, sec = number(11, 2), number(14, 2), number(17, 2)
        if ((hour > 23) | (minute > 59) | (sec > 59)).any():
            return None
        clock = hour * 3600 + minute * 60 + sec
        seconds += clock if has_time is None or has_time.all() else np.where(has_time, clock, 0)
    if isinstance(valid, slice):
        return (seconds * _NS_PER_S).view("datetime64[ns]")
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    out[valid] = (seconds * _NS_PER_S).view("datetime64[ns]")
    return out


def _days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's algorithm), int64."""
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
