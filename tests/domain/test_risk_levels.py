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


def test_risk_levels_at_each_threshold_and_around_it():
    for t, below, above in zip((0.25, 0.5, 0.75), ("baixo", "médio", "alto"), ("médio", "alto", "crítico")):
        out = probability_level(np.array([np.nextafter(t, 0.0), t, np.nextafter(t, 1.0)]))
        assert list(out) == [below, above, above]
    assert probability_level(np.array([[0.1, 0.9]])).tolist() == [["baixo", "crítico"]]


def test_risk_levels_with_other_thresholds_and_bad_ones():
    assert list(probability_level(np.array([0.05, 0.1, 0.15, 0.2, 0.35]), (0.1, 0.2, 0.3))) == [
        "baixo", "médio", "médio", "alto", "crítico"]
    assert list(probability_level(np.array([0.5]), (0.5, 0.5, 0.5))) == ["crítico"]  # equal is allowed
    for bad in [(0.25, 0.5), (0.25, 0.5, 0.75, 0.9), (0.75, 0.5, 0.25), (0.25, 0.75, 0.5)]:
        with pytest.raises(ValueError, match="thresholds must be 3 increasing numbers"):
            probability_level(np.array([0.1]), bad)
