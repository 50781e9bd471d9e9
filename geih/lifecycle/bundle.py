"""Deployable model bundles: a folder with the model, model_info.json, predict.py and
requirements.txt that runs with nothing but those requirements."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

from geih.domain.risk_levels import PROBABILITY_LEVELS, PROBABILITY_THRESHOLDS
from geih.errors import GeihError
from geih.io import atomic_path, write_json

TEMPLATE_DIR = Path(__file__).resolve().parent / "bundle_files"
MODEL_FILE = "model.joblib"


def model_info(task: str, registry: dict[str, Any], train_params: dict[str, Any], metrics: dict[str, Any],
               features: list[str], threshold: float, created: str) -> dict[str, Any]:
    """The bundle's model_info.json content."""
    return {
        "task": task, "name": registry["name"], "version": registry["version"], "run_id": registry["run_id"],
        "model_id": registry.get("model_id"), "alias": registry.get("alias"), "params": train_params,
        "metrics": metrics, "features": features, "threshold": threshold,
        "risk_thresholds": list(PROBABILITY_THRESHOLDS), "risk_levels": list(PROBABILITY_LEVELS),
        "model_file": MODEL_FILE, "created": created,
    }


def build_bundle(out_dir: Path, model_path: Path, info: dict[str, Any], requirements: list[str]) -> None:
    """Write the bundle folder atomically."""
    with atomic_path(out_dir) as tmp:
        tmp.mkdir()
        shutil.copyfile(model_path, tmp / MODEL_FILE)
        shutil.copyfile(TEMPLATE_DIR / "predict.py", tmp / "predict.py")
        (tmp / "requirements.txt").write_text("\n".join(requirements) + "\n", encoding="utf-8")
        write_json(info, tmp / "model_info.json")


def load_predictor(bundle_dir: Path) -> ModuleType:
    """Import a bundle's predict.py as a module (its `predict(records)` uses the bundle's model)."""
    script = Path(bundle_dir) / "predict.py"
    if not script.exists():
        raise GeihError(f"{bundle_dir} is not a model bundle: predict.py missing")
    spec = importlib.util.spec_from_file_location(f"geih_bundle_{abs(hash(str(script)))}", script)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module
