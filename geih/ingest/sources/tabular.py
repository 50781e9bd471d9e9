"""Reading and parsing helpers for CSV and Parquet inputs, shared by the loaders of this package.

Row numbers in errors are CSV record numbers with the header as row 1 (blank lines are not counted;
they are skipped by the parser). For Parquet, which has no header, the first record is row 1.

Values. `parse_floats` is the one number parser (numbers as they are; text trimmed, text meaning
'no value' -> NaN); `to_float` is the same with a DataError naming the first row that is not a number.
`to_datetime` parses dates (ISO order, '-' or '/'); `arrow_datetime` is its strict fast form, which
returns None for anything but plainly valid text so that callers that must not raise (a batch of
files cleaned together) can fall back to `to_datetime` file by file. `missing_text` is the one
definition of text meaning 'no value'.

Speed: `read_csv_table`/`read_parquet_table` stop at the pyarrow Table; the parsers work on pyarrow
arrays (pandas Series are accepted too).

Encoding: a CSV is read as UTF-8 (a byte-order mark is accepted); a file that is not valid UTF-8 is
decoded as Latin-1 instead — which never fails and is what Brazilian Windows exports use — and the
report records ``encoding='latin-1'`` with a note.

Separators and decimal commas (Brazilian conventions: TerraBrasilis exports, agency tables): the
separator is the one of ``,``/``;``/tab that splits the header into the most fields (a tie is ``,``).
A file that is not comma-separated is read as text, and when any of its values is a number with a
decimal comma (``684,7060860136418``, ``7.845,00``) the file is taken to use decimal commas: every
value written that way, or with dots between groups of three digits (``7.845`` = 7845), is rewritten
as a plain number (``7845.00``) before parsing; other values are left as they are (a bad one is then
named by its row). Both are noted in the report. A missing final newline, quoted fields with ``""``
escapes and non-ASCII header names (``area km²``) need nothing special.
"""

from __future__ import annotations

import codecs
import csv
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geih.errors import DataError
from geih.ingest.sources.cleaning import CleaningReport

log = logging.getLogger(__name__)

DELIMITERS = (",", ";", "\t")  # separators read; the first wins a tie
_UNSUPPORTED_DELIMITERS = ("|",)
# a number with a decimal comma, optionally with dots between thousands: 684,70 / -7.845,00
_DECIMAL_COMMA = r"^\s*[-+]?(\d{1,3}(\.\d{3})+|\d+),\d+\s*$"
_THOUSANDS_DOTS = r"^\s*[-+]?\d{1,3}(\.\d{3})+\s*$"  # 7.845 in a decimal-comma file
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


@dataclass(frozen=True)
class CsvDialect:
    """How a CSV is written: its header fields (stripped), encoding and separator."""

    header: list[str]
    encoding: str
    delimiter: str


def read_header(path: Path) -> tuple[list[str], str]:
    """The header fields of a CSV (stripped) and the encoding to read it with (see `csv_dialect`)."""
    dialect = csv_dialect(path)
    return dialect.header, dialect.encoding


def csv_dialect(path: Path) -> CsvDialect:
    """The header, encoding and separator of a CSV, from its first line.

    The separator is the one of `DELIMITERS` that splits the header into the most fields. Raises
    DataError for an empty file, an empty first line, a '|'-separated header or repeated column names.
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
    splits = {delim: next(csv.reader([line], delimiter=delim)) for delim in DELIMITERS}
    delimiter = max(DELIMITERS, key=lambda d: len(splits[d]))  # max keeps the first of a tie
    header = [h.strip() for h in splits[delimiter]]
    if len(header) == 1:
        for delim in _UNSUPPORTED_DELIMITERS:
            if delim in line:
                raise DataError(f"wrong delimiter {delim!r}: expected values separated by "
                                f"{' or '.join(repr(d) for d in DELIMITERS)} (re-save the file)",
                                file=name, row=1)
    lowered = [h.lower() for h in header]
    dupes = sorted({h for h in lowered if lowered.count(h) > 1})
    if dupes:
        raise DataError(f"duplicate column names in header: {dupes}", file=name, row=1, column=dupes[0])
    return CsvDialect(header, encoding, delimiter)


def read_csv(path: Path, report: CleaningReport, as_strings: bool) -> tuple[pd.DataFrame, RowNumbers]:
    """Read a comma-separated file with pyarrow; column names are the header, stripped and lower-cased.

    `as_strings` reads every column as text (empty fields become ""); otherwise types are inferred.
    Rows with fewer fields than the header (a truncated line) are dropped and counted as
    ``dropped_truncated_rows``; a row with more fields raises DataError naming it. A header-only file
    gives an empty frame and a note.
    """
    table, rows = read_csv_table(path, report, as_strings)
    return table.to_pandas(date_as_object=False), rows


def utf8_throughout(path: Path, block_bytes: int = 1 << 24) -> bool:
    """Whether every byte of the file decodes as UTF-8 (a UTF-8 header can head Latin-1 rows); read in
    blocks, so no copy of the whole file is held in memory."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as fh:
            while block := fh.read(block_bytes):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    except OSError as exc:
        raise DataError(f"cannot read file: {exc.strerror or exc}", file=str(path)) from None
    return True


def read_csv_table(path: Path, report: CleaningReport, as_strings: bool):
    """`read_csv` without the conversion to pandas: the pyarrow Table and its row numbers."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    name = str(path)
    dialect = csv_dialect(path)
    encoding = dialect.encoding
    names = [h.lower() for h in dialect.header]
    as_strings = as_strings or dialect.delimiter != ","  # decimal commas are rewritten as text first
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
                              parse_options=pacsv.ParseOptions(delimiter=dialect.delimiter,
                                                               invalid_row_handler=handler))

    if encoding == "utf-8" and not utf8_throughout(path):
        # decided before pyarrow reads it: a Latin-1 row that is also invalid would reach pyarrow's
        # invalid-row callback undecodable (an exception pyarrow can only print, not raise)
        encoding = "latin-1"
    try:
        table = attempt("utf8" if encoding == "utf-8" else encoding, True)
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
    if dialect.delimiter != ",":
        table, converted = decimal_commas(table)
        separator = "tab" if dialect.delimiter == "\t" else repr(dialect.delimiter)
        report.note(f"separator {separator}" + (f"; decimal commas (thousands '.'): {converted} value(s) "
                                                "read as numbers" if converted else ""))
    return table, RowNumbers(first=2, skipped=skipped)


def decimal_commas(table):
    """Rewrite numbers written with a decimal comma (and dots between thousands) as plain numbers.

    Applies only when some value of the text columns is a number with a decimal comma; then each value
    that is such a number, or digits grouped by thousands dots, becomes ``-7845.00``-style text. Returns
    the table and how many values were rewritten.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    text = [i for i, f in enumerate(table.schema) if _is_text(f.type)]
    if not any(pc.any(pc.match_substring_regex(table.column(i), _DECIMAL_COMMA)).as_py() for i in text):
        return table, 0
    converted = 0
    for i in text:
        column = table.column(i)
        hit = pc.fill_null(pc.or_(pc.match_substring_regex(column, _DECIMAL_COMMA),
                                  pc.match_substring_regex(column, _THOUSANDS_DOTS)), False)
        n = pc.sum(hit.cast(pa.int64())).as_py() or 0
        if not n:
            continue
        plain = pc.replace_substring(pc.replace_substring(pc.utf8_trim_whitespace(column), ".", ""), ",", ".")
        table = table.set_column(i, table.field(i), pc.if_else(hit, plain, column))
        converted += n
    return table, converted


def read_parquet(path: Path, report: CleaningReport, columns: list[str] | None = None
                 ) -> tuple[pd.DataFrame, RowNumbers]:
    """Read a Parquet file (selected columns, names lower-cased); errors become DataError."""
    table, rows = read_parquet_table(path, report, columns)
    return table.to_pandas(date_as_object=False), rows


def read_parquet_table(path: Path, report: CleaningReport, columns: list[str] | None = None):
    """`read_parquet` without the conversion to pandas: the pyarrow Table and its row numbers."""
    import pyarrow.parquet as pq

    with _parquet_errors(path):
        table = pq.read_table(path, columns=_parquet_wanted(pq.read_schema(path).names, columns))
    table = table.rename_columns([n.lower() for n in table.column_names])
    _count_parquet_rows(report, table.num_rows)
    return table, RowNumbers(first=1)


def iter_parquet_tables(path: Path, report: CleaningReport, columns: list[str] | None = None,
                        batch_rows: int = 2_000_000) -> Iterator[tuple[Any, RowNumbers]]:
    """`read_parquet_table` `batch_rows` rows at a time: each piece as a pyarrow Table (lower-case column names)
    with the row numbers of its rows in the file; the file is never in memory whole."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with _parquet_errors(path):
        parquet = pq.ParquetFile(path)
        _count_parquet_rows(report, parquet.metadata.num_rows)
        first = 1
        for batch in parquet.iter_batches(batch_size=batch_rows,
                                          columns=_parquet_wanted(parquet.schema_arrow.names, columns)):
            table = pa.Table.from_batches([batch])
            yield table.rename_columns([n.lower() for n in table.column_names]), RowNumbers(first=first)
            first += table.num_rows


@contextmanager
def _parquet_errors(path: Path) -> Iterator[None]:
    """An empty file, and what pyarrow cannot read, as a DataError naming the file."""
    import pyarrow as pa

    if path.stat().st_size == 0:
        raise DataError("file is empty (0 bytes)", file=str(path))
    try:
        yield
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"cannot read Parquet file: {exc}", file=str(path)) from None


def _parquet_wanted(schema_names: list[str], columns: list[str] | None) -> list[str] | None:
    """The file's own names of the lower-case `columns` it has (None: every column)."""
    lower = {n.lower(): n for n in schema_names}
    return None if columns is None else [lower[c] for c in columns if c in lower]


def _count_parquet_rows(report: CleaningReport, rows: int) -> None:
    report.rows_read = rows
    if rows == 0:
        report.note("no data rows")


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


def _arrow(values):
    """A pyarrow Array/ChunkedArray for a pandas Series (object columns as text) or a pyarrow column."""
    import pyarrow as pa

    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    if values.dtype == object:
        values = values.astype("str")
    return pa.array(values, from_pandas=True)


def _is_text(kind) -> bool:
    import pyarrow as pa

    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _is_number(kind) -> bool:
    import pyarrow as pa

    return pa.types.is_integer(kind) or pa.types.is_floating(kind)


def missing_text(values) -> np.ndarray:
    """True where a value means 'no value': null, or text that is empty, NaN, NA, N/A, null or none
    (any case, surrounding whitespace ignored). A pandas Series or a pyarrow text column."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = _arrow(values)
    if not _is_text(arr.type):
        return np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    lowered = pc.utf8_lower(pc.utf8_trim_whitespace(arr))
    hit = pc.fill_null(pc.is_in(lowered, value_set=pa.array(sorted(_MISSING_TEXT))), True)
    return np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)


def parse_floats(values) -> np.ndarray | None:
    """The number parser: a new float64 array from a numeric or text column (pandas or pyarrow).

    Numbers are taken as they are (null -> NaN; a column of nulls only is all NaN). Text is trimmed of surrounding whitespace and text
    meaning 'no value' (`missing_text`) gives NaN. Returns None when any other value is not a
    number, or the column holds neither numbers nor text (`to_float` then names the row or type).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values, pd.Series) and pd.api.types.is_numeric_dtype(values.dtype) \
            and not pd.api.types.is_bool_dtype(values.dtype):
        return values.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
    try:
        arr = _arrow(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    if pa.types.is_null(arr.type):  # e.g. a CSV column with no value at all
        return np.full(len(arr), np.nan)
    if _is_number(arr.type):
        out = np.empty(len(arr), dtype=np.float64)
        start = 0
        for chunk in (arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]):  # cast while copying
            out[start:start + len(chunk)] = chunk.to_numpy(zero_copy_only=False)
            start += len(chunk)
        return out
    if not _is_text(arr.type):
        return None
    try:  # plain numbers parse as they are (the cast rejects surrounding spaces and empty text)
        return np.array(pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        pass
    trimmed = pc.utf8_trim_whitespace(arr)
    null = pa.scalar(None, trimmed.type)
    try:  # padded numbers and empty text (the usual case), before the other words for 'no value'
        out = pc.cast(pc.if_else(pc.equal(trimmed, ""), null, trimmed), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        try:
            out = pc.cast(pc.if_else(pa.array(missing_text(trimmed)), null, trimmed), pa.float64())
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            return None
    return np.array(out.to_numpy(zero_copy_only=False), dtype=np.float64)


def to_float(values, column: str, file: str, rows: RowNumbers) -> np.ndarray:
    """`parse_floats`, or a DataError naming the column (not numbers or text) or the first row whose
    value is not a number."""
    out = parse_floats(values)
    if out is not None:
        return out
    kind = values.dtype if isinstance(values, pd.Series) else values.type
    if isinstance(values, pd.Series):
        ok = pd.api.types.is_string_dtype(kind) or pd.api.types.is_object_dtype(kind)
    else:
        ok = _is_text(kind)
    if not ok:
        raise DataError(f"expected numbers, found {kind}", file=file, column=column)
    arr = _arrow(values)
    lo, hi = 0, len(arr)  # the parser fails on a value, not on a neighbourhood: bisect for the first
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if parse_floats(arr.slice(lo, mid - lo)) is None:
            hi = mid
        else:
            lo = mid
    raise DataError(f"not a number: {arr[lo].as_py()!r}", file=file, row=rows(lo), column=column)


def to_datetime(values, column: str, file: str, rows: RowNumbers) -> np.ndarray:
    """Naive UTC datetime64[ns] from dates or date-time text ('-' or '/' separated, ISO order).

    Empty text -> NaT; text that does not parse raises DataError naming the first offending row.
    Time-zone-aware values are converted to UTC and made naive. A pandas Series or a pyarrow column.
    """
    import pyarrow as pa

    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        fast = arrow_datetime(values)
        if fast is not None:
            return fast
        values = values.to_pandas(date_as_object=False)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        out = values
    else:
        text = values.astype("str").str.strip()
        missing = missing_text(text)
        try:
            out = pd.to_datetime(text.str.replace("/", "-", regex=False), format="ISO8601",
                                 errors="coerce", utc=True)
        except (ValueError, TypeError) as exc:
            raise DataError(f"cannot parse dates: {exc}", file=file, column=column) from None
        bad = out.isna().to_numpy() & ~missing
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise DataError(f"cannot parse date {values.iloc[pos]!r} (expected YYYY-MM-DD[ HH:MM:SS])",
                            file=file, row=rows(pos), column=column)
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_convert("UTC").dt.tz_localize(None)
    return np.array(out.astype("datetime64[ns]").to_numpy(), copy=True)


def first_row(mask: pd.Series | np.ndarray) -> int:
    """Position of the first True in a boolean mask."""
    return int(np.flatnonzero(np.asarray(mask))[0])


# ---------------------------------------------------------------- the strict date parser
#
# Returns None when a value is anything but plainly valid; `to_datetime` then gives the same result
# or the exact DataError. It never raises DataError.

_ASCII_SPACE = " \t\n\r\x0b\x0c"  # stripped by every path: what is left must then parse strictly
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
_NS_PER_S = 1_000_000_000


def single_array(values):
    """One contiguous pyarrow Array from an Array or ChunkedArray."""
    import pyarrow as pa

    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    return values


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


def arrow_datetime(values) -> np.ndarray | None:
    """Strict text -> naive datetime64[ns], or None to take the careful path (`to_datetime`).

    Accepts only ``YYYY-MM-DD`` and ``YYYY-MM-DD HH:MM:SS`` ('/' or '-' between date parts, ' ' or 'T'
    between date and time), with
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
        if other.any() and not missing_text(trimmed)[other].all():
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
    if width == 19:
        ok[:, 2] |= sep[:, 2] == ord("T")  # ISO date and time joined by 'T'
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
