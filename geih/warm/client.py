"""The stage side of `geih warm`: hand this stage run to the warm server and exit with its status, or return
at once (no server, or one that declines) so the stage runs in its own process. Standard library only."""

from __future__ import annotations

import os
import signal
import socket
import sys

from geih.warm.protocol import (
    ENV_SOCKET,
    FORWARDED_SIGNALS,
    ProtocolError,
    fingerprint,
    recv_message,
    send_message,
)

CONNECT_TIMEOUT_S = 5.0


class Declined(Exception):
    """The stage server cannot run this stage (none there, another interpreter, stale code): run it here."""


def _say(message: str) -> None:
    sys.stderr.write(f"geih warm: {message}\n")
    sys.stderr.flush()


def run_on_warm_server(script: str) -> None:
    """When `geih warm` started a stage server (GEIH_STAGE_SERVER names its socket), run `script` with this
    process's argv, working folder, environment and standard streams in a process forked from it, then exit
    with that process's status. Returns at once when there is no server, and when the server declines."""
    address = os.environ.get(ENV_SOCKET)
    if not address:
        return
    try:
        status = delegate(address, script, sys.argv)
    except Declined as exc:
        _say(f"{exc}; running {script} in its own process")
        return
    sys.exit(status)


def _connect(address: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(CONNECT_TIMEOUT_S)
    try:
        sock.connect(address)
    except OSError as exc:
        sock.close()
        raise Declined(f"no stage server answers at {address} ({exc.strerror or exc})") from exc
    sock.settimeout(None)  # the server may still be importing: the first reply waits for that
    return sock


def delegate(address: str, script: str, argv: list[str]) -> int:
    """Run `script` on the server at `address`; its exit status (128 + N when signal N ended it). Raises
    Declined before anything ran; once the stage has started, a lost server is a failed stage (status 1)."""
    sock = _connect(address)
    with sock:
        request = {"script": os.path.abspath(script), "argv": list(argv), "cwd": os.getcwd(),
                   "env": dict(os.environ), "fingerprint": fingerprint()}
        try:
            send_message(sock, request, fds=[0, 1, 2])
            reply, _ = recv_message(sock)
        except (OSError, ProtocolError) as exc:
            raise Declined(f"the stage server at {address} did not take the stage ({exc})") from exc
        if "declined" in reply:
            raise Declined(f"the stage server declined: {reply['declined']}")
        pid = int(reply["pid"])
        previous = {sig: signal.signal(sig, _forward_to(pid)) for sig in FORWARDED_SIGNALS}
        try:
            final, _ = recv_message(sock)
        except (OSError, ProtocolError) as exc:
            _kill(pid, signal.SIGTERM)
            _say(f"the stage server went away while running {script} (pid {pid}, {exc}): failing the stage")
            return 1
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return int(final["status"])


def _forward_to(pid: int):
    def forward(signum: int, _frame: object) -> None:
        _kill(pid, signum)
    return forward


def _kill(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass
