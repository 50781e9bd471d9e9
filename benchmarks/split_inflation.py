"""Benchmark: how much a random split flatters a task's model, against spatial blocks drawn several ways.

On this checkout's pipeline outputs (run `make repro` first), for one classification task: all its feature rows
(data/features/<task>, train and test together) are split three ways and the task's model (params.yaml's `train`
group) is re-fitted on each training side:
  - temporal: featurize's temporal split (test = the last `featurize.test_years` years);
  - random: 80/20 of all rows, drawn as evaluate's `random_split_roc_auc` draws them (`evaluate.seed`);
  - spatial_block: `featurize.block_size_deg` blocks, `featurize.test_fraction` of them held out, once per
    `--seeds` draw of the blocks (featurize.seed picks one draw in the pipeline; one draw is a handful of blocks).
Each split reports ROC AUC, the oracle's (the generating probabilities, data/truth) on the same test rows and
the gap between them. The penalty of a spatial-block draw is how much worse it does than the random split:
raw (random − spatial AUC) and in gaps (spatial gap − random gap; it discounts held-out blocks that are simply
easier or harder, which the oracle shows). `--without` leaves out every feature whose name contains one of
the given pieces — e.g. `--without hotspots,fire_` fits fire risk without its hotspot history, the control
that shows what the history features do to the penalty. Prints JSON. Usage:
    python benchmarks/split_inflation.py --task fire_risk [--seeds 42 1 2 3 4] [--without hotspots,fire_]
        [--set train.fire_risk.model=random_forest --set train.fire_risk.max_depth=0 ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import machine  # noqa: E402


def kept_features(names: list[str], without: list[str]) -> list[str]:
    """The feature names that contain none of the `without` pieces; an unknown piece or none left → ValueError."""
    unused = [piece for piece in without if not any(piece in name for name in names)]
    if unused:
        raise ValueError(f"--without {','.join(unused)}: no feature name contains it")
    kept = [name for name in names if not any(piece in name for piece in without)]
    if not kept:
        raise ValueError(f"--without {','.join(without)} leaves no feature")
    return kept


def split_masks(frame: Any, time_column: str, split: dict[str, Any], random_seed: int,
                block_seeds: list[int]) -> dict[str, np.ndarray]:
    """Boolean test-row masks: 'temporal', 'random' (evaluate's 80/20 draw) and 'spatial_block_<seed>'."""
    from geih.modelling.evaluate import random_test_rows
    from geih.modelling.splits import is_test_row

    masks = {"temporal": is_test_row(frame, time_column, {**split, "split": "temporal"}),
             "random": random_test_rows(len(frame), random_seed)}
    for seed in block_seeds:
        masks[f"spatial_block_{seed}"] = is_test_row(frame, time_column,
                                                     {**split, "split": "spatial_block", "seed": seed})
    return masks


def inflation_summary(scores: dict[str, dict[str, float]]) -> dict[str, Any]:
    """Each spatial-block draw's penalty against the random split, raw and in oracle gaps, with their
    mean, min and max; `scores` maps a split name to its {'roc_auc', 'oracle_roc_auc', 'oracle_gap'}."""
    random = scores["random"]
    blocks = {name: s for name, s in scores.items() if name.startswith("spatial_block_")}
    if not blocks:
        raise ValueError("no spatial_block_<seed> split among the scores")
    raw = {name: random["roc_auc"] - s["roc_auc"] for name, s in blocks.items()}
    gap = {name: s["oracle_gap"] - random["oracle_gap"] for name, s in blocks.items()}

    def spread(values: dict[str, float]) -> dict[str, Any]:
        return {"by_draw": {k: round(v, 4) for k, v in values.items()},
                "mean": round(statistics.fmean(values.values()), 4),
                "min": round(min(values.values()), 4), "max": round(max(values.values()), 4)}

    return {"random_minus_temporal_roc_auc": round(random["roc_auc"] - scores["temporal"]["roc_auc"], 4),
            "penalty_raw_roc_auc": spread(raw), "penalty_in_oracle_gaps": spread(gap)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", default="fire_risk")
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="a param changed for this run, as `dvc exp run -S` (repeatable), e.g. "
                         "--set train.fire_risk.model=random_forest")
    ap.add_argument("--features", type=Path, default=None, help="default: data/features/<task>")
    ap.add_argument("--truth", type=Path, default=Path("data/truth"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[42, 1, 2, 3, 4], help="spatial-block draws")
    ap.add_argument("--without", default="", help="comma-separated pieces of feature names to leave out")
    args = ap.parse_args()
    import pandas as pd
    from sklearn.metrics import roc_auc_score

    from geih.errors import ParamsError
    from geih.modelling.families import train_config
    from geih.modelling.feature_schema import FeatureSchema
    from geih.modelling.feature_tables import load_split
    from geih.modelling.truth import load_truth, oracle_scores
    from geih.params import group, load_params, with_overrides
    from geih.tasks import get_task, task_names

    task = get_task(args.task)
    if task.kind == "regression":
        ap.error(f"--task {task.name}: a regression task has no ROC AUC to inflate")
    features = args.features or Path("data/features") / task.name
    try:
        params = with_overrides(load_params(args.params), args.set)
        config = train_config(group(params, "train"), task.name, task_names())
    except ParamsError as err:
        ap.error(str(err))
    schema = FeatureSchema.load(features, task.name)
    frame = pd.concat([load_split(features, "train"), load_split(features, "test")], ignore_index=True)
    try:
        names = kept_features(schema.feature_names, [w for w in args.without.split(",") if w])
    except ValueError as err:
        ap.error(str(err))
    truth = load_truth(args.truth, task, schema)
    if truth is None:
        ap.error(f"{args.truth}: no truth for {task.name}, so no oracle to compare with")
    oracle = oracle_scores(frame, truth, task)
    X = schema.matrix(frame)[names].to_numpy()
    y = frame[schema.label].to_numpy()
    masks = split_masks(frame, task.time_column, dict(group(params, "featurize")),
                        int(group(params, "evaluate")["seed"]), args.seeds)
    scores: dict[str, dict[str, float]] = {}
    for name, test in masks.items():
        model = config.build(len(schema.targets)).fit(X[~test], y[~test])
        auc = float(roc_auc_score(y[test], model.predict_proba(X[test])[:, 1]))
        oracle_auc = float(roc_auc_score(y[test], oracle[test]))
        scores[name] = {"roc_auc": round(auc, 4), "oracle_roc_auc": round(oracle_auc, 4),
                        "oracle_gap": round(oracle_auc - auc, 4), "test_rows": int(test.sum())}
    print(json.dumps({"task": task.name, "model": config.spec.name, "features": len(names),
                      "without": args.without or None, "set": args.set or None, "scores": scores,
                      **inflation_summary(scores), "machine": machine()}, indent=2))


if __name__ == "__main__":
    main()
