"""The Task objects: discovery, invariants, the questions other modules ask, and a guard that no
module outside geih/tasks branches on a task's name."""

from __future__ import annotations

import ast

import numpy as np
import pandas as pd
import pytest

from geih.errors import GeihError
from geih.tasks import get_task, task_names
from geih.tasks.task import MapSpec, Task
from tests.conftest import REPO_ROOT

# Code outside geih/tasks that must ask the task instead of naming it. geih/ingest is left out: raw-data
# kinds and source columns share the names (data/raw/deforestation holds PRODES; INPE's hotspot files
# have a fire_risk column), which are not task branches.
SCANNED = ["geih", "stages", "benchmarks"]
EXEMPT = ["geih/tasks", "geih/ingest"]


def test_every_task_module_defines_its_task():
    assert set(task_names()) >= {"fire_risk", "deforestation"}
    for name in task_names():
        task = get_task(name)
        assert isinstance(task, Task) and task.name == name
        assert task.params_group == f"prepare.{name}"
    registered = [get_task(n).registered_name for n in task_names()]
    assert len(set(registered)) == len(registered)


def test_unknown_task_names_the_known_ones():
    with pytest.raises(GeihError, match=r"unknown task 'climate'; expected one of \['climate_prediction', 'deforestation', 'fire_risk'\]"):
        get_task("climate")
    with pytest.raises(GeihError, match="unknown task 'common'"):
        get_task("common")  # a shared helper module is not a task


def test_task_declarations_are_consistent():
    for name in task_names():
        task = get_task(name)
        assert set(task.valid_ranges) <= set(task.features)
        assert task.baseline_column in task.features and task.time_column in task.id_columns
        for low, high in task.valid_ranges.values():
            assert low is None or high is None or low < high


def test_a_broken_task_is_refused():
    fire = get_task("fire_risk")
    fields = {f: getattr(fire, f) for f in fire.__dataclass_fields__}
    with pytest.raises(ValueError, match="baseline_column 'nope' is not a feature"):
        Task(**{**fields, "baseline_column": "nope"})
    with pytest.raises(ValueError, match="valid_ranges name non-features"):
        Task(**{**fields, "valid_ranges": {"not_a_feature": (0.0, 1.0)}})
    with pytest.raises(ValueError, match="map observed_column"):
        Task(**{**fields, "map": MapSpec("probability", "missing", "t")})
    with pytest.raises(ValueError, match="map kind"):
        MapSpec("heatmap", "label", "t")


def test_period_labels_and_climatology_key():
    fire, defor = get_task("fire_risk"), get_task("deforestation")
    months = pd.DataFrame({"label_month": pd.to_datetime(["2024-02-01", "2024-11-01"])})
    assert fire.period_labels(months["label_month"]).tolist() == ["2024-02", "2024-11"]
    assert fire.period_label(np.datetime64("2024-02-01")) == "2024-02"
    assert fire.climatology_key(months).tolist() == [2, 11]
    years = pd.DataFrame({"year": np.array([2022, 2023], dtype=np.int64)})
    assert defor.period_labels(years["year"]).tolist() == ["2022", "2023"]
    assert defor.period_label(np.int64(2023)) == "2023"
    assert defor.climatology_key(years).tolist() == [0, 0]


def test_tasks_are_frozen():
    with pytest.raises(AttributeError):
        get_task("fire_risk").time_column = "month"


def task_branches(source: str, names: set[str]) -> list[tuple[int, str]]:
    """(line, code) of each place `source` branches on a task name: a comparison or `in` test with
    the name, a match case on it, a dict keyed by it or a subscript by it. Strings elsewhere (docs,
    messages) are allowed."""

    def names_task(node: ast.AST | None) -> bool:
        if isinstance(node, ast.Constant):
            return node.value in names
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return any(names_task(e) for e in node.elts)
        return False

    found = []
    for node in ast.walk(ast.parse(source)):
        hit = ((isinstance(node, ast.Compare) and any(names_task(n) for n in [node.left, *node.comparators]))
               or (isinstance(node, ast.MatchValue) and names_task(node.value))
               or (isinstance(node, ast.Dict) and any(names_task(k) for k in node.keys))
               or (isinstance(node, ast.Subscript) and names_task(node.slice)))
        if hit:
            found.append((node.lineno, ast.unparse(node)))
    return found


def test_guard_sees_the_ways_of_naming_a_task():
    names = {"fire_risk", "deforestation"}
    snippet = '''
"""Docs may say fire_risk."""
if task == "fire_risk":
    pass
kind = "risk" if name in ("deforestation", "x") else "p"
NAMES = {"fire_risk": "geih-fire-risk"}
title = TITLES["deforestation"]
match task:
    case "deforestation":
        pass
log.info("fire_risk done")
'''
    assert sorted(line for line, _ in task_branches(snippet, names)) == [3, 5, 6, 7, 9]


def test_no_module_outside_the_tasks_branches_on_a_task_name():
    names = set(task_names())
    offenders = []
    for folder in SCANNED:
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            rel = path.relative_to(REPO_ROOT).as_posix()
            if any(rel.startswith(e + "/") for e in EXEMPT):
                continue
            offenders += [f"{rel}:{line}: {code}" for line, code in task_branches(path.read_text("utf-8"), names)]
    assert offenders == [], "ask the Task (geih.tasks.get_task) instead of naming it:\n" + "\n".join(offenders)
