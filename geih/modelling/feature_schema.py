"""The feature schema: the typed contract featurize writes (`schema.json` in the features folder) and
everything downstream reads — train, evaluate, package, the bundle, the service and monitoring.

It names the model's input features with their dtype, the valid range a value must fall in (declared
by the task; None = any finite number), whether a missing value is allowed, and reference statistics
of the training rows (quantiles, mean, standard deviation, missing rate and a fixed-size sample) that
drift detection compares production inputs with.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from geih.errors import DataError
from geih.io import read_json, write_json

if TYPE_CHECKING:
    from geih.tasks.task import Task

SCHEMA_VERSION = 1
QUANTILE_LEVELS = tuple(round(q / 10, 1) for q in range(11))  # 0.0, 0.1, …, 1.0
SAMPLE_SIZE = 1000


@dataclass(frozen=True)
class ReferenceStats:
    """Training-data statistics of one feature (finite values only; missing counted apart)."""

    count: int
    missing_rate: float
    mean: float | None
    std: float | None
    quantiles: list[float | None]
    sample: list[float]

    @classmethod
    def of(cls, values: np.ndarray, seed: int) -> ReferenceStats:
        """Statistics of a float array; the sample is drawn without replacement with `seed`."""
        values = np.asarray(values, dtype=np.float64)
        finite = values[np.isfinite(values)]
        n = len(values)
        if len(finite) == 0:
            return cls(count=n, missing_rate=1.0 if n else 0.0, mean=None, std=None,
                       quantiles=[None] * len(QUANTILE_LEVELS), sample=[])
        rng = np.random.default_rng(seed)
        take = finite if len(finite) <= SAMPLE_SIZE else rng.choice(finite, SAMPLE_SIZE, replace=False)
        return cls(count=n, missing_rate=float(1 - len(finite) / n), mean=float(finite.mean()),
                   std=float(finite.std()), quantiles=[float(q) for q in np.quantile(finite, QUANTILE_LEVELS)],
                   sample=[float(v) for v in np.sort(take)])


@dataclass(frozen=True)
class FeatureSpec:
    """One model input: name, dtype, valid range (inclusive; None = unbounded) and whether a missing
    value (null/NaN) is allowed."""

    name: str
    dtype: str = "float64"
    minimum: float | None = None
    maximum: float | None = None
    nullable: bool = True

    def problem(self, value: float) -> str | None:
        """Why `value` is not acceptable for this feature, or None when it is."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None if self.nullable else "is missing (null/NaN) but this feature requires a value"
        if math.isinf(value):
            return "is infinite"
        if self.minimum is not None and value < self.minimum:
            return f"is {value!r}, below the valid minimum {self.minimum}"
        if self.maximum is not None and value > self.maximum:
            return f"is {value!r}, above the valid maximum {self.maximum}"
        return None


@dataclass(frozen=True)
class FeatureSchema:
    """What featurize produced for a task: features, label, keys and training reference statistics."""

    task: str
    features: list[FeatureSpec]
    label: str
    time_column: str
    id_columns: list[str]
    grid_resolution_deg: float
    baseline_column: str
    baseline_name: str
    prepare: dict[str, Any] = field(default_factory=dict)
    split: dict[str, Any] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    positive_rate: dict[str, float] = field(default_factory=dict)
    reference: dict[str, ReferenceStats] = field(default_factory=dict)
    version: int = SCHEMA_VERSION
    # Regression: {"name", "column", "units", "persistence_column"} of each target (`label` is the first's column); empty for a
    # classification task (and then left out of schema.json, which reads as before).
    targets: list[dict[str, str]] = field(default_factory=list)

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def label_columns(self) -> list[str]:
        """The columns a model learns: every target's (regression) or the label."""
        return [t["column"] for t in self.targets] or [self.label]

    def labels(self, frame: pd.DataFrame) -> np.ndarray:
        """The learned values of `frame`: (rows, targets) for regression, (rows,) for the label."""
        return frame[self.label_columns].to_numpy(dtype=np.float64) if self.targets else frame[self.label].to_numpy()

    def spec(self, name: str) -> FeatureSpec:
        """The spec of feature `name`; unknown → KeyError naming it."""
        for f in self.features:
            if f.name == name:
                return f
        raise KeyError(f"unknown feature {name!r}")

    def matrix(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The feature columns of `frame` in schema order as float64 (the dtype models and logged
        signatures use); a missing column is a DataError naming it."""
        missing = [f for f in self.feature_names if f not in frame.columns]
        if missing:
            raise DataError(f"feature columns missing: {missing}", column=missing[0])
        return frame[self.feature_names].astype(np.float64)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if not self.targets:
            del out["targets"]
        return out

    def input_schema(self) -> dict[str, Any]:
        """The part a deployed model needs to check its input: names, dtypes, ranges, nullability."""
        return {"features": [asdict(f) for f in self.features]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSchema:
        """Parse a schema.json mapping (the inverse of to_dict)."""
        data = dict(data)
        version = data.get("version")
        if version != SCHEMA_VERSION:
            raise DataError(f"feature schema version {version!r} is not the supported {SCHEMA_VERSION}; "
                            "re-run the featurize stage", column="version")
        data["features"] = [FeatureSpec(**f) for f in data["features"]]
        data["reference"] = {k: ReferenceStats(**v) for k, v in data.get("reference", {}).items()}
        return cls(**data)

    def save(self, path: str | Path) -> None:
        write_json(self.to_dict(), path)

    @classmethod
    def load(cls, path: str | Path, task: str | None = None) -> FeatureSchema:
        """Read a schema.json (a features folder is accepted too); missing, or written for another
        task than `task` (when given) → DataError."""
        path = Path(path)
        if path.is_dir():
            path = path / "schema.json"
        if not path.exists():
            raise DataError("feature schema missing; run the featurize stage first", file=str(path))
        try:
            schema = cls.from_dict(read_json(path))
        except (TypeError, KeyError) as exc:
            raise DataError(f"not a feature schema ({exc})", file=str(path)) from exc
        if task is not None and schema.task != task:
            raise DataError(f"these are the features of task {schema.task!r}, not {task!r}", file=str(path))
        return schema


def build_schema(task: str, train: pd.DataFrame, test: pd.DataFrame, features: list[str],
                 valid_ranges: dict[str, tuple[float | None, float | None]], *, label: str, time_column: str,
                 id_columns: list[str], grid_resolution_deg: float, baseline_column: str, baseline_name: str,
                 prepare: dict[str, Any], split: dict[str, Any], seed: int = 0,
                 targets: list[dict[str, str]] | None = None) -> FeatureSchema:
    """The schema of a task's train/test tables. A feature is nullable when its training values hold
    a missing value; reference statistics come from the training rows only. `positive_rate` is the
    label's mean (for regression: the first target's mean)."""
    specs, reference = [], {}
    for i, name in enumerate(features):
        values = train[name].to_numpy(dtype=np.float64)
        low, high = valid_ranges.get(name, (None, None))
        specs.append(FeatureSpec(name=name, dtype="float64", minimum=low, maximum=high,
                                 nullable=bool(np.isnan(values).any())))
        reference[name] = ReferenceStats.of(values, seed + i)
    return FeatureSchema(
        task=task, features=specs, label=label, time_column=time_column, id_columns=list(id_columns),
        grid_resolution_deg=float(grid_resolution_deg), baseline_column=baseline_column,
        baseline_name=baseline_name, prepare=dict(prepare), split=dict(split),
        rows={"train": len(train), "test": len(test)},
        positive_rate={"train": float(train[label].mean()) if len(train) else float("nan"),
                       "test": float(test[label].mean()) if len(test) else float("nan")},
        reference=reference, targets=list(targets or []))


def task_schema(task: Task, train: pd.DataFrame, test: pd.DataFrame, *, grid_resolution_deg: float,
                prepare: dict[str, Any], split: dict[str, Any], seed: int = 0) -> FeatureSchema:
    """`build_schema` with what the task declares: features, valid ranges, label, keys, baseline."""
    return build_schema(task.name, train, test, list(task.features), dict(task.valid_ranges),
                        label=task.label_column, time_column=task.time_column, id_columns=list(task.id_columns),
                        grid_resolution_deg=grid_resolution_deg, baseline_column=task.baseline_column,
                        baseline_name=task.baseline_name, prepare=prepare, split=split, seed=seed,
                        targets=[{"name": t.name, "column": t.column, "units": t.units,
                                  "persistence_column": t.persistence_column} for t in task.targets])
