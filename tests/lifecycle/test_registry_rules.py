"""The champion/challenger rule at its edges: exactly the minimum improvement, exactly the floor, a
lower-is-better metric (Brier) in both directions, missing or non-finite numbers, and the params checks."""

from __future__ import annotations

import math
import re

import pytest

from geih.errors import ParamsError
from geih.lifecycle.registry import (
    CHALLENGER,
    CHAMPION,
    Champion,
    check_register_params,
    decide_alias,
    metric_tags,
)
from geih.lifecycle.task_definition import TaskDefinition

AUC = {"metric": "roc_auc", "higher_is_better": True, "min_improvement": 0.01, "min_roc_auc": 0.6}
BRIER = {"metric": "brier", "higher_is_better": False, "min_improvement": 0.01, "min_roc_auc": 0.6}
DEF = TaskDefinition("fire_risk", {"grid_resolution_deg": 0.5}, "aaaa", {"test_years": 1})


def test_exactly_the_minimum_improvement_promotes():
    champ = Champion("1", {"roc_auc": 0.75}, None)
    assert decide_alias({"roc_auc": 0.76}, champ, AUC)[0] == CHAMPION
    assert decide_alias({"roc_auc": 0.7599}, champ, AUC)[0] == CHALLENGER
    assert decide_alias({"roc_auc": 0.75}, champ, {**AUC, "min_improvement": 0.0})[0] == CHAMPION  # a tie


def test_brier_lower_is_better_in_both_directions():
    champ = Champion("2", {"roc_auc": 0.8, "brier": 0.20}, DEF)
    alias, reason = decide_alias({"roc_auc": 0.7, "brier": 0.19}, champ, BRIER, DEF)  # exactly 0.01 lower
    assert alias == CHAMPION and "brier 0.1900 beats the champion's 0.2000 by 0.0100" in reason
    alias, reason = decide_alias({"roc_auc": 0.95, "brier": 0.21}, champ, BRIER, DEF)  # higher Brier: worse
    assert alias == CHALLENGER and "does not beat the champion's 0.2000" in reason
    # the same numbers with higher_is_better: the higher Brier would win
    assert decide_alias({"roc_auc": 0.95, "brier": 0.21}, champ, {**BRIER, "higher_is_better": True}, DEF)[0] == CHAMPION
    # higher_is_better left out means higher is better
    no_flag = {k: v for k, v in AUC.items() if k != "higher_is_better"}
    assert decide_alias({"roc_auc": 0.70}, Champion("1", {"roc_auc": 0.8}, None), no_flag)[0] == CHALLENGER


def test_the_roc_auc_floor_is_inclusive_and_applies_whatever_the_metric():
    assert decide_alias({"roc_auc": 0.6}, None, AUC) == (CHAMPION, "no current champion")
    alias, reason = decide_alias({"roc_auc": 0.5999}, None, AUC)
    assert alias == CHALLENGER and reason == "roc_auc 0.5999 below the floor register.min_roc_auc=0.6"
    alias, reason = decide_alias({"brier": 0.01, "roc_auc": 0.55}, None, BRIER)
    assert alias == CHALLENGER and "below the floor" in reason
    alias, reason = decide_alias({"brier": 0.01}, None, BRIER)
    assert alias == CHALLENGER and reason.startswith("roc_auc missing below the floor")


@pytest.mark.parametrize("value", [None, "n/a", math.nan, math.inf])
def test_a_metric_that_is_not_a_finite_number_never_promotes(value):
    alias, reason = decide_alias({"roc_auc": value}, None, AUC)
    assert alias == CHALLENGER and reason == "roc_auc missing from the new version's metrics"


def test_a_champion_without_the_metric_is_replaced():
    alias, reason = decide_alias({"roc_auc": 0.7, "brier": 0.3}, Champion("5", {"roc_auc": 0.9}, None), BRIER)
    assert alias == CHAMPION and reason == "champion version 5 has no brier to compare with"
    nan_champ = Champion("6", {"roc_auc": math.nan}, None)
    assert decide_alias({"roc_auc": 0.7}, nan_champ, AUC)[0] == CHAMPION


def test_without_a_definition_the_metric_decides():
    champ = Champion("3", {"roc_auc": 0.9}, DEF)
    assert decide_alias({"roc_auc": 0.95}, champ, AUC, None)[0] == CHAMPION
    assert decide_alias({"roc_auc": 0.95}, champ, AUC, DEF)[0] == CHAMPION
    assert decide_alias({"roc_auc": 0.85}, champ, AUC, DEF)[0] == CHALLENGER


@pytest.mark.parametrize("change,key,words", [
    ({"metric": 3}, "register.metric", "expected a metric name such as roc_auc"),
    ({"higher_is_better": "yes"}, "register.higher_is_better", "expected true or false, got 'yes'"),
    ({"min_improvement": -0.1}, "register.min_improvement", "got -0.1"),
    ({"min_roc_auc": 1.5}, "register.min_roc_auc", "[0.0, 1.0], got 1.5"),
    ({"min_roc_auc": -0.1}, "register.min_roc_auc", "[0.0, 1.0], got -0.1"),
    ({"extra": 1}, "register", "extra"),
])
def test_register_params_are_checked(change: dict, key: str, words: str):
    check_register_params(AUC)
    check_register_params({k: v for k, v in AUC.items() if k != "higher_is_better"})
    with pytest.raises(ParamsError) as err:
        check_register_params({**AUC, **change})
    # the words whole (not inside longer ones)
    assert err.value.key.startswith(key) and re.search(rf"(?<!\w){re.escape(words)}(?!\w)", str(err.value)), str(err.value)


def test_metric_tags_keep_finite_numbers_only():
    tags = metric_tags({"roc_auc": 0.8, "n": 10, "flag": True, "nan": math.nan, "inf": math.inf, "name": "x",
                        "nested": {"a": 1}})
    assert tags == {"metric.roc_auc": "0.8", "metric.n": "10"}


def test_a_champion_of_another_task_definition_is_not_compared_and_the_reason_says_why():
    old = TaskDefinition("fire_risk", {"grid_resolution_deg": 0.5, "dedup": "reference"}, "aaaa", {"test_years": 1})
    new = TaskDefinition("fire_risk", {"grid_resolution_deg": 1.0, "dedup": "place_time"}, "aaaa", {"test_years": 1})
    alias, reason = decide_alias({"roc_auc": 0.99}, Champion("3", {"roc_auc": 0.9}, old), AUC, new)
    assert alias == CHALLENGER and reason == (
        "champion version 3 was trained for another task definition (prepare.fire_risk.dedup reference vs place_time, "
        "prepare.fire_risk.grid_resolution_deg 0.5 vs 1.0): not compared; this version becomes challenger "
        "(`geih models best --promote` moves champion)")
    alias, reason = decide_alias({"roc_auc": 0.99}, Champion("4", {"roc_auc": 0.9}, None), AUC, new)
    assert alias == CHALLENGER and reason == ("champion version 4 records no task definition: not compared; this "
                                              "version becomes challenger (`geih models best --promote` moves champion)")
