"""The model factory: train params resolution and every model family on raw features with NaN."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geih.errors import ParamsError
from geih.modelling.families import build_model, resolve_train_params


def test_resolve_train_params_merges_and_rejects():
    train = {"seed": 1, "n_jobs": 1, "n_estimators": 50, "max_depth": 3, "fire_risk": {"model": "xgboost", "max_depth": 5}}
    name, hp = resolve_train_params(train, "fire_risk", ["fire_risk", "deforestation"])
    assert name == "xgboost" and hp == {"n_estimators": 50, "max_depth": 5}
    with pytest.raises(ParamsError, match="unknown model 'svm'"):
        resolve_train_params({**train, "fire_risk": {"model": "svm"}}, "fire_risk", ["fire_risk"])
    with pytest.raises(ParamsError, match="train.nonsense"):
        resolve_train_params({**train, "nonsense": 1}, "fire_risk", ["fire_risk"])


@pytest.mark.parametrize("name", ["random_forest", "gradient_boosting", "logistic_regression", "xgboost", "lightgbm"])
def test_every_model_fits_raw_features_with_nan(name):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    y = (X["a"] + 0.3 * rng.normal(size=300) > 0).astype(int).to_numpy()
    X.loc[::17, "b"] = np.nan
    model = build_model(name, {"n_estimators": 20, "max_depth": 3, "learning_rate": 0.2}, seed=0, n_jobs=1)
    p = model.fit(X, y).predict_proba(X)[:, 1]
    assert ((p >= 0) & (p <= 1)).all()
    assert np.corrcoef(p, X["a"])[0, 1] > 0.5
    has_scaler = any(step == "scale" for step, _ in model.steps)
    assert has_scaler == (name == "logistic_regression")
