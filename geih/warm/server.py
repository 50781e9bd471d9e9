"""The warm stage server: imports what the stage scripts need once, then runs each stage it is handed in a
forked child (the stage's own argv, working folder, environment and standard streams), and reports the
child's exit status. `geih warm` starts and stops it; `python -m geih.warm.server --socket PATH` runs one.

Correctness rules: a stage is declined (and then runs cold, in its own process) when its interpreter, flags or
import-time environment differ from the server's, or when any file the server imported has changed since
(an edited `geih/` module must not run from stale memory). The server starts no threads, so forking it is safe."""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import logging
import os
import runpy
import selectors
import signal
import socket
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geih.errors import GeihError
from geih.warm.protocol import (
    ENV_SOCKET,
    ProtocolError,
    exit_status,
    fingerprint,
    recv_message,
    send_message,
)

log = logging.getLogger("geih.warm")

# What the stage scripts import lazily (inside main or a function), on top of their module-level imports.
DEFAULT_PRELOAD = (
    "numpy", "pandas", "pyarrow.parquet", "pyarrow.csv", "pyarrow.dataset", "scipy.stats", "tqdm",
    "sklearn.pipeline", "sklearn.ensemble", "sklearn.linear_model", "sklearn.metrics", "sklearn.inspection",
    "sklearn.calibration", "sklearn.preprocessing", "xgboost", "lightgbm", "skops.io",
    "mlflow", "mlflow.sklearn", "mlflow.pyfunc", "mlflow.models", "mlflow.store.db.utils",
    "mlflow.store.tracking.sqlalchemy_store", "mlflow.store.model_registry.sqlalchemy_store",
    "sqlalchemy.dialects.sqlite", "alembic.config", "matplotlib.pyplot", "geopandas", "rasterio",
)
REQUEST_TIMEOUT_S = 10.0

FileState = tuple[int, int]  # (mtime_ns, size)


def file_state(path: str) -> FileState | None:
    """A file's (modification time, size); None when it cannot be read."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def module_files() -> dict[str, FileState]:
    """The source or extension file of every imported module, with its modification time and size."""
    paths = {getattr(module, "__file__", None) for module in list(sys.modules.values())}
    states = {path: file_state(path) for path in paths if path}
    return {path: state for path, state in states.items() if state is not None}


def changed_files(snapshot: dict[str, FileState]) -> list[str]:
    """The files of `snapshot` that changed or disappeared since it was taken."""
    return [path for path, state in snapshot.items() if file_state(path) != state]


def preload(modules: list[str], scripts: list[Path]) -> list[str]:
    """Import `modules`, then each stage script's module-level imports (the script runs under another name,
    so its `main` does not); the ones that failed, as 'name: error' (a stage that needs one fails cold too)."""
    failed = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - any import error only means "not preloaded"
            failed.append(f"{name}: {exc}")
    for script in scripts:
        try:
            runpy.run_path(str(script), run_name=f"geih_warm_preload_{script.stem}")
        except BaseException as exc:  # noqa: BLE001 - a script that exits at import is simply not preloaded
            failed.append(f"{script}: {exc!r}")
    return failed


def mismatch(theirs: dict[str, Any], ours: dict[str, Any]) -> str | None:
    """Why a stage with fingerprint `theirs` cannot fork from a server with `ours` (None: it can)."""
    their_env = theirs.get("env", {})
    for name, value in ours["env"].items():
        if their_env.get(name) != value:
            return f"environment variable {name} is {their_env.get(name)!r} in the stage and {value!r} in the server"
    for key in ours:
        if key != "env" and theirs.get(key) != ours[key]:
            return f"the stage's interpreter differs from the server's ({key})"
    return None


def exit_code(code: object) -> int:
    """The process exit status Python gives `SystemExit(code)`: None → 0, an int as is, anything else → 1
    (after printing it to stderr)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    sys.stderr.write(f"{code}\n")
    return 1


def run_script(script: str) -> int:
    """Run `script` as `__main__` the way `python script` would; its exit status."""
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        return exit_code(exc.code)
    except KeyboardInterrupt:
        traceback.print_exc()
        return 128 + signal.SIGINT
    except BaseException:  # noqa: BLE001 - an uncaught exception: traceback and status 1, as Python does
        traceback.print_exc()
        return 1
    return 0


def _reopen_standard_streams() -> None:
    """New sys.stdin/stdout/stderr on fds 0–2 (now the stage's), buffered as Python buffers its own."""
    encoding = sys.stdout.encoding if sys.stdout else "utf-8"
    sys.stdin = sys.__stdin__ = open(0, encoding=encoding, closefd=False)  # noqa: SIM115 - lives with the process
    sys.stdout = sys.__stdout__ = open(1, "w", buffering=1 if os.isatty(1) else -1, encoding=encoding,  # noqa: SIM115
                                       closefd=False)
    sys.stderr = sys.__stderr__ = open(2, "w", buffering=1, encoding=encoding, errors="backslashreplace",  # noqa: SIM115
                                       closefd=False)


def become_stage(request: dict[str, Any], fds: list[int]) -> int:
    """In the forked child: take the stage's streams, folder, environment and argv, run its script; its status."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        if fd > 2:
            os.close(fd)
    _reopen_standard_streams()
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(logging.WARNING)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    os.environ.pop(ENV_SOCKET, None)  # what the stage starts runs cold
    script = request["script"]
    sys.argv = list(request["argv"])
    sys.path[0] = os.path.dirname(script)
    return run_script(script)


@dataclass
class StageServer:
    """Accepts stage requests on a Unix socket and runs each in a child forked from this (preloaded) process."""

    address: Path
    parent_pid: int | None = None
    snapshot: dict[str, FileState] = field(default_factory=dict)
    identity: dict[str, Any] = field(default_factory=fingerprint)
    served: int = 0
    _children: dict[int, socket.socket] = field(default_factory=dict)
    _stopping: bool = False

    def listen(self) -> socket.socket:
        """Bind the socket (clients may connect at once; they wait until `serve` accepts)."""
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(str(self.address))
        except OSError as exc:
            listener.close()
            raise GeihError(f"stage server: cannot listen at {self.address}: {exc}") from exc
        listener.listen(16)
        return listener

    def serve(self, listener: socket.socket) -> None:
        """Serve until SIGTERM/SIGINT or until the parent process (the launcher) is gone. In a forked child this
        raises SystemExit with the stage's status instead of returning."""
        if threading.active_count() > 1:
            raise GeihError(f"stage server: imports started threads ({[t.name for t in threading.enumerate()]}); "
                            "forking would be unsafe")
        me = os.getpid()
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_r, False)
        os.set_blocking(wake_w, False)
        old_wakeup = signal.set_wakeup_fd(wake_w)
        handlers = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT)}
        selector = selectors.DefaultSelector()
        selector.register(listener, selectors.EVENT_READ, "accept")
        selector.register(wake_r, selectors.EVENT_READ, "wake")
        try:
            while not self._stopping:
                for key, _ in selector.select(timeout=1.0):
                    if key.data == "accept":
                        self._accept(listener, selector, wake_fds=(wake_r, wake_w))
                    elif key.data == "wake":
                        with contextlib.suppress(BlockingIOError):
                            while os.read(wake_r, 512):
                                pass
                    else:
                        self._client_event(key, selector)
                self._reap(selector)
                if self.parent_pid is not None and os.getppid() != self.parent_pid:
                    log.warning("stage server: the process that started it is gone; stopping")
                    break
        finally:
            if os.getpid() == me:
                for pid in list(self._children):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGTERM)
                self._reap(selector, block=True)
                signal.set_wakeup_fd(old_wakeup)
                for sig, handler in handlers.items():
                    signal.signal(sig, handler)
                selector.close()
                os.close(wake_r)
                os.close(wake_w)

    def _on_signal(self, signum: int, _frame: object) -> None:
        if signum != signal.SIGCHLD:
            self._stopping = True

    def _accept(self, listener: socket.socket, selector: selectors.BaseSelector, wake_fds: tuple[int, int]) -> None:
        conn, _ = listener.accept()
        conn.settimeout(REQUEST_TIMEOUT_S)
        try:
            request, fds = recv_message(conn)
        except (OSError, ProtocolError) as exc:
            log.warning("stage server: a malformed request (%s)", exc)
            conn.close()
            return
        reason = self._decline_reason(request, fds)
        if reason:
            self._decline(conn, fds, request.get("script"), reason)
            return
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            pid = os.fork()
        except OSError as exc:
            self._decline(conn, fds, request["script"], f"the server cannot fork ({exc})")
            return
        if pid == 0:  # the stage: none of the server's sockets, pipes or signal handlers
            signal.set_wakeup_fd(-1)
            for sig in (signal.SIGCHLD, signal.SIGTERM):
                signal.signal(sig, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            for sock in (conn, listener, *self._children.values()):
                sock.close()
            selector.close()
            for fd in wake_fds:
                os.close(fd)
            raise SystemExit(become_stage(request, fds))
        for fd in fds:
            os.close(fd)
        self.served += 1
        log.debug("stage server: %s → pid %d", " ".join(request["argv"]), pid)
        try:
            send_message(conn, {"pid": pid})
        except OSError:
            os.kill(pid, signal.SIGTERM)
        conn.settimeout(None)
        self._children[pid] = conn
        selector.register(conn, selectors.EVENT_READ, pid)

    @staticmethod
    def _decline(conn: socket.socket, fds: list[int], script: object, reason: str) -> None:
        """Tell the client to run the stage itself, and let go of its streams."""
        log.warning("stage server: declined %s: %s", script, reason)
        with contextlib.suppress(OSError):
            send_message(conn, {"declined": reason})
        for fd in fds:
            os.close(fd)
        conn.close()

    def _decline_reason(self, request: dict[str, Any], fds: list[int]) -> str | None:
        if len(fds) != 3:
            return f"expected the stage's 3 standard streams, got {len(fds)} file descriptors"
        for key in ("script", "argv", "cwd", "env", "fingerprint"):
            if key not in request:
                return f"the request has no {key!r}"
        if not os.path.isfile(request["script"]):
            return f"{request['script']}: no such file"
        reason = mismatch(request["fingerprint"], self.identity)
        if reason:
            return reason
        changed = changed_files(self.snapshot)
        if changed:
            return f"{len(changed)} file(s) it imported changed since it started (e.g. {changed[0]}); restart it"
        return None

    def _client_event(self, key: selectors.SelectorKey, selector: selectors.BaseSelector) -> None:
        """A stage's client sent nothing but EOF: it was killed, so its stage is stopped too."""
        conn: socket.socket = key.fileobj  # type: ignore[assignment]
        try:
            data = conn.recv(1, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            selector.unregister(conn)
            with contextlib.suppress(ProcessLookupError):
                os.kill(key.data, signal.SIGTERM)
            log.warning("stage server: the client of pid %d went away; stopped the stage", key.data)

    def _reap(self, selector: selectors.BaseSelector, block: bool = False) -> None:
        while self._children:
            try:
                pid, status = os.waitpid(-1, 0 if block else os.WNOHANG)
            except ChildProcessError:
                self._children.clear()
                return
            if pid == 0:
                return
            conn = self._children.pop(pid, None)
            if conn is None:
                continue
            with contextlib.suppress(KeyError, ValueError):
                selector.unregister(conn)
            with contextlib.suppress(OSError):
                send_message(conn, {"status": exit_status(status)})
            conn.close()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Serve stage runs from one preloaded process (see geih warm).")
    ap.add_argument("--socket", required=True, type=Path, help="the Unix socket to listen on (must not exist)")
    ap.add_argument("--parent", type=int, help="stop when this process (the launcher) is gone")
    ap.add_argument("--preload", help="comma-separated modules to import (default: the stage libraries)")
    ap.add_argument("--scripts", type=Path, default=Path("stages"),
                    help="folder of stage scripts whose imports to preload (default: ./stages)")
    args = ap.parse_args(argv)
    if args.socket.exists():
        raise GeihError(f"{args.socket}: already exists (another stage server?)")
    server = StageServer(args.socket, parent_pid=args.parent)
    listener = server.listen()
    me = os.getpid()
    try:
        started = time.perf_counter()
        modules = DEFAULT_PRELOAD if args.preload is None else [m for m in args.preload.split(",") if m]
        scripts = sorted(args.scripts.glob("*.py")) if args.scripts.is_dir() else []
        failed = preload(list(modules), scripts)
        for line in failed:
            log.warning("stage server: not preloaded: %s", line)
        server.snapshot = module_files()
        gc.collect()
        gc.freeze()  # the preloaded objects: never scanned by a stage's collections, their pages stay shared
        log.info("stage server ready at %s: %d modules imported in %.1f s", args.socket, len(sys.modules),
                 time.perf_counter() - started)
        server.serve(listener)
    finally:
        if os.getpid() == me:
            listener.close()
            with contextlib.suppress(FileNotFoundError):
                args.socket.unlink()
            log.info("stage server stopped after %d stage(s)", server.served)


if __name__ == "__main__":
    from geih.stage import run_main

    sys.exit(run_main(main))
