"""Evaluation outputs: which periods are mapped, and the plot/prediction folders each task writes."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from geih.domain.grid import Grid
from geih.modelling.evaluate import Evaluation
from geih.modelling.outputs import map_rows, write_plots, write_predictions
from geih.tasks import get_task

FIRE = get_task("fire_risk")


def test_map_rows_last_or_all():
    pred = pd.DataFrame({"label_month": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-02-01"]), "x": [1, 2, 3]})
    last = map_rows(pred, FIRE, "last")
    assert [label for label, _ in last] == ["2024-02"] and len(last[0][1]) == 2
    assert [label for label, _ in map_rows(pred, FIRE, "all")] == ["2024-01", "2024-02"]


def predictions(task_name: str, grid: Grid) -> pd.DataFrame:
    """Two periods × three neighbouring cells with every column evaluate puts in predictions."""
    task = get_task(task_name)
    cells = grid.cell_of(pd.Series([-5.2, -5.2, -6.2]).to_numpy(), pd.Series([-60.2, -61.2, -60.2]).to_numpy())
    periods = (pd.to_datetime(["2023-01-01", "2023-02-01"]) if task.period_format else [2022, 2023])
    rows = [{"cell_id": c, task.time_column: t, "label": i % 2, "probability": 0.2 + 0.3 * i}
            for t in periods for i, c in enumerate(cells)]
    frame = pd.DataFrame(rows)
    for col in task.id_columns:
        if col not in frame:
            frame[col] = 1 if col != "state" else "PA"
    frame["risk_level"] = ["baixo", "médio", "crítico"] * 2
    return frame


@pytest.mark.parametrize("task_name", ["fire_risk", "deforestation"])
def test_writers_produce_plots_maps_and_predictions(tmp_path: Path, task_name: str):
    task, grid = get_task(task_name), Grid(1.0)
    result = Evaluation(metrics={}, plots={"roc": pd.DataFrame({"fpr": [0.0, 1.0], "tpr": [0.0, 1.0]})},
                        predictions=predictions(task_name, grid))
    write_plots(result, task, grid, "all", tmp_path / "plots")
    earlier = task.period_label(result.predictions[task.time_column].min())
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == sorted(
        ["roc.csv", "map_last.png", f"map_{earlier}.png"])
    write_predictions(result, task, grid, tmp_path / "pred")
    cells = gpd.read_file(tmp_path / "pred" / "last_period.geojson")
    assert len(cells) == 3 and task.time_column not in cells.columns
    assert set(cells["period"]) == {task.period_label(result.predictions[task.time_column].max())}
    assert len(pd.read_parquet(tmp_path / "pred" / "test_predictions.parquet")) == 6
