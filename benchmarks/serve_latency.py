"""Benchmark: single-row HTTP latency of `geih serve` against `mlflow models serve` on the same model.

Both servers are started by this script on loopback ports (one uvicorn worker each; mlflow with
`--env-manager local`, the venv's bin on PATH and MLFLOW_TRACKING_URI=sqlite:///<repo>/mlflow/mlflow.db) and
timed from spawn to their first 200 answer (/health, /ping). After a warm-up, `--requests` single-row
requests go to each, interleaved one by one over keep-alive connections so both see the same machine load.
Both must return the same probability for the row. Target: geih p50 ≤ ⅓ of mlflow's p50. Prints JSON.

    python benchmarks/serve_latency.py [--task fire_risk] [--requests 300] [--warmup 30]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pandas as pd
from servers import REPO, VENV_BIN, bench_env, free_port, machine, percentiles, server

from geih.tasks import get_task, task_names

TARGET_RATIO = 1 / 3


def timed_post(client: httpx.Client, url: str, body: bytes) -> tuple[float, dict]:
    start = time.perf_counter()
    response = client.post(url, content=body, headers={"Content-Type": "application/json"})
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:500]}")
    return elapsed, response.json()


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", default="fire_risk", choices=sorted(task_names()))
    ap.add_argument("--bundle", type=Path, help="default: models/<task>/bundle")
    ap.add_argument("--model-uri", help="default: models:/<registered name>@champion")
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=30)
    args = ap.parse_args(argv)
    bundle = (args.bundle or REPO / "models" / args.task / "bundle").resolve()
    uri = args.model_uri or f"models:/{get_task(args.task).registered_name}@champion"
    info = json.loads((bundle / "model_info.json").read_text())
    features = info["features"]
    row = pd.read_parquet(REPO / "data" / "features" / args.task / "test.parquet", columns=features).head(1)
    record = {f: (None if pd.isna(v) else float(v)) for f, v in row.iloc[0].items()}
    geih_body = json.dumps({"instances": [record]}).encode()
    mlflow_body = json.dumps({"dataframe_split": {"columns": features, "data": [[record[f] for f in features]]}}).encode()
    env = bench_env(MLFLOW_TRACKING_URI=f"sqlite:///{REPO / 'mlflow' / 'mlflow.db'}")
    load_before = machine()
    g_port, m_port = free_port(), free_port()
    geih_cmd = [sys.executable, "-m", "geih.cli", "serve", "--bundle", str(bundle), "--host", "127.0.0.1",
                "--port", str(g_port)]
    mlflow_cmd = [str(VENV_BIN / "mlflow"), "models", "serve", "-m", uri, "--env-manager", "local",
                  "--host", "127.0.0.1", "--port", str(m_port), "--workers", "1"]
    g_url, m_url = f"http://127.0.0.1:{g_port}", f"http://127.0.0.1:{m_port}"
    with tempfile.TemporaryDirectory() as tmp:
        with server(geih_cmd, f"{g_url}/health", env, Path(tmp) / "geih.log") as g_start, \
                server(mlflow_cmd, f"{m_url}/ping", env, Path(tmp) / "mlflow.log") as m_start, \
                httpx.Client(timeout=30) as client:
            for _ in range(args.warmup):
                timed_post(client, f"{g_url}/models/{args.task}/predict", geih_body)
                timed_post(client, f"{m_url}/invocations", mlflow_body)
            g_ms, m_ms = [], []
            for _ in range(args.requests):
                elapsed, g_answer = timed_post(client, f"{g_url}/models/{args.task}/predict", geih_body)
                g_ms.append(elapsed)
                elapsed, m_answer = timed_post(client, f"{m_url}/invocations", mlflow_body)
                m_ms.append(elapsed)
    g_p, m_p = g_answer["predictions"][0]["probability"], m_answer["predictions"][0][1]
    if abs(g_p - m_p) > 1e-9:
        raise RuntimeError(f"the servers disagree on the row: geih {g_p}, mlflow {m_p}")
    geih, peer = percentiles(g_ms), percentiles(m_ms)
    geih["startup_s"], peer["startup_s"] = round(g_start, 2), round(m_start, 2)
    ratio = geih["p50_ms"] / peer["p50_ms"]
    result = {"benchmark": "serve_latency", "task": args.task, "model": uri, "bundle": str(bundle.relative_to(REPO))
              if bundle.is_relative_to(REPO) else str(bundle), "requests": args.requests, "warmup": args.warmup,
              "geih_serve": geih, "mlflow_models_serve": peer, "p50_ratio_geih_over_mlflow": round(ratio, 3),
              "target_ratio": round(TARGET_RATIO, 3), "meets_target": ratio <= TARGET_RATIO,
              "same_probability": True, "machine_before": load_before, "machine_after": machine()}
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
