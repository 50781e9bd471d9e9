"""Comparing experiments is readable: `dvc exp show` leads with the test metrics (the cleaning counts are
a report, not metrics), and `make exps` shows the headline metrics plus only what differs, no dependency
hashes."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.pipeline.mlflow_support import sh

pytestmark = pytest.mark.pipeline


def column_kind(column: str) -> str:
    """evaluate / train (metrics; a metric name found in one file only has no file prefix, and every
    train.json key is shared by the tasks), param (`group.key`), dep (a path)."""
    if ".json:" in column:
        return column.split(".json:")[0].rsplit("/", 1)[-1]
    return "dep" if "/" in column else "param" if "." in column else "evaluate"


def test_exp_show_leads_with_test_metrics(author_repo: Path):
    header = next(csv.reader(io.StringIO(sh(["dvc", "exp", "show", "--csv"], author_repo).stdout)))
    data = [c for c in header if c not in {"Experiment", "rev", "typ", "Created", "parent", "State", "Executor"}]
    kinds = [column_kind(c) for c in data]
    assert set(kinds) <= {"evaluate", "train", "param", "dep"}, sorted(set(kinds))  # no prepare.json metrics
    assert not any("cleaning" in c or "hotspots_loaded" in c for c in data)
    assert kinds == sorted(kinds, key=["evaluate", "train", "param", "dep"].index), list(zip(data, kinds))
    assert kinds[0] == "evaluate" and "metrics/fire_risk/evaluate.json:roc_auc" in data


def test_make_exps_shows_headline_metrics_and_only_changes(author_repo: Path):
    # The real Makefile target, with this interpreter's tools instead of a .venv in the copy.
    result = sh(["make", "-s", "-f", str(REPO_ROOT / "Makefile"), "-o", ".venv/.installed", "exps",
                 f"BIN={Path(sys.executable).parent}", "EXPS_ARGS=--csv"], author_repo)
    rows = list(csv.reader(io.StringIO(result.stdout)))
    header = rows[0]
    for task in ("fire_risk", "deforestation"):
        assert f"metrics/{task}/evaluate.json:roc_auc" in header and f"metrics/{task}/evaluate.json:pr_auc" in header
    assert not any(c.startswith(("geih/", "data/", "stages/")) for c in header), header
    assert "acquire.seed" not in header and "train.n_estimators" not in header  # unchanged between rows
    assert {row[1] for row in rows[1:]} >= {"workspace"}
