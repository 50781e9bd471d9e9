"""`geih bundle` builds, from a registered version, the same bundle the package stage builds: the stages
train → register → package run against a temporary SQLite store, then the registry bundle is compared with
the package stage's. MLflow runs in this process (slow: the pipeline tier)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from geih.errors import GeihError
from geih.lifecycle.bundle import BUNDLE_FILES, load_predictor
from tests.serving.bundle_support import FEATURES, tables, tiny_schema

pytestmark = pytest.mark.pipeline

PARAMS = {
    "train": {"seed": 0, "n_jobs": 1, "n_estimators": 12, "max_depth": 3, "learning_rate": 0.2,
              "min_samples_leaf": 2, "num_leaves": 7, "subsample": 1.0, "colsample_bytree": 1.0, "C": 1.0,
              "calibration": "none", "threshold_rule": "max_f1", "recall_target": 0.8,
              "fire_risk": {"model": "xgboost"}, "deforestation": {"model": "lightgbm"}},
    # the single-machine path (no Dask scheduler)
    "compute": {"scheduler": None, "workers": 1, "threads_per_worker": 1, "memory_limit": "1GiB",
                "connect_timeout_s": 10, "band_deg": 4.0},
    "register": {"metric": "roc_auc", "higher_is_better": True, "min_improvement": 0.001, "min_roc_auc": 0.6},
}
METRICS = {"roc_auc": 0.81, "pr_auc": 0.62, "brier": 0.17, "threshold": 0.4, "n_test": 100}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A repo-like folder whose stages ran train, register and package against its own SQLite store."""
    import mlflow

    root = tmp_path_factory.mktemp("registry_bundle")
    patch = pytest.MonkeyPatch()
    patch.chdir(root)
    patch.setenv("DVC_ROOT", str(root))
    patch.setenv("GEIH_PIPELINE_RUN", "test")
    patch.delenv("MLFLOW_TRACKING_URI", raising=False)
    features = root / "data" / "features" / "fire_risk"
    features.mkdir(parents=True)
    train, test = tables()
    # two training years: train holds the last one out to choose the operating threshold
    train["month"] = pd.to_datetime(np.where(train.index % 2 == 0, "2022-01-01", "2023-01-01"))
    train.to_parquet(features / "train.parquet", index=False)
    test.to_parquet(features / "test.parquet", index=False)
    tiny_schema(train, test).save(features / "schema.json")
    (root / "params.yaml").write_text(yaml.safe_dump(PARAMS))
    (root / "metrics.json").write_text(json.dumps(METRICS))
    from stages import package, register
    from stages import train as train_stage

    model = root / "model.joblib"
    train_stage.main(["--task", "fire_risk", "--features", str(features), "--model", str(model),
                      "--metrics", str(root / "train.json")])
    register.main(["--task", "fire_risk", "--model", str(model), "--metrics", str(root / "metrics.json"),
                   "--features", str(features), "--out", str(root / "registry.json")])
    package.main(["--task", "fire_risk", "--model", str(model), "--registry", str(root / "registry.json"),
                  "--metrics", str(root / "metrics.json"), "--features", str(features), "--out", str(root / "packaged")])
    yield root
    mlflow.set_tracking_uri(None)
    patch.undo()


def bundle_probabilities(bundle: Path) -> list[float]:
    module = load_predictor(bundle)
    model, info = module.load_bundle(bundle)
    rows = tables()[1][FEATURES]
    records = [{f: (None if pd.isna(v) else float(v)) for f, v in r.items()} for r in rows.to_dict("records")]
    return [p["probability"] for p in module.predict(records, model, info)]


def test_registry_bundle_is_the_package_stages_bundle(store: Path, capsys):
    from geih.cli import main

    main(["bundle", "--model", "geih-fire-risk@champion", "--out", str(store / "from_alias")])
    assert "geih-fire-risk version 1 (fire_risk, 3 features" in capsys.readouterr().out
    main(["bundle", "--model", "geih-fire-risk", "--version", "1", "--out", str(store / "from_version")])
    packaged = json.loads((store / "packaged" / "model_info.json").read_text())
    for folder in ("from_alias", "from_version"):
        bundle = store / folder
        assert sorted(p.name for p in bundle.iterdir()) == sorted(BUNDLE_FILES)
        info = json.loads((bundle / "model_info.json").read_text())
        assert info["origin"] == "models:/geih-fire-risk/1" and packaged["origin"] == "pipeline"
        differs = {k for k in set(info) | set(packaged) if info.get(k) != packaged.get(k)}
        assert differs <= {"created", "origin", "model_sha256", "alias"}, differs
        assert info["threshold"] == 0.4 and info["metrics"] == packaged["metrics"] == METRICS
        assert info["params"] == packaged["params"] and info["params"]["model"] == "xgboost"
        assert (bundle / "feature_schema.json").read_bytes() == (store / "packaged" / "feature_schema.json").read_bytes()
        assert (bundle / "requirements.txt").read_text() == (store / "packaged" / "requirements.txt").read_text()
        assert bundle_probabilities(bundle) == bundle_probabilities(store / "packaged")
    assert json.loads((store / "from_alias" / "model_info.json").read_text())["alias"] == "champion"


@pytest.mark.parametrize("argv, message", [
    (["--model", "geih-fire-risk@nope"], "registered model 'geih-fire-risk' has no alias 'nope' (its versions: [1])"),
    (["--model", "geih-fire-risk", "--version", "9"], "has no version 9"),
    (["--model", "geih-nothing@champion"], "no such registered model in this store"),
    (["--model", "geih-fire-risk"], "name an alias (NAME@champion) or a version"),
    (["--model", "geih-fire-risk@champion", "--version", "1"], "drop --version"),
    (["--model", "a b@c"], "expected NAME@ALIAS"),
])
def test_bundle_command_errors(store: Path, argv: list[str], message: str):
    from geih.cli import main

    with pytest.raises(GeihError) as err:
        main(["bundle", *argv, "--out", str(store / "never")])
    assert message in str(err.value)
    assert not (store / "never").exists()


def test_version_whose_run_logged_no_schema_is_refused(store: Path):
    from geih.cli import main

    logged = list((store / "mlflow" / "artifacts").rglob("features/schema.json"))
    assert len(logged) == 1  # the train stage logs it next to the model
    shutil.move(logged[0], store / "schema.moved")
    try:
        with pytest.raises(GeihError, match=r"logged no feature schema \(features/schema.json\)"):
            main(["bundle", "--model", "geih-fire-risk@champion", "--out", str(store / "no_schema")])
        assert not (store / "no_schema").exists()
    finally:
        shutil.move(store / "schema.moved", logged[0])
