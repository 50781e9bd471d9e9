"""A new user's side of the `local` remote: the author pushes after `dvc repro`; a fresh `git clone` +
`dvc pull` (or `dvc repro --pull`) has every output, both bundles included, and nothing re-runs. Data and
model versions: tag, experiment, `dvc exp branch`, compare with `dvc metrics diff`, return to a tag."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.pipeline.mlflow_support import env_for, sh
from tests.pipeline.published.conftest import (
    TASKS,
    cached_outputs,
    clone,
    dvc_outputs,
    outputs_digest,
    set_local,
    working_copy,
)

pytestmark = pytest.mark.pipeline

BUNDLE_FILES = ("model.joblib", "model_info.json", "predict.py", "requirements.txt")


@pytest.fixture(scope="module")
def local_remote(author_repo: Path, tmp_path_factory) -> Path:
    """The author's `dvc push` to a `local` remote in a temporary folder (set with --local, so the
    committed default path is left alone)."""
    remote = tmp_path_factory.mktemp("local-remote")
    set_local(author_repo, ("local", "url", str(remote)))
    sh(["dvc", "push"], author_repo)
    return remote


def test_fresh_clone_pull_has_everything_and_nothing_reruns(author_repo: Path, local_remote: Path, tmp_path: Path):
    outputs, cached = dvc_outputs(author_repo), cached_outputs(author_repo)
    fresh = clone(author_repo, tmp_path / "clone")
    assert not any((fresh / rel).exists() for rel in cached)
    listed = sh(["dvc", "remote", "list"], fresh, env=env_for(fresh, COLUMNS="1000")).stdout.splitlines()
    remotes = {row.split()[0]: row.split()[1:] for row in listed if row.strip()}
    assert remotes["local"] == [str(tmp_path / "geih-dvc-remote"), "(default)"], listed  # beside the clone
    assert remotes["s3"] == ["s3://geih-datalake/dvc"], listed

    set_local(fresh, ("local", "url", str(local_remote)))
    sh(["dvc", "pull"], fresh)
    assert outputs_digest(fresh, outputs) == outputs_digest(author_repo, outputs)
    for task in TASKS:
        for name in BUNDLE_FILES:
            assert (fresh / "models" / task / "bundle" / name).stat().st_size > 0, (task, name)
    # Every stage up to date: `dvc repro` would run nothing (the next test runs `dvc repro --pull`).
    assert "Data and pipelines are up to date" in sh(["dvc", "status"], fresh).stdout


def test_repro_pull_fetches_instead_of_running(author_repo: Path, local_remote: Path, tmp_path: Path):
    outputs = dvc_outputs(author_repo)
    fresh = clone(author_repo, tmp_path / "clone")
    set_local(fresh, ("local", "url", str(local_remote)))
    result = sh(["dvc", "repro", "--pull"], fresh)
    text = result.stdout + result.stderr
    assert "Running stage" not in text and "Data and pipelines are up to date" in text, text[-3000:]
    assert outputs_digest(fresh, outputs) == outputs_digest(author_repo, outputs)
    assert not (fresh / "mlflow").exists(), "nothing ran: no stage opened an MLflow store"


def evaluate_metrics(root: Path, task: str) -> dict:
    return json.loads((root / "metrics" / task / "evaluate.json").read_text())


def test_versions_tag_experiment_branch_compare_and_return(author_repo: Path, tmp_path: Path):
    """The README's recipe for data/model versions, in the author's workspace (with its MLflow store)."""
    repo = working_copy(author_repo, tmp_path / "repo")
    outputs = dvc_outputs(repo)
    v1 = outputs_digest(repo, outputs)
    v1_metrics = {task: evaluate_metrics(repo, task) for task in TASKS}
    sh(["git", "tag", "-a", "v1", "-m", "first data/model version"], repo)

    # An experiment with another fire-risk model: train, evaluate, register, package of that task re-run.
    sh(["dvc", "exp", "run", "-n", "fire-logistic", "-S", "train.fire_risk.model=logistic_regression"], repo)
    diff = json.loads(sh(["dvc", "metrics", "diff", "v1", "--json"], repo).stdout)
    assert diff["metrics/fire_risk/train.json"]["model"] == {"old": "xgboost", "new": "logistic_regression"}
    assert diff["metrics/fire_risk/evaluate.json"]["roc_auc"]["old"] == v1_metrics["fire_risk"]["roc_auc"]
    assert "metrics/deforestation/evaluate.json" not in diff  # the other task did not change
    after = outputs_digest(repo, outputs)
    assert {p for p in after if after[p] != v1.get(p)} >= {"models/fire_risk/model.joblib",
                                                           "models/fire_risk/bundle/model_info.json"}

    # Keep it as a branch, return the workspace to the tag (params.yaml included), then check both out.
    sh(["dvc", "exp", "branch", "fire-logistic", "fire-logistic"], repo)
    sh(["git", "checkout", "--", "params.yaml", "dvc.lock", "metrics", "plots", "reports"], repo)
    sh(["dvc", "checkout"], repo)
    assert outputs_digest(repo, outputs) == v1

    sh(["git", "checkout", "-q", "fire-logistic"], repo)
    sh(["dvc", "checkout"], repo)
    assert outputs_digest(repo, outputs) == after
    params = json.loads(sh(["dvc", "params", "diff", "v1", "--json"], repo).stdout)
    assert params["params.yaml"]["train.fire_risk.model"] == {"old": "xgboost", "new": "logistic_regression"}

    sh(["git", "checkout", "-q", "v1"], repo)
    sh(["dvc", "checkout"], repo)
    assert outputs_digest(repo, outputs) == v1
    assert {task: evaluate_metrics(repo, task) for task in TASKS} == v1_metrics
    assert "Data and pipelines are up to date" in sh(["dvc", "status"], repo).stdout
