"""GitHub workflows: valid against GitHub's workflow schema (check-jsonschema's vendored copy, offline),
and the pull-request job does what the README promises."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO_ROOT

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.y*ml"))


def check_jsonschema() -> str:
    found = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or shutil.which("check-jsonschema")
    assert found, "check-jsonschema is missing: it is pinned in requirements.txt"
    return found


def validate(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([check_jsonschema(), "--builtin-schema", "vendor.github-workflows", str(path)],
                          capture_output=True, text=True, timeout=120)


def test_there_is_a_workflow():
    assert WORKFLOWS


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_matches_the_github_schema(path: Path):
    result = validate(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path: Path):
    broken = tmp_path / "broken.yml"
    broken.write_text("on: pull_request\njobs:\n  build:\n    steps:\n      - run: make test\n")  # no runs-on
    assert validate(broken).returncode != 0


def pipeline_job() -> tuple[dict, list[dict]]:
    workflow = yaml.safe_load((REPO_ROOT / ".github" / "workflows" / "pipeline.yml").read_text())
    jobs = workflow["jobs"]
    assert len(jobs) == 1
    return workflow, next(iter(jobs.values()))["steps"]


def test_pull_request_job_tests_reproduces_and_reports():
    workflow, steps = pipeline_job()
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads the key `on` as true
    assert "pull_request" in triggers
    assert workflow["permissions"]["pull-requests"] == "write"
    setup = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python@"))
    assert setup["with"]["cache"] == "pip" and setup["with"]["python-version"] == "3.11"
    runs = "\n".join(s.get("run", "") for s in steps)
    for command in ("make test", "make repro", "make repro-pull", "dvc params diff \"$BASE\" --md",
                    "dvc metrics diff \"$BASE\" --md", "dvc plots diff \"$BASE\" --out dvc_plots",
                    "geih plots images", "cml comment update"):
        assert command in runs, command
    assert runs.index("make test") < runs.index("make repro")
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["with"]["path"] == "dvc_plots" and upload["with"]["if-no-files-found"] == "error"
    assert any(s.get("uses", "").startswith("iterative/setup-cml@") for s in steps)
    assert not any(s.get("continue-on-error") for s in steps), "every failing step fails the job"


def test_workflow_takes_credentials_only_from_secrets():
    text = (REPO_ROOT / ".github" / "workflows" / "pipeline.yml").read_text()
    _, steps = pipeline_job()
    workflow = yaml.safe_load(text)
    env = next(iter(workflow["jobs"].values()))["env"]
    assert env["AWS_ACCESS_KEY_ID"].startswith("${{ secrets.")
    assert env["AWS_SECRET_ACCESS_KEY"].startswith("${{ secrets.")
    assert "github.base_ref" not in "\n".join(s.get("run", "") for s in steps), "pass it through env"
