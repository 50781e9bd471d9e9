"""Stage evaluate@<task>: test-set metrics, baselines, oracle bound, plot data, maps."""

from __future__ import annotations

from geih.warm.client import run_on_warm_server

if __name__ == "__main__":
    run_on_warm_server(__file__)  # under `geih warm`: runs in a fork of the warm stage server and exits here

import argparse
import logging
import sys
from pathlib import Path

from geih import io
from geih.domain.grid import Grid
from geih.lifecycle import tracking
from geih.lifecycle.task_definition import task_definition
from geih.modelling.evaluate import check_evaluate_params, evaluate
from geih.modelling.feature_schema import FeatureSchema
from geih.modelling.feature_tables import load_split
from geih.modelling.metrics import operating_threshold
from geih.modelling.outputs import write_plots, write_predictions
from geih.modelling.training import load_model
from geih.modelling.truth import load_truth
from geih.params import group, load_params
from geih.stage import run_main
from geih.tasks import get_task

log = logging.getLogger("geih.stages.evaluate")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--task", required=True)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--features", required=True, type=Path)
    ap.add_argument("--model", required=True, type=Path)
    ap.add_argument("--train-metrics", required=True, type=Path, help="train's metrics (the operating threshold)")
    ap.add_argument("--truth", required=True, type=Path)
    ap.add_argument("--metrics", required=True, type=Path)
    ap.add_argument("--plots", required=True, type=Path, help="plot data folder")
    ap.add_argument("--predictions", required=True, type=Path, help="predictions folder")
    args = ap.parse_args(argv)
    p = group(load_params(args.params), "evaluate")
    check_evaluate_params(p)
    task = get_task(args.task)
    schema = FeatureSchema.load(args.features, task.name)
    model = load_model(args.model)
    train, test = load_split(args.features, "train"), load_split(args.features, "test")
    truth = load_truth(args.truth, task, schema)
    threshold = operating_threshold(io.read_json(args.train_metrics), str(args.train_metrics), bool(schema.targets))
    definition = task_definition(args.features)
    with tracking.stage_run("evaluate", args.task, p, data_deps=[args.features, args.model], tags=definition.tags()):
        result = evaluate(model, train, test, schema, task, truth, p, threshold)
        grid = Grid(schema.grid_resolution_deg)
        write_plots(result, task, grid, p["map_months"], args.plots)
        write_predictions(result, task, grid, args.predictions)
        io.write_json(result.metrics, args.metrics)
        tracking.log_metrics(result.metrics)
        tracking.log_artifacts(args.plots, "plots")
        tracking.set_tags({"geih.model_sha256": tracking.file_sha256(args.model)})
    log.info("evaluate@%s: %s %.4f", args.task, task.registry_metric, result.metrics[task.registry_metric])


if __name__ == "__main__":
    sys.exit(run_main(main))
