"""Benchmark: batch scoring through the bundle's `predict.py --input rows.parquet --output out.parquet` against a
plain script that loads the same model with joblib, reads the same Parquet, calls predict_proba and writes the
probabilities as Parquet. Whole process against whole process (interpreter start, imports, I/O), runs
alternated, medians over `--repeats`.

The input holds `--rows` rows drawn (with replacement, fixed seed) from the task's test table with all its
columns (ids, label, features). predict.py also checks every value against the input schema, verifies the
model's checksum, passes the id columns through and adds prediction and risk level; the plain script does
none of that. Both must produce the same probabilities. Target: predict.py throughput ≥ 0.8× the plain
script's. Prints JSON.

    python benchmarks/bundle_batch.py [--task fire_risk] [--rows 100000] [--repeats 3]
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

import numpy as np
import pandas as pd
from servers import REPO, bench_env, machine

TARGET_RATIO = 0.8
PLAIN_SCRIPT = """import json, sys
import joblib
import pandas as pd

bundle, source, target = sys.argv[1:4]
model = joblib.load(f"{bundle}/model.joblib")
features = json.load(open(f"{bundle}/model_info.json"))["features"]
rows = pd.read_parquet(source)
probability = model.predict_proba(rows[features].astype("float64"))[:, 1]
pd.DataFrame({"probability": probability}).to_parquet(target, index=False)
"""


def run(cmd: list[str]) -> float:
    """Wall-clock seconds of one process; a failure stops the benchmark with its output."""
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=REPO, env=bench_env(), capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({result.returncode}): {result.stderr[-2000:]}")
    return elapsed


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", default="fire_risk")
    ap.add_argument("--bundle", type=Path, help="default: models/<task>/bundle")
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    bundle = (args.bundle or REPO / "models" / args.task / "bundle").resolve()
    test = pd.read_parquet(REPO / "data" / "features" / args.task / "test.parquet")
    rows = test.iloc[np.random.default_rng(args.seed).integers(0, len(test), args.rows)].reset_index(drop=True)
    load_before = machine()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        source, plain_out, bundle_out = tmp / "rows.parquet", tmp / "plain.parquet", tmp / "scored.parquet"
        rows.to_parquet(source, index=False)
        (tmp / "plain.py").write_text(PLAIN_SCRIPT)
        plain_cmd = [sys.executable, str(tmp / "plain.py"), str(bundle), str(source), str(plain_out)]
        bundle_cmd = [sys.executable, str(bundle / "predict.py"), "--input", str(source), "--output", str(bundle_out)]
        plain_s, bundle_s = [], []
        for _ in range(args.repeats):
            plain_s.append(run(plain_cmd))
            bundle_s.append(run(bundle_cmd))
        expected = pd.read_parquet(plain_out)["probability"].to_numpy()
        scored = pd.read_parquet(bundle_out)
        same = bool(np.array_equal(expected, scored["probability"].to_numpy()))
        output_columns = list(scored.columns)
    if not same:
        raise RuntimeError("predict.py and the plain script disagree on the probabilities")
    plain_med, bundle_med = statistics.median(plain_s), statistics.median(bundle_s)
    ratio = plain_med / bundle_med  # throughput ratio = rows/bundle_s ÷ rows/plain_s
    result = {"benchmark": "bundle_batch", "task": args.task, "rows": args.rows, "repeats": args.repeats,
              "plain_script_s": [round(s, 3) for s in plain_s], "predict_py_s": [round(s, 3) for s in bundle_s],
              "plain_rows_per_s": round(args.rows / plain_med), "predict_py_rows_per_s": round(args.rows / bundle_med),
              "throughput_ratio": round(ratio, 3), "target_ratio": TARGET_RATIO, "meets_target": ratio >= TARGET_RATIO,
              "same_probabilities": same, "predict_py_output_columns": output_columns,
              "machine_before": load_before, "machine_after": machine()}
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
