"""Fitting, saving and logging models (feature tables: geih.modelling.feature_tables)."""

from __future__ import annotations

import logging
from importlib.metadata import version
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

from geih.errors import DataError
from geih.io import atomic_path

log = logging.getLogger(__name__)

# Types inside our fitted Pipelines that skops does not trust by default (docs/mlflow.md). Loading
# a skops file that holds any other type fails, so a tampered model file cannot run arbitrary code
# (MLflow reads this list from the model's MLmodel file: trust the store itself).
SKOPS_TRUSTED_TYPES = (
    "collections.OrderedDict",
    "numpy.dtype",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.tree._tree.Tree",
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMClassifier",
    "xgboost.core.Booster",
    "xgboost.sklearn.XGBClassifier",
)

MODEL_PACKAGES = {
    "random_forest": [], "gradient_boosting": [], "logistic_regression": [],
    "xgboost": ["xgboost"], "lightgbm": ["lightgbm"],
}


def fit_model(model: Any, X: pd.DataFrame, y: np.ndarray) -> Any:
    """Fit and return the model; a single-class label is a clear DataError."""
    if len(np.unique(y)) < 2:
        raise DataError("the training label has a single class; widen the data or change the split",
                        column="label")
    return model.fit(X, y)


def save_model(model: Any, path: Path) -> None:
    """Persist the fitted Pipeline with joblib, atomically."""
    with atomic_path(path) as tmp:
        joblib.dump(model, tmp, compress=3)


def load_model(path: Path) -> Any:
    if not Path(path).exists():
        raise DataError("model file missing; run the train stage first", file=str(path))
    return joblib.load(path)


def pip_requirements(model_name: str) -> list[str]:
    """Pinned requirements needed to load and run a model of this kind."""
    packages = ["scikit-learn", "pandas", "numpy", "joblib", "cloudpickle", *MODEL_PACKAGES[model_name]]
    return [f"{p}=={version(p)}" for p in packages]


def model_format(model: Any) -> str:
    """'skops' when every type in the fitted model is trusted by skops or listed in
    SKOPS_TRUSTED_TYPES, else 'cloudpickle' (logged with a warning naming the other types)."""
    try:
        import skops.io
    except ImportError:
        log.warning("skops is not installed: logging the model with cloudpickle")
        return "cloudpickle"
    try:
        untrusted = skops.io.get_untrusted_types(data=skops.io.dumps(model))
    except Exception as exc:  # skops cannot represent some object in the model
        log.warning("skops cannot serialise this model (%s): logging it with cloudpickle", exc)
        return "cloudpickle"
    unknown = sorted(set(untrusted) - set(SKOPS_TRUSTED_TYPES))
    if unknown:
        log.warning("model holds types outside SKOPS_TRUSTED_TYPES %s: logging it with cloudpickle", unknown)
        return "cloudpickle"
    return "skops"


def model_pip_requirements(model_name: str, fmt: str) -> list[str]:
    """Pinned requirements to load a logged model: the bundle's set plus the serialiser."""
    base = [r for r in pip_requirements(model_name) if not r.startswith("cloudpickle==")]
    return [*base, f"{fmt}=={version(fmt)}"]


def log_sklearn_model(model: Any, X: Any, model_name: str) -> Any:
    """Log a fitted Pipeline to the active run: skops with SKOPS_TRUSTED_TYPES when possible (else
    cloudpickle), explicit pinned pip requirements, a signature of X → predict_proba and a 5-row
    input example; pyfunc returns predict_proba (column 1 = probability of the positive class).
    Returns MLflow's ModelInfo; tags the run with geih.model_format."""
    import mlflow
    from mlflow.models import infer_signature

    fmt = model_format(model)
    example = X.head(5)
    signature = infer_signature(example, model.predict_proba(example))
    extra = {"skops_trusted_types": list(SKOPS_TRUSTED_TYPES)} if fmt == "skops" else {}
    info = mlflow.sklearn.log_model(
        model, name="model", serialization_format=fmt, pip_requirements=model_pip_requirements(model_name, fmt),
        signature=signature, input_example=example, pyfunc_predict_fn="predict_proba", **extra)
    mlflow.set_tag("geih.model_format", fmt)
    return info
