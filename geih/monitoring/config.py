"""The `monitor` params group, checked once: the drift rule, retention, windows and the thresholds of
`geih monitor check`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from geih.monitoring.drift import DriftRule
from geih.monitoring.windows import WINDOW_KINDS
from geih.params import check_keys, choice, group, number

MONITOR_KEYS = {"drift", "reference_years", "retention_days", "window_days", "performance_window", "seed", "check"}
CHECK_KEYS = {"min_drift_rows", "min_labelled_rows", "min_roc_auc", "max_brier", "max_error_rate",
              "max_latency_p95_ms", "max_dropped_share"}


@dataclass(frozen=True)
class CheckThresholds:
    """When `geih monitor check` calls a deployed model unhealthy (exit status 1)."""

    min_drift_rows: int  # fewer production rows in the window → drift not judged
    min_labelled_rows: int  # fewer labelled rows in the latest performance window → performance not judged
    min_roc_auc: float
    max_brier: float
    max_error_rate: float
    max_latency_p95_ms: float
    max_dropped_share: float  # dropped / (logged + dropped) prediction events


@dataclass(frozen=True)
class MonitorConfig:
    drift: DriftRule
    reference_years: int  # held-out drift (stage monitor): compare with the last N training years, 0 = all
    retention_days: float
    window_days: float
    performance_window: str
    seed: int
    check: CheckThresholds

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> MonitorConfig:
        """The `monitor` group of a whole params mapping; a bad key → ParamsError naming it."""
        p = group(params, "monitor")
        check_keys(p, MONITOR_KEYS, "monitor")
        c = group(params, "monitor.check")
        check_keys(c, CHECK_KEYS, "monitor.check")
        pre = "monitor.check"
        thresholds = CheckThresholds(
            min_drift_rows=int(number(c, "min_drift_rows", pre, low=1, integer=True)),
            min_labelled_rows=int(number(c, "min_labelled_rows", pre, low=1, integer=True)),
            min_roc_auc=float(number(c, "min_roc_auc", pre, low=0.0, high=1.0)),
            max_brier=float(number(c, "max_brier", pre, low=0.0, high=1.0)),
            max_error_rate=float(number(c, "max_error_rate", pre, low=0.0, high=1.0)),
            max_latency_p95_ms=float(number(c, "max_latency_p95_ms", pre, low=0.0)),
            max_dropped_share=float(number(c, "max_dropped_share", pre, low=0.0, high=1.0)))
        return cls(drift=DriftRule.from_params(group(params, "monitor.drift")),
                   reference_years=int(number(p, "reference_years", "monitor", low=0, integer=True)),
                   retention_days=float(number(p, "retention_days", "monitor", low=0.01)),
                   window_days=float(number(p, "window_days", "monitor", low=0.01)),
                   performance_window=choice(p, "performance_window", "monitor", WINDOW_KINDS),
                   seed=int(number(p, "seed", "monitor", integer=True)),
                   check=thresholds)
