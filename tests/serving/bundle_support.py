"""Small model bundles for the bundle and service tests, written by the same `write_bundle` as the package
stage: three features — `a` in [0, 1] (required), `b` (nullable, unbounded), `c` ≥ 0 (required)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

from geih.lifecycle.bundle import BundleSource, bundle_requirements, write_bundle
from geih.modelling.families import build_model
from geih.modelling.feature_schema import FeatureSchema, build_schema

FEATURES = ["a", "b", "c"]
RANGES = {"a": (0.0, 1.0), "c": (0.0, None)}
REGISTRY = {"name": "geih-fire-risk", "version": 7, "run_id": "run-1", "model_id": "m-1", "alias": "champion"}


def tables(n: int = 300, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train and test tables: ids, the three features (b partly missing) and a label driven by a."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"cell_id": np.arange(n), "month": pd.Timestamp("2024-01-01"),
                          "a": rng.uniform(0, 1, n), "b": rng.normal(0, 2, n), "c": rng.exponential(3, n)})
    frame.loc[frame.index % 7 == 0, "b"] = np.nan
    frame["label"] = (frame["a"] + rng.normal(0, 0.2, n) > 0.5).astype(int)
    return frame.iloc[: n * 2 // 3].reset_index(drop=True), frame.iloc[n * 2 // 3:].reset_index(drop=True)


def tiny_schema(train: pd.DataFrame, test: pd.DataFrame, task: str = "fire_risk") -> FeatureSchema:
    return build_schema(task, train, test, FEATURES, RANGES, label="label", time_column="month",
                        id_columns=["cell_id", "month"], grid_resolution_deg=0.5, baseline_column="c",
                        baseline_name="c", prepare={}, split={"split": "temporal"})


def fitted_model(train: pd.DataFrame) -> Any:
    """Logistic regression behind an imputer (it takes DataFrames: a plain matrix makes it warn)."""
    return build_model("logistic_regression", {"C": 1.0}, 0, 1).fit(train[FEATURES], train["label"])


def make_bundle(folder: Path, model: Any = None, threshold: float = 0.5, task: str = "fire_risk") -> Path:
    """Write a bundle of `model` (default: the fitted logistic regression) for `task` into `folder`."""
    train, test = tables()
    model = fitted_model(train) if model is None else model
    model_path = folder.parent / f"{folder.name}.model.joblib"
    joblib.dump(model, model_path)
    registry = dict(REGISTRY, name=f"geih-{task.replace('_', '-')}")
    source = BundleSource(task=task, model_path=model_path, schema=tiny_schema(train, test, task),
                          registry=registry, metrics={"roc_auc": 0.9, "threshold": threshold},
                          train_params={"model": "logistic_regression", "C": 1.0}, threshold=threshold,
                          requirements=bundle_requirements("logistic_regression"), origin="pipeline")
    write_bundle(folder, source, "2026-01-01T00:00:00Z")
    return folder


class ColumnModel:
    """A stand-in model whose probability of class 1 is feature `a` itself (to hit thresholds exactly)."""

    def predict_proba(self, X: Any) -> np.ndarray:
        a = X["a"].to_numpy() if isinstance(X, pd.DataFrame) else np.asarray(X)[:, 0]
        return np.column_stack([1 - a, a])


def info(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "model_info.json").read_text(encoding="utf-8"))


class EvilPayload:
    """Unpickling this touches `marker`: a visible side effect of loading a tampered model file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (Path.touch, (Path(self.marker),))
