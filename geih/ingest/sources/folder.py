"""Read every file of one raw-data sub-folder (docs/data-layout.md) and concatenate the results.

Files are found recursively and read in sorted path order, so the result does not depend on the file
system. Hidden files (name starting with '.') and Shapefile side-cars (.dbf, .shx, .prj, ...) are
skipped silently; files with another unexpected extension, and ``.json`` files that are not GeoJSON,
are skipped with a warning. Vector files: ``.geojson``, ``.json`` (GeoJSON), ``.gpkg``, ``.shp``,
``.fgb``; tables: ``.parquet``, ``.csv``; hotspots: ``.csv``; land cover: tables or GeoTIFF
(``.tif``/``.tiff``); official PRODES increments: ``.csv``.

Hotspot CSVs are read two at a time (`READ_THREADS`; pyarrow releases the GIL) and taken in sorted
order, so that the first bad file is the one reported; files of one layout are then cleaned together
(`geih.ingest.sources.hotspots.read_hotspot_files`), with one report per file as before.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from geih.domain.grid import Grid
from geih.errors import DataError
from geih.ingest.sources.cleaning import CleaningReport
from geih.ingest.sources.landcover import RASTER_SUFFIXES
from geih.ingest.sources.vectors import looks_like_geojson

log = logging.getLogger(__name__)

VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".fgb")
TABLE_SUFFIXES = (".parquet", ".csv")
SIDECAR_SUFFIXES = frozenset({".dbf", ".shx", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".xml", ".qmd",
                              ".aux", ".ovr"})


def _vector(expected: str) -> Callable:
    def read(path: Path):
        from geih.ingest.sources.vectors import read_vector_report
        return read_vector_report(path, expected)
    return read


def reader_for(kind: str, grid: Grid | None = None) -> Callable[[Path], tuple[pd.DataFrame, CleaningReport]]:
    """The loader function for a kind (imported lazily); land-cover rasters are counted per cell of
    `grid` (see `geih.ingest.sources.landcover`)."""
    if kind == "hotspots":
        from geih.ingest.sources.hotspots import read_hotspots
        return read_hotspots
    if kind == "weather":
        from geih.ingest.sources.tables import read_weather
        return read_weather
    if kind == "vegetation_index":
        from geih.ingest.sources.tables import read_vegetation_index
        return read_vegetation_index
    if kind == "landcover":
        from geih.ingest.sources.landcover import read_landcover
        return functools.partial(read_landcover, grid=grid)
    if kind == "deforestation":
        from geih.ingest.sources.prodes import read_prodes
        return read_prodes
    if kind == "prodes_increments":
        from geih.ingest.sources.prodes import read_prodes_increments
        return read_prodes_increments
    if kind == "states":
        from geih.ingest.sources.vectors import read_states_report
        return read_states_report
    return _vector({"roads": "line", "settlements": "point", "boundary": "polygon"}[kind])


READ_THREADS = 2  # hotspot CSVs read at once by load_folder

KIND_SUFFIXES: dict[str, tuple[str, ...]] = {
    "hotspots": (".csv",),
    "weather": TABLE_SUFFIXES,
    "vegetation_index": TABLE_SUFFIXES,
    "landcover": TABLE_SUFFIXES + RASTER_SUFFIXES,
    "deforestation": VECTOR_SUFFIXES,
    "prodes_increments": (".csv",),
    "roads": VECTOR_SUFFIXES,
    "settlements": VECTOR_SUFFIXES,
    "boundary": VECTOR_SUFFIXES,
    "states": VECTOR_SUFFIXES,
}
KINDS = tuple(KIND_SUFFIXES)


def data_files(folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """Files under `folder` (recursively, sorted) with one of `suffixes`; others skipped."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts):
            continue
        suffix = path.suffix.lower()
        if suffix == ".json" and suffix in suffixes and not looks_like_geojson(path):
            log.warning("skipping %s: JSON but not GeoJSON", path)
        elif suffix in suffixes:
            found.append(path)
        elif suffix not in SIDECAR_SUFFIXES:
            log.warning("skipping %s: not a %s file", path, "/".join(suffixes))
    return found


def folder_files(folder: Path, kind: str) -> list[Path]:
    """The data files of raw sub-folder `folder` holding data of `kind` (see `data_files`); DataError naming
    the folder when it is missing or has none."""
    if kind not in KIND_SUFFIXES:
        raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
    if not folder.is_dir():
        raise DataError(f"missing folder for {kind} data", file=str(folder))
    files = data_files(folder, KIND_SUFFIXES[kind])
    if not files:
        raise DataError(f"folder has no {kind} files (expected {', '.join(KIND_SUFFIXES[kind])})",
                        file=str(folder))
    return files


def load_folder(folder: str | Path, kind: str, grid: Grid | None = None) -> tuple[pd.DataFrame, list[CleaningReport]]:
    """Read and concatenate every file of raw sub-folder `folder` holding data of `kind`.

    Returns the canonical frame of that kind (a GeoDataFrame for vector kinds) and one CleaningReport
    per file. A missing folder, or one without a readable file, raises DataError naming it. `grid`:
    the analysis grid land-cover rasters are counted on.
    """
    from tqdm import tqdm

    files = folder_files(Path(folder), kind)
    reader = reader_for(kind, grid)
    frames, reports = [], []
    quiet = len(files) < 2 or not sys.stderr.isatty()
    with tqdm(total=len(files), desc=f"reading {kind}", unit="file", disable=quiet) as bar:
        if kind == "hotspots":
            # CSVs are read as text two at a time (pyarrow releases the GIL; nothing else runs in the
            # threads) and taken in sorted order, so that the first bad file is the one reported;
            # files of one layout are then cleaned together
            from geih.ingest.sources.hotspots import read_hotspot_files
            with _pool(len(files)) as pool:
                frames, reports = read_hotspot_files(files, read=pool.map if pool else map, progress=bar)
        else:
            for path in files:
                frame, report = reader(path)
                frames.append(frame)
                reports.append(report)
                bar.update(1)
    return _concat(frames), reports


@contextmanager
def _pool(n_files: int):
    """A small thread pool for a folder of several files (None for one file or one CPU)."""
    workers = min(READ_THREADS, os.cpu_count() or 1, n_files)
    if workers < 2:
        yield None
        return
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="geih-read")
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate, keeping a GeoDataFrame (and its CRS) when the parts are GeoDataFrames."""
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    nonempty = [f for f in frames if len(f)] or frames[:1]
    out = pd.concat(nonempty, ignore_index=True)
    if hasattr(frames[0], "geometry"):
        import geopandas as gpd
        out = gpd.GeoDataFrame(out, geometry="geometry", crs=frames[0].crs)
    return out
