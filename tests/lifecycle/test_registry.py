"""Champions compared like with like (task definitions), lower-is-better metrics, the one
register-and-alias path, and register logging the model itself when no train run of the store did."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import yaml

from geih.errors import GeihError
from geih.lifecycle import selection, tracking
from geih.lifecycle.registry import (
    CHALLENGER,
    CHAMPION,
    Champion,
    decide_alias,
    register_model,
    registered_name,
)
from geih.lifecycle.task_definition import FINGERPRINT_TAG, TaskDefinition, task_definition
from tests.conftest import REPO_ROOT
from tests.lifecycle.support import REGISTER, client, fit_and_save, frame, train_run, write_features

# Tests against a real temporary SQLite store take 10–30 s each (store migration, model logging): the
# `pipeline` tier, so that `make test-fast` stays fast; the decision rules themselves are unit tests.
STORE = pytest.mark.pipeline
P = {"metric": "roc_auc", "higher_is_better": True, "min_improvement": 0.01, "min_roc_auc": 0.6}
BRIER = {"metric": "brier", "higher_is_better": False, "min_improvement": 0.005, "min_roc_auc": 0.6}
ONE = TaskDefinition("deforestation", {"grid_resolution_deg": 0.5, "threshold_km2": 1.0}, "aaaa", {"test_years": 1})
TWO = TaskDefinition("deforestation", {"grid_resolution_deg": 0.5, "threshold_km2": 2.0}, "bbbb", {"test_years": 1})


def test_decide_alias_rules():
    assert decide_alias({"roc_auc": 0.8}, None, P) == (CHAMPION, "no current champion")
    assert decide_alias({"roc_auc": 0.8}, Champion("1", {"roc_auc": 0.795}, None), P)[0] == CHALLENGER
    assert decide_alias({"roc_auc": 0.81}, Champion("1", {"roc_auc": 0.795}, None), P)[0] == CHAMPION
    alias, reason = decide_alias({"roc_auc": 0.55}, None, P)
    assert alias == CHALLENGER and "floor" in reason
    alias, reason = decide_alias({"pr_auc": 0.5}, None, P)
    assert alias == CHALLENGER and "roc_auc missing" in reason


def test_lower_is_better_metric():
    champ = Champion("4", {"roc_auc": 0.8, "brier": 0.150}, ONE)
    alias, reason = decide_alias({"roc_auc": 0.79, "brier": 0.140}, champ, BRIER, ONE)
    assert alias == CHAMPION and "brier 0.1400 beats the champion's 0.1500 by 0.0100" in reason
    alias, reason = decide_alias({"roc_auc": 0.9, "brier": 0.148}, champ, BRIER, ONE)
    assert alias == CHALLENGER and "does not beat" in reason  # 0.002 better < min_improvement 0.005
    assert decide_alias({"roc_auc": 0.9, "brier": 0.160}, champ, BRIER, ONE)[0] == CHALLENGER


def test_a_champion_of_another_definition_is_not_compared():
    champ = Champion("3", {"roc_auc": 0.60}, ONE)
    alias, reason = decide_alias({"roc_auc": 0.95}, champ, P, TWO)
    assert alias == CHALLENGER
    assert reason.startswith("champion version 3 was trained for another task definition "
                             "(prepare.deforestation.threshold_km2 1.0 vs 2.0): not compared; "
                             "this version becomes challenger")
    # same definition: compared as usual, in either direction
    assert decide_alias({"roc_auc": 0.95}, Champion("3", {"roc_auc": 0.60}, TWO), P, TWO)[0] == CHAMPION
    # a champion that records no definition is not ranked against either
    alias, reason = decide_alias({"roc_auc": 0.95}, Champion("2", {"roc_auc": 0.6}, None), P, TWO)
    assert alias == CHALLENGER and "records no task definition" in reason
    # only the labelled rows differ (other raw data): the data version is named
    moved = TaskDefinition(ONE.task, ONE.prepare, "cccc", ONE.split)
    assert "(data version aaaa vs cccc)" in decide_alias({"roc_auc": 0.95}, champ, P, moved)[1]
    # a split that picks other rows is named by its params key
    other_split = TaskDefinition(ONE.task, ONE.prepare, "dddd", {"test_years": 2})
    assert "(featurize.test_years 1 vs 2)" in decide_alias({"roc_auc": 0.95}, champ, P, other_split)[1]


def test_definition_roundtrips_through_tags_and_follows_labels_not_features(tmp_path: Path):
    one = task_definition(write_features(tmp_path / "one", threshold_km2=1.0))
    assert TaskDefinition.from_tags(one.tags()) == one
    assert TaskDefinition.from_tags({}) is None
    assert task_definition(write_features(tmp_path / "same", threshold_km2=1.0)).fingerprint == one.fingerprint
    two = task_definition(write_features(tmp_path / "two", threshold_km2=2.0))
    assert two.fingerprint != one.fingerprint and two.data_version != one.data_version
    # feature engineering alone (a feature column changed, same labelled rows) keeps the definition
    table = pd.read_parquet(tmp_path / "one" / "train.parquet")
    table.assign(b=table["b"] * 3).to_parquet(tmp_path / "one" / "train.parquet", index=False)
    assert task_definition(tmp_path / "one") == one


def evaluate_run(task: str, sha: str, metrics: dict, definition: TaskDefinition) -> str:
    with tracking.stage_run("evaluate", task, {}, tags=definition.tags()) as run:
        tracking.log_metrics(metrics)
        tracking.set_tags({"geih.model_sha256": sha})
    return run.info.run_id


@STORE
def test_register_and_best_compare_like_with_like(store_root: Path):
    """Registered at threshold 1.0 then 2.0: the 2.0 version is not ranked against the 1.0 champion
    (even with a much better score); `geih models best` ranks within one definition; promote
    switches definitions deliberately and records the new one."""
    task, name = "deforestation", "geih-deforestation"
    one = task_definition(write_features(store_root / "f1", threshold_km2=1.0))
    two = task_definition(write_features(store_root / "f2", threshold_km2=2.0))
    runs = {key: train_run(store_root, key, seed=seed, task=task, tags=d.tags())
            for key, seed, d in (("a", 0, one), ("b", 1, two), ("c", 2, two))}
    exp_id = client().get_experiment_by_name(f"geih-{task}").experiment_id

    def register(key: str, roc: float, definition: TaskDefinition) -> dict:
        return register_model(client(), task, exp_id, runs[key][1], {"roc_auc": roc}, REGISTER, {}, None, definition)

    first = register("a", 0.70, one)
    assert (first["alias"], first["task_definition"]) == (CHAMPION, one.fingerprint)
    second = register("b", 0.95, two)
    assert second["alias"] == CHALLENGER and second["champion_version"] == 1
    assert ("trained for another task definition (prepare.deforestation.threshold_km2 1.0 vs 2.0): not compared"
            in second["reason"])
    mv = client().get_model_version(name, "2")
    assert mv.tags[FINGERPRINT_TAG] == two.fingerprint and mv.tags["geih.decision"] == second["reason"]
    assert str(client().get_model_version_by_alias(name, "champion").version) == "1"

    scores = {"a": 0.70, "b": 0.95, "c": 0.90}
    evals = {key: evaluate_run(task, runs[key][1], {"roc_auc": auc, "brier": 1 - auc}, one if key == "a" else two)
             for key, auc in scores.items()}
    best = selection.best_run(task, "roc_auc")  # the champion's definition: only run a is ranked
    assert best["run_id"] == evals["a"] and best["task_definition"] == one.fingerprint
    assert best["other_definitions"] == {two.fingerprint: 2} and "champion's" in best["task_definition_source"]
    best_two = selection.best_run(task, "roc_auc", definition=two.fingerprint)
    assert best_two["run_id"] == evals["b"]
    lowest_brier = selection.best_run(task, "brier", higher_is_better=False, definition=two.fingerprint)
    assert lowest_brier["run_id"] == evals["b"]
    with pytest.raises(GeihError, match="no evaluate run .* for task definition nope"):
        selection.best_run(task, "roc_auc", definition="nope")

    promoted = selection.promote(task, best_two["run_id"])
    assert promoted["version"] == "2" and not promoted["registered"] and promoted["previous_champion_version"] == "1"
    champion = client().get_model_version_by_alias(name, "champion")
    assert str(champion.version) == "2" and champion.tags[FINGERPRINT_TAG] == two.fingerprint
    # from now on the 2.0 definition is the one compared with; c (0.90 < 0.95) is a challenger
    third = register("c", 0.90, two)
    assert third["alias"] == CHALLENGER and "does not beat the champion's 0.9500" in third["reason"]
    assert selection.best_run(task, "roc_auc")["task_definition"] == two.fingerprint
    rows = {r["version"]: r for r in selection.list_versions(task)}
    assert rows["1"]["definition"] == one.fingerprint and rows["3"]["definition"] == two.fingerprint
    assert two.fingerprint in selection.format_versions(list(rows.values()))


def load_register_stage():
    spec = importlib.util.spec_from_file_location("register_stage", REPO_ROOT / "stages" / "register.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@STORE
def test_register_logs_the_model_itself_when_no_train_run_did(store_root: Path):
    """A new store (e.g. DVC restored train's outputs from its run cache): register logs the model
    file with the train stage's logging function and registers it; its pyfunc predicts like the file."""
    import mlflow

    write_features(store_root / "features", task="fire_risk")
    model, path = fit_and_save(store_root, "model", model_name="xgboost")
    (store_root / "params.yaml").write_text(yaml.safe_dump({"register": REGISTER}))
    (store_root / "metrics.json").write_text(json.dumps({"roc_auc": 0.8, "pr_auc": 0.4}))
    stage = load_register_stage()
    args = ["--task", "fire_risk", "--model", "model.joblib", "--features", "features", "--metrics", "metrics.json",
            "--out", "registry.json"]
    stage.main(args)
    record = json.loads((store_root / "registry.json").read_text())
    assert (record["version"], record["alias"]) == (1, CHAMPION)
    run = client().get_run(record["run_id"])
    assert run.data.tags["geih.stage"] == "register"  # the register run logged it
    assert run.data.tags["geih.model_sha256"] == tracking.file_sha256(path)
    assert run.data.tags["geih.model_type"] == "xgboost" and run.data.tags["geih.model_format"] == "skops"
    mv = client().get_model_version("geih-fire-risk", "1")
    assert mv.source == f"models:/{run.data.tags['geih.model_id']}" == f"models:/{record['model_id']}"
    X = frame(0)[0]
    loaded = mlflow.pyfunc.load_model("models:/geih-fire-risk@champion")
    np.testing.assert_array_equal(np.asarray(loaded.predict(X)), joblib.load(path).predict_proba(X))
    assert loaded.metadata.get_input_schema().input_names() == list(X.columns)
    # run again: the model is found in the store now, neither logged nor registered twice
    stage.main(args)
    again = json.loads((store_root / "registry.json").read_text())
    assert again["version"] == 1 and "already is the champion" in again["reason"]
    assert len(client().search_model_versions("name = 'geih-fire-risk'")) == 1
    logged = client().search_runs([run.info.experiment_id], "tags.`geih.model_id` != ''")
    assert [r.info.run_id for r in logged] == [record["run_id"]]


@STORE
def test_without_a_logger_a_missing_model_is_a_clear_error(store_root: Path):
    _, path = fit_and_save(store_root, "orphan")
    exp_id = tracking.open_store(["geih-fire_risk"])[1]["geih-fire_risk"]
    with pytest.raises(GeihError, match="no run in this MLflow store logged the model"):
        register_model(client(), "fire_risk", exp_id, tracking.file_sha256(path), {"roc_auc": 0.8}, REGISTER, {})


def test_registered_name_is_the_tasks():
    assert registered_name("fire_risk") == "geih-fire-risk"
    assert registered_name("deforestation") == "geih-deforestation"
    with pytest.raises(GeihError, match="unknown task 'climate'"):
        registered_name("climate")
