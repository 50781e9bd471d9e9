"""The monitoring store on a real PostgreSQL server (SQLAlchemy URL `postgresql+pg8000://…`): the server is
started by the test on a free loopback port (initdb in a temporary folder, stopped by PID at the end), and
skipped with the reason when PostgreSQL's binaries or the pg8000 driver are not installed. The same store
operations as on SQLite, N writer processes × M events racing to create a new store → exactly N×M rows, and
the service's writer process."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest

from geih.monitoring.store import MonitorStore
from geih.monitoring.writer import ProcessWriter
from tests.monitoring.helpers import event
from tests.monitoring.test_reliability import WRITER, child, finish

pytestmark = pytest.mark.pipeline  # starts a database server and processes

pg8000 = pytest.importorskip("pg8000", reason="the pg8000 driver is not installed")
NOW = 1_720_000_000.0


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(versions[-1]) if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server() -> dict:
    """A PostgreSQL server on 127.0.0.1:<free port>, trust authentication for the user `geih`."""
    initdb, postgres = _binary("initdb"), _binary("postgres")
    if not initdb or not postgres:
        pytest.skip("PostgreSQL server binaries (initdb, postgres) are not installed")
    root = Path(tempfile.mkdtemp(prefix="geih-pg-"))  # not under pytest's folder: the server's user must reach it
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: run it as the `postgres` user
        if not shutil.which("runuser"):
            pytest.skip("running as root without runuser: cannot start PostgreSQL")
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres")
    data, port = root / "data", _free_port()
    out = subprocess.run([*as_user, initdb, "-D", str(data), "-U", "geih", "--auth=trust", "-E", "UTF8"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    log = open(root / "server.log", "w")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen([*as_user, postgres, "-D", str(data), "-h", "127.0.0.1", "-p", str(port), "-k", str(root)],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = pg8000.connect(user="geih", host="127.0.0.1", port=port, database="postgres")
                break
            except Exception:
                assert proc.poll() is None and time.monotonic() < deadline, (root / "server.log").read_text()[-2000:]
                time.sleep(0.3)
        conn.autocommit = True
        for name in ("store", "writers", "service"):
            conn.run(f"CREATE DATABASE {name}")
        conn.close()
        yield {"url": lambda name: f"postgresql+pg8000://geih@127.0.0.1:{port}/{name}"}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server's own session: the runuser wrapper and postgres
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def test_store_operations_on_postgresql(server):
    store = MonitorStore(server["url"]("store"))
    assert not store.is_sqlite and store.size_bytes() is None and store.integrity_check() == "n/a"
    store.insert_events([event(f"r{i}", n=2, ts=NOW - 40 * 86400 + i, ids=[{"cell_id": i, "period": "2024-05"}] * 2)
                         for i in range(5)] + [event("new", ts=NOW)])
    assert store.count("predictions") == 11 and store.count("requests") == 6
    frame = store.predictions_frame("fire_risk")
    assert set(frame["request_id"]) == {f"r{i}" for i in range(5)} | {"new"} and "feature:x" in frame.columns
    truth = pd.DataFrame({"cell_id": [0, 1], "period": ["2024-05", "2024-05"], "observed": [1, 0]})
    assert store.upsert_truth("fire_risk", truth) == 2 and store.upsert_truth("fire_risk", truth) == 2
    assert store.truth_count("fire_risk") == 2
    row = {"task": "fire_risk", "model_name": "m", "model_version": "1", "window_kind": "period", "window": "2024-05",
           "metric": "roc_auc", "value": 0.8, "n": 10}
    store.replace_metrics([row])
    store.replace_metrics([{**row, "value": 0.7}])
    assert store.metrics_frame("fire_risk")["value"].tolist() == [0.7]
    result = store.apply_retention(30, now=NOW)
    assert result["requests"] == 5 and result["predictions"] == 10 and result["rolled_up_days"] == 1
    assert store.count("requests") == 1 and len(store.rollup_frame("fire_risk")) == 1
    store.close()
    assert MonitorStore(server["url"]("store")).count("requests") == 1  # reopened: schema version checked


def test_n_writer_processes_on_postgresql_write_exactly_n_times_m_rows(server):
    url, n, m = server["url"]("writers"), 4, 200
    procs = [child(WRITER, url, f"p{k}", str(m), "process") for k in range(n)]  # all race to create the schema
    outputs = [finish(p) for p in procs]
    assert all(o.split() == [str(m), "0", "0"] for o in outputs), outputs
    store = MonitorStore(url)
    assert store.count("predictions") == n * m and store.count("requests") == n * m
    assert store.requests_frame()["request_id"].nunique() == n * m


def test_the_service_writer_process_on_postgresql(server):
    url = server["url"]("service")
    MonitorStore(url).close()
    writer = ProcessWriter(url, batch_size=7)
    for i in range(50):
        writer.submit(event(f"s{i}", n=3))
    writer.close()
    stats = writer.stats()
    assert (stats.written, stats.rows, stats.dropped, stats.failed, stats.queued) == (50, 150, 0, 0, 0)
    assert MonitorStore(url).count("predictions") == 150
