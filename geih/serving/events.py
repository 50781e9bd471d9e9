"""What the prediction service hands to monitoring: one `PredictionEvent` per answered request,
given to a `PredictionSink` that must never block the response (the monitoring store's background
writer implements it; `NullSink` drops events for a service run without monitoring)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class PredictionEvent:
    """One answered prediction request: its rows' inputs and outputs, and how long it took."""

    request_id: str
    task: str
    model_name: str
    model_version: str
    timestamp: float  # seconds since the epoch, UTC, when the request arrived
    latency_ms: float  # time spent validating and scoring the request
    features: list[dict[str, float | None]]  # one mapping per row, in the model's feature order
    probabilities: list[float]
    predictions: list[int]


class PredictionSink(Protocol):
    """Receives prediction events. `submit` returns at once (it queues or drops, never waits);
    `close` flushes what is queued and stops any background work."""

    def submit(self, event: PredictionEvent) -> None: ...

    def close(self) -> None: ...


class NullSink:
    """A sink that keeps nothing (service started without monitoring); counts what it was given."""

    def __init__(self) -> None:
        self.submitted = 0

    def submit(self, event: PredictionEvent) -> None:
        self.submitted += 1

    def close(self) -> None:
        return None
