"""Benchmark: what logging every prediction to the monitoring store costs the single-row latency of `geih serve`.

Two `geih serve` processes on the same bundle, started by this script on loopback ports: one with `--no-monitor`
(the NullSink) and one with the default sink (the monitoring store's writer process, in a temporary SQLite
file, resource sampler running). After a warm-up, `--requests` single-row requests go to each, interleaved one
by one over keep-alive connections (alternating which goes first) so both see the same machine load. Target:
p50 overhead ≤ 10 %. After the
servers stop, the store must hold one prediction row per request sent to the monitored server. Prints JSON.

    python benchmarks/serve_monitoring_overhead.py [--task fire_risk] [--requests 300] [--warmup 30]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import httpx
import pandas as pd
from serve_latency import timed_post
from servers import REPO, bench_env, free_port, machine, percentiles, server

TARGET_OVERHEAD = 0.10


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", default="fire_risk")
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=30)
    args = ap.parse_args(argv)
    bundle = (REPO / "models" / args.task / "bundle").resolve()
    features = json.loads((bundle / "model_info.json").read_text())["features"]
    row = pd.read_parquet(REPO / "data" / "features" / args.task / "test.parquet", columns=features).head(1)
    body = json.dumps({"instances": [{f: (None if pd.isna(v) else float(v)) for f, v in row.iloc[0].items()}]}).encode()
    load_before = machine()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "monitor.db"
        env = bench_env(GEIH_MONITOR_DB=str(db))
        ports = {"off": free_port(), "on": free_port()}
        cmds = {k: [sys.executable, "-m", "geih.cli", "serve", "--bundle", str(bundle), "--host", "127.0.0.1",
                    "--port", str(p), *(["--no-monitor"] if k == "off" else [])] for k, p in ports.items()}
        urls = {k: f"http://127.0.0.1:{p}/models/{args.task}/predict" for k, p in ports.items()}
        with server(cmds["off"], f"http://127.0.0.1:{ports['off']}/health", env, Path(tmp) / "off.log"), \
                server(cmds["on"], f"http://127.0.0.1:{ports['on']}/health", env, Path(tmp) / "on.log"), \
                httpx.Client(timeout=30) as client:
            for _ in range(args.warmup):
                for k in ("off", "on"):
                    timed_post(client, urls[k], body)
            times: dict[str, list[float]] = {"off": [], "on": []}
            for i in range(args.requests):
                for k in (("off", "on") if i % 2 == 0 else ("on", "off")):  # neither always goes first
                    times[k].append(timed_post(client, urls[k], body)[0])
        from geih.monitoring.store import MonitorStore

        logged = MonitorStore(str(db)).count("predictions", args.task)
    off, on = percentiles(times["off"]), percentiles(times["on"])
    overhead = on["p50_ms"] / off["p50_ms"] - 1
    result = {"benchmark": "serve_monitoring_overhead", "task": args.task, "requests": args.requests,
              "warmup": args.warmup, "no_monitor": off, "monitored": on, "p50_overhead": round(overhead, 3),
              "target_overhead": TARGET_OVERHEAD, "meets_target": overhead <= TARGET_OVERHEAD,
              "rows_logged": logged, "rows_expected": args.warmup + args.requests,
              "machine_before": load_before, "machine_after": machine()}
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
