"""benchmarks/split_inflation.py on the tiny pipeline's outputs: its temporal fit is the pipeline's model (the same
ROC AUC as evaluate's), its oracle that of data/truth; `--without` leaves the named features out and `--set`
changes a param."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from sklearn.metrics import roc_auc_score

from geih.modelling.feature_schema import FeatureSchema
from geih.modelling.splits import is_test_row
from geih.modelling.truth import load_truth, oracle_scores
from geih.tasks import get_task
from tests.conftest import REPO_ROOT
from tests.pipeline.conftest import run

BENCHMARK = str(REPO_ROOT / "benchmarks" / "split_inflation.py")


def inflation(root: Path, *args: str) -> dict:
    return json.loads(run([sys.executable, BENCHMARK, *args], root).stdout)


@pytest.mark.parametrize("task", ["fire_risk", "deforestation"])
def test_the_temporal_fit_is_the_pipelines_model_and_each_draw_is_scored_against_its_oracle(tiny_repo: Path, task: str):
    result = inflation(tiny_repo, "--task", task, "--seeds", "42", "1")
    assert list(result["scores"]) == ["temporal", "random", "spatial_block_42", "spatial_block_1"]
    evaluate = json.loads((tiny_repo / "metrics" / task / "evaluate.json").read_text())
    temporal = result["scores"]["temporal"]
    assert temporal["roc_auc"] == pytest.approx(evaluate["roc_auc"], abs=6e-5)  # rounded to 4 places
    assert temporal["oracle_roc_auc"] == pytest.approx(evaluate["oracle_roc_auc"], abs=6e-5)
    assert temporal["test_rows"] == evaluate["n_test"]
    # a spatial-block draw's oracle, recomputed from the truth file on the blocks featurize's params hold out
    features = tiny_repo / "data" / "features" / task
    frame = pd.concat([pd.read_parquet(features / "train.parquet"), pd.read_parquet(features / "test.parquet")],
                      ignore_index=True)
    schema = FeatureSchema.load(features, task)
    assert result["features"] == len(schema.feature_names) and result["model"] in {"xgboost", "lightgbm"}
    split = yaml.safe_load((tiny_repo / "params.yaml").read_text())["featurize"]
    held_out = is_test_row(frame, get_task(task).time_column, {**split, "split": "spatial_block", "seed": 1})
    draw = result["scores"]["spatial_block_1"]
    assert draw["test_rows"] == int(held_out.sum()) and 0 < draw["test_rows"] < len(frame)
    oracle = oracle_scores(frame[held_out], load_truth(tiny_repo / "data" / "truth", get_task(task), schema),
                           get_task(task))
    assert draw["oracle_roc_auc"] == pytest.approx(roc_auc_score(frame.loc[held_out, schema.label], oracle), abs=6e-5)
    gaps = result["penalty_in_oracle_gaps"]["by_draw"]
    assert gaps["spatial_block_1"] == pytest.approx(draw["oracle_gap"] - result["scores"]["random"]["oracle_gap"],
                                                    abs=2e-4)


def test_without_and_set_change_the_features_and_the_model_and_name_what_they_refuse(tiny_repo: Path):
    schema = FeatureSchema.load(tiny_repo / "data" / "features" / "fire_risk", "fire_risk")
    left_out = [f for f in schema.feature_names if "hotspots" in f or "fire_" in f]
    result = inflation(tiny_repo, "--task", "fire_risk", "--seeds", "1", "--without", "hotspots,fire_",
                       "--set", "train.fire_risk.model=logistic_regression", "--set", "train.C=0.5")
    assert left_out and result["features"] == len(schema.feature_names) - len(left_out)
    assert result["without"] == "hotspots,fire_" and result["model"] == "logistic_regression"
    assert result["set"] == ["train.fire_risk.model=logistic_regression", "train.C=0.5"]
    for setting, message in (("train.fire_risk.model=bogus", "'train.fire_risk.model'"),
                             ("trian.C=1", "'trian': missing")):
        refused = run([sys.executable, BENCHMARK, "--task", "fire_risk", "--set", setting], tiny_repo, check=False)
        assert refused.returncode == 2 and message in refused.stderr, refused.stderr
    refused = run([sys.executable, BENCHMARK, "--task", "fire_risk", "--without", "wind_gust"], tiny_repo, check=False)
    assert refused.returncode == 2 and "--without wind_gust: no feature name contains it" in refused.stderr
    regression = run([sys.executable, BENCHMARK, "--task", "climate_prediction"], tiny_repo, check=False)
    assert regression.returncode == 2 and "a regression task has no ROC AUC" in regression.stderr
