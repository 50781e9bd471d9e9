"""Stage prepare@<task>: raw files → the task's labelled panel (cell × month or cell × year)."""

from __future__ import annotations

from geih.warm.client import run_on_warm_server

if __name__ == "__main__":
    run_on_warm_server(__file__)  # under `geih warm`: runs in a fork of the warm stage server and exits here

import argparse
import logging
import sys
from pathlib import Path

from geih import io
from geih.compute.cluster import compute_config, dask_client
from geih.compute.spatial import prepare_joins
from geih.lifecycle import tracking
from geih.params import group, load_params
from geih.stage import run_main
from geih.tasks import get_task

log = logging.getLogger("geih.stages.prepare")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--task", required=True)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--raw", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path, help="prepared panel (Parquet)")
    ap.add_argument("--report", required=True, type=Path, help="cleaning report (metrics JSON)")
    args = ap.parse_args(argv)
    task = get_task(args.task)
    all_params = load_params(args.params)
    params = group(all_params, task.params_group)
    task.check_prepare_params(params)
    compute = compute_config(group(all_params, "compute"))
    with dask_client(compute) as client, tracking.stage_run("prepare", args.task, params, data_deps=[args.raw]):
        joins = prepare_joins(client, float(params["grid_resolution_deg"]), compute.band_deg)
        panel, report = task.prepare(args.raw, params, joins)
        io.write_parquet(panel, args.out)
        io.write_json(report, args.report)
        tracking.log_metrics({k: v for k, v in report.items() if k != "cleaning"})
    log.info("prepare@%s: %d rows, report %s", args.task, len(panel), args.report)


if __name__ == "__main__":
    sys.exit(run_main(main))
