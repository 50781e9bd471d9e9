"""dvc.yaml contracts: every stage lists, as deps, its script and every geih module it imports
(directly or through other geih modules), so editing code re-runs the stages it affects."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO_ROOT

# Modules a stage reaches through a dynamic import (geih.tasks.task_module).
DYNAMIC = {"prepare": ["geih.tasks.fire_risk", "geih.tasks.deforestation"],
           "featurize": ["geih.tasks.fire_risk", "geih.tasks.deforestation"]}


def module_file(name: str) -> Path | None:
    for candidate in (REPO_ROOT / (name.replace(".", "/") + ".py"), REPO_ROOT / name.replace(".", "/") / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def geih_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("geih"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names if module_file(f"{node.module}.{a.name}"))
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("geih"))
    return found


def imported_files(script: Path, extra: list[str]) -> set[str]:
    seen: set[str] = set()
    todo = [*geih_imports(script), *extra]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = module_file(name)
        if path:
            todo.extend(geih_imports(path))
    files = {str(module_file(n).relative_to(REPO_ROOT)) for n in seen if module_file(n)}
    return {f for f in files if f != "geih/__init__.py" and not is_docstring_only(REPO_ROOT / f)}


def is_docstring_only(path: Path) -> bool:
    """A package __init__ holding nothing but its docstring changes no stage's behaviour."""
    body = ast.parse(path.read_text(encoding="utf-8")).body
    return path.name == "__init__.py" and all(
        isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) for n in body)


STAGES = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]


@pytest.mark.parametrize("name", sorted(STAGES))
def test_stage_declares_the_code_it_imports(name: str):
    stage = STAGES[name].get("do", STAGES[name])
    deps = [d if isinstance(d, str) else next(iter(d)) for d in stage["deps"]]
    script = REPO_ROOT / f"stages/{name}.py"
    assert f"stages/{name}.py" in deps and script.exists()
    assert f"stages/{name}.py" in stage["cmd"]
    undeclared = sorted(f for f in imported_files(script, DYNAMIC.get(name, []))
                        if not any(f == d or f.startswith(d.rstrip("/") + "/") for d in deps))
    assert undeclared == [], f"stage {name} imports undeclared modules {undeclared}"
