"""Fire risk: grid cell × month panel, labelled "at least one hotspot in the cell next month".

prepare → one row per cell and month with that month's observations (hotspot count, weather
aggregates, INPE fire-risk index, land cover of the previous year, distances, past clearing) and
the label of the following month. featurize → lags and neighbour counts from earlier months only.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geih.domain import fire_index
from geih.domain.grid import LAT_MAX, LAT_MIN, LON_MAX, LON_MIN, Grid, neighbour_array_sum, neighbour_pairs
from geih.domain.monthly import full_months, month_bounds, monthly_reduce
from geih.errors import DataError
from geih.ingest.sources.hotspot_rules import dedup_hotspots
from geih.ingest.sources.landcover import dominant_class
from geih.params import check_keys, choice, number
from geih.tasks import common
from geih.tasks.common import expanding_mean as _expanding_mean
from geih.tasks.common import rolling_sum as _rolling_sum
from geih.tasks.common import same_calendar_month_mean as _same_calendar_month_mean
from geih.tasks.common import shift_months as _shift
from geih.tasks.task import MapSpec, Task

log = logging.getLogger(__name__)

PREPARE_KEYS = {"grid_resolution_deg", "dedup", "reference_satellite"}
WEATHER_FEATURES = ["precip_mm", "rainy_days", "days_without_rain", "max_dry_spell", "tmax_mean",
                    "tmax_max", "rhmin_mean", "rhmin_min", "wind_mean", "inpe_risk_mean", "inpe_risk_max"]
STATIC_FEATURES = ["lat", "lon", "dist_road_km", "dist_settlement_km"]
CLEARING_FEATURES = ["cleared_km2_last_year", "cleared_frac_total", "cleared_km2_12m"]
HISTORY_MONTHS = 12
RAW_KINDS = ("boundary", "states", "weather", "hotspots", "landcover", "roads", "settlements", "deforestation")


def check_prepare_params(p: dict[str, Any]) -> None:
    """Validate the `prepare.fire_risk` group before any work starts."""
    check_keys(p, PREPARE_KEYS, "prepare.fire_risk")
    number(p, "grid_resolution_deg", "prepare.fire_risk", low=0.05, high=5.0)
    choice(p, "dedup", "prepare.fire_risk", {"reference", "place_time"})


def monthly_hotspot_counts(hotspots: pd.DataFrame, grid: Grid, cells: pd.DataFrame,
                           months: pd.DatetimeIndex) -> np.ndarray:
    """Hotspot counts as a (cells, months) array; detections outside the months are ignored."""
    pos = common.cell_positions(grid, cells, hotspots["lat"].to_numpy(), hotspots["lon"].to_numpy())
    month = hotspots["datetime"].dt.to_period("M").dt.to_timestamp()
    m_idx = months.get_indexer(pd.DatetimeIndex(month))
    keep = (pos >= 0) & (m_idx >= 0)
    flat = pos[keep] * len(months) + m_idx[keep]
    return np.bincount(flat, minlength=len(cells) * len(months)).reshape(len(cells), len(months))


def monthly_weather(cube: common.WeatherCube, months: pd.DatetimeIndex,
                    veg_class: np.ndarray, lat: np.ndarray) -> dict[str, np.ndarray]:
    """Monthly weather aggregates and INPE fire-risk index statistics, each (cells, months); the daily
    intermediates (days without rain, the index) `common.CELL_BLOCK` cells at a time."""
    bounds = month_bounds(cube.dates, months)

    def of_cells(rows: slice) -> dict[str, np.ndarray]:
        return _monthly_weather(cube.of_cells(rows), bounds, veg_class[rows], lat[rows])

    return common.by_cell_blocks(of_cells, len(lat))


def _monthly_weather(cube: common.WeatherCube, bounds: np.ndarray, veg_class: np.ndarray,
                     lat: np.ndarray) -> dict[str, np.ndarray]:
    dry = common.days_since_rain(cube.precip_mm)
    rainy = (np.nan_to_num(cube.precip_mm) >= 1.0).astype(float)
    risk = fire_index.fire_risk(cube.precip_mm, cube.tmax_c, cube.rhmin_pct, veg_class,
                                lat=lat, elevation_m=cube.elevation_m)
    return {
        "precip_mm": monthly_reduce(cube.precip_mm, bounds, "sum"),
        "rainy_days": monthly_reduce(rainy, bounds, "sum"),
        "days_without_rain": monthly_reduce(dry, bounds, "last"),
        "max_dry_spell": monthly_reduce(dry, bounds, "max"),
        "tmax_mean": monthly_reduce(cube.tmax_c, bounds, "mean"),
        "tmax_max": monthly_reduce(cube.tmax_c, bounds, "max"),
        "rhmin_mean": monthly_reduce(cube.rhmin_pct, bounds, "mean"),
        "rhmin_min": monthly_reduce(cube.rhmin_pct, bounds, "min"),
        "wind_mean": monthly_reduce(cube.wind_ms, bounds, "mean"),
        "inpe_risk_mean": monthly_reduce(risk, bounds, "mean"),
        "inpe_risk_max": monthly_reduce(risk, bounds, "max"),
    }


def panel_months(weather_months: pd.DatetimeIndex, hotspot_months: pd.DatetimeIndex,
                 raw_dir: Path) -> pd.DatetimeIndex:
    """The months of the panel: full weather months that hotspot files cover (a label needs both).

    DataError naming the gap when the hotspot files leave months uncovered between covered ones (those
    months would be labelled 0), or when fewer than HISTORY_MONTHS + 2 months remain.
    """
    months = weather_months.intersection(hotspot_months)
    common.require_months_without_gap(months, "no hotspot file covers", raw_dir / "hotspots",
                                      "add the hotspot files of those months.")
    if len(months) < HISTORY_MONTHS + 2:
        raise DataError(f"hotspot files cover {', '.join(common.month_runs(hotspot_months)) or 'no month'} and "
                        f"weather {', '.join(common.month_runs(weather_months)) or 'no full month'}: "
                        f"{len(months)} month(s) in common; fire risk needs at least {HISTORY_MONTHS + 2}",
                        file=str(raw_dir / "hotspots"))
    return months


def coverage(hotspot_months: pd.DatetimeIndex, hot_reports: list, dates: pd.DatetimeIndex,
             landcover: pd.DataFrame, prodes: pd.DataFrame, months: pd.DatetimeIndex) -> dict[str, Any]:
    """What each source covers and what the panel covers (its months; labels one month later)."""
    return {
        "hotspots": {"months": len(hotspot_months), "runs": common.month_runs(hotspot_months),
                     "files": len(hot_reports), "files_without_rows": sum(r.period is None for r in hot_reports)},
        "weather": {"first_day": f"{dates[0]:%Y-%m-%d}", "last_day": f"{dates[-1]:%Y-%m-%d}"},
        "landcover": {"years": common.year_runs(landcover["year"].unique())},
        "deforestation": {"years": common.year_runs(prodes["year"].unique()) if len(prodes) else []},
        "panel": {"months": len(months) - 1, "first": f"{months[0]:%Y-%m}", "last": f"{months[-2]:%Y-%m}",
                  "last_label_month": f"{months[-1]:%Y-%m}"},
    }


def prepare(raw_dir: Path, p: dict[str, Any], joins: common.SpatialJoins = common.IN_PROCESS
            ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Build the cell × month panel from a raw folder; returns (panel, cleaning report). `joins` runs
    the spatial joins (in this process by default; on Dask: geih.compute.spatial).

    The panel covers only months that both the weather and the hotspot files cover (see `panel_months`).
    """
    check_prepare_params(p)
    raw_dir = Path(raw_dir)
    grid = Grid(float(p["grid_resolution_deg"]))
    boundary, cells = common.load_region(raw_dir, grid)
    raw = common.load_raw(raw_dir, [k for k in RAW_KINDS if k != "boundary"], grid, cells=cells)
    states, _ = raw["states"]
    cells["state"] = joins.assign_states(cells, states).to_numpy()

    cube, weather_reports = raw.pop("weather")
    hotspots, hot_reports = raw.pop("hotspots")
    hotspot_months = common.months_covered(hot_reports)
    months = panel_months(full_months(cube.dates), hotspot_months, raw_dir)

    n_loaded = len(hotspots)
    hotspots, n_outside = joins.clip_to_region(hotspots, boundary.geometry.union_all())
    hotspots, dedup_counts = dedup_hotspots(hotspots, p["dedup"], p["reference_satellite"])
    counts = monthly_hotspot_counts(hotspots, grid, cells, months)

    landcover, _ = raw["landcover"]
    lc_years = np.sort(landcover["year"].unique())
    veg_class = fire_index.vegetation_class_from_mapbiomas(
        dominant_class(grid, cells, landcover, int(lc_years[0])))
    lc = common.landcover_fractions(grid, cells, landcover)

    roads, _ = raw["roads"]
    settlements, _ = raw["settlements"]
    dist = common.distances_km(cells, roads, settlements)
    prodes, _ = raw["deforestation"]
    clearing = common.clearing_by_cell_year(grid, cells, prodes)

    wx = monthly_weather(cube, months, veg_class, cells["lat"].to_numpy())
    wx["cleared_km2_12m"] = monthly_clearing_12m(grid, cells, prodes, months)
    panel = assemble_panel(cells, months, counts, wx, lc, dist, clearing)
    report = {
        "hotspots_loaded": n_loaded, "hotspots_outside_region": n_outside,
        "hotspots_after_dedup": len(hotspots), **{f"dedup_{k}": v for k, v in dedup_counts.items()},
        "hotspot_files": len(hot_reports), "weather_files": len(weather_reports),
        "cleaning": _sum_counts(hot_reports + weather_reports),
        "coverage": coverage(hotspot_months, hot_reports, cube.dates, landcover, prodes, months),
        "cells": len(cells), "months": len(months), "rows": len(panel),
        "positive_rate": float(panel["label"].mean()),
    }
    return panel, report


def _sum_counts(reports: list) -> dict[str, int]:
    total: dict[str, int] = {}
    for r in reports:
        for key, value in r.counts.items():
            total[key] = total.get(key, 0) + int(value)
    return dict(sorted(total.items()))


def monthly_clearing_12m(grid: Grid, cells: pd.DataFrame, prodes: pd.DataFrame,
                         months: pd.DatetimeIndex) -> np.ndarray:
    """PRODES area (km²) whose image date falls in the 12 months up to and including each month,
    as a (cells, months) array; polygons without an image date are left out."""
    out = np.zeros((len(cells), len(months)))
    dated = prodes[prodes["image_date"].notna()] if "image_date" in prodes.columns else prodes.iloc[:0]
    if dated.empty:
        return out
    points = dated.geometry.representative_point()
    pos = common.cell_positions(grid, cells, points.y.to_numpy(), points.x.to_numpy())
    month = pd.DatetimeIndex(pd.to_datetime(dated["image_date"])).to_period("M").to_timestamp()
    m_idx = months.get_indexer(month)
    keep = (pos >= 0) & (m_idx >= 0)
    np.add.at(out, (pos[keep], m_idx[keep]), dated["area_km2"].to_numpy(dtype=float)[keep])
    return _rolling_sum(out, 12)


def assemble_panel(cells: pd.DataFrame, months: pd.DatetimeIndex, counts: np.ndarray,
                   wx: dict[str, np.ndarray], lc: pd.DataFrame, dist: pd.DataFrame,
                   clearing: pd.DataFrame) -> pd.DataFrame:
    """Long cell × month frame for all months but the last (whose label month is unseen)."""
    n_cells, n_months = counts.shape
    use = slice(0, n_months - 1)
    rows = n_cells * (n_months - 1)
    panel = pd.DataFrame({
        "cell_id": np.repeat(cells["cell_id"].to_numpy(), n_months - 1),
        "month": np.tile(months[use].to_numpy(), n_cells),
        "state": np.repeat(cells["state"].to_numpy(), n_months - 1),
    })
    for col in ("lat", "lon"):
        panel[col] = np.repeat(cells[col].to_numpy(), n_months - 1)
    for col in dist.columns:
        panel[col] = np.repeat(dist[col].to_numpy(), n_months - 1)
    panel["n_hotspots"] = counts[:, use].reshape(rows)
    for name, arr in wx.items():
        panel[name] = arr[:, use].reshape(rows)

    # Land cover of the previous calendar year (the first map for the first year).
    lc_year = np.clip(panel["month"].dt.year.to_numpy() - 1, lc["year"].min(), lc["year"].max())
    panel["lc_year"] = lc_year
    panel = panel.merge(lc.rename(columns={"year": "lc_year"}), on=["cell_id", "lc_year"], how="left")
    panel = panel.drop(columns="lc_year")

    # Clearing in the last PRODES year that ended before the month, and the total to then.
    last_year = common.last_complete_prodes_year(pd.DatetimeIndex(panel["month"]))
    last_km2, total_km2 = common.clearing_lookup(cells, clearing, panel["cell_id"].to_numpy(), last_year)
    panel["cleared_km2_last_year"] = last_km2
    area = panel["cell_id"].map(dict(zip(cells["cell_id"], cells["area_km2"]))).to_numpy()
    panel["cleared_frac_total"] = np.clip(total_km2 / area, 0, 1)

    panel = panel.sort_values(["cell_id", "month"], kind="stable").reset_index(drop=True)
    panel["label_month"] = panel["month"] + pd.offsets.MonthBegin(1)
    panel["n_hotspots_label_month"] = counts[:, 1:].reshape(rows)
    panel["label"] = (panel["n_hotspots_label_month"] > 0).astype(np.int64)
    return panel


def featurize(panel: pd.DataFrame, grid_resolution_deg: float) -> pd.DataFrame:
    """Model features for each panel row from that month and earlier months only.

    Drops the first HISTORY_MONTHS − 1 months of each cell, which lack a full year of history.
    """
    panel = panel.sort_values(["cell_id", "month"], kind="stable").reset_index(drop=True)
    months = pd.DatetimeIndex(np.sort(panel["month"].unique()))
    cell_ids = panel["cell_id"].unique()
    n_cells, n_months = len(cell_ids), len(months)
    if n_cells * n_months != len(panel):
        raise DataError("the panel is not a complete cell × month grid", column="month")
    hot = panel["n_hotspots"].to_numpy().reshape(n_cells, n_months).astype(float)
    grid = Grid(grid_resolution_deg)
    pairs = neighbour_pairs(grid, cell_ids)
    nb = neighbour_array_sum(hot, cell_ids, pairs)

    feats = pd.DataFrame(index=panel.index)
    feats["hotspots_m0"] = hot.reshape(-1)
    feats["hotspots_m1"] = _shift(hot, 1).reshape(-1)
    feats["hotspots_m2"] = _shift(hot, 2).reshape(-1)
    feats["hotspots_12m"] = _rolling_sum(hot, HISTORY_MONTHS).reshape(-1)
    feats["fire_months_12m"] = _rolling_sum((hot > 0).astype(float), HISTORY_MONTHS).reshape(-1)
    feats["hotspots_same_month_last_year"] = _shift(hot, HISTORY_MONTHS - 1).reshape(-1)
    feats["hotspots_mean_all_past"] = _expanding_mean(hot).reshape(-1)
    feats["fire_rate_label_calendar_month"] = _same_calendar_month_mean((hot > 0).astype(float)).reshape(-1)
    feats["hotspots_label_calendar_month"] = _same_calendar_month_mean(hot).reshape(-1)
    feats["neighbour_hotspots_m0"] = nb.reshape(-1)
    feats["neighbour_hotspots_12m"] = _rolling_sum(nb, HISTORY_MONTHS).reshape(-1)
    precip = panel["precip_mm"].to_numpy().reshape(n_cells, n_months)
    feats["precip_mm_m1"] = _shift(precip, 1).reshape(-1)
    feats["precip_mm_3m"] = _rolling_sum(precip, 3).reshape(-1)
    feats["precip_label_calendar_month_clim"] = _same_calendar_month_mean(precip).reshape(-1)
    label_month = panel["label_month"].dt.month.to_numpy()
    feats["label_month_sin"] = np.sin(2 * np.pi * label_month / 12)
    feats["label_month_cos"] = np.cos(2 * np.pi * label_month / 12)
    base_cols = STATIC_FEATURES + WEATHER_FEATURES + common.LANDCOVER_FEATURES + CLEARING_FEATURES
    out = pd.concat([panel[["cell_id", "month", "label_month", "state", "n_hotspots_label_month", "label"]],
                     panel[base_cols], feats], axis=1)
    month_idx = np.tile(np.arange(n_months), n_cells)
    return out[month_idx >= HISTORY_MONTHS - 1].reset_index(drop=True)


FEATURES = (STATIC_FEATURES + WEATHER_FEATURES + common.LANDCOVER_FEATURES + CLEARING_FEATURES + [
    "hotspots_m0", "hotspots_m1", "hotspots_m2", "hotspots_12m", "fire_months_12m",
    "hotspots_same_month_last_year", "hotspots_mean_all_past", "fire_rate_label_calendar_month",
    "hotspots_label_calendar_month", "neighbour_hotspots_m0", "neighbour_hotspots_12m",
    "precip_mm_m1", "precip_mm_3m", "precip_label_calendar_month_clim", "label_month_sin", "label_month_cos"])
ID_COLUMNS = ["cell_id", "month", "label_month", "state", "n_hotspots_label_month"]
# Physically valid range of each bounded feature (inclusive; unlisted features: any finite value).
VALID_RANGES: dict[str, tuple[float | None, float | None]] = {
    "lat": (LAT_MIN, LAT_MAX), "lon": (LON_MIN, LON_MAX),
    **{f: (0.0, None) for f in ["dist_road_km", "dist_settlement_km", "precip_mm", "days_without_rain",
                                "max_dry_spell", "wind_mean", "cleared_km2_last_year", "cleared_km2_12m",
                                "hotspots_m0", "hotspots_m1", "hotspots_m2", "hotspots_12m",
                                "hotspots_same_month_last_year", "hotspots_mean_all_past",
                                "hotspots_label_calendar_month", "neighbour_hotspots_m0", "neighbour_hotspots_12m",
                                "precip_mm_m1", "precip_mm_3m", "precip_label_calendar_month_clim"]},
    "rainy_days": (0.0, 31.0), "rhmin_mean": (0.0, 100.0), "rhmin_min": (0.0, 100.0),
    "inpe_risk_mean": (0.0, 1.0), "inpe_risk_max": (0.0, 1.0), "cleared_frac_total": (0.0, 1.0),
    "fire_months_12m": (0.0, 12.0), "fire_rate_label_calendar_month": (0.0, 1.0),
    "label_month_sin": (-1.0, 1.0), "label_month_cos": (-1.0, 1.0),
    **{f: (0.0, 1.0) for f in common.LANDCOVER_FEATURES},
}


TASK = Task(
    name="fire_risk", time_column="label_month", id_columns=tuple(ID_COLUMNS), features=tuple(FEATURES),
    valid_ranges=VALID_RANGES, registered_name="geih-fire-risk",
    baseline_column="inpe_risk_max", baseline_name="inpe",  # INPE's own fire-risk index as the score
    map=MapSpec(kind="risk_levels", observed_column="n_hotspots_label_month",
                title="Fire risk {period}: predicted level and observed hotspots"),
    raw_kinds=RAW_KINDS, prepare=prepare, featurize=featurize, check_prepare_params=check_prepare_params,
    period_format="%Y-%m", climatology_by_calendar_month=True, truth_time_column="month",
    featurize_halo_cells=1,  # neighbour hotspot counts
)
