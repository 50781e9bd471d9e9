"""What the prediction log says (pure functions on store frames): volume, latency, errors, resources,
writer losses; and the health findings behind `geih monitor check`."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from geih.monitoring.config import CheckThresholds
from geih.monitoring.drift import DriftReport
from geih.monitoring.windows import window_labels

PERCENTILES = (50, 90, 95, 99)


def _iso(ts: float | None) -> str | None:
    return None if ts is None else dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def latency_stats(latency_ms: Any) -> dict[str, float | None]:
    """p50/p90/p95/p99, mean and max of request latencies (None when there are none)."""
    values = np.asarray(latency_ms, dtype=np.float64)
    names = [f"p{p}" for p in PERCENTILES] + ["mean", "max"]
    if len(values) == 0:
        return dict.fromkeys(names)
    out = {f"p{p}": float(v) for p, v in zip(PERCENTILES, np.percentile(values, PERCENTILES))}
    return {**out, "mean": float(values.mean()), "max": float(values.max())}


def writer_counters(resources: pd.DataFrame) -> dict[str, int]:
    """Events dropped and failed by the service writers: each process's last counters (they count from
    the process start), summed over the processes sampled."""
    if resources.empty:
        return {"dropped": 0, "failed": 0, "processes": 0}
    last = resources.sort_values("ts", kind="stable").groupby("process").last()
    return {"dropped": int(last["dropped"].fillna(0).sum()), "failed": int(last["failed"].fillna(0).sum()),
            "processes": len(last)}


def summarize(requests: pd.DataFrame, resources: pd.DataFrame, *, task: str, since: float | None,
              until: float | None) -> dict[str, Any]:
    """Counts, error rate, latency percentiles (all requests), model versions, resource use and the
    writer's losses over the requests and resource samples given (already cut to the window)."""
    n = len(requests)
    errors = int(requests["error"].notna().sum()) if n else 0
    rows = int(requests["n_rows"].sum()) if n else 0
    writer = writer_counters(resources)
    lost = writer["dropped"] + writer["failed"]
    res: dict[str, Any] = {"samples": len(resources)}
    if len(resources):
        latest = resources.sort_values("ts", kind="stable").iloc[-1]
        cpu = resources["cpu_percent"].astype(float)
        rss = resources["rss_bytes"].astype(float) / 2**20
        store = resources["store_bytes"].dropna().astype(float) / 2**20
        res.update({"cpu_percent_mean": float(cpu.mean()), "cpu_percent_max": float(cpu.max()),
                    "rss_mb_last": float(latest["rss_bytes"]) / 2**20, "rss_mb_max": float(rss.max()),
                    "store_mb_last": float(store.iloc[-1]) if len(store) else None})
    versions = requests.groupby(["model_name", "model_version"]).size() if n else pd.Series(dtype=int)
    last = requests.sort_values("ts", kind="stable").iloc[-1] if n else None
    return {
        "task": task, "since": _iso(since), "until": _iso(until),
        "requests": n, "rows": rows, "errors": errors, "error_rate": errors / n if n else None,
        "first_request": _iso(float(requests["ts"].min())) if n else None,
        "last_request": _iso(float(requests["ts"].max())) if n else None,
        "current_model": None if last is None else {"name": last["model_name"], "version": str(last["model_version"])},
        "model_versions": [{"name": k[0], "version": str(k[1]), "requests": int(v)} for k, v in versions.items()],
        "latency_ms": latency_stats(requests["latency_ms"] if n else []),
        "resources": res,
        "writer": {**writer, "dropped_share": lost / (n + lost) if (n + lost) else None},
    }


@dataclass(frozen=True)
class Finding:
    """One health criterion: its value, the threshold, and ok (True/False; None = not judged)."""

    check: str
    value: Any
    threshold: Any
    ok: bool | None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def latest_performance(performance: pd.DataFrame, model_version: str | None, min_rows: int) -> dict[str, Any] | None:
    """The latest window with at least `min_rows` labelled rows, of `model_version` when it has one."""
    if performance.empty:
        return None
    table = performance[performance["n"] >= min_rows]
    if model_version is not None and (table["model_version"].astype(str) == model_version).any():
        table = table[table["model_version"].astype(str) == model_version]
    if table.empty:
        return None
    return table.sort_values("window", kind="stable").iloc[-1].to_dict()


def _above(name: str, value: float | None, limit: float, unit: str = "") -> Finding:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return Finding(name, None, limit, None, "no data in the window")
    return Finding(name, value, limit, bool(value <= limit), f"{value:.4g}{unit} (max {limit:g}{unit})")


def health_findings(summary: dict[str, Any], drift: DriftReport | None, drift_rows: int,
                    performance: dict[str, Any] | None, t: CheckThresholds) -> list[Finding]:
    """Each criterion of `geih monitor check`, judged against the thresholds (params monitor.check)."""
    out = [_above("error_rate", summary["error_rate"], t.max_error_rate),
           _above("latency_p95_ms", summary["latency_ms"]["p95"], t.max_latency_p95_ms, " ms"),
           _above("dropped_share", summary["writer"]["dropped_share"], t.max_dropped_share)]
    if drift is None or drift_rows < t.min_drift_rows:
        out.append(Finding("drift", None, t.min_drift_rows, None,
                           f"{drift_rows} production rows in the window; at least {t.min_drift_rows} needed"))
    else:
        out.append(Finding("drift", drift.drifted_features, drift.rule.max_drifted_features, not drift.drift_detected,
                           f"{len(drift.drifted_features)} feature(s) drifted (at most "
                           f"{drift.rule.max_drifted_features} allowed) over {drift_rows} rows"))
    if performance is None:
        out.append(Finding("performance", None, t.min_labelled_rows, None,
                           f"no performance window with at least {t.min_labelled_rows} labelled rows"))
    else:
        where = f"window {performance['window']}, version {performance['model_version']}, n={int(performance['n'])}"
        auc, brier = performance.get("roc_auc"), performance.get("brier")
        auc_ok = None if auc is None or math.isnan(auc) else bool(auc >= t.min_roc_auc)
        out.append(Finding("roc_auc", auc, t.min_roc_auc, auc_ok, f"{where} (min {t.min_roc_auc:g})"))
        brier_ok = None if brier is None or math.isnan(brier) else bool(brier <= t.max_brier)
        out.append(Finding("brier", brier, t.max_brier, brier_ok, f"{where} (max {t.max_brier:g})"))
    return out


def is_healthy(findings: list[Finding]) -> bool:
    """Healthy when no criterion failed (criteria without data are not failures)."""
    return all(f.ok is not False for f in findings)


def daily_series(requests: pd.DataFrame, rollups: pd.DataFrame) -> pd.DataFrame:
    """Per UTC day: requests, rows, errors and latency p50/p95 — from the raw requests, and from the daily
    rollups for days retention has already cut from the raw log."""
    columns = ["day", "requests", "rows", "errors", "latency_p50_ms", "latency_p95_ms"]
    parts = []
    if len(requests):
        frame = requests.assign(day=window_labels(requests["ts"], "day"), failed=requests["error"].notna())
        raw = frame.groupby("day").agg(requests=("ts", "size"), rows=("n_rows", "sum"), errors=("failed", "sum"),
                                       latency_p50_ms=("latency_ms", lambda s: float(np.percentile(s, 50))),
                                       latency_p95_ms=("latency_ms", lambda s: float(np.percentile(s, 95))))
        parts.append(raw.reset_index())
    if len(rollups):
        seen = set(parts[0]["day"]) if parts else set()
        old = rollups[~rollups["day"].isin(seen)]
        if len(old):
            weights = old["requests"].astype(float)
            grouped = old.assign(w50=old["latency_p50_ms"] * weights, w95=old["latency_p95_ms"] * weights,
                                 w=weights).groupby("day").sum(numeric_only=True)
            parts.append(pd.DataFrame({"day": grouped.index, "requests": grouped["requests"], "rows": grouped["rows"],
                                       "errors": grouped["errors"], "latency_p50_ms": grouped["w50"] / grouped["w"],
                                       "latency_p95_ms": grouped["w95"] / grouped["w"]}).reset_index(drop=True))
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns].sort_values("day").reset_index(drop=True)
