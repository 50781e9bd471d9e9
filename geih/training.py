"""Loading feature tables, fitting, saving and logging models."""

from __future__ import annotations

import logging
from importlib.metadata import version
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

from geih.errors import DataError
from geih.io import atomic_path, read_json

log = logging.getLogger(__name__)

MODEL_PACKAGES = {
    "random_forest": [], "gradient_boosting": [], "logistic_regression": [],
    "xgboost": ["xgboost"], "lightgbm": ["lightgbm"],
}


def load_schema(features_dir: Path) -> dict[str, Any]:
    return read_json(Path(features_dir) / "schema.json")


def load_split(features_dir: Path, part: str) -> pd.DataFrame:
    """The `train` or `test` table of a features folder."""
    path = Path(features_dir) / f"{part}.parquet"
    if not path.exists():
        raise DataError("missing; run the featurize stage first", file=str(path))
    return pd.read_parquet(path)


def feature_matrix(frame: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """The feature columns as float64 (the dtype the logged signature declares)."""
    missing = [f for f in features if f not in frame.columns]
    if missing:
        raise DataError(f"feature columns missing: {missing}", column=missing[0])
    return frame[features].astype(np.float64)


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
