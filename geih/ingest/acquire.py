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


def import_directory(source: Path, raw_dir: Path, truth_dir: Path) -> dict[str, Any]:
    """Validate every file of a raw-layout directory of real downloads, then copy it to `raw_dir`.

    No truth exists for real data: `truth_dir/manifest.json` says so.
    """
    from geih.ingest.sources.validate import validate_path

    if not source.is_dir():
        raise ParamsError("acquire.source", f"expected 'synthetic' or an existing directory, got {str(source)!r}")
    missing = [f for f in RAW_FOLDERS if not (source / f).is_dir()]
    if missing:
        raise ParamsError("acquire.source", f"directory {source} lacks the raw folders {missing} "
                          "(see docs/data-layout.md)")
    summaries = validate_path(source)
    for folder in RAW_FOLDERS:
        shutil.copytree(source / folder, raw_dir / folder)
    truth_dir.mkdir(parents=True, exist_ok=True)
    write_json({"available": False, "reason": "real data: generating probabilities are unknown"},
               truth_dir / "manifest.json")
    return {"files": len(summaries), "rows": sum(int(s.rows) for s in summaries)}
