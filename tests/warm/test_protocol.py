"""The warm stage server's wire format and the pure helpers of client and server."""

from __future__ import annotations

import importlib
import os
import signal
import socket
import sys
import threading

import pytest

from geih.warm.protocol import (
    MAX_MESSAGE_BYTES,
    ProtocolError,
    exit_status,
    fingerprint,
    recv_message,
    send_message,
)
from geih.warm.server import changed_files, exit_code, mismatch, module_files


def test_a_message_and_its_file_descriptors_arrive_intact():
    a, b = socket.socketpair()
    read_end, write_end = os.pipe()
    with a, b:
        send_message(a, {"argv": ["x", "é"], "n": 3}, fds=[write_end])
        message, fds = recv_message(b)
    assert message == {"argv": ["x", "é"], "n": 3}
    assert len(fds) == 1 and fds[0] != write_end
    os.write(fds[0], b"through the copy")
    assert os.read(read_end, 100) == b"through the copy"
    for fd in (*fds, read_end, write_end):
        os.close(fd)


def test_a_message_without_descriptors():
    a, b = socket.socketpair()
    with a, b:
        send_message(a, {"status": 0})
        assert recv_message(b) == ({"status": 0}, [])


@pytest.mark.parametrize("raw, error", [
    (b"", "connection closed"),
    ((MAX_MESSAGE_BYTES + 1).to_bytes(4, "big"), "over the"),
    ((7).to_bytes(4, "big") + b"[1,2,3]", "expected a JSON object"),
    ((9).to_bytes(4, "big") + b"not json!", "Expecting value"),
    ((50).to_bytes(4, "big") + b"{}", "closed after"),
])
def test_a_malformed_message_is_a_protocol_error(raw: bytes, error: str):
    a, b = socket.socketpair()
    with a, b:
        a.sendall(raw)
        a.shutdown(socket.SHUT_WR)
        with pytest.raises(ProtocolError, match=error):
            recv_message(b)


def _wait_status_of(action) -> int:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        action()
        os._exit(0)
    return os.waitpid(pid, 0)[1]


def test_exit_status_is_what_a_shell_reports():
    assert exit_status(_wait_status_of(lambda: os._exit(3))) == 3
    assert exit_status(_wait_status_of(lambda: os.kill(os.getpid(), signal.SIGTERM))) == 128 + signal.SIGTERM
    assert exit_status(_wait_status_of(lambda: None)) == 0


@pytest.mark.parametrize("code, status", [(None, 0), (0, 0), (4, 4), ("a message", 1)])
def test_exit_code_follows_python(code, status, capsys):
    assert exit_code(code) == status
    assert capsys.readouterr().err == ("a message\n" if code == "a message" else "")


def test_fingerprint_covers_interpreter_and_import_time_environment():
    ours = fingerprint({"PYTHONHASHSEED": "0"})
    assert ours["executable"] == os.path.realpath(sys.executable)
    assert ours["env"]["PYTHONHASHSEED"] == "0" and ours["env"]["OMP_NUM_THREADS"] is None
    assert mismatch(fingerprint({"PYTHONHASHSEED": "0"}), ours) is None
    assert "PYTHONHASHSEED is '1' in the stage and '0' in the server" in mismatch(
        fingerprint({"PYTHONHASHSEED": "1"}), ours)
    assert "OMP_NUM_THREADS" in mismatch(fingerprint({"PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"}), ours)
    assert "differs from the server's (executable)" in mismatch({**ours, "executable": "/other/python"}, ours)
    assert "(prefix)" in mismatch({**ours, "prefix": "/another/venv"}, ours)  # a venv's python is a symlink


def test_changed_files_names_edited_and_removed_modules(tmp_path, monkeypatch):
    for name in ("warm_probe_a", "warm_probe_b"):
        (tmp_path / f"{name}.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("warm_probe_a", "warm_probe_b"):
        monkeypatch.delitem(sys.modules, name, raising=False)
        importlib.import_module(name)
        monkeypatch.setitem(sys.modules, name, sys.modules[name])  # removed again after the test
    snapshot = module_files()
    assert {str(tmp_path / "warm_probe_a.py"), str(tmp_path / "warm_probe_b.py")} <= set(snapshot)
    assert changed_files(snapshot) == []
    (tmp_path / "warm_probe_a.py").write_text("VALUE = 22\n")
    (tmp_path / "warm_probe_b.py").unlink()
    assert sorted(changed_files(snapshot)) == [str(tmp_path / "warm_probe_a.py"), str(tmp_path / "warm_probe_b.py")]


def test_a_server_whose_imports_started_a_thread_refuses_to_serve(tmp_path):
    from geih.errors import GeihError
    from geih.warm.server import StageServer

    server = StageServer(tmp_path / "t.sock")
    listener = server.listen()
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait, name="started-by-an-import")
    worker.start()
    try:
        with pytest.raises(GeihError, match="started-by-an-import.*forking would be unsafe"):
            server.serve(listener)
    finally:
        stop.set()
        worker.join()
        listener.close()
