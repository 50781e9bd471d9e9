"""The oracle: truth comparability (grid, the params a task ties to the truth) and the join to test rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geih.io import write_json
from geih.modelling.feature_schema import FeatureSchema
from geih.modelling.truth import load_truth, oracle_scores
from geih.tasks import get_task

FIRE, DEFOR = get_task("fire_risk"), get_task("deforestation")


def schema(task: str, grid: float, prepare: dict | None = None) -> FeatureSchema:
    return FeatureSchema(task=task, features=[], label="label", time_column="t", id_columns=[],
                         grid_resolution_deg=grid, baseline_column="b", baseline_name="b", prepare=prepare or {})


def test_oracle_join_and_truth_comparability(tmp_path):
    truth = pd.DataFrame({"cell_id": [1, 2], "month": pd.to_datetime(["2024-02-01", "2024-02-01"]),
                          "probability": [0.2, 0.7]})
    test = pd.DataFrame({"cell_id": [2, 1, 3], "label_month": pd.to_datetime(["2024-02-01"] * 3)})
    scores = oracle_scores(test, truth, FIRE)
    assert scores[:2].tolist() == [0.7, 0.2] and np.isnan(scores[2])
    without = oracle_scores(test, None, FIRE)  # no truth (real data): no oracle for any row
    assert without.dtype == np.float64 and without.shape == (3,) and np.isnan(without).all()
    truth.to_parquet(tmp_path / "fire_risk.parquet")
    write_json({"available": True, "grid_resolution_deg": 0.5}, tmp_path / "manifest.json")
    assert load_truth(tmp_path, FIRE, schema("fire_risk", 0.5)) is not None
    assert load_truth(tmp_path, FIRE, schema("fire_risk", 1.0)) is None  # other grid: no oracle
    write_json({"available": False}, tmp_path / "manifest.json")
    assert load_truth(tmp_path, FIRE, schema("fire_risk", 0.5)) is None


def test_truth_params_of_the_task_must_agree(tmp_path):
    pd.DataFrame({"cell_id": [1], "year": [2023], "probability": [0.4]}).to_parquet(tmp_path / "deforestation.parquet")
    write_json({"available": True, "grid_resolution_deg": 0.5, "deforestation_threshold_km2": 1.0},
               tmp_path / "manifest.json")
    same = load_truth(tmp_path, DEFOR, schema("deforestation", 0.5, {"threshold_km2": 1.0}))
    assert same is not None and len(same) == 1
    assert load_truth(tmp_path, DEFOR, schema("deforestation", 0.5, {"threshold_km2": 2.0})) is None
    assert oracle_scores(pd.DataFrame({"cell_id": [1, 1], "year": [2023, 2022]}), same, DEFOR)[0] == 0.4
