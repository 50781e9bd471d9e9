"""Evaluation of a trained task model on its test rows: metrics, baselines, the oracle bound,
breakdowns, importance and the predictions frame. Pure: takes frames, returns frames and dicts
(writing them: geih.modelling.outputs; reading the oracle: geih.modelling.truth).

The feature schema says what the tables hold (features, label, ids, baseline column); the task says
how its periods are labelled and what its climatology averages over."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from geih.domain.risk_levels import probability_level
from geih.errors import DataError, ParamsError
from geih.modelling import metrics as ev
from geih.modelling.families import feature_importance
from geih.modelling.feature_schema import FeatureSchema
from geih.modelling.truth import oracle_scores
from geih.params import check_keys, choice, number

if TYPE_CHECKING:
    from geih.tasks.task import Task

EVALUATE_KEYS = {"permutation_repeats", "permutation_rows", "random_split", "map_months", "calibration_bins", "seed"}


def check_evaluate_params(p: dict[str, Any]) -> None:
    """Validate the `evaluate` group."""
    check_keys(p, EVALUATE_KEYS, "evaluate")
    number(p, "permutation_repeats", "evaluate", low=0, integer=True)
    number(p, "permutation_rows", "evaluate", low=100, integer=True)
    number(p, "calibration_bins", "evaluate", low=2, high=100, integer=True)
    number(p, "seed", "evaluate", integer=True)
    choice(p, "map_months", "evaluate", {"last", "all"})
    if not isinstance(p.get("random_split"), bool):
        raise ParamsError("evaluate.random_split", f"expected true or false, got {p.get('random_split')!r}")


@dataclass
class Evaluation:
    metrics: dict[str, Any]
    plots: dict[str, pd.DataFrame] = field(default_factory=dict)
    predictions: pd.DataFrame | None = None


def random_test_rows(n_rows: int, seed: int) -> np.ndarray:
    """The test rows of `random_split_auc`'s random 80/20 split of `n_rows` rows (a boolean mask)."""
    return np.random.default_rng(seed).random(n_rows) < 0.2


def random_split_auc(model: Any, frame: pd.DataFrame, schema: FeatureSchema, seed: int) -> float:
    """ROC AUC the same model would report on a random 80/20 split of all rows (the optimistic
    number that spatial autocorrelation produces). A full re-fit: as costly as train itself."""
    from sklearn.base import clone

    test = random_test_rows(len(frame), seed)
    fitted = clone(model).fit(schema.matrix(frame[~test]), frame.loc[~test, schema.label].to_numpy())
    p = fitted.predict_proba(schema.matrix(frame[test]))[:, 1]
    return ev.binary_metrics(frame.loc[test, schema.label].to_numpy(), p, 0.5)["roc_auc"]


def evaluate(model: Any, train: pd.DataFrame, test: pd.DataFrame, schema: FeatureSchema, task: Task,
             truth: pd.DataFrame | None, p: dict[str, Any], threshold: float | None) -> Evaluation:
    """Everything evaluate reports for one task, thresholded metrics at `threshold` (chosen on the
    validation year by train); a schema of another task → DataError. A regression task is scored by
    geih.modelling.regression (no threshold; its evaluate params are not used)."""
    if schema.task != task.name:
        raise DataError(f"the feature schema is task {schema.task!r}'s, not {task.name!r}'s", column="task")
    if task.kind == "regression":
        from geih.modelling.regression import evaluate_regression

        return evaluate_regression(model, train, test, schema, task)
    if threshold is None:
        raise DataError("no operating threshold for a classification task: train's metrics have no 'threshold'",
                        column="threshold")
    label = schema.label
    seed = int(p["seed"])
    X = schema.matrix(test)
    y = test[label].to_numpy()
    prob = model.predict_proba(X)[:, 1]
    metrics: dict[str, Any] = ev.binary_metrics(y, prob, threshold)
    metrics.update({"threshold": threshold, "n_train": len(train), "n_test": metrics.pop("n"),
                    "positive_rate_train": float(train[label].mean())})
    baseline_col, baseline_name = schema.baseline_column, schema.baseline_name
    metrics.update(ev.ranking_scores(y, test[baseline_col].to_numpy(dtype=float), f"baseline_{baseline_name}"))
    # Climatology: the training frequency of the same cell (and period within it, as the task says).
    tr, te = train.assign(period=task.climatology_key(train)), test.assign(period=task.climatology_key(test))
    metrics.update(ev.ranking_scores(y, ev.climatology_score(tr, te, "period"), "baseline_climatology"))
    oracle = oracle_scores(test, truth, task)
    metrics.update(ev.ranking_scores(y, oracle, "oracle"))
    if truth is not None:
        metrics["oracle_brier"] = float(np.nanmean((oracle - y) ** 2))
    metrics[f"lift_over_{baseline_name}_roc_auc"] = metrics["roc_auc"] - metrics[f"baseline_{baseline_name}_roc_auc"]
    metrics["oracle_gap_roc_auc"] = metrics["oracle_roc_auc"] - metrics["roc_auc"]
    if p["random_split"]:
        both = pd.concat([train, test], ignore_index=True)
        metrics["random_split_roc_auc"] = random_split_auc(model, both, schema, seed)

    frame = pd.DataFrame({"y": y, "p": prob, "period": task.period_labels(test[task.time_column]).to_numpy(),
                          "state": test["state"].to_numpy()})
    plots = {
        "roc": ev.roc_points(y, prob), "pr": ev.pr_points(y, prob),
        "confusion": ev.confusion_rows(y, prob, threshold),
        "calibration": ev.calibration_points(y, prob, int(p["calibration_bins"])),
        "by_period": ev.metrics_by_group(frame, "period", threshold),
        "by_state": ev.metrics_by_group(frame, "state", threshold),
    }
    own = feature_importance(model, schema.feature_names)
    if own:
        plots["importance"] = pd.DataFrame({"feature": list(own), "importance": list(own.values())})
    if int(p["permutation_repeats"]) > 0:
        plots["permutation_importance"] = ev.permutation_importance(model, X, y, int(p["permutation_repeats"]), seed,
                                                                    int(p["permutation_rows"]))
    predictions = test[schema.id_columns].copy()
    predictions[label] = y
    predictions["probability"] = prob
    predictions["risk_level"] = probability_level(prob)
    predictions["oracle_probability"] = oracle
    return Evaluation(metrics=metrics, plots=plots, predictions=predictions)
