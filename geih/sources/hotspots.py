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
space-padded (``  -6.575970``). Encoding: see `geih.sources._tabular` (Latin-1 fallback, noted).

`dedup_hotspots` removes multiple detections of one fire; `clip_to_region` keeps points in a polygon.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from geih.errors import DataError, ParamsError
from geih.sources import _tabular as tab
from geih.sources.report import CleaningReport
from geih.sources.states import map_unique, normalise_name, uf_series

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
    path = Path(path)
    name = str(path)
    header, _ = tab.read_header(path)
    try:
        fmt = detect_csv_format(header)
    except DataError as exc:
        raise DataError(exc.detail, file=name, row=exc.row, column=exc.column) from None
    fields = _resolve_fields(fmt, {h.lower() for h in header}, name)
    report = CleaningReport(file=name, format=fmt)
    raw, rows = tab.read_csv(path, report, as_strings=True)
    frame, keep = _parse(raw, fmt, fields, rows, report)
    out = frame.loc[keep].reset_index(drop=True)
    _count_blanked(out, report)
    report.rows_kept = len(out)
    log.info("%s: %s, %d of %d rows kept", name, fmt, report.rows_kept, report.rows_read)
    return out, report


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
    ok = lat.notna() & lon.notna() & lat.ne(-999) & lon.ne(-999)
    if not ok.any():
        return
    la, lo = lat[ok].to_numpy(), lon[ok].to_numpy()
    half = len(la) / 2
    impossible = (np.abs(la) > 90) & (np.abs(lo) <= 90)

    def in_sa(x, y):
        return (x >= _SA_LON[0]) & (x <= _SA_LON[1]) & (y >= _SA_LAT[0]) & (y <= _SA_LAT[1])

    flipped = ~in_sa(lo, la) & in_sa(la, lo)
    if impossible.sum() > half or flipped.sum() > half:
        raise DataError(f"latitude and longitude look swapped: most rows have latitude values "
                        f"like {la[0]:g} and longitude like {lo[0]:g}; check the column order",
                        file=file, column=fields["lat"])


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
        in_brazil = map_unique(col["country"], lambda c: normalise_name(c) in _BRASIL | {""}).eq(True)
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
