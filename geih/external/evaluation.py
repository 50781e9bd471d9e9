"""An external model evaluated by the pipeline's own evaluation code, on the same test rows.

For a regression task: the model is given, per test period, the cells with the targets' persistence
columns (the latest observed value of each target variable, in the targets' units) and forecasts one
step; its outputs named like the targets are scored by `geih.modelling.regression.evaluate_forecasts`
exactly as the pipeline's model is (same metrics, baselines and plot data).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from geih.external.adapter import CellInput, ContractError, ExternalModel
from geih.external.gridded import run_sync
from geih.modelling.evaluate import Evaluation
from geih.modelling.feature_schema import FeatureSchema
from geih.modelling.regression import evaluate_forecasts

if TYPE_CHECKING:
    from geih.tasks.task import Task


def external_forecasts(model: ExternalModel, test: pd.DataFrame, schema: FeatureSchema, task: Task) -> np.ndarray:
    """Forecasts of a loaded external model for the test rows, one model step per period: its inputs are
    the targets' persistence columns (in the targets' units), its outputs named like the targets.
    ContractError when the model's contract does not offer that."""
    meta = model.get_metadata()
    outputs = {v.name: v.units for v in meta.outputs}
    wrong = [f"{t.name} ({t.units})" for t in task.targets if outputs.get(t.name) != t.units]
    if wrong:
        raise ContractError(f"model {meta.name!r} does not forecast {wrong}; its outputs are {outputs}")
    units = {t.persistence_column: t.units for t in task.targets}
    columns = ["cell_id", "lat", "lon", *dict.fromkeys(v.name for v in meta.inputs)]
    out = np.full((len(test), len(task.targets)), np.nan)
    for _, rows in test.groupby(task.time_column, sort=True):
        forecast = run_sync(model, CellInput(rows[[c for c in columns if c in rows.columns]], units,
                                             schema.grid_resolution_deg))
        out[rows.index.to_numpy()] = forecast[[t.name for t in task.targets]].to_numpy(dtype=float)
    return out


def evaluate_external(model: ExternalModel, train: pd.DataFrame, test: pd.DataFrame, schema: FeatureSchema,
                      task: Task) -> Evaluation:
    """`evaluate_forecasts` of an external model on the same test rows as the pipeline's model."""
    test = test.reset_index(drop=True)
    return evaluate_forecasts(external_forecasts(model, test, schema, task), train, test, schema, task)
