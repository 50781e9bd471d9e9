"""Active-fire hotspot CSVs: INPE BDQueimadas (five layouts) and NASA FIRMS (MODIS, VIIRS).

`read_hotspots` detects the layout from the header (case-insensitive; see `FORMAT_NAMES`) and, for
FIRMS, the instrument from the values of its ``instrument`` column, and returns one canonical frame:

    datetime (naive UTC datetime64[ns]), lat, lon (float64), satellite (str, INPE spelling),
    frp (MW, float64), confidence ('low'/'nominal'/'high'/NaN), state (UF or NaN), source_format (str),
    days_without_rain, precipitation, fire_risk (float64; INPE only, NaN elsewhere — kept for
    validation summaries only: they exist only where a fire was seen and leak the label as features).

INPE layouts. ``inpe_current`` (data server, 2024 on), ``inpe_web`` (older web export, either
spelling), ``inpe_archive`` (annual reference-satellite archive: no satellite column, every row is
`AQUA_M-T`), ``inpe_annual`` (the yearly all-satellites file ``focos_br_todos-sats_YYYY``: numbers padded
on both sides, weather and FRP empty for older satellites, ``-999.0`` sentinels, ``id_area_industrial``)
and ``inpe_open_data`` (the 48-hour WFS exports ``focos_brasil_ontem_hoje``/``focos_ams_ontem_hoje``:
``FID``, longitude before latitude, ``T`` between date and time, no FRP, several countries, and a WKT
``geom`` whose axes are swapped, ``POINT (lat lon)``). Coordinates always come from the latitude and
longitude columns; ``geom`` only cross-checks them: rows whose geom holds the same point with the axes
swapped are counted (``geom_axes_swapped``), rows whose geom is another point (``geom_disagrees``) or is
not a WKT point (``geom_unreadable``) too, each noted.

FIRMS. The instrument of each row is its ``instrument`` value (``MODIS``/``VIIRS``, any case) when the
column exists and the value is not empty, else the one the header names (``brightness`` -> MODIS,
``bright_ti4`` -> VIIRS): archive downloads of VIIRS carry the MODIS column names. An unknown
instrument raises DataError naming the row. ``source_format`` is ``firms_modis`` or ``firms_viirs`` per
row, and the report's format says which instruments the file held (noted when the header said
otherwise). Satellites, per instrument: MODIS Aqua (``Aqua``/``A``) -> ``AQUA_M-T``, Terra (``Terra``/``T``)
-> ``TERRA_M-T`` (all passes, day and night: a simplification, INPE splits passes into ``-T``/``-M``);
VIIRS ``N`` -> ``NPP-375``, ``N20``/``1`` -> ``NOAA-20``, ``N21``/``2`` -> ``NOAA-21``. A satellite unknown
for its row's instrument raises DataError.

Confidence. VIIRS ``l``/``n``/``h`` (or ``low``/``nominal``/``high``, any case); MODIS 0-100 binned as
low < 30, nominal 30-79, high >= 80. INPE files have none (NaN). A value that is not of its row's
instrument's scale (a number for VIIRS, a letter for MODIS) or is unrecognised -> NaN, counted.

State. IBGE ``estado_id`` when present, else the state name (``PARÁ``, ``MATO GROSSO``, any case or
accents) or a UF, mapped to the UF. Only for rows whose ``pais`` is Brasil when a country column
exists (neighbouring countries have provinces called Amazonas). FIRMS has no state: NaN.

Separators. Semicolon-separated files with decimal commas are read too (`geih.ingest.sources.tabular`).

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
6. ``dropped_non_vegetation_type`` (FIRMS archive ``type`` 1 volcano, 2 static land source, 3 offshore)
   and ``dropped_industrial_area`` (INPE ``id_area_industrial`` 1): not vegetation fires. Empty is kept.

Values: ``-999`` (INPE's invalid marker, also written ``-999.0``) -> NaN in frp, days_without_rain,
precipitation, fire_risk (``nan_<column>_minus999``); negative FRP -> NaN (``nan_frp_negative``);
unrecognised confidence -> NaN (``nan_confidence_invalid``). FIRMS ``acq_time`` is HHMM with leading zeros
possibly dropped (``45`` = 00:45, ``130`` = 01:30); an impossible time raises DataError. Numbers may be
space-padded (``  -6.575970``, ``  -25.990000 ``). Encoding: see `geih.ingest.sources.tabular` (Latin-1
fallback, noted).

Each rule is one function in `geih.ingest.sources.hotspot_rules`, which also holds `dedup_hotspots`
(multiple detections of one fire) and `clip_to_region` (points outside the region), run in prepare.

Coverage. The report's ``period`` is the first and last date-time kept (None for a file without
rows); prepare derives the months the hotspot files cover from it.

Speed: a file is read as text with pyarrow and cleaned by `_clean` with numpy, values mapped once per
distinct value. `_clean` takes its parsers as a strategy: `_Strict` (used first, on several files at
once) declines any value that is not plainly valid, and the file is then cleaned again with
`_Careful`, which parses everything the format allows and raises the DataError naming the row. Both
apply the same rules, so both give the same frame and counts. `load_folder` reads a folder's files two
at a time and cleans consecutive files of one layout together (`read_hotspot_files`); counts stay per
file and duplicates are looked for within each file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geih.errors import DataError
from geih.ingest.sources import hotspot_rules as rules
from geih.ingest.sources import tabular as tab
from geih.ingest.sources.cleaning import CleaningReport
from geih.ingest.sources.hotspot_rules import REFERENCE_SATELLITE
from geih.ingest.sources.states import normalise_name, uf_from_text

log = logging.getLogger(__name__)

FORMAT_NAMES: dict[str, str] = {
    "inpe_current": "INPE BDQueimadas, current layout (2024 on)",
    "inpe_web": "INPE BDQueimadas, older web export (DataHora or datahora spelling)",
    "inpe_archive": "INPE BDQueimadas annual archive, reference satellite (2003-2022)",
    "inpe_annual": "INPE BDQueimadas annual all-satellites file (focos_br_todos-sats_YYYY)",
    "inpe_open_data": "INPE open-data 48-hour file (focos_brasil_ontem_hoje / focos_ams_ontem_hoje)",
    "firms_modis": "NASA FIRMS MODIS",
    "firms_viirs": "NASA FIRMS VIIRS",
}

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
    "inpe_annual": ["latitude", "longitude", "data_pas", "satelite", "pais", "estado", "municipio", "bioma",
                    "numero_dias_sem_chuva", "precipitacao", "risco_fogo", "id_area_industrial", "frp"],
    "inpe_open_data": ["fid", "id", "longitude", "latitude", "data_hora_gmt", "satelite", "municipio",
                       "estado", "pais", "municipio_id", "estado_id", "pais_id", "numero_dias_sem_chuva",
                       "precipitacao", "risco_fogo", "bioma", "geom"],
    "firms_modis": _FIRMS_COMMON + ["brightness", "bright_t31"],
    "firms_viirs": _FIRMS_COMMON + ["bright_ti4", "bright_ti5"],
}

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
    "inpe_annual": {"lat": ["latitude", "lat"], "lon": ["longitude", "lon"], "datetime": ["data_pas"],
                    "satellite": ["satelite"], "frp": ["frp"], "state": ["estado"], "country": ["pais"],
                    "industrial": ["id_area_industrial"], **_INPE_VALUES},
    "inpe_open_data": {"lat": ["latitude", "lat"], "lon": ["longitude", "lon"], "datetime": ["data_hora_gmt"],
                       "satellite": ["satelite"], "frp": ["frp"], "state": ["estado"], "state_id": ["estado_id"],
                       "country": ["pais"], "geom": ["geom"], **_INPE_VALUES},
}
_FIELDS["firms_modis"] = _FIELDS["firms_viirs"] = {
    "lat": ["latitude"], "lon": ["longitude"], "date": ["acq_date"], "time": ["acq_time"],
    "satellite": ["satellite"], "instrument": ["instrument"], "frp": ["frp"], "confidence": ["confidence"],
    "type": ["type"]}
_REQUIRED: dict[str, list[str]] = {
    "inpe_current": ["lat", "lon", "datetime", "satellite"],
    "inpe_web": ["lat", "lon", "datetime", "satellite"],
    "inpe_archive": ["lat", "lon", "datetime"],
    "inpe_annual": ["lat", "lon", "datetime", "satellite"],
    "inpe_open_data": ["lat", "lon", "datetime", "satellite"],
    "firms_modis": ["lat", "lon", "date", "time", "satellite"],
    "firms_viirs": ["lat", "lon", "date", "time", "satellite"],
}
# the row rule for fields flagging non-vegetation fires, and the count key of each
_NOT_VEGETATION_KEYS = {"type": "dropped_non_vegetation_type", "industrial": "dropped_industrial_area"}

_MODIS, _VIIRS = "MODIS", "VIIRS"
_FIRMS_SATELLITES: dict[str, dict[str, str]] = {
    _MODIS: {"AQUA": "AQUA_M-T", "A": "AQUA_M-T", "TERRA": "TERRA_M-T", "T": "TERRA_M-T"},
    _VIIRS: {"N": "NPP-375", "NPP": "NPP-375", "SUOMI-NPP": "NPP-375", "SUOMI NPP": "NPP-375",
             "N20": "NOAA-20", "NOAA-20": "NOAA-20", "NOAA20": "NOAA-20", "J1": "NOAA-20", "1": "NOAA-20",
             "N21": "NOAA-21", "NOAA-21": "NOAA-21", "NOAA21": "NOAA-21", "J2": "NOAA-21", "2": "NOAA-21"},
}
_FIRMS_FORMAT = {_MODIS: "firms_modis", _VIIRS: "firms_viirs"}
_CONFIDENCE_TEXT = {"l": "low", "n": "nominal", "h": "high",
                    "low": "low", "nominal": "nominal", "high": "high"}
_BRASIL = {"BRASIL", "BRAZIL", "BR"}
_COUNTED_VALUES = ("frp", "days_without_rain", "precipitation", "fire_risk")


def detect_csv_format(header: list[str]) -> str:
    """Name of the hotspot layout (a key of FORMAT_NAMES) a CSV header belongs to.

    Decided by signature columns (``geom``/``fid`` -> open data; ``data_hora_gmt`` -> current;
    ``datahora``; ``data_pas`` with ``satelite`` or ``latitude`` -> annual all-satellites, else archive;
    ``acq_date``/``acq_time`` with ``brightness`` or ``bright_ti4``), else by the best overlap (>= half)
    with a known full header. For FIRMS this is the instrument the header names; the rows' ``instrument``
    values decide (see the module docstring). Raises DataError (no file named) when the header matches
    no layout.
    """
    names = [h.strip().lower() for h in header]
    present = set(names)
    if len(names) == 1:
        for delim in (";", "\t", "|"):
            if delim in names[0]:
                raise DataError(f"wrong delimiter {delim!r}: expected comma-separated values", row=1)
    if present & {"geom", "fid"}:  # only the open-data WFS export has these
        return "inpe_open_data"
    if "data_hora_gmt" in present:
        return "inpe_current"
    if "datahora" in present:
        return "inpe_web"
    if "data_pas" in present:  # the all-satellites file spells latitude out; the archive writes lat
        return "inpe_annual" if present & {"satelite", "latitude"} else "inpe_archive"
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
    """Clean files of one layout: together with the strict parsers, else one by one (the careful
    parsers give the exact errors)."""
    if not raws:
        return []
    if len(raws) == 1:
        table = raws[0].table
    else:
        import pyarrow as pa

        table = pa.concat_tables([r.table for r in raws])
    sizes = np.array([r.table.num_rows for r in raws], dtype=np.int64)
    try:
        out, counts, kept = _clean(table, raws[0].fmt, raws[0].fields, sizes, _Strict())
    except _NotPlain:
        if len(raws) > 1:
            return [frame for raw in raws for frame in _finish([raw])]
        raw, = raws
        out, counts, kept = _clean(raw.table, raw.fmt, raw.fields, sizes, _Careful(raw.report.file, raw.rows))
    starts = np.cumsum(kept) - kept
    for i, raw in enumerate(raws):
        for key, per_file in counts.items():
            raw.report.add(key, int(per_file[i]))
        raw.report.rows_kept = int(kept[i])
        rows = slice(int(starts[i]), int(starts[i] + kept[i]))
        _describe(raw, out["datetime"].to_numpy()[rows], out["source_format"].iloc[rows])
        log.debug("%s: %s, %d of %d rows kept", raw.report.file, raw.report.format, kept[i],
                  raw.report.rows_read)
    return [out]


def _describe(raw: _Raw, when: np.ndarray, formats: pd.Series) -> None:
    """Record in the report the period a file's kept rows cover, and the instruments of a FIRMS file
    (noted when its header named another); the notes for geom cross-checks."""
    report = raw.report
    if len(when):
        report.period = (str(when.min().astype("datetime64[s]")).replace("T", " "),
                         str(when.max().astype("datetime64[s]")).replace("T", " "))
    if raw.fmt.startswith("firms") and len(formats):
        found = sorted(set(formats))
        report.format = "+".join(found)
        if found != [raw.fmt]:
            named = {"firms_modis": "MODIS (brightness, bright_t31)", "firms_viirs": "VIIRS (bright_ti4, bright_ti5)"}
            report.note(f"header has the {named[raw.fmt]} column names but the instrument column says "
                        f"{' and '.join(f.split('_')[1].upper() for f in found)}: read by instrument")
    for key, text in (("geom_axes_swapped", "geom holds (lat lon), axes swapped"),
                      ("geom_disagrees", "geom is another point than latitude/longitude"),
                      ("geom_unreadable", "geom is not a WKT point")):
        if report.counts.get(key):
            report.note(f"{report.counts[key]} row(s): {text}; coordinates taken from the "
                        "latitude/longitude columns")


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


# ---------------------------------------------------------------- parsing strategies


class _NotPlain(Exception):
    """A value the strict parsers do not take: clean the file again with the careful ones."""


class _Strict:
    """Parsers for plainly valid values; anything else raises `_NotPlain` (never DataError)."""

    def floats(self, values, column: str) -> np.ndarray:
        out = tab.parse_floats(values)
        if out is None:
            raise _NotPlain(column)
        return out

    def datetimes(self, values, column: str) -> np.ndarray:
        out = tab.arrow_datetime(values)
        if out is None:
            raise _NotPlain(column)
        return out

    def reject(self, bad: np.ndarray, values, column: str, message: str) -> None:
        raise _NotPlain(column)

    def reject_file(self, message: str, column: str) -> None:
        raise _NotPlain(column)


@dataclass(frozen=True)
class _Careful:
    """Parsers for every value the format allows; a bad value raises the DataError naming its row."""

    file: str
    rows: tab.RowNumbers

    def floats(self, values, column: str) -> np.ndarray:
        return tab.to_float(values, column, self.file, self.rows)

    def datetimes(self, values, column: str) -> np.ndarray:
        return tab.to_datetime(values, column, self.file, self.rows)

    def reject(self, bad: np.ndarray, values, column: str, message: str) -> None:
        """DataError at the first `bad` row; `message` may name its text as ``{value!r}``."""
        pos = tab.first_row(bad)
        raise DataError(message.format(value=values[pos].as_py()), file=self.file, row=self.rows(pos),
                        column=column)

    def reject_file(self, message: str, column: str) -> None:
        raise DataError(message, file=self.file, column=column)


_Parsers = _Strict | _Careful


# ---------------------------------------------------------------- cleaning


def _clean(table, fmt: str, fields: dict[str, str], sizes: np.ndarray, parse: _Parsers
           ) -> tuple[pd.DataFrame, dict[str, np.ndarray], np.ndarray]:
    """The canonical frame of the kept rows of one or more files of one layout, the counts of every
    rule (an array per key, one value per file) and the rows kept per file.

    `table` holds the text rows of files of `sizes` rows each, one after the other. Columns are parsed
    in a fixed order, so a file with several problems reports the first one found in that order.
    """
    import pyarrow as pa

    n, n_files = table.num_rows, len(sizes)
    fid = np.repeat(np.arange(n_files), sizes)

    def per_file(mask: np.ndarray) -> np.ndarray:
        return np.bincount(fid[mask], minlength=n_files)

    col = {fld: table.column(c) for fld, c in fields.items()}
    firms = fmt.startswith("firms")
    if firms:
        dt = _firms_datetime(col["date"], col["time"], fields, parse)
    else:
        dt = parse.datetimes(col["datetime"], fields["datetime"])
    lat = parse.floats(col["lat"], fields["lat"])
    lon = parse.floats(col["lon"], fields["lon"])
    ends = np.cumsum(sizes)
    for start, end in zip(ends - sizes, ends):
        sample = rules.swapped_sample(lat[start:end], lon[start:end])
        if sample is not None:
            parse.reject_file(f"latitude and longitude look swapped: most rows have latitude values like "
                              f"{sample[0]:g} and longitude like {sample[1]:g}; check the column order",
                              fields["lat"])
    instrument = _instruments(col, fmt, fields, n, parse) if firms else None
    satellite, no_satellite = _satellite(col, fmt, fields, n, parse, instrument)
    values = {fld: parse.floats(col[fld], fields[fld]) if fld in col else np.full(n, np.nan)
              for fld in _COUNTED_VALUES}
    confidence, confidence_invalid = _confidence_column(col, n, instrument)
    state = _state(col, n)

    reasons = [
        ("dropped_duplicate_rows", rules.exact_duplicates(table, lat, lon, fid)),
        ("dropped_missing_datetime", rules.missing_datetime(dt)),
        ("dropped_invalid_lat_lon", rules.invalid_lat_lon(lat, lon)),
        ("dropped_missing_satellite", no_satellite),
    ]
    for fld, key in _NOT_VEGETATION_KEYS.items():
        if fld in col:
            reasons.append((key, rules.non_vegetation_type(parse.floats(col[fld], fields[fld]))))
    counts: dict[str, np.ndarray] = {}
    keep = np.ones(n, dtype=bool)
    for key, mask in reasons:
        hit = keep & mask
        counts[key] = per_file(hit)
        keep &= ~hit
    if "geom" in col:
        gx, gy, unreadable = _wkt_points(col["geom"])
        swapped, disagrees = rules.geom_cross_check(lat, lon, gx, gy)
        for key, mask in (("geom_axes_swapped", swapped), ("geom_disagrees", disagrees),
                          ("geom_unreadable", unreadable)):
            counts[key] = per_file(keep & mask)

    kept_fid = fid[keep]
    kept = {fld: values[fld][keep] for fld in _COUNTED_VALUES}
    for fld in _COUNTED_VALUES:
        marker = rules.invalid_marker(kept[fld])
        counts[f"nan_{fld}_minus999"] = np.bincount(kept_fid[marker], minlength=n_files)
        kept[fld][marker] = np.nan
    negative = rules.negative_frp(kept["frp"])
    counts["nan_frp_negative"] = np.bincount(kept_fid[negative], minlength=n_files)
    kept["frp"][negative] = np.nan
    counts["nan_confidence_invalid"] = per_file(keep & confidence_invalid)

    mask = pa.array(keep)
    if instrument is None:
        source_format = pa.repeat(pa.scalar(fmt, pa.large_string()), int(keep.sum()))
    else:
        source_format = pa.array(np.where(instrument[keep] == _VIIRS, _FIRMS_FORMAT[_VIIRS],
                                          _FIRMS_FORMAT[_MODIS]), type=pa.large_string())
    out = pd.DataFrame({
        "datetime": dt[keep], "lat": lat[keep], "lon": lon[keep],
        "satellite": _str_column(satellite.filter(mask)), "frp": kept["frp"],
        "confidence": _str_column(confidence.filter(mask)), "state": _str_column(state.filter(mask)),
        "source_format": _str_column(source_format),
        **{fld: kept[fld] for fld in ("days_without_rain", "precipitation", "fire_risk")},
    })
    return out, counts, np.bincount(kept_fid, minlength=n_files)


# ---------------------------------------------------------------- values, mapped once per distinct value


_STR_DTYPE = pd.api.types.pandas_dtype("str")


def _str_column(values) -> pd.Series | pd.api.extensions.ExtensionArray:
    """A pyarrow string array (nulls = missing) as the pandas ``str`` dtype."""
    import pyarrow as pa

    if getattr(_STR_DTYPE, "storage", None) == "pyarrow":
        if isinstance(values, pa.Array):
            values = pa.chunked_array([values])
        return pd.arrays.ArrowStringArray(values.cast(pa.large_string()), dtype=_STR_DTYPE)
    return pd.array(values.to_numpy(zero_copy_only=False), dtype=_STR_DTYPE)


def _distinct(values) -> tuple[np.ndarray, list[str]]:
    """(code per row, distinct texts) of a pyarrow text column (a null reads as '')."""
    import pyarrow.compute as pc

    enc = pc.dictionary_encode(tab.single_array(pc.fill_null(values, "") if values.null_count else values))
    return np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.int64), enc.dictionary.to_pylist()


def _map_distinct(values, func: Callable[[str], object]):
    """`func` of each row's text as a pyarrow string array (None = null), calling `func` once per
    distinct text."""
    import pyarrow as pa

    codes, distinct = _distinct(values)
    return pa.array([func(text) for text in distinct], type=pa.large_string()).take(pa.array(codes))


def _hhmm_minutes(text: str) -> int | None:
    """Minutes after midnight of FIRMS ``acq_time`` text (HHMM, leading zeros possibly dropped, ':'
    allowed); -1 for an empty time, None for text that is not a time."""
    hhmm = text.strip().replace(":", "")
    if not hhmm:
        return -1
    if len(hhmm) > 4 or not (hhmm.isascii() and hhmm.isdigit()):
        return None
    hh, mm = int(hhmm.zfill(4)[:2]), int(hhmm.zfill(4)[2:])
    return hh * 60 + mm if hh < 24 and mm < 60 else None


def _firms_datetime(date, time, fields: dict[str, str], parse: _Parsers) -> np.ndarray:
    """Datetime from FIRMS acq_date + acq_time; NaT where either is empty."""
    codes, distinct = _distinct(time)
    parsed = [_hhmm_minutes(text) for text in distinct]
    bad = np.array([m is None for m in parsed], dtype=bool)[codes]
    if bad.any():
        parse.reject(bad, time, fields["time"], "cannot parse time {value!r} (expected HHMM, e.g. 0048 or 45)")
    minutes = np.array([-1 if m is None else m for m in parsed], dtype=np.int64)[codes]
    date_only = parse.datetimes(date, fields["date"])
    out = date_only + (minutes * 60).astype("timedelta64[s]").astype("timedelta64[ns]")
    out[minutes < 0] = np.datetime64("NaT")
    return out


def _instruments(col: dict, fmt: str, fields: dict[str, str], n: int, parse: _Parsers) -> np.ndarray:
    """FIRMS instrument of each row ('MODIS'/'VIIRS'): the ``instrument`` value, else the header's."""
    default = _MODIS if fmt == "firms_modis" else _VIIRS
    if "instrument" not in col:
        return np.full(n, default, dtype=object)
    codes, distinct = _distinct(col["instrument"])
    keys = [text.strip().upper() for text in distinct]
    unknown = np.array([key not in ("", _MODIS, _VIIRS) for key in keys], dtype=bool)[codes]
    if unknown.any():
        parse.reject(unknown, col["instrument"], fields["instrument"],
                     "unknown FIRMS instrument {value!r} (expected MODIS or VIIRS)")
    return np.array([key or default for key in keys], dtype=object)[codes]


def _satellite(col: dict, fmt: str, fields: dict[str, str], n: int, parse: _Parsers,
               instrument: np.ndarray | None = None):
    """Satellite names in INPE spelling (pyarrow strings) and the rows without one; FIRMS codes are
    mapped by each row's `instrument`."""
    import pyarrow as pa

    if fmt == "inpe_archive":
        return pa.repeat(pa.scalar(REFERENCE_SATELLITE, pa.large_string()), n), np.zeros(n, dtype=bool)
    codes, distinct = _distinct(col["satellite"])
    names = np.array([text.strip() for text in distinct], dtype=object)
    if instrument is None:
        satellite = pa.array(names.tolist(), type=pa.large_string()).take(pa.array(codes))
        return satellite, rules.missing_satellite(names)[codes]
    keys = [name.upper() for name in names]
    per_row = np.empty(n, dtype=object)
    unknown = np.zeros(n, dtype=bool)
    for kind, known in _FIRMS_SATELLITES.items():
        rows = instrument == kind
        mapped = np.array([known.get(key, "") for key in keys] + [""], dtype=object)
        bad = np.array([key != "" and key not in known for key in keys] + [False], dtype=bool)
        per_row[rows] = mapped[codes[rows]]
        unknown[rows] = bad[codes[rows]]
    if unknown.any():
        pos = tab.first_row(unknown)
        known = sorted(_FIRMS_SATELLITES[instrument[pos]])
        parse.reject(unknown, col["satellite"], fields["satellite"],
                     f"unknown FIRMS {instrument[pos]} satellite {{value!r}} (known: {known})")
    return pa.array(per_row.tolist(), type=pa.large_string()), rules.missing_satellite(per_row)


def _confidence_word(text: str, instrument: str | None = None) -> str | None:
    """'low'/'nominal'/'high' from VIIRS letters/words or MODIS 0-100 (low < 30 <= nominal < 80 <= high);
    with an `instrument`, only that instrument's scale is recognised."""
    import pyarrow as pa

    key = text.strip().lower()
    if key in _CONFIDENCE_TEXT:
        return _CONFIDENCE_TEXT[key] if instrument != _MODIS else None
    if instrument == _VIIRS:
        return None
    parsed = tab.parse_floats(pa.array([key]))
    if parsed is None:
        return None
    number = parsed[0]
    if 0 <= number < 30:
        return "low"
    if 30 <= number < 80:
        return "nominal"
    return "high" if 80 <= number <= 100 else None


def _confidence_column(col: dict, n: int, instrument: np.ndarray | None = None):
    """Confidence words (pyarrow strings) and the rows whose value was present but not recognised
    (on the scale of the row's `instrument`, when given)."""
    import pyarrow as pa

    if "confidence" not in col:
        return pa.nulls(n, type=pa.large_string()), np.zeros(n, dtype=bool)
    codes, distinct = _distinct(col["confidence"])
    present = ~tab.missing_text(pa.array(distinct))
    kinds = [None] if instrument is None else list(_FIRMS_SATELLITES)
    words = np.empty(n, dtype=object)
    invalid = np.zeros(n, dtype=bool)
    for kind in kinds:
        rows = slice(None) if kind is None else instrument == kind
        mapped = np.array([_confidence_word(text, kind) for text in distinct] + [None], dtype=object)
        words[rows] = mapped[codes[rows]]
        invalid[rows] = (np.equal(mapped[:-1], None) & present)[codes[rows]]
    return pa.array(words.tolist(), type=pa.large_string()), invalid


def _wkt_points(values) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, y) of WKT ``POINT (x y)`` text (NaN where empty or not a point) and the rows whose text is
    present but not a WKT point."""
    import pyarrow.compute as pc

    number = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
    parts = pc.extract_regex(values, rf"^\s*(?i:POINT)\s*\(\s*(?P<x>{number})\s+(?P<y>{number})\s*\)\s*$")
    x = tab.parse_floats(pc.struct_field(parts, "x"))
    y = tab.parse_floats(pc.struct_field(parts, "y"))
    matched = np.asarray(parts.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    return x, y, ~matched & ~tab.missing_text(values)


def _is_brazil(country: str) -> bool:
    """True for Brasil/Brazil/BR (any case or accents), and for an empty country."""
    return normalise_name(country) in _BRASIL | {""}


def _state(col: dict, n: int):
    """UF per row (pyarrow strings, null = unknown) from estado_id (IBGE) or the state name; null
    outside Brazil when the file has a country column."""
    import pyarrow as pa
    import pyarrow.compute as pc

    state = pa.nulls(n, type=pa.large_string())
    if "state" in col:
        state = _map_distinct(col["state"], uf_from_text)
    if "state_id" in col:
        state = pc.coalesce(_map_distinct(col["state_id"], uf_from_text), state)
    if "country" in col:
        codes, distinct = _distinct(col["country"])
        in_brazil = np.array([_is_brazil(text) for text in distinct], dtype=bool)[codes]
        state = pc.if_else(pa.array(in_brazil), state, pa.scalar(None, pa.large_string()))
    return state
