"""Alerting levels: parsing, refusals, and the selection at exact level boundaries."""

from __future__ import annotations

import numpy as np
import pytest

from geih.alerts.levels import alert_mask, parse_levels
from geih.domain.risk_levels import PROBABILITY_LEVELS, probability_level
from geih.errors import GeihError

LEVELS = list(PROBABILITY_LEVELS)


def test_levels_run_from_the_lowest_chosen_to_the_top():
    assert parse_levels("alto,crítico", LEVELS) == ("alto", "crítico")
    assert parse_levels("alto", LEVELS) == ("alto", "crítico")
    assert parse_levels(" crítico ", LEVELS) == ("crítico",)
    assert parse_levels(["médio", "alto", "crítico"], LEVELS) == ("médio", "alto", "crítico")


@pytest.mark.parametrize(("given", "message"), [
    ("alto,grave", "unknown risk level(s) ['grave']"), ("", "no risk level"),
    ("médio,crítico", "skips a level")])
def test_bad_levels_are_refused_with_the_option_named(given: str, message: str):
    with pytest.raises(GeihError, match="--levels") as err:
        parse_levels(given, LEVELS)
    assert message in str(err.value)


def test_a_probability_on_a_threshold_alerts_at_the_upper_level():
    probabilities = np.array([0.4999999, 0.5, 0.7499999, 0.75, 1.0, 0.0])
    index = np.searchsorted([0.25, 0.5, 0.75], probabilities, side="right")
    assert list(probability_level(probabilities)) == ["médio", "alto", "alto", "crítico", "crítico", "baixo"]
    assert alert_mask(index, ("alto", "crítico"), LEVELS).tolist() == [False, True, True, True, True, False]
    assert alert_mask(index, ("crítico",), LEVELS).tolist() == [False, False, False, True, True, False]
