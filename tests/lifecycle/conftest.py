"""A throwaway MLflow store per test: an empty folder with a dvc.yaml as cwd; `store_root` starts from an empty
store migrated once per session (creating and migrating a SQLite store took 12–16 s at load 8, copying one 0.2 s),
`new_store_root` from no store at all (for tests of first-time creation)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.lifecycle.support import ENV_KEYS


def empty_repo(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`root` with a dvc.yaml, as cwd, with no MLflow/DVC settings inherited from the environment."""
    root.mkdir()
    (root / "dvc.yaml").write_text("stages: {}\n")
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("GEIH_PIPELINE_RUN", "store-test")
    monkeypatch.chdir(root)
    return root


@pytest.fixture(scope="session")
def migrated_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repo folder whose store (mlflow/mlflow.db) was created and migrated as the first stage run would."""
    pytest.importorskip("mlflow")
    from geih.lifecycle import tracking

    with pytest.MonkeyPatch.context() as mp:
        root = empty_repo(tmp_path_factory.mktemp("store_template") / "repo", mp)
        tracking.open_store(root=root)
        import mlflow

        mlflow.set_tracking_uri(None)
    return root


@pytest.fixture
def new_store_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder with a dvc.yaml as cwd and no store yet: the default store is <it>/mlflow/mlflow.db."""
    mlflow = pytest.importorskip("mlflow")
    yield empty_repo(tmp_path / "repo", monkeypatch)
    if mlflow.active_run():
        mlflow.end_run()
    mlflow.set_tracking_uri(None)


@pytest.fixture
def store_root(new_store_root: Path, migrated_store: Path) -> Path:
    """`new_store_root` with a copy of the session's empty migrated store, its paths moved to this folder (as if
    created here)."""
    from tests.pipeline.mlflow_support import rewrite_store_paths

    (new_store_root / "mlflow").mkdir()
    shutil.copy2(migrated_store / "mlflow" / "mlflow.db", new_store_root / "mlflow" / "mlflow.db")
    rewrite_store_paths(new_store_root / "mlflow" / "mlflow.db", str(migrated_store), str(new_store_root))
    return new_store_root
