"""The modelling tasks. Each module has prepare(raw_dir, params) → (panel, report),
featurize(panel, grid_resolution_deg) → frame, FEATURES, ID_COLUMNS, BASELINE_COLUMN, BASELINE_NAME."""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from geih.errors import GeihError

TASKS = ("fire_risk", "deforestation")
TIME_COLUMN = {"fire_risk": "label_month", "deforestation": "year"}


def task_module(task: str) -> ModuleType:
    """The module implementing `task`; unknown task → GeihError naming the known ones."""
    if task not in TASKS:
        raise GeihError(f"unknown task {task!r}; expected one of {list(TASKS)}")
    return import_module(f"geih.tasks.{task}")
