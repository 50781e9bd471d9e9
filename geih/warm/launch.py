"""`geih warm -- COMMAND`: run COMMAND (`dvc repro`, `dvc exp run …`) with a warm stage server beside it, then
stop the server by its PID. The stage scripts find it through GEIH_STAGE_SERVER."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from geih.errors import GeihError
from geih.warm.protocol import ENV_SOCKET

log = logging.getLogger("geih.warm")

LISTEN_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


def start_server(address: Path, preload: str | None = None, scripts: Path | None = None) -> subprocess.Popen:
    """Start `python -m geih.warm.server` on `address` in its own session (a Ctrl-C at the terminal reaches the
    stages through their clients, not the server) and wait until it listens."""
    cmd = [sys.executable, "-m", "geih.warm.server", "--socket", str(address), "--parent", str(os.getpid())]
    if preload is not None:
        cmd += ["--preload", preload]
    if scripts is not None:
        cmd += ["--scripts", str(scripts)]
    server = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + LISTEN_TIMEOUT_S
    while not address.exists():
        if server.poll() is not None:
            raise GeihError(f"geih warm: the stage server exited with status {server.returncode} before listening")
        if time.monotonic() > deadline:
            stop_server(server)
            raise GeihError(f"geih warm: the stage server did not listen at {address} within {LISTEN_TIMEOUT_S:.0f} s")
        time.sleep(0.02)
    return server


def stop_server(server: subprocess.Popen) -> int:
    """SIGTERM the server by its PID, SIGKILL it if it has not stopped after STOP_TIMEOUT_S; its exit status."""
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return server.returncode


def run_command(command: list[str], env: dict[str, str]) -> int:
    """Run `command` in the foreground; SIGINT is left to it (as a shell does), its status as a shell gives it."""
    try:
        proc = subprocess.Popen(command, env=env)
    except FileNotFoundError as exc:
        raise GeihError(f"geih warm: command not found: {command[0]}") from exc
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        returncode = proc.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
    return 128 - returncode if returncode < 0 else returncode


def run_warm(command: list[str], preload: str | None = None) -> int:
    """Run `command` with a stage server; its exit status. The server and its socket folder are gone after."""
    if not command:
        raise GeihError("geih warm: give the command to run after `--`, e.g. `geih warm -- dvc repro`")
    if os.environ.get(ENV_SOCKET):
        return run_command(command, dict(os.environ))  # already inside `geih warm`: share that server
    folder = Path(tempfile.mkdtemp(prefix="geih-warm-"))
    address = folder / "stages.sock"
    try:
        try:
            server = start_server(address, preload)
        except GeihError as exc:  # the command itself still runs, with every stage cold
            log.warning("%s; running the command without a stage server", exc)
            return run_command(command, dict(os.environ))
        try:
            return run_command(command, {**os.environ, ENV_SOCKET: str(address)})
        finally:
            stop_server(server)
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(folder)
