"""Stage package@<task>: a deployable bundle folder (model, model_info.json, feature_schema.json, predict.py,
requirements.txt)."""

from __future__ import annotations

from geih.warm.client import run_on_warm_server

if __name__ == "__main__":
    run_on_warm_server(__file__)  # under `geih warm`: runs in a fork of the warm stage server and exits here

import argparse
import datetime as dt
import logging
import sys
from pathlib import Path

from geih import io
from geih.lifecycle import tracking
from geih.lifecycle.bundle import BundleSource, bundle_requirements, write_bundle
from geih.modelling.families import resolve_train_params
from geih.modelling.feature_schema import FeatureSchema
from geih.modelling.metrics import operating_threshold
from geih.params import group, load_params
from geih.stage import run_main
from geih.tasks import task_names

log = logging.getLogger("geih.stages.package")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--task", required=True)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--model", required=True, type=Path)
    ap.add_argument("--registry", required=True, type=Path)
    ap.add_argument("--metrics", required=True, type=Path)
    ap.add_argument("--features", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path, help="bundle folder")
    args = ap.parse_args(argv)
    params = load_params(args.params)
    model_name, hp = resolve_train_params(group(params, "train"), args.task, list(task_names()))
    registry = io.read_json(args.registry)
    metrics = io.read_json(args.metrics)
    schema = FeatureSchema.load(args.features, args.task)
    # chosen on the validation year by train; a regression task (targets) has none
    threshold = operating_threshold(metrics, str(args.metrics), bool(schema.targets))
    source = BundleSource(
        task=args.task, model_path=args.model, schema=schema, registry=registry,
        metrics=metrics, train_params={"model": model_name, **hp}, threshold=threshold,
        requirements=bundle_requirements(model_name), origin="pipeline")
    created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with tracking.stage_run("package", args.task, None, data_deps=[args.model, args.registry]):
        info = write_bundle(args.out, source, created)
        tracking.log_dict(info, "model_info.json")
    log.info("package@%s: bundle %s (model %s v%s)", args.task, args.out, registry["name"], registry["version"])


if __name__ == "__main__":
    sys.exit(run_main(main))
