"""The pipeline's own loaders (feature tables, the truth) name a missing column in a DataError, never a
bare KeyError deep inside train or evaluate."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from geih.errors import DataError
from geih.io import write_json
from geih.modelling.feature_schema import build_schema
from geih.modelling.feature_tables import load_split, write_feature_tables
from geih.modelling.truth import load_truth
from geih.tasks import get_task

FIRE = get_task("fire_risk")


def features_folder(folder: Path) -> Path:
    train = pd.DataFrame({"cell_id": [1, 2, 3, 4], "year": [2020] * 4, "state": ["PA"] * 4, "label": [0, 1, 0, 1],
                          "a": [0.1, 0.2, 0.3, 0.4], "b": [1.0, 2.0, 3.0, 4.0]})
    test = train.assign(year=2021)
    schema = build_schema("deforestation", train, test, ["a", "b"], {}, label="label", time_column="year",
                          id_columns=["cell_id", "year", "state"], grid_resolution_deg=0.5, baseline_column="b",
                          baseline_name="b", prepare={}, split={})
    write_feature_tables(folder, train, test, schema)
    return folder


@pytest.mark.parametrize("column", ["cell_id", "state", "label", "a", "b"])
def test_a_feature_table_without_a_schema_column(tmp_path: Path, column: str):
    folder = features_folder(tmp_path / "features")
    assert list(load_split(folder, "test").columns) == ["cell_id", "year", "state", "label", "a", "b"]
    table = pd.read_parquet(folder / "test.parquet").drop(columns=column)
    table.to_parquet(folder / "test.parquet", index=False)
    with pytest.raises(DataError, match="re-run the featurize stage") as err:
        load_split(folder, "test")
    assert err.value.column == column and err.value.file == str(folder / "test.parquet")
    assert len(load_split(folder, "train")) == 4  # the other table is fine


def test_truth_without_a_column_or_manifest_key(tmp_path: Path):
    from geih.modelling.feature_schema import FeatureSchema

    schema = FeatureSchema(task="fire_risk", features=[], label="label", time_column="label_month", id_columns=[],
                           grid_resolution_deg=0.5, baseline_column="b", baseline_name="b")
    truth = pd.DataFrame({"cell_id": [1], "month": pd.to_datetime(["2024-02-01"]), "probability": [0.2]})
    write_json({"available": True, "grid_resolution_deg": 0.5}, tmp_path / "manifest.json")
    for column in truth.columns:
        truth.drop(columns=column).to_parquet(tmp_path / "fire_risk.parquet")
        with pytest.raises(DataError, match="truth table lacks") as err:
            load_truth(tmp_path, FIRE, schema)
        assert err.value.column == column
    truth.to_parquet(tmp_path / "fire_risk.parquet")
    assert load_truth(tmp_path, FIRE, schema)["probability"].tolist() == [0.2]
    write_json({"available": True}, tmp_path / "manifest.json")
    with pytest.raises(DataError, match="grid_resolution_deg") as err:
        load_truth(tmp_path, FIRE, schema)
    assert err.value.file == str(tmp_path / "manifest.json")


def test_truth_comparability_edges(tmp_path: Path):
    from geih.modelling.feature_schema import FeatureSchema

    defor = get_task("deforestation")

    def schema(grid: float, prepare: dict) -> FeatureSchema:
        return FeatureSchema(task="deforestation", features=[], label="label", time_column="year", id_columns=[],
                             grid_resolution_deg=grid, baseline_column="b", baseline_name="b", prepare=prepare)

    pd.DataFrame({"cell_id": [1], "year": [2023], "probability": [0.4]}).to_parquet(tmp_path / "deforestation.parquet")
    write_json({"available": True, "grid_resolution_deg": 0.5, "deforestation_threshold_km2": 1.0},
               tmp_path / "manifest.json")
    assert load_truth(tmp_path, defor, schema(0.5 + 1e-12, {"threshold_km2": 1.0})) is not None  # float noise
    assert load_truth(tmp_path, defor, schema(0.5, {})) is not None  # the param not recorded: not compared
    assert load_truth(tmp_path, defor, schema(0.5, {"threshold_km2": 1.0 + 1e-6})) is None
    write_json({"available": True, "grid_resolution_deg": 0.5}, tmp_path / "manifest.json")
    assert load_truth(tmp_path, defor, schema(0.5, {"threshold_km2": 1.0})) is None  # the truth records none
    assert load_truth(tmp_path / "elsewhere", defor, schema(0.5, {})) is None  # no truth folder at all
    (tmp_path / "deforestation.parquet").unlink()
    assert load_truth(tmp_path, defor, schema(0.5, {})) is None  # no table for the task
