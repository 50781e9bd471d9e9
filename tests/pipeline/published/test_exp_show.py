"""Comparing experiments is readable: `dvc exp show` leads with the test metrics (the cleaning counts are
a report, not metrics), and `make exps` shows the headline metrics plus only what differs, no dependency
hashes."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO_ROOT
from tests.pipeline.mlflow_support import sh

pytestmark = pytest.mark.pipeline


def flat_keys(tree: dict, prefix: str = "") -> set[str]:
    """The dotted names DVC shows for a nested metrics or params mapping."""
    keys: set[str] = set()
    for key, value in tree.items():
        name = f"{prefix}{key}"
        keys |= flat_keys(value, f"{name}.") if isinstance(value, dict) else {name}
    return keys


def column_kinds(root: Path, columns: list[str]) -> list[str]:
    """The kind of each `dvc exp show` column, from the repo's files rather than the look of the name: the
    metrics file's name (``evaluate``, ``train``, ``drift``; DVC drops the ``path:`` prefix of a metric name
    found in one file only), ``param`` (a key of params.yaml) or ``dep`` (a path)."""
    metric_files = {str(path.relative_to(root)): json.loads(path.read_text())
                    for path in sorted((root / "metrics").rglob("*.json"))}
    owners: dict[str, set[str]] = {}
    for rel, values in metric_files.items():
        for key in flat_keys(values):
            owners.setdefault(key, set()).add(rel)
    params = flat_keys(yaml.safe_load((root / "params.yaml").read_text()))
    kinds = []
    for column in columns:
        rel, _, key = column.rpartition(":") if ".json:" in column else ("", "", column)
        files = {rel} if rel else owners.get(key, set())
        if len(files) == 1:
            kinds.append(Path(files.pop()).stem)
        elif column in params:
            kinds.append("param")
        else:
            assert "/" in column, f"{column!r} is neither a metric, a param nor a path"
            kinds.append("dep")
    return kinds


def test_exp_show_leads_with_test_metrics(author_repo: Path):
    header = next(csv.reader(io.StringIO(sh(["dvc", "exp", "show", "--csv"], author_repo).stdout)))
    data = [c for c in header if c not in {"Experiment", "rev", "typ", "Created", "parent", "State", "Executor"}]
    kinds = column_kinds(author_repo, data)
    assert "prepare" not in kinds and not any("cleaning" in c or "hotspots_loaded" in c for c in data)
    assert {"evaluate", "train", "param", "dep"} <= set(kinds), sorted(set(kinds))
    # the test metrics first, then the other metrics files, then params, then dependencies
    rank = [0 if k == "evaluate" else 2 if k == "param" else 3 if k == "dep" else 1 for k in kinds]
    assert rank == sorted(rank), [(c, k) for c, k, r, s in zip(data, kinds, rank, sorted(rank)) if r != s][:5]
    assert "metrics/fire_risk/evaluate.json:roc_auc" in data


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
