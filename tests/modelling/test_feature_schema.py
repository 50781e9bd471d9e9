"""The feature schema: building it from small frames, saving/loading, and what it refuses."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geih.errors import DataError
from geih.modelling.feature_schema import (
    QUANTILE_LEVELS,
    SAMPLE_SIZE,
    FeatureSchema,
    FeatureSpec,
    ReferenceStats,
    build_schema,
    task_schema,
)
from geih.tasks import get_task


def small_schema() -> FeatureSchema:
    train = pd.DataFrame({"a": [0.0, 0.5, 1.0, np.nan], "b": [1.0, 2.0, 3.0, 4.0], "label": [0, 1, 0, 1],
                          "year": [2020] * 4})
    test = pd.DataFrame({"a": [0.2], "b": [5.0], "label": [1], "year": [2021]})
    return build_schema("demo", train, test, ["a", "b"], {"a": (0.0, 1.0)}, label="label", time_column="year",
                        id_columns=["year"], grid_resolution_deg=0.5, baseline_column="b", baseline_name="b",
                        prepare={"grid_resolution_deg": 0.5}, split={"split": "temporal"}, seed=3)


def test_build_schema_nullability_ranges_and_reference_stats():
    schema = small_schema()
    assert schema.feature_names == ["a", "b"]
    a, b = schema.spec("a"), schema.spec("b")
    assert a.nullable and not b.nullable  # only a's training values hold a NaN
    assert (a.minimum, a.maximum) == (0.0, 1.0) and (b.minimum, b.maximum) == (None, None)
    ref = schema.reference["a"]
    assert ref.count == 4 and ref.missing_rate == pytest.approx(0.25)
    assert ref.mean == pytest.approx(0.5) and ref.quantiles[0] == 0.0 and ref.quantiles[-1] == 1.0
    assert len(ref.quantiles) == len(QUANTILE_LEVELS) and ref.sample == [0.0, 0.5, 1.0]
    assert schema.rows == {"train": 4, "test": 1}
    assert schema.positive_rate == {"train": 0.5, "test": 1.0}
    with pytest.raises(KeyError, match="unknown feature 'c'"):
        schema.spec("c")


def test_reference_stats_sample_is_bounded_and_seeded():
    values = np.arange(5000, dtype=float)
    one, again = ReferenceStats.of(values, seed=1), ReferenceStats.of(values, seed=1)
    assert len(one.sample) == SAMPLE_SIZE and one.sample == again.sample
    assert ReferenceStats.of(values, seed=2).sample != one.sample
    empty = ReferenceStats.of(np.array([np.nan, np.nan]), seed=0)
    assert empty.missing_rate == 1.0 and empty.mean is None and empty.sample == []


def test_save_load_round_trip(tmp_path: Path):
    schema = small_schema()
    schema.save(tmp_path / "schema.json")
    loaded = FeatureSchema.load(tmp_path)  # a folder is accepted
    assert loaded == FeatureSchema.load(tmp_path / "schema.json", "demo")
    # Everything but the statistics' float digits (JSON keeps 6 decimals) comes back equal.
    assert loaded.features == schema.features and isinstance(loaded.features[0], FeatureSpec)
    assert {k: v for k, v in loaded.to_dict().items() if k != "reference"} == \
        {k: v for k, v in schema.to_dict().items() if k != "reference"}
    assert isinstance(loaded.reference["a"], ReferenceStats)
    assert loaded.reference["a"].std == pytest.approx(schema.reference["a"].std, abs=1e-6)
    assert loaded.reference["b"].sample == schema.reference["b"].sample
    loaded.save(tmp_path / "again.json")
    assert (tmp_path / "again.json").read_bytes() == (tmp_path / "schema.json").read_bytes()


def test_load_refuses_another_version_another_task_and_missing_files(tmp_path: Path):
    schema = small_schema()
    schema.save(tmp_path / "schema.json")
    with pytest.raises(DataError, match="task 'demo', not 'fire_risk'"):
        FeatureSchema.load(tmp_path, "fire_risk")
    data = json.loads((tmp_path / "schema.json").read_text())
    (tmp_path / "schema.json").write_text(json.dumps({**data, "version": 0}))
    with pytest.raises(DataError, match="version 0 is not the supported"):
        FeatureSchema.load(tmp_path)
    (tmp_path / "schema.json").write_text(json.dumps({"version": data["version"], "features": []}))
    with pytest.raises(DataError, match="not a feature schema"):
        FeatureSchema.load(tmp_path)
    with pytest.raises(DataError, match="run the featurize stage first"):
        FeatureSchema.load(tmp_path / "absent")


def test_matrix_orders_casts_and_names_a_missing_column():
    schema = small_schema()
    frame = pd.DataFrame({"b": np.array([1, 2], dtype=np.int64), "x": ["u", "v"], "a": [0.1, 0.2]})
    X = schema.matrix(frame)
    assert list(X.columns) == ["a", "b"] and (X.dtypes == np.float64).all()
    with pytest.raises(DataError, match=r"feature columns missing: \['b'\]"):
        schema.matrix(frame.drop(columns="b"))


def test_feature_spec_problem_at_range_edges():
    spec = FeatureSpec("p", minimum=0.0, maximum=1.0, nullable=False)
    assert spec.problem(0.0) is None and spec.problem(1.0) is None
    assert "below the valid minimum 0.0" in spec.problem(-1e-9)
    assert "above the valid maximum 1.0" in spec.problem(1.0 + 1e-9)
    assert "is missing" in spec.problem(math.nan) and "is missing" in spec.problem(None)
    assert spec.problem(math.inf) == "is infinite"
    open_ended = FeatureSpec("q")
    assert open_ended.problem(-1e300) is None and open_ended.problem(math.nan) is None


def test_task_schema_takes_the_tasks_declarations():
    task = get_task("deforestation")
    rows = pd.DataFrame({f: [0.5, 0.25] for f in task.features} | {c: [1, 2] for c in task.id_columns}
                        | {"label": [0, 1]})
    schema = task_schema(task, rows, rows.iloc[:1], grid_resolution_deg=0.5, prepare={}, split={}, seed=0)
    assert schema.task == "deforestation" and schema.feature_names == list(task.features)
    assert (schema.time_column, schema.label, schema.id_columns) == ("year", "label", list(task.id_columns))
    assert schema.baseline_column == task.baseline_column and schema.baseline_name == task.baseline_name
    for name, (low, high) in task.valid_ranges.items():
        assert (schema.spec(name).minimum, schema.spec(name).maximum) == (low, high)
