"""Stage train@<task>: fit the model named by train.<task>.model on the training rows."""

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
from geih.compute.xgb import training_fit
from geih.lifecycle import tracking
from geih.lifecycle.task_definition import task_definition
from geih.modelling.families import feature_importance, train_config
from geih.modelling.feature_schema import FeatureSchema
from geih.modelling.feature_tables import load_split
from geih.modelling.training import fit_metrics, fit_model, log_trained_model, openmp_threads, save_model
from geih.modelling.validation import check_threshold_params, validation_metrics
from geih.params import group, load_params
from geih.stage import run_main
from geih.tasks import task_names

log = logging.getLogger("geih.stages.train")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--task", required=True)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--features", required=True, type=Path)
    ap.add_argument("--model", required=True, type=Path)
    ap.add_argument("--metrics", required=True, type=Path)
    args = ap.parse_args(argv)
    all_params = load_params(args.params)
    train_params = group(all_params, "train")
    config = train_config(train_params, args.task, task_names())
    compute = compute_config(group(all_params, "compute"))
    rule, recall_target = check_threshold_params(train_params)
    schema = FeatureSchema.load(args.features, args.task)
    model = config.build(len(schema.targets))
    model_name = config.spec.name
    train = load_split(args.features, "train")
    X, y = schema.matrix(train), schema.labels(train)
    definition = task_definition(args.features)
    with dask_client(compute) as client, tracking.stage_run("train", args.task, config.logged_params(),
                                                           data_deps=[args.features], tags=definition.tags()) as run:
        fit = training_fit(client)  # None: in this process
        with openmp_threads(config.n_jobs):
            validation = validation_metrics(model, train, schema, rule, recall_target, fit)
            if validation:
                log.info("train@%s: validation year %d roc_auc %.4f, threshold %.4f (%s)", args.task,
                         validation["validation_year"], validation["validation_roc_auc"], validation["threshold"],
                         rule)
            log.info("train@%s: fitting %s on %d rows × %d features", args.task, model_name, *X.shape)
            fit_model(model, X, y, fit)
        save_model(model, args.model)
        metrics = {"model": model_name, "train_rows": len(X), "n_features": X.shape[1],
                   **fit_metrics(model, X, y, schema), **validation}
        io.write_json(metrics, args.metrics)
        tracking.log_metrics(metrics)
        importance = feature_importance(model, schema.feature_names)
        if importance:
            tracking.log_dict(importance, "feature_importance.json")
        # The feature schema next to the model: `geih bundle` builds a bundle of a registered version from it.
        tracking.log_artifact(args.features / "schema.json", "features")
        info = log_trained_model(model, X, tracking.file_sha256(args.model))
        log.info("train@%s: logged model %s in run %s", args.task, info.model_id, run.info.run_id)


if __name__ == "__main__":
    sys.exit(run_main(main))
