"""Vector files (GeoJSON, GeoPackage, Shapefile, anything pyogrio reads) in EPSG:4326.

Rules shared by every vector loader (counted in the CleaningReport):

- unreadable or empty (0-byte) file -> DataError; a GeoPackage with several layers: the first is
  read and a note names it (formats with one layer only, such as GeoJSON, are not opened twice);
- no CRS: assumed EPSG:4326 when the coordinates fit in degrees (noted), else DataError; any other CRS
  is reprojected to EPSG:4326;
- features with no or empty geometry are dropped (``dropped_empty_geometry``); invalid polygons are
  repaired with shapely.make_valid (``repaired_geometry``);
- a feature whose geometry type differs from the expected one raises DataError naming it
  (feature numbers count from 1 in file order).

GeoJSON is read whatever its extension: ``.geojson`` or ``.json`` (IBGE's mesh API returns
``.json``, minified, EPSG:4674, which is reprojected like any other CRS and noted).

`read_states` matches each feature to a state, giving ``state`` (UF), ``state_id`` (IBGE int) and
geometry. The first column, in this order, that names a state for every feature is used: an IBGE code
(``codarea``, ``CD_UF``, ``estado_id``, ``GEOCODIGO``, ``CD_MUN``, a 7-digit ``id``; a 6/7-digit
municipality code gives its state), a UF or state name (``SIGLA_UF``, ``sigla``, ``uf``, ``estado``;
names in any case, accents optional) or a name column (``NM_UF``, ``nome``, ``name``). When several
features belong to one state (a municipality mesh) their polygons are dissolved into one per state
(``dissolved_features`` counts the features merged away, noted).
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np

from geih.errors import DataError
from geih.ingest.sources.cleaning import CleaningReport
from geih.ingest.sources.states import UF_TO_ID, uf_from_text

log = logging.getLogger(__name__)

WGS84 = "EPSG:4326"
GEOMETRY_TYPES: dict[str, tuple[str, ...]] = {
    "polygon": ("Polygon", "MultiPolygon"),
    "line": ("LineString", "MultiLineString", "LinearRing"),
    "point": ("Point", "MultiPoint"),
}
STATE_ID_COLUMNS = ("codarea", "estado_id", "cd_uf", "cod_uf", "codigo_uf", "geocodigo", "cd_mun", "id")
STATE_UF_COLUMNS = ("sigla_uf", "sigla", "uf", "state", "estado")
_SINGLE_LAYER_SUFFIXES = frozenset({".geojson", ".json", ".shp", ".fgb"})
_STATE_NAME_COLUMNS = ("nm_uf", "nome", "name", "nome_uf", "nm_estado")
_GEOJSON_MARKERS = (b'"feature', b'"geometry', b'"coordinates')


def looks_like_geojson(path: str | Path) -> bool:
    """True when a ``.json``/``.geojson`` file's first 64 KiB read like GeoJSON (features, geometry)."""
    try:
        with Path(path).open("rb") as fh:
            head = fh.read(1 << 16).lower()
    except OSError:
        return False
    return head.lstrip()[:1] == b"{" and any(marker in head for marker in _GEOJSON_MARKERS)


def read_gdf(path: str | Path, report: CleaningReport, use_arrow: bool = False):
    """Read a vector file to a GeoDataFrame in EPSG:4326 (no geometry-type check).

    The index holds feature numbers (1-based, file order) for messages; callers reset it.
    `use_arrow` reads through GDAL's Arrow interface (faster; attribute dtypes can differ: dates come
    as ``datetime.date`` objects, see `geih.ingest.sources.prodes`).
    """
    import geopandas as gpd
    import pyogrio

    path = Path(path)
    name = str(path)
    if not path.exists():
        raise DataError("file not found", file=name)
    if path.is_file() and path.stat().st_size == 0:
        raise DataError("file is empty (0 bytes)", file=name)
    try:
        # formats that hold one layer only are not opened twice (GeoJSON is parsed whole on opening)
        layers = [] if path.suffix.lower() in _SINGLE_LAYER_SUFFIXES and path.is_file() \
            else pyogrio.list_layers(path)
        layer = None
        if len(layers) > 1:
            layer = str(layers[0][0])
            report.note(f"{len(layers)} layers: read the first, {layer!r}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            gdf = gpd.read_file(path, engine="pyogrio", layer=layer, use_arrow=use_arrow)
    except Exception as exc:  # pyogrio/GDAL raise several types for unreadable input
        raise DataError(f"cannot read vector file: {exc}", file=name) from None
    if "geometry" not in gdf or not isinstance(gdf, gpd.GeoDataFrame):
        raise DataError("file has no geometry column", file=name, column="geometry")
    report.rows_read = len(gdf)
    if len(gdf) == 0:
        report.note("no features")
    gdf = _to_wgs84(gdf, report)
    gdf.index = np.arange(1, len(gdf) + 1)  # feature numbers, for messages
    empty = gdf.geometry.isna() | gdf.geometry.is_empty
    report.add("dropped_empty_geometry", int(empty.sum()))
    return gdf.loc[~empty.to_numpy()]


def _to_wgs84(gdf, report: CleaningReport):
    """Reproject to EPSG:4326; a missing CRS is assumed WGS84 if the coordinates are degrees."""
    if gdf.crs is None:
        if len(gdf) and not gdf.geometry.isna().all():
            minx, miny, maxx, maxy = gdf.total_bounds
            if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
                raise DataError("file has no CRS and its coordinates are not degrees "
                                f"(bounds {minx:.0f}, {miny:.0f}, {maxx:.0f}, {maxy:.0f})", file=report.file)
        report.note("no CRS in file: assumed EPSG:4326")
        return gdf.set_crs(WGS84)
    if gdf.crs.to_epsg() != 4326:
        report.note(f"reprojected from {gdf.crs.to_string()} to EPSG:4326")
        return gdf.to_crs(WGS84)
    return gdf


def check_geometry(gdf, expected: str, report: CleaningReport):
    """DataError for a feature of another geometry type; repair invalid polygons (counted)."""
    import shapely

    if expected not in GEOMETRY_TYPES:
        raise ValueError(f"expected must be one of {sorted(GEOMETRY_TYPES)}, got {expected!r}")
    allowed = GEOMETRY_TYPES[expected]
    types = gdf.geometry.geom_type.to_numpy()
    wrong = ~np.isin(types, allowed)
    if wrong.any():
        pos = int(np.flatnonzero(wrong)[0])
        number = int(gdf.index[pos])
        raise DataError(f"feature {number} is a {types[pos]}, expected {expected} geometries "
                        f"({'/'.join(allowed)})", file=report.file, column="geometry")
    if expected == "polygon" and len(gdf):
        invalid = ~gdf.geometry.is_valid.to_numpy()
        if invalid.any():
            geoms = gdf.geometry.to_numpy().copy()
            geoms[invalid] = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
            gdf = gdf.set_geometry(geoms, crs=gdf.crs)
            report.add("repaired_geometry", int(invalid.sum()))
    return gdf


def read_vector_report(path: str | Path, expected: str):
    """`read_vector` plus its CleaningReport."""
    report = CleaningReport(file=str(path), format=f"vector:{Path(path).suffix.lstrip('.').lower()}")
    gdf = check_geometry(read_gdf(path, report), expected, report)
    gdf = gdf.reset_index(drop=True)
    report.rows_kept = len(gdf)
    return gdf, report


def read_vector(path: str | Path, expected: str):
    """GeoDataFrame (EPSG:4326) of `expected` geometries ('polygon', 'line' or 'point'), all attributes kept.

    Wrong geometry type or an unreadable file -> DataError.
    """
    return read_vector_report(path, expected)[0]


def read_states_report(path: str | Path):
    """`read_states` plus its CleaningReport."""
    import geopandas as gpd

    report = CleaningReport(file=str(path), format="states")
    gdf = check_geometry(read_gdf(path, report), "polygon", report)
    source, uf = _state_of_features(gdf, report.file)
    if uf.duplicated().any():
        merged = gpd.GeoDataFrame({"state": uf.to_numpy()}, geometry=gdf.geometry.to_numpy(), crs=gdf.crs)
        merged = merged.dissolve(by="state", sort=False, as_index=False)
        report.add("dissolved_features", len(gdf) - len(merged))
        report.note(f"{len(gdf)} features ({source}) dissolved into {len(merged)} states")
        uf, geometry = merged["state"], merged.geometry.to_numpy()
    else:
        geometry = gdf.geometry.to_numpy()
    out = gpd.GeoDataFrame({"state": uf.astype("str").to_numpy(),
                            "state_id": uf.map(UF_TO_ID).astype("int64").to_numpy()},
                           geometry=geometry, crs=gdf.crs)
    report.rows_kept = len(out)
    return out, report


def _state_of_features(gdf, file: str):
    """(column, UF per feature) from the first column, in the documented order, that names a state
    for every feature; DataError naming the first column and feature that does not when none does."""
    lower = {c.lower(): c for c in gdf.columns if c != "geometry"}
    candidates = [lower[c] for c in (*STATE_ID_COLUMNS, *STATE_UF_COLUMNS, *_STATE_NAME_COLUMNS) if c in lower]
    if not candidates:
        raise DataError("no state code column: expected one of codarea, CD_UF, GEOCODIGO, CD_MUN, uf, sigla, "
                        f"nome (columns present: {sorted(lower.values())})", file=file, column="codarea")
    first_bad = None
    for column in candidates:
        values = gdf[column]
        if column.lower() == "id" and not values.astype("str").str.fullmatch(r"\d{7}").all():
            continue  # a plain feature number, not an IBGE municipality code
        uf = values.map(uf_from_text)
        bad = uf.isna().to_numpy()
        if not bad.any():
            return column, uf.reset_index(drop=True)
        if first_bad is None:
            first_bad = (column, int(np.flatnonzero(bad)[0]))
    if first_bad is None:
        column = candidates[0]
        raise DataError(f"column {column!r} holds no IBGE municipality codes (7 digits)", file=file, column=column)
    column, pos = first_bad
    raise DataError(f"feature {gdf.index[pos]}: unknown state code {gdf[column].iloc[pos]!r}",
                    file=file, column=column)


def read_states(path: str | Path):
    """GeoDataFrame ``state`` (UF), ``state_id`` (IBGE code), geometry, in EPSG:4326."""
    return read_states_report(path)[0]
