"""Benchmark: what MLflow adds to one stage process beyond `import mlflow`.

Every stage is its own process, so each repeat runs in a fresh interpreter (a child of this script)
against one store created beforehand (as `geih tracking init` does). Measured side by side, medians
over `--repeats`:
  import_s     `import mlflow` (reported, not counted)
  tracking_s   everything tracking.stage_run() adds, the sum of
                 connect_s                 open the SQLite store (mostly importing MLflow's SQL store code)
                 start_run_tags_params_s   experiment lookup, tags (git commit, data version of the
                                           deps), start_run, params
                 metrics_s, end_s          log the metrics, end the run
  log_model_s  logging a fitted XGBoost Pipeline (skops, as train does) — train only; the first
               skops use in a process imports skops.io (~1 s: it enumerates scikit-learn's estimators)
  log_model_cloudpickle_s  the same model with cloudpickle, for comparison
Target: tracking_s ≤ 1.5 s. Prints JSON. Usage:
    python benchmarks/mlflow_overhead.py [--repeats 5] [--deps data/features/fire_risk]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PARAMS = {"model": "xgboost", "n_estimators": 300, "max_depth": 6, "learning_rate": 0.05, "min_samples_leaf": 20,
          "num_leaves": 31, "subsample": 0.8, "colsample_bytree": 0.8, "C": 1.0, "calibration": "none",
          "seed": 42, "n_jobs": 2}
TARGET_S = 1.5


def child(root: Path, deps: list[str]) -> dict[str, float]:
    """One stage-like process: returns its timings (run inside a fresh interpreter)."""
    import os

    os.chdir(root)
    start = time.perf_counter()
    import mlflow

    import_s = time.perf_counter() - start
    import numpy as np
    import pandas as pd

    from geih.lifecycle import tracking
    from geih.modelling import training
    from geih.modelling.families import build_model

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(2000, 30)), columns=[f"f{i}" for i in range(30)])
    y = (X["f0"] + rng.normal(size=2000) > 0).astype(int).to_numpy()
    model = build_model("xgboost", {"n_estimators": 50, "max_depth": 4}, 0, 1).fit(X, y)
    metrics = {f"m{i}": float(i) / 10 for i in range(20)}

    t0 = time.perf_counter()
    tracking.connect()  # what stage_run does first: open the store (imports MLflow's SQL store code)
    tc = time.perf_counter()
    with tracking.stage_run("train", "bench", PARAMS, data_deps=deps):
        t1 = time.perf_counter()
        tracking.log_metrics(metrics)
        t2 = time.perf_counter()
        training.log_sklearn_model(model, X, "xgboost")
        t3 = time.perf_counter()
        mlflow.sklearn.log_model(model, name="model_cloudpickle", serialization_format="cloudpickle",
                                 pip_requirements=training.model_pip_requirements("xgboost", "cloudpickle"),
                                 input_example=X.head(5), pyfunc_predict_fn="predict_proba")
        t4 = time.perf_counter()
    t5 = time.perf_counter()
    return {"import_s": import_s, "connect_s": tc - t0, "start_run_tags_params_s": t1 - tc,
            "metrics_s": t2 - t1, "end_s": t5 - t4, "tracking_s": (t1 - t0) + (t2 - t1) + (t5 - t4),
            "log_model_s": t3 - t2, "log_model_cloudpickle_s": t4 - t3}


def run_child(root: Path, deps: list[str]) -> dict[str, float]:
    """Run `child` in a fresh interpreter; its JSON line is the result."""
    cmd = [sys.executable, __file__, "--child", str(root), "--deps", *deps]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def init_store(root: Path) -> float:
    """Create the store and experiment once (as `geih tracking init`), in a fresh interpreter."""
    code = "from geih.lifecycle import tracking; tracking.init_store(['bench'])"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True, capture_output=True, timeout=600)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--deps", nargs="*", default=["data/features/fire_risk"],
                    help="data deps hashed for geih.data_version (a stage's inputs)")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    deps = [str(Path(d).resolve()) for d in args.deps if Path(d).exists()]
    if args.child:
        print(json.dumps(child(args.child, deps)))
        return
    with tempfile.TemporaryDirectory(prefix="geih-mlflow-bench-") as tmp:
        root = Path(tmp)
        (root / "dvc.yaml").write_text("stages: {}\n")
        init_s = init_store(root)
        runs = [run_child(root, deps) for _ in range(args.repeats)]
    medians = {key: round(statistics.median(r[key] for r in runs), 3) for key in runs[0]}
    print(json.dumps({"repeats": args.repeats, "data_deps": deps, "store_init_once_s": round(init_s, 3),
                      "median": medians, "target_tracking_s": TARGET_S,
                      "tracking_within_target": medians["tracking_s"] <= TARGET_S}, indent=2))


if __name__ == "__main__":
    main()
