"""Benchmark: the monitoring store's insert throughput and the cost of logging one prediction.

Measured in this one process on a fresh SQLite store in a temporary folder, with events shaped like the
fire-risk service's (one row, 42 features, ids), medians over `--repeats`:
  store_rows_per_s[batch]   MonitorStore.insert_events with batches of 1, 50 and 500 events
  writer_rows_per_s         BackgroundWriter end to end: submit `--events` events as fast as possible, then
                            close() (everything committed)
  submit_us                 the time one BackgroundWriter.submit call takes (what a request pays), beside
  null_submit_us            NullSink.submit, the floor of a method call
Prints JSON. Usage:
    python benchmarks/monitor_store.py [--events 20000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from geih.monitoring.store import MonitorStore
from geih.monitoring.writer import BackgroundWriter
from geih.serving.events import NullSink, PredictionEvent

FEATURES = [f"f{i}" for i in range(42)]


def make_events(n: int) -> list[PredictionEvent]:
    now = time.time()
    return [PredictionEvent(request_id=f"r{i}", task="fire_risk", model_name="geih-fire-risk", model_version="1",
                            timestamp=now, latency_ms=3.2, features=[{f: 0.5 + i % 7 for f in FEATURES}],
                            probabilities=[0.31], predictions=[0], ids=[{"cell_id": i % 1653, "period": "2024-07"}])
            for i in range(n)]


def store_rate(folder: Path, events: list[PredictionEvent], batch: int) -> float:
    store = MonitorStore(str(folder / f"store-{batch}-{time.perf_counter_ns()}.db"))
    start = time.perf_counter()
    for i in range(0, len(events), batch):
        store.insert_events(events[i:i + batch])
    rate = len(events) / (time.perf_counter() - start)
    store.close()
    return rate


def writer_run(folder: Path, events: list[PredictionEvent]) -> tuple[float, float]:
    """(rows/s end to end, median µs per submit) of one writer."""
    store = MonitorStore(str(folder / f"writer-{time.perf_counter_ns()}.db"))
    writer = BackgroundWriter(store, queue_size=len(events) + 1)
    costs = []
    start = time.perf_counter()
    for e in events:
        t0 = time.perf_counter_ns()
        writer.submit(e)
        costs.append(time.perf_counter_ns() - t0)
    writer.close()
    elapsed = time.perf_counter() - start
    stats = writer.stats()
    assert stats.written == len(events) and stats.dropped == 0, stats
    store.close()
    return len(events) / elapsed, statistics.median(costs) / 1000


def null_submit_us(events: list[PredictionEvent]) -> float:
    sink, costs = NullSink(), []
    for e in events:
        t0 = time.perf_counter_ns()
        sink.submit(e)
        costs.append(time.perf_counter_ns() - t0)
    return statistics.median(costs) / 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=20_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    events = make_events(args.events)
    small = events[: max(args.events // 10, 500)]
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for _ in range(args.repeats):
            for batch in (1, 50, 500):
                results.setdefault(f"store_rows_per_s_batch_{batch}", []).append(
                    store_rate(folder, small if batch == 1 else events, batch))
            rate, submit = writer_run(folder, events)
            results.setdefault("writer_rows_per_s", []).append(rate)
            results.setdefault("submit_us", []).append(submit)
            results.setdefault("null_submit_us", []).append(null_submit_us(events))
    out = {k: round(statistics.median(v), 2) for k, v in results.items()}
    out.update({"events": args.events, "repeats": args.repeats, "features_per_row": len(FEATURES)})
    print(json.dumps(out, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
