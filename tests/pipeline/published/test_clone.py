"""A new user's side of the `local` remote: the author pushes after `dvc repro`; a fresh `git clone` +
`dvc pull` (or `dvc repro --pull`) has every output, both bundles included, and nothing re-runs. Data and
model versions: tag, experiment, `dvc exp branch`, compare with `dvc metrics diff`, return to a tag."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.pipeline.mlflow_support import sh
from tests.pipeline.published.conftest import TASKS, cache_files, clone, dvc_outputs, outputs_digest, set_local

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


def pulled_clone(author_repo: Path, remote: Path, dest: Path, command: list[str]) -> tuple[Path, str]:
    fresh = clone(author_repo, dest)
    set_local(fresh, ("local", "url", str(remote)))
    result = sh(command, fresh)
    return fresh, result.stdout + result.stderr


def test_default_remote_is_a_folder_beside_the_clone(author_repo: Path, tmp_path: Path):
    fresh = clone(author_repo, tmp_path / "clone")
    listed = sh(["dvc", "remote", "list"], fresh).stdout.splitlines()
    remotes = {row.split()[0]: row.split()[1:] for row in listed if row.strip()}
    assert remotes["local"] == [str(tmp_path / "geih-dvc-remote"), "(default)"], listed
    assert remotes["s3"] == ["s3://geih-datalake/dvc"], listed


def test_fresh_clone_pull_has_everything_and_nothing_reruns(author_repo: Path, local_remote: Path, tmp_path: Path):
    outputs = dvc_outputs(author_repo)
    fresh, _ = pulled_clone(author_repo, local_remote, tmp_path / "clone", ["dvc", "pull"])
    assert outputs_digest(fresh, outputs) == outputs_digest(author_repo, outputs)
    for task in TASKS:
        for name in BUNDLE_FILES:
            assert (fresh / "models" / task / "bundle" / name).stat().st_size > 0, (task, name)
    assert "Data and pipelines are up to date" in sh(["dvc", "status"], fresh).stdout
    assert "in sync" in sh(["dvc", "status", "-c"], fresh).stdout
    repro = sh(["dvc", "repro"], fresh)
    text = repro.stdout + repro.stderr
    assert "Running stage" not in text and "didn't change, skipping" in text, text[-3000:]
    assert not (fresh / "mlflow").exists(), "a pulled clone needs no MLflow store: nothing ran"


def test_repro_pull_fetches_instead_of_running(author_repo: Path, local_remote: Path, tmp_path: Path):
    outputs = dvc_outputs(author_repo)
    fresh, text = pulled_clone(author_repo, local_remote, tmp_path / "clone", ["dvc", "repro", "--pull"])
    assert "Running stage" not in text, text[-3000:]
    assert outputs_digest(fresh, outputs) == outputs_digest(author_repo, outputs)
    assert "Data and pipelines are up to date" in sh(["dvc", "status"], fresh).stdout


def evaluate_metrics(root: Path, task: str) -> dict:
    return json.loads((root / "metrics" / task / "evaluate.json").read_text())


def test_versions_tag_experiment_branch_compare_and_return(author_repo: Path, local_remote: Path, tmp_path: Path):
    """The README's recipe for data/model versions, on a pulled clone."""
    repo, _ = pulled_clone(author_repo, local_remote, tmp_path / "clone", ["dvc", "pull"])
    outputs = dvc_outputs(repo)
    v1 = outputs_digest(repo, outputs)
    v1_metrics = {task: evaluate_metrics(repo, task) for task in TASKS}
    sh(["git", "tag", "-a", "v1", "-m", "first data/model version"], repo)

    # An experiment that changes the operating threshold: evaluate, register, package re-run.
    sh(["dvc", "exp", "run", "-n", "lower-threshold", "-S", "evaluate.threshold=0.4"], repo)
    assert evaluate_metrics(repo, "fire_risk")["threshold"] == 0.4
    diff = json.loads(sh(["dvc", "metrics", "diff", "v1", "--json"], repo).stdout)
    changed = diff["metrics/fire_risk/evaluate.json"]
    assert changed["threshold"] == {"old": 0.5, "new": 0.4, "diff": pytest.approx(-0.1)}
    assert changed["roc_auc"]["old"] == v1_metrics["fire_risk"]["roc_auc"]

    # Keep it as a branch, return the workspace to the tag (params.yaml included), then check both out.
    sh(["dvc", "exp", "branch", "lower-threshold", "lower-threshold"], repo)
    sh(["git", "checkout", "--", "params.yaml", "dvc.lock", "metrics", "plots", "reports"], repo)
    sh(["dvc", "checkout"], repo)
    assert outputs_digest(repo, outputs) == v1
    assert "Data and pipelines are up to date" in sh(["dvc", "status"], repo).stdout

    sh(["git", "checkout", "-q", "lower-threshold"], repo)
    sh(["dvc", "checkout"], repo)
    assert evaluate_metrics(repo, "deforestation")["threshold"] == 0.4
    assert "Data and pipelines are up to date" in sh(["dvc", "status"], repo).stdout
    assert "threshold" in sh(["dvc", "params", "diff", "v1"], repo).stdout

    sh(["git", "checkout", "-q", "v1"], repo)
    sh(["dvc", "checkout"], repo)
    assert outputs_digest(repo, outputs) == v1
    assert {task: evaluate_metrics(repo, task) for task in TASKS} == v1_metrics
    assert "Data and pipelines are up to date" in sh(["dvc", "status"], repo).stdout
    assert cache_files(repo)
