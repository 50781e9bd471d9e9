"""Helpers for the MLflow store tests: small data, a features folder like featurize writes, models
logged in train runs as the train stage logs them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

from geih.lifecycle import tracking
from geih.modelling import training
from geih.modelling.families import build_model
from geih.modelling.feature_schema import build_schema

ENV_KEYS = ("MLFLOW_TRACKING_URI", "DVC_ROOT", "DVC_EXP_NAME", "DVC_EXP_BASELINE_REV", "DVC_STAGE",
            "GEIH_PIPELINE_RUN")
REGISTER = {"metric": "roc_auc", "higher_is_better": True, "min_improvement": 0.001, "min_roc_auc": 0.6}
FEATURES = ["a", "b", "c", "d"]


def frame(seed: int = 0, n: int = 300) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 4)), columns=FEATURES)
    X.iloc[::9, 2] = np.nan
    y = (X["a"] + 0.5 * rng.normal(size=n) > 0).astype(int).to_numpy()
    return X, y


def write_features(folder: Path, task: str = "deforestation", threshold_km2: float = 1.0,
                   seed: int = 0) -> Path:
    """A features folder as featurize writes it (train/test Parquet, schema.json). The label follows
    `threshold_km2` the way the deforestation label does, so another threshold is another
    definition with other labelled rows."""
    X, _ = frame(seed, n=400)
    cleared = np.abs(X["a"].to_numpy()) * 2.0
    table = X.assign(cell_id=np.arange(len(X)), year=np.where(np.arange(len(X)) < 300, 2021, 2022),
                     cleared_km2=cleared, label=(cleared > threshold_km2).astype(int))
    train, test = table[table["year"] < 2022].reset_index(drop=True), table[table["year"] == 2022].reset_index(drop=True)
    schema = build_schema(task, train, test, FEATURES, {}, label="label", time_column="year",
                          id_columns=["cell_id", "year", "cleared_km2"], grid_resolution_deg=0.5,
                          baseline_column="a", baseline_name="a",
                          prepare={"grid_resolution_deg": 0.5, "threshold_km2": threshold_km2},
                          split={"split": "temporal", "test_years": 1}, seed=0)
    folder.mkdir(parents=True, exist_ok=True)
    train.to_parquet(folder / "train.parquet", index=False)
    test.to_parquet(folder / "test.parquet", index=False)
    schema.save(folder / "schema.json")
    return folder


def fit_and_save(root: Path, name: str, model_name: str = "logistic_regression", seed: int = 0) -> tuple[Any, Path]:
    """A small fitted model saved like the train stage saves it."""
    X, y = frame(seed)
    model = build_model(model_name, {"n_estimators": 5, "C": 1.0 + seed}, 0, 1).fit(X, y)
    path = root / f"{name}.joblib"
    joblib.dump(model, path)
    return model, path


def train_run(root: Path, name: str, model_name: str = "logistic_regression", seed: int = 0,
              task: str = "fire_risk", tags: dict[str, str] | None = None) -> tuple[str, str]:
    """Fit a small model, save it and log it in a train run as the train stage does. (run id, sha)."""
    model, path = fit_and_save(root, name, model_name, seed)
    sha = tracking.file_sha256(path)
    with tracking.stage_run("train", task, {"model": model_name}, data_deps=[path], tags=tags) as run:
        training.log_trained_model(model, frame(seed)[0], sha)
    return run.info.run_id, sha


def client():
    from mlflow import MlflowClient

    return MlflowClient()
