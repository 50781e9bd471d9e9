"""The helpers of benchmarks/model_costs.py: the family swap in the train group, medians of repeated calls."""

from __future__ import annotations

import pytest

from tests.conftest import load_benchmark


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("model_costs")


def test_with_model_swaps_only_the_tasks_model(bench):
    train = {"seed": 1, "n_estimators": 10, "fire_risk": {"model": "xgboost", "max_depth": 3},
             "deforestation": {"model": "lightgbm"}}
    swapped = bench.with_model(train, "fire_risk", "random_forest")
    assert swapped["fire_risk"] == {"model": "random_forest", "max_depth": 3}
    assert swapped["deforestation"] == {"model": "lightgbm"} and swapped["n_estimators"] == 10
    assert train["fire_risk"]["model"] == "xgboost"  # the input is not changed
    assert bench.with_model({"seed": 1}, "t", "xgboost") == {"seed": 1, "t": {"model": "xgboost"}}


def test_interleaved_medians_alternate_the_runs_and_take_each_median(bench, monkeypatch):
    calls = []
    clock = iter([0.0, 1.0, 1.0, 4.0,   # round 1: a takes 1 s, b 3 s
                  4.0, 9.0, 9.0, 10.0,  # round 2: a 5 s, b 1 s
                  10.0, 12.0, 12.0, 14.0])  # round 3: a 2 s, b 2 s
    monkeypatch.setattr(bench.time, "perf_counter", lambda: next(clock))
    medians = bench.interleaved_medians({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, 3)
    assert calls == ["a", "b", "a", "b", "a", "b"]
    assert medians == {"a": 2.0, "b": 2.0}


def test_one_run_gives_the_median_of_its_repeated_calls(bench, monkeypatch):
    clock = iter([0.0, 1.0, 1.0, 5.0, 5.0, 7.0])
    monkeypatch.setattr(bench.time, "perf_counter", lambda: next(clock))
    assert bench.interleaved_medians({"featurize": lambda: None}, 3) == {"featurize": 2.0}


def test_repeats_below_one_are_refused(bench):
    with pytest.raises(ValueError, match="repeats must be ≥ 1, got 0"):
        bench.interleaved_medians({"a": lambda: None}, 0)
