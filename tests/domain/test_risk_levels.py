"""Probability → risk level (baixo, médio, alto, crítico)."""

from __future__ import annotations

import numpy as np
import pytest

from geih.domain.risk_levels import probability_level


def test_risk_levels_boundaries():
    levels = probability_level(np.array([0.0, 0.2499, 0.25, 0.5, 0.7499, 0.75, 1.0]))
    assert list(levels) == ["baixo", "baixo", "médio", "alto", "alto", "crítico", "crítico"]
    with pytest.raises(ValueError):
        probability_level(np.array([0.1]), (0.5, 0.25, 0.75))
