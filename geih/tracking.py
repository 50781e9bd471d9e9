"""MLflow inside the stages: one store under the repo root, one run per stage execution.

The tracking URI is `MLFLOW_TRACKING_URI` when set, else `sqlite:///<repo root>/mlflow/mlflow.db`
with artifacts under `<repo root>/mlflow/artifacts/<experiment>`. The repo root is resolved so that
DVC's queued/temporary experiments (which run in a copy under `.dvc/tmp/exps/`) still log into the
main repository's store rather than into a folder deleted after the experiment.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

EXPERIMENT_PREFIX = "geih"
TEMP_EXP_MARKER = os.sep.join(("", ".dvc", "tmp", "exps", ""))


def repo_root(start: str | Path | None = None) -> Path:
    """The main repository root: DVC_ROOT (or the nearest folder with dvc.yaml above `start`),
    with any `.dvc/tmp/exps/...` temporary-experiment suffix cut off."""
    if start is None and os.environ.get("DVC_ROOT"):
        root = Path(os.environ["DVC_ROOT"]).resolve()
    else:
        here = Path(start or Path.cwd()).resolve()
        root = next((p for p in (here, *here.parents) if (p / "dvc.yaml").exists()), here)
    text = str(root) + os.sep
    if TEMP_EXP_MARKER in text:
        root = Path(text.split(TEMP_EXP_MARKER, 1)[0])
    return root


def tracking_uri(root: Path | None = None) -> str:
    """MLFLOW_TRACKING_URI if set, else the SQLite store under the repo root."""
    uri = os.environ.get("MLFLOW_TRACKING_URI")
    if uri:
        return uri
    root = root or repo_root()
    return f"sqlite:///{root / 'mlflow' / 'mlflow.db'}"


def experiment_name(task: str | None) -> str:
    return f"{EXPERIMENT_PREFIX}-{task}" if task else f"{EXPERIMENT_PREFIX}-data"


def init_store(tasks: list[str], root: Path | None = None) -> str:
    """Create (and migrate) the store and each task's experiment with a stable artifact location.

    Run once before parallel queue workers start: concurrent first-time migrations of one SQLite
    file race. Idempotent. Returns the tracking URI.
    """
    import mlflow

    root = root or repo_root()
    uri = tracking_uri(root)
    if uri.startswith("sqlite:///"):
        (root / "mlflow" / "artifacts").mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    for name in [experiment_name(None), *(experiment_name(t) for t in tasks)]:
        ensure_experiment(name, root)
    return uri


def ensure_experiment(name: str, root: Path) -> str:
    """The id of experiment `name`, created with artifacts under <root>/mlflow/artifacts/<name>
    when the store is local (a remote server keeps its own artifact root)."""
    from mlflow import MlflowClient

    client = MlflowClient()
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    location = None
    if tracking_uri(root).startswith("sqlite:///"):
        location = (root / "mlflow" / "artifacts" / name).as_uri()
    try:
        return client.create_experiment(name, artifact_location=location)
    except Exception:  # another process created it in between
        found = client.get_experiment_by_name(name)
        if found is None:
            raise
        return found.experiment_id


def git_commit(root: Path) -> str:
    """HEAD commit of the repo at `root`, or 'unknown' outside git."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                             text=True, check=True, timeout=10)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def data_version(paths: list[str | Path]) -> str:
    """Short content hash of the files under `paths` (names and bytes, sorted)."""
    digest = hashlib.sha256()
    for base in sorted(Path(p) for p in paths):
        files = sorted(f for f in base.rglob("*") if f.is_file()) if base.is_dir() else [base]
        for f in files:
            digest.update(str(f.relative_to(base.parent) if base.is_dir() else f.name).encode())
            digest.update(file_sha256(f).encode())
    return digest.hexdigest()[:16]


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def run_tags(stage: str, task: str | None, root: Path, data_deps: list[str | Path]) -> dict[str, str]:
    """Tags of a stage run: stage, task, git commit, DVC experiment, pipeline run and data version."""
    tags = {
        "geih.stage": stage,
        "geih.task": task or "",
        "git.commit": git_commit(root),
        "geih.data_version": data_version(data_deps) if data_deps else "",
        "geih.pipeline_run": os.environ.get("GEIH_PIPELINE_RUN")
        or os.environ.get("DVC_EXP_NAME") or "manual",
    }
    for env, tag in (("DVC_EXP_NAME", "dvc.exp_name"), ("DVC_EXP_BASELINE_REV", "dvc.baseline_rev")):
        if os.environ.get(env):
            tags[tag] = os.environ[env]
    return tags


@contextmanager
def stage_run(stage: str, task: str | None, params: dict[str, Any] | None = None,
              data_deps: list[str | Path] | None = None) -> Iterator[Any]:
    """An MLflow run named `stage@task` in the task's experiment, tagged and with `params` logged
    (flattened, dotted keys)."""
    import mlflow

    root = repo_root()
    mlflow.set_tracking_uri(tracking_uri(root))
    exp_id = ensure_experiment(experiment_name(task), root)
    name = f"{stage}@{task}" if task else stage
    with mlflow.start_run(experiment_id=exp_id, run_name=name,
                          tags=run_tags(stage, task, root, data_deps or [])) as run:
        if params:
            mlflow.log_params(flatten(params))
        yield run


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dict → {'a.b': value}."""
    out: dict[str, Any] = {}
    for key, value in d.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{full}."))
        else:
            out[full] = value
    return out


def log_metrics(metrics: dict[str, Any]) -> None:
    """Log the numeric entries of a (nested) metrics dict to the active run."""
    import mlflow

    flat = {k: float(v) for k, v in flatten(metrics).items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v}
    if flat:
        mlflow.log_metrics(flat)
