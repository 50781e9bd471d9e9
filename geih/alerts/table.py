"""The alerts of a features frame scored with a model bundle.

`AlertModel` is a bundle as alerts need it: its predict.py module (so probabilities and levels are the
bundle's own), the verified model, model_info.json and the grid resolution and time column of its
feature_schema.json. `score_frame` scores every row and attributes it; `build_alerts` keeps the rows at or
above the chosen level in the chosen period, with their places.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from geih.alerts.attribution import top_features
from geih.alerts.levels import alert_mask
from geih.alerts.places import places
from geih.domain.grid import Grid
from geih.errors import DataError, GeihError

TOP_K = 3
CELL_COLUMN = "cell_id"
STATE_COLUMN = "state"


@dataclass(frozen=True)
class AlertModel:
    """A loaded bundle: predict.py `module`, verified `model`, `info` (model_info.json), `scorer`, and from
    feature_schema.json the grid resolution and time column."""

    module: ModuleType
    model: Any
    info: dict[str, Any]
    scorer: Any
    grid_resolution_deg: float
    time_column: str

    @property
    def task(self) -> str:
        return str(self.info["task"])

    @property
    def features(self) -> list[str]:
        return [s["name"] for s in self.info["input_schema"]["features"]]

    @property
    def levels(self) -> list[str]:
        return list(self.info["risk_levels"])

    @property
    def identity(self) -> dict[str, str]:
        return {"task": self.task, "model_name": str(self.info["name"]), "model_version": str(self.info["version"])}


def schema_facts(folder: Path, info: dict[str, Any]) -> tuple[float, str]:
    """(grid_resolution_deg, time_column) of a bundle's feature_schema.json; GeihError naming the file."""
    path = Path(folder) / info.get("feature_schema_file", "feature_schema.json")
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
        return float(schema["grid_resolution_deg"]), str(schema["time_column"])
    except FileNotFoundError as exc:
        raise GeihError(f"bundle {folder}: {path.name} missing; rebuild the bundle") from exc
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise GeihError(f"bundle {folder}: {path} has no grid_resolution_deg/time_column ({exc})") from exc


def alert_model(module: ModuleType, model: Any, info: dict[str, Any], folder: Path, scorer: Any = None) -> AlertModel:
    """An AlertModel from an already loaded bundle (the service's); a bundle without risk levels is refused."""
    if not info.get("risk_levels") or not info.get("risk_thresholds"):
        raise GeihError(f"bundle {folder}: model_info.json has no risk levels; alerts need a classifier bundle")
    resolution, time_column = schema_facts(folder, info)
    return AlertModel(module=module, model=model, info=info, scorer=scorer or module.Scorer(model, info),
                      grid_resolution_deg=resolution, time_column=time_column)


def load_alert_model(folder: Path) -> AlertModel:
    """Load a bundle folder (model verified by its checksum before unpickling); problems are GeihErrors."""
    from geih.lifecycle.bundle import load_predictor

    folder = Path(folder)
    if not folder.is_dir():
        raise GeihError(f"bundle {folder}: no such folder")
    module = load_predictor(folder)
    try:
        model, info = module.load_bundle(folder)
    except module.BundleError as exc:
        raise GeihError(f"bundle {folder}: {exc}") from exc
    return alert_model(module, model, info, folder)


def period_labels(values: pd.Series) -> pd.Series:
    """Period labels of a time column: 'YYYY-MM' for month starts, 'YYYY-MM-DD' for other dates, else text."""
    if pd.api.types.is_datetime64_any_dtype(values):
        fmt = "%Y-%m" if bool((values.dropna().dt.day == 1).all()) else "%Y-%m-%d"
        return values.dt.strftime(fmt)
    return values.astype(str)


def check_frame(frame: pd.DataFrame, model: AlertModel, source: str) -> None:
    """Refuse a frame without the cell id, the time column or a feature (DataError naming file and column)."""
    for column in (CELL_COLUMN, model.time_column):
        if column not in frame.columns:
            raise DataError(f"column missing: the {model.task} bundle needs each row's cell id ({CELL_COLUMN}) and "
                            f"period ({model.time_column}); is this the {model.task} features file?",
                            file=source, column=column)
    missing = [f for f in model.features if f not in frame.columns]
    if missing:
        raise DataError(f"feature column(s) missing: {missing[:5]}{' …' if len(missing) > 5 else ''}",
                        file=source, column=missing[0])
    if not pd.api.types.is_integer_dtype(frame[CELL_COLUMN]):
        raise DataError("cell ids must be integers", file=source, column=CELL_COLUMN)
    grid = Grid(model.grid_resolution_deg)
    ids = frame[CELL_COLUMN].to_numpy()
    bad = np.flatnonzero((ids < 0) | (ids >= grid.nrows * grid.ncols))
    if len(bad):
        raise DataError(f"cell id {ids[bad[0]]} is not a cell of the {model.grid_resolution_deg}° grid",
                        file=source, row=int(bad[0]) + 2, column=CELL_COLUMN)


def choose_period(labels: pd.Series, period: str, source: str) -> pd.Series:
    """Rows of the chosen period: 'latest' (the last label in sort order), 'all', or one label."""
    if period == "all":
        return pd.Series(True, index=labels.index)
    if period == "latest":
        return labels == labels.max() if len(labels) else pd.Series(False, index=labels.index)
    if not (labels == period).any():
        raise DataError(f"period {period!r} not in the input; it holds {sorted(labels.unique())[:6]}…",
                        file=source)
    return labels == period


def scored(frame: pd.DataFrame, model: AlertModel, source: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(feature matrix, probabilities, level indices) of every row, each value checked against the bundle's
    input schema first (a bad value is a DataError naming the file, row and feature)."""
    check_frame(frame, model, source)
    matrix = frame[model.features].to_numpy(dtype=np.float64, na_value=np.nan)
    try:
        model.module.check_matrix(matrix, model.info["input_schema"]["features"], 0, "row")
    except model.module.BundleError as exc:
        raise DataError(str(exc), file=source) from exc
    probabilities, _, level_index = model.scorer(matrix)
    return matrix, probabilities, level_index


def describe(frame: pd.DataFrame, matrix: np.ndarray, probabilities: np.ndarray, level_index: np.ndarray,
             model: AlertModel, k: int = TOP_K, explain: np.ndarray | None = None) -> pd.DataFrame:
    """Scored rows described: identity, period, cell_id, centre lat/lon, probability, risk_level, level_index,
    the top `k` features with their contributions, state and municipality with IBGE codes.
    `attrs['attribution']` names the attribution method. `explain` (a bool per row, default all): the rows
    attributed; the others get no top features (attribution is most of the cost: TreeSHAP per row)."""
    rows = np.ones(len(frame), dtype=bool) if explain is None else np.asarray(explain, dtype=bool)
    some = top_features(model.model, pd.DataFrame(matrix[rows], columns=model.features), k)
    index, contribution = np.full((len(frame), k), -1, dtype=np.int64), np.full((len(frame), k), np.nan)
    index[rows], contribution[rows] = some.index, some.contribution
    names = np.asarray([*model.features, None], dtype=object)
    cell = frame[CELL_COLUMN].to_numpy(dtype=np.int64)
    lat, lon = Grid(model.grid_resolution_deg).center(cell)
    state = frame[STATE_COLUMN].astype(object).to_numpy() if STATE_COLUMN in frame.columns else None
    out = pd.DataFrame({
        **{key: np.full(len(frame), value, dtype=object) for key, value in model.identity.items()},
        "period": period_labels(frame[model.time_column]).to_numpy(dtype=object),
        CELL_COLUMN: cell, "lat": lat, "lon": lon,
        "probability": np.asarray(probabilities, dtype=np.float64),
        "risk_level": np.asarray(model.levels, dtype=object)[level_index],
        "level_index": np.asarray(level_index, dtype=np.int64),
    })
    for j in range(k):
        out[f"top_feature_{j + 1}"] = names[index[:, j]]
        out[f"top_contribution_{j + 1}"] = contribution[:, j]
    out = pd.concat([out, places(lat, lon, state)], axis=1)
    out.attrs["attribution"] = some.method
    return out


def score_frame(frame: pd.DataFrame, model: AlertModel, source: str = "input", k: int = TOP_K,
                explain_from: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Every row scored, attributed and placed (see `describe`), in input order; with `explain_from` (alerting
    levels), only the rows at or above the lowest of them are attributed (the others have no top features)."""
    matrix, probabilities, level_index = scored(frame, model, source)
    explain = None if explain_from is None else alert_mask(level_index, explain_from, model.levels)
    return describe(frame, matrix, probabilities, level_index, model, k, explain)


def build_alerts(frame: pd.DataFrame, model: AlertModel, levels: tuple[str, ...], period: str = "latest",
                 source: str = "input", k: int = TOP_K) -> pd.DataFrame:
    """The alerts: rows of the chosen period ('latest', 'all' or a label) at or above the lowest chosen level,
    most probable first (then period, cell id); only those rows are attributed and placed."""
    matrix, probabilities, level_index = scored(frame, model, source)
    keep = (choose_period(period_labels(frame[model.time_column]), period, source).to_numpy()
            & alert_mask(level_index, levels, model.levels))
    return sort_alerts(describe(frame[keep], matrix[keep], probabilities[keep], level_index[keep], model, k))


def sort_alerts(alerts: pd.DataFrame) -> pd.DataFrame:
    """Most probable first, then by period and cell id; the attribution method kept."""
    method = alerts.attrs.get("attribution")
    out = alerts.sort_values(["probability", "period", CELL_COLUMN], ascending=[False, True, True],
                             kind="stable").reset_index(drop=True)
    out.attrs["attribution"] = method
    return out
