"""Stage register@<task>: register the trained model in the MLflow registry and set its alias
(compared only with a champion trained for the same task definition)."""

from __future__ import annotations

from geih.warm.client import run_on_warm_server

if __name__ == "__main__":
    run_on_warm_server(__file__)  # under `geih warm`: runs in a fork of the warm stage server and exits here

import argparse
import logging
import sys
from pathlib import Path

from geih import io
from geih.lifecycle import tracking
from geih.lifecycle.registry import check_register_params, register_stage_model
from geih.lifecycle.task_definition import task_definition
from geih.params import group, load_params
from geih.stage import run_main
from geih.tasks import get_task

log = logging.getLogger("geih.stages.register")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--task", required=True)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--model", required=True, type=Path)
    ap.add_argument("--features", required=True, type=Path,
                    help="features folder: the task definition, and the input example when the model is logged here")
    ap.add_argument("--metrics", required=True, type=Path, help="evaluate metrics JSON")
    ap.add_argument("--out", required=True, type=Path, help="registry.json")
    args = ap.parse_args(argv)
    p = group(load_params(args.params), "register")
    check_register_params(p)
    p = get_task(args.task).register_params(p)
    metrics = io.read_json(args.metrics)
    definition = task_definition(args.features)
    with tracking.stage_run("register", args.task, p, data_deps=[args.model, args.metrics],
                            tags=definition.tags()) as run:
        record = register_stage_model(args.task, run, args.model, args.features, metrics, p, definition)
        io.write_json(record, args.out)
    log.info("register@%s: %s version %s → %s (%s)", args.task, record["name"], record["version"],
             record["alias"], record["reason"])


if __name__ == "__main__":
    sys.exit(run_main(main))
