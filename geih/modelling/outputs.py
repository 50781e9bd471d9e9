"""Evaluation outputs on disk: plot data CSVs, map PNGs of the chosen test periods, the test
predictions (Parquet) and the last period's cells (GeoJSON). Each folder is written atomically."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from geih.domain.grid import Grid
from geih.io import atomic_path, write_csv
from geih.modelling import maps
from geih.modelling.evaluate import Evaluation

if TYPE_CHECKING:
    from geih.tasks.task import Task


def map_rows(predictions: pd.DataFrame, task: Task, which: str) -> list[tuple[str, pd.DataFrame]]:
    """(period label, rows) of the periods to map: the last test period ('last'), or all of them ('all')."""
    values = predictions[task.time_column]
    periods = np.sort(values.unique())
    chosen = periods[-1:] if which == "last" else periods
    return [(task.period_label(value), predictions[values == value]) for value in chosen]


def write_plots(result: Evaluation, task: Task, grid: Grid, map_months: str, folder: Path) -> None:
    """Plot data CSVs and map PNGs (`map_last.png`, plus `map_<period>.png` for earlier periods)."""
    with atomic_path(folder) as tmp:
        tmp.mkdir()
        for name, frame in result.plots.items():
            write_csv(frame, tmp / f"{name}.csv")
        for i, (label, rows) in enumerate(reversed(map_rows(result.predictions, task, map_months))):
            maps.task_map_png(task, rows, grid, label, tmp / ("map_last.png" if i == 0 else f"map_{label}.png"))


def write_predictions(result: Evaluation, task: Task, grid: Grid, folder: Path) -> None:
    """Test predictions (Parquet) and the last period's cells as GeoJSON (time column → `period` label)."""
    with atomic_path(folder) as tmp:
        tmp.mkdir()
        result.predictions.to_parquet(tmp / "test_predictions.parquet", index=False, compression="zstd")
        label, rows = map_rows(result.predictions, task, "last")[0]
        maps.cells_geojson(rows.drop(columns=[task.time_column]).assign(period=label), grid,
                           tmp / "last_period.geojson")
