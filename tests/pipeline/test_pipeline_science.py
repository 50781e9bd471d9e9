"""Scientific assertions on the tiny pipeline's outputs, each recomputed here from the files themselves:
train and test periods are disjoint, the oracle comes from the truth file, each baseline from the column its
name says, and the model beats every baseline without beating the oracle by more than sampling noise."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import roc_auc_score

from geih.tasks import get_task, task_names

TASKS = task_names()
CLASSIFIERS = [t for t in TASKS if get_task(t).kind == "classification"]
# The baseline each classification task reports, and the column that holds it — written out, not read from the task.
BASELINES = {"fire_risk": ("inpe", "inpe_risk_max"), "deforestation": ("neighbours", "neighbour_cleared_km2_prev_year")}
ORACLE_TOLERANCE = 0.03  # the model may beat the generating probabilities by noise on a tiny test set only


def outputs(root: Path, task: str) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    metrics = json.loads((root / "metrics" / task / "evaluate.json").read_text())
    features = root / "data" / "features" / task
    return metrics, pd.read_parquet(features / "train.parquet"), pd.read_parquet(features / "test.parquet")


def test_every_task_has_its_baseline_written_out():
    assert set(BASELINES) == set(CLASSIFIERS)


@pytest.mark.parametrize("task", TASKS)
def test_train_periods_all_precede_the_test_periods(tiny_repo: Path, task: str):
    params = yaml.safe_load((tiny_repo / "params.yaml").read_text())["featurize"]
    assert params["split"] == "temporal"
    _, train, test = outputs(tiny_repo, task)
    time = get_task(task).time_column
    assert train[time].max() < test[time].min()
    years = test[time].dt.year if pd.api.types.is_datetime64_any_dtype(test[time]) else test[time]
    assert years.nunique() == params["test_years"]
    assert not set(map(tuple, train[["cell_id", time]].to_numpy())) & set(map(tuple, test[["cell_id", time]].to_numpy()))


@pytest.mark.parametrize("task", CLASSIFIERS)
def test_the_oracle_is_computed_from_the_truth_file(tiny_repo: Path, task: str):
    metrics, _, test = outputs(tiny_repo, task)
    spec = get_task(task)
    truth = pd.read_parquet(tiny_repo / "data" / "truth" / f"{task}.parquet")
    truth = truth.rename(columns={spec.truth_time_column or spec.time_column: spec.time_column})
    joined = test[["cell_id", spec.time_column, "label"]].merge(
        truth[["cell_id", spec.time_column, "probability"]], on=["cell_id", spec.time_column], how="left",
        validate="many_to_one")
    assert joined["probability"].notna().all()  # the truth covers every test row
    expected = roc_auc_score(joined["label"], joined["probability"])
    assert metrics["oracle_roc_auc"] == pytest.approx(expected, abs=1e-6)
    assert metrics["oracle_brier"] == pytest.approx(np.mean((joined["probability"] - joined["label"]) ** 2), abs=1e-6)
    predictions = pd.read_parquet(tiny_repo / "data" / "predictions" / task / "test_predictions.parquet")
    np.testing.assert_array_equal(predictions["oracle_probability"].to_numpy(), joined["probability"].to_numpy())
    assert not np.allclose(predictions["oracle_probability"], predictions["probability"])


@pytest.mark.parametrize("task", CLASSIFIERS)
def test_each_baseline_is_read_from_its_own_column(tiny_repo: Path, task: str):
    metrics, train, test = outputs(tiny_repo, task)
    name, column = BASELINES[task]
    score = test[column].to_numpy(dtype=float)
    ok = np.isfinite(score)
    assert ok.mean() > 0.5
    assert metrics[f"baseline_{name}_roc_auc"] == pytest.approx(roc_auc_score(test["label"][ok], score[ok]), abs=1e-6)
    # climatology: the training frequency of the cell (and calendar month of the label, for fire risk)
    spec = get_task(task)
    if spec.climatology_by_calendar_month:
        key_train, key_test = train[spec.time_column].dt.month, test[spec.time_column].dt.month
    else:
        key_train, key_test = pd.Series(0, index=train.index), pd.Series(0, index=test.index)
    freq = train.groupby([train["cell_id"], key_train.rename("k")])["label"].mean()
    index = pd.MultiIndex.from_arrays([test["cell_id"], key_test.rename("k")])
    clim = freq.reindex(index).fillna(train["label"].mean()).to_numpy()
    assert metrics["baseline_climatology_roc_auc"] == pytest.approx(roc_auc_score(test["label"], clim), abs=1e-6)
    assert metrics[f"lift_over_{name}_roc_auc"] == pytest.approx(metrics["roc_auc"] - metrics[f"baseline_{name}_roc_auc"],
                                                                abs=2e-6)  # three numbers rounded to 6 decimals


@pytest.mark.parametrize("task", CLASSIFIERS)
def test_the_model_beats_every_baseline_and_not_the_oracle(tiny_repo: Path, task: str):
    metrics, _, test = outputs(tiny_repo, task)
    name, _ = BASELINES[task]
    predictions = pd.read_parquet(tiny_repo / "data" / "predictions" / task / "test_predictions.parquet")
    assert metrics["roc_auc"] == pytest.approx(roc_auc_score(predictions["label"], predictions["probability"]), abs=1e-6)
    assert len(predictions) == len(test) == metrics["n_test"]
    assert metrics["roc_auc"] > metrics[f"baseline_{name}_roc_auc"], metrics
    assert metrics["roc_auc"] > metrics["baseline_climatology_roc_auc"], metrics
    assert metrics["roc_auc"] <= metrics["oracle_roc_auc"] + ORACLE_TOLERANCE, metrics


def test_the_climate_model_beats_persistence_and_its_skills_recompute(tiny_repo: Path):
    """Skill = 1 − MSE/MSE_ref recomputed from the predictions file and the test table (persistence = this
    month's value, climatology = the training mean of the cell and calendar month)."""
    task = "climate_prediction"
    metrics, train, test = outputs(tiny_repo, task)
    spec = get_task(task)
    predictions = pd.read_parquet(tiny_repo / "data" / "predictions" / task / "test_predictions.parquet")
    for target in spec.targets:
        observed = test[target.column].to_numpy()
        mse = np.mean((predictions[f"predicted_{target.name}"].to_numpy() - observed) ** 2)
        persistence = np.mean((test[target.persistence_column].to_numpy() - observed) ** 2)
        month = train[spec.time_column].dt.month.rename("k")
        clim = train.groupby([train["cell_id"], month])[target.column].mean()
        forecast = clim.reindex(pd.MultiIndex.from_arrays([test["cell_id"], test[spec.time_column].dt.month.rename("k")]))
        climatology = np.mean((forecast.to_numpy() - observed) ** 2)
        scores = metrics[target.name]
        assert scores["skill_vs_persistence"] == pytest.approx(1 - mse / persistence, abs=1e-5)
        assert scores["skill_vs_climatology"] == pytest.approx(1 - mse / climatology, abs=1e-5)
        assert scores["skill_vs_persistence"] > 0, scores
