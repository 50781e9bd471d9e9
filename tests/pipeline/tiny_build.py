"""The session's tiny pipeline repo (`tiny_repo`), built ONCE per pytest run by a background process that starts
as soon as collection finds a test that needs it, so the unit and data tests (and, under pytest-xdist, the other
worker) run while its `dvc repro` does. Every xdist worker of the run shares that one build: a lock file and a
state folder (`geih-tiny-repo/`: pid, build.log, rc, repo/) beside the workers' temporary folders.

`python -m tests.pipeline.tiny_build ROOT` is the background process: it builds the repo at ROOT and writes its
exit status to ROOT/../rc (0 = built)."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

STATE = "geih-tiny-repo"
WAIT_LIMIT_S = 1800  # the build's own `dvc repro` is bounded at 900 s (tests.pipeline.conftest.run)
BUILD_KEY = pytest.StashKey[subprocess.Popen]()
REPO = Path(__file__).resolve().parents[2]


def shared_dir(config: pytest.Config) -> Path:
    """The run's temporary folder that every xdist worker sees: a worker's own is `<run's basetemp>/gwN`."""
    base = config._tmp_path_factory.getbasetemp()  # what the tmp_path_factory fixture hands out
    return base.parent if hasattr(config, "workerinput") else base


@contextmanager
def locked(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def start_tiny_build(config: pytest.Config) -> Path:
    """Start the background build unless this run already has one; returns the state folder."""
    shared = shared_dir(config)
    state = shared / STATE
    with locked(shared / f"{STATE}.lock"):
        if not state.exists():
            state.mkdir()
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
            with open(state / "build.log", "w") as log:
                proc = subprocess.Popen([sys.executable, "-m", "tests.pipeline.tiny_build", str(state / "repo")],
                                        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            (state / "pid").write_text(str(proc.pid))
            config.stash[BUILD_KEY] = proc
    return state


def is_running(pid: int) -> bool:
    """Whether process `pid` is alive (a zombie that its parent has not reaped yet counts as finished)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def log_tail(state: Path) -> str:
    log = state / "build.log"
    return log.read_text(errors="replace")[-8000:] if log.exists() else "(no build log)"


def wait_for_tiny_repo(config: pytest.Config) -> Path:
    """The built repo, waiting for the background build (started now if collection did not start it)."""
    state = start_tiny_build(config)
    pid = int((state / "pid").read_text())
    deadline = time.monotonic() + WAIT_LIMIT_S
    while not (state / "rc").exists():
        if not is_running(pid) and not (state / "rc").exists():
            raise AssertionError(f"the tiny repo build (pid {pid}) stopped without a result:\n{log_tail(state)}")
        if time.monotonic() > deadline:
            raise AssertionError(f"the tiny repo build (pid {pid}) still runs after {WAIT_LIMIT_S} s:\n"
                                 f"{log_tail(state)}")
        time.sleep(1)
    if (state / "rc").read_text().strip() != "0":
        raise AssertionError(f"building the tiny repo failed:\n{log_tail(state)}")
    return state / "repo"


def finish_tiny_build(config: pytest.Config, stop: bool) -> None:
    """At the end of the session of the process that started the build: stop it when `stop` (an interrupted or
    failed-fast run, or a run that no longer needs it), else wait for it (another xdist worker may be waiting)."""
    proc = config.stash.get(BUILD_KEY, None)
    if proc is None or proc.poll() is not None:
        return
    if stop:
        from tests.pipeline.mlflow_support import stop_group

        stop_group(proc, grace=10)
    else:
        proc.wait(timeout=WAIT_LIMIT_S)


def main(root: Path) -> int:
    from tests.pipeline.conftest import build_tiny_repo

    try:
        build_tiny_repo(root)
        status = 0
    except Exception:  # any failure reaches the waiting tests through rc and the log
        traceback.print_exc()
        status = 1
    (root.parent / "rc.tmp").write_text(str(status))
    os.replace(root.parent / "rc.tmp", root.parent / "rc")
    return status


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
