"""`geih warm -- dvc repro -f` (every stage forked from the warm stage server) writes what the cold pipeline
writes: the same output hashes in dvc.lock, stage by stage."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from tests.pipeline.conftest import run
from tests.pipeline.mlflow_support import copy_repo

# The registry record and the bundle carry MLflow run/model IDs and version numbers of the store they ran
# against (a re-run registers again), so their hashes differ by design between any two runs, cold or warm.
STORE_DEPENDENT = ("register@", "package@")


def output_hashes(root: Path) -> dict[str, dict[str, str]]:
    """Stage → {output path: md5} from a repo's dvc.lock."""
    lock = yaml.safe_load((root / "dvc.lock").read_text())
    return {name: {o["path"]: o["md5"] for o in stage.get("outs", [])} for name, stage in lock["stages"].items()}


@pytest.fixture(scope="module")
def warm_repo(tiny_repo: Path, tmp_path_factory) -> tuple[Path, str]:
    root = copy_repo(tiny_repo, tmp_path_factory.mktemp("warm") / "repo")
    done = run([sys.executable, "-m", "geih.cli", "warm", "--", "dvc", "repro", "-f"], root)
    return root, done.stderr


def test_every_stage_ran_warm(warm_repo, tiny_repo: Path):
    _, stderr = warm_repo
    stages = len(output_hashes(tiny_repo))
    assert "stage server ready" in stderr
    assert f"stage server stopped after {stages} stage(s)" in stderr
    assert "in its own process" not in stderr


def test_warm_outputs_equal_cold_outputs(warm_repo, tiny_repo: Path):
    root, _ = warm_repo
    cold, warm = output_hashes(tiny_repo), output_hashes(root)
    assert set(cold) == set(warm)
    compared = [name for name in cold if not name.startswith(STORE_DEPENDENT)]
    assert len(compared) >= 15
    for name in compared:
        assert warm[name] == cold[name], f"{name}: warm outputs differ from cold"
    run(["dvc", "status"], root)
