"""Map outputs of evaluation: PNG maps of the Legal Amazon grid and GeoJSON cells for GIS users."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from geih.domain.grid import LAT_MAX, LON_MIN, Grid
from geih.domain.risk_levels import PROBABILITY_LEVEL_COLORS, PROBABILITY_LEVELS
from geih.io import atomic_path

if TYPE_CHECKING:
    from geih.tasks.task import Task

PNG_METADATA = {"Software": None}  # no version stamp: identical bytes on re-runs


def _raster(grid: Grid, cell_id: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """A (rows, cols) array of `values` placed at their cells, NaN elsewhere, cropped to the data."""
    row, col = grid.row_col(cell_id)
    r0, r1, c0, c1 = row.min(), row.max() + 1, col.min(), col.max() + 1
    arr = np.full((r1 - r0, c1 - c0), np.nan)
    arr[row - r0, col - c0] = values
    res = grid.resolution
    extent = [LON_MIN + c0 * res, LON_MIN + c1 * res, LAT_MAX - r1 * res, LAT_MAX - r0 * res]
    return arr, extent


def _figure(ncols: int):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, ncols, figsize=(6.5 * ncols, 5.6), dpi=100, squeeze=False)
    return plt, fig, axes[0]


def risk_map_png(frame: pd.DataFrame, grid: Grid, title: str, path: str | Path) -> None:
    """Cells coloured by probability level (columns cell_id, risk_level), observed fires (column observed
    > 0) as black dots; written atomically."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    plt, fig, (ax,) = _figure(1)
    level_idx = pd.Categorical(frame["risk_level"], categories=PROBABILITY_LEVELS).codes.astype(float)
    arr, extent = _raster(grid, frame["cell_id"].to_numpy(), level_idx)
    cmap = ListedColormap([PROBABILITY_LEVEL_COLORS[level] for level in PROBABILITY_LEVELS])
    ax.imshow(arr, extent=extent, cmap=cmap, vmin=-0.5, vmax=len(PROBABILITY_LEVELS) - 0.5, interpolation="nearest")
    fired = frame[frame["observed"] > 0]
    lat, lon = grid.center(fired["cell_id"].to_numpy())
    ax.scatter(lon, lat, s=3, c="black", label="observed hotspots")
    handles = [Patch(color=PROBABILITY_LEVEL_COLORS[lv], label=lv) for lv in PROBABILITY_LEVELS]
    handles.append(plt.Line2D([], [], marker="o", ls="", color="black", ms=3, label="hotspot observed"))
    ax.legend(handles=handles, loc="lower left", fontsize=8)
    ax.set_title(title)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    _save(plt, fig, path)


def probability_map_png(frame: pd.DataFrame, grid: Grid, title: str, observed_title: str,
                        path: str | Path) -> None:
    """Two panels: predicted probability per cell (column probability), and the cells where the
    event was observed (column observed > 0)."""
    plt, fig, (left, right) = _figure(2)
    arr, extent = _raster(grid, frame["cell_id"].to_numpy(), frame["probability"].to_numpy())
    im = left.imshow(arr, extent=extent, cmap="YlOrRd", vmin=0, vmax=1, interpolation="nearest")
    fig.colorbar(im, ax=left, shrink=0.8, label="probability")
    left.set_title(title)
    obs, _ = _raster(grid, frame["cell_id"].to_numpy(), (frame["observed"].to_numpy() > 0).astype(float))
    right.imshow(obs, extent=extent, cmap="Greys", vmin=0, vmax=1, interpolation="nearest")
    right.set_title(observed_title)
    for ax in (left, right):
        ax.set_xlabel("longitude")
        ax.set_ylabel("latitude")
    _save(plt, fig, path)


def values_map_png(frame: pd.DataFrame, grid: Grid, task: Task, title: str, observed_title: str,
                   path: str | Path) -> None:
    """One row of two panels per target of a regression task: the forecast (column predicted_<name>)
    beside the observed value (the target's column), on one colour scale per target."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    targets = task.targets
    fig, axes = plt.subplots(len(targets), 2, figsize=(13, 5.2 * len(targets)), dpi=100, squeeze=False)
    for (left, right), target in zip(axes, targets):
        predicted, observed = frame[f"predicted_{target.name}"].to_numpy(), frame[target.column].to_numpy()
        low, high = np.nanmin([predicted.min(), observed.min()]), np.nanmax([predicted.max(), observed.max()])
        for ax, values, heading in ((left, predicted, title), (right, observed, observed_title)):
            arr, extent = _raster(grid, frame["cell_id"].to_numpy(), values)
            im = ax.imshow(arr, extent=extent, cmap="viridis", vmin=low, vmax=high, interpolation="nearest")
            fig.colorbar(im, ax=ax, shrink=0.8, label=f"{target.name} ({target.units})")
            ax.set_title(f"{heading}: {target.name}")
            ax.set_xlabel("longitude")
            ax.set_ylabel("latitude")
    _save(plt, fig, path)


def task_map_png(task: Task, rows: pd.DataFrame, grid: Grid, period: str, path: str | Path) -> None:
    """The evaluation map of one test period, drawn as the task's MapSpec says: risk levels with the
    observed events as dots, the predicted probability beside the cells where the event was observed,
    or (regression) forecast beside observed values per target."""
    spec = task.map
    frame = rows.assign(observed=rows[spec.observed_column])
    title, observed_title = spec.title.format(period=period), spec.observed_title.format(period=period)
    if spec.kind == "values":
        values_map_png(frame, grid, task, title, observed_title, path)
    elif spec.kind == "risk_levels":
        risk_map_png(frame, grid, title, path)
    else:
        probability_map_png(frame, grid, title, observed_title, path)


def _save(plt, fig, path: str | Path) -> None:
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", metadata=PNG_METADATA)
    plt.close(fig)


def cells_geojson(frame: pd.DataFrame, grid: Grid, path: str | Path) -> None:
    """Square cell polygons with every column of `frame` as properties, as GeoJSON (EPSG:4326)."""
    import geopandas as gpd
    import shapely

    lat, lon = grid.center(frame["cell_id"].to_numpy())
    half = grid.resolution / 2
    boxes = shapely.box(lon - half, lat - half, lon + half, lat + half)
    gdf = gpd.GeoDataFrame(frame.reset_index(drop=True), geometry=boxes, crs="EPSG:4326")
    with atomic_path(path) as tmp:
        gdf.to_file(tmp, driver="GeoJSON")
