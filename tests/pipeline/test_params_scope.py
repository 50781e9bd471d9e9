"""What a params change re-runs, now that train@<task> declares the shared `train` keys and its own
`train.<task>` section: a shared hyperparameter re-runs train and what follows for every task; a change in one
task's section re-runs that task's stages only, and nothing before train re-runs (experiments skip upstream
stages); a bad value stops the experiment naming the key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from geih.tasks import task_names
from tests.pipeline.mlflow_support import copy_repo, sh


@pytest.fixture(scope="module")
def scope_repo(tiny_repo: Path, tmp_path_factory) -> Path:
    return copy_repo(tiny_repo, tmp_path_factory.mktemp("params_scope") / "repo")


def status_stages(root: Path) -> set[str]:
    """Names of the stages `dvc status` reports as changed."""
    out = sh(["dvc", "status"], root).stdout
    return {line.rstrip(":").strip() for line in out.splitlines() if line and not line.startswith((" ", "\t"))}


def test_a_shared_hyperparameter_dirties_train_and_after_only(scope_repo: Path):
    params = (scope_repo / "params.yaml").read_text()
    try:
        (scope_repo / "params.yaml").write_text(params.replace("n_estimators: 30", "n_estimators: 31", 1))
        assert status_stages(scope_repo) == {f"train@{task}" for task in task_names()}
    finally:
        (scope_repo / "params.yaml").write_text(params)


@pytest.fixture(scope="module")
def fire_only(scope_repo: Path) -> str:
    """The output of an experiment that changes one task's hyperparameter (run once, read by two tests)."""
    result = sh(["dvc", "exp", "run", "-n", "fire-only", "-S", "+train.fire_risk.max_depth=2"], scope_repo)
    return result.stdout + result.stderr


def test_experiment_skips_upstream_stages(scope_repo: Path, fire_only: str):
    text = fire_only
    for stage in ("acquire", "prepare@fire_risk", "featurize@fire_risk"):
        assert f"Stage '{stage}' didn't change, skipping" in text, text[-3000:]
    assert "Running stage 'train@fire_risk'" in text
    show = json.loads(sh(["dvc", "exp", "show", "--json"], scope_repo).stdout)
    names = json.dumps(show)
    assert "fire-only" in names and "n_estimators" in names and "max_depth" in names


def test_one_tasks_change_reruns_that_task_only(fire_only: str):
    text = fire_only
    for stage in ("train@fire_risk", "evaluate@fire_risk", "register@fire_risk", "package@fire_risk"):
        assert f"Running stage '{stage}'" in text, (stage, text[-3000:])
    others = [t for t in task_names() if t != "fire_risk"]
    for stage in ("featurize@fire_risk", *(f"{s}@{t}" for t in others for s in ("train", "evaluate", "register"))):
        assert f"Running stage '{stage}'" not in text, (stage, text[-3000:])


def test_a_task_section_dirties_that_tasks_stages_only(scope_repo: Path):
    params = (scope_repo / "params.yaml").read_text()
    changed = yaml.safe_load(params)
    changed["train"]["deforestation"]["max_depth"] = 3
    try:
        (scope_repo / "params.yaml").write_text(yaml.safe_dump(changed, sort_keys=False))
        # package@<task> declares train.<task> too: the bundle records the task's hyperparameters
        assert status_stages(scope_repo) == {"train@deforestation", "package@deforestation"}
    finally:
        (scope_repo / "params.yaml").write_text(params)


def test_a_bad_hyperparameter_stops_the_experiment_naming_the_key(scope_repo: Path):
    result = sh(["dvc", "exp", "run", "-n", "bad-trees", "-S", "train.n_estimators=-5"], scope_repo, check=False)
    text = result.stdout + result.stderr
    assert result.returncode != 0
    assert "params key 'train.n_estimators': expected an integer ≥ 1" in text, text[-3000:]
    assert "Traceback" not in text
