"""Measure the drift rule's false-alarm rate (and its detection of a known drift) on the pipeline's features.

`--mode years` (default): a backtest of the stage monitor@<task>. Every year Y of the task's features (training
and test rows together) that has at least two earlier years is treated as the held-out year: the rule of
params.yaml (`monitor.drift`, `monitor.reference_years`) compares Y with the years before it, calibrated on
those earlier years only (`held_out_drift`), exactly as the stage does for the real test year. A comparison
whose current or reference years include `acquire.drought_year` (the synthetic world's drought) holds drift by
construction and counts as a detection trial; every other comparison is a null trial (normal year-to-year
variation), where a flag is a false alarm. Reports both, per data set and per feature.

`--mode cells`: A/A — the held-out rows split by cell into two random halves (`--splits` times, seeded); the
halves come from the same period, so any feature flagged is a false alarm (no between-year calibration: the
floors `min_psi`/`min_ks` alone).

Prints JSON. Usage:
    python benchmarks/drift_false_alarms.py [--task fire_risk] [--features data/features/fire_risk]
                                            [--mode years|cells] [--splits 20]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from geih.modelling.feature_schema import FeatureSchema
from geih.modelling.feature_tables import load_split
from geih.modelling.splits import row_year
from geih.monitoring.config import MonitorConfig
from geih.monitoring.drift import detect_drift, held_out_drift, references_from_frame
from geih.params import load_params


def year_backtest(frame: pd.DataFrame, schema: FeatureSchema, config: MonitorConfig,
                  drought_year: int | None) -> dict:
    """The stage's comparison repeated with each year (from the third on) as the held-out year."""
    year = row_year(frame[schema.time_column])
    years = sorted(int(y) for y in np.unique(year))
    lag = config.reference_years if config.reference_years > 0 else len(years)
    trials = []
    for i in range(2, len(years)):
        earlier, current = frame[year < years[i]], frame[year == years[i]]
        report, compared = held_out_drift(earlier.reset_index(drop=True), current.reset_index(drop=True),
                                          schema.feature_names, schema.time_column, config.drift, config.seed,
                                          config.reference_years)
        compared_years = years[max(0, i - lag):i + 1]
        trials.append({"current": years[i], "reference": compared_years[:-1],
                       "drift_by_construction": drought_year in compared_years,
                       "calibrated_on": compared["between_year_pairs"],
                       "drift_detected": report.drift_detected, "drifted_features": report.drifted_features,
                       "n_features": len(report.features)})
    null = [t for t in trials if not t["drift_by_construction"]]
    drift = [t for t in trials if t["drift_by_construction"]]
    return {"years": years, "trials": trials,
            "null_trials": len(null), "null_flagged": sum(t["drift_detected"] for t in null),
            "null_feature_trials": sum(t["n_features"] for t in null),
            "null_features_flagged": sum(len(t["drifted_features"]) for t in null),
            "drift_trials": len(drift), "drift_detected": sum(t["drift_detected"] for t in drift)}


def cell_split_aa(test: pd.DataFrame, schema: FeatureSchema, config: MonitorConfig, splits: int, seed: int) -> dict:
    """A/A: the held-out rows split by cell into random halves `splits` times; the floors alone."""
    rng = np.random.default_rng(seed)
    cells = np.unique(test["cell_id"])
    flagged, shares, significant, features_hit = 0, [], [], {}
    for _ in range(splits):
        half = rng.choice(cells, size=len(cells) // 2, replace=False)
        in_half = test["cell_id"].isin(half)
        report = detect_drift(references_from_frame(test[in_half], schema.feature_names), test[~in_half],
                              config.drift)
        flagged += report.drift_detected
        shares.append(len(report.drifted_features) / len(report.features))
        significant.append(sum(f.significant for f in report.features) / len(report.features))
        for f in report.drifted_features:
            features_hit[f] = features_hit.get(f, 0) + 1
    return {"splits": splits, "rows": len(test), "cells": len(cells), "data_set_flagged": flagged,
            "data_set_false_alarm_rate": flagged / splits,
            "mean_share_of_features_flagged": round(float(np.mean(shares)), 4),
            "mean_share_significant_without_effect_floor": round(float(np.mean(significant)), 4),
            "features_flagged": dict(sorted(features_hit.items()))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", default="fire_risk")
    ap.add_argument("--features", type=Path)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--mode", choices=["years", "cells"], default="years")
    ap.add_argument("--splits", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    folder = args.features or Path("data/features") / args.task
    schema = FeatureSchema.load(folder)
    params = load_params(args.params)
    config = MonitorConfig.from_params(params)
    test = load_split(folder, "test")
    if args.mode == "years":
        drought = params.get("acquire", {}).get("drought_year") if params.get("acquire", {}).get(
            "source", "synthetic") == "synthetic" else None
        frame = pd.concat([load_split(folder, "train"), test], ignore_index=True)
        result = year_backtest(frame, schema, config, None if drought is None else int(drought))
        result["drought_year"] = drought
    else:
        result = cell_split_aa(test, schema, config, args.splits, args.seed)
    print(json.dumps({"task": args.task, "mode": args.mode, "rule": vars(config.drift),
                      "reference_years": config.reference_years, **result}, indent=2))


if __name__ == "__main__":
    main()
