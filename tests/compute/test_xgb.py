"""Training on Dask: XGBoost through xgboost.dask into a plain XGBoost model; other families in this process."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from geih.compute import xgb
from geih.compute.xgb import dask_estimator, dask_fit
from geih.modelling.families import build_model
from geih.modelling.training import fit_model

HP = {"n_estimators": 30, "max_depth": 3, "learning_rate": 0.2, "subsample": 1.0}


def data(n: int = 4000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 4)), columns=["a", "b", "c", "d"])
    X.loc[::9, "b"] = np.nan
    y = (X["a"] + 0.5 * X["c"] + rng.normal(size=n) > 0).astype(np.int64).to_numpy()
    return X, y


def test_xgboost_trains_on_dask_into_a_plain_xgboost_model(dask_client):
    from xgboost import XGBClassifier

    X, y = data()
    model = fit_model(build_model("xgboost", HP, 42, 1), X, y, dask_fit(dask_client, 2))
    est = model.steps[-1][1]
    assert type(est) is XGBClassifier and est.n_estimators == 30 and list(est.classes_) == [0, 1]
    assert list(model.feature_names_in_) == ["a", "b", "c", "d"]
    local = build_model("xgboost", HP, 42, 1).fit(X, y)
    p_dask, p_local = model.predict_proba(X)[:, 1], local.predict_proba(X)[:, 1]
    # Same data, same parameters: the distributed quantile sketch and histogram sums differ a little.
    assert abs(roc_auc_score(y, p_dask) - roc_auc_score(y, p_local)) < 0.01
    assert np.corrcoef(p_dask, p_local)[0, 1] > 0.99


@pytest.mark.parametrize("name, hp", [("lightgbm", {"n_estimators": 20}), ("logistic_regression", {}),
                                      ("xgboost", {"calibration": "sigmoid", "n_estimators": 10})])
def test_other_families_train_in_this_process(name, hp, dask_client):
    X, y = data(1500)
    model = build_model(name, hp, 42, 1)
    assert dask_estimator(model) is None
    fitted = fit_model(model, X, y, dask_fit(dask_client, 2))
    reference = build_model(name, hp, 42, 1).fit(X, y)
    np.testing.assert_allclose(fitted.predict_proba(X), reference.predict_proba(X))


def test_train_device_reaches_the_dask_trainer(monkeypatch):
    """`train.device` is an XGBoost parameter: the Dask trainer gets it with the others (no GPU needed)."""
    import xgboost.dask

    seen = {}

    class Recording:
        def __init__(self, **params):
            seen.update(params)
            raise RuntimeError("stop before training")

    monkeypatch.setattr(xgboost.dask, "DaskXGBClassifier", Recording)
    X, y = data(100)
    model = build_model("xgboost", {**HP, "device": "cuda"}, 42, 1)
    with pytest.raises(RuntimeError, match="stop before training"):
        xgb.fit_xgboost_dask(object(), dask_estimator(model), X, y, 2)
    assert seen["device"] == "cuda" and seen["n_estimators"] == 30 and seen["tree_method"] == "hist"


def test_without_a_client_training_fits_in_this_process():
    from geih.compute.xgb import training_fit

    assert training_fit(None) is None
