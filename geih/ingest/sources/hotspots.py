"""Active-fire hotspot CSVs: INPE BDQueimadas (three layouts) and NASA FIRMS (MODIS, VIIRS).

`read_hotspots` detects the layout from the header (case-insensitive; see `FORMAT_NAMES`) and returns
one canonical frame:

    datetime (naive UTC datetime64[ns]), lat, lon (float64), satellite (str, INPE spelling),
    frp (MW, float64), confidence ('low'/'nominal'/'high'/NaN), state (UF or NaN), source_format (str),
    days_without_rain, precipitation, fire_risk (float64; INPE only, NaN elsewhere — kept for
    validation summaries only: they exist only where a fire was seen and leak the label as features).

Satellites. INPE spellings are kept as published. The annual archive holds only the reference
satellite and has no satellite column: every row is `AQUA_M-T`. FIRMS is mapped: MODIS Aqua (``Aqua``/
``A``) -> ``AQUA_M-T``, Terra (``Terra``/``T``) -> ``TERRA_M-T`` (all passes, day and night: a simplification,
INPE splits passes into ``-T``/``-M``); VIIRS ``N`` -> ``NPP-375``, ``N20``/``1`` -> ``NOAA-20``,
``N21``/``2`` -> ``NOAA-21``. An unknown FIRMS satellite code raises DataError.

Confidence. VIIRS ``l``/``n``/``h`` (or ``low``/``nominal``/``high``, any case); MODIS 0-100 binned as
low < 30, nominal 30-79, high >= 80. INPE files have none (NaN). Unrecognised values -> NaN, counted.

State. IBGE ``estado_id`` when present, else the state name (``PARÁ``, ``MATO GROSSO``, any case or
accents) or a UF, mapped to the UF. Only for rows whose ``pais`` is Brasil when a country column
exists (neighbouring countries have provinces called Amazonas). FIRMS has no state: NaN.

Cleaning rules, each counted in the CleaningReport (``dropped_*`` = rows removed, ``nan_*`` = values
blanked in kept rows); a row is counted under the first reason that applies, in this order:

1. ``dropped_truncated_rows``: fewer fields than the header (a cut-off last line). A row with *more*
   fields raises DataError.
2. ``dropped_duplicate_rows``: exact duplicates of an earlier row (all fields equal).
3. ``dropped_missing_datetime``: empty date. A date that does not parse raises DataError (row named).
4. ``dropped_invalid_lat_lon``: lat/lon empty, -999, |lat| > 90 or |lon| > 180. Non-numeric text
   raises DataError. If the *columns* look swapped the file is rejected with DataError instead; the
   heuristic, over rows with numeric lat/lon: more than half have |lat| > 90 while |lon| <= 90, or more
   than half, read as given, fall outside South America (lon -82..-34, lat -56..13) but inside it with
   lat and lon exchanged. (Mis-ordered columns are a file problem, not a row problem.)
5. ``dropped_missing_satellite``: empty satellite.
6. ``dropped_non_vegetation_type`` (FIRMS archive ``type`` 1 volcano, 2 static land source, 3 offshore):
   not vegetation fires. Empty type is kept.

Values: ``-999`` (INPE's invalid marker) -> NaN in frp, days_without_rain, precipitation, fire_risk
(``nan_<column>_minus999``); negative FRP -> NaN (``nan_frp_negative``); unrecognised confidence -> NaN
(``nan_confidence_invalid``). FIRMS ``acq_time`` is HHMM with leading zeros possibly dropped
(``45`` = 00:45, ``130`` = 01:30); an impossible time raises DataError. Latitude/longitude may be
space-padded (``  -6.575970``). Encoding: see `geih.ingest.sources._tabular` (Latin-1 fallback, noted).

`dedup_hotspots` removes multiple detections of one fire; `clip_to_region` keeps points in a polygon.

Speed: a file is read as text with pyarrow and cleaned with pyarrow and numpy (`_parse_fast`); only
when a value is not plainly valid (or the columns look swapped) is it cleaned again by the careful
pandas path (`_parse`), which gives the same frame or the DataError naming the row. `load_folder`
reads a folder's files two at a time and cleans consecutive files of one layout together
(`read_hotspot_files`); counts stay per file and duplicates are looked for within each file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geih.errors import DataError, ParamsError
from geih.ingest.sources import _tabular as tab
from geih.ingest.sources.cleaning import CleaningReport
from geih.ingest.sources.states import map_unique, normalise_name, uf_from_text, uf_series

log = logging.getLogger(__name__)

FORMAT_NAMES: dict[str, str] = {
    "inpe_current": "INPE BDQueimadas, current layout (2024 on)",
    "inpe_web": "INPE BDQueimadas, older web export (DataHora or datahora spelling)",
    "inpe_archive": "INPE BDQueimadas annual archive, reference satellite (2003-2022)",
    "firms_modis": "NASA FIRMS MODIS",
    "firms_viirs": "NASA FIRMS VIIRS",
}

REFERENCE_SATELLITE = "AQUA_M-T"
CANONICAL_COLUMNS = ["datetime", "lat", "lon", "satellite", "frp", "confidence", "state",
                     "source_format", "days_without_rain", "precipitation", "fire_risk"]

_FIRMS_COMMON = ["latitude", "longitude", "scan", "track", "acq_date", "acq_time", "satellite",
                 "instrument", "confidence", "version", "frp", "daynight", "type"]
_HEADERS: dict[str, list[str]] = {
    "inpe_current": ["id", "lat", "lon", "data_hora_gmt", "satelite", "municipio", "estado", "pais",
                     "municipio_id", "estado_id", "pais_id", "numero_dias_sem_chuva", "precipitacao",
                     "risco_fogo", "bioma", "frp"],
    "inpe_web": ["datahora", "satelite", "pais", "estado", "municipio", "bioma", "diasemchuva",
                 "precipitacao", "riscofogo", "frp", "latitude", "longitude"],
    "inpe_archive": ["id_bdq", "foco_id", "lat", "lon", "data_pas", "pais", "estado", "municipio", "bioma"],
    "firms_modis": _FIRMS_COMMON + ["brightness", "bright_t31"],
    "firms_viirs": _FIRMS_COMMON + ["bright_ti4", "bright_ti5"],
}
_SIGNATURES = {"data_hora_gmt": "inpe_current", "datahora": "inpe_web", "data_pas": "inpe_archive"}

_INPE_VALUES = {"days_without_rain": ["numero_dias_sem_chuva", "diasemchuva", "diasemchuv"],
                "precipitation": ["precipitacao", "precipitac"],
                "fire_risk": ["risco_fogo", "riscofogo"]}
# canonical field -> candidate source columns (lower-case), per format
_FIELDS: dict[str, dict[str, list[str]]] = {
    "inpe_current": {"lat": ["lat"], "lon": ["lon"], "datetime": ["data_hora_gmt"],
                     "satellite": ["satelite"], "frp": ["frp"], "state": ["estado"],
                     "state_id": ["estado_id"], "country": ["pais"], **_INPE_VALUES},
    "inpe_web": {"lat": ["latitude"], "lon": ["longitude"], "datetime": ["datahora"],
                 "satellite": ["satelite"], "frp": ["frp"], "state": ["estado"], "country": ["pais"],
                 **_INPE_VALUES},
    "inpe_archive": {"lat": ["lat"], "lon": ["lon"], "datetime": ["data_pas"], "state": ["estado"],
                     "country": ["pais"]},
}
_FIELDS["firms_modis"] = _FIELDS["firms_viirs"] = {
    "lat": ["latitude"], "lon": ["longitude"], "date": ["acq_date"], "time": ["acq_time"],
    "satellite": ["satellite"], "frp": ["frp"], "confidence": ["confidence"], "type": ["type"]}
_REQUIRED: dict[str, list[str]] = {
    "inpe_current": ["lat", "lon", "datetime", "satellite"],
    "inpe_web": ["lat", "lon", "datetime", "satellite"],
    "inpe_archive": ["lat", "lon", "datetime"],
    "firms_modis": ["lat", "lon", "date", "time", "satellite"],
    "firms_viirs": ["lat", "lon", "date", "time", "satellite"],
}

_FIRMS_SATELLITES = {
    "AQUA": "AQUA_M-T", "A": "AQUA_M-T", "TERRA": "TERRA_M-T", "T": "TERRA_M-T",
    "N": "NPP-375", "NPP": "NPP-375", "SUOMI-NPP": "NPP-375", "SUOMI NPP": "NPP-375",
    "N20": "NOAA-20", "NOAA-20": "NOAA-20", "NOAA20": "NOAA-20", "J1": "NOAA-20", "1": "NOAA-20",
    "N21": "NOAA-21", "NOAA-21": "NOAA-21", "NOAA21": "NOAA-21", "J2": "NOAA-21", "2": "NOAA-21",
}
_CONFIDENCE_TEXT = {"l": "low", "n": "nominal", "h": "high",
                    "low": "low", "nominal": "nominal", "high": "high"}
_BRASIL = {"BRASIL", "BRAZIL", "BR"}
# South America bounding box, for the swapped-columns test
_SA_LON, _SA_LAT = (-82.0, -34.0), (-56.0, 13.0)


def detect_csv_format(header: list[str]) -> str:
    """Name of the hotspot layout (a key of FORMAT_NAMES) a CSV header belongs to.

    Decided by a signature column (``data_hora_gmt``, ``datahora``, ``data_pas``, ``acq_date``/``acq_time``
    with ``brightness`` or ``bright_ti4``), else by the best overlap (>= half) with a known full header.
    Raises DataError (no file named) when the header matches no layout.
    """
    names = [h.strip().lower() for h in header]
    present = set(names)
    if len(names) == 1:
        for delim in (";", "\t", "|"):
            if delim in names[0]:
                raise DataError(f"wrong delimiter {delim!r}: expected comma-separated values", row=1)
    for column, fmt in _SIGNATURES.items():
        if column in present:
            return fmt
    if present & {"acq_date", "acq_time"}:
        if present & {"bright_ti4", "bright_ti5"}:
            return "firms_viirs"
        if present & {"brightness", "bright_t31"}:
            return "firms_modis"
        raise DataError("FIRMS-like header without 'brightness' (MODIS) or 'bright_ti4' (VIIRS): "
                        "cannot tell the instrument", row=1, column="brightness")
    overlap = {fmt: len(present & set(cols)) / len(cols) for fmt, cols in _HEADERS.items()}
    best = max(overlap, key=overlap.get)
    if overlap[best] >= 0.5:
        return best
    raise DataError(f"unrecognised hotspot CSV header {names[:8]}...; expected one of: "
                    + "; ".join(FORMAT_NAMES.values()), row=1)


def read_hotspots(path: str | Path) -> tuple[pd.DataFrame, CleaningReport]:
    """Read one hotspot CSV of any known layout into the canonical frame (see module docstring)."""
    raw = _open(Path(path))
    frames = _finish([raw])
    return frames[0], raw.report


def read_hotspot_files(paths: list[Path], read=map, progress=None) -> tuple[list[pd.DataFrame],
                                                                            list[CleaningReport]]:
    """`read_hotspots` for many files: the frames (to concatenate in order) and one report per file.

    Files are read with `read` (``map`` or a thread pool's ``map``); consecutive files of the same
    layout are then cleaned together, which gives the same rows and per-file reports as reading them
    one by one. The first bad file, in the order given, raises its DataError, after the files before it
    were cleaned (so that their errors come first, as when reading one after the other).
    `progress` (e.g. a tqdm bar) is updated once per file read.
    """
    def attempt(path: Path):
        try:
            return _open(path)
        except Exception as exc:  # raised below, in file order
            return exc

    frames: list[pd.DataFrame] = []
    reports: list[CleaningReport] = []
    run: list[_Raw] = []
    for item in read(attempt, paths):
        if progress is not None:
            progress.update(1)
        failed = isinstance(item, Exception)
        if failed or not item.table.num_rows or (run and item.layout != run[0].layout) \
                or sum(r.table.num_rows for r in run) >= _RUN_ROWS:
            frames += _finish(run)
            run = []
        if failed:
            raise item
        reports.append(item.report)
        if item.table.num_rows:
            run.append(item)
        else:
            frames += _finish([item])
    frames += _finish(run)
    return frames, reports


_RUN_ROWS = 250_000  # rows cleaned together at most (bounds the memory of one batch)


@dataclass
class _Raw:
    """One hotspot CSV as read: its layout, fields, report (rows read so far) and text table."""

    fmt: str
    fields: dict[str, str]
    report: CleaningReport
    table: object  # pyarrow.Table of text columns
    rows: tab.RowNumbers

    @property
    def layout(self) -> tuple:
        return self.fmt, tuple(sorted(self.fields.items())), tuple(self.table.column_names)


def _open(path: Path) -> _Raw:
    """Detect the layout and read the CSV as text (DataError for a bad header or bad CSV)."""
    name = str(path)
    header, _ = tab.read_header(path)
    try:
        fmt = detect_csv_format(header)
    except DataError as exc:
        raise DataError(exc.detail, file=name, row=exc.row, column=exc.column) from None
    fields = _resolve_fields(fmt, {h.lower() for h in header}, name)
    report = CleaningReport(file=name, format=fmt)
    table, rows = tab.read_csv_table(path, report, as_strings=True)
    return _Raw(fmt, fields, report, table, rows)


def _finish(raws: list[_Raw]) -> list[pd.DataFrame]:
    """Clean files of one layout: together on the fast path, else one by one (the exact errors)."""
    if not raws:
        return []
    if all(r.table.num_rows for r in raws):
        table = raws[0].table if len(raws) == 1 else _concat_tables([r.table for r in raws])
        sizes = np.array([r.table.num_rows for r in raws], dtype=np.int64)
        fast = _parse_fast(table, raws[0].fmt, raws[0].fields, sizes)
        if fast is not None:
            out, counts, kept = fast
            for i, raw in enumerate(raws):
                for key, per_file in counts.items():
                    raw.report.add(key, int(per_file[i]))
                _done(raw, int(kept[i]))
            return [out]
        if len(raws) > 1:
            return [frame for raw in raws for frame in _finish([raw])]
    raw, = raws  # the careful path: same result, or the DataError naming the row
    frame, keep = _parse(raw.table.to_pandas(date_as_object=False), raw.fmt, raw.fields, raw.rows, raw.report)
    out = frame.loc[keep].reset_index(drop=True)
    _count_blanked(out, raw.report)
    _done(raw, len(out))
    return [out]


def _done(raw: _Raw, kept: int) -> None:
    raw.report.rows_kept = kept
    log.debug("%s: %s, %d of %d rows kept", raw.report.file, raw.fmt, kept, raw.report.rows_read)


def _concat_tables(tables: list):
    import pyarrow as pa

    return pa.concat_tables(tables)


def _resolve_fields(fmt: str, present: set[str], file: str) -> dict[str, str]:
    """Canonical field -> actual column for this file; DataError for a missing required column."""
    found = {}
    for fld, candidates in _FIELDS[fmt].items():
        for col in candidates:
            if col in present:
                found[fld] = col
                break
    for fld in _REQUIRED[fmt]:
        if fld not in found:
            col = _FIELDS[fmt][fld][0]
            raise DataError(f"missing required column {col!r} for {FORMAT_NAMES[fmt]}", file=file,
                            column=col)
    return found


def _parse(raw: pd.DataFrame, fmt: str, fields: dict[str, str], rows: tab.RowNumbers,
           report: CleaningReport) -> tuple[pd.DataFrame, pd.Series]:
    """Canonical columns for every row, and the mask of rows to keep (drops counted in `report`)."""
    file = report.file
    col = {fld: raw[c] for fld, c in fields.items()}
    if fmt.startswith("firms"):
        dt_text, dt = _firms_datetime(col["date"], col["time"], fields, file, rows)
    else:
        dt_text = col["datetime"]
        dt = tab.to_datetime(dt_text, fields["datetime"], file, rows)
    lat = tab.to_float(col["lat"], fields["lat"], file, rows)
    lon = tab.to_float(col["lon"], fields["lon"], file, rows)
    _check_not_swapped(lat, lon, fields, file)

    if fmt == "inpe_archive":
        satellite = pd.Series(REFERENCE_SATELLITE, index=raw.index, dtype="str")
    elif fmt.startswith("firms"):
        satellite = _firms_satellite(col["satellite"], fields["satellite"], file, rows)
    else:
        satellite = col["satellite"].str.strip().astype("str")

    out = pd.DataFrame({"datetime": dt, "lat": lat, "lon": lon, "satellite": satellite}, index=raw.index)
    out["frp"] = (tab.to_float(col["frp"], fields["frp"], file, rows) if "frp" in col
                  else pd.Series(np.nan, index=raw.index))
    out["confidence"] = (_confidence(col["confidence"]) if "confidence" in col
                         else pd.Series(np.nan, index=raw.index, dtype="str"))
    out["state"] = _state(col)
    out["source_format"] = pd.Series(fmt, index=raw.index, dtype="str")
    for fld in ("days_without_rain", "precipitation", "fire_risk"):
        out[fld] = (tab.to_float(col[fld], fields[fld], file, rows) if fld in col
                    else pd.Series(np.nan, index=raw.index))
    out["_confidence_invalid"] = (out["confidence"].isna() & ~tab.is_missing_text(col["confidence"])
                                  if "confidence" in col else False)

    reasons = [
        ("dropped_duplicate_rows", _exact_duplicates(raw, [fields["lat"], fields["lon"]])),
        ("dropped_missing_datetime", dt.isna() & tab.is_missing_text(dt_text)),
        ("dropped_invalid_lat_lon", ~(lat.abs().le(90) & lon.abs().le(180))),  # NaN and -999 too
        ("dropped_missing_satellite", satellite.isna() | satellite.eq("")),
    ]
    if "type" in col:
        ftype = tab.to_float(col["type"], fields["type"], file, rows)
        reasons.append(("dropped_non_vegetation_type", ftype.notna() & ftype.ne(0)))
    keep = pd.Series(True, index=raw.index)
    for key, mask in reasons:
        hit = keep & mask
        report.add(key, int(hit.sum()))
        keep &= ~hit
    return out, keep


_STR_DTYPE = pd.api.types.pandas_dtype("str")
_COUNTED_VALUES = ("frp", "days_without_rain", "precipitation", "fire_risk")


def _str_column(values) -> pd.Series | pd.api.extensions.ExtensionArray:
    """A pyarrow string array (nulls = missing) as the pandas ``str`` dtype."""
    import pyarrow as pa

    if getattr(_STR_DTYPE, "storage", None) == "pyarrow":
        if isinstance(values, pa.Array):
            values = pa.chunked_array([values])
        return pd.arrays.ArrowStringArray(values.cast(pa.large_string()), dtype=_STR_DTYPE)
    return pd.array(values.to_numpy(zero_copy_only=False), dtype=_STR_DTYPE)


def _encode(values) -> tuple[np.ndarray, pd.Series] | None:
    """(codes, distinct values as a ``str`` Series) of a pyarrow string column without nulls."""
    import pyarrow.compute as pc

    arr = tab.single_array(values)
    if arr.null_count:
        return None
    enc = pc.dictionary_encode(arr)
    codes = np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    return codes, pd.Series(_str_column(enc.dictionary), dtype=_STR_DTYPE)


def _parse_fast(table, fmt: str, fields: dict[str, str], sizes: np.ndarray
                ) -> tuple[pd.DataFrame, dict[str, np.ndarray], np.ndarray] | None:
    """`_parse` + `_count_blanked` with pyarrow and numpy, for one or more files of one layout.

    `table` holds the text rows of files of `sizes` rows each, one after the other. Gives the kept
    rows (in order), the counts `_parse` and `_count_blanked` would record (an array per key, one
    value per file) and the rows kept per file; or None when any value is not plainly valid or a file
    looks wrong: the careful path then gives the same result or the DataError naming the row.
    Never raises DataError itself.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    n, n_files = table.num_rows, len(sizes)
    fid = np.repeat(np.arange(n_files), sizes)

    def per_file(mask: np.ndarray) -> np.ndarray:
        return np.bincount(fid[mask], minlength=n_files)

    col = {fld: table.column(c) for fld, c in fields.items()}
    if fmt.startswith("firms"):
        dt = _firms_datetime_fast(col["date"], col["time"])
    else:
        dt = tab.arrow_datetime(col["datetime"])
    if dt is None:
        return None
    lat, lon = tab.arrow_float(col["lat"]), tab.arrow_float(col["lon"])
    if lat is None or lon is None or _looks_swapped(lat, lon, fid, n_files):
        return None

    if fmt == "inpe_archive":
        satellite = pa.repeat(pa.scalar(REFERENCE_SATELLITE, pa.large_string()), n)
    else:
        enc = _encode(col["satellite"])
        if enc is None:
            return None
        codes, uniques = enc
        key = uniques.str.strip()
        if fmt.startswith("firms"):
            key = key.str.upper()
            mapped = key.map(_FIRMS_SATELLITES)
            if (mapped.isna() & key.ne("")).any():
                return None
            key = mapped.fillna("").astype("str")
        satellite = pa.array(key.to_numpy(dtype=object, na_value=None), type=pa.large_string()).take(codes)

    values = {}
    for fld in _COUNTED_VALUES:
        values[fld] = tab.arrow_float(col[fld]) if fld in col else np.full(n, np.nan)
        if values[fld] is None:
            return None
    if "confidence" in col:
        enc = _encode(col["confidence"])
        if enc is None:
            return None
        codes, uniques = enc
        words = _confidence(uniques)
        invalid_u = (words.isna() & ~tab.is_missing_text(uniques)).to_numpy(dtype=bool)
        confidence = pa.array(words.to_numpy(dtype=object, na_value=None), type=pa.large_string()).take(codes)
        confidence_invalid = invalid_u[codes]
    else:
        confidence = pa.nulls(n, type=pa.large_string())
        confidence_invalid = np.zeros(n, dtype=bool)
    state = _state_fast(col, n)
    if state is None:
        return None
    ftype = None
    if "type" in col:
        ftype = tab.arrow_float(col["type"])
        if ftype is None:
            return None

    sat_empty = np.asarray(pc.equal(satellite, "").to_numpy(zero_copy_only=False), dtype=bool)
    with np.errstate(invalid="ignore"):
        reasons = [
            ("dropped_duplicate_rows", _exact_duplicates_fast(table, lat, lon, fid)),
            ("dropped_missing_datetime", np.isnat(dt)),
            ("dropped_invalid_lat_lon", ~((np.abs(lat) <= 90) & (np.abs(lon) <= 180))),
            ("dropped_missing_satellite", sat_empty),
        ]
        if ftype is not None:
            reasons.append(("dropped_non_vegetation_type", ~np.isnan(ftype) & (ftype != 0)))
    counts: dict[str, np.ndarray] = {}
    keep = np.ones(n, dtype=bool)
    for key, mask in reasons:
        hit = keep & mask
        counts[key] = per_file(hit)
        keep &= ~hit

    kfid = fid[keep]
    kept = {fld: values[fld][keep] for fld in _COUNTED_VALUES}
    for fld in _COUNTED_VALUES:
        sentinel = kept[fld] == -999
        counts[f"nan_{fld}_minus999"] = np.bincount(kfid[sentinel], minlength=n_files)
        kept[fld][sentinel] = np.nan
    with np.errstate(invalid="ignore"):
        negative = kept["frp"] < 0
    counts["nan_frp_negative"] = np.bincount(kfid[negative], minlength=n_files)
    kept["frp"][negative] = np.nan
    counts["nan_confidence_invalid"] = per_file(keep & confidence_invalid)

    mask = pa.array(keep)
    m = int(keep.sum())
    out = pd.DataFrame({
        "datetime": dt[keep], "lat": lat[keep], "lon": lon[keep],
        "satellite": _str_column(satellite.filter(mask)), "frp": kept["frp"],
        "confidence": _str_column(confidence.filter(mask)), "state": _str_column(state.filter(mask)),
        "source_format": _str_column(pa.repeat(pa.scalar(fmt, pa.large_string()), m)),
        **{fld: kept[fld] for fld in ("days_without_rain", "precipitation", "fire_risk")},
    })
    return out, counts, np.bincount(kfid, minlength=n_files)


def _looks_swapped(lat: np.ndarray, lon: np.ndarray, fid: np.ndarray, n_files: int) -> bool:
    """True when `_check_not_swapped` would reject the columns of any file (rows of file `fid`)."""
    if n_files == 1:
        return _swapped_sample(lat, lon) is not None
    ok = ~np.isnan(lat) & ~np.isnan(lon) & (lat != -999) & (lon != -999)
    impossible = ok & (np.abs(lat) > 90) & (np.abs(lon) <= 90)
    flipped = ok & ~_in_sa(lon, lat) & _in_sa(lat, lon)
    half = np.bincount(fid[ok], minlength=n_files) / 2
    return bool(((np.bincount(fid[impossible], minlength=n_files) > half)
                 | (np.bincount(fid[flipped], minlength=n_files) > half)).any())


def _in_sa(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Inside the South America box, reading `x` as longitude and `y` as latitude."""
    return (x >= _SA_LON[0]) & (x <= _SA_LON[1]) & (y >= _SA_LAT[0]) & (y <= _SA_LAT[1])


def _firms_datetime_fast(date, time) -> np.ndarray | None:
    """`_firms_datetime` on pyarrow text columns; None when a value is not plainly valid."""
    import pyarrow.compute as pc

    date_only = tab.arrow_datetime(date)
    if date_only is None:
        return None
    arr = tab.single_array(time)
    if arr.null_count:
        return None
    hhmm = tab.single_array(pc.replace_substring(pc.utf8_trim(arr, characters=tab._ASCII_SPACE), ":", ""))
    offsets, _ = tab._string_buffers(hhmm)
    lengths = np.diff(offsets)
    if (lengths > 4).any():
        return None
    empty = lengths == 0
    padded = tab.single_array(pc.utf8_lpad(hhmm, width=4, padding="0"))
    starts = tab._string_buffers(padded)[0][:-1][~empty]
    d = tab.char_matrix(padded, starts, 4).astype(np.int64) - ord("0")
    if ((d < 0) | (d > 9)).any():
        return None
    hh, mm = d[:, 0] * 10 + d[:, 1], d[:, 2] * 10 + d[:, 3]
    if ((hh > 23) | (mm > 59)).any():
        return None
    out = np.full(len(arr), np.datetime64("NaT"), dtype="datetime64[ns]")
    out[~empty] = date_only[~empty] + ((hh * 60 + mm) * 60 * tab._NS_PER_S).astype("timedelta64[ns]")
    return out


_UF_MEMO: dict = {}
_COUNTRY_MEMO: dict = {}


def _memo(cache: dict, func, value):
    """func(value), remembered (for the few distinct state and country spellings)."""
    try:
        return cache[value]
    except KeyError:
        if len(cache) > 10_000:
            cache.clear()
        out = cache[value] = func(value)
        return out


def _is_brazil(country: str) -> bool:
    return normalise_name(country) in _BRASIL | {""}


def _state_fast(col: dict, n: int):
    """`_state` on pyarrow text columns, as a pyarrow string array (null = NaN); None on nulls."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def uf(values):
        enc = _encode(values)
        if enc is None:
            return None
        codes, uniques = enc
        mapped = [_memo(_UF_MEMO, uf_from_text, u) for u in uniques.tolist()]
        return pa.array(mapped, type=pa.large_string()).take(codes)

    state = pa.nulls(n, type=pa.large_string())
    if "state" in col:
        state = uf(col["state"])
        if state is None:
            return None
    if "state_id" in col:
        by_id = uf(col["state_id"])
        if by_id is None:
            return None
        state = pc.coalesce(by_id, state)
    if "country" in col:
        enc = _encode(col["country"])
        if enc is None:
            return None
        codes, uniques = enc
        ok = np.array([_memo(_COUNTRY_MEMO, _is_brazil, c) for c in uniques.tolist()], dtype=bool)
        state = pc.if_else(pa.array(ok[codes]), state, pa.scalar(None, pa.large_string()))
    return state


def _exact_duplicates_fast(table, lat: np.ndarray, lon: np.ndarray, fid: np.ndarray) -> np.ndarray:
    """`_exact_duplicates` within each file (rows of file `fid`), pre-filtered on the parsed lat/lon.

    Equal text parses to equal bits, so rows with equal lat/lon text are among the candidates.
    """
    bits = (lat.view(np.uint64) * np.uint64(0x9E3779B97F4A7C15) ^ lon.view(np.uint64)
            ^ fid.astype(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F))
    candidates = pd.Series(bits, copy=False).duplicated(keep=False).to_numpy()
    dup = np.zeros(len(lat), dtype=bool)
    if candidates.any():
        positions = np.flatnonzero(candidates)
        sub = table.take(positions)
        seen: set = set()
        for pos, file, row in zip(positions, fid[positions].tolist(),
                                  zip(*(c.to_pylist() for c in sub.columns))):
            if (file, row) in seen:
                dup[pos] = True
            else:
                seen.add((file, row))
    return dup


def _exact_duplicates(raw: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Rows equal in every field to an earlier row (pre-filtered on `keys` for speed)."""
    candidates = raw.duplicated(subset=keys, keep=False).to_numpy()
    dup = np.zeros(len(raw), dtype=bool)
    if candidates.any():
        dup[candidates] = raw.loc[candidates].duplicated(keep="first").to_numpy()
    return pd.Series(dup, index=raw.index)


def _count_blanked(out: pd.DataFrame, report: CleaningReport) -> None:
    """Blank -999 and negative FRP in kept rows, and count them (in place on `out`)."""
    for fld in ("frp", "days_without_rain", "precipitation", "fire_risk"):
        sentinel = out[fld].eq(-999)
        report.add(f"nan_{fld}_minus999", int(sentinel.sum()))
        out.loc[sentinel, fld] = np.nan
    negative = out["frp"].lt(0)
    report.add("nan_frp_negative", int(negative.sum()))
    out.loc[negative, "frp"] = np.nan
    invalid = out.pop("_confidence_invalid")
    report.add("nan_confidence_invalid", int(invalid.sum()))


def _firms_datetime(date: pd.Series, time: pd.Series, fields: dict[str, str], file: str,
                    rows: tab.RowNumbers) -> tuple[pd.Series, pd.Series]:
    """Datetime from FIRMS acq_date + acq_time (HHMM, leading zeros possibly dropped)."""
    hhmm = time.str.strip().str.replace(":", "", regex=False)
    empty = hhmm.eq("")
    padded = hhmm.str.zfill(4)
    digits = padded.str.fullmatch(r"\d{4}")
    hh = pd.to_numeric(padded.str.slice(0, 2), errors="coerce")
    mm = pd.to_numeric(padded.str.slice(2, 4), errors="coerce")
    bad = ~empty & (~digits | ~(hh < 24) | ~(mm < 60))
    if bad.any():
        pos = tab.first_row(bad)
        raise DataError(f"cannot parse time {time.iloc[pos]!r} (expected HHMM, e.g. 0048 or 45)",
                        file=file, row=rows(pos), column=fields["time"])
    date_only = tab.to_datetime(date, fields["date"], file, rows)
    offset = pd.to_timedelta(hh.fillna(0) * 60 + mm.fillna(0), unit="min")
    dt = (date_only + offset).where(~empty)
    text = date.where(~empty, "")
    return text, dt.astype("datetime64[ns]")


def _check_not_swapped(lat: pd.Series, lon: pd.Series, fields: dict[str, str], file: str) -> None:
    """DataError when the lat and lon columns look exchanged (heuristic in the module docstring)."""
    sample = _swapped_sample(lat.to_numpy(dtype=np.float64), lon.to_numpy(dtype=np.float64))
    if sample is not None:
        la, lo = sample
        raise DataError(f"latitude and longitude look swapped: most rows have latitude values "
                        f"like {la:g} and longitude like {lo:g}; check the column order",
                        file=file, column=fields["lat"])


def _swapped_sample(lat: np.ndarray, lon: np.ndarray) -> tuple[float, float] | None:
    """The first (lat, lon) checked when the columns look exchanged, else None."""
    ok = ~np.isnan(lat) & ~np.isnan(lon) & (lat != -999) & (lon != -999)
    if not ok.any():
        return None
    la, lo = lat[ok], lon[ok]
    half = len(la) / 2
    impossible = (np.abs(la) > 90) & (np.abs(lo) <= 90)
    flipped = ~_in_sa(lo, la) & _in_sa(la, lo)
    if impossible.sum() > half or flipped.sum() > half:
        return float(la[0]), float(lo[0])
    return None


def _firms_satellite(values: pd.Series, column: str, file: str, rows: tab.RowNumbers) -> pd.Series:
    """INPE spelling for FIRMS satellite codes; DataError for an unknown code."""
    key = values.str.strip().str.upper()
    mapped = key.map(_FIRMS_SATELLITES)
    bad = mapped.isna() & key.ne("")
    if bad.any():
        pos = tab.first_row(bad)
        raise DataError(f"unknown FIRMS satellite {values.iloc[pos]!r} (known: "
                        f"{sorted(set(_FIRMS_SATELLITES))})", file=file, row=rows(pos), column=column)
    return mapped.fillna("").astype("str")


def _confidence(values: pd.Series) -> pd.Series:
    """'low'/'nominal'/'high' from VIIRS letters/words or MODIS 0-100; NaN otherwise."""
    text = values.str.strip().str.lower()
    words = text.map(_CONFIDENCE_TEXT)
    num = pd.to_numeric(text, errors="coerce").to_numpy()
    with np.errstate(invalid="ignore"):
        binned = np.select([(num >= 0) & (num < 30), (num >= 30) & (num < 80), (num >= 80) & (num <= 100)],
                           ["low", "nominal", "high"], default="")
    out = words.where(words.notna(), pd.Series(binned, index=values.index).replace("", np.nan))
    return out.astype("str")


def _state(col: dict[str, pd.Series]) -> pd.Series:
    """UF per row from estado_id (IBGE) or the state name; NaN outside Brazil or unknown."""
    state = pd.Series(np.nan, index=col["lat"].index, dtype="str")
    if "state" in col:
        state = uf_series(col["state"])
    if "state_id" in col:
        by_id = uf_series(col["state_id"])  # IBGE code as text -> UF
        state = by_id.where(by_id.notna(), state)
    if "country" in col:
        # an empty country field does not make a row foreign
        in_brazil = map_unique(col["country"], _is_brazil).eq(True)
        state = state.where(in_brazil)
    return state.astype("str")


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
