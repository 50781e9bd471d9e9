"""Stage register@<task>: register the trained model in the MLflow registry and set its alias."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from geih import io
from geih.lifecycle import tracking
from geih.lifecycle.registry import check_register_params, register_model
from geih.params import group, load_params
from geih.stage import run_main

log = logging.getLogger("geih.stages.register")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--task", required=True)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--model", required=True, type=Path)
    ap.add_argument("--metrics", required=True, type=Path, help="evaluate metrics JSON")
    ap.add_argument("--out", required=True, type=Path, help="registry.json")
    args = ap.parse_args(argv)
    p = group(load_params(args.params), "register")
    check_register_params(p)
    metrics = io.read_json(args.metrics)
    sha = tracking.file_sha256(args.model)
    with tracking.stage_run("register", args.task, p, data_deps=[args.model, args.metrics]) as run:
        import mlflow
        from mlflow import MlflowClient

        root = tracking.repo_root()
        extra = {"git.commit": tracking.code_commit(root), "geih.pipeline_run": tracking.pipeline_run_id(),
                 "geih.register_run_id": run.info.run_id, **tracking.dvc_tags()}
        record = register_model(MlflowClient(), args.task, run.info.experiment_id, sha, metrics, p, extra, root)
        io.write_json(record, args.out)
        mlflow.set_tags({"geih.registered_model": record["name"], "geih.registered_version": str(record["version"]),
                         "geih.alias": record["alias"], "geih.decision": record["reason"],
                         "geih.model_sha256": sha})
    log.info("register@%s: %s version %s → %s (%s)", args.task, record["name"], record["version"],
             record["alias"], record["reason"])


if __name__ == "__main__":
    sys.exit(run_main(main))
