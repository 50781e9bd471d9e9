"""Risk levels of the deployed predictors (baixo < 0.25 ≤ médio < 0.5 ≤ alto < 0.75 ≤ crítico)."""

from __future__ import annotations

import numpy as np

RISK_LEVELS = ("baixo", "médio", "alto", "crítico")
DEFAULT_THRESHOLDS = (0.25, 0.5, 0.75)
RISK_COLORS = {"baixo": "#2c7bb6", "médio": "#ffffbf", "alto": "#fdae61", "crítico": "#d7191c"}


def risk_level(probability: np.ndarray, thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS) -> np.ndarray:
    """The risk level of each probability: a value equal to a threshold takes the upper level."""
    if len(thresholds) != len(RISK_LEVELS) - 1 or list(thresholds) != sorted(thresholds):
        raise ValueError(f"thresholds must be {len(RISK_LEVELS) - 1} increasing numbers, got {thresholds}")
    idx = np.searchsorted(np.asarray(thresholds, dtype=float), np.asarray(probability, dtype=float), side="right")
    return np.asarray(RISK_LEVELS, dtype=object)[idx]
