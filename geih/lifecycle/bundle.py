"""Deployable model bundles: a folder with the model, model_info.json, feature_schema.json, predict.py and
requirements.txt that runs with nothing but those requirements (no geih, MLflow or DVC).

One code path builds every bundle: the `package` stage and `geih bundle` (from the MLflow registry) each
gather a `BundleSource` and hand it to `write_bundle`.
"""

from __future__ import annotations

import importlib.util
import shutil
from dataclasses import dataclass
from importlib.metadata import version as installed_version
from pathlib import Path
from types import ModuleType
from typing import Any

from geih.domain.risk_levels import PROBABILITY_LEVELS, PROBABILITY_THRESHOLDS
from geih.errors import GeihError
from geih.io import atomic_path, write_json
from geih.lifecycle.tracking import file_sha256
from geih.modelling.feature_schema import FeatureSchema
from geih.modelling.training import pip_requirements

TEMPLATE_DIR = Path(__file__).resolve().parent / "bundle_files"
MODEL_FILE = "model.joblib"
SCHEMA_FILE = "feature_schema.json"
# Where the train stage logs the features folder's schema.json in its MLflow run (read by `geih bundle`).
SCHEMA_ARTIFACT = "features/schema.json"
BUNDLE_FILES = (MODEL_FILE, "model_info.json", SCHEMA_FILE, "predict.py", "requirements.txt")


@dataclass(frozen=True)
class BundleSource:
    """Everything a bundle is made of: a joblib model file, its feature schema, its registry identity
    (name, version, run_id, model_id, alias), evaluate metrics, training params, the operating threshold
    and the pinned requirements; `origin` says where it came from (pipeline files or a registry URI)."""

    task: str
    model_path: Path
    schema: FeatureSchema
    registry: dict[str, Any]
    metrics: dict[str, Any]
    train_params: dict[str, Any]
    threshold: float | None  # None for a regression task (it predicts values, not classes)
    requirements: list[str]
    origin: str


def bundle_requirements(model_name: str) -> list[str]:
    """Pinned packages predict.py needs for a model of this kind: the model's own plus pyarrow (batch
    mode reads and writes Parquet/CSV with it)."""
    return [*pip_requirements(model_name), f"pyarrow=={installed_version('pyarrow')}"]


def model_info(source: BundleSource, model_sha256: str, created: str) -> dict[str, Any]:
    """The bundle's model_info.json content."""
    registry = source.registry
    return {
        "task": source.task, "name": registry["name"], "version": registry["version"],
        "run_id": registry.get("run_id"), "model_id": registry.get("model_id"), "alias": registry.get("alias"),
        "params": source.train_params, "metrics": source.metrics, "features": source.schema.feature_names,
        "input_schema": source.schema.input_schema(), "threshold": None if source.threshold is None else float(source.threshold),
        "risk_thresholds": list(PROBABILITY_THRESHOLDS), "risk_levels": list(PROBABILITY_LEVELS),
        "model_file": MODEL_FILE, "model_sha256": model_sha256, "feature_schema_file": SCHEMA_FILE,
        "origin": source.origin, "created": created,
        # a regression bundle predicts these values (predict.py), not classes
        **({"kind": "regression", "targets": [{"name": t["name"], "units": t["units"]} for t in source.schema.targets]}
           if source.schema.targets else {}),
    }


def write_bundle(out_dir: Path, source: BundleSource, created: str) -> dict[str, Any]:
    """Write the bundle folder atomically (nothing half-written on failure); returns its model_info."""
    if source.schema.task != source.task:
        raise GeihError(f"the feature schema is for task {source.schema.task!r}, the model for {source.task!r}")
    with atomic_path(out_dir) as tmp:
        tmp.mkdir()
        shutil.copyfile(source.model_path, tmp / MODEL_FILE)
        info = model_info(source, file_sha256(tmp / MODEL_FILE), created)
        source.schema.save(tmp / SCHEMA_FILE)
        shutil.copyfile(TEMPLATE_DIR / "predict.py", tmp / "predict.py")
        (tmp / "requirements.txt").write_text("\n".join(source.requirements) + "\n", encoding="utf-8")
        write_json(info, tmp / "model_info.json")
    return info


def load_predictor(bundle_dir: Path) -> ModuleType:
    """Import a bundle's predict.py as a module (`load_bundle`, `predict`, `score`, `predict_file`, ...)."""
    script = Path(bundle_dir) / "predict.py"
    if not script.exists():
        raise GeihError(f"{bundle_dir} is not a model bundle: predict.py missing")
    spec = importlib.util.spec_from_file_location(f"geih_bundle_{abs(hash(str(script.resolve())))}", script)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module
