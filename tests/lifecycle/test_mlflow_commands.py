"""Every MLflow command of README.md and docs/mlflow.md runs as written — from the repo root and from a
sub-folder — against a temporary repo whose store holds a `geih-fire-risk@champion`, and none leaves a
stray store (`mlflow.db`, `mlruns/`, `mlartifacts/`) in the folder it ran from.

Servers (`mlflow ui`, `mlflow server`, `mlflow models serve`) are started on a free loopback port (the
documented port swapped), checked, and stopped by process group."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from geih.lifecycle import tracking
from geih.lifecycle.registry import register_model
from tests.conftest import REPO_ROOT
from tests.lifecycle.support import ENV_KEYS, REGISTER, fit_and_save, write_features
from tests.pipeline.mlflow_support import LEAN_SERVER_ENV, free_port, loopback_server

pytestmark = pytest.mark.pipeline

DOCS = ("README.md", "docs/mlflow.md")
# server command → the path that answers 200 once it is ready
SERVERS = {"mlflow ui": "/health", "mlflow server": "/health", "mlflow models serve": "/ping"}
FOLDERS = (".", "stages")


def code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def shell_lines(block: str) -> list[str]:
    """Commands of a bash block: continuation lines joined, trailing comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", block)
    lines = [re.sub(r"\s+#\s.*$", "", line).strip() for line in joined.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def is_mlflow_command(line: str) -> bool:
    return bool(re.search(r"(^|&&\s*|\s)mlflow\s", line)) or "import mlflow" in line


def documented() -> list[tuple[str, str, str]]:
    """(doc, kind 'bash'|'python', command) of every MLflow command in the docs (a command shown in
    both documents is run once)."""
    out: dict[str, tuple[str, str, str]] = {}
    for doc in DOCS:
        text = (REPO_ROOT / doc).read_text(encoding="utf-8")
        for block in code_blocks(text, "bash"):
            for line in shell_lines(block):
                if is_mlflow_command(line):
                    out.setdefault(line, (doc, "bash", line))
        for block in code_blocks(text, "python"):
            if "import mlflow" in block:
                out.setdefault(block, (doc, "python", block))
    return list(out.values())


COMMANDS = documented()
# (command, folder) pairs to run: every command from a sub-folder, and from the repo root every command
# whose outcome could depend on the folder (`mlflow server` names absolute paths only: once is enough).
RUNS = [(*c, folder) for c in COMMANDS for folder in FOLDERS
        if folder != "." or "mlflow server" not in c[2]]


def test_the_docs_show_the_commands_users_need():
    shown = " ".join(command for _, _, command in COMMANDS)
    for needed in ("mlflow ui", "mlflow.pyfunc.load_model", "mlflow models serve", "mlflow server"):
        assert needed in shown, needed
    for doc in DOCS:
        assert any(d == doc for d, _, _ in COMMANDS), doc
    assert {c for _, _, c, f in RUNS if f == "stages"} == {c for _, _, c in COMMANDS}


@pytest.fixture(scope="module")
def docs_repo(tmp_path_factory) -> Path:
    """A repo folder (dvc.yaml, stages/, data/features/fire_risk) whose store has a champion."""
    root = tmp_path_factory.mktemp("mlflow_commands") / "repo"
    (root / "stages").mkdir(parents=True)
    (root / "dvc.yaml").write_text("stages: {}\n")
    features = write_features(root / "data" / "features" / "fire_risk", task="fire_risk")
    import mlflow
    from mlflow import MlflowClient

    with pytest.MonkeyPatch.context() as mp:
        for key in ENV_KEYS:
            mp.delenv(key, raising=False)
        mp.chdir(root)
        model, path = fit_and_save(root, "model", model_name="xgboost")
        with tracking.stage_run("register", "fire_risk", {}) as run:
            from geih.lifecycle.registry import log_model_from_file

            source = log_model_from_file(path, features)
            record = register_model(MlflowClient(), "fire_risk", run.info.experiment_id, tracking.file_sha256(path),
                                    {"roc_auc": 0.8}, REGISTER, {}, root, log_model=lambda: source)
        mlflow.set_tracking_uri(None)
    assert record["alias"] == "champion"
    return root


def command_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS and not k.startswith("MLFLOW_")}
    env.update({"MLFLOW_DISABLE_TELEMETRY": "true", "DVC_NO_ANALYTICS": "1", "HOME": str(home), **LEAN_SERVER_ENV,
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))})
    return env


def listing(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def server_kind(command: str) -> str | None:
    return next((kind for kind in SERVERS if kind in command), None)


@pytest.mark.parametrize("doc,kind,command,folder", RUNS, ids=[f"{f}:{c[:60]}" for _, _, c, f in RUNS])
def test_documented_mlflow_command_runs_as_written(docs_repo: Path, tmp_path: Path, folder: str, doc: str,
                                                   kind: str, command: str):
    cwd = docs_repo / folder
    env = command_env(tmp_path / "home")
    (tmp_path / "home").mkdir()
    before, root_before = listing(cwd), listing(docs_repo)
    server = server_kind(command) if kind == "bash" else None
    if kind == "python":
        result = subprocess.run([sys.executable, "-c", command], cwd=cwd, env=env, capture_output=True, text=True,
                                timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
    elif server is None:
        result = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True,
                                timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
    else:
        port = free_port()
        line = re.sub(r"--port \d+", f"--port {port}", command)
        assert line != command, "a documented server command names its port"
        base = f"http://127.0.0.1:{port}"
        with loopback_server(["bash", "-c", line], base + SERVERS[server], cwd, env, tmp_path / "server.log"):
            if server == "mlflow ui":  # it shows the project's store, with the registered model
                url = f"{base}/api/2.0/mlflow/registered-models/get?name=geih-fire-risk"
                with urllib.request.urlopen(url, timeout=30) as response:
                    aliases = json.loads(response.read())["registered_model"]["aliases"]
                assert {a["alias"] for a in aliases} == {"champion"}
            if server == "mlflow models serve":  # it serves the champion
                body = json.dumps({"dataframe_split": {"columns": ["a", "b", "c", "d"],
                                                       "data": [[0.1, None, 0.3, -1.0]]}}).encode()
                request = urllib.request.Request(f"{base}/invocations", data=body,
                                                 headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=60) as response:
                    assert len(json.loads(response.read())["predictions"][0]) == 2
    assert listing(cwd) == before, f"{command!r} left {listing(cwd) - before} in {cwd}"
    assert listing(docs_repo) == root_before
    assert not (docs_repo / "stages" / "mlflow.db").exists() and not (docs_repo / "mlflow.db").exists()
