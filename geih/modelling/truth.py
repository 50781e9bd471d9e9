"""The oracle: the synthetic world's generating probabilities (`data/truth`), read when they are
comparable with the task's tables and joined to its test rows — the upper bound a model can reach."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from geih.errors import DataError
from geih.io import read_json
from geih.modelling.feature_schema import FeatureSchema

if TYPE_CHECKING:
    from geih.tasks.task import Task

log = logging.getLogger(__name__)


def load_truth(truth_dir: Path, task: Task, schema: FeatureSchema) -> pd.DataFrame | None:
    """The generating probabilities for `task`, or None when absent or not comparable: another grid
    resolution, or a `prepare` param the task ties to the truth (`Task.truth_params`) that differs."""
    manifest_path = Path(truth_dir) / "manifest.json"
    if not manifest_path.exists():
        return None
    manifest = read_json(manifest_path)
    if not manifest.get("available"):
        return None
    if "grid_resolution_deg" not in manifest:
        raise DataError("truth manifest has no grid_resolution_deg", file=str(manifest_path),
                        column="grid_resolution_deg")
    if abs(float(manifest["grid_resolution_deg"]) - float(schema.grid_resolution_deg)) > 1e-9:
        log.warning("truth grid %.3f° differs from the task grid %.3f°: no oracle bound",
                    manifest["grid_resolution_deg"], schema.grid_resolution_deg)
        return None
    for key, manifest_key in task.truth_params.items():
        ours = schema.prepare.get(key)
        if ours is not None and abs(float(ours) - float(manifest.get(manifest_key, -1))) > 1e-9:
            log.warning("prepare.%s.%s = %s differs from the truth's %s: no oracle bound", task.name, key, ours,
                        manifest.get(manifest_key))
            return None
    path = Path(truth_dir) / f"{task.name}.parquet"
    if not path.exists():
        return None
    truth = pd.read_parquet(path)
    missing = [c for c in ("cell_id", task.truth_time_column or task.time_column, "probability")
               if c not in truth.columns]
    if missing:
        raise DataError(f"truth table lacks column(s) {missing}", file=str(path), column=missing[0])
    return truth


def oracle_scores(test: pd.DataFrame, truth: pd.DataFrame | None, task: Task) -> np.ndarray:
    """The truth probability of each test row, joined on cell and period (NaN where unknown)."""
    if truth is None:
        return np.full(len(test), np.nan)
    time_col = task.time_column
    t = truth.rename(columns={task.truth_time_column or time_col: time_col, "probability": "_oracle"})
    joined = test[["cell_id", time_col]].merge(t[["cell_id", time_col, "_oracle"]], on=["cell_id", time_col], how="left")
    return joined["_oracle"].to_numpy(dtype=float)
