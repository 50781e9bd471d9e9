"""`geih data validate`: read files with the pipeline's own loaders and summarise what they hold.

`validate_path` accepts one file or a directory (searched recursively: the raw layout or loose
files). The kind of each file comes from the nearest enclosing folder named like a raw sub-folder
(``hotspots/``, ``weather/``, ...), else from its content: a CSV/Parquet header (hotspot layouts,
``classification_YYYY`` columns, weather or vegetation-index columns, an official PRODES increments
table), a GeoTIFF (MapBiomas land cover) or a vector's fields and geometry type (PRODES fields ->
deforestation, a state or municipality code column -> states, other polygons -> boundary, lines ->
roads, points -> settlements). Files under a ``truth/`` folder (evaluation answers, not raw data),
hidden files and Shapefile side-cars are skipped; other files with an unknown extension, and ``.json``
files that are not GeoJSON, are listed as ``ignored``. The first unrecoverable problem raises DataError.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geih.errors import DataError
from geih.ingest.sources import tabular as tab
from geih.ingest.sources.folder import KIND_SUFFIXES, SIDECAR_SUFFIXES, TABLE_SUFFIXES, VECTOR_SUFFIXES, reader_for
from geih.ingest.sources.landcover import RASTER_SUFFIXES
from geih.ingest.sources.vectors import looks_like_geojson

log = logging.getLogger(__name__)

SKIPPED_FOLDERS = frozenset({"truth"})


@dataclass
class FileSummary:
    """What one file holds, as read by its loader."""

    file: str
    kind: str
    format: str
    rows: int = 0
    rows_read: int = 0
    date_min: str | None = None
    date_max: str | None = None
    bbox: tuple[float, float, float, float] | None = None  # lon_min, lat_min, lon_max, lat_max
    dropped: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    encoding: str = "utf-8"
    notes: list[str] = field(default_factory=list)


def validate_path(path: str | Path) -> list[FileSummary]:
    """Summaries of every data file at `path` (a file or a directory), in sorted path order."""
    path = Path(path)
    if not path.exists():
        raise DataError("no such file or folder", file=str(path))
    if path.is_file():
        return [_summarise(path, _kind_from_folders([path.parent.name]) or detect_kind(path))]
    summaries = []
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = file.relative_to(path)
        if any(part.startswith(".") for part in rel.parts) or file.suffix.lower() in SIDECAR_SUFFIXES:
            continue
        folders = (path.name, *rel.parts[:-1])
        if SKIPPED_FOLDERS & set(rel.parts[:-1]):
            continue
        if file.suffix.lower() not in (*TABLE_SUFFIXES, *VECTOR_SUFFIXES, *RASTER_SUFFIXES):
            summaries.append(FileSummary(file=str(file), kind="ignored", format="-",
                                         notes=["not a data file"]))
            continue
        if file.suffix.lower() == ".json" and not looks_like_geojson(file):
            summaries.append(FileSummary(file=str(file), kind="ignored", format="-",
                                         notes=["JSON, not GeoJSON"]))
            continue
        kind = _kind_from_folders(folders) or detect_kind(file)
        summaries.append(_summarise(file, kind))
    if not summaries:
        raise DataError("no data files found", file=str(path))
    return summaries


def _kind_from_folders(folders) -> str | None:
    """The kind named by the nearest enclosing folder, if any."""
    for name in reversed(list(folders)):
        if name in KIND_SUFFIXES:
            return name
    return None


def detect_kind(path: Path) -> str:
    """Kind of a loose file from its header (tables) or fields and geometry (vectors)."""
    suffix = path.suffix.lower()
    if suffix in VECTOR_SUFFIXES:
        return _vector_kind(path)
    if suffix in RASTER_SUFFIXES:
        return "landcover"
    if suffix == ".csv":
        from geih.ingest.sources.hotspots import detect_csv_format
        from geih.ingest.sources.prodes import increment_columns

        header, _ = tab.read_header(path)
        columns = [h.lower() for h in header]
        try:
            detect_csv_format(header)
            return "hotspots"
        except DataError:
            pass
        if increment_columns(header):
            return "prodes_increments"
    elif suffix == ".parquet":
        columns = tab.parquet_columns(path)
    else:
        raise DataError(f"unknown file type {suffix!r}", file=str(path))
    present = set(columns)
    if any(c.startswith("classification_") for c in present):
        return "landcover"
    if {"precip_mm", "tmax_c", "rhmin_pct"} & present:
        return "weather"
    if {"ndvi", "evi"} & present:
        return "vegetation_index"
    raise DataError(f"cannot tell what data this is from its columns {sorted(present)[:10]}: put it in a "
                    f"folder named after its kind ({', '.join(KIND_SUFFIXES)})", file=str(path))


def _vector_kind(path: Path) -> str:
    import pyogrio

    from geih.ingest.sources.prodes import detect_prodes_format
    from geih.ingest.sources.vectors import STATE_ID_COLUMNS, STATE_UF_COLUMNS

    try:
        info = pyogrio.read_info(path)
    except Exception as exc:  # GDAL errors come in several types
        raise DataError(f"cannot read vector file: {exc}", file=str(path)) from None
    fields = {str(f).lower() for f in info["fields"]}
    geometry = str(info.get("geometry_type") or "")
    if detect_prodes_format(fields):
        return "deforestation"
    if not any(t in geometry for t in ("Polygon", "LineString", "Point")):  # mixed or unknown: look
        try:
            types = pyogrio.read_dataframe(path, columns=[]).geometry.dropna().geom_type
        except Exception as exc:
            raise DataError(f"cannot read vector file: {exc}", file=str(path)) from None
        geometry = " ".join(sorted(set(types)))
    if "Polygon" in geometry:
        return "states" if fields & {*STATE_ID_COLUMNS, *STATE_UF_COLUMNS} - {"id"} \
            or ("id" in fields and _ibge_ids(path)) else "boundary"
    if "LineString" in geometry:
        return "roads"
    if "Point" in geometry:
        return "settlements"
    raise DataError(f"cannot tell what data this is (geometry type {geometry or 'unknown'})",
                    file=str(path))


def _ibge_ids(path: Path) -> bool:
    """True when a vector's ``id`` field holds 7-digit IBGE municipality codes."""
    import pyogrio

    try:
        frame = pyogrio.read_dataframe(path, read_geometry=False)
    except Exception as exc:  # GDAL errors come in several types
        raise DataError(f"cannot read vector file: {exc}", file=str(path)) from None
    column = next(c for c in frame.columns if c.lower() == "id")
    return bool(len(frame)) and frame[column].astype("str").str.fullmatch(r"\d{7}").all()


def _summarise(path: Path, kind: str) -> FileSummary:
    """Read one file with its kind's loader and summarise the result."""
    frame, report = reader_for(kind)(path)
    summary = FileSummary(file=str(path), kind=kind, format=report.format, rows=report.rows_kept,
                          rows_read=report.rows_read, dropped=report.dropped, counts=dict(report.counts),
                          encoding=report.encoding, notes=list(report.notes))
    summary.date_min, summary.date_max = _date_range(frame, kind)
    if summary.date_min is None and report.period:
        summary.date_min, summary.date_max = report.period
    summary.bbox = _bbox(frame)
    return summary


def _date_range(frame: pd.DataFrame, kind: str) -> tuple[str | None, str | None]:
    column = {"hotspots": "datetime", "weather": "date", "vegetation_index": "date",
              "deforestation": "image_date"}.get(kind)
    if column and column in frame and frame[column].notna().any():
        fmt = "%Y-%m-%d %H:%M" if kind == "hotspots" else "%Y-%m-%d"
        return frame[column].min().strftime(fmt), frame[column].max().strftime(fmt)
    if "year" in frame and len(frame):
        return str(int(frame["year"].min())), str(int(frame["year"].max()))
    return None, None


def _bbox(frame: pd.DataFrame) -> tuple[float, float, float, float] | None:
    if len(frame) == 0:
        return None
    if hasattr(frame, "total_bounds") and "geometry" in frame:
        b = frame.total_bounds
        return tuple(float(x) for x in b) if np.isfinite(b).all() else None
    if {"lat", "lon"} <= set(frame.columns):
        return (float(frame["lon"].min()), float(frame["lat"].min()),
                float(frame["lon"].max()), float(frame["lat"].max()))
    return None


def format_summaries(summaries: list[FileSummary]) -> str:
    """A plain-text table of summaries, one line per file, then notes."""
    header = ["file", "kind", "format", "rows", "dates", "bbox (lon/lat)", "dropped"]
    lines = []
    for s in summaries:
        dates = f"{s.date_min} .. {s.date_max}" if s.date_min else "-"
        bbox = (f"{s.bbox[0]:.2f},{s.bbox[1]:.2f} .. {s.bbox[2]:.2f},{s.bbox[3]:.2f}" if s.bbox else "-")
        dropped = ", ".join(f"{k} {v}" for k, v in s.dropped.items()) or "-"
        rows = f"{s.rows}/{s.rows_read}" if s.rows != s.rows_read else str(s.rows)
        lines.append([s.file, s.kind, s.format, rows, dates, bbox, dropped])
    widths = [max(len(str(r[i])) for r in [header, *lines]) for i in range(len(header))]

    def fmt(row) -> str:
        return "  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip()

    out = [fmt(header), fmt(["-" * w for w in widths]), *(fmt(r) for r in lines)]
    notes = [(s.file, n) for s in summaries for n in
             [*s.notes, *(f"{k} {v}" for k, v in s.counts.items() if not k.startswith("dropped_"))]]
    if notes:
        out += ["", "notes:"] + [f"  {f}: {n}" for f, n in notes]
    return "\n".join(out)
