"""Stage acquire: write data/raw (real public file formats) and data/truth.

acquire.source = synthetic → the deterministic synthetic Legal Amazon (plus world map PNGs);
acquire.source = <directory> → a validated copy of a directory of real downloads, with the same world
map PNGs drawn from it.
"""

from __future__ import annotations

from geih.warm.client import run_on_warm_server

if __name__ == "__main__":
    run_on_warm_server(__file__)  # under `geih warm`: runs in a fork of the warm stage server and exits here

import argparse
import logging
import sys
from pathlib import Path

from geih.ingest.acquire import import_directory
from geih.io import atomic_path
from geih.lifecycle import tracking
from geih.params import group, load_params, number
from geih.stage import run_main

log = logging.getLogger("geih.stages.acquire")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--raw", required=True, type=Path)
    ap.add_argument("--truth", required=True, type=Path)
    ap.add_argument("--plots", required=True, type=Path, help="world map PNG folder")
    args = ap.parse_args(argv)
    p = dict(group(load_params(args.params), "acquire"))
    source = p.pop("source", "synthetic")
    if source == "synthetic":
        from geih.ingest.synthetic import WorldConfig, generate_world

        config = WorldConfig.from_params(p)
    else:  # the world maps of real data are drawn on the world's grid
        map_resolution = float(number(p, "grid_resolution_deg", "acquire", low=0.05, high=5.0))
    with tracking.stage_run("acquire", None, {"source": source, **p}):
        with atomic_path(args.raw) as raw, atomic_path(args.truth) as truth, atomic_path(args.plots) as plots:
            if source == "synthetic":
                summary = generate_world(config, raw, truth, plots)
            else:
                summary = import_directory(Path(source), raw, truth, plots, map_resolution)
        tracking.log_metrics({k: v for k, v in summary.items() if isinstance(v, (int, float))})
        if any(args.plots.glob("*.png")):
            tracking.log_artifacts(args.plots, "world")
    log.info("acquire: %s", summary)


if __name__ == "__main__":
    sys.exit(run_main(main))
