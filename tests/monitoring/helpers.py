"""Shared builders for the monitoring tests: prediction events and small stores."""

from __future__ import annotations

import time
from typing import Any

from geih.serving.events import PredictionEvent


def event(request_id: str, *, n: int = 1, ts: float | None = None, features: list[dict[str, Any]] | None = None,
          ids: list[dict[str, Any]] | None = None, probability: float = 0.3, latency_ms: float = 5.0,
          version: str = "1", task: str = "fire_risk", error: str | None = None) -> PredictionEvent:
    """An answered request of `n` rows (features x, y unless given)."""
    rows = features if features is not None else [{"x": float(i), "y": None} for i in range(n)]
    return PredictionEvent(
        request_id=request_id, task=task, model_name=f"geih-{task.replace('_', '-')}", model_version=version,
        timestamp=time.time() if ts is None else ts, latency_ms=latency_ms, features=rows,
        probabilities=[probability] * len(rows), predictions=[int(probability >= 0.5)] * len(rows),
        ids=ids or [], error=error)
