"""What the prediction service hands to monitoring: one `PredictionEvent` per answered request,
given to a `PredictionSink` that must never block the response (the monitoring store's background
writer implements it; `NullSink` drops events for a service run without monitoring)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


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
    # Optional keys of each row that are not model features, one mapping per row (or empty): "cell_id" and
    # "period" (the month 'YYYY-MM' or year 'YYYY' predicted) link a logged prediction to the ground truth
    # observed later (`geih monitor log-truth`); any other keys are kept with the row.
    ids: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None  # set when the request failed (no rows scored): counted in the error rate


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
