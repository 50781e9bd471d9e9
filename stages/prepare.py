"""Stage prepare@<task>: raw files → the task's labelled panel (cell × month or cell × year)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from geih import io
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
    params = group(load_params(args.params), task.params_group)
    task.check_prepare_params(params)
    with tracking.stage_run("prepare", args.task, params, data_deps=[args.raw]):
        panel, report = task.prepare(args.raw, params)
        io.write_parquet(panel, args.out)
        io.write_json(report, args.report)
        tracking.log_metrics({k: v for k, v in report.items() if k != "cleaning"})
    log.info("prepare@%s: %d rows, report %s", args.task, len(panel), args.report)


if __name__ == "__main__":
    sys.exit(run_main(main))
