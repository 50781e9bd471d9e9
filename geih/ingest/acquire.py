"""The acquire step: generate the synthetic world, or import a directory of real downloads."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from geih.errors import ParamsError
from geih.io import write_json

log = logging.getLogger(__name__)

RAW_FOLDERS = ("boundary", "states", "hotspots", "weather", "landcover", "deforestation",
               "vegetation_index", "roads", "settlements")
OPTIONAL_FOLDERS = ("prodes_increments",)  # official aggregates: compared with the panel when present


def import_directory(source: Path, raw_dir: Path, truth_dir: Path, plots_dir: Path,
                     map_resolution_deg: float) -> dict[str, Any]:
    """Validate every file of a raw-layout directory of real downloads, copy it to `raw_dir` and draw
    the world maps from it into `plots_dir` (on a `map_resolution_deg` grid).

    No truth exists for real data: `truth_dir/manifest.json` says so.
    """
    from geih.ingest.maps import draw_raw_maps
    from geih.ingest.sources.validate import validate_path

    if not source.is_dir():
        raise ParamsError("acquire.source", f"expected 'synthetic' or an existing directory, got {str(source)!r}")
    missing = [f for f in RAW_FOLDERS if not (source / f).is_dir()]
    if missing:
        raise ParamsError("acquire.source", f"directory {source} lacks the raw folders {missing} "
                          "(see docs/data-layout.md)")
    summaries = validate_path(source)
    folders = [*RAW_FOLDERS, *(f for f in OPTIONAL_FOLDERS if (source / f).is_dir())]
    for folder in folders:
        shutil.copytree(source / folder, raw_dir / folder)
    truth_dir.mkdir(parents=True, exist_ok=True)
    write_json({"available": False, "reason": "real data: generating probabilities are unknown"},
               truth_dir / "manifest.json")
    draw_raw_maps(raw_dir, plots_dir, map_resolution_deg)
    return {"files": len(summaries), "rows": sum(int(s.rows) for s in summaries), "folders": len(folders)}
