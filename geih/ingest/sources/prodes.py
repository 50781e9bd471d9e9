"""PRODES yearly deforestation increments (INPE), current or older field names, any vector format.

Returns a GeoDataFrame in EPSG:4326 with ``year`` (PRODES year, int64; a PRODES year runs 1 August to
31 July and is named by the year it ends in), ``area_km2`` (float64), ``image_date`` (datetime64[ns],
NaT when absent), ``state`` (UF or NaN) and geometry.

Field names (case-insensitive): current ``main_class, year, area_km, image_date, state``; older
``mainclass, year, areakm, view_date, uf``. Rules (counted in the CleaningReport):

- only deforestation is kept: when a ``main_class``/``mainclass`` column exists, rows whose value is not
  ``desmatamento`` (case-insensitive) are dropped (``dropped_not_deforestation``);
- ``year`` is required; older files store it as float (``2019.0``): converted to int. A missing,
  non-integer or implausible (< 1988 or > 2100) year raises DataError naming the feature;
- area: ``area_km``/``areakm``; where absent, empty or <= 0 it is computed from the geometry in
  EPSG:5880 (``area_from_geometry``);
- ``image_date``/``view_date`` that does not parse -> NaT (``nan_image_date_invalid``);
- the vector rules of `geih.ingest.sources.vectors` (reprojection, empty geometries dropped, invalid polygons
  repaired, non-polygon features -> DataError).

GeoJSON, GeoPackage and FlatGeobuf files are read through GDAL's Arrow interface when the fields used
come out as the plain reader gives them (`_read_fast`); otherwise, and for Shapefiles, the plain way.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from geih.errors import DataError
from geih.ingest.sources.cleaning import CleaningReport
from geih.ingest.sources.states import uf_series
from geih.ingest.sources.vectors import check_geometry, read_gdf

log = logging.getLogger(__name__)

METRIC_CRS = "EPSG:5880"
_FIELDS = {
    "class": ("main_class", "mainclass"),
    "year": ("year",),
    "area": ("area_km", "areakm", "area_km2"),
    "date": ("image_date", "view_date"),
    "state": ("state", "uf"),
}
_ARROW_SUFFIXES = frozenset({".geojson", ".json", ".gpkg", ".fgb"})  # UTF-8 formats: see _read_fast
_CURRENT_MARKERS = {"main_class", "area_km", "image_date", "publish_year", "path_row"}
_OLDER_MARKERS = {"mainclass", "areakm", "view_date", "pathrow", "uf"}


def detect_prodes_format(columns) -> str | None:
    """'prodes_current', 'prodes_older', or None when the fields look like neither."""
    lower = {c.lower() for c in columns}
    if "year" not in lower:
        return None
    if lower & _CURRENT_MARKERS:
        return "prodes_current"
    if lower & _OLDER_MARKERS:
        return "prodes_older"
    return None


def read_prodes(path: str | Path) -> tuple[pd.DataFrame, CleaningReport]:
    """Read one PRODES vector file into the canonical deforestation GeoDataFrame (see module docstring)."""
    import geopandas as gpd

    report = CleaningReport(file=str(path), format="prodes")
    gdf, col = _read_fast(path, report)
    if gdf is None:
        gdf = read_gdf(path, report)
        col = _columns(gdf)
    lower = {c.lower(): c for c in gdf.columns if c != "geometry"}
    report.format = detect_prodes_format(lower) or "prodes"
    if col["year"] is None:
        raise DataError(f"missing required column 'year' (fields present: {sorted(lower.values())})",
                        file=report.file, column="year")
    if col["class"] is not None:
        cls = gdf[col["class"]].astype("str").str.strip().str.lower()
        keep = cls.eq("desmatamento").to_numpy()
        report.add("dropped_not_deforestation", int((~keep).sum()))
        gdf = gdf.loc[keep]
    gdf = check_geometry(gdf, "polygon", report)

    year = _year(gdf[col["year"]], col["year"], report.file)
    area = _area(gdf, col["area"], report)
    if col["date"] is not None:
        text = gdf[col["date"]]
        date = pd.to_datetime(text.astype("str").str.strip().str.replace("/", "-", regex=False),
                              format="ISO8601", errors="coerce", utc=True).dt.tz_localize(None)
        report.add("nan_image_date_invalid", int((date.isna() & text.notna()
                                                   & text.astype("str").str.strip().ne("")).sum()))
    else:
        date = pd.Series(pd.NaT, index=gdf.index)
    state = uf_series(gdf[col["state"]]) if col["state"] is not None else pd.Series(np.nan, index=gdf.index)
    out = gpd.GeoDataFrame({
        "year": year.to_numpy(), "area_km2": area.to_numpy(),
        "image_date": date.astype("datetime64[ns]").to_numpy(),
        "state": pd.array(state.to_numpy(), dtype="str"),
    }, geometry=gdf.geometry.to_numpy(), crs=gdf.crs)
    report.rows_kept = len(out)
    log.debug("%s: %s, %d deforestation polygons", report.file, report.format, len(out))
    return out, report


def _columns(gdf) -> dict[str, str | None]:
    """The file's column for each field of `_FIELDS` (case-insensitive), or None."""
    lower = {c.lower(): c for c in gdf.columns if c != "geometry"}
    return {k: next((lower[c] for c in cands if c in lower), None) for k, cands in _FIELDS.items()}


def _read_fast(path: str | Path, report: CleaningReport):
    """`read_gdf` through GDAL's Arrow interface, when it gives the columns read_prodes uses exactly
    as the plain reader does; else (None, None) and the caller reads the plain way.

    Only for formats whose text is UTF-8 by definition (not Shapefiles, whose encoding varies). The
    two readers differ in some attribute dtypes: a date field comes as ``datetime.date`` objects
    (converted here to datetime64[ms], as the plain reader gives), a field with no value at all or of
    another type may differ too: then the fast read is not used.
    """
    import datetime

    if Path(path).suffix.lower() not in _ARROW_SUFFIXES:
        return None, None
    trial = CleaningReport(file=report.file, format=report.format)
    try:
        gdf = read_gdf(path, trial, use_arrow=True)
        for name in gdf.columns:  # text that is not valid UTF-8 only fails later: check it now
            array = getattr(gdf[name].array, "_pa_array", None)
            if array is not None:
                array.validate(full=True)
    except Exception:  # the plain read raises the DataError (or reads what Arrow cannot)
        return None, None
    col = _columns(gdf)
    for key, name in col.items():
        if name is None:
            continue
        values = gdf[name]
        dtype = values.dtype
        if pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_float_dtype(dtype) \
                or pd.api.types.is_datetime64_dtype(dtype):
            continue
        present = values.dropna()
        if len(values) and not len(present):  # all missing: the plain reader may type it otherwise
            return None, None
        if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
            continue
        if key == "date" and pd.api.types.is_object_dtype(dtype) and all(type(v) is datetime.date for v in present):
            gdf[name] = pd.Series(
                np.array([np.datetime64("NaT") if pd.isna(v) else np.datetime64(v, "ms") for v in values],
                         dtype="datetime64[ms]"), index=gdf.index)
            continue
        return None, None
    report.__dict__.update(trial.__dict__)
    return gdf, col


def _year(values: pd.Series, column: str, file: str) -> pd.Series:
    """int64 PRODES year; DataError naming the first feature that is missing or not a year."""
    num = pd.to_numeric(values.astype("str").str.strip(), errors="coerce") \
        if not pd.api.types.is_numeric_dtype(values.dtype) else values.astype("float64")
    bad = num.isna() | (num % 1 != 0) | (num < 1988) | (num > 2100)
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"feature {values.index[pos]}: {values.iloc[pos]!r} is not a PRODES year",
                        file=file, column=column)
    return num.astype("int64")


def _area(gdf, column: str | None, report: CleaningReport) -> pd.Series:
    """Area in km² from the file, filled from the geometry (EPSG:5880) where absent or not positive."""
    if column is not None and pd.api.types.is_numeric_dtype(gdf[column].dtype):
        area = gdf[column].astype("float64")
    elif column is not None:
        area = pd.to_numeric(gdf[column].astype("str").str.strip(), errors="coerce")
    else:
        area = pd.Series(np.nan, index=gdf.index)
    fill = ~(area > 0)
    if fill.any():
        computed = gdf.geometry[fill].to_crs(METRIC_CRS).area / 1e6
        area = area.where(~fill, computed)
        report.add("area_from_geometry", int(fill.sum()))
    return area


# ---------------------------------------------------------------- official yearly increments (tables)

INCREMENT_LEVELS = ("state", "municipality", "conservation_unit")
_INCREMENT_COLUMNS: dict[str, tuple[str, ...]] = {  # field -> header keys (letters and digits, lower case)
    "year": ("year", "ano"),
    "area": ("areakm", "areakm2", "area", "areakmsup2"),
    "state": ("uf", "state", "estado", "siglauf"),
    "municipality": ("municipality", "municipio", "nomemunic", "nmmun"),
    "geocode": ("geocodeibge", "geocodigo", "codibge", "cdmun", "geocode"),
    "consunit": ("consunit", "uc", "unidadeconservacao"),
}


def _header_key(name: str) -> str:
    """A header name as letters and digits only (accents removed, ``²`` read as 2): ``area km²`` ->
    ``areakm2``."""
    from geih.ingest.sources.states import normalise_name

    return "".join(c for c in normalise_name(name).lower() if c.isalnum())


def increment_columns(header) -> dict[str, str]:
    """Field -> column (as in `header`, lower-cased) of an official PRODES increments table; empty
    when the header is not one (a year, an area and a state, municipality or conservation-unit column)."""
    keys = {_header_key(h): h.strip().lower() for h in header}
    found = {field: keys[k] for field, cands in _INCREMENT_COLUMNS.items() for k in cands if k in keys}
    found = {field: found[field] for field in _INCREMENT_COLUMNS if field in found}
    if not ({"year", "area"} <= set(found) and set(found) & {"state", "municipality", "geocode", "consunit"}):
        return {}
    return found


def read_prodes_increments(path: str | Path) -> tuple[pd.DataFrame, CleaningReport]:
    """Official PRODES yearly increments exported from TerraBrasilis (``year;areakm;uf``,
    ``year;areakm;municipality;geocode_ibge;state``, ``year;area km²;consunit``), the aggregate
    reference prepare@deforestation compares its clearing with.

    Returns ``year`` (int64), ``area_km2`` (float64), ``state`` (UF, NaN for conservation units),
    ``level`` ('state', 'municipality' or 'conservation_unit'), ``name`` (str). Semicolons, decimal
    commas and thousands dots are read (`geih.ingest.sources.tabular`). Rules: rows without a year or an
    area are dropped (``dropped_missing_value``); a year that is not an integer 1988-2100, a negative or
    non-numeric area, or a state (name, UF or IBGE code; for municipalities the 7-digit geocode first)
    that names no Brazilian state raises DataError naming the row and column.
    """
    from geih.ingest.sources import tabular as tab
    from geih.ingest.sources.states import uf_from_text

    path = Path(path)
    report = CleaningReport(file=str(path), format="prodes_increments")
    header, _ = tab.read_header(path)
    columns = increment_columns(header)
    if not columns:
        raise DataError("not an official PRODES increments table: expected a year, an area (areakm / "
                        "area km²) and a uf, municipality/geocode_ibge or consunit column "
                        f"(columns present: {header})", file=report.file, row=1, column="areakm")
    table, rows = tab.read_csv_table(path, report, as_strings=True)
    level = ("conservation_unit" if "consunit" in columns
             else "municipality" if {"municipality", "geocode"} & set(columns) else "state")
    report.format = f"prodes_increments_{level}"
    year = tab.to_float(table.column(columns["year"]), columns["year"], report.file, rows)
    area = tab.to_float(table.column(columns["area"]), columns["area"], report.file, rows)
    missing = np.isnan(year) | np.isnan(area)
    report.add("dropped_missing_value", int(missing.sum()))
    with np.errstate(invalid="ignore"):
        bad_year = ~missing & ((year % 1 != 0) | (year < 1988) | (year > 2100))
        bad_area = ~missing & (area < 0)
    for bad, field, what in ((bad_year, "year", "not a PRODES year"), (bad_area, "area", "a negative area")):
        if bad.any():
            pos = tab.first_row(bad)
            raise DataError(f"{table.column(columns[field])[pos].as_py()!r} is {what}", file=report.file,
                            row=rows(pos), column=columns[field])
    state = np.full(table.num_rows, None, dtype=object)
    for field in ("geocode", "state"):  # the geocode names the state first; the state column fills the rest
        if field not in columns or level == "conservation_unit":
            continue
        text = table.column(columns[field]).to_pylist()
        mapped = np.array([uf_from_text(t) if t and t.strip() else None for t in text], dtype=object)
        unknown = np.array([bool(t and t.strip()) for t in text]) & np.equal(mapped, None) & ~missing
        if unknown.any() and not (field == "geocode" and "state" in columns):
            pos = tab.first_row(unknown)
            raise DataError(f"{text[pos]!r} names no Brazilian state", file=report.file, row=rows(pos),
                            column=columns[field])
        state = np.where(np.equal(state, None), mapped, state)
    if level != "conservation_unit" and (np.equal(state, None) & ~missing).any():
        pos = tab.first_row(np.equal(state, None) & ~missing)
        column = columns.get("state", columns.get("geocode", columns.get("municipality")))
        raise DataError("no state for this row (empty state and geocode)", file=report.file, row=rows(pos),
                        column=column)
    name_field = {"state": "state", "municipality": "municipality", "conservation_unit": "consunit"}[level]
    names = table.column(columns.get(name_field, columns.get("geocode", columns["year"]))).to_pylist()
    keep = ~missing
    out = pd.DataFrame({
        "year": year[keep].astype(np.int64), "area_km2": area[keep],
        "state": pd.array(state[keep], dtype="str"),
        "level": pd.array(np.full(int(keep.sum()), level, dtype=object), dtype="str"),
        "name": pd.array(np.array([(n or "").strip() for n in names], dtype=object)[keep], dtype="str"),
    })
    report.rows_kept = len(out)
    if len(out):
        report.period = (str(int(out["year"].min())), str(int(out["year"].max())))
    return out, report
