"""The registered champion as MLflow serves it: `mlflow.pyfunc.load_model("models:/…@champion")`
and `mlflow models serve` predict the same probabilities as the package stage's bundle."""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geih.lifecycle.bundle import load_predictor
from tests.pipeline.conftest import feature_records
from tests.pipeline.mlflow_support import copy_repo, env_for, free_port, loopback_server

NAMES = {"fire_risk": "geih-fire-risk", "deforestation": "geih-deforestation"}
ROWS = 40


@pytest.fixture(scope="module")
def serve_repo(tiny_repo: Path, tmp_path_factory) -> Path:
    """A copy of the tiny repo whose champion is the model in its bundle (set explicitly: other
    tests may have registered better versions in between)."""
    root = copy_repo(tiny_repo, tmp_path_factory.mktemp("mlflow_serve") / "repo")
    import mlflow
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=store_uri(root), registry_uri=store_uri(root))
    for task, name in NAMES.items():
        version = json.loads((root / "models" / task / "bundle" / "model_info.json").read_text())["version"]
        client.set_registered_model_alias(name, "champion", str(version))
    yield root
    mlflow.set_tracking_uri(None)


def store_uri(root: Path) -> str:
    return f"sqlite:///{root}/mlflow/mlflow.db"


def bundle_rows(root: Path, task: str) -> tuple[pd.DataFrame, list[float]]:
    """Test rows (float64 features) and the bundle's probabilities for them."""
    bundle = root / "models" / task / "bundle"
    module = load_predictor(bundle)
    model, info = module.load_bundle(bundle)
    rows = pd.read_parquet(root / "data" / "features" / task / "test.parquet").head(ROWS)
    rows = rows[info["features"]].astype("float64")
    records = feature_records(rows, info["features"])  # full precision: to_json would round
    return rows, [p["probability"] for p in module.predict(records, model, info)]


@pytest.mark.parametrize("task", list(NAMES))
def test_pyfunc_champion_predicts_like_the_bundle(serve_repo: Path, task: str):
    import mlflow

    mlflow.set_tracking_uri(store_uri(serve_repo))
    rows, expected = bundle_rows(serve_repo, task)
    model = mlflow.pyfunc.load_model(f"models:/{NAMES[task]}@champion")
    proba = np.asarray(model.predict(rows))
    assert proba.shape == (ROWS, 2)
    np.testing.assert_allclose(proba[:, 1], expected, atol=1e-6)  # the bundle rounds to 6 decimals
    import joblib

    exact = joblib.load(serve_repo / "models" / task / "bundle" / "model.joblib").predict_proba(rows)
    np.testing.assert_array_equal(proba, exact)


def test_mlflow_models_serve_champion(serve_repo: Path, tmp_path: Path):
    rows, expected = bundle_rows(serve_repo, "fire_risk")
    port = free_port()
    env = env_for(serve_repo, MLFLOW_TRACKING_URI=store_uri(serve_repo))
    cmd = [str(Path(sys.executable).parent / "mlflow"), "models", "serve", "-m", "models:/geih-fire-risk@champion",
           "--env-manager", "local", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    data = [[record[f] for f in rows.columns] for record in feature_records(rows, list(rows.columns))]
    body = json.dumps({"dataframe_split": {"columns": list(rows.columns), "data": data}}).encode()
    with loopback_server(cmd, f"http://127.0.0.1:{port}/ping", serve_repo, env, tmp_path / "serve.log"):
        request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            predictions = json.loads(response.read())["predictions"]
    proba = np.asarray(predictions, dtype=float)
    assert proba.shape == (ROWS, 2)
    np.testing.assert_allclose(proba[:, 1], expected, atol=1e-6)
