"""Benchmark: where prepare's memory goes — the peak RSS around each phase of a task's `prepare` on a raw
folder, so that what grows with the cells can be streamed or chunked (the companion of acquire_memory.py).

Runs `get_task(TASK).prepare(RAW, params.yaml's prepare.<task>)` in this process (no MLflow, no output
written) with the phases wrapped: each raw folder read (`load_folder`, run three at a time by `load_raw`, so
their peaks overlap), the weather cube, the monthly weather and the other builders of geih.tasks. For each call:
the resident set before and after and the process's peak (ru_maxrss) before and after, in GB, and its seconds.
A phase that raises the peak is where the memory goes. Prints JSON (machine and load included). Usage:
    python benchmarks/acquire_memory.py --grid-deg 0.125 --keep /tmp/w125   # a 16× world, once
    python benchmarks/prepare_memory.py --raw /tmp/w125/raw --grid-deg 0.125 [--task fire_risk]
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from acquire_memory import peak_gb, peak_raisers, record_phases  # noqa: E402
from servers import REPO, machine  # noqa: E402

PHASES = {  # module → its functions to wrap (looked up through the module by the code that calls them)
    "geih.ingest.sources.folder": ["load_folder"],
    "geih.tasks.common": ["load_raw", "weather_cube", "landcover_fractions", "distances_km", "clearing_by_cell_year"],
    "geih.tasks.fire_risk": ["monthly_weather", "dedup_hotspots", "monthly_hotspot_counts", "monthly_clearing_12m",
                             "assemble_panel"],
    "geih.tasks.deforestation": ["vegetation_stats", "vegetation_anomalies", "yearly_precip", "front_distance",
                                 "prior_clearing_distance", "recent_clearing_distance"],
    "geih.tasks.climate_prediction": ["monthly_weather", "assemble_panel"],
}


def folder_kind(name: str, args: tuple) -> str:
    """Which raw folder a `load_folder(path, kind, grid)` call reads ('' for the other phases)."""
    return str(args[1]) if name == "load_folder" and len(args) > 1 else ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--raw", type=Path, required=True, help="a raw folder (acquire's data/raw)")
    ap.add_argument("--task", default="fire_risk")
    ap.add_argument("--grid-deg", type=float, default=None,
                    help="prepare.<task>.grid_resolution_deg (default: params.yaml)")
    args = ap.parse_args()
    from geih.tasks import get_task

    phases: list[dict[str, Any]] = []
    for module, names in PHASES.items():
        mod = importlib.import_module(module)
        record_phases(mod, names, phases, detail=folder_kind)
    task = get_task(args.task)
    params = dict(yaml.safe_load((REPO / "params.yaml").read_text())["prepare"][args.task])
    if args.grid_deg is not None:
        params["grid_resolution_deg"] = args.grid_deg
    start = time.perf_counter()
    panel, _ = task.prepare(args.raw, params)
    print(json.dumps({"command": " ".join(["python", "benchmarks/prepare_memory.py", *sys.argv[1:]]),
                      "machine": machine(), "task": args.task, "grid_deg": params["grid_resolution_deg"],
                      "rows": len(panel), "seconds": round(time.perf_counter() - start, 1),
                      "peak_gb": round(peak_gb(), 2), "peak_raised_by": peak_raisers(phases), "phases": phases},
                     indent=2))


if __name__ == "__main__":
    main()
