"""The store under real processes: N writer processes × M events → exactly N×M rows (including the race
to create a new store; thread and process writers), a reader is not blocked by an open write transaction, a
writer killed with SIGKILL mid-stream corrupts nothing and keeps every batch it committed, and a service killed
with SIGKILL still has what it had queued written by its writer process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from geih.monitoring.store import MonitorStore
from tests.conftest import REPO_ROOT
from tests.monitoring.helpers import event

pytestmark = pytest.mark.pipeline  # spawns processes


def child(code: str, *args: str, **kw) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], cwd=REPO_ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def finish(proc: subprocess.Popen, timeout: float = 300) -> str:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    assert proc.returncode == 0, err[-3000:]
    return out


WRITER = """
import sys
from geih.monitoring.store import MonitorStore
from geih.monitoring.writer import BackgroundWriter, ProcessWriter
from tests.monitoring.helpers import event

db, name, m, kind = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
if __name__ == "__main__":
    store = MonitorStore(db)
    writer = BackgroundWriter(store, batch_size=25) if kind == "thread" else ProcessWriter(store.url, batch_size=25)
    for i in range(m):
        writer.submit(event(f"{name}-{i}", n=1))
    writer.close()
    s = writer.stats()
    print(s.written, s.dropped, s.failed)
"""


@pytest.mark.parametrize("kind", ["thread", "process"])
def test_n_writer_processes_write_exactly_n_times_m_rows(tmp_path: Path, kind: str):
    db, n, m = str(tmp_path / "shared.db"), 4, 300
    procs = [child(WRITER, db, f"p{k}", str(m), kind) for k in range(n)]  # all race to create the new store
    outputs = [finish(p) for p in procs]
    assert all(o.split() == [str(m), "0", "0"] for o in outputs), outputs
    store = MonitorStore(db)
    assert store.count("predictions") == n * m and store.count("requests") == n * m
    ids = store.requests_frame()["request_id"]
    assert ids.nunique() == n * m and set(ids) == {f"p{k}-{i}" for k in range(n) for i in range(m)}
    assert store.integrity_check() == "ok"


HOLD_OPEN = """
import sys
from geih.monitoring.store import MonitorStore
from tests.monitoring.helpers import event

store = MonitorStore(sys.argv[1])
with store.write() as conn:
    from sqlalchemy import insert
    from geih.monitoring.store import event_rows, predictions, requests
    request, rows = event_rows(event("held", n=5))
    conn.execute(insert(requests), [request])
    conn.execute(insert(predictions), rows)
    print("open", flush=True)
    sys.stdin.readline()  # keep the write transaction open until the parent has read
print("committed", flush=True)
"""


def test_readers_are_not_blocked_by_an_open_write(tmp_path: Path):
    db = str(tmp_path / "m.db")
    setup = MonitorStore(db)
    setup.insert_events([event(f"before{i}") for i in range(3)])
    writer = child(HOLD_OPEN, db, stdin=subprocess.PIPE)
    try:
        assert writer.stdout.readline().strip() == "open"
        # busy timeout 0: any wait for a lock would fail at once with 'database is locked'
        reader = MonitorStore(db, busy_timeout_s=0)
        assert reader.count("predictions") == 3  # the snapshot before the uncommitted rows
        assert len(reader.requests_frame("fire_risk")) == 3
    finally:
        writer.stdin.write("go\n")
        writer.stdin.flush()
    assert "committed" in finish(writer)
    assert reader.count("predictions") == 8


KILLED = """
import sys
from geih.monitoring.store import MonitorStore
from tests.monitoring.helpers import event

store = MonitorStore(sys.argv[1])
k = 0
while True:
    store.insert_events([event(f"b{k}-{i}", n=2) for i in range(50)])
    k += 1
    print(k, flush=True)
"""


def test_a_writer_killed_mid_stream_corrupts_nothing(tmp_path: Path):
    db = str(tmp_path / "m.db")
    proc = child(KILLED, db)
    committed = 0
    while committed < 25:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()[-3000:]
        committed = int(line)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    store = MonitorStore(db)
    assert store.integrity_check() == "ok"
    requests = store.count("requests")
    assert requests >= committed * 50 and requests % 50 == 0  # whole batches only
    assert store.count("predictions") == 2 * requests
    ids = set(store.requests_frame()["request_id"])
    assert {f"b{k}-{i}" for k in range(committed) for i in range(50)} <= ids  # every reported batch is there
    store.insert_events([event("after-the-kill")])  # and the store keeps working
    assert store.count("requests") == requests + 1


SERVICE_KILLED = """
import sys, time
from geih.monitoring.store import MonitorStore
from geih.monitoring.writer import ProcessWriter
from tests.monitoring.helpers import event

if __name__ == "__main__":
    store = MonitorStore(sys.argv[1])
    writer = ProcessWriter(store.url, flush_interval_s=3.0)  # asleep when the service dies
    for i in range(100):  # ≈ 35 kB pickled: all fit in the OS pipe (64 KiB) while the writer sleeps
        writer.submit(event(f"s{i}", n=2))
    time.sleep(0.5)  # the queue's feeder thread has handed them to the pipe
    print(writer._process.pid, flush=True)
    time.sleep(600)
"""


def test_a_service_killed_with_sigkill_still_gets_its_queued_events_written(tmp_path: Path):
    """The service process dies outright with 100 events on the way to its writer process: the writer process
    writes them (all, exactly once), notices the service is gone and exits; the store is intact."""
    import time

    import psutil

    db = str(tmp_path / "m.db")
    proc = child(SERVICE_KILLED, db)
    line = proc.stdout.readline()
    assert line.strip().isdigit(), proc.stderr.read()[-3000:]
    writer_pid = int(line)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    deadline = time.monotonic() + 120
    while psutil.pid_exists(writer_pid) and psutil.Process(writer_pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the writer process outlived its service"
        time.sleep(0.2)
    store = MonitorStore(db)
    assert store.integrity_check() == "ok"
    assert store.count("requests") == 100 and store.count("predictions") == 200
    assert set(store.requests_frame()["request_id"]) == {f"s{i}" for i in range(100)}
