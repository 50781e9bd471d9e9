"""Logging from the prediction service: a background writer (the service's `PredictionSink`) and a
resource sampler, built together by `monitoring_for_service`.

Two writers share one contract. `submit` never blocks and never raises: it puts the event on a bounded queue
(`queue_size` events). When the queue is full — the store cannot keep up, or is unreachable — the event is
DROPPED and COUNTED (`dropped`), with a warning logged on the first drop and on every `WARN_EVERY`th after;
events submitted after `close()` are dropped and counted the same way. The consumer takes what is queued (up to
`batch_size` events, waiting at most `flush_interval_s` after the first one for more, so a steady trickle of
single requests costs a few transactions a second rather than one each) and writes it in one transaction; a
failed write is retried `retries` times with back-off, then its events are counted as `failed` and logged as an
error. Nothing is lost silently: `written + dropped + failed + queued` equals what was submitted, and the
resource sampler records these counters in the store (`geih monitor summary` reports them).

- `ProcessWriter` (what the service uses): the consumer is a separate process (spawned, with its own store
  connection), fed through a `multiprocessing` queue, which it empties every `flush_interval_s`. The request path pays one `put_nowait` (the event is
  pickled by the queue's feeder thread); turning events into rows and the SQL inserts happen in the other
  process, so they neither hold this process's GIL nor take its time slices on a loaded machine. The writer
  process exits after writing what it was sent when the service closes it, or when the service process has
  died (SIGKILL: what had reached the OS pipe — up to 64 KiB, ≈ 45 one-row events of 42 features — is still
  written; what waited behind it in the service's memory is lost with the service). If the writer process itself dies, what it had
  not written is counted as `failed` at close and logged as an error.
- `BackgroundWriter`: the consumer is a daemon thread of the same process (for scripts and tests that log
  from one process without a second one).
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import queue
import signal
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
_STOP = None  # the end-of-stream marker on a writer's queue (None survives pickling as itself)
WRITER_NICE = 10  # the writer process yields the CPU to the service under contention
SHIELDED_SIGNALS = {signal.SIGINT, signal.SIGTERM}  # sent to a service's whole process group: the writer ignores them


@dataclass(frozen=True)
class WriterStats:
    submitted: int
    written: int  # events committed to the store
    rows: int  # prediction rows committed
    dropped: int  # events refused because the queue was full or the writer closed
    failed: int  # events whose write failed after the retries
    queued: int  # accepted, not yet written (in the queue or being written)


def next_batch(source: Any, batch_size: int, flush_interval_s: float) -> tuple[list[PredictionEvent], bool]:
    """(events, end of stream seen) from a queue: waits for the first item, then up to `flush_interval_s`
    for others, stopping at `batch_size` events or the end marker."""
    item = source.get()
    deadline = time.monotonic() + flush_interval_s
    batch: list[PredictionEvent] = []
    while True:
        if item is _STOP:
            return batch, True
        batch.append(item)
        if len(batch) >= batch_size:
            return batch, False
        try:
            item = source.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return batch, False


def write_batch(store: MonitorStore, batch: list[PredictionEvent], retries: int,
                retry_wait_s: float) -> tuple[int, int, int]:
    """Write `batch` in one transaction, retrying with back-off: (events written, rows written, events
    failed). A batch that still fails after `retries` retries is logged as an error and counted as failed."""
    for attempt in range(retries + 1):
        try:
            rows = store.insert_events(batch)
        except Exception as exc:  # the store is down or locked: retry, then count the loss
            if attempt < retries:
                time.sleep(retry_wait_s * (2 ** attempt))
                continue
            log.error("monitoring: could not write %d prediction event(s) after %d attempts (%s: %s)",
                      len(batch), retries + 1, exc.__class__.__name__, str(exc).splitlines()[0])
            return 0, 0, len(batch)
        return len(batch), rows, 0
    return 0, 0, len(batch)


class QueueFront:
    """The submit side both writers share: count the event, queue it without waiting, or drop and count it
    when the (bounded) queue is full or the writer is closed. Subclasses set the attributes below."""

    _queue: Any  # queue.Queue or multiprocessing.Queue: put_nowait raises queue.Full
    _lock: threading.Lock
    _closed: bool
    _submitted: int
    _dropped: int

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


class BackgroundWriter(QueueFront):
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
            batch, stopping = next_batch(self._queue, self.batch_size, self.flush_interval_s)
            if batch:
                written, rows, failed = write_batch(self.store, batch, self.retries, self.retry_wait_s)
                with self._lock:
                    self._written += written
                    self._rows += rows
                    self._failed += failed


class ProcessWriter(QueueFront):
    """A PredictionSink writing events to the store at `db_url` from a separate process (module docstring)."""

    def __init__(self, db_url: str, *, queue_size: int = 10_000, batch_size: int = 500,
                 flush_interval_s: float = 0.25, retries: int = 3, retry_wait_s: float = 0.5) -> None:
        context = multiprocessing.get_context("spawn")  # no fork of a threaded server
        self._queue: Any = context.Queue(maxsize=queue_size)
        self._done: Any = context.Array("q", 3)  # written, rows, failed: counted by the writer process
        self._lock = threading.Lock()
        self._closed = False
        self._submitted = self._dropped = self._lost = 0
        self._process = context.Process(
            target=_writer_process, name="geih-monitor-writer", daemon=True,
            args=(db_url, self._queue, self._done, batch_size, flush_interval_s, retries, retry_wait_s, os.getpid()))
        # SIGINT/SIGTERM blocked while the process starts: the mask is inherited, so a signal sent to the
        # service's process group while the writer is still importing waits until it ignores them
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, SHIELDED_SIGNALS)
        try:
            self._process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        atexit.register(self.close)  # before multiprocessing's own exit hook ends the daemon process

    def close(self, timeout_s: float = 60.0) -> None:
        """Send the end marker, wait for the writer process to write what is queued and exit (idempotent).
        Events a dead or stuck writer process did not write are counted as failed and logged."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        atexit.unregister(self.close)
        try:
            if self._process.is_alive():
                self._queue.put(_STOP, timeout=timeout_s)
        except queue.Full:
            log.error("monitoring: the writer process takes nothing from its queue")
        self._process.join(timeout_s)
        if self._process.is_alive():
            log.error("monitoring: the writer process did not finish within %.0f s; stopping it", timeout_s)
            self._process.kill()
            self._process.join(5)
        if self._process.exitcode != 0:
            self._queue.cancel_join_thread()  # what is still in the pipe has no reader
        self._queue.close()
        lost = self.stats().queued
        if lost:
            with self._lock:
                self._lost = lost
            log.error("monitoring: %d prediction event(s) were not written: the writer process exited with "
                      "code %s", lost, self._process.exitcode)

    def stats(self) -> WriterStats:
        with self._done.get_lock():
            written, rows, failed = self._done[:]
        with self._lock:
            failed += self._lost
            return WriterStats(submitted=self._submitted, written=written, rows=rows, dropped=self._dropped,
                               failed=failed, queued=self._submitted - written - self._dropped - failed)


def _writer_process(db_url: str, source: Any, done: Any, batch_size: int, flush_interval_s: float, retries: int,
                    retry_wait_s: float, parent_pid: int) -> None:
    """The body of ProcessWriter's process: every `flush_interval_s` it takes what is queued (up to
    `batch_size` events a transaction) into the store, until the end marker, or until the service process is
    gone and the queue is empty. Polling, rather than waking for each event, keeps it off the CPU between
    flushes, and it runs at nice +`WRITER_NICE`: on a loaded machine the service gets the CPU first (a writer
    that falls behind fills its queue, and drops are counted). SIGINT and SIGTERM sent to the service's process group are ignored: the service closes the writer
    (end marker), and its death is noticed here."""
    for signum in SHIELDED_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, SHIELDED_SIGNALS)
    try:
        os.nice(WRITER_NICE)
    except OSError:  # not allowed here: run at the service's priority
        log.debug("monitoring: could not lower the writer process's priority")
    store = MonitorStore(db_url)
    try:
        while True:
            batch, stopping = queued_events(source, batch_size)
            if batch:
                written, rows, failed = write_batch(store, batch, retries, retry_wait_s)
                with done.get_lock():
                    done[0] += written
                    done[1] += rows
                    done[2] += failed
            if stopping or (not batch and os.getppid() != parent_pid):
                return
            if len(batch) < batch_size:
                time.sleep(flush_interval_s)
    finally:
        store.close()


def queued_events(source: Any, batch_size: int) -> tuple[list[PredictionEvent], bool]:
    """(events, end of stream seen): what `source` holds now, up to `batch_size` events, without waiting."""
    batch: list[PredictionEvent] = []
    while len(batch) < batch_size:
        try:
            item = source.get_nowait()
        except queue.Empty:
            break
        if item is _STOP:
            return batch, True
        batch.append(item)
    return batch, False


def process_label(pid: int | None = None) -> str:
    """Identifies one service process across samples: pid@host:start time."""
    import psutil

    proc = psutil.Process(pid)
    return f"{proc.pid}@{socket.gethostname()}:{int(proc.create_time())}"


class ResourceSampler:
    """Samples the service process (CPU % of one core, resident memory), the store's size and the writer's
    counters every `interval_s` seconds from a daemon thread, into the store's `resources` table."""

    def __init__(self, store: MonitorStore, writer: BackgroundWriter | ProcessWriter | None = None,
                 interval_s: float = 15.0) -> None:
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
    sink: BackgroundWriter | ProcessWriter
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
    """Open the store at `db_url` (default: GEIH_MONITOR_DB or the repo's monitoring/monitor.db), creating its
    schema, and build the writer (a `ProcessWriter`) and sampler for a service process. Call `start()` when the
    service starts and `stop()` when it stops (e.g. in the FastAPI lifespan); hand `sink` every PredictionEvent."""
    store = MonitorStore(db_url)
    writer = ProcessWriter(store.url, queue_size=queue_size, batch_size=batch_size)
    return MonitoringRuntime(store=store, sink=writer, sampler=ResourceSampler(store, writer, sample_interval_s))


def service_sink() -> MonitoringRuntime:
    """The factory for `geih serve --sink geih.monitoring.writer:service_sink` (called once per worker): the
    store at GEIH_MONITOR_DB (or the repo default), with the resource sampler already started; the service's
    `sink.close()` at shutdown flushes the writer and stops the sampler."""
    runtime = monitoring_for_service()
    runtime.start()
    return runtime
