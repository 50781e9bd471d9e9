"""Benchmark: featurize throughput and training time per model family, side by side in one process.

On this checkout's pipeline outputs (run `make repro` first), for one task:
  - featurize: the stage's own `featurize` (geih.compute.partitions, in this process) on
    data/prepared/<task>.parquet — rows in, rows out, seconds, rows in per second;
  - train: every model family fitted on data/features/<task>/train.parquet with params.yaml's `train` group
    (the task's own section with its `model` swapped for each family, so shared and task hyperparameters apply
    where the family uses them), on train.n_jobs threads — seconds and rows per second of one fit.
Each measurement is repeated, families alternating within a repeat (the load moves all of them alike); the
median is reported. Prints JSON (machine and load included). Usage:
    python benchmarks/model_costs.py [--task fire_risk] [--repeats 3] [--families xgboost,lightgbm]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import REPO, machine  # noqa: E402


def with_model(train: dict[str, Any], task: str, family: str) -> dict[str, Any]:
    """The `train` group with `train.<task>.model` set to `family` (everything else as given)."""
    return {**train, task: {**train.get(task, {}), "model": family}}


def interleaved_medians(runs: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """Median wall time of each named callable, the callables alternating within each of `repeats` rounds
    (one callable: the median of its repeated calls)."""
    if repeats < 1:
        raise ValueError(f"repeats must be ≥ 1, got {repeats}")
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", default="fire_risk")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--families", default=None, help="comma-separated (default: every family the task can use)")
    args = ap.parse_args()
    import pandas as pd

    from geih.compute.partitions import featurize
    from geih.modelling.families import SPECS, train_config
    from geih.modelling.feature_schema import FeatureSchema
    from geih.modelling.feature_tables import load_split
    from geih.modelling.training import openmp_threads
    from geih.params import group
    from geih.tasks import get_task, task_names

    params = yaml.safe_load((REPO / "params.yaml").read_text())
    task = get_task(args.task)
    prepared = REPO / "data" / "prepared" / f"{args.task}.parquet"
    features = REPO / "data" / "features" / args.task
    if not prepared.exists() or not features.exists():
        raise SystemExit(f"{prepared} or {features} is missing: run `make repro` first")
    resolution = float(group(params, task.params_group)["grid_resolution_deg"])
    panel = pd.read_parquet(prepared)

    def run_featurize() -> pd.DataFrame:  # in this process (no Dask client), as the stage runs by default
        return featurize(None, task, panel, resolution, float(params["compute"]["band_deg"]))

    rows_out = len(run_featurize())  # also the warm-up
    feat_s = interleaved_medians({"featurize": run_featurize}, args.repeats)["featurize"]

    schema = FeatureSchema.load(features, args.task)
    train = load_split(features, "train")
    X, y = schema.matrix(train), schema.labels(train)
    regression = bool(schema.targets)
    families = args.families.split(",") if args.families else [
        name for name, spec in SPECS.items() if not regression or spec.build_regressor is not None]
    configs = {f: train_config(with_model(params["train"], args.task, f), args.task, task_names()) for f in families}

    def fit(family: str) -> Callable[[], Any]:
        config = configs[family]
        return lambda: config.build(len(schema.targets)).fit(X, y)

    with openmp_threads(int(params["train"]["n_jobs"])):
        fit_s = interleaved_medians({f: fit(f) for f in families}, args.repeats)
    print(json.dumps({
        "command": " ".join(["python", "benchmarks/model_costs.py", *sys.argv[1:]]), "machine": machine(),
        "task": args.task, "repeats": args.repeats,
        "featurize": {"rows_in": len(panel), "rows_out": rows_out, "seconds": round(feat_s, 3),
                      "rows_in_per_s": round(len(panel) / feat_s)},
        "train": {"rows": len(X), "features": X.shape[1], "n_jobs": configs[families[0]].n_jobs,
                  "per_family": {f: {"seconds": round(s, 3), "rows_per_s": round(len(X) / s),
                                     "hyperparameters": configs[f].hyperparameters} for f, s in fit_s.items()}},
        "machine_after": machine()}, indent=2, default=str))


if __name__ == "__main__":
    main()
