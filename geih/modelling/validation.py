"""Validation inside the training years, and the operating threshold chosen on it.

The last year of the training rows is held out: a copy of the model is fitted on the earlier training
years and scored on that year (the validation year). Hyperparameters are compared by these scores,
never by the test set's, and the operating threshold is chosen on the validation predictions by a
stated rule (`train.threshold_rule`):

- `max_f1`: the threshold that maximises F1 (balanced precision and recall);
- `recall_target`: the highest threshold whose recall reaches `train.recall_target` (enforcement: find
  at least that share of the events, with as few false alarms as that allows).

The final model is then fitted on all training years; evaluate applies the chosen threshold to the test
set (f1, precision, recall, confusion matrix).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm
from sklearn.base import clone

from geih.errors import DataError, ParamsError
from geih.modelling.feature_schema import FeatureSchema
from geih.modelling.metrics import binary_metrics
from geih.modelling.splits import row_year

Fit = Callable[[Any, pd.DataFrame, np.ndarray], Any]
THRESHOLD_RULES = ("max_f1", "recall_target")
VALIDATION_SETTINGS = ("threshold_rule", "recall_target")  # keys of the `train` group read here


def check_threshold_params(train: Mapping[str, Any]) -> tuple[str, float]:
    """(rule, recall target) from the `train` group; a bad value → ParamsError naming the key."""
    rule = train.get("threshold_rule")
    if rule not in THRESHOLD_RULES:
        raise ParamsError("train.threshold_rule", f"expected one of {list(THRESHOLD_RULES)}, got {rule!r}")
    target = train.get("recall_target")
    if isinstance(target, bool) or not isinstance(target, (int, float)) or not 0.0 < target <= 1.0:
        raise ParamsError("train.recall_target", f"expected a number in (0, 1], got {target!r}")
    return str(rule), float(target)


def choose_threshold(y: np.ndarray, p: np.ndarray, rule: str, recall_target: float) -> float:
    """The operating threshold on (y, p) by `rule` (see the module docstring); predictions are
    `p >= threshold`. Ties in F1 go to the higher threshold."""
    y = np.asarray(y).astype(int)
    p = np.asarray(p, dtype=float)
    if rule not in THRESHOLD_RULES:
        raise ValueError(f"rule must be one of {THRESHOLD_RULES}, got {rule!r}")
    if y.sum() == 0:
        raise DataError("the validation year has no positive row: no threshold can be chosen", column="label")
    precision, recall, thresholds = skm.precision_recall_curve(y, p)
    precision, recall = precision[:-1], recall[:-1]  # the last point has no threshold
    if rule == "max_f1":
        with np.errstate(invalid="ignore", divide="ignore"):
            f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
        best = np.flatnonzero(f1 == f1.max())
        return float(thresholds[best[-1]])
    reach = np.flatnonzero(recall >= recall_target)
    return float(thresholds[reach[-1]])


def validation_rows(frame: pd.DataFrame, time_column: str) -> np.ndarray:
    """Boolean mask of the rows of the last year in `frame` (the validation year)."""
    years = row_year(frame[time_column])
    if len(np.unique(years)) < 2:
        raise DataError(f"the training rows cover a single year of {time_column}: no earlier year to fit on "
                        "before the validation year; give the split more training years", column=time_column)
    return years == years.max()


def validation_metrics(model: Any, train: pd.DataFrame, schema: FeatureSchema, rule: str, recall_target: float,
                       fit: Fit | None = None) -> dict[str, Any]:
    """`validate` for a classification schema; {} for a regression task (targets: no threshold to choose)."""
    return {} if schema.targets else validate(model, train, schema, rule, recall_target, fit)


def validate(model: Any, train: pd.DataFrame, schema: FeatureSchema, rule: str, recall_target: float,
             fit: Fit | None = None) -> dict[str, Any]:
    """Fit a copy of `model` on the training years before the last, score the last, choose the threshold.
    `fit(model, X, y)` fits it (default `model.fit(X, y)`; on Dask: geih.compute.xgb.dask_fit).

    Returns validation_year, validation_rows, validation_roc_auc, validation_pr_auc, validation_brier,
    threshold_rule, threshold, and validation f1/precision/recall at that threshold.
    """
    held = validation_rows(train, schema.time_column)
    fit_rows, val_rows = train[~held], train[held]
    y_fit = fit_rows[schema.label].to_numpy()
    if len(np.unique(y_fit)) < 2:
        raise DataError("the training years before the validation year have a single class", column=schema.label)
    X_fit = schema.matrix(fit_rows)
    fitted = fit(clone(model), X_fit, y_fit) if fit else clone(model).fit(X_fit, y_fit)
    y = val_rows[schema.label].to_numpy()
    p = fitted.predict_proba(schema.matrix(val_rows))[:, 1]
    threshold = choose_threshold(y, p, rule, recall_target)
    m = binary_metrics(y, p, threshold)
    out: dict[str, Any] = {"validation_year": int(row_year(val_rows[schema.time_column]).max()),
                           "validation_rows": int(len(val_rows)),
                           "validation_roc_auc": m["roc_auc"], "validation_pr_auc": m["pr_auc"],
                           "validation_brier": m["brier"], "threshold_rule": rule}
    if rule == "recall_target":
        out["recall_target"] = recall_target
    out.update({"threshold": threshold, "validation_f1": m["f1"], "validation_precision": m["precision"],
                "validation_recall": m["recall"]})
    return out
