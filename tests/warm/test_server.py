"""The warm stage server end to end: real server and client processes on a Unix socket in a temporary folder."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from geih.warm.launch import start_server, stop_server

pytestmark = pytest.mark.pipeline  # starts server processes

# A stage script as the real ones are written: it hands itself to the server before anything else.
PROBE = '''
import os, sys, time
from geih.warm.client import run_on_warm_server

if __name__ == "__main__":
    run_on_warm_server(__file__)

print("ran in", os.getpid(), "argv", sys.argv[1:], "cwd", os.getcwd(), "X", os.environ.get("X"),
      "server", os.environ.get("GEIH_STAGE_SERVER"), flush=True)
sys.stderr.write("a line on stderr\\n")
mode = sys.argv[1]
if mode == "raise":
    raise ValueError("broken stage")
if mode == "stdin":
    print("read", sys.stdin.read().strip())
if mode in ("sleep", "stubborn"):
    if mode == "stubborn":
        __import__("signal").signal(__import__("signal").SIGTERM, __import__("signal").SIG_IGN)
    Path = __import__("pathlib").Path
    Path(sys.argv[2]).write_text(str(os.getpid()))
    time.sleep(60)
sys.exit(int(mode) if mode.isdigit() else 0)
'''


@pytest.fixture
def probe(tmp_path: Path) -> Path:
    script = tmp_path / "stages" / "probe.py"
    script.parent.mkdir()
    script.write_text(PROBE)
    return script


@pytest.fixture
def server(tmp_path: Path):
    """A stage server preloading `json` only (no stage scripts), stopped by PID afterwards."""
    address = tmp_path / "s.sock"
    proc = start_server(address, preload="json", scripts=tmp_path / "no-scripts")
    yield address, proc
    assert stop_server(proc) == 0
    assert not address.exists()


def client(script: Path, *args: str, address: Path | None, env: dict | None = None, **kwargs) -> subprocess.Popen:
    full_env = {k: v for k, v in os.environ.items() if k != "GEIH_STAGE_SERVER"}
    full_env["X"] = "from the client"
    if address is not None:
        full_env["GEIH_STAGE_SERVER"] = str(address)
    full_env.update(env or {})
    return subprocess.Popen([sys.executable, str(script), *args], cwd=script.parent.parent, env=full_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def finished(proc: subprocess.Popen, stdin: str | None = None, timeout: float = 60) -> tuple[int, str, str]:
    out, err = proc.communicate(stdin, timeout=timeout)
    return proc.returncode, out, err


def ran_in(out: str) -> int:
    return int(out.split()[2])


@pytest.mark.parametrize("status", [0, 3])
def test_a_stage_runs_in_a_fork_of_the_server_with_its_own_argv_cwd_env_and_streams(server, probe, status):
    address, proc = server
    stage = client(probe, str(status), address=address)
    code, out, err = finished(stage)
    assert code == status
    pid = ran_in(out)
    assert pid not in (stage.pid, proc.pid)  # neither the client nor the server itself
    assert f"argv ['{status}'] cwd {probe.parent.parent} X from the client server None" in out
    assert "a line on stderr" in err and "geih warm" not in err


def test_standard_input_reaches_the_stage(server, probe):
    address, _ = server
    code, out, _ = finished(client(probe, "stdin", address=address, stdin=subprocess.PIPE), "hello stage")
    assert code == 0 and "read hello stage" in out


def test_an_uncaught_exception_is_a_traceback_and_status_1(server, probe):
    address, _ = server
    code, _, err = finished(client(probe, "raise", address=address))
    assert code == 1
    assert "Traceback" in err and "ValueError: broken stage" in err


def test_two_stages_at_once(server, probe):
    address, _ = server
    stages = [client(probe, str(n), address=address) for n in (5, 6)]
    assert [finished(s)[0] for s in stages] == [5, 6]


def test_without_a_server_the_stage_runs_in_its_own_process(tmp_path, probe):
    stage = client(probe, "0", address=None)
    code, out, err = finished(stage)
    assert code == 0 and ran_in(out) == stage.pid and err == "a line on stderr\n"


def test_an_unreachable_server_is_said_and_the_stage_runs_here(tmp_path, probe):
    stage = client(probe, "4", address=tmp_path / "gone.sock")
    code, out, err = finished(stage)
    assert code == 4 and ran_in(out) == stage.pid
    assert f"geih warm: no stage server answers at {tmp_path / 'gone.sock'}" in err
    assert "running" in err and "in its own process" in err


def test_another_hash_seed_is_declined(server, probe):
    address, _ = server
    seed = os.environ.get("PYTHONHASHSEED")
    other = "1" if seed != "1" else "2"
    stage = client(probe, "0", address=address, env={"PYTHONHASHSEED": other})
    code, out, err = finished(stage)
    assert code == 0 and ran_in(out) == stage.pid
    assert f"the stage server declined: environment variable PYTHONHASHSEED is '{other}' in the stage" in err


def test_an_edited_preloaded_module_is_declined(tmp_path, probe, monkeypatch):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "warm_probe_lib.py").write_text("VALUE = 1\n")
    monkeypatch.setenv("PYTHONPATH", str(lib))  # server and client alike
    address = tmp_path / "p.sock"
    proc = start_server(address, preload="warm_probe_lib", scripts=tmp_path / "no-scripts")
    try:
        code, out, _ = finished(client(probe, "0", address=address))
        assert code == 0  # served (the fork)
        time.sleep(0.01)
        (lib / "warm_probe_lib.py").write_text("VALUE = 2  # edited\n")
        stage = client(probe, "0", address=address)
        code, out, err = finished(stage)
        assert code == 0 and ran_in(out) == stage.pid
        assert "file(s) it imported changed since it started" in err and "warm_probe_lib.py" in err
    finally:
        stop_server(proc)


def _wait_gone(pid: int, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def _stage_pid(pid_file: Path, timeout: float = 20.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pid_file.exists() and pid_file.read_text():
            return int(pid_file.read_text())
        time.sleep(0.05)
    raise AssertionError("the stage did not start")


def test_a_signal_to_the_client_reaches_the_stage(server, probe, tmp_path):
    address, _ = server
    stage = client(probe, "sleep", str(tmp_path / "pid"), address=address)
    pid = _stage_pid(tmp_path / "pid")
    assert pid != stage.pid
    stage.send_signal(signal.SIGTERM)
    code, _, _ = finished(stage)
    assert code == 128 + signal.SIGTERM
    assert _wait_gone(pid)


def test_a_killed_client_stops_its_stage(server, probe, tmp_path):
    address, _ = server
    stage = client(probe, "sleep", str(tmp_path / "pid"), address=address)
    pid = _stage_pid(tmp_path / "pid")
    stage.kill()
    stage.communicate(timeout=30)
    assert _wait_gone(pid)


def test_the_server_stops_when_its_launcher_is_gone(tmp_path):
    launcher = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from geih.warm.launch import start_server;"
         "p = start_server(Path(sys.argv[1]), preload='json', scripts=Path(sys.argv[2])); print(p.pid, flush=True);"
         "time.sleep(60)", str(tmp_path / "l.sock"), str(tmp_path / "none")],
        stdout=subprocess.PIPE, text=True)
    server_pid = int(launcher.stdout.readline())
    launcher.kill()
    launcher.wait()
    assert _wait_gone(server_pid)
    assert not (tmp_path / "l.sock").exists()


def geih_warm(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "GEIH_STAGE_SERVER"}
    return subprocess.run([sys.executable, "-m", "geih.cli", "warm", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_geih_warm_runs_the_command_with_a_server_and_stops_it(tmp_path, probe):
    done = geih_warm("--preload", "json", "--", "bash", "-c",
                     f"{sys.executable} stages/probe.py 7; echo status $? server $GEIH_STAGE_SERVER", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    address = done.stdout.split("server ")[-1].strip()
    assert "status 7" in done.stdout and "server None" in done.stdout  # the stage itself does not see it
    assert "stage server ready" in done.stderr and "stopped after 1 stage(s)" in done.stderr
    assert not Path(address).exists() and not Path(address).parent.exists()


def test_geih_warm_returns_the_command_status(tmp_path):
    assert geih_warm("--preload", "json", "--", "bash", "-c", "exit 9", cwd=tmp_path).returncode == 9


@pytest.mark.parametrize("args, message", [
    ((), "give the command to run after `--`"),
    (("--", "no-such-command-xyz"), "command not found: no-such-command-xyz"),
])
def test_geih_warm_errors(tmp_path, args, message):
    done = geih_warm("--preload", "json", *args, cwd=tmp_path)
    assert done.returncode == 2 and message in done.stderr


def test_a_server_killed_mid_stage_fails_every_running_stage_at_once(tmp_path, probe):
    """The second stage ignores SIGTERM and outlives its client: it must not hold the first stage's connection
    open (a fork closes its siblings' connections), or the first client would wait for it."""
    address = tmp_path / "k.sock"
    proc = start_server(address, preload="json", scripts=tmp_path / "no-scripts")
    first = client(probe, "sleep", str(tmp_path / "pid1"), address=address)
    first_pid = _stage_pid(tmp_path / "pid1")
    second = client(probe, "stubborn", str(tmp_path / "pid2"), address=address)
    second_pid = _stage_pid(tmp_path / "pid2")
    proc.kill()
    proc.wait()
    try:
        code, _, err = finished(first, timeout=20)  # the stubborn stage sleeps 60 s
        assert code == 1 and "the stage server went away while running" in err
        assert _wait_gone(first_pid)
        assert second.wait(timeout=30) == 1  # its output pipes stay open while its stubborn stage lives
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(second_pid, signal.SIGKILL)
    assert "the stage server went away while running" in finished(second)[2]


def test_geih_warm_without_a_server_still_runs_the_command(tmp_path, probe):
    """A socket path over the AF_UNIX limit (a long TMPDIR): the server cannot listen, the stages run cold."""
    deep = tmp_path / ("d" * 120)
    deep.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "GEIH_STAGE_SERVER"}
    done = subprocess.run([sys.executable, "-m", "geih.cli", "warm", "--preload", "json", "--", sys.executable,
                           "stages/probe.py", "6"], cwd=tmp_path, env={**env, "TMPDIR": str(deep)},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 6 and "server None" in done.stdout
    assert "stage server: cannot listen at" in done.stderr
    assert "running the command without a stage server" in done.stderr
    assert list(deep.iterdir()) == []  # its socket folder removed


def test_geih_warm_inside_geih_warm_shares_the_outer_server(tmp_path):
    inner = f"{sys.executable} -m geih.cli warm --preload json -- bash -c 'echo inner $GEIH_STAGE_SERVER'"
    done = geih_warm("--preload", "json", "--", "bash", "-c", f"echo outer $GEIH_STAGE_SERVER; {inner}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    outer, inner_line = done.stdout.split("\n")[:2]
    assert outer.split()[1] == inner_line.split()[1]  # the same socket
    assert done.stderr.count("stage server ready") == 1
