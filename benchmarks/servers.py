"""Helpers the serving benchmarks share: a free loopback port, servers started in their own process group
(start-up timed to the first 200 answer) and stopped by PID (SIGTERM, then SIGKILL), request timing."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_env(**extra: str) -> dict[str, str]:
    """This environment with the venv's bin first on PATH, the repo importable, no telemetry."""
    env = dict(os.environ)
    env.update({"PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}", "PYTHONPATH": str(REPO),
                "DVC_NO_ANALYTICS": "1", "MLFLOW_DISABLE_TELEMETRY": "true"})
    env.update(extra)
    return env


@contextmanager
def server(cmd: list[str], ready_url: str, env: dict[str, str], log: Path, timeout: float = 180) -> Iterator[float]:
    """Start `cmd`, poll `ready_url` every 20 ms until it answers 200 and yield the start-up seconds;
    always stop the server's process group afterwards."""
    with open(log, "w") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = started + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd[0]} exited with {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                if httpx.get(ready_url, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{ready_url} not ready after {timeout} s: {log.read_text()[-2000:]}")
            time.sleep(0.02)
        yield time.perf_counter() - started
    finally:
        stop(proc)


def stop(proc: subprocess.Popen, grace: float = 15) -> None:
    """SIGTERM the process group started for `proc`, SIGKILL it after `grace` seconds."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=grace)
        except ProcessLookupError:
            pass


def percentiles(values_ms: list[float]) -> dict[str, float]:
    """p50/p95/p99/mean/max of a list of milliseconds (nearest-rank)."""
    ordered = sorted(values_ms)

    def rank(q: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, int(round(q * len(ordered) + 0.5)) - 1))]

    return {"p50_ms": round(rank(0.50), 3), "p95_ms": round(rank(0.95), 3), "p99_ms": round(rank(0.99), 3),
            "mean_ms": round(sum(ordered) / len(ordered), 3), "max_ms": round(ordered[-1], 3), "n": len(ordered)}


def machine() -> dict[str, object]:
    """What the numbers were measured on (this machine is shared: load average included)."""
    return {"cpus": os.cpu_count(), "loadavg_1_5_15": [round(x, 2) for x in os.getloadavg()],
            "python": sys.version.split()[0]}
