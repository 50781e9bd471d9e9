"""The bundle's predict.py bins probabilities into the same risk levels as the library
(`geih.domain.risk_levels.probability_level`), also exactly at each threshold, and predicts 1 from the
operating threshold on. Tested through the bundle's public `predict(records, model, info)` with a model
that returns its one feature as the probability, so every probability is the exact float given.

predict.py is imported under its package name (the file every bundle copies), so that mutation testing
(`make mutation`) sees these tests exercise it; `load_predictor` loads the same file from a bundle folder."""

from __future__ import annotations

from importlib import import_module

import numpy as np
import pandas as pd

from geih.domain.risk_levels import PROBABILITY_LEVELS, PROBABILITY_THRESHOLDS, probability_level
from geih.lifecycle.bundle import TEMPLATE_DIR, load_predictor


class EchoModel:
    """predict_proba returns the feature `p` itself as the positive-class probability."""

    def predict_proba(self, X):
        p = np.asarray(X, dtype=np.float64)[:, 0]
        return np.column_stack([1.0 - p, p])


INFO = {
    "features": ["p"],
    "input_schema": {"features": [{"name": "p", "dtype": "float64", "minimum": 0.0, "maximum": 1.0,
                                   "nullable": False}]},
    "threshold": 0.5, "risk_thresholds": list(PROBABILITY_THRESHOLDS), "risk_levels": list(PROBABILITY_LEVELS),
}
# each threshold, the largest float below it and the smallest above it; the ends of [0, 1]
PROBABILITIES = [0.0, 1.0] + [float(v) for t in PROBABILITY_THRESHOLDS
                              for v in (np.nextafter(t, 0.0), t, np.nextafter(t, 1.0))]


def bundle_module():
    return import_module("geih.lifecycle.bundle_files.predict")


def bundle_predictions(probabilities: list[float]) -> list[dict]:
    return bundle_module().predict([{"p": p} for p in probabilities], EchoModel(), INFO)


def test_the_module_is_the_file_bundles_load():
    loaded = load_predictor(TEMPLATE_DIR)
    assert loaded.__file__ == bundle_module().__file__
    assert loaded.predict([{"p": 0.5}], EchoModel(), INFO) == bundle_predictions([0.5])


def test_levels_at_each_threshold_match_the_library():
    out = bundle_predictions(PROBABILITIES)
    assert [r["risk_level"] for r in out] == list(probability_level(np.array(PROBABILITIES)))
    # spelled out: a probability equal to a threshold takes the upper level
    by_p = {p: r["risk_level"] for p, r in zip(PROBABILITIES, out)}
    for t, below, above in zip(PROBABILITY_THRESHOLDS, PROBABILITY_LEVELS, PROBABILITY_LEVELS[1:]):
        assert by_p[float(np.nextafter(t, 0.0))] == below and by_p[t] == above
    assert by_p[0.0] == "baixo" and by_p[1.0] == "crítico"


def test_prediction_is_one_from_the_operating_threshold_on():
    out = bundle_predictions([float(np.nextafter(0.5, 0.0)), 0.5, 0.9, 0.1])
    assert [r["prediction"] for r in out] == [0, 1, 1, 0]
    assert [r["probability"] for r in out][2:] == [0.9, 0.1]


def test_levels_follow_the_bundles_own_thresholds():
    """The bundle reads its thresholds from model_info.json, not from a copy of the library's."""
    info = {**INFO, "risk_thresholds": [0.1, 0.2, 0.3]}
    out = bundle_module().predict([{"p": p} for p in (0.05, 0.1, 0.25, 0.3)], EchoModel(), info)
    assert [r["risk_level"] for r in out] == ["baixo", "médio", "alto", "crítico"]
    assert list(probability_level(np.array([0.05, 0.1, 0.25, 0.3]), (0.1, 0.2, 0.3))) == [
        r["risk_level"] for r in out]


def test_the_predictions_frame_levels_are_the_librarys():
    """evaluate writes risk_level with the library; the same probabilities through the bundle agree."""
    rng = np.random.default_rng(0)
    probabilities = np.concatenate([rng.random(200), PROBABILITIES])
    out = bundle_predictions(probabilities.tolist())
    frame = pd.DataFrame({"library": probability_level(probabilities), "bundle": [r["risk_level"] for r in out]})
    assert (frame["library"] == frame["bundle"]).all()


def test_the_bundle_risk_levels_helper_matches_the_library_at_each_threshold():
    """`risk_levels` (the helper bundle users call on their own probabilities): the same levels as the library,
    as an object array of the input's shape."""
    probabilities = np.array(PROBABILITIES)
    out = bundle_module().risk_levels(probabilities, list(PROBABILITY_THRESHOLDS), list(PROBABILITY_LEVELS))
    assert out.dtype == object and out.shape == probabilities.shape
    assert out.tolist() == list(probability_level(probabilities))
    grid = bundle_module().risk_levels(np.array([[0.0, 0.5], [0.49, 1.0]]), [0.5], ["low", "high"])
    assert grid.tolist() == [["low", "high"], ["low", "high"]]
