"""The modelling tasks. Each public module of this package except the shared ones (`SHARED_MODULES`)
is a task: it defines `TASK = Task(...)` (see geih.tasks.task) named like the module.

`task_names()` lists them from the package folder (no task module is imported); `get_task(name)`
imports the one asked for. Adding a task = its module, its params groups, the `foreach` lists in
dvc.yaml and its tests.
"""

from __future__ import annotations

import pkgutil
from functools import cache
from importlib import import_module

from geih.errors import GeihError
from geih.tasks.task import Task

SHARED_MODULES = frozenset({"common", "task"})  # helpers of the task modules, not tasks


@cache
def task_names() -> tuple[str, ...]:
    """The names of the tasks, sorted."""
    return tuple(sorted(m.name for m in pkgutil.iter_modules(__path__)
                        if not m.name.startswith("_") and m.name not in SHARED_MODULES))


def get_task(name: str) -> Task:
    """The Task called `name`; unknown → GeihError naming the known ones."""
    known = task_names()
    if name not in known:
        raise GeihError(f"unknown task {name!r}; expected one of {list(known)}")
    task = getattr(import_module(f"{__name__}.{name}"), "TASK", None)
    if not isinstance(task, Task) or task.name != name:
        raise GeihError(f"geih/tasks/{name}.py must define TASK = Task(name={name!r}, ...)")
    return task
