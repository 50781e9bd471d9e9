"""dvc.yaml contracts: every stage lists, as deps, its script and every geih module it imports
(directly or through other geih modules), so editing code re-runs the stages it affects. A stage
that reaches `get_task(name)` imports the task module `geih/tasks/<item>.py` of its foreach item."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest
import yaml

from geih.tasks import task_names
from tests.conftest import REPO_ROOT

TASK_LOOKUP = "get_task"  # geih.tasks.get_task imports geih.tasks.<name> dynamically


def module_file(name: str) -> Path | None:
    for candidate in (REPO_ROOT / (name.replace(".", "/") + ".py"), REPO_ROOT / name.replace(".", "/") / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


@functools.cache
def parsed(path: Path) -> ast.Module:
    """The syntax tree of a repository file, parsed once per test session."""
    return ast.parse(path.read_text(encoding="utf-8"))


def runtime_nodes(tree: ast.AST):
    """Every node of `tree` except those under `if TYPE_CHECKING:` (never run)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and ast.unparse(child.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
                todo.extend(child.orelse)
            else:
                todo.append(child)


@functools.cache
def geih_imports(path: Path) -> frozenset[str]:
    found = set()
    for node in runtime_nodes(parsed(path)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("geih"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names if module_file(f"{node.module}.{a.name}"))
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("geih"))
    return frozenset(found)


@functools.cache
def calls_task_lookup(path: Path) -> bool:
    """Whether the file calls get_task (geih/tasks/__init__.py, which defines it, aside)."""
    if path == REPO_ROOT / "geih/tasks/__init__.py":
        return False
    for node in ast.walk(parsed(path)):
        if isinstance(node, ast.Call):
            func = node.func
            if (isinstance(func, ast.Name) and func.id == TASK_LOOKUP) or (
                    isinstance(func, ast.Attribute) and func.attr == TASK_LOOKUP):
                return True
    return False


def imported_files(script: Path, tasks: list[str]) -> set[str]:
    """Repository paths of the geih modules `script` imports, directly or not; a `get_task` call
    brings in the modules of `tasks` (and theirs)."""
    seen: set[str] = set()
    todo = sorted(geih_imports(script))
    dynamic_added = False
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = module_file(name)
        if path:
            todo.extend(geih_imports(path))
        if not dynamic_added and any(calls_task_lookup(f) for f in [script, *filter(None, map(module_file, seen))]):
            todo.extend(f"geih.tasks.{t}" for t in tasks)
            dynamic_added = True
    files = {str(module_file(n).relative_to(REPO_ROOT)) for n in seen if module_file(n)}
    return {f for f in files if f != "geih/__init__.py" and not is_docstring_only(REPO_ROOT / f)}


def is_docstring_only(path: Path) -> bool:
    """A package __init__ holding nothing but its docstring changes no stage's behaviour."""
    body = parsed(path).body
    return path.name == "__init__.py" and all(
        isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) for n in body)


STAGES = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]
# (stage, foreach item or None): each item of a foreach stage is checked with its own deps.
INSTANCES = [(name, item) for name in sorted(STAGES) for item in STAGES[name].get("foreach", [None])]


@pytest.mark.parametrize(("name", "item"), INSTANCES)
def test_stage_declares_the_code_it_imports(name: str, item: str | None):
    stage = STAGES[name].get("do", STAGES[name])
    deps = [d if isinstance(d, str) else next(iter(d)) for d in stage["deps"]]
    if item is not None:
        deps = [d.replace("${item}", item) for d in deps]
    script = REPO_ROOT / f"stages/{name}.py"
    assert f"stages/{name}.py" in deps and script.exists()
    assert f"stages/{name}.py" in stage["cmd"]
    tasks = [item] if item is not None else list(task_names())
    undeclared = sorted(f for f in imported_files(script, tasks)
                        if not any(f == d or f.startswith(d.rstrip("/") + "/") for d in deps))
    assert undeclared == [], f"stage {name}@{item} imports undeclared modules {undeclared}"


# Stages that only make sense for one kind of task (alerts need a bundle with risk levels).
STAGES_FOR_KIND = {"alerts": "classification"}


def test_foreach_lists_name_every_task():
    from geih.tasks import get_task

    for name, stage in STAGES.items():
        if "foreach" in stage:
            kind = STAGES_FOR_KIND.get(name)
            expected = [t for t in task_names() if kind is None or get_task(t).kind == kind]
            assert sorted(stage["foreach"]) == sorted(expected), f"dvc.yaml stage {name}: foreach"


def train_keys() -> set[str]:
    """Every key the train stage reads from the shared `train` group: its settings and every hyperparameter."""
    from geih.modelling.families import HYPERPARAMETERS, TRAIN_SETTINGS

    return {*TRAIN_SETTINGS, *HYPERPARAMETERS}


def test_train_declares_every_shared_key_and_only_its_own_task():
    declared = STAGES["train"]["do"]["params"]
    train = [p for p in declared if p.startswith("train")]
    assert sorted(train) == sorted([*(f"train.{k}" for k in train_keys()), "train.${item}"])
    assert "train" not in declared  # the whole group would re-run every task on any task's change


def test_params_yaml_lists_every_shared_train_key_and_no_other():
    """DVC tracks declared keys only: a shared key missing from params.yaml could not be declared, and one
    params.yaml has beyond the declared list would change nothing when set (`dvc exp run -S`)."""
    train = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())["train"]
    shared = {k for k in train if k not in task_names()}
    assert shared == train_keys()
    assert all(isinstance(train[t], dict) for t in task_names())
