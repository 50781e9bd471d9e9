"""Model families: one spec per family, hyperparameters checked before any work, schema defaults are
what the estimator gets, params.yaml values override them."""

from __future__ import annotations

import importlib.util
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from geih import cli
from geih.errors import ParamsError
from geih.modelling import training
from geih.modelling.families import (
    BASE_PACKAGES,
    HYPERPARAMETERS,
    MODEL_NAMES,
    SPECS,
    build_model,
    final_estimator,
    resolve_train_params,
    spec_of,
    train_config,
)
from geih.stage import run_main
from geih.tasks import task_names
from tests.conftest import REPO_ROOT

TASKS = task_names()  # every task: train.<task> must not read as a shared key
BASE = {"seed": 1, "n_jobs": 1, "fire_risk": {"model": "xgboost"}, "deforestation": {"model": "lightgbm"}}

# Each family's hyperparameter → (the estimator's parameter, the value it gets for a schema value).
ESTIMATOR_PARAMS = {
    "random_forest": {"n_estimators": ("n_estimators", None), "max_depth": ("max_depth", lambda v: v or None),
                      "min_samples_leaf": ("min_samples_leaf", None)},
    "gradient_boosting": {"n_estimators": ("max_iter", None), "max_depth": ("max_depth", lambda v: v or None),
                          "learning_rate": ("learning_rate", None), "min_samples_leaf": ("min_samples_leaf", None)},
    "logistic_regression": {"C": ("C", None)},
    "xgboost": {"n_estimators": ("n_estimators", None), "max_depth": ("max_depth", None),
                "learning_rate": ("learning_rate", None), "subsample": ("subsample", None),
                "colsample_bytree": ("colsample_bytree", None), "min_samples_leaf": ("min_child_weight", float),
                "reg_lambda": ("reg_lambda", None), "device": ("device", None)},
    "lightgbm": {"n_estimators": ("n_estimators", None), "max_depth": ("max_depth", lambda v: v or -1),
                 "learning_rate": ("learning_rate", None), "num_leaves": ("num_leaves", None),
                 "subsample": ("subsample", None), "colsample_bytree": ("colsample_bytree", None),
                 "min_samples_leaf": ("min_child_samples", None), "reg_lambda": ("reg_lambda", None)},
}


def estimator_values(name: str, model) -> dict:
    """{hyperparameter: the value the built estimator holds, mapped back to the schema's terms}."""
    params = final_estimator(model).get_params()
    return {hp: params[target] for hp, (target, _) in ESTIMATOR_PARAMS[name].items()}


def expected_values(name: str, hp: dict) -> dict:
    return {key: (convert or (lambda v: v))(hp[key]) for key, (_, convert) in ESTIMATOR_PARAMS[name].items()}


def test_every_family_is_one_spec_and_the_mapping_covers_its_schema():
    assert set(MODEL_NAMES) == set(SPECS) == set(ESTIMATOR_PARAMS)
    for name, spec in SPECS.items():
        # every hyperparameter but calibration (a wrapper, tested below) reaches the estimator
        assert {h.name for h in spec.hyperparameters} - {"calibration"} == set(ESTIMATOR_PARAMS[name]), name



@pytest.fixture(autouse=True)
def one_openmp_thread():
    """These fits take a few hundred rows: one OpenMP thread (HistGradientBoosting's extra threads only spin,
    burning seconds of CPU, on a busy 2-core machine); results do not depend on the thread count."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="openmp"):
        yield

@pytest.mark.parametrize("name", MODEL_NAMES)
def test_schema_defaults_are_what_the_estimator_gets_when_params_omit_a_key(name: str):
    spec = SPECS[name]
    model = build_model(name, {}, seed=0, n_jobs=1)
    assert estimator_values(name, model) == expected_values(name, spec.defaults)
    assert spec.defaults["calibration"] == "none" and model.steps[-1][0] == "model"
    assert type(final_estimator(model)).__name__ != "CalibratedClassifierCV"
    # resolving an empty task section gives the same complete set
    _, hp = resolve_train_params({"seed": 0, "n_jobs": 1, "fire_risk": {"model": name}}, "fire_risk", TASKS)
    assert hp == spec.defaults


@pytest.mark.parametrize("name", ["random_forest", "gradient_boosting", "logistic_regression", "lightgbm"])
def test_schema_defaults_are_the_libraries_own(name: str):
    """Leaving a key out of params.yaml means the library's behaviour (XGBoost's constructor holds
    None for "its internal default", so it is checked through the values above only)."""
    est = final_estimator(build_model(name, {}, seed=0, n_jobs=1))
    library = type(est)().get_params()
    for _, (target, _) in ESTIMATOR_PARAMS[name].items():
        assert est.get_params()[target] == library[target], target


@pytest.mark.parametrize("task", TASKS)
def test_params_yaml_values_override_the_defaults(task: str):
    train = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())["train"]
    config = train_config(train, task, TASKS)
    name = config.spec.name
    assert name == train[task]["model"]
    for key, value in config.hyperparameters.items():
        given = train[task].get(key, train.get(key))  # null (reg_lambda) = the family's default
        assert value == (config.spec.defaults[key] if given is None else given), key
    assert estimator_values(name, config.build()) == expected_values(name, config.hyperparameters)
    assert config.logged_params()["model"] == name and config.logged_params()["seed"] == train["seed"]


def test_task_keys_override_shared_keys_and_unused_shared_keys_are_left_out():
    train = {**BASE, "n_estimators": 50, "max_depth": 3, "C": 2.0, "fire_risk": {"model": "xgboost", "max_depth": 5}}
    name, hp = resolve_train_params(train, "fire_risk", TASKS)
    assert name == "xgboost" and hp == {**SPECS["xgboost"].defaults, "n_estimators": 50, "max_depth": 5}
    assert "C" not in hp  # logistic regression's; xgboost does not use it
    name, hp = resolve_train_params(train, "deforestation", TASKS)
    assert name == "lightgbm" and hp["max_depth"] == 3 and hp["n_estimators"] == 50


def test_a_null_value_sets_nothing_at_its_level():
    """null shared: the family's default; null in the task: the shared value (still checked) applies."""
    train = {**BASE, "reg_lambda": None, "n_estimators": 50, "fire_risk": {"model": "xgboost", "n_estimators": None}}
    name, hp = resolve_train_params(train, "fire_risk", TASKS)
    assert hp == {**SPECS["xgboost"].defaults, "n_estimators": 50}
    assert resolve_train_params(train, "deforestation", TASKS)[1]["reg_lambda"] == SPECS["lightgbm"].defaults["reg_lambda"]
    with pytest.raises(ParamsError, match="train.reg_lambda"):
        resolve_train_params({**train, "reg_lambda": -1.0}, "fire_risk", TASKS)


def test_a_task_key_the_model_does_not_use_is_named_in_a_warning(caplog):
    train = {**BASE, "fire_risk": {"model": "xgboost", "num_leaves": 10}}
    with caplog.at_level(logging.WARNING, logger="geih.modelling.families"):
        _, hp = resolve_train_params(train, "fire_risk", TASKS)
    assert "num_leaves" not in hp
    assert "train.fire_risk.num_leaves is ignored: xgboost does not use num_leaves" in caplog.text


def test_train_device_reaches_xgboost_and_lightgbm_says_it_ignores_it(caplog):
    """`train.device: cuda` passes through to XGBoost (classifier and regressor); building needs no GPU."""
    train = {**BASE, "device": "cuda", "climate_prediction": {"model": "xgboost"}}
    assert final_estimator(train_config(train, "fire_risk", TASKS).build()).get_params()["device"] == "cuda"
    assert final_estimator(train_config(train, "climate_prediction", TASKS).build(1)).get_params()["device"] == "cuda"
    assert final_estimator(train_config(BASE, "fire_risk", TASKS).build()).get_params()["device"] == "cpu"
    with caplog.at_level(logging.WARNING, logger="geih.modelling.families"):
        config = train_config(train, "deforestation", TASKS)
    assert "device" not in config.hyperparameters
    assert "train.device=cuda is ignored for deforestation: lightgbm trains on the CPU" in caplog.text


@pytest.mark.parametrize("change,key,words", [
    ({"n_estimators": -5}, "train.n_estimators", "an integer ≥ 1"),
    ({"n_estimators": 0}, "train.n_estimators", "an integer ≥ 1"),
    ({"n_estimators": "abc"}, "train.n_estimators", "expected an integer"),
    ({"n_estimators": True}, "train.n_estimators", "expected an integer"),
    ({"n_estimators": 10.5}, "train.n_estimators", "expected an integer"),
    ({"learning_rate": 0}, "train.learning_rate", "a number in (0, 1]"),
    ({"learning_rate": 1.5}, "train.learning_rate", "a number in (0, 1]"),
    ({"learning_rate": True}, "train.learning_rate", "expected a number"),
    ({"learning_rate": float("nan")}, "train.learning_rate", "finite"),
    ({"learning_rate": "0.1"}, "train.learning_rate", "expected a number"),
    ({"max_depth": -1}, "train.max_depth", "0 = no limit"),
    ({"subsample": 0.0}, "train.subsample", "(0, 1]"),
    ({"colsample_bytree": 2}, "train.colsample_bytree", "(0, 1]"),
    ({"reg_lambda": float("inf")}, "train.reg_lambda", "finite"),
    ({"num_leaves": 1}, "train.num_leaves", "[2, 131072]"),
    ({"C": 0}, "train.C", "> 0"),  # refused although neither task's model uses C
    ({"calibration": "platt"}, "train.calibration", "['none', 'sigmoid', 'isotonic']"),
    ({"device": "tpu"}, "train.device", "['cpu', 'cuda']"),
    ({"bogus": None}, "train.bogus", "unknown hyperparameter"),  # null sets nothing, but the key is checked
    ({"fire_risk": {"model": "xgboost", "nonsense": None}}, "train.fire_risk.nonsense", "unknown hyperparameter"),
    ({"bogus": 1}, "train.bogus", "unknown hyperparameter"),
    ({"min_samples_leaf": [1, 2]}, "train.min_samples_leaf", "expected an integer"),
    ({"fire_risk": {"model": "xgboost", "max_depth": -2}}, "train.fire_risk.max_depth", "0 = no limit"),
    ({"fire_risk": {"model": "xgboost", "n_estimators": "abc"}}, "train.fire_risk.n_estimators", "integer"),
    ({"fire_risk": {"model": "xgboost", "nonsense": 3}}, "train.fire_risk.nonsense", "unknown hyperparameter"),
    ({"fire_risk": {"model": "svm"}}, "train.fire_risk.model", "unknown model 'svm'"),
    ({"fire_risk": {"max_depth": 3}}, "train.fire_risk.model", "missing"),
    ({"fire_risk": "xgboost"}, "train.fire_risk", "expected a mapping"),
    ({"seed": "x"}, "train.seed", "expected an integer"),
    ({"n_jobs": 0}, "train.n_jobs", "≥ 1"),
    ({"n_jobs": False}, "train.n_jobs", "expected an integer"),
])
def test_bad_hyperparameters_are_refused_naming_the_key(change: dict, key: str, words: str):
    with pytest.raises(ParamsError) as err:
        train_config({**BASE, **change}, "fire_risk", TASKS)
    assert err.value.key == key
    assert f"params key '{key}'" in str(err.value) and words in str(err.value)


def test_missing_settings_and_task_sections_are_refused():
    with pytest.raises(ParamsError, match="'train.seed'"):
        train_config({k: v for k, v in BASE.items() if k != "seed"}, "fire_risk", TASKS)
    with pytest.raises(ParamsError, match="'train.deforestation.model'"):
        train_config({k: v for k, v in BASE.items() if k != "deforestation"}, "deforestation", TASKS)


def test_every_shared_hyperparameter_has_one_definition():
    for spec in SPECS.values():
        for h in spec.hyperparameters:
            shared = HYPERPARAMETERS[h.name]
            assert (h.kind, h.low, h.high, h.low_open, h.choices) == (
                shared.kind, shared.low, shared.high, shared.low_open, shared.choices), (spec.name, h.name)


def load_train_stage():
    spec = importlib.util.spec_from_file_location("train_stage", REPO_ROOT / "stages" / "train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("change,key", [
    ({"n_estimators": -5}, "train.n_estimators"),
    ({"learning_rate": 0}, "train.learning_rate"),
    ({"fire_risk": {"model": "xgboost", "max_depth": "deep"}}, "train.fire_risk.max_depth"),
])
def test_train_stage_refuses_before_any_work(tmp_path: Path, monkeypatch, caplog, change: dict, key: str):
    """Exit 2 with the key named; nothing read (the features folder does not even exist), nothing
    written, no MLflow store opened."""
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    params["train"].update(change)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.chdir(tmp_path)
    stage = load_train_stage()
    args = ["--task", "fire_risk", "--params", "params.yaml", "--features", "no-features", "--model", "m.joblib",
            "--metrics", "m.json"]
    with caplog.at_level(logging.ERROR):
        assert run_main(stage.main, args) == 2
    assert f"params key '{key}'" in caplog.text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.yaml"]


@pytest.mark.pipeline  # a stage process importing MLflow: slow for the unit tier
def test_train_stage_exit_status_and_message_from_the_command_line(tmp_path: Path):
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    params["train"]["n_estimators"] = "abc"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    result = subprocess.run([sys.executable, str(REPO_ROOT / "stages" / "train.py"), "--task", "deforestation",
                             "--params", "params.yaml", "--features", "f", "--model", "m.joblib", "--metrics",
                             "m.json"], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 2
    assert "params key 'train.n_estimators': expected an integer" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("name", MODEL_NAMES)
@pytest.mark.parametrize("calibration", ["none", "sigmoid"])
def test_a_fitted_model_is_recognised_and_its_trusted_types_suffice(name: str, calibration: str):
    import skops.io

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(120, 3)), columns=["a", "b", "c"])
    y = (X["a"] > 0).astype(int).to_numpy()
    model = build_model(name, {"n_estimators": 5, "calibration": calibration}, 0, 1).fit(X, y)
    assert spec_of(model) is SPECS[name]
    untrusted = set(skops.io.get_untrusted_types(data=skops.io.dumps(model)))
    assert untrusted <= set(training.trusted_types(model)), untrusted - set(training.trusted_types(model))
    assert training.model_format(model) == "skops"
    assert [r.split("==")[0] for r in training.pip_requirements(name)] == [*BASE_PACKAGES, *SPECS[name].packages]


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_model_fits_raw_features_with_nan(name):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    y = (X["a"] + 0.3 * rng.normal(size=300) > 0).astype(int).to_numpy()
    X.loc[::17, "b"] = np.nan
    model = build_model(name, {"n_estimators": 20, "max_depth": 3, "learning_rate": 0.2}, seed=0, n_jobs=1)
    p = model.fit(X, y).predict_proba(X)[:, 1]
    assert ((p >= 0) & (p <= 1)).all()
    assert np.corrcoef(p, X["a"])[0, 1] > 0.5
    has_scaler = any(step == "scale" for step, _ in model.steps)
    assert has_scaler == (name == "logistic_regression")


def test_hyperparameters_command_lists_every_family_and_key(capsys):
    assert run_main(cli.main, ["models", "hyperparameters"]) == 0
    out = capsys.readouterr().out
    rows = {tuple(line.split()[:2]) for line in out.splitlines()[1:]}
    assert rows == {(spec.name, h.name) for spec in SPECS.values() for h in spec.hyperparameters}
    assert "a number in (0, 1]" in out and "0 = no limit" in out
