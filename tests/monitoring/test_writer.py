"""The background writer (the service's PredictionSink) and the resource sampler: every submitted event
is written, dropped or failed — counted, never silently lost; submit never waits for the store."""

from __future__ import annotations

import logging
import threading

import pytest

from geih.monitoring.store import MonitorStore
from geih.monitoring.summary import writer_counters
from geih.monitoring.writer import (
    BackgroundWriter,
    ProcessWriter,
    ResourceSampler,
    monitoring_for_service,
    service_sink,
)
from tests.monitoring.helpers import event


class GatedStore:
    """A store whose writes wait until `gate` is set (a store that cannot keep up), or always fail."""

    def __init__(self, fail: bool = False) -> None:
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.fail = fail
        self.events = []

    def insert_events(self, events):
        self.entered.set()
        if self.fail:
            raise RuntimeError("database is down")
        self.gate.wait()
        self.events.extend(events)
        return sum(len(e.probabilities) for e in events)


def test_events_from_many_threads_are_all_written(tmp_path):
    store = MonitorStore(str(tmp_path / "m.db"))
    writer = BackgroundWriter(store, queue_size=100_000, batch_size=64)
    threads, per_thread = 8, 250

    def client(t: int) -> None:
        for i in range(per_thread):
            writer.submit(event(f"t{t}-{i}", n=2))

    workers = [threading.Thread(target=client, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    writer.close()
    stats = writer.stats()
    assert (stats.submitted, stats.written, stats.rows, stats.dropped, stats.failed, stats.queued) == (
        2000, 2000, 4000, 0, 0, 0)
    assert store.count("requests") == threads * per_thread and store.count("predictions") == 2 * threads * per_thread
    assert store.requests_frame()["request_id"].nunique() == threads * per_thread


def test_a_full_queue_drops_and_counts_with_a_warning(caplog):
    slow = GatedStore()
    writer = BackgroundWriter(slow, queue_size=5, batch_size=1)
    with caplog.at_level(logging.WARNING, logger="geih.monitoring.writer"):
        writer.submit(event("first"))
        assert slow.entered.wait(10)  # the writer holds 'first' and waits on the store
        for i in range(12):
            writer.submit(event(f"r{i}"))  # 5 fit in the queue, 7 are dropped — submit returns at once
    stats = writer.stats()
    assert stats.dropped == 7 and stats.queued == 6 and stats.submitted == 13
    assert "dropped prediction event r5" in caplog.text and "1 dropped so far" in caplog.text
    slow.gate.set()
    writer.close()
    stats = writer.stats()
    assert stats.written == 6 and stats.dropped == 7 and stats.queued == 0
    assert [e.request_id for e in slow.events] == ["first", "r0", "r1", "r2", "r3", "r4"]


def test_submit_after_close_is_counted_as_dropped():
    store = GatedStore()
    store.gate.set()
    writer = BackgroundWriter(store)
    writer.close()
    writer.submit(event("late"))
    writer.close()  # idempotent
    assert writer.stats().dropped == 1 and store.events == []


def test_failed_writes_are_retried_then_counted(caplog):
    broken = GatedStore(fail=True)
    writer = BackgroundWriter(broken, retries=2, retry_wait_s=0.0)
    with caplog.at_level(logging.ERROR, logger="geih.monitoring.writer"):
        writer.submit(event("a"))
        writer.close()
    stats = writer.stats()
    assert stats.failed == 1 and stats.written == 0 and stats.queued == 0
    assert "could not write 1 prediction event(s) after 3 attempts" in caplog.text


def test_sampler_records_process_and_writer_counters(tmp_path):
    store = MonitorStore(str(tmp_path / "m.db"))
    writer = BackgroundWriter(store)
    writer.submit(event("a"))
    writer.close()
    writer.submit(event("dropped"))
    sampler = ResourceSampler(store, writer, interval_s=3600)
    sampler.record()
    res = store.resources_frame()
    assert len(res) == 1 and res["rss_bytes"][0] > 10 * 2**20 and res["store_bytes"][0] > 0
    assert (res["written"][0], res["dropped"][0]) == (1, 1)
    assert writer_counters(res) == {"dropped": 1, "failed": 0, "processes": 1}


@pytest.mark.pipeline  # spawns the writer process
def test_runtime_for_the_service_flushes_and_records_on_stop(tmp_path):
    runtime = monitoring_for_service(str(tmp_path / "svc.db"), sample_interval_s=3600)
    start, stop = runtime.hooks
    start()
    for i in range(20):
        runtime.sink.submit(event(f"r{i}", n=3))
    stop()
    stop()  # a second stop is harmless
    check = MonitorStore(str(tmp_path / "svc.db"))
    assert check.count("predictions") == 60 and check.count("requests") == 20
    res = check.resources_frame()
    assert len(res) == 1 and res["written"][0] == 20 and res["dropped"][0] == 0
    assert isinstance(runtime.sink, ProcessWriter) and not runtime.sink._process.is_alive()


@pytest.mark.pipeline  # spawns the writer process
def test_process_writer_drops_and_counts_when_its_queue_is_full(tmp_path):
    """The writer process is still starting (importing) while 5 events arrive for a queue of 2: 2 are queued,
    3 dropped and counted; closing writes the 2."""
    db = str(tmp_path / "m.db")
    MonitorStore(db).close()
    writer = ProcessWriter(f"sqlite:///{db}", queue_size=2, flush_interval_s=5.0)
    for i in range(5):
        writer.submit(event(f"e{i}"))
    assert writer.stats().dropped == 3
    writer.close()
    writer.submit(event("late"))  # after close: dropped and counted too
    stats = writer.stats()
    assert (stats.submitted, stats.written, stats.dropped, stats.failed, stats.queued) == (6, 2, 4, 0, 0)
    assert MonitorStore(db).count("requests") == 2


@pytest.mark.pipeline  # spawns the writer process
def test_a_dead_writer_process_is_counted_as_failed_at_close(tmp_path, caplog):
    db = str(tmp_path / "m.db")
    MonitorStore(db).close()
    writer = ProcessWriter(f"sqlite:///{db}", flush_interval_s=5.0)
    for i in range(3):
        writer.submit(event(f"e{i}"))
    writer._process.kill()
    writer._process.join(30)
    with caplog.at_level(logging.ERROR, logger="geih.monitoring.writer"):
        writer.close()
    stats = writer.stats()
    assert stats.written + stats.failed == 3 and stats.failed > 0 and stats.queued == 0
    assert "were not written" in caplog.text


@pytest.mark.parametrize("n_rows", [0, 1])
def test_writer_accepts_empty_and_single_row_events(tmp_path, n_rows):
    store = MonitorStore(str(tmp_path / "m.db"))
    writer = BackgroundWriter(store)
    writer.submit(event("e", n=n_rows) if n_rows else event("e", features=[], error="bad input"))
    writer.close()
    assert store.count("requests") == 1 and store.count("predictions") == n_rows


@pytest.mark.pipeline  # spawns the writer process
def test_service_sink_factory_reads_the_env_and_is_a_sink(tmp_path, monkeypatch):
    """`geih serve --sink geih.monitoring.writer:service_sink`: a started runtime that is itself the sink."""
    monkeypatch.setenv("GEIH_MONITOR_DB", str(tmp_path / "env.db"))
    sink = service_sink()
    assert sink.sampler._thread is not None  # sampling from the start
    for i in range(5):
        sink.submit(event(f"r{i}", n=2))
    sink.close()
    check = MonitorStore(str(tmp_path / "env.db"))
    assert check.count("predictions") == 10 and len(check.resources_frame()) == 1
