"""The Task: everything the pipeline asks about one modelling task, as one typed object.

Each task module under `geih/tasks/` defines `TASK = Task(...)`; `geih.tasks.get_task(name)` finds it.
Code outside `geih/tasks` asks the task — its time column, features and valid ranges, registered model
name, baseline, how a period is labelled, how its evaluation map is drawn — instead of branching on
its name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

Range = tuple[float | None, float | None]  # inclusive (minimum, maximum); None = unbounded
MAP_KINDS = ("risk_levels", "probability", "values")
TASK_KINDS = ("classification", "regression")


@dataclass(frozen=True)
class MapSpec:
    """How evaluate maps one test period of the task.

    kind 'risk_levels': cells coloured by risk level, cells where `observed_column` > 0 as dots;
    kind 'probability': predicted probability beside the cells where `observed_column` > 0;
    kind 'values' (regression): predicted beside observed values, one row of panels per target.
    `title` and `observed_title` take the period label as `{period}`.
    """

    kind: str
    observed_column: str
    title: str
    observed_title: str = ""

    def __post_init__(self) -> None:
        if self.kind not in MAP_KINDS:
            raise ValueError(f"map kind {self.kind!r} is not one of {list(MAP_KINDS)}")


@dataclass(frozen=True)
class Target:
    """One value a regression task forecasts: its metrics key (`name`), the column holding it, its
    units, and the feature holding the same variable in the latest observed period (the persistence
    forecast; also the model input an external model is given)."""

    name: str
    column: str
    units: str
    persistence_column: str


@dataclass(frozen=True)
class Task:
    """One modelling task: its data (raw kinds, panel, features), its keys and label, and what
    evaluation, the registry and the maps need to know about it.

    `prepare(raw_dir, params, joins) → (panel, report)` builds the labelled panel from a raw folder
    (`joins`: where its spatial joins run, geih.tasks.common.SpatialJoins; in this process by default);
    `featurize(panel, grid_resolution_deg) → frame` adds the model features (ids, label, features);
    `check_prepare_params(params)` refuses a bad `prepare.<name>` group before any work starts.

    `kind` is 'classification' (a 0/1 `label_column`, probabilities, ranked by `registry_metric`
    roc_auc against register.min_roc_auc) or 'regression' (`targets`, one model predicting all of them;
    `label_column` is the first target's column; ranked by `registry_metric` with the floor 0: at
    least as good as the climatology baseline).
    """

    name: str
    time_column: str
    id_columns: tuple[str, ...]
    features: tuple[str, ...]
    valid_ranges: Mapping[str, Range]
    registered_name: str
    baseline_column: str
    baseline_name: str  # metrics baseline_<name>_roc_auc, lift_over_<name>_roc_auc
    map: MapSpec
    raw_kinds: tuple[str, ...]  # the data/raw folders prepare reads
    prepare: Callable[..., tuple[pd.DataFrame, dict[str, Any]]]  # (raw_dir, params, joins=IN_PROCESS)
    featurize: Callable[[pd.DataFrame, float], pd.DataFrame]
    check_prepare_params: Callable[[dict[str, Any]], None]
    label_column: str = "label"
    period_format: str | None = None  # strftime of a datetime time column's period; None: str(value)
    climatology_by_calendar_month: bool = False  # climatology per cell and calendar month (else per cell)
    truth_time_column: str | None = None  # the time column of the truth file (None: same as time_column)
    # prepare.<name> keys that must equal a key of the truth manifest for the oracle to be comparable
    truth_params: Mapping[str, str] = field(default_factory=dict)
    kind: str = "classification"
    targets: tuple[Target, ...] = ()
    registry_metric: str = "roc_auc"  # what register and `geih models best` rank versions by
    # Cells of neighbourhood a featurized row reads around its own cell (fire risk: the 8 neighbours = 1);
    # None: featurize needs the whole panel at once. geih.compute.partitions featurizes latitude bands
    # with this halo on Dask.
    featurize_halo_cells: int | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.kind not in TASK_KINDS:
            problems.append(f"kind {self.kind!r} is not one of {list(TASK_KINDS)}")
        if (self.kind == "regression") != bool(self.targets):
            problems.append("a regression task has targets, a classification task none")
        if self.targets and self.label_column != self.targets[0].column:
            problems.append(f"label_column {self.label_column!r} is not the first target's column")
        if bad := sorted({t.persistence_column for t in self.targets} - set(self.features)):
            problems.append(f"persistence columns {bad} are not features")
        if bad := sorted({t.column for t in self.targets} & set(self.features)):
            problems.append(f"target columns {bad} are also features")
        if len(set(self.features)) != len(self.features):
            problems.append("features repeat a name")
        if unknown := sorted(set(self.valid_ranges) - set(self.features)):
            problems.append(f"valid_ranges name non-features {unknown}")
        if self.baseline_column not in self.features:
            problems.append(f"baseline_column {self.baseline_column!r} is not a feature")
        if self.time_column not in self.id_columns:
            problems.append(f"time_column {self.time_column!r} is not an id column")
        if self.map.observed_column not in (*self.id_columns, *self.label_columns):
            problems.append(f"map observed_column {self.map.observed_column!r} is neither an id column nor the label")
        if overlap := sorted(set(self.id_columns) & set(self.features)):
            problems.append(f"id columns {overlap} are also features")
        if problems:
            raise ValueError(f"task {self.name!r}: " + "; ".join(problems))

    @property
    def label_columns(self) -> tuple[str, ...]:
        """The columns the model learns: the targets' (regression) or the label (classification)."""
        return tuple(t.column for t in self.targets) or (self.label_column,)

    def register_params(self, p: dict[str, Any]) -> dict[str, Any]:
        """The `register` group as this task applies it: as given for classification; a regression
        task ranks by its registry_metric (higher is better) above the floor 0 (beats climatology)."""
        if self.kind == "classification":
            return dict(p)
        return {**p, "metric": self.registry_metric, "higher_is_better": True, "floor": (self.registry_metric, 0.0)}

    @property
    def params_group(self) -> str:
        """The params.yaml group of its prepare stage."""
        return f"prepare.{self.name}"

    def period_label(self, value: Any) -> str:
        """The label of one time-column value ('2024-02' for a month, '2023' for a year)."""
        return pd.Timestamp(value).strftime(self.period_format) if self.period_format else str(value)

    def period_labels(self, values: pd.Series) -> pd.Series:
        """`period_label` of each value of a time column."""
        return values.dt.strftime(self.period_format) if self.period_format else values.astype(str)

    def climatology_key(self, frame: pd.DataFrame) -> np.ndarray:
        """The period within a cell that the climatology baseline averages over: the calendar month
        of the time column, or a single period."""
        if self.climatology_by_calendar_month:
            return frame[self.time_column].dt.month.to_numpy()
        return np.zeros(len(frame), dtype=np.int64)
