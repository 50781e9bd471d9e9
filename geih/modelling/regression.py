"""Evaluation of a regression task (its `Task.targets`): per target RMSE, MAE and the MSE skill score
against two baselines — climatology (the training rows' mean of the same cell and calendar month of the
time column) and persistence (the target variable's latest observed value, its `persistence_column`):
skill = 1 − MSE / MSE_baseline (> 0: better than the baseline).

The same code scores a trained model (`evaluate_regression`) and an external model behind the adapter
interface (`geih.external.evaluation.evaluate_external`): both reduce to `evaluate_forecasts` on a
(rows, targets) array.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from geih.errors import DataError
from geih.modelling.evaluate import Evaluation
from geih.modelling.feature_schema import FeatureSchema

if TYPE_CHECKING:
    from geih.tasks.task import Task

MAX_SCATTER_POINTS = 2000  # per target in the predicted-vs-observed plot data


def error_scores(observed: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """rmse, mae, mse and bias (mean predicted − observed) of one target."""
    error = np.asarray(predicted, dtype=float) - np.asarray(observed, dtype=float)
    mse = float(np.mean(error ** 2))
    return {"rmse": mse ** 0.5, "mae": float(np.mean(np.abs(error))), "mse": mse, "bias": float(np.mean(error))}


def skill_score(mse: float, mse_reference: float) -> float:
    """1 − MSE / MSE_reference (NaN when the reference is perfect)."""
    return 1.0 - mse / mse_reference if mse_reference > 0 else float("nan")


def climatology_forecast(train: pd.DataFrame, test: pd.DataFrame, task: Task, column: str) -> np.ndarray:
    """Each test row's climatology: the training mean of `column` for the same cell and climatology key
    (calendar month of the time column); the training mean of that key over all cells where the cell
    has no training row for it, else the overall training mean."""
    tr = pd.DataFrame({"cell_id": train["cell_id"].to_numpy(), "key": task.climatology_key(train),
                       "value": train[column].to_numpy(dtype=float)})
    te = pd.DataFrame({"cell_id": test["cell_id"].to_numpy(), "key": task.climatology_key(test)})
    by_cell = tr.groupby(["cell_id", "key"])["value"].mean().rename("cell_clim").reset_index()
    by_key = tr.groupby("key")["value"].mean().rename("key_clim").reset_index()
    joined = te.merge(by_cell, on=["cell_id", "key"], how="left").merge(by_key, on="key", how="left")
    return joined["cell_clim"].fillna(joined["key_clim"]).fillna(float(tr["value"].mean())).to_numpy()


def evaluate_forecasts(predicted: np.ndarray, train: pd.DataFrame, test: pd.DataFrame, schema: FeatureSchema,
                       task: Task) -> Evaluation:
    """Metrics (one group per target, plus the mean skills the registry ranks by), plot data and the
    predictions frame of forecasts `predicted` (rows of `test`, one column per target)."""
    predicted = np.asarray(predicted, dtype=float).reshape(len(test), len(task.targets))
    if not np.isfinite(predicted).all():
        raise DataError("the forecasts hold non-finite values", column=task.targets[0].name)
    period = task.period_labels(test[task.time_column]).to_numpy()
    metrics: dict[str, Any] = {"n_train": len(train), "n_test": len(test)}
    by_month = pd.DataFrame({"period": np.unique(period)})
    scatter, predictions = [], test[list(schema.id_columns)].copy()
    for i, target in enumerate(task.targets):
        observed = test[target.column].to_numpy(dtype=float)
        forecasts = {"model": predicted[:, i],
                     "climatology": climatology_forecast(train, test, task, target.column),
                     "persistence": test[target.persistence_column].to_numpy(dtype=float)}
        scores = {name: error_scores(observed, values) for name, values in forecasts.items()}
        metrics[target.name] = {
            "rmse": scores["model"]["rmse"], "mae": scores["model"]["mae"], "bias": scores["model"]["bias"],
            "skill_vs_climatology": skill_score(scores["model"]["mse"], scores["climatology"]["mse"]),
            "skill_vs_persistence": skill_score(scores["model"]["mse"], scores["persistence"]["mse"]),
            "climatology_rmse": scores["climatology"]["rmse"], "persistence_rmse": scores["persistence"]["rmse"],
            "units": target.units, "mean_observed": float(observed.mean()),
        }
        frame = pd.DataFrame({"period": period, "observed": observed, **forecasts})
        for name in forecasts:
            rmse = frame.groupby("period").apply(lambda g, n=name: error_scores(g["observed"], g[n])["rmse"],
                                                 include_groups=False)
            by_month[f"{target.name}_{name}_rmse"] = rmse.reindex(by_month["period"]).to_numpy()
        step = max(1, int(np.ceil(len(observed) / MAX_SCATTER_POINTS)))
        scatter.append((target.name, pd.DataFrame({"observed": observed[::step], "predicted": predicted[::step, i]})))
        predictions[target.column] = observed
        predictions[f"predicted_{target.name}"] = predicted[:, i]
    for skill in ("skill_vs_climatology", "skill_vs_persistence"):
        metrics[skill] = float(np.mean([metrics[t.name][skill] for t in task.targets]))
    plots = {"error_by_month": by_month, **{f"predicted_vs_observed_{name}": f for name, f in scatter}}
    return Evaluation(metrics=metrics, plots=plots, predictions=predictions)


def evaluate_regression(model: Any, train: pd.DataFrame, test: pd.DataFrame, schema: FeatureSchema,
                        task: Task) -> Evaluation:
    """`evaluate_forecasts` of a fitted model's predictions on the test rows."""
    return evaluate_forecasts(model.predict(schema.matrix(test)), train, test, schema, task)
