"""Evaluation of a trained task model on its test rows: metrics, baselines, the oracle bound,
breakdowns, importance and map frames. Pure: takes frames, returns frames and dicts."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from geih.domain.grid import Grid
from geih.domain.risk_levels import probability_level
from geih.io import atomic_path, read_json, write_csv
from geih.modelling import maps
from geih.modelling import metrics as ev
from geih.modelling.families import feature_importance
from geih.modelling.training import feature_matrix
from geih.params import check_keys, choice, number

log = logging.getLogger(__name__)

EVALUATE_KEYS = {"threshold", "permutation_repeats", "random_split", "map_months", "calibration_bins", "seed"}


def check_evaluate_params(p: dict[str, Any]) -> None:
    """Validate the `evaluate` group."""
    check_keys(p, EVALUATE_KEYS, "evaluate")
    number(p, "threshold", "evaluate", low=0.0, high=1.0)
    number(p, "permutation_repeats", "evaluate", low=0, integer=True)
    number(p, "calibration_bins", "evaluate", low=2, high=100, integer=True)
    number(p, "seed", "evaluate", integer=True)
    choice(p, "map_months", "evaluate", {"last", "all"})
    if not isinstance(p.get("random_split"), bool):
        from geih.errors import ParamsError

        raise ParamsError("evaluate.random_split", f"expected true or false, got {p.get('random_split')!r}")


@dataclass
class Evaluation:
    metrics: dict[str, Any]
    plots: dict[str, pd.DataFrame] = field(default_factory=dict)
    predictions: pd.DataFrame | None = None


def load_truth(truth_dir: Path, task: str, schema: dict[str, Any]) -> pd.DataFrame | None:
    """The generating probabilities for `task`, or None when absent or not comparable
    (other grid resolution or, for deforestation, another label threshold)."""
    manifest_path = Path(truth_dir) / "manifest.json"
    if not manifest_path.exists():
        return None
    manifest = read_json(manifest_path)
    if not manifest.get("available"):
        return None
    if abs(float(manifest["grid_resolution_deg"]) - float(schema["grid_resolution_deg"])) > 1e-9:
        log.warning("truth grid %.3f° differs from the task grid %.3f°: no oracle bound",
                    manifest["grid_resolution_deg"], schema["grid_resolution_deg"])
        return None
    threshold = schema.get("prepare", {}).get("threshold_km2")
    if threshold is not None and abs(float(threshold) - float(manifest.get("deforestation_threshold_km2", -1))) > 1e-9:
        log.warning("label threshold %.3f km² differs from the truth's: no oracle bound", threshold)
        return None
    path = Path(truth_dir) / f"{task}.parquet"
    return pd.read_parquet(path) if path.exists() else None


def oracle_scores(test: pd.DataFrame, truth: pd.DataFrame | None, time_col: str) -> np.ndarray:
    """The truth probability of each test row (NaN where unknown)."""
    if truth is None:
        return np.full(len(test), np.nan)
    key = "month" if "month" in truth.columns else "year"
    t = truth.rename(columns={key: time_col, "probability": "_oracle"})
    joined = test[["cell_id", time_col]].merge(t[["cell_id", time_col, "_oracle"]], on=["cell_id", time_col], how="left")
    return joined["_oracle"].to_numpy(dtype=float)


def climatology_period(frame: pd.DataFrame, time_col: str) -> np.ndarray:
    """The climatology key within a cell: the calendar month of a monthly time column, else one period."""
    values = frame[time_col]
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.month.to_numpy()
    return np.zeros(len(frame), dtype=np.int64)


def period_column(test: pd.DataFrame, time_col: str) -> pd.Series:
    """The breakdown period: calendar month of the label month (fire) or the year (deforestation)."""
    values = test[time_col]
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.strftime("%Y-%m")
    return values.astype(str)


def random_split_auc(model: Any, frame: pd.DataFrame, features: list[str], seed: int) -> float:
    """ROC AUC the same model would report on a random 80/20 split of all rows (the optimistic
    number that spatial autocorrelation produces)."""
    rng = np.random.default_rng(seed)
    test = rng.random(len(frame)) < 0.2
    fitted = clone(model).fit(feature_matrix(frame[~test], features), frame.loc[~test, "label"].to_numpy())
    p = fitted.predict_proba(feature_matrix(frame[test], features))[:, 1]
    return ev.binary_metrics(frame.loc[test, "label"].to_numpy(), p, 0.5)["roc_auc"]


def evaluate(model: Any, train: pd.DataFrame, test: pd.DataFrame, schema: dict[str, Any],
             truth: pd.DataFrame | None, p: dict[str, Any]) -> Evaluation:
    """Everything evaluate reports for one task."""
    features, time_col = schema["features"], schema["time_column"]
    threshold, seed = float(p["threshold"]), int(p["seed"])
    X = feature_matrix(test, features)
    y = test["label"].to_numpy()
    prob = model.predict_proba(X)[:, 1]
    metrics: dict[str, Any] = ev.binary_metrics(y, prob, threshold)
    metrics.update({"threshold": threshold, "n_train": len(train), "n_test": metrics.pop("n"),
                    "positive_rate_train": float(train["label"].mean())})
    baseline_col, baseline_name = schema["baseline_column"], schema["baseline_name"]
    metrics.update(ev.ranking_scores(y, test[baseline_col].to_numpy(dtype=float), f"baseline_{baseline_name}"))
    # Climatology: the training frequency of the same cell (and calendar month, for monthly tasks).
    tr, te = train.assign(period=climatology_period(train, time_col)), test.assign(period=climatology_period(test, time_col))
    metrics.update(ev.ranking_scores(y, ev.climatology_score(tr, te, "period"), "baseline_climatology"))
    oracle = oracle_scores(test, truth, time_col)
    metrics.update(ev.ranking_scores(y, oracle, "oracle"))
    if truth is not None:
        metrics["oracle_brier"] = float(np.nanmean((oracle - y) ** 2))
    metrics[f"lift_over_{baseline_name}_roc_auc"] = metrics["roc_auc"] - metrics[f"baseline_{baseline_name}_roc_auc"]
    metrics["oracle_gap_roc_auc"] = metrics["oracle_roc_auc"] - metrics["roc_auc"]
    if p["random_split"]:
        both = pd.concat([train, test], ignore_index=True)
        metrics["random_split_roc_auc"] = random_split_auc(model, both, features, seed)

    frame = pd.DataFrame({"y": y, "p": prob, "period": period_column(test, time_col).to_numpy(),
                          "state": test["state"].to_numpy()})
    plots = {
        "roc": ev.roc_points(y, prob), "pr": ev.pr_points(y, prob),
        "confusion": ev.confusion_rows(y, prob, threshold),
        "calibration": ev.calibration_points(y, prob, int(p["calibration_bins"])),
        "by_period": ev.metrics_by_group(frame, "period", threshold),
        "by_state": ev.metrics_by_group(frame, "state", threshold),
    }
    own = feature_importance(model, features)
    if own:
        plots["importance"] = pd.DataFrame({"feature": list(own), "importance": list(own.values())})
    if int(p["permutation_repeats"]) > 0:
        plots["permutation_importance"] = ev.permutation_importance(model, X, y, int(p["permutation_repeats"]), seed)
    predictions = test[schema["id_columns"]].copy()
    predictions["label"] = y
    predictions["probability"] = prob
    predictions["risk_level"] = probability_level(prob)
    predictions["oracle_probability"] = oracle
    return Evaluation(metrics=metrics, plots=plots, predictions=predictions)


def map_rows(predictions: pd.DataFrame, time_col: str, which: str) -> list[tuple[str, pd.DataFrame]]:
    """(label, rows) of the periods to map: the last test period, or all of them."""
    values = predictions[time_col]
    periods = np.sort(values.unique())
    chosen = periods[-1:] if which == "last" else periods
    out = []
    for value in chosen:
        label = pd.Timestamp(value).strftime("%Y-%m") if time_col == "label_month" else str(value)
        out.append((label, predictions[values == value]))
    return out


def write_plots(result: Evaluation, task: str, grid: Grid, time_col: str, map_months: str, folder: Path) -> None:
    """Plot data CSVs and map PNGs (`map_last.png`, plus `map_<period>.png` for earlier periods), atomically."""
    with atomic_path(folder) as tmp:
        tmp.mkdir()
        for name, frame in result.plots.items():
            write_csv(frame, tmp / f"{name}.csv")
        for i, (label, rows) in enumerate(reversed(map_rows(result.predictions, time_col, map_months))):
            maps.task_map_png(task, rows, grid, label, tmp / ("map_last.png" if i == 0 else f"map_{label}.png"))


def write_predictions(result: Evaluation, grid: Grid, time_col: str, folder: Path) -> None:
    """Test predictions (Parquet) and the last period's cells as GeoJSON, atomically."""
    with atomic_path(folder) as tmp:
        tmp.mkdir()
        result.predictions.to_parquet(tmp / "test_predictions.parquet", index=False, compression="zstd")
        label, rows = map_rows(result.predictions, time_col, "last")[0]
        maps.cells_geojson(rows.drop(columns=[time_col]).assign(period=label), grid, tmp / "last_period.geojson")
