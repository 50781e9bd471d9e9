"""Stage alerts@<task>: the alerts of the latest test period from the task's bundle (GeoJSON and CSV), the cells
alerted per level (metrics, plot data) and the interactive offline risk map of every test period."""

from __future__ import annotations

from geih.warm.client import run_on_warm_server

if __name__ == "__main__":
    run_on_warm_server(__file__)  # under `geih warm`: runs in a fork of the warm stage server and exits here

import argparse
import logging
import sys
from pathlib import Path

from geih import io
from geih.alerts.formats import write_alerts
from geih.alerts.html_map import state_paths
from geih.alerts.levels import parse_levels
from geih.alerts.pipeline import MAP_TOP_FEATURES, stage_outputs
from geih.alerts.table import load_alert_model
from geih.errors import GeihError, ParamsError
from geih.ingest.sources.folder import load_folder
from geih.lifecycle import tracking
from geih.modelling.feature_tables import load_split
from geih.params import choice, load_params
from geih.stage import run_main
from geih.tasks import get_task

log = logging.getLogger("geih.stages.alerts")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--task", required=True)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--bundle", required=True, type=Path, help="the task's model bundle folder")
    ap.add_argument("--features", required=True, type=Path, help="features folder (its test.parquet is scored)")
    ap.add_argument("--states", required=True, type=Path, help="raw state boundaries folder (the map's base layer)")
    ap.add_argument("--geojson", required=True, type=Path)
    ap.add_argument("--csv", required=True, type=Path)
    ap.add_argument("--metrics", required=True, type=Path, help="cells alerted per level (JSON)")
    ap.add_argument("--plot", required=True, type=Path, help="cells per level of the latest period (CSV)")
    ap.add_argument("--map", required=True, type=Path, help="the interactive HTML map")
    args = ap.parse_args(argv)
    task = get_task(args.task)
    model = load_alert_model(args.bundle)
    if model.task != task.name:
        raise GeihError(f"bundle {args.bundle} is for task {model.task!r}, not {task.name!r}")
    group = load_params(args.params).get("alerts") or {}
    try:
        levels = parse_levels(group.get("levels", []), model.levels, "alerts.levels")
    except GeihError as exc:
        raise ParamsError("alerts.levels", str(exc)) from exc
    map_top_features = choice(group, "map_top_features", "alerts", MAP_TOP_FEATURES)
    test = load_split(args.features, "test")
    states, _ = load_folder(args.states, "states")
    observed = test[task.map.observed_column].to_numpy() > 0
    run_params = {"levels": list(levels), "map_top_features": map_top_features}
    with tracking.stage_run("alerts", task.name, run_params, data_deps=[args.bundle, args.features]):
        out = stage_outputs(test, model, levels, observed, state_paths(states.to_crs("EPSG:4326")),
                            task.map.title, f"observed ({task.map.observed_column} > 0)",
                            str(args.features / "test.parquet"), map_top_features)
        write_alerts(out.alerts, args.geojson, model.grid_resolution_deg, levels, "geojson")
        write_alerts(out.alerts, args.csv, model.grid_resolution_deg, levels, "csv")
        io.write_json(out.metrics, args.metrics)
        io.write_csv(out.plot, args.plot)
        with io.atomic_path(args.map) as tmp:
            tmp.write_text(out.html, encoding="utf-8")
        tracking.log_metrics({"alerted": out.metrics["alerted"], **{
            f"alerted_{level}": n for level, n in out.metrics["alerted_by_level"].items()}})
    log.info("alerts@%s: %d cell(s) alerted %s; map %s", task.name, out.metrics["alerted"],
             out.metrics["alerted_by_level"], args.map)


if __name__ == "__main__":
    sys.exit(run_main(main))
