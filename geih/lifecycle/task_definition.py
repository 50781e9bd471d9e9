"""The task definition a model was trained for: what makes two models' metrics comparable.

Two versions are compared (by `register` and `geih models best`) only when they were trained and
evaluated for the same definition: the same task, the same prepare (label) params — e.g.
`prepare.deforestation.threshold_km2` — and the same labelled rows (the data version: a hash of the
key columns and the label of the train and test tables, so it follows the raw data and the split,
but not feature engineering). Its fingerprint is recorded as run and model-version tags.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from geih.errors import DataError
from geih.modelling.feature_schema import FeatureSchema

FINGERPRINT_TAG = "geih.task_definition"
PARAMS_TAG = "geih.task_definition.params"
DATA_VERSION_TAG = "geih.task_definition.data_version"


@dataclass(frozen=True)
class TaskDefinition:
    """A task, its prepare params, the split that chose the test rows, and the data version of the
    labelled rows. The fingerprint covers task, prepare params and data version (a split that
    picks other rows changes the data version)."""

    task: str
    prepare: dict[str, Any]
    data_version: str
    split: dict[str, Any] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        text = json.dumps({"task": self.task, "prepare": self.prepare, "data_version": self.data_version},
                          sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def tags(self) -> dict[str, str]:
        """The run / model-version tags that record this definition."""
        return {FINGERPRINT_TAG: self.fingerprint, DATA_VERSION_TAG: self.data_version,
                PARAMS_TAG: json.dumps({"task": self.task, "prepare": self.prepare, "split": self.split},
                                       sort_keys=True, default=str)}

    @classmethod
    def from_tags(cls, tags: dict[str, str]) -> TaskDefinition | None:
        """The definition recorded in `tags`, or None when they record none (or not readably)."""
        if FINGERPRINT_TAG not in tags:
            return None
        try:
            params = json.loads(tags.get(PARAMS_TAG, "{}"))
        except json.JSONDecodeError:
            return None
        return cls(params.get("task", ""), params.get("prepare", {}), tags.get(DATA_VERSION_TAG, ""),
                   params.get("split", {}))

    def differences(self, other: TaskDefinition) -> list[str]:
        """How `other` differs from this definition, in words ('<params key> <this> vs <other>'): the
        task, the prepare params, and when the labelled rows differ the split params — or, when no
        param explains it, the data version itself."""
        out = [f"task {self.task} vs {other.task}"] if self.task != other.task else []
        out += _diff(self.prepare, other.prepare, f"prepare.{self.task}.")
        if self.data_version != other.data_version:
            out += _diff(self.split, other.split, "featurize.")
            if not out:
                out.append(f"data version {self.data_version} vs {other.data_version}")
        return out


def _diff(a: dict[str, Any], b: dict[str, Any], prefix: str) -> list[str]:
    missing = "(unset)"
    return [f"{prefix}{k} {a.get(k, missing)} vs {b.get(k, missing)}"
            for k in sorted(set(a) | set(b)) if a.get(k, missing) != b.get(k, missing)]


def task_definition(features_dir: str | Path) -> TaskDefinition:
    """The definition a features folder (featurize's output) stands for: its schema's task, prepare
    and split params, and the data version of its labelled rows."""
    features_dir = Path(features_dir)
    schema = FeatureSchema.load(features_dir)
    columns = list(dict.fromkeys([*schema.id_columns, schema.time_column, *schema.label_columns]))
    digest = hashlib.sha256()
    for part in ("train", "test"):
        path = features_dir / f"{part}.parquet"
        if not path.exists():
            raise DataError("missing; run the featurize stage first", file=str(path))
        rows = pd.read_parquet(path, columns=columns)
        digest.update(part.encode())
        digest.update(pd.util.hash_pandas_object(rows, index=False).to_numpy().tobytes())
    return TaskDefinition(schema.task, dict(schema.prepare), digest.hexdigest()[:16], dict(schema.split))
