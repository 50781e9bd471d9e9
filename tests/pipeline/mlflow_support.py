"""Helpers for the MLflow pipeline tests: a working copy of the tiny repo (so the session's
`tiny_repo` is never changed), MLflow store queries in a subprocess-free way, and loopback servers
that are always terminated."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.pipeline.conftest import pipeline_env

TEMP_EXPS = "/.dvc/tmp/exps/"
# For the `mlflow ui`/`mlflow server` a test starts: one web worker (the default is 4) and no job-execution
# runner (its huey consumer only runs MLflow's own background jobs, which no test uses). On 2 busy cores the
# default took 90–110 s to answer /health, this 32–37 s (measured side by side); what the server serves is the same.
LEAN_SERVER_ENV = {"MLFLOW_WORKERS": "1", "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}


def env_for(root: Path, **extra: str) -> dict[str, str]:
    """The pipeline tests' environment (no inherited MLFLOW_TRACKING_*/DVC_*) plus `extra`."""
    env = pipeline_env(root)
    env.update(extra)
    return env


def sh(cmd: list[str], root: Path, env: dict[str, str] | None = None, check: bool = True,
       timeout: int = 600) -> subprocess.CompletedProcess:
    """Run `cmd` in `root`; on failure (when `check`) raise with the output tails."""
    result = subprocess.run(cmd, cwd=root, env=env or env_for(root), capture_output=True, text=True,
                            timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout[-4000:]}\n"
                             f"{result.stderr[-6000:]}")
    return result


def copy_repo(src: Path, dest: Path) -> Path:
    """A copy of a pipeline repo that can be changed freely: its files (no .venv, no .dvc/tmp), DVC
    cache and MLflow store, the store's absolute artifact paths moved to the copy, and everything
    committed so that the copy's HEAD is a clean experiment baseline."""
    def ignore(folder: str, names: list[str]) -> list[str]:
        here = Path(folder)
        skip = {".venv"} if here == src else {"tmp"} if here == src / ".dvc" else set()
        return [n for n in names if n in skip or n == "__pycache__"]

    shutil.copytree(src, dest, symlinks=True, ignore=ignore)
    rewrite_store_paths(dest / "mlflow" / "mlflow.db", str(src), str(dest))
    sh(["git", "add", "-A"], dest)
    sh(["git", "commit", "-qm", "baseline with pipeline results"], dest)
    return dest


def text_columns(con: sqlite3.Connection) -> Iterator[tuple[str, str]]:
    """(table, column) of every text-like column of a SQLite database."""
    tables = [r[0] for r in con.execute("select name from sqlite_master where type = 'table'")]
    for table in tables:
        for _, column, kind, *_ in con.execute(f"pragma table_info('{table}')"):
            if any(t in kind.upper() for t in ("CHAR", "TEXT", "CLOB")):
                yield table, column


def rewrite_store_paths(db: Path, old: str, new: str) -> None:
    """Replace the absolute prefix `old` by `new` in every text column of the MLflow store."""
    con = sqlite3.connect(db)
    with con:
        for table, column in list(text_columns(con)):
            con.execute(f'update "{table}" set "{column}" = replace("{column}", ?, ?) where "{column}" like ?',
                        (old + "/", new + "/", f"%{old}/%"))
    con.close()


def store_mentions(db: Path, needle: str) -> list[str]:
    """'table.column: value' for every text value of the store that contains `needle`."""
    con = sqlite3.connect(db)
    hits = []
    for table, column in list(text_columns(con)):
        rows = con.execute(f'select "{column}" from "{table}" where "{column}" like ?', (f"%{needle}%",))
        hits += [f"{table}.{column}: {value}" for (value,) in rows]
    con.close()
    return hits


def queued_names(output: str) -> list[str]:
    """Experiment names from `dvc exp run --queue` output."""
    return re.findall(r"Queued experiment '([^']+)'", output)


def queue_status(root: Path) -> dict[str, str]:
    """{experiment name: status} from `dvc queue status`."""
    out = sh(["dvc", "queue", "status"], root, timeout=120).stdout
    status = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and re.fullmatch(r"[0-9a-f]{7}", parts[0]):
            status[parts[1]] = parts[-1]
    return status


def experiment_refs(root: Path) -> str:
    """The repo's experiment refs (queued stash entries and finished experiments): a cheap `git` read."""
    return subprocess.run(["git", "for-each-ref", "--format=%(refname) %(objectname)", "refs/exps"], cwd=root,
                          capture_output=True, text=True, timeout=60).stdout


def wait_for_queue(root: Path, names: list[str], timeout: float, poll: float = 2.0,
                   recheck: float = 30.0) -> dict[str, str]:
    """Wait until none of `names` is Queued or Running (bounded). `dvc queue status` costs ~2 s of CPU (taken
    from the experiments it waits for), so it runs only when the experiment refs change (one was dequeued or
    finished) or every `recheck` seconds (a failed experiment leaves no ref); the refs are read every `poll` s."""
    deadline = time.monotonic() + timeout
    while True:
        status = queue_status(root)
        if all(status.get(n) not in (None, "Queued", "Running") for n in names):
            return status
        refs, checked = experiment_refs(root), time.monotonic()
        while experiment_refs(root) == refs and time.monotonic() - checked < recheck:
            if time.monotonic() > deadline:
                raise AssertionError(f"queue still busy after {timeout:.0f} s: {status}")
            time.sleep(poll)
        if time.monotonic() > deadline:
            raise AssertionError(f"queue still busy after {timeout:.0f} s: {status}")


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    """Poll `url` until it answers 200; fail early if `proc` exits (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {timeout:.0f} s:\n{log.read_text()[-4000:]}")


@contextmanager
def loopback_server(cmd: list[str], ready_url: str, cwd: Path, env: dict[str, str], log: Path,
                    timeout: float = 180) -> Iterator[subprocess.Popen]:
    """Start a server in its own process group, wait for `ready_url`, always terminate it."""
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        wait_http(ready_url, proc, log, timeout)
        yield proc
    finally:
        stop_group(proc)


def stop_group(proc: subprocess.Popen, grace: float = 20) -> None:
    """SIGTERM the process group started for `proc` (its workers included), then SIGKILL."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=grace)
        except ProcessLookupError:
            pass
    try:  # workers left behind by a server that exited on its own
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
