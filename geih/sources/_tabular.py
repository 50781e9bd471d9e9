"""Shared reading and parsing helpers for CSV and Parquet inputs (not public).

Row numbers in errors are CSV record numbers with the header as row 1 (blank lines are not counted;
they are skipped by the parser). For Parquet, which has no header, the first record is row 1.

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
from geih.sources.report import CleaningReport

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
    frame = table.to_pandas(date_as_object=False)
    return frame, RowNumbers(first=2, skipped=skipped)


def read_parquet(path: Path, report: CleaningReport, columns: list[str] | None = None
                 ) -> tuple[pd.DataFrame, RowNumbers]:
    """Read a Parquet file (selected columns, names lower-cased); errors become DataError."""
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
    frame = table.to_pandas(date_as_object=False)
    return frame, RowNumbers(first=1)


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
