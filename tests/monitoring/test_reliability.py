"""The store under real processes: N writer processes × M events → exactly N×M rows (including the race
to create a new store), a reader is not blocked by an open write transaction, and a writer killed with
SIGKILL mid-stream corrupts nothing and keeps every batch it committed."""

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
from geih.monitoring.writer import BackgroundWriter
from tests.monitoring.helpers import event

db, name, m = sys.argv[1], sys.argv[2], int(sys.argv[3])
writer = BackgroundWriter(MonitorStore(db), batch_size=25)
for i in range(m):
    writer.submit(event(f"{name}-{i}", n=1))
writer.close()
s = writer.stats()
print(s.written, s.dropped, s.failed)
"""


def test_n_writer_processes_write_exactly_n_times_m_rows(tmp_path: Path):
    db, n, m = str(tmp_path / "shared.db"), 4, 300
    procs = [child(WRITER, db, f"p{k}", str(m)) for k in range(n)]  # all race to create the new store
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
