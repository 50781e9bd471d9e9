"""Stage evaluate@<task>: test-set metrics, baselines, oracle bound, plot data, maps."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from geih import io, maps, tracking
from geih.grid import Grid
from geih.params import group, load_params
from geih.report import check_evaluate_params, evaluate, load_truth, map_rows
from geih.stage import run_main
from geih.training import load_model, load_schema, load_split

log = logging.getLogger("geih.stages.evaluate")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--task", required=True)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--features", required=True, type=Path)
    ap.add_argument("--model", required=True, type=Path)
    ap.add_argument("--truth", required=True, type=Path)
    ap.add_argument("--metrics", required=True, type=Path)
    ap.add_argument("--plots", required=True, type=Path, help="plot data folder")
    ap.add_argument("--predictions", required=True, type=Path, help="predictions folder")
    args = ap.parse_args(argv)
    p = group(load_params(args.params), "evaluate")
    check_evaluate_params(p)
    schema = load_schema(args.features)
    model = load_model(args.model)
    train, test = load_split(args.features, "train"), load_split(args.features, "test")
    truth = load_truth(args.truth, args.task, schema)
    with tracking.stage_run("evaluate", args.task, p, data_deps=[args.features, args.model]):
        result = evaluate(model, train, test, schema, truth, p)
        grid = Grid(float(schema["grid_resolution_deg"]))
        time_col = schema["time_column"]
        with io.atomic_path(args.plots) as tmp:
            tmp.mkdir()
            for name, frame in result.plots.items():
                io.write_csv(frame, tmp / f"{name}.csv")
            for i, (label, rows) in enumerate(reversed(map_rows(result.predictions, time_col, p["map_months"]))):
                name = "map_last.png" if i == 0 else f"map_{label}.png"
                _draw_map(args.task, rows, grid, label, tmp / name)
        with io.atomic_path(args.predictions) as tmp:
            tmp.mkdir()
            result.predictions.to_parquet(tmp / "test_predictions.parquet", index=False, compression="zstd")
            label, rows = map_rows(result.predictions, time_col, "last")[0]
            maps.cells_geojson(rows.drop(columns=[time_col]).assign(period=label), grid, tmp / "last_period.geojson")
        io.write_json(result.metrics, args.metrics)
        tracking.log_metrics(result.metrics)
        import mlflow

        mlflow.log_artifacts(str(args.plots), artifact_path="plots")
        mlflow.set_tag("geih.model_sha256", tracking.file_sha256(args.model))
    m = result.metrics
    log.info("evaluate@%s: roc_auc %.4f pr_auc %.4f (oracle %s)", args.task, m["roc_auc"], m["pr_auc"],
             f"{m['oracle_roc_auc']:.4f}" if m["oracle_roc_auc"] == m["oracle_roc_auc"] else "n/a")


def _draw_map(task: str, rows, grid: Grid, label: str, path: Path) -> None:
    if task == "fire_risk":
        frame = rows.assign(observed=rows["n_hotspots_label_month"])
        maps.risk_map_png(frame, grid, f"Fire risk {label}: predicted level and observed hotspots", path)
    else:
        frame = rows.assign(observed=rows["label"])
        maps.probability_map_png(frame, grid, f"Predicted clearing probability, PRODES {label}",
                                 f"Cells cleared in PRODES {label}", path)


if __name__ == "__main__":
    sys.exit(run_main(main))
