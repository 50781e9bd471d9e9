"""Climate prediction: grid cell × month panel, forecasting next month's precipitation total and mean
daily maximum temperature (regression, two targets) from the weather of that month and earlier months.

prepare → one row per cell and month with that month's weather aggregates and the two values of the
following month (the targets). featurize → lags, 3-month windows and each cell's past mean of the
target's calendar month, from earlier months only. Baselines: persistence (this month's value) and
climatology (the training years' mean of the same cell and calendar month, computed by evaluate).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geih.domain.grid import LAT_MAX, LAT_MIN, LON_MAX, LON_MIN, Grid
from geih.domain.monthly import full_months, month_bounds, monthly_reduce
from geih.errors import DataError
from geih.params import check_keys, number
from geih.tasks import common
from geih.tasks.task import MapSpec, Target, Task

PREPARE_KEYS = {"grid_resolution_deg"}
RAW_KINDS = ("boundary", "states", "weather")
HISTORY_MONTHS = 12  # a year of history before the first modelled month
WEATHER_COLUMNS = ["precip_mm", "rainy_days", "tmax_mean", "tmax_max", "rhmin_mean", "wind_mean"]
TARGETS = (Target("precip", "target_precip_mm", "mm", persistence_column="precip_mm"),
           Target("tmax", "target_tmax_c", "degC", persistence_column="tmax_mean"))
ID_COLUMNS = ["cell_id", "month", "target_month", "state"]
FEATURES = ["lat", "lon", "elevation_m", *WEATHER_COLUMNS,
            "precip_mm_m1", "precip_mm_m2", "precip_mm_3m", "tmax_mean_m1", "tmax_mean_m2", "tmax_mean_3m",
            "precip_target_month_clim", "tmax_target_month_clim", "target_month_sin", "target_month_cos"]
VALID_RANGES: dict[str, tuple[float | None, float | None]] = {
    "lat": (LAT_MIN, LAT_MAX), "lon": (LON_MIN, LON_MAX), "rainy_days": (0.0, 31.0), "rhmin_mean": (0.0, 100.0),
    **{f: (0.0, None) for f in ["precip_mm", "wind_mean", "precip_mm_m1", "precip_mm_m2", "precip_mm_3m",
                                "precip_target_month_clim"]},
    "target_month_sin": (-1.0, 1.0), "target_month_cos": (-1.0, 1.0),
}


def check_prepare_params(p: dict[str, Any]) -> None:
    """Validate the `prepare.climate_prediction` group before any work starts."""
    check_keys(p, PREPARE_KEYS, "prepare.climate_prediction")
    number(p, "grid_resolution_deg", "prepare.climate_prediction", low=0.05, high=5.0)


def monthly_weather(cube: common.WeatherCube, months: pd.DatetimeIndex) -> dict[str, np.ndarray]:
    """Monthly weather aggregates, each (cells, months)."""
    bounds = month_bounds(cube.dates, months)
    rainy = np.where(np.isnan(cube.precip_mm), np.nan, (np.nan_to_num(cube.precip_mm) >= 1.0).astype(float))
    return {
        "precip_mm": monthly_reduce(cube.precip_mm, bounds, "sum"),
        "rainy_days": monthly_reduce(rainy, bounds, "sum"),
        "tmax_mean": monthly_reduce(cube.tmax_c, bounds, "mean"),
        "tmax_max": monthly_reduce(cube.tmax_c, bounds, "max"),
        "rhmin_mean": monthly_reduce(cube.rhmin_pct, bounds, "mean"),
        "wind_mean": monthly_reduce(cube.wind_ms, bounds, "mean"),
    }


def assemble_panel(cells: pd.DataFrame, months: pd.DatetimeIndex, wx: dict[str, np.ndarray],
                   elevation_m: np.ndarray) -> pd.DataFrame:
    """Long cell × month frame for every month but the last, with the next month's values as targets."""
    n_cells, n_months = wx["precip_mm"].shape
    use = n_months - 1
    panel = pd.DataFrame({
        "cell_id": np.repeat(cells["cell_id"].to_numpy(), use),
        "month": np.tile(months[:use].to_numpy(), n_cells),
        "state": np.repeat(cells["state"].to_numpy(), use),
        "lat": np.repeat(cells["lat"].to_numpy(), use),
        "lon": np.repeat(cells["lon"].to_numpy(), use),
        "elevation_m": np.repeat(elevation_m, use),
    })
    for name in WEATHER_COLUMNS:
        panel[name] = wx[name][:, :use].reshape(-1)
    panel["target_month"] = panel["month"] + pd.offsets.MonthBegin(1)
    panel["target_precip_mm"] = wx["precip_mm"][:, 1:].reshape(-1)
    panel["target_tmax_c"] = wx["tmax_mean"][:, 1:].reshape(-1)
    return panel


def prepare(raw_dir: Path, p: dict[str, Any], joins: common.SpatialJoins = common.IN_PROCESS
            ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Build the cell × month panel from the weather of a raw folder; returns (panel, report);
    `joins` runs the spatial joins (in this process by default; on Dask: geih.compute.spatial).

    Cells without weather (no station) are dropped; DataError when fewer than HISTORY_MONTHS + 2 full
    months of weather remain.
    """
    check_prepare_params(p)
    raw_dir = Path(raw_dir)
    grid = Grid(float(p["grid_resolution_deg"]))
    _, cells = common.load_region(raw_dir, grid)
    raw = common.load_raw(raw_dir, [k for k in RAW_KINDS if k != "boundary"], grid, cells=cells)
    states, _ = raw["states"]
    cells["state"] = joins.assign_states(cells, states).to_numpy()
    cube, reports = raw["weather"]
    months = full_months(cube.dates)
    if len(months) < HISTORY_MONTHS + 2:
        raise DataError(f"the weather covers {len(months)} full month(s); climate prediction needs at least "
                        f"{HISTORY_MONTHS + 2}", file=str(raw_dir / "weather"))
    has_weather = ~np.isnan(cube.precip_mm).all(axis=1)
    panel = assemble_panel(cells, months, monthly_weather(cube, months), cube.elevation_m)
    panel = panel[np.repeat(has_weather, len(months) - 1)].reset_index(drop=True)
    report = {
        "weather_files": len(reports), "cells": int(has_weather.sum()),
        "cells_without_weather": int((~has_weather).sum()), "months": len(months), "rows": len(panel),
        "coverage": {"first_month": f"{months[0]:%Y-%m}", "last_target_month": f"{months[-1]:%Y-%m}"},
        "target_means": {t.name: float(panel[t.column].mean()) for t in TARGETS},
    }
    return panel, report


def featurize(panel: pd.DataFrame, grid_resolution_deg: float) -> pd.DataFrame:
    """Model features for each panel row from that month and earlier months only.

    Drops the first HISTORY_MONTHS − 1 months of each cell (no past year for the calendar-month means)
    and rows whose targets are missing.
    """
    panel = panel.sort_values(["cell_id", "month"], kind="stable").reset_index(drop=True)
    n_months = panel["month"].nunique()
    n_cells = panel["cell_id"].nunique()
    if n_cells * n_months != len(panel):
        raise DataError("the panel is not a complete cell × month grid", column="month")

    def by_cell(column: str) -> np.ndarray:
        return panel[column].to_numpy(dtype=float).reshape(n_cells, n_months)

    precip, tmax = by_cell("precip_mm"), by_cell("tmax_mean")
    feats = pd.DataFrame(index=panel.index)
    feats["precip_mm_m1"] = common.shift_months(precip, 1).reshape(-1)
    feats["precip_mm_m2"] = common.shift_months(precip, 2).reshape(-1)
    feats["precip_mm_3m"] = common.rolling_sum(precip, 3).reshape(-1)
    feats["tmax_mean_m1"] = common.shift_months(tmax, 1).reshape(-1)
    feats["tmax_mean_m2"] = common.shift_months(tmax, 2).reshape(-1)
    feats["tmax_mean_3m"] = (common.rolling_sum(tmax, 3) / np.minimum(np.arange(1, n_months + 1), 3)).reshape(-1)
    feats["precip_target_month_clim"] = common.same_calendar_month_mean(precip).reshape(-1)
    feats["tmax_target_month_clim"] = common.same_calendar_month_mean(tmax).reshape(-1)
    target_month = panel["target_month"].dt.month.to_numpy()
    feats["target_month_sin"] = np.sin(2 * np.pi * target_month / 12)
    feats["target_month_cos"] = np.cos(2 * np.pi * target_month / 12)
    base = ["lat", "lon", "elevation_m", *WEATHER_COLUMNS]
    out = pd.concat([panel[[*ID_COLUMNS, *(t.column for t in TARGETS)]], panel[base], feats], axis=1)
    month_idx = np.tile(np.arange(n_months), n_cells)
    keep = (month_idx >= HISTORY_MONTHS - 1) & out[[t.column for t in TARGETS]].notna().all(axis=1).to_numpy()
    return out[keep].reset_index(drop=True)


TASK = Task(
    name="climate_prediction", time_column="target_month", id_columns=tuple(ID_COLUMNS), features=tuple(FEATURES),
    valid_ranges=VALID_RANGES, registered_name="geih-climate-prediction",
    baseline_column="precip_mm", baseline_name="persistence",
    map=MapSpec(kind="values", observed_column="target_precip_mm", title="Forecast for {period}",
                observed_title="Observed {period}"),
    raw_kinds=RAW_KINDS, prepare=prepare, featurize=featurize, check_prepare_params=check_prepare_params,
    label_column="target_precip_mm", period_format="%Y-%m", climatology_by_calendar_month=True,
    kind="regression", targets=TARGETS, registry_metric="skill_vs_climatology",
    featurize_halo_cells=0,  # each cell's own months only
)
