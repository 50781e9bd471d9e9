"""The truth loader's errors name the file and column at fault (found by mutation testing)."""

from __future__ import annotations

import pandas as pd
import pytest

from geih.errors import DataError
from geih.io import write_json
from geih.modelling.feature_schema import FeatureSchema
from geih.modelling.truth import load_truth
from geih.tasks import get_task

FIRE = get_task("fire_risk")


def schema(grid: float = 0.5) -> FeatureSchema:
    return FeatureSchema(task="fire_risk", features=[], label="label", time_column="t", id_columns=[],
                         grid_resolution_deg=grid, baseline_column="b", baseline_name="b", prepare={})


def test_a_manifest_without_grid_resolution_names_the_manifest_and_the_key(tmp_path):
    manifest = tmp_path / "manifest.json"
    write_json({"available": True}, manifest)
    with pytest.raises(DataError) as err:
        load_truth(tmp_path, FIRE, schema())
    assert err.value.file == str(manifest) and err.value.column == "grid_resolution_deg"
    assert err.value.detail == "truth manifest has no grid_resolution_deg"


def test_a_truth_table_without_a_column_names_the_table_and_the_first_missing_column(tmp_path):
    write_json({"available": True, "grid_resolution_deg": 0.5}, tmp_path / "manifest.json")
    table = tmp_path / "fire_risk.parquet"
    pd.DataFrame({"cell_id": [1], "month": pd.to_datetime(["2024-02-01"])}).to_parquet(table)
    with pytest.raises(DataError) as err:
        load_truth(tmp_path, FIRE, schema())
    assert err.value.file == str(table) and err.value.column == "probability"
    assert str(err.value).startswith(f"file {table}, column 'probability': truth table lacks column(s)")
