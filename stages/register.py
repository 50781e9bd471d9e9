"""Stage register@<task>: register the trained model in the MLflow registry and set its alias."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from geih import io, tracking
from geih.params import group, load_params
from geih.registry import (champion_metrics, check_register_params, decide_alias, find_train_run,
                           register_version, registered_name, set_alias)
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
    name = registered_name(args.task)
    with tracking.stage_run("register", args.task, p, data_deps=[args.model, args.metrics]) as run:
        import mlflow
        from mlflow import MlflowClient

        client = MlflowClient()
        train_run = find_train_run(client, run.info.experiment_id, sha)
        if train_run is None:
            raise_missing(args.model)
        model_id = train_run.data.tags.get("geih.model_id")
        model_uri = f"models:/{model_id}" if model_id else f"runs:/{train_run.info.run_id}/model"
        before, champ = champion_metrics(client, name)
        alias, reason = decide_alias(metrics, champ, p)
        tags = {f"metric.{k}": str(v) for k, v in metrics.items() if isinstance(v, (int, float)) and v == v}
        tags.update({"git.commit": tracking.git_commit(tracking.repo_root()), "geih.model_sha256": sha,
                     "dvc.exp_name": os.environ.get("DVC_EXP_NAME", ""), "geih.decision": reason})
        mv = register_version(client, name, model_uri, train_run.info.run_id, tags)
        set_alias(client, name, alias, mv.version)
        record = {"name": name, "version": mv.version, "run_id": train_run.info.run_id, "model_id": model_id,
                  "model_uri": f"models:/{name}/{mv.version}", "alias": alias, "reason": reason,
                  "metric": p["metric"], "value": metrics.get(p["metric"]),
                  "previous_champion_version": before}
        io.write_json(record, args.out)
        mlflow.set_tags({"geih.registered_version": mv.version, "geih.alias": alias, "geih.decision": reason})
    log.info("register@%s: %s version %s → %s (%s)", args.task, name, mv.version, alias, reason)


def raise_missing(model: Path) -> None:
    from geih.errors import GeihError

    raise GeihError(f"no train run in the MLflow store at {tracking.tracking_uri()} logged the model "
                    f"{model} (sha256 {tracking.file_sha256(model)[:12]}…); re-run `dvc repro -f -s train@<task>` "
                    "against this store")


if __name__ == "__main__":
    sys.exit(run_main(main))
