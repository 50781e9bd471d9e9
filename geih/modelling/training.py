"""Fitting, saving and logging models (feature tables: geih.modelling.feature_tables)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

from geih.errors import DataError
from geih.io import atomic_path
from geih.modelling.families import BASE_PACKAGES, is_calibrated, model_spec, skops_trusted_types, spec_of
from geih.modelling.feature_schema import FeatureSchema
from geih.modelling.metrics import binary_metrics

log = logging.getLogger(__name__)


@contextmanager
def openmp_threads(n_jobs: int) -> Iterator[None]:
    """At most `n_jobs` (train.n_jobs) OpenMP threads for the fits inside, whatever OMP_NUM_THREADS says.

    scikit-learn's HistGradientBoosting takes no n_jobs: unpinned, it uses every core, or one where a
    Dask nanny set OMP_NUM_THREADS=1, and its pickle records the count (`_bin_mapper.n_threads`), so the
    same data and seed would give different model bytes — and DVC would re-run everything downstream."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=n_jobs, user_api="openmp"):
        yield


def fit_model(model: Any, X: pd.DataFrame, y: np.ndarray,
              fit: Callable[[Any, pd.DataFrame, np.ndarray], Any] | None = None) -> Any:
    """Fit and return the model: `model.fit(X, y)`, or `fit(model, X, y)` when given (on Dask:
    geih.compute.xgb.dask_fit); a single-class label (a classifier's) is a clear DataError."""
    from sklearn.base import is_regressor

    if not is_regressor(model) and len(np.unique(y)) < 2:
        raise DataError("the training label has a single class; widen the data or change the split",
                        column="label")
    return fit(model, X, y) if fit else model.fit(X, y)


def fit_metrics(model: Any, X: pd.DataFrame, y: np.ndarray, schema: FeatureSchema) -> dict[str, float]:
    """Training-set metrics of a fitted model: train_roc_auc, train_pr_auc, train_brier for a classifier;
    train_rmse_<target> for each target of a regression task."""
    if schema.targets:
        predicted = np.asarray(model.predict(X), dtype=float).reshape(len(X), -1)
        return {f"train_rmse_{t['name']}": float(np.sqrt(np.mean((predicted[:, i] - y.reshape(len(X), -1)[:, i]) ** 2)))
                for i, t in enumerate(schema.targets)}
    fit = binary_metrics(y, model.predict_proba(X)[:, 1], 0.5)
    return {"train_roc_auc": fit["roc_auc"], "train_pr_auc": fit["pr_auc"], "train_brier": fit["brier"]}


def save_model(model: Any, path: Path) -> None:
    """Persist the fitted Pipeline with joblib, atomically."""
    with atomic_path(path) as tmp:
        joblib.dump(model, tmp, compress=3)


def load_model(path: Path) -> Any:
    if not Path(path).exists():
        raise DataError("model file missing; run the train stage first", file=str(path))
    return joblib.load(path)


def pip_requirements(model_name: str) -> list[str]:
    """Pinned requirements needed to load and run a model of this family (its spec's packages)."""
    packages = [*BASE_PACKAGES, *model_spec(model_name).packages]
    return [f"{p}=={version(p)}" for p in packages]


def trusted_types(model: Any) -> list[str]:
    """The types skops must trust to load this fitted model (its family's, plus calibration's)."""
    return skops_trusted_types(spec_of(model), is_calibrated(model))


def model_format(model: Any) -> str:
    """'skops' when every type in the fitted model is trusted by skops or listed in its family's
    trusted types, else 'cloudpickle' (logged with a warning naming the other types)."""
    try:
        import skops.io
    except ImportError:
        log.warning("skops is not installed: logging the model with cloudpickle")
        return "cloudpickle"
    try:
        untrusted = skops.io.get_untrusted_types(data=skops.io.dumps(model))
        known = trusted_types(model)
    except Exception as exc:  # skops cannot represent some object in the model, or no known family
        log.warning("cannot log this model with skops (%s): logging it with cloudpickle", exc)
        return "cloudpickle"
    unknown = sorted(set(untrusted) - set(known))
    if unknown:
        log.warning("model holds types outside its family's trusted types %s: logging it with cloudpickle",
                    unknown)
        return "cloudpickle"
    return "skops"


def model_pip_requirements(model_name: str, fmt: str) -> list[str]:
    """Pinned requirements to load a logged model: the bundle's set plus the serialiser."""
    base = [r for r in pip_requirements(model_name) if not r.startswith("cloudpickle==")]
    return [*base, f"{fmt}=={version(fmt)}"]


def log_sklearn_model(model: Any, X: Any, model_name: str | None = None) -> Any:
    """Log a fitted Pipeline to the active run: skops with its family's trusted types when possible
    (else cloudpickle), explicit pinned pip requirements, a signature of X → predict_proba and a 5-row
    input example; pyfunc returns predict_proba (column 1 = probability of the positive class) — or,
    for a regressor, predict (one column per target).
    Returns MLflow's ModelInfo; tags the run with geih.model_format."""
    import mlflow
    from mlflow.models import infer_signature

    model_name = model_name or spec_of(model).name
    fmt = model_format(model)
    example = X.head(5)
    predict_fn = "predict_proba" if hasattr(model, "predict_proba") else "predict"
    signature = infer_signature(example, getattr(model, predict_fn)(example))
    extra = {"skops_trusted_types": trusted_types(model)} if fmt == "skops" else {}
    info = mlflow.sklearn.log_model(
        model, name="model", serialization_format=fmt, pip_requirements=model_pip_requirements(model_name, fmt),
        signature=signature, input_example=example, pyfunc_predict_fn=predict_fn, **extra)
    mlflow.set_tag("geih.model_format", fmt)
    return info


def log_trained_model(model: Any, X: Any, model_sha256: str) -> Any:
    """Log a fitted model to the active run as the train stage does, and tag the run with the hash
    of its DVC hand-off file (how register and `geih models` find it), the logged model's id and
    the family. Returns MLflow's ModelInfo."""
    import mlflow

    name = spec_of(model).name
    info = log_sklearn_model(model, X, name)
    mlflow.set_tags({"geih.model_sha256": model_sha256, "geih.model_id": info.model_id,
                     "geih.model_type": name})
    return info
