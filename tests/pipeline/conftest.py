"""A whole `dvc repro` at a tiny scale in a temporary git copy of the working tree (once per session)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from geih.tasks import task_names

REPO = Path(__file__).resolve().parents[2]
TINY = {
    # five years: three PRODES years of training rows, enough for the deforestation model to beat its
    # climatology baseline (with one or two it does not: tests/pipeline/test_pipeline_science.py)
    "acquire": {"grid_resolution_deg": 1.5, "years": 5, "subcells": 3},
    "prepare": {task: {"grid_resolution_deg": 1.5} for task in task_names()},
    # 30 rounds at the shared learning rate 0.03 leave the climate regressor short of the climatology it must beat
    # to become champion (skill −0.20); at 0.1 it reaches the full-scale skill (0.38)
    "train": {"n_estimators": 30, "climate_prediction": {"learning_rate": 0.1}},
    "evaluate": {"permutation_repeats": 1},
}


def pipeline_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_TRACKING", "DVC_"))}
    env.update({"DVC_NO_ANALYTICS": "1", "MLFLOW_DISABLE_TELEMETRY": "true", "PYTHONHASHSEED": "0",
                "GEIH_PIPELINE_RUN": "pytest", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x",
                "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x",
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"})
    return env


def run(cmd: list[str], root: Path, check: bool = True, timeout: int = 900) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, cwd=root, env=pipeline_env(root), capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-6000:]}")
    return result


def deep_update(base: dict, override: dict) -> dict:
    for key, value in override.items():
        if isinstance(value, dict):
            deep_update(base.setdefault(key, {}), value)
        else:
            base[key] = value
    return base


def copy_worktree(dest: Path) -> None:
    """Tracked and untracked-but-not-ignored files of the repo, without DVC outputs or the lock."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True,
                            text=True, check=True).stdout.split("\n")
    for rel in filter(None, listed):
        src = REPO / rel
        if not src.is_file() or rel == "dvc.lock" or rel.startswith(("metrics/", "reports/", "plots/", "models/")):
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest / rel)


def committed_params() -> dict:
    """params.yaml as committed (HEAD), not the working tree's: `dvc exp run` leaves the params of the last
    experiment in the working tree (another model, a label threshold the truth does not have)."""
    shown = subprocess.run(["git", "show", "HEAD:params.yaml"], cwd=REPO, capture_output=True, text=True)
    if shown.returncode != 0:
        raise AssertionError(f"cannot read the committed params.yaml: {shown.stderr.strip()}")
    return yaml.safe_load(shown.stdout)


def feature_records(frame, features: list[str]) -> list[dict]:
    """Rows as JSON-ready records at full float precision (NaN → None). `DataFrame.to_json` rounds to
    15 significant digits (-0.4999999999999998 → -0.5), which can cross a tree's split."""
    import math

    return [{f: None if math.isnan(v) else v for f, v in zip(features, row)}
            for row in frame[features].astype("float64").itertuples(index=False, name=None)]


def build_tiny_repo(root: Path) -> None:
    """Copy the working tree into `root` (committed params + TINY), commit it, run the whole `dvc repro` under
    `geih warm` (its output in `root/repro.log`)."""
    root.mkdir(parents=True)
    copy_worktree(root)
    (root / "params.yaml").write_text(yaml.safe_dump(deep_update(committed_params(), TINY), sort_keys=False))
    run(["git", "init", "-q", "-b", "main"], root)
    run(["git", "add", "-A"], root)
    run(["git", "commit", "-qm", "tiny"], root)
    run([sys.executable, "-m", "geih.cli", "tracking", "init"], root)
    # as `make repro` runs it: warm stages (tests/pipeline/test_warm_pipeline.py re-runs it cold and compares)
    result = run([sys.executable, "-m", "geih.cli", "warm", "--", "dvc", "repro"], root)
    (root / "repro.log").write_text(result.stdout + result.stderr)


@pytest.fixture(scope="session")
def tiny_repo(request) -> Path:
    """The tiny repo after its `dvc repro`, built once per run (in the background from the start of the session,
    shared by every xdist worker: tests/pipeline/tiny_build.py). Read only: a test that runs stages, experiments
    or writes files works on a `copy_repo` of it."""
    from tests.pipeline.tiny_build import wait_for_tiny_repo

    return wait_for_tiny_repo(request.config)
