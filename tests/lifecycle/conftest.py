"""A throwaway MLflow store per test: an empty folder with a dvc.yaml as cwd."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lifecycle.support import ENV_KEYS


@pytest.fixture
def store_root(tmp_path: Path, monkeypatch) -> Path:
    """An empty folder with a dvc.yaml as cwd: the default store is <it>/mlflow/mlflow.db."""
    mlflow = pytest.importorskip("mlflow")
    root = tmp_path / "repo"
    root.mkdir()
    (root / "dvc.yaml").write_text("stages: {}\n")
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("GEIH_PIPELINE_RUN", "store-test")
    monkeypatch.chdir(root)
    yield root
    if mlflow.active_run():
        mlflow.end_run()
    mlflow.set_tracking_uri(None)
