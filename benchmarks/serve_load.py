"""Benchmark: sustained load on `geih serve`. Several client threads (one keep-alive connection each) send
single-row predict requests in a bounded loop (until `--duration` seconds have passed or `--max-requests`
were sent per client) to a server this script starts on a loopback port. Any non-200 answer or transport
error counts as an error (target: zero). Afterwards the server's /metrics must count exactly the requests
the clients saw answered (across all workers). Reports throughput, p50/p95/p99 latency. Prints JSON.

    python benchmarks/serve_load.py [--task fire_risk] [--duration 30] [--clients 4] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pandas as pd
from servers import REPO, bench_env, free_port, machine, percentiles, server


def client_loop(url: str, body: bytes, deadline: float, max_requests: int, out: dict) -> None:
    """One client: sequential requests until the deadline or `max_requests`; latencies and errors into `out`."""
    latencies, errors = [], []
    with httpx.Client(timeout=30) as client:
        while len(latencies) + len(errors) < max_requests and time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                response = client.post(url, content=body, headers={"Content-Type": "application/json"})
                ok = response.status_code == 200
                reason = f"{response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as exc:
                ok, reason = False, repr(exc)
            if ok:
                latencies.append((time.perf_counter() - start) * 1000)
            else:
                errors.append(reason)
    out["latencies"], out["errors"] = latencies, errors


def served_count(metrics_text: str, task: str) -> int:
    """geih_http_requests_total of the task's predict route with status 200, from the exposition text."""
    pattern = re.compile(r'^geih_http_requests_total\{(?=[^}]*route="/models/' + re.escape(task)
                         + r'/predict")(?=[^}]*status="200")[^}]*\} ([0-9.e+]+)$', re.M)
    return int(sum(float(v) for v in pattern.findall(metrics_text)))


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", default="fire_risk")
    ap.add_argument("--bundle", type=Path, help="default: models/<task>/bundle")
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--max-requests", type=int, default=200_000, help="per client (bounds the loop)")
    args = ap.parse_args(argv)
    bundle = (args.bundle or REPO / "models" / args.task / "bundle").resolve()
    features = json.loads((bundle / "model_info.json").read_text())["features"]
    rows = pd.read_parquet(REPO / "data" / "features" / args.task / "test.parquet", columns=features).head(args.clients)
    bodies = [json.dumps({"instances": [{f: (None if pd.isna(v) else float(v)) for f, v in row.items()}]}).encode()
              for _, row in rows.iterrows()]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "geih.cli", "serve", "--bundle", str(bundle), "--host", "127.0.0.1", "--port",
           str(port), "--workers", str(args.workers)]
    load_before = machine()
    with tempfile.TemporaryDirectory() as tmp, server(cmd, f"{base}/health", bench_env(), Path(tmp) / "serve.log") as startup:
        url = f"{base}/models/{args.task}/predict"
        for body in bodies:  # warm every worker a little
            for _ in range(10):
                httpx.post(url, content=body, headers={"Content-Type": "application/json"}, timeout=30)
        before = served_count(httpx.get(f"{base}/metrics", timeout=30).text, args.task)
        results = [{} for _ in range(args.clients)]
        start = time.perf_counter()
        deadline = start + args.duration
        threads = [threading.Thread(target=client_loop, args=(url, bodies[i % len(bodies)], deadline,
                                                              args.max_requests, results[i]))
                   for i in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        after = served_count(httpx.get(f"{base}/metrics", timeout=30).text, args.task)
    latencies = [ms for r in results for ms in r["latencies"]]
    errors = [e for r in results for e in r["errors"]]
    result = {"benchmark": "serve_load", "task": args.task, "clients": args.clients, "workers": args.workers,
              "duration_s": round(elapsed, 2), "startup_s": round(startup, 2), "requests_ok": len(latencies),
              "errors": len(errors), "error_samples": errors[:5],
              "throughput_rps": round(len(latencies) / elapsed, 1), "latency": percentiles(latencies),
              "metrics_count_matches": after - before == len(latencies), "metrics_counted": after - before,
              "meets_target": not errors and elapsed >= 30.0, "machine_before": load_before, "machine_after": machine()}
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
