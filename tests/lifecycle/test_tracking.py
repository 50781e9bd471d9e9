"""MLflow tracking and registry against a real (temporary SQLite) store, without the pipeline:
repo-root and URI resolution, tags, the store lock against the first-migration race, safe model
formats, the champion/challenger decision recorded in the registry, and `geih models`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from sklearn.base import BaseEstimator, TransformerMixin

from geih import cli
from geih.lifecycle import tracking
from geih.lifecycle.registry import register_model
from geih.modelling import training
from geih.modelling.families import build_model
from geih.stage import run_main
from tests.lifecycle.support import ENV_KEYS, REGISTER, client, frame, train_run, write_features

mlflow = pytest.importorskip("mlflow")
REPO = Path(__file__).resolve().parents[2]


class Doubler(BaseEstimator, TransformerMixin):
    """A transformer skops does not know: forces the cloudpickle fallback."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X * 2.0


def test_repo_root_and_uri_inside_a_queued_experiment(tmp_path: Path, monkeypatch):
    main = tmp_path / "repo"
    temp = main / ".dvc" / "tmp" / "exps" / "tmpq1w2e3"
    (temp / "stages").mkdir(parents=True)
    (main / "dvc.yaml").write_text("stages: {}\n")
    (temp / "dvc.yaml").write_text("stages: {}\n")
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(temp)
    # by hand inside the temporary copy, no DVC_ROOT: the suffix is cut
    assert tracking.repo_root() == main.resolve()
    # what DVC sets for a queued experiment: DVC_ROOT = the parent repo, cwd = the temporary copy
    monkeypatch.setenv("DVC_ROOT", str(main))
    assert tracking.repo_root() == main.resolve()
    assert tracking.tracking_uri() == f"sqlite:///{main.resolve()}/mlflow/mlflow.db"
    # a relative user URI would land in the temporary copy: it is resolved against the main root
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///store/m.db")
    assert tracking.tracking_uri() == f"sqlite:///{main.resolve()}/store/m.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert tracking.tracking_uri() == "http://127.0.0.1:5000"
    assert not tracking.is_local_store(tracking.tracking_uri())


def test_run_tags_inside_and_outside_dvc_experiments(tmp_path: Path, monkeypatch):
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    dep = tmp_path / "dep.bin"
    dep.write_bytes(b"abc")
    monkeypatch.setenv("GEIH_PIPELINE_RUN", "repro-1")
    tags = tracking.run_tags("train", "fire_risk", REPO, [dep])
    assert tags["geih.stage"] == "train" and tags["geih.task"] == "fire_risk"
    assert tags["geih.pipeline_run"] == "repro-1" and "dvc.exp_name" not in tags
    assert len(tags["geih.data_version"]) == 16 and len(tags["git.commit"]) in (40, len("unknown"))
    dep.write_bytes(b"abd")
    assert tracking.run_tags("train", "fire_risk", REPO, [dep])["geih.data_version"] != tags["geih.data_version"]
    monkeypatch.setenv("DVC_EXP_NAME", "queued-exp")
    monkeypatch.setenv("DVC_EXP_BASELINE_REV", "a" * 40)
    tags = tracking.run_tags("train", "fire_risk", REPO, [dep])
    assert tags["dvc.exp_name"] == "queued-exp" and tags["dvc.baseline_rev"] == "a" * 40
    # one experiment = one pipeline run, even when GEIH_PIPELINE_RUN is exported in the shell
    assert tags["geih.pipeline_run"] == "queued-exp"
    assert tags["git.commit"] == "a" * 40


def test_pipeline_run_of_a_plain_dvc_repro_is_the_dvc_process(tmp_path: Path):
    """Without DVC_EXP_NAME or GEIH_PIPELINE_RUN, stages started by one `dvc` process share its id."""
    fake_dvc = tmp_path / "dvc"
    code = "from geih.lifecycle.tracking import pipeline_run_id; print(pipeline_run_id())"
    fake_dvc.write_text(f"#!/bin/sh\n'{sys.executable}' -c '{code}'\n'{sys.executable}' -c '{code}'\ntrue\n")
    fake_dvc.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}

    def ids() -> list[str]:
        return subprocess.run([str(fake_dvc)], env=env, capture_output=True, text=True, check=True,
                              timeout=120).stdout.split()

    first, second = ids(), ids()
    assert len(first) == 2 and first[0] == first[1] and first[0].startswith("dvc-")
    assert second[0] == second[1] != first[0]


def test_parallel_first_runs_do_not_race_on_a_new_store(new_store_root: Path):
    """Three stage processes start at once on a store that does not exist yet (no `geih tracking
    init`): without the store lock, SQLite's first-time migrations collide and most of them fail."""
    code = ("from geih.lifecycle import tracking\n"
            "with tracking.stage_run('train', 'fire_risk', {'i': 1}) as run:\n"
            "    tracking.log_metrics({'x': 1.0})\n")
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=new_store_root, env=env, stderr=subprocess.PIPE,
                              text=True) for _ in range(3)]
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], "\n".join(errors)[-3000:]
    mlflow.set_tracking_uri(tracking.tracking_uri())
    exp = client().get_experiment_by_name("geih-fire_risk")
    assert len(client().search_runs([exp.experiment_id])) == 3
    assert exp.artifact_location == (new_store_root / "mlflow" / "artifacts" / "geih-fire_risk").resolve().as_uri()


@pytest.mark.parametrize("model_name,calibration", [
    ("xgboost", "none"), ("lightgbm", "none"), ("random_forest", "sigmoid"), ("gradient_boosting", "none"),
    ("logistic_regression", "isotonic")])
def test_models_are_logged_with_skops_and_load_through_pyfunc(store_root: Path, model_name: str,
                                                              calibration: str):
    X, y = frame()
    model = build_model(model_name, {"n_estimators": 8, "calibration": calibration}, 0, 1).fit(X, y)
    with tracking.stage_run("train", "fire_risk", {}) as run:
        info = training.log_sklearn_model(model, X, model_name)
    flavor = info.flavors["sklearn"]
    assert flavor["serialization_format"] == "skops"
    assert set(flavor["skops_trusted_types"]) == set(training.trusted_types(model))
    assert client().get_run(run.info.run_id).data.tags["geih.model_format"] == "skops"
    location = client().get_logged_model(info.model_id).artifact_location
    requirements = (Path(location.removeprefix("file://")) / "requirements.txt").read_text()
    assert "skops==" in requirements and "cloudpickle" not in requirements
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    np.testing.assert_array_equal(np.asarray(loaded.predict(X)), model.predict_proba(X))


def test_unknown_types_fall_back_to_cloudpickle(store_root: Path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    X, y = frame()
    model = Pipeline([("double", Doubler()), ("model", LogisticRegression())]).fit(X.fillna(0), y)
    assert training.model_format(model) == "cloudpickle"
    assert training.model_format(build_model("xgboost", {"n_estimators": 3}, 0, 1).fit(X, y)) == "skops"


def test_register_champion_challenger_and_records(store_root: Path):
    """The decision against the current champion, as the register stage records it."""
    run_a, sha_a = train_run(store_root, "a", seed=0)
    _, sha_b = train_run(store_root, "b", seed=1)
    _, sha_c = train_run(store_root, "c", seed=2)
    exp_id = client().get_experiment_by_name("geih-fire_risk").experiment_id
    extra = {"dvc.exp_name": "exp-x"}

    first = register_model(client(), "fire_risk", exp_id, sha_a, {"roc_auc": 0.80, "pr_auc": 0.5}, REGISTER, extra)
    assert (first["version"], first["alias"], first["reason"]) == (1, "champion", "no current champion")
    assert first["run_id"] == run_a and first["previous_champion_version"] is None

    # +0.0005 < register.min_improvement = 0.001: challenger, champion stays on version 1
    second = register_model(client(), "fire_risk", exp_id, sha_b, {"roc_auc": 0.8005}, REGISTER, extra)
    assert (second["version"], second["alias"], second["champion_version"]) == (2, "challenger", 1)
    assert "does not beat" in second["reason"] and "register.min_improvement=0.001" in second["reason"]
    mv2 = client().get_model_version("geih-fire-risk", "2")
    assert mv2.tags["geih.decision"] == second["reason"] and mv2.tags["geih.alias"] == "challenger"
    assert mv2.tags["dvc.exp_name"] == "exp-x" and float(mv2.tags["metric.roc_auc"]) == 0.8005
    assert client().get_model_version_by_alias("geih-fire-risk", "champion").version in ("1", 1)

    # a clear improvement moves champion
    third = register_model(client(), "fire_risk", exp_id, sha_c, {"roc_auc": 0.83}, REGISTER, extra)
    assert (third["version"], third["alias"], third["previous_champion_version"]) == (3, "champion", 1)
    assert "beats the champion's 0.8000" in third["reason"]
    aliases = client().get_registered_model("geih-fire-risk").aliases
    assert {k: str(v) for k, v in aliases.items()} == {"champion": "3", "challenger": "2"}

    # the same model again keeps its version; the champion's own model stays champion
    again = register_model(client(), "fire_risk", exp_id, sha_c, {"roc_auc": 0.83}, REGISTER, extra)
    assert (again["version"], again["alias"]) == (3, "champion") and "already is the champion" in again["reason"]
    assert len(client().search_model_versions("name = 'geih-fire-risk'")) == 3

    # below the floor: challenger whatever the champion
    low = {**REGISTER, "min_roc_auc": 0.9}
    floor = register_model(client(), "fire_risk", exp_id, sha_a, {"roc_auc": 0.85}, low, extra)
    assert floor["alias"] == "challenger" and "register.min_roc_auc=0.9" in floor["reason"]


def test_register_stage_writes_reason_to_registry_json_and_run_tags(store_root: Path):
    """stages/register.py end to end against the store: registry.json and the MLflow tags."""
    import importlib.util

    train_run(store_root, "a", seed=0)
    train_run(store_root, "b", seed=1)
    (store_root / "params.yaml").write_text(yaml.safe_dump({"register": REGISTER}))
    write_features(store_root / "features", task="fire_risk")
    spec = importlib.util.spec_from_file_location("register_stage", REPO / "stages" / "register.py")
    stage = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stage)
    records = []
    for name, auc in (("a", 0.80), ("b", 0.8004)):
        (store_root / f"{name}.json").write_text(json.dumps({"roc_auc": auc, "pr_auc": 0.4}))
        out = store_root / f"registry_{name}.json"
        stage.main(["--task", "fire_risk", "--model", f"{name}.joblib", "--features", "features", "--metrics",
                    f"{name}.json", "--out", str(out)])
        records.append(json.loads(out.read_text()))
    assert records[0]["alias"] == "champion" and records[1]["alias"] == "challenger"
    assert "register.min_improvement=0.001" in records[1]["reason"]
    exp_id = client().get_experiment_by_name("geih-fire_risk").experiment_id
    reg_runs = client().search_runs([exp_id], "tags.`geih.stage` = 'register'", order_by=["attributes.start_time ASC"])
    assert [r.data.tags["geih.alias"] for r in reg_runs] == ["champion", "challenger"]
    assert reg_runs[1].data.tags["geih.decision"] == records[1]["reason"]
    assert reg_runs[1].data.tags["geih.registered_version"] == "2"
    assert client().get_model_version("geih-fire-risk", "2").tags["geih.register_run_id"] == reg_runs[1].info.run_id


def test_models_cli_best_promote_registers_and_list(store_root: Path):
    """`geih models best --promote` registers the best evaluated model when no version holds it;
    `geih models list` shows the versions and their aliases."""
    _, sha_a = train_run(store_root, "a", seed=0)
    _, sha_b = train_run(store_root, "b", seed=1)
    exp_id = client().get_experiment_by_name("geih-fire_risk").experiment_id
    register_model(client(), "fire_risk", exp_id, sha_a, {"roc_auc": 0.70}, REGISTER, {})
    evaluate_ids = {}
    for sha, auc in ((sha_a, 0.70), (sha_b, 0.75)):
        with tracking.stage_run("evaluate", "fire_risk", {}) as run:
            tracking.log_metrics({"roc_auc": auc, "pr_auc": 0.3})
            mlflow.set_tag("geih.model_sha256", sha)
        evaluate_ids[sha] = run.info.run_id
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
    env["MLFLOW_TRACKING_URI"] = tracking.tracking_uri()

    def geih(*args: str) -> str:
        out = subprocess.run([sys.executable, "-m", "geih.cli", "models", *args], cwd="/", env=env,
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-3000:]
        return out.stdout

    text = geih("best", "--task", "fire_risk", "--metric", "roc_auc", "--promote")
    best = json.loads(text[: text.rindex("}") + 1])
    assert best["run_id"] == evaluate_ids[sha_b] and best["value"] == pytest.approx(0.75)
    assert "→ geih-fire-risk version 2 @champion" in text
    mv = client().get_model_version_by_alias("geih-fire-risk", "champion")
    assert str(mv.version) == "2" and mv.tags["geih.model_sha256"] == sha_b
    assert "promoted" in mv.tags["geih.decision"]
    worst = json.loads(geih("best", "--task", "fire_risk", "--metric", "roc_auc", "--lower-is-better"))
    assert worst["run_id"] == evaluate_ids[sha_a]
    rows = {line.split()[1]: line for line in geih("list", "--task", "fire_risk").splitlines()[1:]}
    assert set(rows) == {"1", "2"}
    assert "champion" in rows["2"] and "champion" not in rows["1"]


def test_tracking_uri_command_from_a_sub_folder_creates_nothing(tmp_path: Path, monkeypatch, capsys):
    """`geih tracking uri` (used as MLFLOW_TRACKING_URI=$(geih tracking uri) mlflow …) finds the repo's
    store from a sub-folder, honours MLFLOW_TRACKING_URI, and opens no store (run in-process)."""
    root = tmp_path / "repo"
    (root / "stages").mkdir(parents=True)
    (root / "dvc.yaml").write_text("stages: {}\n")
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(root / "stages")

    def uri(**extra: str) -> str:
        with monkeypatch.context() as env:
            for key, value in extra.items():
                env.setenv(key, value)
            assert run_main(cli.main, ["tracking", "uri"]) == 0
        return capsys.readouterr().out.strip()

    assert uri() == f"sqlite:///{root.resolve()}/mlflow/mlflow.db"
    assert uri(MLFLOW_TRACKING_URI="http://127.0.0.1:5000") == "http://127.0.0.1:5000"
    assert uri(MLFLOW_TRACKING_URI="sqlite:///store/m.db") == f"sqlite:///{root.resolve()}/store/m.db"
    assert sorted(p.name for p in root.rglob("*")) == ["dvc.yaml", "stages"]
