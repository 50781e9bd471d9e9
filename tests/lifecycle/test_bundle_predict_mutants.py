"""The bundle's `predict(records, model, info)` on a regression bundle (one value per target) and its fallback to
the bundle's own model files when `model` or `info` is not given (cases found by mutation testing)."""

from __future__ import annotations

from importlib import import_module

import numpy as np
import pytest

from tests.lifecycle.test_bundle_risk_levels import INFO, EchoModel


def bundle_module():
    return import_module("geih.lifecycle.bundle_files.predict")


class TwoTargetModel:
    """predict gives (2·a, a + b) for features (a, b), from a matrix or a DataFrame alike."""

    def predict(self, X):
        m = np.asarray(X, dtype=np.float64)
        return np.column_stack([2 * m[:, 0], m[:, 0] + m[:, 1]])


REGRESSION_INFO = {
    "kind": "regression",
    "input_schema": {"features": [{"name": "a", "dtype": "float64", "nullable": False},
                                  {"name": "b", "dtype": "float64", "nullable": False}]},
    "threshold": None, "risk_thresholds": [], "risk_levels": [],
    "targets": [{"name": "precip", "unit": "mm"}, {"name": "tmax", "unit": "°C"}],
}


def test_a_regression_bundle_predicts_one_value_per_target():
    records = [{"a": 1.0, "b": 2.0}, {"b": -1.0, "a": 3.0}]  # key order of a record does not matter
    out = bundle_module().predict(records, TwoTargetModel(), REGRESSION_INFO)
    assert out == [{"precip": 2.0, "tmax": 3.0}, {"precip": 6.0, "tmax": 2.0}]


@pytest.mark.parametrize("given", ["nothing", "model only", "info only"])
def test_the_bundle_files_are_loaded_unless_both_model_and_info_are_given(monkeypatch, given):
    module = bundle_module()
    loads = []

    def fake_load_bundle():
        loads.append(1)
        return EchoModel(), INFO

    monkeypatch.setattr(module, "load_bundle", fake_load_bundle)
    kwargs = {"nothing": {}, "model only": {"model": TwoTargetModel()},
              "info only": {"info": REGRESSION_INFO}}[given]
    out = module.predict([{"p": 0.75}], **kwargs)
    assert loads == [1]  # the bundle's own (EchoModel, INFO) scored the record, not the partial arguments
    assert (out[0]["prediction"], out[0]["probability"]) == (1, 0.75)
    assert module.predict([{"p": 0.25}], EchoModel(), INFO)[0]["prediction"] == 0 and loads == [1]
