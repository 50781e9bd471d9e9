"""Metrics, plot data and baselines for binary probability models. scikit-learn is imported inside the
functions that use it (~1.5 s), so a stage that only reads the operating threshold (package) does not pay it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from geih.errors import DataError


def binary_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    """Threshold-free and thresholded metrics of probabilities `p` against labels `y`."""
    from sklearn import metrics as skm

    y = np.asarray(y).astype(int)
    p = np.asarray(p, dtype=float)
    pred = (p >= threshold).astype(int)
    both = len(np.unique(y)) == 2
    return {
        "roc_auc": float(skm.roc_auc_score(y, p)) if both else float("nan"),
        "pr_auc": float(skm.average_precision_score(y, p)) if both else float("nan"),
        "f1": float(skm.f1_score(y, pred, zero_division=0)),
        "precision": float(skm.precision_score(y, pred, zero_division=0)),
        "recall": float(skm.recall_score(y, pred, zero_division=0)),
        "accuracy": float(skm.accuracy_score(y, pred)),
        "brier": float(skm.brier_score_loss(y, p)),
        "n": int(len(y)),
        "positive_rate": float(y.mean()) if len(y) else float("nan"),
    }


def ranking_scores(y: np.ndarray, score: np.ndarray, prefix: str) -> dict[str, float]:
    """ROC AUC and PR AUC of any score (baseline, oracle) on rows where it is defined."""
    from sklearn import metrics as skm

    y = np.asarray(y).astype(int)
    score = np.asarray(score, dtype=float)
    ok = np.isfinite(score)
    if ok.sum() == 0 or len(np.unique(y[ok])) < 2:
        return {f"{prefix}_roc_auc": float("nan"), f"{prefix}_pr_auc": float("nan")}
    return {f"{prefix}_roc_auc": float(skm.roc_auc_score(y[ok], score[ok])),
            f"{prefix}_pr_auc": float(skm.average_precision_score(y[ok], score[ok]))}


def _thin(frame: pd.DataFrame, max_points: int) -> pd.DataFrame:
    if len(frame) <= max_points:
        return frame
    idx = np.unique(np.linspace(0, len(frame) - 1, max_points).round().astype(int))
    return frame.iloc[idx]


def roc_points(y: np.ndarray, p: np.ndarray, max_points: int = 200) -> pd.DataFrame:
    """ROC curve (fpr, tpr, threshold), thinned to at most `max_points` rows."""
    from sklearn import metrics as skm

    fpr, tpr, thr = skm.roc_curve(y, p)
    return _thin(pd.DataFrame({"fpr": fpr, "tpr": tpr, "threshold": np.minimum(thr, 1.0)}), max_points)


def pr_points(y: np.ndarray, p: np.ndarray, max_points: int = 200) -> pd.DataFrame:
    """Precision-recall curve (recall, precision, threshold), thinned."""
    from sklearn import metrics as skm

    precision, recall, thr = skm.precision_recall_curve(y, p)
    frame = pd.DataFrame({"recall": recall[:-1], "precision": precision[:-1], "threshold": thr})
    return _thin(frame.iloc[::-1].reset_index(drop=True), max_points)


def calibration_points(y: np.ndarray, p: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Reliability curve over equal-width bins: mean predicted probability vs observed frequency."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    frame = pd.DataFrame({"bin": idx, "p": p, "y": y}).groupby("bin").agg(
        mean_predicted=("p", "mean"), fraction_positive=("y", "mean"), count=("y", "size"))
    return frame.reset_index(drop=True)


def confusion_rows(y: np.ndarray, p: np.ndarray, threshold: float) -> pd.DataFrame:
    """One row per test sample (actual, predicted), the layout DVC's confusion template reads."""
    return pd.DataFrame({"actual": np.asarray(y).astype(int),
                         "predicted": (np.asarray(p) >= threshold).astype(int)})


def metrics_by_group(frame: pd.DataFrame, group_col: str, threshold: float) -> pd.DataFrame:
    """roc_auc, pr_auc, positive rate, mean probability and row count per value of `group_col`;
    `frame` has columns y, p and `group_col`."""
    rows = []
    for key, sub in frame.groupby(group_col, sort=True):
        m = binary_metrics(sub["y"].to_numpy(), sub["p"].to_numpy(), threshold)
        rows.append({group_col: key, "roc_auc": m["roc_auc"], "pr_auc": m["pr_auc"],
                     "positive_rate": m["positive_rate"], "mean_probability": float(sub["p"].mean()),
                     "rows": m["n"]})
    return pd.DataFrame(rows)


def climatology_score(train: pd.DataFrame, test: pd.DataFrame, period_col: str) -> np.ndarray:
    """Fire frequency of the same cell and calendar `period_col` in the training rows, for each test
    row; the training positive rate where the cell/period never occurs in training."""
    key_train = train[["cell_id", period_col]].assign(label=train["label"].to_numpy())
    freq = key_train.groupby(["cell_id", period_col])["label"].mean().rename("clim")
    joined = test[["cell_id", period_col]].merge(freq.reset_index(), on=["cell_id", period_col], how="left")
    return joined["clim"].fillna(float(train["label"].mean())).to_numpy()


def permutation_importance(model: Any, X: pd.DataFrame, y: np.ndarray, repeats: int, seed: int,
                           max_rows: int = 20_000, batch_rows: int = 200_000) -> pd.DataFrame:
    """Mean drop of ROC AUC when each feature is shuffled, over `repeats` shuffles, on at most `max_rows` test
    rows (drawn with `seed`, kept in their order). The method is recorded in the frame: columns `repeats`, `rows`
    (rows scored) and `rows_test` (rows available).

    The shuffles are scikit-learn's (`sklearn.inspection.permutation_importance` with `random_state=seed`:
    one seed drawn for every feature, each repeat shuffling the column again), but the permuted copies are
    scored in batches of up to `batch_rows` rows: a few large `predict_proba` calls instead of one per feature
    and repeat, whose fixed cost (thread start-up, input checks) dominated on a busy machine."""
    from sklearn import metrics as skm

    n_test = len(X)
    if len(X) > max_rows:
        take = np.random.default_rng(seed).choice(len(X), size=max_rows, replace=False)
        X, y = X.iloc[np.sort(take)], np.asarray(y)[np.sort(take)]
    X, y = X.reset_index(drop=True), np.asarray(y)
    shared_seed = np.random.RandomState(seed).randint(np.iinfo(np.int32).max + 1)

    def permuted_copies():
        for column in X.columns:
            rng, order, values = np.random.RandomState(shared_seed), np.arange(len(X)), X[column].to_numpy()
            for _ in range(repeats):
                rng.shuffle(order)
                values = values[order]
                yield X.assign(**{column: values})

    scores: list[float] = []
    per_batch = max(1, batch_rows // max(len(X), 1))
    copies = permuted_copies()
    while batch := [frame for _, frame in zip(range(per_batch), copies)]:
        p = model.predict_proba(pd.concat(batch, ignore_index=True))[:, 1]
        scores += [float(skm.roc_auc_score(y, part)) for part in np.split(p, len(batch))]
    baseline = float(skm.roc_auc_score(y, model.predict_proba(X)[:, 1]))
    drops = baseline - np.asarray(scores).reshape(len(X.columns), repeats)
    out = pd.DataFrame({"feature": X.columns, "importance": drops.mean(axis=1)}).sort_values(
        "importance", ascending=False, kind="stable").reset_index(drop=True)
    return out.assign(repeats=repeats, rows=len(X), rows_test=n_test)


def operating_threshold(train_metrics: dict[str, Any], source: str, regression: bool = False) -> float | None:
    """The operating threshold train chose on the validation year (`threshold` of its metrics); None for a
    regression task (it predicts values, not classes); missing or outside [0, 1] → DataError naming `source`."""
    if regression:
        return None
    value = train_metrics.get("threshold")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise DataError(f"no operating threshold in [0, 1] (got {value!r}); re-run the train stage",
                        file=source, column="threshold")
    return float(value)
