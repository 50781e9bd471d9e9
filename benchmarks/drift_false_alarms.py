"""Measure the drift rule's false-alarm rate on data with no drift by construction (A/A comparisons).

The held-out rows of a task are split by cell into two random halves (`--splits` times, seeded); the halves
come from the same period and the same process, so any feature flagged is a false alarm. Splitting by cell
keeps each cell's rows together, so the rows' dependence within a cell is what production data has too.
Reports how often the data set was flagged (`drift_detected`), the mean share of features flagged, and the
share that BH alone (without the effect floor) would flag, for the rule in params.yaml (`monitor.drift`). Prints JSON. Usage:
    python benchmarks/drift_false_alarms.py [--task fire_risk] [--features data/features/fire_risk] [--splits 20]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from geih.modelling.feature_schema import FeatureSchema
from geih.modelling.training import load_split
from geih.monitoring.config import MonitorConfig
from geih.monitoring.drift import detect_drift, references_from_frame
from geih.params import load_params


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--task", default="fire_risk")
    ap.add_argument("--features", type=Path)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--splits", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    folder = args.features or Path("data/features") / args.task
    schema = FeatureSchema.load(folder)
    test = load_split(folder, "test")
    rule = MonitorConfig.from_params(load_params(args.params)).drift
    rng = np.random.default_rng(args.seed)
    cells = np.unique(test["cell_id"])
    flagged, shares, significant, features_hit = 0, [], [], {}
    for _ in range(args.splits):
        half = rng.choice(cells, size=len(cells) // 2, replace=False)
        in_half = test["cell_id"].isin(half)
        report = detect_drift(references_from_frame(test[in_half], schema.feature_names), test[~in_half], rule)
        flagged += report.drift_detected
        shares.append(len(report.drifted_features) / len(report.features))
        significant.append(sum(f.significant for f in report.features) / len(report.features))
        for f in report.drifted_features:
            features_hit[f] = features_hit.get(f, 0) + 1
    print(json.dumps({"task": args.task, "splits": args.splits, "rows": len(test), "cells": len(cells),
                      "rule": vars(rule), "data_set_flagged": flagged, "data_set_false_alarm_rate": flagged / args.splits,
                      "mean_share_of_features_flagged": round(float(np.mean(shares)), 4),
                      "mean_share_significant_without_effect_floor": round(float(np.mean(significant)), 4),
                      "features_flagged": dict(sorted(features_hit.items()))}, indent=2))


if __name__ == "__main__":
    main()
