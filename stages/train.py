"""Stage train@<task>: fit the model named by train.<task>.model on the training rows."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from geih import io
from geih.lifecycle import tracking
from geih.modelling import training
from geih.modelling.families import build_model, feature_importance, resolve_train_params
from geih.modelling.metrics import binary_metrics
from geih.modelling.training import feature_matrix, fit_model, load_schema, load_split, save_model
from geih.params import group, load_params, number
from geih.stage import run_main
from geih.tasks import TASKS

log = logging.getLogger("geih.stages.train")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--task", required=True)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--features", required=True, type=Path)
    ap.add_argument("--model", required=True, type=Path)
    ap.add_argument("--metrics", required=True, type=Path)
    args = ap.parse_args(argv)
    train_params = group(load_params(args.params), "train")
    model_name, hp = resolve_train_params(train_params, args.task, list(TASKS))
    seed = int(number(train_params, "seed", "train", integer=True))
    n_jobs = int(number(train_params, "n_jobs", "train", low=1, integer=True))
    model = build_model(model_name, hp, seed, n_jobs)
    schema = load_schema(args.features)
    train = load_split(args.features, "train")
    X, y = feature_matrix(train, schema["features"]), train["label"].to_numpy()
    logged = {"model": model_name, **hp, "seed": seed, "n_jobs": n_jobs}
    with tracking.stage_run("train", args.task, logged, data_deps=[args.features]) as run:
        log.info("train@%s: fitting %s on %d rows × %d features", args.task, model_name, *X.shape)
        fit_model(model, X, y)
        save_model(model, args.model)
        fit = binary_metrics(y, model.predict_proba(X)[:, 1], 0.5)
        metrics = {"model": model_name, "train_rows": len(X), "n_features": X.shape[1],
                   "train_roc_auc": fit["roc_auc"], "train_pr_auc": fit["pr_auc"],
                   "train_brier": fit["brier"]}
        io.write_json(metrics, args.metrics)
        tracking.log_metrics(metrics)
        import mlflow

        importance = feature_importance(model, schema["features"])
        if importance:
            mlflow.log_dict(importance, "feature_importance.json")
        # The feature schema next to the model: `geih bundle` builds a bundle of a registered version from it
        # (geih.lifecycle.bundle.SCHEMA_ARTIFACT).
        mlflow.log_artifact(str(args.features / "schema.json"), artifact_path="features")
        info = training.log_sklearn_model(model, X, model_name)
        mlflow.set_tags({"geih.model_sha256": tracking.file_sha256(args.model),
                         "geih.model_id": info.model_id, "geih.model_type": model_name})
        log.info("train@%s: logged model %s in run %s", args.task, info.model_id, run.info.run_id)


if __name__ == "__main__":
    sys.exit(run_main(main))
