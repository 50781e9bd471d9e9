"""What the `alerts@<task>` stage computes from a task's test features (no I/O here): the alerts of the latest
period, the counts per level (metrics and plot rows) and the interactive map of every test period."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from geih.alerts.formats import level_counts
from geih.alerts.html_map import map_data, risk_map_html
from geih.alerts.table import AlertModel, build_alerts, score_frame


@dataclass(frozen=True)
class AlertOutputs:
    """The latest period's `alerts`, its `metrics` (counts per level), `plot` rows (cells per level) and the
    map's `data` and `html` (every period of the input)."""

    alerts: pd.DataFrame
    metrics: dict[str, Any]
    plot: pd.DataFrame
    data: dict[str, Any]
    html: str


def level_metrics(alerts: pd.DataFrame, scored_latest: pd.DataFrame, levels: tuple[str, ...],
                  all_levels: list[str]) -> dict[str, Any]:
    """alerted (total and per alerting level) and cells scored (total and per level) in the latest period."""
    return {"alerted": len(alerts), "alerted_by_level": level_counts(alerts, levels),
            "cells": len(scored_latest), "cells_by_level": level_counts(scored_latest, all_levels)}


MAP_TOP_FEATURES = ("alerted", "all")


def stage_outputs(test: pd.DataFrame, model: AlertModel, levels: tuple[str, ...], observed: np.ndarray,
                  states: list[dict[str, str]], title: str, observed_label: str, source: str,
                  map_top_features: str = "all") -> AlertOutputs:
    """Alerts of the latest period of `test`, their counts, and the map of every period (`observed`: a bool
    per row of `test`, the event the task predicts was seen). `map_top_features`: the map's cells whose top
    features are computed, 'all' or only the 'alerted' ones (at or above the lowest alerting level, in every
    period); the alerts themselves always have theirs."""
    if map_top_features not in MAP_TOP_FEATURES:
        raise ValueError(f"map_top_features must be one of {MAP_TOP_FEATURES}, got {map_top_features!r}")
    alerts = build_alerts(test, model, levels, "latest", source)
    scored = score_frame(test, model, source, explain_from=levels if map_top_features == "alerted" else None)
    latest = scored[scored["period"] == scored["period"].max()] if len(scored) else scored
    metrics = level_metrics(alerts, latest, levels, model.levels)
    plot = pd.DataFrame({"level": model.levels, "cells": [metrics["cells_by_level"][lv] for lv in model.levels],
                         "alerted": [lv in levels for lv in model.levels]})
    data = map_data(scored, observed, model.grid_resolution_deg, model.levels, levels, states, title,
                    observed_label, scored.attrs.get("attribution", ""), map_top_features)
    return AlertOutputs(alerts, metrics, plot, data, risk_map_html(data))
