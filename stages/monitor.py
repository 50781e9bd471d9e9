"""Stage monitor@<task>: drift of the held-out (most recent) period against the training rows, seasonally
matched for monthly data → drift metrics (top-level `drift_detected`) and per-feature plot data."""

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
from geih.modelling.feature_schema import FeatureSchema
from geih.modelling.feature_tables import load_split
from geih.monitoring.config import MonitorConfig
from geih.monitoring.drift import drift_plot_rows, held_out_drift
from geih.params import load_params
from geih.stage import run_main

log = logging.getLogger("geih.stages.monitor")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--task", required=True)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--features", required=True, type=Path, help="features folder (train/test Parquet, schema)")
    ap.add_argument("--metrics", required=True, type=Path, help="drift metrics JSON")
    ap.add_argument("--plot", required=True, type=Path, help="per-feature drift plot data CSV")
    args = ap.parse_args(argv)
    config = MonitorConfig.from_params(load_params(args.params))
    schema = FeatureSchema.load(args.features)
    train, test = load_split(args.features, "train"), load_split(args.features, "test")
    with tracking.stage_run("monitor", args.task, {"drift": vars(config.drift), "seed": config.seed,
                                                          "reference_years": config.reference_years},
                            data_deps=[args.features]):
        report, compared = held_out_drift(train, test, schema.feature_names, schema.time_column, config.drift,
                                          config.seed, config.reference_years)
        io.write_json({**report.to_dict(detail=False), "compared": compared}, args.metrics)
        plot = drift_plot_rows(report)
        io.write_csv(plot, args.plot)
        tracking.log_metrics({"drift_detected": int(report.drift_detected), "n_drifted": len(report.drifted_features),
                              "psi": dict(zip(plot["feature"], plot["psi"])),
                              "ks_statistic": dict(zip(plot["feature"], plot["ks_statistic"]))})
    log.info("monitor@%s: drift_detected %s (%d of %d features: %s)", args.task, report.drift_detected,
             len(report.drifted_features), len(report.features), ", ".join(report.drifted_features) or "none")


if __name__ == "__main__":
    sys.exit(run_main(main))
