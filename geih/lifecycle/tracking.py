"""MLflow inside the stages: one store under the repo root, one run per stage execution.

The tracking URI is `MLFLOW_TRACKING_URI` when set, else `sqlite:///<repo root>/mlflow/mlflow.db`
with artifacts under `<repo root>/mlflow/artifacts/<experiment>`. The repo root is resolved so that
DVC's queued/temporary experiments (which run in a copy under `.dvc/tmp/exps/`) still log into the
main repository's store rather than into a folder deleted after the experiment. `geih tracking uri`
prints the same URI for MLflow's own commands (which would otherwise open `./mlflow.db`).

MLflow is imported only here, in geih.lifecycle.registry/selection and geih.modelling.training: stages
call `stage_run` and the small wrappers at the end (log_artifacts, log_dict, set_tags, log_metrics).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import subprocess
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

EXPERIMENT_PREFIX = "geih"
TEMP_EXP_MARKER = os.sep.join(("", ".dvc", "tmp", "exps", ""))
LOCK_FILE = ".store.lock"


def repo_root(start: str | Path | None = None) -> Path:
    """The main repository root: DVC_ROOT (or the nearest folder with dvc.yaml above `start`),
    with any `.dvc/tmp/exps/...` temporary-experiment suffix cut off.

    DVC sets DVC_ROOT to the parent repository for queued experiments; the suffix is cut as well
    so that a stage started by hand inside a temporary copy still finds the main store.
    """
    if start is None and os.environ.get("DVC_ROOT"):
        root = Path(os.environ["DVC_ROOT"]).resolve()
    else:
        here = Path(start or Path.cwd()).resolve()
        root = next((p for p in (here, *here.parents) if (p / "dvc.yaml").exists()), here)
    return main_root(root)


def main_root(path: Path) -> Path:
    """`path` with a `.dvc/tmp/exps/...` temporary-experiment suffix cut off."""
    text = str(path) + os.sep
    if TEMP_EXP_MARKER in text:
        return Path(text.split(TEMP_EXP_MARKER, 1)[0])
    return path


def tracking_uri(root: Path | None = None) -> str:
    """MLFLOW_TRACKING_URI if set (a relative local path made absolute under the repo root, so a
    temporary experiment copy does not swallow it), else the SQLite store under the repo root."""
    uri = os.environ.get("MLFLOW_TRACKING_URI")
    if uri:
        return absolute_uri(uri, root or repo_root()) if _is_relative_local(uri) else uri
    root = root or repo_root()
    return f"sqlite:///{root / 'mlflow' / 'mlflow.db'}"


def _is_relative_local(uri: str) -> bool:
    """sqlite:///rel.db, file:rel or ./rel — local paths that would resolve inside the cwd."""
    if uri.startswith("sqlite:///"):
        path = uri.removeprefix("sqlite:///")
        return bool(path) and not path.startswith(("/", ":memory:"))
    if uri.startswith("file:"):
        return not uri.removeprefix("file:").startswith("/")
    return ":" not in uri and (uri.startswith(".") or "/" in uri) and not os.path.isabs(uri)


def absolute_uri(uri: str, root: Path) -> str:
    """A relative sqlite/file/plain-path URI resolved against `root`."""
    if uri.startswith("sqlite:///"):
        return f"sqlite:///{(root / uri.removeprefix('sqlite:///')).resolve()}"
    return str((root / uri.removeprefix("file:")).resolve())


def is_local_store(uri: str) -> bool:
    """True for a SQLite store (artifact locations and locks are then ours to choose)."""
    return uri.startswith("sqlite:")


def experiment_name(task: str | None) -> str:
    return f"{EXPERIMENT_PREFIX}-{task}" if task else f"{EXPERIMENT_PREFIX}-data"


@contextmanager
def store_lock(root: Path | None = None) -> Iterator[None]:
    """An exclusive inter-process lock on the local store (`<root>/mlflow/.store.lock`).

    Serialises first-time creation/migration of the SQLite file and the registry's
    read-decide-set-alias step between parallel queue workers. A no-op for remote stores and on
    platforms without fcntl.
    """
    root = root or repo_root()
    if not is_local_store(tracking_uri(root)):
        yield
        return
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; `geih tracking init` first is then required
        yield
        return
    (root / "mlflow").mkdir(parents=True, exist_ok=True)
    with open(root / "mlflow" / LOCK_FILE, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def open_store(experiments: Iterable[str] = (), root: Path | None = None) -> tuple[str, dict[str, str]]:
    """The one set-up path: point MLflow at the store, and under the store lock open it (the first
    time creates and migrates a SQLite file) and make sure each named experiment exists with its
    artifact location. Returns (tracking URI, {experiment name: id})."""
    import mlflow
    from mlflow import MlflowClient

    root = root or repo_root()
    uri = tracking_uri(root)
    mlflow.set_tracking_uri(uri)
    if is_local_store(uri):
        (root / "mlflow" / "artifacts").mkdir(parents=True, exist_ok=True)
    with store_lock(root):
        client = MlflowClient()
        client.search_experiments(max_results=1)  # opens (and first time migrates) the store
        ids = {name: ensure_experiment(client, name, root, uri) for name in experiments}
    return uri, ids


def connect(root: Path | None = None) -> str:
    """Point MLflow at the store (creating/migrating it under the store lock). Returns the URI."""
    return open_store((), root)[0]


def client(root: Path | None = None) -> Any:
    """An MlflowClient of the store (connected first)."""
    from mlflow import MlflowClient

    connect(root)
    return MlflowClient()


def init_store(tasks: list[str], root: Path | None = None) -> str:
    """Create (and migrate) the store and each task's experiment with a stable artifact location.

    Run once before parallel queue workers start (the stages also take a file lock for this, but
    creating everything up front keeps the first experiments from waiting on each other).
    Idempotent. Returns the tracking URI.
    """
    return open_store([experiment_name(None), *(experiment_name(t) for t in tasks)], root)[0]


def ensure_experiment(client: Any, name: str, root: Path, uri: str) -> str:
    """The id of experiment `name`, created with artifacts under <root>/mlflow/artifacts/<name>
    when the store is local (a remote server keeps its own artifact root)."""
    found = client.get_experiment_by_name(name)
    if found is not None:
        _check_artifact_location(found.artifact_location, name)
        return found.experiment_id
    location = (root / "mlflow" / "artifacts" / name).as_uri() if is_local_store(uri) else None
    try:
        return client.create_experiment(name, artifact_location=location)
    except Exception:  # another process created it in between
        found = client.get_experiment_by_name(name)
        if found is None:
            raise
        return found.experiment_id


def _check_artifact_location(location: str, name: str) -> None:
    """Warn when an experiment's artifacts would land in a temporary or relative folder."""
    if TEMP_EXP_MARKER.replace(os.sep, "/") in location.replace(os.sep, "/") or location.startswith(
            ("./", "mlruns")):
        log.warning("MLflow experiment %s stores artifacts at %s, a temporary or relative folder: "
                    "delete the experiment (or the store) and run `geih tracking init`", name, location)


def git_commit(root: Path) -> str:
    """HEAD commit of the repo at `root`, or 'unknown' outside git."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                             text=True, check=True, timeout=10)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def code_commit(root: Path) -> str:
    """The commit the running code comes from: a DVC experiment's baseline when inside one (the
    main checkout's HEAD may have moved since the experiment was queued), else HEAD."""
    return os.environ.get("DVC_EXP_BASELINE_REV") or git_commit(root)


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


def pipeline_run_id() -> str:
    """One value shared by every stage of one pipeline execution: the DVC experiment's name, else
    GEIH_PIPELINE_RUN (set by `make repro`), else the id of the `dvc` process running the stages,
    else 'manual'."""
    return (os.environ.get("DVC_EXP_NAME") or os.environ.get("GEIH_PIPELINE_RUN")
            or dvc_process_id() or "manual")


def dvc_process_id(max_depth: int = 6) -> str | None:
    """'dvc-<UTC start>-<pid>' of the nearest ancestor `dvc` process (Linux /proc), or None."""
    pid = os.getppid()
    try:
        boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
        for _ in range(max_depth):
            if pid <= 1:
                return None
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            stat = Path(f"/proc/{pid}/stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()
            if any(Path(part.decode(errors="replace")).name == "dvc" for part in cmd[:2]) or (
                    b"dvc" in cmd[:3] and b"-m" in cmd[:3]):
                started = boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
                stamp = dt.datetime.fromtimestamp(started, dt.UTC).strftime("%Y%m%dT%H%M%SZ")
                return f"dvc-{stamp}-{pid}"
            pid = int(fields[1])
    except (OSError, ValueError, StopIteration, IndexError):
        return None
    return None


def run_tags(stage: str, task: str | None, root: Path, data_deps: list[str | Path]) -> dict[str, str]:
    """Tags of a stage run: stage, task, git commit, DVC experiment, pipeline run and data version."""
    tags = {
        "geih.stage": stage,
        "geih.task": task or "",
        "git.commit": code_commit(root),
        "geih.data_version": data_version(data_deps) if data_deps else "",
        "geih.pipeline_run": pipeline_run_id(),
    }
    tags.update(dvc_tags())
    return tags


def dvc_tags() -> dict[str, str]:
    """dvc.exp_name / dvc.baseline_rev / dvc.stage from the environment DVC gives a stage."""
    names = (("DVC_EXP_NAME", "dvc.exp_name"), ("DVC_EXP_BASELINE_REV", "dvc.baseline_rev"),
             ("DVC_STAGE", "dvc.stage"))
    return {tag: os.environ[env] for env, tag in names if os.environ.get(env)}


@contextmanager
def stage_run(stage: str, task: str | None, params: dict[str, Any] | None = None,
              data_deps: list[str | Path] | None = None, tags: dict[str, str] | None = None) -> Iterator[Any]:
    """An MLflow run named `stage@task` in the task's experiment, tagged (run_tags plus `tags`) and
    with `params` logged (flattened, dotted keys). An exception inside marks the run FAILED."""
    import mlflow

    root = repo_root()
    uri, ids = open_store([experiment_name(task)], root)
    exp_id = ids[experiment_name(task)]
    name = f"{stage}@{task}" if task else stage
    log.debug("%s: tracking to %s (experiment %s)", name, uri, exp_id)
    with mlflow.start_run(experiment_id=exp_id, run_name=name,
                          tags={**run_tags(stage, task, root, data_deps or []), **(tags or {})}) as run:
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


def log_artifacts(folder: str | Path, artifact_path: str) -> None:
    """Log the files under `folder` to the active run, under `artifact_path`."""
    import mlflow

    mlflow.log_artifacts(str(folder), artifact_path=artifact_path)


def log_artifact(path: str | Path, artifact_path: str) -> None:
    """Log one file to the active run, under `artifact_path`."""
    import mlflow

    mlflow.log_artifact(str(path), artifact_path=artifact_path)


def log_dict(data: dict[str, Any], name: str) -> None:
    """Log a JSON-serialisable mapping to the active run as the artifact file `name`."""
    import mlflow

    mlflow.log_dict(data, name)


def set_tags(tags: dict[str, str]) -> None:
    """Set tags on the active run."""
    import mlflow

    mlflow.set_tags(tags)
