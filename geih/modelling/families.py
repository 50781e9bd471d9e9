"""Model factory: `train.model` names a classifier; hyperparameters come from the `train` group.

Every model is a scikit-learn Pipeline that takes the raw feature frame: a scaler and an imputer
only where the model needs them (logistic regression), none for tree models (they take NaN).
"""

from __future__ import annotations

from typing import Any

from sklearn.pipeline import Pipeline

from geih.errors import ParamsError

MODEL_NAMES = ("random_forest", "gradient_boosting", "logistic_regression", "xgboost", "lightgbm")
# Every hyperparameter a model may read; a key a given model does not use is ignored.
HYPERPARAMS = {
    "n_estimators", "max_depth", "learning_rate", "min_samples_leaf", "num_leaves", "subsample",
    "colsample_bytree", "C", "calibration", "device", "reg_lambda",
}
CALIBRATIONS = ("none", "sigmoid", "isotonic")


def build_model(name: str, hp: dict[str, Any], seed: int, n_jobs: int) -> Pipeline:
    """An unfitted Pipeline for model `name` with hyperparameters `hp`."""
    builders = {
        "random_forest": _random_forest, "gradient_boosting": _gradient_boosting,
        "logistic_regression": _logistic_regression, "xgboost": _xgboost, "lightgbm": _lightgbm,
    }
    if name not in builders:
        raise ParamsError("train.<task>.model", f"unknown model {name!r}; expected one of {list(MODEL_NAMES)}")
    steps = builders[name](hp, seed, n_jobs)
    calibration = hp.get("calibration", "none")
    if calibration not in CALIBRATIONS:
        raise ParamsError("train.calibration", f"expected one of {list(CALIBRATIONS)}, got {calibration!r}")
    if calibration != "none":
        from sklearn.calibration import CalibratedClassifierCV

        estimator = Pipeline(steps)
        return Pipeline([("model", CalibratedClassifierCV(estimator, method=calibration, cv=3))])
    return Pipeline(steps)


def _depth(hp: dict[str, Any]) -> int | None:
    depth = hp.get("max_depth")
    return None if depth in (None, 0, -1) else int(depth)


def _random_forest(hp: dict[str, Any], seed: int, n_jobs: int) -> list:
    from sklearn.ensemble import RandomForestClassifier

    return [("model", RandomForestClassifier(
        n_estimators=int(hp.get("n_estimators", 100)), max_depth=_depth(hp),
        min_samples_leaf=int(hp.get("min_samples_leaf", 1)), random_state=seed, n_jobs=n_jobs))]


def _gradient_boosting(hp: dict[str, Any], seed: int, n_jobs: int) -> list:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return [("model", HistGradientBoostingClassifier(
        max_iter=int(hp.get("n_estimators", 100)), max_depth=_depth(hp),
        learning_rate=float(hp.get("learning_rate", 0.1)),
        min_samples_leaf=int(hp.get("min_samples_leaf", 20)), random_state=seed,
        early_stopping=False))]


def _logistic_regression(hp: dict[str, Any], seed: int, n_jobs: int) -> list:
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    return [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler()),
            ("model", LogisticRegression(C=float(hp.get("C", 1.0)), max_iter=2000, random_state=seed))]


def _xgboost(hp: dict[str, Any], seed: int, n_jobs: int) -> list:
    from xgboost import XGBClassifier

    return [("model", XGBClassifier(
        n_estimators=int(hp.get("n_estimators", 100)), max_depth=_depth(hp) or 0,
        learning_rate=float(hp.get("learning_rate", 0.1)), subsample=float(hp.get("subsample", 1.0)),
        colsample_bytree=float(hp.get("colsample_bytree", 1.0)),
        min_child_weight=float(hp.get("min_samples_leaf", 1)),
        reg_lambda=float(hp.get("reg_lambda", 1.0)), tree_method="hist",
        device=str(hp.get("device", "cpu")), random_state=seed, n_jobs=n_jobs,
        eval_metric="logloss"))]


def _lightgbm(hp: dict[str, Any], seed: int, n_jobs: int) -> list:
    from lightgbm import LGBMClassifier

    return [("model", LGBMClassifier(
        n_estimators=int(hp.get("n_estimators", 100)), max_depth=_depth(hp) or -1,
        learning_rate=float(hp.get("learning_rate", 0.1)), num_leaves=int(hp.get("num_leaves", 31)),
        subsample=float(hp.get("subsample", 1.0)), subsample_freq=1 if hp.get("subsample", 1.0) < 1 else 0,
        colsample_bytree=float(hp.get("colsample_bytree", 1.0)),
        min_child_samples=int(hp.get("min_samples_leaf", 20)),
        reg_lambda=float(hp.get("reg_lambda", 0.0)), random_state=seed, n_jobs=n_jobs,
        deterministic=True, force_row_wise=True, verbose=-1))]


def resolve_train_params(train: dict[str, Any], task: str, tasks: list[str]) -> tuple[str, dict[str, Any]]:
    """(model name, hyperparameters) for `task`: the shared `train` keys overridden by `train.<task>`.

    Unknown keys are ParamsErrors naming them; `train.<task>.model` is required.
    """
    shared = {k: v for k, v in train.items() if k not in tasks and k not in ("seed", "n_jobs")}
    for key in shared:
        if key not in HYPERPARAMS:
            raise ParamsError(f"train.{key}", f"unknown hyperparameter; expected one of {sorted(HYPERPARAMS)}")
    own = train.get(task)
    if not isinstance(own, dict) or "model" not in own:
        raise ParamsError(f"train.{task}.model", "missing: name the model for this task")
    for key in own:
        if key != "model" and key not in HYPERPARAMS:
            raise ParamsError(f"train.{task}.{key}", f"unknown hyperparameter; expected one of {sorted(HYPERPARAMS)}")
    name = own["model"]
    if name not in MODEL_NAMES:
        raise ParamsError(f"train.{task}.model", f"unknown model {name!r}; expected one of {list(MODEL_NAMES)}")
    return name, {**shared, **{k: v for k, v in own.items() if k != "model"}}


def feature_importance(model: Pipeline, features: list[str]) -> dict[str, float] | None:
    """The fitted model's own importance per feature (|coef| for linear models), or None."""
    est = model.steps[-1][1]
    if hasattr(est, "calibrated_classifiers_"):
        return None
    values = getattr(est, "feature_importances_", None)
    if values is None and hasattr(est, "coef_"):
        values = abs(est.coef_[0])
    if values is None or len(values) != len(features):
        return None
    total = float(sum(values)) or 1.0
    return {f: float(v) / total for f, v in zip(features, values)}
