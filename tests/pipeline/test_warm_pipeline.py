"""The tiny repo is built as `make repro` builds: `geih warm -- dvc repro` (every stage forked from the warm
stage server). Re-run cold with plain `dvc repro -f`, it writes the same output hashes, stage by stage."""

from __future__ import annotations

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
def cold_repo(tiny_repo: Path, tmp_path_factory) -> Path:
    root = copy_repo(tiny_repo, tmp_path_factory.mktemp("cold") / "repo")
    done = run(["dvc", "repro", "-f"], root)
    assert "geih warm" not in done.stdout + done.stderr  # no server: nothing said about one
    return root


def test_every_stage_of_the_tiny_build_ran_warm(tiny_repo: Path):
    log = (tiny_repo / "repro.log").read_text()
    stages = len(output_hashes(tiny_repo))
    assert "stage server ready" in log
    assert f"stage server stopped after {stages} stage(s)" in log
    assert "in its own process" not in log


def test_warm_outputs_equal_cold_outputs(cold_repo: Path, tiny_repo: Path):
    warm, cold = output_hashes(tiny_repo), output_hashes(cold_repo)
    assert set(cold) == set(warm)
    compared = [name for name in cold if not name.startswith(STORE_DEPENDENT)]
    assert len(compared) >= 15
    for name in compared:
        assert warm[name] == cold[name], f"{name}: warm outputs differ from cold"
    assert "up to date" in run(["dvc", "status"], cold_repo).stdout
