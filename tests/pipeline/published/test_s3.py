"""The `s3` remote against a real S3-compatible server (SeaweedFS on loopback): push,
wipe the DVC cache and the outputs, pull: every output byte-identical and `dvc status -c` clean;
wrong credentials fail with a clear message and write nothing, neither to the bucket nor the workspace."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.pipeline.mlflow_support import sh
from tests.pipeline.published.conftest import (
    S3Server,
    cache_files,
    cached_outputs,
    clone,
    dvc_outputs,
    outputs_digest,
    s3_env,
    seaweedfs,
    set_local,
    working_copy,
)

pytestmark = pytest.mark.pipeline


@pytest.fixture(scope="module")
def s3(tmp_path_factory) -> S3Server:
    with seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


def wipe(root: Path, outputs: list[str]) -> None:
    shutil.rmtree(root / ".dvc" / "cache", ignore_errors=True)
    for rel in outputs:
        path = root / rel
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)


def test_push_wipe_pull_round_trip(author_repo: Path, s3: S3Server, tmp_path: Path):
    repo = working_copy(author_repo, tmp_path / "repo")
    outputs, cached = dvc_outputs(repo), cached_outputs(repo)
    assert {"models/fire_risk/bundle", "models/deforestation/bundle", "data/raw"} <= set(cached)
    expected = outputs_digest(repo, outputs)

    # Push with credentials from the environment; the endpoint is machine config (.dvc/config.local).
    sh(["dvc", "remote", "modify", "--local", "s3", "endpointurl", s3.endpoint], repo)
    env = s3_env(repo, AWS_ACCESS_KEY_ID=s3.access_key, AWS_SECRET_ACCESS_KEY=s3.secret_key)
    sh(["dvc", "push", "-r", "s3"], repo, env=env)
    keys = s3.keys()
    assert keys and all(k.startswith("dvc/files/md5/") for k in keys), sorted(keys)[:5]
    assert "config.local" not in sh(["git", "status", "--porcelain", "--ignored=no"], repo).stdout

    # Wipe the DVC cache and every cached output; pull with credentials from .dvc/config.local.
    wipe(repo, cached)
    assert not cache_files(repo) and not any((repo / rel).exists() for rel in cached)
    set_local(repo, ("s3", "access_key_id", s3.access_key), ("s3", "secret_access_key", s3.secret_key))
    sh(["dvc", "pull", "-r", "s3"], repo, env=s3_env(repo))
    assert outputs_digest(repo, outputs) == expected
    cloud = sh(["dvc", "status", "-c", "-r", "s3"], repo, env=s3_env(repo)).stdout
    assert "Cache and remote 's3' are in sync" in cloud, cloud
    assert "Data and pipelines are up to date" in sh(["dvc", "status"], repo).stdout


def rejected(stderr: str) -> bool:
    return any(word in stderr for word in ("Forbidden", "403", "SignatureDoesNotMatch", "InvalidAccessKeyId"))


def test_wrong_credentials_fail_clearly_and_write_nothing(author_repo: Path, s3: S3Server, tmp_path: Path):
    cached = cached_outputs(author_repo)
    before = s3.keys()

    # Push of new data with a wrong secret: refused, the bucket unchanged.
    work = clone(author_repo, tmp_path / "work")
    (work / "extra.csv").write_text("a,b\n1,2\n")
    sh(["dvc", "add", "extra.csv"], work)
    set_local(work, ("s3", "endpointurl", s3.endpoint))
    bad_env = s3_env(work, AWS_ACCESS_KEY_ID=s3.access_key, AWS_SECRET_ACCESS_KEY="not-the-secret")
    push = sh(["dvc", "push", "-r", "s3"], work, env=bad_env, check=False)
    assert push.returncode != 0 and rejected(push.stderr), push.stderr
    assert "Traceback" not in push.stderr
    assert s3.keys() == before

    # Pull with a wrong secret into a fresh clone: refused, no output and no cache file appears.
    fresh = clone(author_repo, tmp_path / "clone")
    set_local(fresh, ("s3", "endpointurl", s3.endpoint), ("s3", "access_key_id", s3.access_key),
              ("s3", "secret_access_key", "not-the-secret"))
    pull = sh(["dvc", "pull", "-r", "s3"], fresh, env=s3_env(fresh), check=False)
    assert pull.returncode != 0 and rejected(pull.stderr) and "s3" in pull.stderr, pull.stderr
    assert "Traceback" not in pull.stderr
    assert not any((fresh / rel).exists() for rel in cached)
    assert not cache_files(fresh)
