"""Benchmark: where acquire's memory goes — the peak RSS around each phase of generating and writing the
synthetic world, so that what grows with the cells can be streamed or chunked.

Generates the world of params.yaml's `acquire` group (grid overridden by --grid-deg) into a temporary folder
in this process, with the phases of geih.ingest.synthetic wrapped: for each call, the resident set before and
after and the process's peak (ru_maxrss) before and after, in GB, and its seconds. A phase that raises the peak
is where the memory goes. Prints JSON (machine and load included). Usage:
    python benchmarks/acquire_memory.py [--grid-deg 0.25] [--keep DIR]
"""

from __future__ import annotations

import argparse
import functools
import json
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import REPO, machine  # noqa: E402

GB = 1024**3


def peak_gb() -> float:
    """This process's peak resident set so far (Linux: ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GB


def rss_gb() -> float:
    """This process's resident set now."""
    import psutil

    return psutil.Process().memory_info().rss / GB


def record_phases(module: ModuleType, names: list[str], phases: list[dict[str, Any]],
                  rss: Callable[[], float] = rss_gb, peak: Callable[[], float] = peak_gb,
                  detail: Callable[[str, tuple], str] | None = None) -> None:
    """Replace each function `names` of `module` by one that appends {phase, rss_before/after_gb,
    peak_before/after_gb, seconds} to `phases` after every call (nested phases are listed when they end);
    `detail(name, args)`, when given, is added to the phase's name in parentheses (e.g. which folder)."""
    for name in names:
        original = getattr(module, name)

        @functools.wraps(original)
        def wrapped(*args: Any, _original: Callable = original, _name: str = name, **kwargs: Any) -> Any:
            r0, p0, t0 = rss(), peak(), time.perf_counter()
            out = _original(*args, **kwargs)
            what = f" ({detail(_name, args)})" if detail is not None and detail(_name, args) else ""
            phases.append({"phase": f"{module.__name__.rsplit('.', 1)[-1]}.{_name}{what}",
                           "rss_before_gb": round(r0, 2), "rss_after_gb": round(rss(), 2),
                           "peak_before_gb": round(p0, 2), "peak_after_gb": round(peak(), 2),
                           "seconds": round(time.perf_counter() - t0, 1)})
            return out

        setattr(module, name, wrapped)


def peak_raisers(phases: list[dict[str, Any]]) -> list[tuple[str, float]]:
    """(phase, GB it raised the peak by) for the phases that raised it, largest first."""
    raised = [(p["phase"], round(p["peak_after_gb"] - p["peak_before_gb"], 2)) for p in phases]
    return sorted([r for r in raised if r[1] > 0], key=lambda r: -r[1])


SYNTHETIC = "geih.ingest.synthetic."
PHASES = {  # module → its functions to wrap
    SYNTHETIC + "weather": ["generate_weather", "monthly", "weather_table_chunks"],
    SYNTHETIC + "deforestation": ["simulate_clearing", "polygon_geometries", "prodes_table"],
    SYNTHETIC + "fires": ["sample_fires", "detect", "hotspot_records"],
    SYNTHETIC + "landcover": ["base_landcover"],
    SYNTHETIC + "vegetation": ["vegetation_table"],
    SYNTHETIC + "world": ["build_world", "write_raw", "write_hotspots", "write_truth", "write_maps"],
    SYNTHETIC + "formats": ["write_parquet_chunks", "write_geotiff", "annual_all_satellites_frame"],
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grid-deg", type=float, default=None, help="acquire.grid_resolution_deg (default: params.yaml)")
    ap.add_argument("--keep", type=Path, default=None, help="write the world here and keep it")
    args = ap.parse_args()
    import importlib

    from geih.ingest.synthetic import WorldConfig
    from geih.ingest.synthetic import world as world_module

    phases: list[dict[str, Any]] = []
    for module, names in PHASES.items():
        record_phases(importlib.import_module(module), names, phases)
    params = dict(yaml.safe_load((REPO / "params.yaml").read_text())["acquire"])
    params.pop("source", None)
    if args.grid_deg is not None:
        params["grid_resolution_deg"] = args.grid_deg
    out = args.keep or Path(tempfile.mkdtemp(prefix="geih-acquire-memory-"))
    start = time.perf_counter()
    try:
        summary = world_module.generate_world(WorldConfig.from_params(params), out / "raw", out / "truth",
                                              out / "plots", progress=False)
    finally:
        if args.keep is None:
            shutil.rmtree(out, ignore_errors=True)
    print(json.dumps({"command": " ".join(["python", "benchmarks/acquire_memory.py", *sys.argv[1:]]),
                      "machine": machine(), "grid_deg": params["grid_resolution_deg"], "cells": summary["cells"],
                      "hotspot_rows": summary["hotspot_rows"], "seconds": round(time.perf_counter() - start, 1),
                      "peak_gb": round(peak_gb(), 2), "peak_raised_by": peak_raisers(phases), "phases": phases},
                     indent=2))


if __name__ == "__main__":
    main()
