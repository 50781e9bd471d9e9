"""DVC queued experiments against MLflow, in a copy of the tiny repo: `dvc queue start -j 2` completes two
experiments side by side (one re-runs every task, one only deforestation), a bad experiment is reported as failed, every stage run lands in
the one main store (artifacts under <repo>/mlflow/artifacts), tagged; the registry decides aliases;
`geih models best/list` work on the result."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from pathlib import Path

import pytest

from geih.lifecycle.registry import registered_name
from geih.tasks import get_task, task_names
from tests.pipeline.mlflow_support import TEMP_EXPS, copy_repo, queued_names, sh, store_mentions, wait_for_queue

TASKS = tuple(task_names())
QUEUE_TIMEOUT_S = 600
NAMES = {task: registered_name(task) for task in TASKS}


def after_featurize(task: str) -> set[str]:
    """The stages that log a run after featurize: alerts only for a classification task (risk levels)."""
    stages = {"train", "evaluate", "register", "package"}
    return stages | {"alerts"} if get_task(task).kind == "classification" else stages


@pytest.fixture(scope="module")
def exp_repo(tiny_repo: Path, tmp_path_factory) -> Path:
    root = copy_repo(tiny_repo, tmp_path_factory.mktemp("mlflow_queue") / "repo")
    yield root
    sh(["dvc", "queue", "stop", "--kill"], root, check=False, timeout=120)


@pytest.fixture(scope="module")
def queued(exp_repo: Path) -> dict:
    """Through one `dvc queue start -j 2`: an experiment changing a shared hyperparameter (every task's stages
    after featurize re-run), one changing only deforestation's section (only deforestation's stages re-run:
    train@<task> declares its own section, not the others') and one with an invalid model. (`dvc exp run --run-all` runs the same queue.)"""
    root = exp_repo
    all_tasks = queued_names(sh(["dvc", "exp", "run", "--queue", "-n", "all-tasks", "-S", "train.n_estimators=20"],
                                root).stdout)
    defo_only = queued_names(sh(["dvc", "exp", "run", "--queue", "-n", "defo-only", "-S",
                                 "+train.deforestation.n_estimators=15"], root).stdout)
    bad = queued_names(sh(["dvc", "exp", "run", "--queue", "-n", "bad-model", "-S", "train.fire_risk.model=svm"],
                          root).stdout)
    assert all_tasks == ["all-tasks"] and defo_only == ["defo-only"] and bad == ["bad-model"]
    sh(["dvc", "queue", "start", "-j", "2"], root)
    status = wait_for_queue(root, all_tasks + defo_only + bad, QUEUE_TIMEOUT_S)
    show = list(csv.DictReader(io.StringIO(sh(["dvc", "exp", "show", "--csv"], root).stdout)))
    return {"root": root, "good": all_tasks + defo_only, "all_tasks": all_tasks[0], "defo_only": defo_only[0],
            "bad": bad[0], "status": status, "show": {row["Experiment"]: row for row in show if row["Experiment"]}}


def store_query(root: Path, code: str) -> object:
    """Run `code` (which prints JSON) against the repo's store in a fresh interpreter."""
    prelude = ("import json, mlflow\nfrom mlflow import MlflowClient\n"
               f"mlflow.set_tracking_uri('sqlite:///{root}/mlflow/mlflow.db')\nc = MlflowClient()\n")
    return json.loads(sh([sys.executable, "-c", prelude + code], root).stdout)


@pytest.fixture(scope="module")
def exp_runs(queued: dict) -> list[dict]:
    """Every run of the store tagged with one of the queued experiments' names."""
    names = queued["good"]
    return store_query(queued["root"], f"""
out = []
for e in c.search_experiments():
    for r in c.search_runs([e.experiment_id], max_results=5000):
        if r.data.tags.get("dvc.exp_name") in {names!r}:
            out.append({{"exp": e.name, "status": r.info.status, "artifact_uri": r.info.artifact_uri,
                         "tags": r.data.tags, "run_id": r.info.run_id}})
print(json.dumps(out))
""")


def test_queue_completes_and_reports_the_failed_experiment(queued: dict):
    status, show = queued["status"], queued["show"]
    for name in queued["good"]:
        assert status[name] == "Success", status
        assert show[name]["State"] == "Success", show[name]
    assert status[queued["bad"]] == "Failed" and show[queued["bad"]]["State"] == "Failed"


def test_failed_experiment_log_names_the_params_key(queued: dict):
    logs = sh(["dvc", "queue", "logs", queued["bad"]], queued["root"], check=False)
    text = logs.stdout + logs.stderr
    assert "params key 'train.fire_risk.model'" in text and "unknown model 'svm'" in text, text[-3000:]


def test_every_stage_run_lands_in_the_main_store(queued: dict, exp_runs: list[dict]):
    root = queued["root"]
    for task in TASKS:
        stages = {r["tags"]["geih.stage"] for r in exp_runs
                  if r["tags"]["dvc.exp_name"] == queued["all_tasks"] and r["tags"]["geih.task"] == task}
        assert stages == after_featurize(task), (task, stages)
    only = [r for r in exp_runs if r["tags"]["dvc.exp_name"] == queued["defo_only"]]
    # a change under train.deforestation runs deforestation's stages only (train@<task> declares the shared keys
    # and its own section, not the other tasks')
    assert {(r["tags"]["geih.task"], r["tags"]["geih.stage"]) for r in only} == {
        ("deforestation", s) for s in after_featurize("deforestation")}
    for r in exp_runs:
        assert r["status"] == "FINISHED"
        assert r["artifact_uri"].startswith(f"file://{root}/mlflow/artifacts/geih-"), r["artifact_uri"]
        if r["tags"]["geih.stage"] not in ("register", "alerts"):  # register and alerts log metrics only
            assert any(Path(r["artifact_uri"].removeprefix("file://")).iterdir()), r["artifact_uri"]
    assert store_mentions(root / "mlflow" / "mlflow.db", TEMP_EXPS) == []
    # the temporary executor folders are gone, the logged models are not
    assert not [p for p in (root / ".dvc" / "tmp" / "exps").glob("tmp*") if p.is_dir()]
    model_ids = [r["tags"]["geih.model_id"] for r in exp_runs if r["tags"]["geih.stage"] == "train"]
    assert len(model_ids) == len(TASKS) + 1  # all-tasks trains every task, defo-only deforestation only
    for model_id in model_ids:
        assert list((root / "mlflow" / "artifacts").glob(f"geih-*/models/{model_id}/artifacts/MLmodel")), model_id


def test_queued_runs_carry_the_tags(queued: dict, exp_runs: list[dict]):
    baseline = sh(["git", "rev-parse", "HEAD"], queued["root"]).stdout.strip()
    for r in exp_runs:
        tags = r["tags"]
        assert tags["geih.task"] in TASKS and tags["geih.stage"] in after_featurize(tags["geih.task"])
        assert tags["dvc.baseline_rev"] == baseline and tags["git.commit"] == baseline
        assert tags["geih.pipeline_run"] == tags["dvc.exp_name"]
        assert re.fullmatch(r"[0-9a-f]{16}", tags["geih.data_version"])
        assert tags["dvc.stage"] == f"{tags['geih.stage']}@{tags['geih.task']}"
    # the data version follows the data: same features for every train run of a task, a different
    # model (so a different version) for every evaluate run
    for task in TASKS:
        train = {r["tags"]["geih.data_version"] for r in exp_runs
                 if r["tags"]["geih.stage"] == "train" and r["tags"]["geih.task"] == task}
        evaluate = [r["tags"]["geih.data_version"] for r in exp_runs
                    if r["tags"]["geih.stage"] == "evaluate" and r["tags"]["geih.task"] == task]
        # deforestation is evaluated in both experiments (two models), the other tasks in all-tasks only
        assert len(train) == 1 and len(set(evaluate)) == len(evaluate) == (2 if task == "deforestation" else 1)


def test_queued_registrations_record_their_decision(queued: dict, exp_runs: list[dict]):
    versions = store_query(queued["root"], f"names = {json.dumps(list(NAMES.values()))}\n" + """
out = {}
for name in names:
    aliases = {a: str(v) for a, v in c.get_registered_model(name).aliases.items()}
    out[name] = {"aliases": aliases, "versions": {str(mv.version): mv.tags for mv in
                 c.search_model_versions(f"name = '{name}'")}}
print(json.dumps(out))
""")
    for r in (r for r in exp_runs if r["tags"]["geih.stage"] == "register"):
        task, tags = r["tags"]["geih.task"], r["tags"]
        mv = versions[NAMES[task]]["versions"][tags["geih.registered_version"]]
        assert mv["dvc.exp_name"] == tags["dvc.exp_name"] and mv["dvc.baseline_rev"] == tags["dvc.baseline_rev"]
        assert mv["geih.decision"] == tags["geih.decision"] and mv["geih.alias"] == tags["geih.alias"]
        assert tags["geih.alias"] in ("champion", "challenger") and f"metric.{get_task(task).registry_metric}" in mv
        if tags["geih.alias"] == "challenger":
            assert "does not beat" in tags["geih.decision"] or "floor" in tags["geih.decision"]
    for info in versions.values():
        champion = info["versions"][info["aliases"]["champion"]]
        assert champion["geih.alias"] == "champion"


def test_models_best_promote_and_list_in_the_repo(queued: dict):
    root = queued["root"]
    expected = store_query(root, """
exp = c.get_experiment_by_name("geih-fire_risk")
runs = [r for r in c.search_runs([exp.experiment_id], "tags.`geih.stage` = 'evaluate'", max_results=5000)
        if "roc_auc" in r.data.metrics]
best = max(runs, key=lambda r: r.data.metrics["roc_auc"])
print(json.dumps({"run_id": best.info.run_id, "sha": best.data.tags["geih.model_sha256"]}))
""")
    out = sh([sys.executable, "-m", "geih.cli", "models", "best", "--task", "fire_risk", "--metric", "roc_auc",
              "--promote"], root).stdout
    best = json.loads(out[: out.rindex("}") + 1])
    assert best["run_id"] == expected["run_id"] and best["model_sha256"] == expected["sha"]
    champion = store_query(root, """
mv = c.get_model_version_by_alias("geih-fire-risk", "champion")
print(json.dumps({"version": str(mv.version), "sha": mv.tags["geih.model_sha256"]}))
""")
    assert champion["sha"] == expected["sha"]
    assert f"version {champion['version']} @champion" in out
    listing = sh([sys.executable, "-m", "geih.cli", "models", "list", "--task", "fire_risk"], root).stdout
    rows = {line.split()[1]: line for line in listing.splitlines()[1:]}
    assert len(rows) >= 2  # the tiny repo's version and the all-tasks experiment's
    assert "champion" in rows[champion["version"]]
    assert sum("champion" in line for line in rows.values()) == 1
    for name in [queued["all_tasks"]]:  # defo-only reproduced the fire-risk model: no new version
        assert any(name in line for line in rows.values()), listing
