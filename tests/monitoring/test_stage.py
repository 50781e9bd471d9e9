"""Stage monitor@<task> error contracts: bad params and a missing features folder stop it before any work,
with a message naming the key or file, exit status 2 and nothing written. (The stage's outputs on a whole
pipeline are checked in tests/pipeline/test_pipeline.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO_ROOT

# stage processes (each imports pandas, scipy and the monitoring store: seconds each): the pipeline tier
pytestmark = pytest.mark.pipeline


def monitor_stage(tmp_path: Path, params: dict, features: Path) -> subprocess.CompletedProcess:
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    return subprocess.run([sys.executable, str(REPO_ROOT / "stages" / "monitor.py"), "--task", "fire_risk",
                           "--params", str(tmp_path / "params.yaml"), "--features", str(features),
                           "--metrics", str(tmp_path / "drift.json"), "--plot", str(tmp_path / "drift.csv")],
                          capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})


def test_bad_drift_params_exit_2_naming_the_key(tmp_path: Path):
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    params["monitor"]["drift"]["fdr"] = 0.9
    result = monitor_stage(tmp_path, params, REPO_ROOT / "data" / "features" / "fire_risk")
    assert result.returncode == 2 and "monitor.drift.fdr" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "drift.json").exists() and not (tmp_path / "drift.csv").exists()


def test_missing_features_exit_2_naming_the_file(tmp_path: Path):
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    result = monitor_stage(tmp_path, params, tmp_path / "no-features")
    assert result.returncode == 2 and "no-features" in result.stderr and "featurize" in result.stderr
    assert not (tmp_path / "drift.json").exists()
