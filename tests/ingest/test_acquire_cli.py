"""acquire from a directory of real downloads, `geih data validate`, and stage error contracts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from geih.ingest.acquire import import_directory
from geih.io import read_json
from tests.conftest import REPO_ROOT

# Stage processes that import MLflow take 6–25 s each: the pipeline tier (the unit tier stays under a minute).
SUBPROCESS_STAGE = pytest.mark.pipeline


def geih(*args: str, cwd: Path = REPO_ROOT, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "geih.cli", *args], capture_output=True, text=True, cwd=cwd,
                          input=stdin)


def stage(script: str, *args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO_ROOT / "stages" / script), *args], capture_output=True,
                          text=True, cwd=cwd)


def test_validate_summarises_a_raw_folder(tiny_world: Path):
    result = geih("data", "validate", str(tiny_world))
    assert result.returncode == 0, result.stderr
    assert "inpe_current" in result.stdout and "prodes_current" in result.stdout
    assert "duplicate_rows" in result.stdout  # published oddities are counted, not hidden
    import re

    assert len(set(re.findall(r"focos_mensal_br_\d{6}\.csv", result.stdout))) == 36


def test_validate_names_file_and_column_and_exits_nonzero(tiny_world: Path, tmp_path: Path):
    bad = tmp_path / "hotspots"
    bad.mkdir()
    src = sorted((tiny_world / "hotspots").glob("*.csv"))[5]
    frame = pd.read_csv(src, dtype=str)
    frame.drop(columns=["data_hora_gmt"]).to_csv(bad / src.name, index=False)
    result = geih("data", "validate", str(bad / src.name))
    assert result.returncode != 0
    assert src.name in result.stderr and "data_hora_gmt" in result.stderr
    assert "Traceback" not in result.stderr


def test_import_directory_copies_and_marks_no_truth(tiny_world: Path, tmp_path: Path):
    summary = import_directory(tiny_world, tmp_path / "raw", tmp_path / "truth")
    assert summary["files"] > 40
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == sorted(p.name for p in tiny_world.iterdir())
    assert read_json(tmp_path / "truth" / "manifest.json")["available"] is False


@SUBPROCESS_STAGE
def test_acquire_stage_rejects_a_bad_source_and_writes_nothing(tmp_path: Path):
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    params["acquire"]["source"] = str(tmp_path / "does-not-exist")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    result = stage("acquire.py", "--params", "params.yaml", "--raw", "raw", "--truth", "truth", "--plots", "plots",
                   cwd=tmp_path)
    assert result.returncode == 2
    assert "acquire.source" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(("mlflow", "params"))) == []


def test_acquire_stage_imports_a_real_layout_directory(tiny_world: Path, tmp_path: Path):
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    params["acquire"]["source"] = str(tiny_world)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    result = stage("acquire.py", "--params", "params.yaml", "--raw", "raw", "--truth", "truth", "--plots", "plots",
                   cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(list((tmp_path / "raw" / "hotspots").glob("*.csv"))) == 36
    assert json.loads((tmp_path / "truth" / "manifest.json").read_text())["available"] is False
    assert [p.name for p in (tmp_path / "plots").iterdir()] == ["README.txt"]  # DVC needs a non-empty out


def test_prepare_with_bad_params_names_the_key_and_writes_nothing(tiny_world: Path, tmp_path: Path):
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    params["prepare"]["fire_risk"]["dedup"] = "fuzzy"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    result = stage("prepare.py", "--task", "fire_risk", "--params", "params.yaml", "--raw", str(tiny_world),
                   "--out", "prepared.parquet", "--report", "report.json", cwd=tmp_path)
    assert result.returncode == 2
    assert "prepare.fire_risk.dedup" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "prepared.parquet").exists() and not (tmp_path / "report.json").exists()


@SUBPROCESS_STAGE
def test_train_with_unknown_model_names_the_key(tmp_path: Path):
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    params["train"]["fire_risk"]["model"] = "svm"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    result = stage("train.py", "--task", "fire_risk", "--params", "params.yaml", "--features", "f",
                   "--model", "m.joblib", "--metrics", "m.json", cwd=tmp_path)
    assert result.returncode == 2
    assert "train.fire_risk.model" in result.stderr and "svm" in result.stderr
    assert not (tmp_path / "m.joblib").exists()


@SUBPROCESS_STAGE
def test_geih_predict_reads_stdin_and_rejects_bad_records(tmp_path: Path):
    from geih.lifecycle.bundle import build_bundle, model_info
    from geih.modelling.families import build_model
    from geih.modelling.training import save_model

    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    model = build_model("logistic_regression", {}, seed=0, n_jobs=1).fit(X, [0, 0, 1, 1])
    save_model(model, tmp_path / "m.joblib")
    info = model_info("fire_risk", {"name": "geih-fire-risk", "version": 1, "run_id": "r"}, {}, {}, ["a", "b"],
                      0.5, "2026-01-01T00:00:00Z")
    build_bundle(tmp_path / "bundle", tmp_path / "m.joblib", info, ["scikit-learn"])
    ok = geih("predict", "--bundle", str(tmp_path / "bundle"), stdin=json.dumps({"instances": [{"a": 3, "b": None}]}))
    assert ok.returncode == 0, ok.stderr
    out = json.loads(ok.stdout)
    expected = float(model.predict_proba(pd.DataFrame({"a": [3.0], "b": [float("nan")]}))[0, 1])
    assert abs(out[0]["probability"] - expected) < 1e-6
    assert out[0]["prediction"] == int(expected >= 0.5)
    assert out[0]["risk_level"] == ["baixo", "médio", "alto", "crítico"][sum(expected >= t for t in (0.25, 0.5, 0.75))]
    bad = geih("predict", "--bundle", str(tmp_path / "bundle"), stdin='[{"a": "hot", "b": 1}]')
    assert bad.returncode == 2 and "record 0: feature 'a' must be a number" in bad.stderr
