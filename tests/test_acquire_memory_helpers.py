"""The helpers of benchmarks/acquire_memory.py: phases recorded around wrapped calls, and which raised the peak."""

from __future__ import annotations

import types

import pytest

from tests.conftest import load_benchmark


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("acquire_memory")


def test_wrapped_calls_record_memory_around_them_and_keep_their_results(bench):
    # in call order: outer's rss and peak before, inner's before, inner's after, outer's after
    readings = iter([1.0, 2.0, 1.5, 2.5, 1.1, 2.0, 1.2, 2.0])

    def rss():
        return next(readings)

    def peak():
        return next(readings)

    module = types.ModuleType("geih.fake.synthetic")
    module.inner = lambda x: x * 2
    module.outer = lambda x: module.inner(x) + 1
    phases = []
    bench.record_phases(module, ["outer", "inner"], phases, rss=rss, peak=peak)
    assert module.outer(3) == 7
    assert [p["phase"] for p in phases] == ["synthetic.inner", "synthetic.outer"]  # listed as they end
    assert phases[0]["rss_before_gb"] == 1.5 and phases[0]["peak_before_gb"] == 2.5
    assert phases[1]["rss_before_gb"] == 1.0 and phases[1]["peak_after_gb"] == 2.0
    assert module.outer.__name__ == "<lambda>" and phases[1]["seconds"] >= 0


def test_peak_raisers_lists_the_phases_that_raised_the_peak_largest_first(bench):
    phases = [{"phase": "a", "peak_before_gb": 1.0, "peak_after_gb": 1.0},
              {"phase": "b", "peak_before_gb": 1.0, "peak_after_gb": 1.4},
              {"phase": "c", "peak_before_gb": 1.4, "peak_after_gb": 2.5}]
    assert bench.peak_raisers(phases) == [("c", 1.1), ("b", 0.4)]
    assert bench.peak_raisers([]) == []


def test_every_listed_phase_exists_in_the_generator(bench):
    import importlib

    for name, functions in bench.PHASES.items():
        module = importlib.import_module(name)
        assert all(callable(getattr(module, f, None)) for f in functions), (name, functions)


def test_a_detail_names_what_each_call_was_about(bench):
    module = types.ModuleType("geih.fake.folder")
    module.load = lambda path, kind: kind.upper()
    phases = []
    bench.record_phases(module, ["load"], phases, rss=lambda: 1.0, peak=lambda: 1.0,
                        detail=lambda name, args: args[1] if name == "load" else "")
    assert module.load("raw/weather", "weather") == "WEATHER"
    assert [p["phase"] for p in phases] == ["folder.load (weather)"]


@pytest.fixture(scope="module")
def prepare_bench():
    return load_benchmark("prepare_memory")


def test_prepare_memory_wraps_functions_that_exist(prepare_bench):
    import importlib

    for name, functions in prepare_bench.PHASES.items():
        module = importlib.import_module(name)
        assert all(callable(getattr(module, f, None)) for f in functions), (name, functions)


def test_prepare_memory_names_the_raw_folder_of_each_read(prepare_bench):
    assert prepare_bench.folder_kind("load_folder", ("raw/weather", "weather", None)) == "weather"
    assert prepare_bench.folder_kind("weather_cube", ("grid", "cells", "frame")) == ""
