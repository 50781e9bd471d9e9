"""Probability levels of the deployed predictors: the model's probability binned into four named levels.

baixo < 0.25 ≤ médio < 0.5 ≤ alto < 0.75 ≤ crítico, on the *probability* of the label (a fire next month,
a clearing next year). These names are shared with INPE's five classes of its fire-risk *index*
(`geih.domain.fire_index.INPE_RISK_CLASSES`: mínimo/baixo/médio/alto/crítico at RF 0.15/0.40/0.70/0.95),
which are a different scale: never compare or mix the two.
"""

from __future__ import annotations

import numpy as np

PROBABILITY_LEVELS = ("baixo", "médio", "alto", "crítico")
PROBABILITY_THRESHOLDS = (0.25, 0.5, 0.75)
PROBABILITY_LEVEL_COLORS = {"baixo": "#2c7bb6", "médio": "#ffffbf", "alto": "#fdae61", "crítico": "#d7191c"}


def probability_level(probability: np.ndarray, thresholds: tuple[float, ...] = PROBABILITY_THRESHOLDS
                      ) -> np.ndarray:
    """The probability level of each probability: a value equal to a threshold takes the upper level."""
    if len(thresholds) != len(PROBABILITY_LEVELS) - 1 or list(thresholds) != sorted(thresholds):
        raise ValueError(f"thresholds must be {len(PROBABILITY_LEVELS) - 1} increasing numbers, got {thresholds}")
    idx = np.searchsorted(np.asarray(thresholds, dtype=float), np.asarray(probability, dtype=float), side="right")
    return np.asarray(PROBABILITY_LEVELS, dtype=object)[idx]
