"""Loaders for the real public data formats (used for synthetic and real files alike).

Each loader reads one file into the canonical frame of docs/data-layout.md and returns a
`CleaningReport` with what it removed or blanked; bad input raises `geih.errors.DataError` naming
the file, row and column. Names are imported lazily so that ``import geih.ingest.sources`` stays cheap.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "CleaningReport": "cleaning",
    "read_hotspots": "hotspots", "detect_csv_format": "hotspots", "FORMAT_NAMES": "hotspots",
    "dedup_hotspots": "hotspot_rules", "clip_to_region": "hotspot_rules",
    "read_prodes": "prodes", "read_prodes_increments": "prodes",
    "read_landcover": "landcover", "MAPBIOMAS_CLASSES": "landcover",
    "read_weather": "tables", "read_vegetation_index": "tables",
    "read_vector": "vectors", "read_states": "vectors",
    "load_folder": "folder", "KINDS": "folder",
    "validate_path": "validate", "format_summaries": "validate", "FileSummary": "validate",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"geih.ingest.sources.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'geih.ingest.sources' has no attribute {name!r}")
