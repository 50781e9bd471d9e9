"""Ground truth and model performance over time (pure functions on frames).

An observed-outcomes file (`geih monitor log-truth`) has one row per cell and period: columns `cell_id`,
`period` (the month 'YYYY-MM' or year 'YYYY' the prediction was for; '2024-03-01' reads as '2024-03') and
`observed` (0/1, e.g. whether hotspots were actually detected in the cell that month). A prediction row is
linked to its outcome by (task, cell_id, period), which the service logs from the request's ids.

Performance windows: by the predicted `period` (default), or by the UTC day/week/month the prediction was
made. When one cell and period was predicted several times by one model version, its latest prediction
counts. Metrics are geih.modelling.metrics.binary_metrics, per model version and window.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from geih.errors import DataError
from geih.modelling.metrics import binary_metrics
from geih.monitoring.windows import canonical_period, window_labels

TRUTH_COLUMNS = ("cell_id", "period", "observed")
STORED_METRICS = ("roc_auc", "pr_auc", "precision", "recall", "f1", "accuracy", "brier", "positive_rate")
_TRUE = {"1", "1.0", "true", "yes"}
_FALSE = {"0", "0.0", "false", "no"}


def parse_truth(frame: pd.DataFrame, file: str) -> pd.DataFrame:
    """The observed outcomes of a truth table, checked: (cell_id str, period canonical str, observed 0/1).
    A problem → DataError naming the file, row (header = row 1) and column."""
    missing = [c for c in TRUTH_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"missing column(s) {missing}; expected {list(TRUTH_COLUMNS)}", file=file, column=missing[0])
    cells, periods, observed = [], [], []
    for i, (cell, period, value) in enumerate(zip(frame["cell_id"], frame["period"], frame["observed"])):
        row = i + 2
        if cell is None or (isinstance(cell, float) and np.isnan(cell)) or str(cell).strip() == "":
            raise DataError("cell_id is empty", file=file, row=row, column="cell_id")
        key = canonical_period(period)
        if key is None:
            raise DataError("period is empty", file=file, row=row, column="period")
        text = str(value).strip().lower()
        if text not in _TRUE | _FALSE:
            raise DataError(f"observed must be 0 or 1, got {value!r}", file=file, row=row, column="observed")
        cells.append(_cell_key(cell))
        periods.append(key)
        observed.append(1 if text in _TRUE else 0)
    out = pd.DataFrame({"cell_id": cells, "period": periods, "observed": observed})
    conflicts = out.groupby(["cell_id", "period"])["observed"].nunique()
    if (conflicts > 1).any():
        cell, period = conflicts[conflicts > 1].index[0]
        raise DataError(f"cell {cell} period {period} is given both 0 and 1", file=file, column="observed")
    return out.drop_duplicates(["cell_id", "period"]).reset_index(drop=True)


def _cell_key(value: Any) -> str:
    """A cell id as the store keeps it: integers without a decimal part ('87', not '87.0')."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def performance_over_windows(labelled: pd.DataFrame, window_kind: str, threshold: float) -> pd.DataFrame:
    """binary_metrics per model name, model version and window of labelled prediction rows (columns ts,
    model_name, model_version, cell_id, period, probability, observed); windows sorted."""
    columns = ["model_name", "model_version", "window", "n", *STORED_METRICS]
    if labelled.empty:
        return pd.DataFrame(columns=columns)
    keys = ["model_name", "model_version", "cell_id", "period"]
    latest = labelled.sort_values("ts", kind="stable").drop_duplicates(keys, keep="last")
    window = latest["period"].to_numpy() if window_kind == "period" else window_labels(latest["ts"], window_kind)
    latest = latest.assign(window=window)
    rows = []
    for (name, version, label), sub in latest.groupby(["model_name", "model_version", "window"], sort=True):
        m = binary_metrics(sub["observed"].to_numpy(), sub["probability"].to_numpy(dtype=np.float64), threshold)
        rows.append({"model_name": name, "model_version": version, "window": label, "n": m["n"],
                     **{k: m[k] for k in STORED_METRICS}})
    return pd.DataFrame(rows, columns=columns)


def metric_rows(performance: pd.DataFrame, task: str, window_kind: str) -> list[dict[str, Any]]:
    """The store's metric rows (one per metric) of a performance_over_windows table."""
    return [{"task": task, "model_name": r["model_name"], "model_version": str(r["model_version"]),
             "window_kind": window_kind, "window": str(r["window"]), "metric": metric, "value": float(r[metric]),
             "n": int(r["n"])}
            for _, r in performance.iterrows() for metric in STORED_METRICS]


def metrics_table(stored: pd.DataFrame) -> pd.DataFrame:
    """Stored metric rows back to one row per model version and window (the performance table)."""
    if stored.empty:
        return pd.DataFrame(columns=["model_name", "model_version", "window_kind", "window", "n", *STORED_METRICS])
    wide = stored.pivot_table(index=["model_name", "model_version", "window_kind", "window", "n"],
                              columns="metric", values="value", aggfunc="last", dropna=False).reset_index()
    wide.columns.name = None
    return wide.sort_values(["window", "model_version"], kind="stable").reset_index(drop=True)
