"""Top contributing features: exact for XGBoost/LightGBM (their own TreeSHAP) and logistic regression
(coefficient × standardized value); none, with the reason, for families without a cheap exact method."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geih.alerts.attribution import contributions, top_features
from geih.modelling.families import build_model

FEATURES = ["a", "b", "c"]


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.Series]:
    """The label depends on `a` (strongly) and `b` (weakly); `c` is noise."""
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(600, 3)), columns=FEATURES)
    y = pd.Series((2.5 * X["a"] + 0.5 * X["b"] + rng.normal(0, 0.5, 600) > 0).astype(int))
    return X, y


@pytest.mark.parametrize("family", ["xgboost", "lightgbm"])
def test_tree_contributions_add_up_to_the_margin(family: str, data):
    X, y = data
    model = build_model(family, {"n_estimators": 30, "min_samples_leaf": 5}, 0, 1).fit(X, y)
    method, values = contributions(model, X)
    assert family in method and values.shape == (600, 3)
    p = model.predict_proba(X)[:, 1]
    margin = np.log(p / (1 - p))
    bias = margin - values.sum(axis=1)  # one constant (the base score) when the contributions are exact
    assert np.ptp(bias) < 1e-4
    top = top_features(model, X[X["a"] > 1.5], k=3)
    assert (top.index[:, 0] == 0).all()  # a high `a` is what pushed these rows up
    assert (np.diff(top.contribution, axis=1) <= 0).all()


def test_logistic_contributions_are_coefficient_times_standardized_value(data):
    X, y = data
    model = build_model("logistic_regression", {"C": 1.0}, 0, 1).fit(X, y)
    method, values = contributions(model, X)
    assert "standardized" in method
    z = (X - X.mean()) / X.std(ddof=0)
    expected = z.to_numpy() * model.named_steps["model"].coef_[0]
    np.testing.assert_allclose(values, expected, rtol=1e-9, atol=1e-9)
    top = top_features(model, X.iloc[:5], k=2)
    assert top.index.shape == (5, 2) and top.supported


@pytest.mark.parametrize(("family", "params", "reason"), [
    ("random_forest", {"n_estimators": 5}, "no cheap exact attribution"),
    ("xgboost", {"n_estimators": 5, "calibration": "sigmoid"}, "calibrated model")])
def test_families_without_an_exact_attribution_say_so(family: str, params: dict, reason: str, data):
    X, y = data
    model = build_model(family, params, 0, 1).fit(X, y)
    top = top_features(model, X.iloc[:4])
    assert not top.supported and reason in top.method
    assert (top.index == -1).all() and np.isnan(top.contribution).all()
    assert top_features(model, X.iloc[:0]).method == top.method  # no rows: same verdict, nothing computed
