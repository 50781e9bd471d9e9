"""Training on a Dask cluster: XGBoost models fit with `xgboost.dask`, every other family in this process.

`dask_fit(client, npartitions)` returns a fit function `(model, X, y) → fitted model` for
`geih.modelling.training.fit_model` and `geih.modelling.validation.validate`. A Pipeline whose only step is
an XGBClassifier or XGBRegressor is trained by `DaskXGBClassifier`/`DaskXGBRegressor` with the same
parameters (device included) on the rows split into `npartitions`; the trained booster is loaded back
into the Pipeline's own estimator, so the saved model, evaluation and the bundle see a plain XGBoost
model. Other families (random_forest, gradient_boosting, logistic_regression, lightgbm), a calibrated
model and a multi-target regressor train in this process (logged).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

Fit = Callable[[Any, pd.DataFrame, np.ndarray], Any]


def dask_estimator(model: Any) -> Any | None:
    """The XGBoost estimator `xgboost.dask` can train for this Pipeline, or None when it trains in this process."""
    from sklearn.pipeline import Pipeline
    from xgboost import XGBClassifier, XGBRegressor

    if not isinstance(model, Pipeline) or len(model.steps) != 1:
        return None
    est = model.steps[0][1]
    return est if isinstance(est, (XGBClassifier, XGBRegressor)) else None


def fit_xgboost_dask(client: Any, est: Any, X: pd.DataFrame, y: np.ndarray, npartitions: int) -> Any:
    """Train `est`'s parameters with xgboost.dask on `client` and load the booster into `est`; returns est."""
    import dask.dataframe as dd
    from xgboost import XGBClassifier
    from xgboost import dask as dxgb

    cls = dxgb.DaskXGBClassifier if isinstance(est, XGBClassifier) else dxgb.DaskXGBRegressor
    trainer = cls(**est.get_params())
    trainer.client = client
    parts = max(1, min(npartitions, len(X)))
    target = pd.DataFrame(np.asarray(y).reshape(len(X), -1), index=X.index) if np.ndim(y) > 1 else \
        pd.Series(np.asarray(y), index=X.index)
    trainer.fit(dd.from_pandas(X, npartitions=parts, sort=False), dd.from_pandas(target, npartitions=parts, sort=False))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.json"
        trainer.save_model(path)
        est.load_model(path)
    return est


def dask_fit(client: Any, npartitions: int) -> Fit:
    """The fit function of the Dask path (see the module docstring)."""

    def fit(model: Any, X: pd.DataFrame, y: np.ndarray) -> Any:
        est = dask_estimator(model)
        if est is None:
            log.info("%s trains in this process: only an uncalibrated XGBoost model trains on Dask",
                     type(model.steps[-1][1]).__name__ if hasattr(model, "steps") else type(model).__name__)
            return model.fit(X, y)
        log.info("training %s with xgboost.dask on %d rows in %d partitions", type(est).__name__, len(X), npartitions)
        fit_xgboost_dask(client, est, X, y, npartitions)
        return model

    return fit


def training_fit(client: Any) -> Fit | None:
    """The fit function of train: None (`model.fit` in this process) without a client, else `dask_fit` with
    one partition of the rows per worker."""
    return None if client is None else dask_fit(client, len(client.nthreads()))
