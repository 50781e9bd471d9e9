"""Logging from the prediction service: a background writer (the service's `PredictionSink`) and a
resource sampler, built together by `monitoring_for_service`.

BackgroundWriter.submit never blocks and never raises: it puts the event on a bounded queue (`queue_size`
events). When the queue is full — the store cannot keep up, or is unreachable — the event is DROPPED and
COUNTED (`dropped`), with a warning logged on the first drop and on every `WARN_EVERY`th after; events
submitted after `close()` are dropped and counted the same way. One daemon thread takes what is queued
(up to `batch_size` events, waiting at most `flush_interval_s` after the first one for more, so a steady
trickle of single requests costs a few transactions a second rather than one each) and writes it in one
transaction; a failed write is retried `retries` times
with back-off, then its events are counted as `failed` and logged as an error. Nothing is lost silently:
`written + dropped + failed + queued` equals what was submitted, and the resource sampler records these
counters in the store (`geih monitor summary` reports them).
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from geih.monitoring.store import MonitorStore
from geih.serving.events import PredictionEvent

log = logging.getLogger(__name__)

WARN_EVERY = 1000
_STOP = object()


@dataclass(frozen=True)
class WriterStats:
    submitted: int
    written: int  # events committed to the store
    rows: int  # prediction rows committed
    dropped: int  # events refused because the queue was full or the writer closed
    failed: int  # events whose write failed after the retries
    queued: int  # accepted, not yet written (in the queue or being written)


class BackgroundWriter:
    """A PredictionSink writing events to a MonitorStore from one background thread."""

    def __init__(self, store: MonitorStore, *, queue_size: int = 10_000, batch_size: int = 500,
                 flush_interval_s: float = 0.25, retries: int = 3, retry_wait_s: float = 0.5) -> None:
        self.store = store
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.retries = retries
        self.retry_wait_s = retry_wait_s
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self._lock = threading.Lock()
        self._closed = False
        self._submitted = self._written = self._rows = self._dropped = self._failed = 0
        self._thread = threading.Thread(target=self._run, name="geih-monitor-writer", daemon=True)
        self._thread.start()

    def submit(self, event: PredictionEvent) -> None:
        """Queue `event`; drop and count it when the queue is full or the writer is closed."""
        with self._lock:
            self._submitted += 1
            if not self._closed:
                try:
                    self._queue.put_nowait(event)
                    return
                except queue.Full:
                    reason = "the queue is full"
            else:
                reason = "the writer is closed"
            self._dropped += 1
            dropped = self._dropped
        if dropped == 1 or dropped % WARN_EVERY == 0:
            log.warning("monitoring: dropped prediction event %s because %s (%d dropped so far)",
                        event.request_id, reason, dropped)

    def close(self, timeout_s: float = 60.0) -> None:
        """Write what is queued, then stop the thread (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._queue.put(_STOP)
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            log.error("monitoring: the writer did not finish within %.0f s; %d event(s) still queued",
                      timeout_s, self._queue.qsize())

    def stats(self) -> WriterStats:
        with self._lock:
            return WriterStats(submitted=self._submitted, written=self._written, rows=self._rows,
                               dropped=self._dropped, failed=self._failed,
                               queued=self._submitted - self._written - self._dropped - self._failed)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch = []
            item = self._queue.get()
            deadline = time.monotonic() + self.flush_interval_s
            while True:
                if item is _STOP:
                    stopping = True
                    break
                batch.append(item)
                if len(batch) >= self.batch_size:
                    break
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
            if batch:
                self._write(batch)

    def _write(self, batch: list[PredictionEvent]) -> None:
        for attempt in range(self.retries + 1):
            try:
                rows = self.store.insert_events(batch)
            except Exception as exc:  # the store is down or locked: retry, then count the loss
                if attempt < self.retries:
                    time.sleep(self.retry_wait_s * (2 ** attempt))
                    continue
                with self._lock:
                    self._failed += len(batch)
                log.error("monitoring: could not write %d prediction event(s) after %d attempts (%s: %s)",
                          len(batch), self.retries + 1, exc.__class__.__name__, str(exc).splitlines()[0])
                return
            with self._lock:
                self._written += len(batch)
                self._rows += rows
            return


def process_label(pid: int | None = None) -> str:
    """Identifies one service process across samples: pid@host:start time."""
    import psutil

    proc = psutil.Process(pid)
    return f"{proc.pid}@{socket.gethostname()}:{int(proc.create_time())}"


class ResourceSampler:
    """Samples the service process (CPU % of one core, resident memory), the store's size and the writer's
    counters every `interval_s` seconds from a daemon thread, into the store's `resources` table."""

    def __init__(self, store: MonitorStore, writer: BackgroundWriter | None = None, interval_s: float = 15.0) -> None:
        import psutil

        self.store, self.writer, self.interval_s = store, writer, interval_s
        self._process = psutil.Process(os.getpid())
        self._label = process_label(os.getpid())
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sample(self) -> dict[str, Any]:
        """One sample of the process and writer (the first CPU figure after start covers the time since)."""
        stats = self.writer.stats() if self.writer else None
        return {"ts": time.time(), "process": self._label, "cpu_percent": self._process.cpu_percent(None),
                "rss_bytes": int(self._process.memory_info().rss), "store_bytes": self.store.size_bytes(),
                "queued": stats.queued if stats else None, "written": stats.written if stats else None,
                "dropped": stats.dropped if stats else None, "failed": stats.failed if stats else None}

    def record(self) -> None:
        """Take one sample and store it; a store error is logged, not raised (monitoring must not stop
        the service)."""
        try:
            self.store.insert_resource_samples([self.sample()])
        except Exception as exc:
            log.warning("monitoring: could not record a resource sample (%s: %s)", exc.__class__.__name__, exc)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._process.cpu_percent(None)  # the first call only sets the reference point
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="geih-monitor-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(self.interval_s + 5)
        self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.record()


@dataclass
class MonitoringRuntime:
    """What the service needs: the sink to hand events to and the start/stop hooks of its lifespan."""

    store: MonitorStore
    sink: BackgroundWriter
    sampler: ResourceSampler
    _stopped: bool = False

    def start(self) -> None:
        """Start sampling resources (the writer runs from construction)."""
        self.sampler.start()

    def stop(self) -> None:
        """Stop sampling, flush the writer, record a last sample with the final counters, close the store."""
        if self._stopped:
            return
        self._stopped = True
        self.sampler.stop()
        self.sink.close()
        self.sampler.record()
        stats = self.sink.stats()
        if stats.dropped or stats.failed:
            log.warning("monitoring: %d event(s) dropped and %d failed out of %d submitted",
                        stats.dropped, stats.failed, stats.submitted)
        self.store.close()

    @property
    def hooks(self) -> tuple[Callable[[], None], Callable[[], None]]:
        return self.start, self.stop

    def submit(self, event: PredictionEvent) -> None:
        """The runtime is a PredictionSink too: events go to the writer."""
        self.sink.submit(event)

    def close(self) -> None:
        """As a sink: `stop()` (flush, last sample, close the store)."""
        self.stop()


def monitoring_for_service(db_url: str | None = None, *, queue_size: int = 10_000, batch_size: int = 500,
                           sample_interval_s: float = 15.0) -> MonitoringRuntime:
    """Open the store at `db_url` (default: GEIH_MONITOR_DB or the repo's monitoring/monitor.db) and build
    the writer and sampler for a service process. Call `start()` when the service starts and `stop()`
    when it stops (e.g. in the FastAPI lifespan); hand `sink` every PredictionEvent."""
    store = MonitorStore(db_url)
    writer = BackgroundWriter(store, queue_size=queue_size, batch_size=batch_size)
    return MonitoringRuntime(store=store, sink=writer, sampler=ResourceSampler(store, writer, sample_interval_s))


def service_sink() -> MonitoringRuntime:
    """The factory for `geih serve --sink geih.monitoring.writer:service_sink` (called once per worker): the
    store at GEIH_MONITOR_DB (or the repo default), with the resource sampler already started; the service's
    `sink.close()` at shutdown flushes the writer and stops the sampler."""
    runtime = monitoring_for_service()
    runtime.start()
    return runtime
