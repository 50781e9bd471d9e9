"""Featurize on a Dask cluster: the task's own `featurize`, run per latitude band of cells.

A band is `rows_per_band` grid rows of cells (cell ids are row-major, so a band is one contiguous range
of cell ids). Each band is featurized with a halo of `task.featurize_halo_cells` grid rows around it
(the neighbours its cells read) and keeps only its own cells; the bands, concatenated in order, are the
rows `task.featurize(panel)` gives for the whole panel, value for value (tests/compute/test_partitions.py).
Features over time (lags, rolling and expanding means, calendar-month climatologies) read each cell's
whole history, so bands split space, never time. A task whose halo is None is featurized whole, on one
worker.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from geih.domain.grid import Grid
from geih.tasks.task import Task

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Band:
    """Cell ids [first, stop) a band keeps, and [read_first, read_stop) it reads (band plus halo)."""

    first: int
    stop: int
    read_first: int
    read_stop: int


def rows_per_band(grid: Grid, band_deg: float) -> int:
    """Grid rows in a band of about `band_deg` degrees of latitude (at least one)."""
    return max(1, round(band_deg / grid.resolution))


def latitude_bands(grid: Grid, cell_ids: np.ndarray, band_rows: int, halo_rows: int | None) -> list[Band]:
    """The bands holding at least one of `cell_ids`; halo None → one band of every cell."""
    cell_ids = np.asarray(cell_ids, dtype=np.int64)
    if halo_rows is None:
        return [Band(0, grid.nrows * grid.ncols, 0, grid.nrows * grid.ncols)] if len(cell_ids) else []
    rows = np.unique(cell_ids // grid.ncols)
    out = []
    for start in range(0, grid.nrows, band_rows):
        stop = min(start + band_rows, grid.nrows)
        if not ((rows >= start) & (rows < stop)).any():
            continue
        out.append(Band(start * grid.ncols, stop * grid.ncols, max(0, start - halo_rows) * grid.ncols,
                        min(grid.nrows, stop + halo_rows) * grid.ncols))
    return out


def featurize_band(task: Task, panel: pd.DataFrame, grid_resolution_deg: float, band: Band) -> pd.DataFrame:
    """`task.featurize` of the band's panel rows (band plus halo), keeping the band's own cells."""
    frame = task.featurize(panel, grid_resolution_deg)
    ids = frame["cell_id"].to_numpy()
    return frame[(ids >= band.first) & (ids < band.stop)].reset_index(drop=True)


def band_panels(panel: pd.DataFrame, bands: list[Band]) -> list[pd.DataFrame]:
    """The panel rows each band reads, in panel order."""
    ids = panel["cell_id"].to_numpy()
    return [panel[(ids >= b.read_first) & (ids < b.read_stop)] for b in bands]


def featurize_on_dask(client: Any, task: Task, panel: pd.DataFrame, grid_resolution_deg: float,
                      band_deg: float) -> pd.DataFrame:
    """The featurized frame of `panel`, computed band by band on the cluster of `client` (see the module
    docstring); equal to `task.featurize(panel, grid_resolution_deg)`."""
    grid = Grid(grid_resolution_deg)
    bands = latitude_bands(grid, panel["cell_id"].unique(), rows_per_band(grid, band_deg),
                           task.featurize_halo_cells)
    log.info("featurize@%s on Dask: %d latitude band(s) of ~%g° (halo %s cell rows)", task.name, len(bands),
             band_deg, task.featurize_halo_cells)
    parts = client.scatter(band_panels(panel, bands))
    futures = [client.submit(featurize_band, task, part, grid_resolution_deg, band, pure=False)
               for part, band in zip(parts, bands)]
    frames = client.gather(futures)
    return pd.concat(frames, ignore_index=True)


def band_count(grid: Grid, band_deg: float) -> int:
    """How many latitude bands of `band_deg` cover the grid (prepare's partitions of the cells)."""
    return max(1, math.ceil(grid.nrows / rows_per_band(grid, band_deg)))


def featurize(client: Any, task: Task, panel: pd.DataFrame, grid_resolution_deg: float, band_deg: float
              ) -> pd.DataFrame:
    """`task.featurize(panel)` in this process without a client, else `featurize_on_dask` (same rows)."""
    if client is None:
        return task.featurize(panel, grid_resolution_deg)
    return featurize_on_dask(client, task, panel, grid_resolution_deg, band_deg)
