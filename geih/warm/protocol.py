"""The stage server's wire format: length-prefixed JSON messages over a Unix socket, file descriptors beside
them (SCM_RIGHTS). Standard library only: the client side runs before any heavy import."""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import sys
from typing import Any

ENV_SOCKET = "GEIH_STAGE_SERVER"
# environment read once, when a library is loaded: a stage may only fork from a server that saw the same values
IMPORT_TIME_ENV = ("PYTHONHASHSEED", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "PYTHONWARNINGS",
                   "PYTHONPATH")
_HEADER = struct.Struct("!I")
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
MAX_FDS = 3


class ProtocolError(ConnectionError):
    """The peer closed the connection or sent something that is not a message."""


def send_message(sock: socket.socket, message: dict[str, Any], fds: list[int] | None = None) -> None:
    """Send one JSON message (and, with the first byte, the file descriptors `fds`)."""
    body = json.dumps(message).encode()
    data = _HEADER.pack(len(body)) + body
    sent = socket.send_fds(sock, [data], fds) if fds else sock.send(data)
    if sent < len(data):
        sock.sendall(data[sent:])


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks, got = [], 0
    while got < size:
        chunk = sock.recv(size - got)
        if not chunk:
            raise ProtocolError(f"connection closed after {got} of {size} bytes")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def recv_message(sock: socket.socket) -> tuple[dict[str, Any], list[int]]:
    """One message and the file descriptors that came with it; ProtocolError on EOF or a malformed message."""
    data, fds, _flags, _addr = socket.recv_fds(sock, _HEADER.size, MAX_FDS)
    if not data:
        raise ProtocolError("connection closed")
    try:
        head = data + _recv_exact(sock, _HEADER.size - len(data))
        (size,) = _HEADER.unpack(head)
        if size > MAX_MESSAGE_BYTES:
            raise ProtocolError(f"message of {size} bytes is over the {MAX_MESSAGE_BYTES}-byte limit")
        message = json.loads(_recv_exact(sock, size))
        if not isinstance(message, dict):
            raise ProtocolError(f"expected a JSON object, got {type(message).__name__}")
    except (ProtocolError, ValueError) as exc:
        for fd in fds:
            os.close(fd)
        raise ProtocolError(str(exc)) from exc
    return message, fds


def fingerprint(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """What a forked stage inherits from the server rather than from its own start: the interpreter, its flags
    and the environment libraries read when they are loaded. Server and client must agree on all of it."""
    env = os.environ if environ is None else environ
    return {"executable": os.path.realpath(sys.executable), "prefix": sys.prefix, "version": sys.version, "flags": list(sys.flags),
            "warnoptions": list(sys.warnoptions), "env": {k: env.get(k) for k in IMPORT_TIME_ENV}}


def exit_status(wait_status: int) -> int:
    """A waitpid status as a shell reports it: the exit code, or 128 + the signal that killed the process."""
    if os.WIFSIGNALED(wait_status):
        return 128 + os.WTERMSIG(wait_status)
    return os.waitstatus_to_exitcode(wait_status)


FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
