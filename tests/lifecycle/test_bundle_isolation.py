"""A bundle runs with nothing but its requirements: predict.py in a fresh interpreter (`python -I`: no
PYTHONPATH, no cwd on sys.path) with imports of geih, mlflow, dvc and tests refused, from a folder outside
the repo. Also the tampered model from the command line: exit 2, "checksum does not match", nothing
unpickled. Subprocesses, hence the pipeline tier."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import joblib
import pandas as pd
import pytest

from tests.conftest import REPO_ROOT
from tests.serving.bundle_support import FEATURES, EvilPayload, make_bundle, tables

pytestmark = pytest.mark.pipeline

ISOLATED = """
import runpy, sys
REFUSED = ("geih", "mlflow", "dvc", "tests")
class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in REFUSED:
            raise ImportError(f"the bundle imported {name}")
        return None
sys.meta_path.insert(0, Refuse())
repo, script, *args = sys.argv[1:]
assert repo not in sys.path and "" not in sys.path, sys.path
sys.argv = [script, *args]
try:
    runpy.run_path(script, run_name="__main__")
finally:
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in REFUSED)
    assert not loaded, loaded
"""


def isolated(bundle: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-I", "-c", ISOLATED, str(REPO_ROOT), str(bundle / "predict.py"), *args],
                          input=stdin, capture_output=True, text=True, cwd=bundle.parent, timeout=300)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return make_bundle(tmp_path_factory.mktemp("isolated") / "bundle")


def test_predict_py_needs_nothing_from_the_repo(bundle: Path, tmp_path: Path):
    test = tables()[1].head(6)
    records = [{f: (None if pd.isna(v) else float(v)) for f, v in r.items()} for r in test[FEATURES].to_dict("records")]
    out = isolated(bundle, stdin=json.dumps({"instances": records}))
    assert out.returncode == 0, out.stderr
    predictions = json.loads(out.stdout)
    test.to_parquet(tmp_path / "rows.parquet", index=False)
    batch = isolated(bundle, "--input", str(tmp_path / "rows.parquet"), "--output", str(tmp_path / "out.csv"))
    assert batch.returncode == 0, batch.stderr
    scored = pd.read_csv(tmp_path / "out.csv", engine="pyarrow")
    assert scored["probability"].tolist() == [p["probability"] for p in predictions]
    assert scored["cell_id"].tolist() == test["cell_id"].tolist()
    bad = isolated(bundle, stdin='[{"a": 0.5}]')
    assert bad.returncode == 2 and bad.stderr.startswith("error: record 0: missing feature(s) ['b', 'c']")
    assert "Traceback" not in bad.stderr
    broken = isolated(bundle, stdin="[{")
    assert broken.returncode == 2 and "input is not valid JSON" in broken.stderr and "Traceback" not in broken.stderr
    (tmp_path / "few.csv").write_text("cell_id,a,c\n1,0.5,2\n")
    few = isolated(bundle, "--input", str(tmp_path / "few.csv"), "--output", str(tmp_path / "few_out.csv"))
    assert few.returncode == 2 and "missing feature column(s) ['b']" in few.stderr
    assert not (tmp_path / "few_out.csv").exists()


def test_tampered_model_exits_2_without_unpickling(bundle: Path, tmp_path: Path):
    evil = tmp_path / "evil"
    shutil.copytree(bundle, evil)
    marker = tmp_path / "unpickled"
    joblib.dump(EvilPayload(marker), evil / "model.joblib")
    out = isolated(evil, stdin='[{"a": 0.5, "b": 1, "c": 2}]')
    assert out.returncode == 2, out.stderr
    assert "checksum does not match" in out.stderr and "Traceback" not in out.stderr
    assert out.stdout == "" and not marker.exists()
    info = json.loads((evil / "model_info.json").read_text())  # control: accept the evil file's checksum
    info["model_sha256"] = hashlib.sha256((evil / "model.joblib").read_bytes()).hexdigest()
    (evil / "model_info.json").write_text(json.dumps(info))
    isolated(evil, stdin='[{"a": 0.5, "b": 1, "c": 2}]')
    assert marker.exists()  # loading it would have run the payload
