"""A remote tracking server works unchanged: `mlflow server` (SQLite backend, served artifacts) on
a loopback port, MLFLOW_TRACKING_URI pointing at it, and the train → evaluate → register stages of a
copy of the tiny repo log, store their model and register it there (and not in the local store)."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

from tests.pipeline.mlflow_support import LEAN_SERVER_ENV, copy_repo, env_for, free_port, loopback_server, sh

STAGES = ("train@deforestation", "evaluate@deforestation", "register@deforestation")


@pytest.fixture(scope="module")
def remote(tiny_repo: Path, tmp_path_factory) -> dict:
    """The tiny repo copy after `dvc repro -f -s` of the deforestation stages against a fresh server."""
    base = tmp_path_factory.mktemp("mlflow_remote")
    root = copy_repo(tiny_repo, base / "repo")
    server_dir = base / "server"
    server_dir.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [str(Path(sys.executable).parent / "mlflow"), "server", "--backend-store-uri",
           f"sqlite:///{server_dir}/db.sqlite", "--serve-artifacts", "--artifacts-destination",
           str(server_dir / "artifacts"), "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    local_db = root / "mlflow" / "mlflow.db"
    local_runs = count_runs(local_db)
    with loopback_server(cmd, f"{url}/health", server_dir, env_for(server_dir, **LEAN_SERVER_ENV),
                         base / "server.log"):
        repro = sh(["dvc", "repro", "-f", "-s", *STAGES], root, env=env_for(root, MLFLOW_TRACKING_URI=url))
        code = f"""
import json, mlflow
from mlflow import MlflowClient
mlflow.set_tracking_uri("{url}")
c = MlflowClient()
exp = c.get_experiment_by_name("geih-deforestation")
runs = c.search_runs([exp.experiment_id])
mv = c.get_model_version_by_alias("geih-deforestation", "champion")
import pandas as pd
rows = pd.read_parquet("data/features/deforestation/test.parquet").head(30)
feats = json.load(open("models/deforestation/bundle/model_info.json"))["features"]
proba = mlflow.pyfunc.load_model("models:/geih-deforestation@champion").predict(rows[feats].astype("float64"))
print(json.dumps({{"runs": [{{"tags": r.data.tags, "status": r.info.status, "uri": r.info.artifact_uri}}
                             for r in runs],
                   "version": str(mv.version), "tags": mv.tags, "source": mv.source,
                   "proba": [list(map(float, p)) for p in proba], "features": feats}}))
"""
        seen = json.loads(sh([sys.executable, "-c", code], root, env=env_for(root)).stdout)
    return {"root": root, "server_dir": server_dir, "seen": seen, "log": repro.stdout + repro.stderr,
            "local_runs_before": local_runs, "local_runs_after": count_runs(local_db)}


def count_runs(db: Path) -> int:
    con = sqlite3.connect(db)
    try:
        return con.execute("select count(*) from runs").fetchone()[0]
    finally:
        con.close()


def test_stage_runs_land_on_the_server(remote: dict):
    runs = remote["seen"]["runs"]
    assert sorted(r["tags"]["geih.stage"] for r in runs) == ["evaluate", "register", "train"]
    for r in runs:
        assert r["status"] == "FINISHED" and r["tags"]["geih.task"] == "deforestation"
        assert r["uri"].startswith("mlflow-artifacts:/"), r["uri"]
        for key in ("git.commit", "geih.data_version", "geih.pipeline_run"):
            assert r["tags"][key], key
    assert remote["local_runs_after"] == remote["local_runs_before"]
    # the logged model's files went through the server into its artifact destination
    assert list((remote["server_dir"] / "artifacts").rglob("MLmodel"))


def test_registry_on_the_server(remote: dict):
    seen, root = remote["seen"], remote["root"]
    record = json.loads((root / "models" / "deforestation" / "registry.json").read_text())
    assert record["version"] == 1 and record["alias"] == "champion" and record["reason"] == "no current champion"
    assert seen["version"] == "1" and seen["tags"]["geih.decision"] == "no current champion"
    train = next(r for r in seen["runs"] if r["tags"]["geih.stage"] == "train")
    assert seen["source"] == f"models:/{train['tags']['geih.model_id']}"
    rows = pd.read_parquet(root / "data" / "features" / "deforestation" / "test.parquet").head(30)
    model = joblib.load(root / "models" / "deforestation" / "model.joblib")
    expected = model.predict_proba(rows[seen["features"]].astype("float64"))
    np.testing.assert_array_equal(np.asarray(seen["proba"]), expected)
