"""The features that contributed most to each row's prediction: a cheap, exact, documented attribution.

Contributions are on the model's log-odds (margin) scale, one per feature, and rows are ranked by the signed
contribution, largest first (the features that pushed the risk *up* most come first):

- XGBoost: `Booster.predict(..., pred_contribs=True)` (TreeSHAP values computed by XGBoost itself);
- LightGBM: `predict(..., pred_contrib=True)` (the same, computed by LightGBM);
- logistic regression: coefficient × standardized value (the Pipeline's imputer and scaler applied first):
  each feature's term of the log-odds relative to a cell at the training mean.

Other families have no exact contribution this cheap and get none, stated in `method` and never guessed:
random forest and scikit-learn's histogram gradient boosting (TreeSHAP would need the `shap` package), and any
calibrated model (`calibration: sigmoid|isotonic`: the calibration map is not additive, so the inner model's
contributions would not explain the probability served).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

UNSUPPORTED = "none"


@dataclass(frozen=True)
class Attribution:
    """`index` (rows × k, into the feature list, -1 where none) and `contribution` (rows × k, log-odds, NaN
    where none) of each row's top features; `method` names how they were computed, or why there are none."""

    method: str
    index: np.ndarray
    contribution: np.ndarray

    @property
    def supported(self) -> bool:
        return not self.method.startswith(UNSUPPORTED)


def _estimator(model: object) -> tuple[object, list]:
    """(the last step of a Pipeline or the model itself, the steps before it)."""
    steps = getattr(model, "steps", None)
    if steps:
        return steps[-1][1], [s for _, s in steps[:-1]]
    return model, []


def family_method(model: object) -> tuple[str, str]:
    """(kind, method): kind 'xgboost', 'lightgbm', 'linear' or 'none'; method says how contributions are
    computed, or (starting with 'none') why there are none."""
    est, before = _estimator(model)
    kind = type(est)
    path = f"{kind.__module__}.{kind.__qualname__}"
    if hasattr(est, "calibrated_classifiers_"):
        return "none", f"{UNSUPPORTED}: calibrated model ({path}); its calibration is not additive"
    if path.startswith("xgboost."):
        return "xgboost", "xgboost pred_contribs (TreeSHAP, log-odds)"
    if path.startswith("lightgbm."):
        return "lightgbm", "lightgbm pred_contrib (TreeSHAP, log-odds)"
    coef = getattr(est, "coef_", None)
    if coef is not None and np.ndim(coef) == 2 and np.shape(coef)[0] == 1:
        if any(hasattr(s, "scale_") for s in before):
            return "linear", "logistic coefficient × standardized value (log-odds vs the training mean)"
        return "linear", "linear coefficient × value (log-odds; the features are not standardized)"
    return "none", f"{UNSUPPORTED}: no cheap exact attribution for {path}"


def contributions(model: object, X: pd.DataFrame) -> tuple[str, np.ndarray | None]:
    """(method, rows × features log-odds contributions) of a fitted model on the feature frame `X`;
    (reason starting with 'none', None) for a model without a cheap exact attribution."""
    kind, method = family_method(model)
    if kind == "none":
        return method, None
    est, before = _estimator(model)
    frame = X
    for step in before:
        frame = step.transform(frame)
    matrix = np.asarray(frame, dtype=np.float64)
    if kind == "xgboost":
        import xgboost

        values = est.get_booster().predict(xgboost.DMatrix(pd.DataFrame(matrix, columns=list(X.columns))),
                                           pred_contribs=True)
        return method, np.asarray(values, dtype=np.float64)[:, :-1]
    if kind == "lightgbm":
        values = est.predict(pd.DataFrame(matrix, columns=list(X.columns)), pred_contrib=True)
        return method, np.asarray(values, dtype=np.float64)[:, :-1]
    return method, matrix * np.asarray(est.coef_, dtype=np.float64)[0]


def top_features(model: object, X: pd.DataFrame, k: int = 3) -> Attribution:
    """Each row's `k` features with the largest contribution (ties: feature order), or none with the reason."""
    n = len(X)
    method, values = contributions(model, X) if n else (family_method(model)[1], None)
    index, contribution = np.full((n, k), -1, dtype=np.int64), np.full((n, k), np.nan)
    if values is None:
        return Attribution(method, index, contribution)
    k_eff = min(k, values.shape[1])
    order = np.argsort(-values, axis=1, kind="stable")[:, :k_eff]
    index[:, :k_eff] = order
    contribution[:, :k_eff] = np.take_along_axis(values, order, axis=1)
    return Attribution(method, index, contribution)
