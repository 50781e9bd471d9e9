"""The whole pipeline at a tiny scale: outputs, metrics sanity, MLflow runs, registry, bundle,
determinism of re-runs (experiments that skip upstream stages: test_params_scope.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geih.tasks import get_task, task_names
from tests.pipeline.conftest import feature_records, run
from tests.pipeline.mlflow_support import copy_repo

TASKS = task_names()
CLASSIFIERS = [t for t in TASKS if get_task(t).kind == "classification"]
REGRESSIONS = [t for t in TASKS if get_task(t).kind == "regression"]
STAGES = ("prepare", "featurize", "train", "evaluate", "register", "package", "monitor")


@pytest.mark.parametrize("task", CLASSIFIERS)
def test_outputs_and_metrics(tiny_repo: Path, task: str):
    m = json.loads((tiny_repo / "metrics" / task / "evaluate.json").read_text())
    for key in ("roc_auc", "pr_auc", "f1", "precision", "recall", "accuracy", "brier", "n_train", "n_test",
                "positive_rate", "oracle_roc_auc"):
        assert key in m, key
    assert "random_split_roc_auc" not in m  # opt-in (evaluate.random_split): a whole re-fit
    assert 0.5 < m["roc_auc"] <= 1.0
    assert 0.0 < m["positive_rate"] < 1.0 and m["n_test"] > 0 and m["n_train"] > m["n_test"] / 4
    assert m["oracle_roc_auc"] is not None and 0.5 < m["oracle_roc_auc"] <= 1.0
    for name in ("roc.csv", "pr.csv", "confusion.csv", "calibration.csv", "by_period.csv", "map_last.png"):
        assert (tiny_repo / "plots" / task / name).stat().st_size > 0, name
    roc = pd.read_csv(tiny_repo / "plots" / task / "roc.csv")
    assert roc["fpr"].is_monotonic_increasing and roc["tpr"].iloc[-1] == 1.0
    conf = pd.read_csv(tiny_repo / "plots" / task / "confusion.csv")
    assert len(conf) == m["n_test"]


@pytest.mark.parametrize("task", TASKS)
def test_drift_metrics_and_plot_data(tiny_repo: Path, task: str):
    drift = json.loads((tiny_repo / "metrics" / task / "drift.json").read_text())
    schema = json.loads((tiny_repo / "data" / "features" / task / "schema.json").read_text())
    assert isinstance(drift["drift_detected"], bool)
    assert set(drift["features"]) == {f["name"] for f in schema["features"]}
    assert drift["compared"]["current_rows"] == schema["rows"]["test"]
    monthly = get_task(task).period_format == "%Y-%m"
    assert drift["compared"]["seasonal_match"] is monthly  # monthly data only
    plot = pd.read_csv(tiny_repo / "plots" / "monitor" / task / "drift.csv")
    assert set(plot["feature"]) == set(drift["features"]) and (plot["psi"] >= 0).all()
    assert plot["drifted"].sum() == drift["n_drifted"]


@pytest.mark.parametrize("task", CLASSIFIERS)
def test_alerts_counts_and_offline_map(tiny_repo: Path, task: str):
    m = json.loads((tiny_repo / "metrics" / task / "alerts.json").read_text())
    alerts = json.loads((tiny_repo / "reports" / task / "alerts.geojson").read_text(encoding="utf-8"))
    table = pd.read_csv(tiny_repo / "reports" / task / "alerts.csv")
    assert m["alerted"] == alerts["count"] == len(alerts["features"]) == len(table) == sum(m["alerted_by_level"].values())
    assert set(m["alerted_by_level"]) == {"alto", "crítico"} and m["cells"] == sum(m["cells_by_level"].values()) > 0
    assert len(alerts["periods"]) <= 1 and {f["properties"]["risk_level"] for f in alerts["features"]} <= {"alto", "crítico"}
    page = (tiny_repo / "plots" / "alerts" / task / "risk_map.html").read_text(encoding="utf-8")
    assert "http://" not in page and "https://" not in page
    for feature in alerts["features"]:
        assert f'"{feature["properties"]["period"]}"' in page


def test_world_plots_exist(tiny_repo: Path):
    pngs = sorted(p.name for p in (tiny_repo / "plots" / "world").glob("*.png"))
    assert {"landcover.png", "roads_settlements.png", "hotspot_density.png", "dryness_dry_season.png"} <= set(pngs)


def test_dvc_status_clean_after_repro(tiny_repo: Path):
    out = run(["dvc", "status"], tiny_repo).stdout
    assert "up to date" in out, out


@pytest.mark.parametrize("task", TASKS)
def test_registry_and_mlflow_runs(tiny_repo: Path, task: str):
    reg = json.loads((tiny_repo / "models" / task / "registry.json").read_text())
    assert reg["name"] == get_task(task).registered_name
    assert reg["alias"] == "champion" and str(reg["version"]) == "1"
    code = f"""
import json, mlflow
from mlflow import MlflowClient
mlflow.set_tracking_uri("sqlite:///{tiny_repo}/mlflow/mlflow.db")
c = MlflowClient()
exp = c.get_experiment_by_name("geih-{task}")
runs = [r for r in c.search_runs([exp.experiment_id]) if "dvc.exp_name" not in r.data.tags]
print(json.dumps({{"stages": sorted(r.data.tags["geih.stage"] for r in runs),
                   "commit": [r.data.tags["git.commit"] for r in runs][0],
                   "pipeline": sorted(set(r.data.tags["geih.pipeline_run"] for r in runs)),
                   "artifact_location": exp.artifact_location,
                   "champion": c.get_model_version_by_alias("{reg['name']}", "champion").version}}))
"""
    info = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert info["stages"] == sorted(STAGES + (("alerts",) if task in CLASSIFIERS else ()))
    assert len(info["commit"]) == 40 and info["pipeline"] == ["pytest"]
    assert info["artifact_location"].startswith(f"file://{tiny_repo}/mlflow/artifacts")
    assert str(info["champion"]) == "1"


@pytest.mark.parametrize("task", REGRESSIONS)
def test_regression_outputs_and_metrics(tiny_repo: Path, task: str):
    m = json.loads((tiny_repo / "metrics" / task / "evaluate.json").read_text())
    for target in get_task(task).targets:
        scores = m[target.name]
        assert {"rmse", "mae", "skill_vs_climatology", "skill_vs_persistence"} <= set(scores)
        assert scores["rmse"] >= scores["mae"] > 0 and scores["skill_vs_climatology"] < 1
        scatter = pd.read_csv(tiny_repo / "plots" / task / f"predicted_vs_observed_{target.name}.csv")
        assert list(scatter.columns) == ["observed", "predicted"] and len(scatter) > 0
    by_month = pd.read_csv(tiny_repo / "plots" / task / "error_by_month.csv")
    assert by_month["period"].is_monotonic_increasing and (tiny_repo / "plots" / task / "map_last.png").stat().st_size
    assert m["n_test"] > 0 and m["n_train"] > m["n_test"]


@pytest.mark.parametrize("task", REGRESSIONS)
def test_regression_bundle_predicts_values_like_the_model(tiny_repo: Path, task: str, tmp_path: Path):
    bundle = tiny_repo / "models" / task / "bundle"
    info = json.loads((bundle / "model_info.json").read_text())
    names = [t.name for t in get_task(task).targets]
    assert info["kind"] == "regression" and [t["name"] for t in info["targets"]] == names
    test = pd.read_parquet(tiny_repo / "data" / "features" / task / "test.parquet").head(20)
    (tmp_path / "input.json").write_text(json.dumps(feature_records(test, info["features"])))
    out = subprocess.run([sys.executable, str(bundle / "predict.py"), str(tmp_path / "input.json")],
                         capture_output=True, text=True, check=True, cwd="/")
    preds = json.loads(out.stdout)
    expected = pd.read_parquet(tiny_repo / "data" / "predictions" / task / "test_predictions.parquet").head(20)
    for name in names:
        np.testing.assert_allclose([p[name] for p in preds], expected[f"predicted_{name}"], rtol=1e-9)


@pytest.mark.parametrize("task", CLASSIFIERS)
def test_bundle_predicts_like_the_model(tiny_repo: Path, task: str, tmp_path: Path):
    bundle = tiny_repo / "models" / task / "bundle"
    info = json.loads((bundle / "model_info.json").read_text())
    assert {"name", "version", "run_id", "params", "metrics", "features", "created"} <= set(info)
    test = pd.read_parquet(tiny_repo / "data" / "features" / task / "test.parquet").head(20)
    records = feature_records(test, info["features"])  # full precision: to_json would round
    (tmp_path / "input.json").write_text(json.dumps(records))
    out = subprocess.run([sys.executable, str(bundle / "predict.py"), str(tmp_path / "input.json")],
                         capture_output=True, text=True, check=True, cwd="/")
    preds = json.loads(out.stdout)
    expected = pd.read_parquet(tiny_repo / "data" / "predictions" / task / "test_predictions.parquet").head(20)
    assert len(preds) == 20
    np.testing.assert_allclose([p["probability"] for p in preds], expected["probability"], atol=1e-6)
    assert [p["risk_level"] for p in preds] == list(expected["risk_level"])
    bad = subprocess.run([sys.executable, str(bundle / "predict.py")], input='[{"lat": 1}]',
                         capture_output=True, text=True, cwd="/")
    assert bad.returncode == 2 and "record 0: missing feature" in bad.stderr


@pytest.fixture(scope="module")
def rerun_repo(tiny_repo: Path, tmp_path_factory) -> Path:
    """A copy to re-run stages in: `tiny_repo` stays read-only (other modules, other xdist workers read it)."""
    return copy_repo(tiny_repo, tmp_path_factory.mktemp("rerun") / "repo")


def test_rerun_reproduces_hashes(rerun_repo: Path):
    before = {p: p.read_bytes() for p in [rerun_repo / "metrics" / "deforestation" / "evaluate.json"]}
    lock_before = (rerun_repo / "dvc.lock").read_text()
    run(["dvc", "repro", "-f", "-s", "train@deforestation", "evaluate@deforestation"], rerun_repo)
    for path, content in before.items():
        assert path.read_bytes() == content
    assert (rerun_repo / "dvc.lock").read_text() == lock_before


# test_experiment_skips_upstream_stages: tests/pipeline/test_params_scope.py (on the experiment that module runs)
