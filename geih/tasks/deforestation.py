"""Deforestation detection: grid cell × PRODES year (1 Aug – 31 Jul), labelled "cleared area in the
cell that year above `threshold_km2`".

Features come from the vegetation index within and before the year, the year's rain, distances,
earlier clearing and land cover two calendar years back. None sees the label year's PRODES
polygons: those only make the label.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geih.domain.grid import (
    LAT_MAX,
    LAT_MIN,
    LON_MAX,
    LON_MIN,
    Grid,
    distance_to_features_km,
    neighbour_array_sum,
    neighbour_pairs,
)
from geih.errors import DataError
from geih.params import check_keys, number
from geih.tasks import common
from geih.tasks.task import MapSpec, Task

log = logging.getLogger(__name__)

PREPARE_KEYS = {"grid_resolution_deg", "threshold_km2"}
RAW_KINDS = ("boundary", "states", "weather", "deforestation", "vegetation_index", "landcover", "roads", "settlements",
             "prodes_increments")
OPTIONAL_KINDS = ("prodes_increments",)  # official aggregates, compared with the panel when present
VI_FEATURES = ["ndvi_mean", "ndvi_min", "ndvi_amplitude", "ndvi_slope", "ndvi_drop_vs_last_year",
               "evi_mean", "evi_min", "evi_drop_vs_last_year", "ndvi_mean_prev_year"]
# What a remote-sensing analyst adds (see add_recent_clearing, recent_clearing_distance, front_distance,
# vegetation_anomalies, add_context); tests/tasks/test_deforestation_feature_leakage.py checks each one.
ANALYST_FEATURES = ["cleared_km2_prev_3_years", "clearing_event_rate_before", "neighbour_event_frac_prev_year",
                    "neighbour_cleared_km2_trend", "dist_recent_clearing_km", "dist_front_km",
                    "ndvi_anomaly_mean", "ndvi_anomaly_min", "evi_anomaly_mean", "ndvi_break_frac",
                    "lc_forest_change", "frontier_index", "road_access_forest", "settlement_access_forest"]
FEATURES = (["lat", "lon", "dist_road_km", "dist_settlement_km", "dist_prior_clearing_km",
             "cleared_frac_before", "cleared_km2_prev_year", "neighbour_cleared_km2_prev_year",
             "precip_year_mm", "precip_dry_season_mm"] + VI_FEATURES
            + ["lc_forest", "lc_pasture", "lc_agriculture", "lc_savanna"] + ANALYST_FEATURES)
ID_COLUMNS = ["cell_id", "year", "state", "cleared_km2"]
# Physically valid range of each bounded feature (inclusive; unlisted features: any finite value).
VALID_RANGES: dict[str, tuple[float | None, float | None]] = {
    "lat": (LAT_MIN, LAT_MAX), "lon": (LON_MIN, LON_MAX),
    **{f: (0.0, None) for f in ["dist_road_km", "dist_settlement_km", "dist_prior_clearing_km",
                                "cleared_km2_prev_year", "neighbour_cleared_km2_prev_year", "precip_year_mm",
                                "precip_dry_season_mm"]},
    "cleared_frac_before": (0.0, 1.0),
    **{f: (-1.0, 1.0) for f in ["ndvi_mean", "ndvi_min", "evi_mean", "evi_min", "ndvi_mean_prev_year"]},
    **{f: (0.0, 1.0) for f in ["lc_forest", "lc_pasture", "lc_agriculture", "lc_savanna"]},
    **{f: (0.0, None) for f in ["cleared_km2_prev_3_years", "dist_recent_clearing_km", "dist_front_km"]},
    **{f: (0.0, 1.0) for f in ["clearing_event_rate_before", "neighbour_event_frac_prev_year", "ndvi_break_frac",
                               "frontier_index", "road_access_forest", "settlement_access_forest"]},
    **{f: (-2.0, 2.0) for f in ["ndvi_anomaly_mean", "ndvi_anomaly_min", "evi_anomaly_mean"]},
    "lc_forest_change": (-1.0, 1.0),
}


def check_prepare_params(p: dict[str, Any]) -> None:
    """Validate the `prepare.deforestation` group before any work starts."""
    check_keys(p, PREPARE_KEYS, "prepare.deforestation")
    number(p, "grid_resolution_deg", "prepare.deforestation", low=0.05, high=5.0)
    number(p, "threshold_km2", "prepare.deforestation", low=0.0)


def prodes_years_covered(dates: pd.DatetimeIndex) -> list[int]:
    """PRODES years (Aug Y−1 – Jul Y) fully inside the daily `dates`."""
    candidates = range(dates[0].year + 1, dates[-1].year + 1)  # year Y starts on 1 Aug of Y−1 ≥ the first day
    return [y for y in candidates if pd.Timestamp(y - 1, 8, 1) >= dates[0] and pd.Timestamp(y, 7, 31) <= dates[-1]]


def vegetation_stats(grid: Grid, cells: pd.DataFrame, vi: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """NDVI/EVI statistics per cell and PRODES year: mean, min, amplitude, slope, drop vs the year
    before (same season), and last year's mean."""
    pos = common.cell_positions(grid, cells, vi["lat"].to_numpy(), vi["lon"].to_numpy())
    frame = pd.DataFrame({"pos": pos, "date": pd.to_datetime(vi["date"]),
                          "ndvi": vi["ndvi"].to_numpy(float), "evi": vi["evi"].to_numpy(float)})
    frame = frame[frame["pos"] >= 0]
    frame["year"] = common.prodes_year_of(pd.DatetimeIndex(frame["date"]))
    # Time in years from each PRODES year's start (1 Aug Y−1): the slope's unit is NDVI per year.
    year_start = pd.to_datetime(pd.DataFrame({"year": frame["year"] - 1, "month": 8, "day": 1}))
    frame["t"] = (frame["date"] - year_start).dt.days / 365.25
    cell_year = frame.groupby(["pos", "year"])
    stats = cell_year.agg(ndvi_mean=("ndvi", "mean"), ndvi_min=("ndvi", "min"), ndvi_max=("ndvi", "max"),
                          evi_mean=("evi", "mean"), evi_min=("evi", "min"))
    stats["ndvi_amplitude"] = stats.pop("ndvi_max") - stats["ndvi_min"]
    # Least-squares slope of NDVI against time within the year (per year⁻¹).
    frame["tn"] = frame["t"] * frame["ndvi"]
    frame["tt"] = frame["t"] ** 2
    valid = frame.dropna(subset=["ndvi"])
    s = valid.groupby(["pos", "year"]).agg(n=("t", "size"), st=("t", "sum"), sn=("ndvi", "sum"),
                                           stn=("tn", "sum"), stt=("tt", "sum"))
    denom = s["n"] * s["stt"] - s["st"] ** 2
    stats["ndvi_slope"] = ((s["n"] * s["stn"] - s["st"] * s["sn"]) / denom.where(denom > 0)).reindex(stats.index)
    stats = stats.reset_index()
    prev = stats[["pos", "year", "ndvi_mean", "evi_mean"]].copy()
    prev["year"] += 1
    stats = stats.merge(prev.rename(columns={"ndvi_mean": "ndvi_mean_prev_year", "evi_mean": "_evi_prev"}),
                        on=["pos", "year"], how="left")
    stats["ndvi_drop_vs_last_year"] = stats["ndvi_mean_prev_year"] - stats["ndvi_mean"]
    stats["evi_drop_vs_last_year"] = stats.pop("_evi_prev") - stats["evi_mean"]
    stats = stats[stats["year"].isin(years)]
    stats["cell_id"] = cells["cell_id"].to_numpy()[stats["pos"].to_numpy()]
    return stats.drop(columns="pos")


def yearly_precip(cube: common.WeatherCube, years: list[int]) -> pd.DataFrame:
    """Rain per cell over each PRODES year and over its dry season (Jun–Sep of year Y−1… the Jun–Jul
    tail and Aug–Sep head that fall in the year)."""
    dates = cube.dates
    py = common.prodes_year_of(dates)
    dry = np.asarray(dates.month.isin([6, 7, 8, 9]))
    rows = []
    for year in years:
        in_year = py == year
        rows.append(pd.DataFrame({
            "pos": np.arange(cube.precip_mm.shape[0]), "year": year,
            "precip_year_mm": np.nansum(cube.precip_mm[:, in_year], axis=1),
            "precip_dry_season_mm": np.nansum(cube.precip_mm[:, in_year & dry], axis=1),
        }))
    return pd.concat(rows, ignore_index=True)


def prior_clearing_distance(cells: pd.DataFrame, prodes: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """Distance (km) from each cell centre to the nearest PRODES polygon of an earlier year."""
    rows = []
    lat, lon = cells["lat"].to_numpy(), cells["lon"].to_numpy()
    for year in years:
        earlier = prodes[prodes["year"] < year]
        dist = distance_to_features_km(lat, lon, earlier.geometry.representative_point()) \
            if len(earlier) else np.full(len(cells), np.inf)
        rows.append(pd.DataFrame({"cell_id": cells["cell_id"].to_numpy(), "year": year,
                                  "dist_prior_clearing_km": np.minimum(dist, 2000.0)}))
    return pd.concat(rows, ignore_index=True)


def panel_years(weather_years: list[int], prodes_years: list[int], raw_dir: Path) -> list[int]:
    """The PRODES years of the panel: those the weather covers in full and the PRODES polygons cover
    (a year without any polygon is a year without PRODES data, not a year without clearing).

    DataError naming the gap when PRODES years are missing between covered ones, or when fewer than two
    years remain.
    """
    years = sorted(set(weather_years) & set(prodes_years))
    common.require_years_without_gap(years, "no PRODES polygon covers", raw_dir / "deforestation",
                                     "add the PRODES increments of those years.")
    if len(years) < 2:
        raise DataError(f"weather covers PRODES years {', '.join(common.year_runs(weather_years)) or 'none'} and "
                        f"PRODES polygons {', '.join(common.year_runs(prodes_years)) or 'none'}: deforestation needs "
                        "at least two PRODES years (1 Aug – 31 Jul) covered by both", file=str(raw_dir / "deforestation"))
    return years


def compare_with_official(panel: pd.DataFrame, official: pd.DataFrame, n_files: int) -> dict[str, Any]:
    """Prepared clearing per state and PRODES year against the official increments (TerraBrasilis).

    Official state-level rows are used where a table gives them, else municipality rows summed per
    state; conservation-unit rows overlap both and are not compared. Only state-years present on both
    sides are compared. Returns totals, the largest difference and the differences per year (km²).
    """
    keys = ["state", "year"]
    prepared = panel.groupby(keys, as_index=False)["cleared_km2"].sum().rename(columns={"cleared_km2": "prepared_km2"})
    sums = official.groupby(["level", *keys], as_index=False)["area_km2"].sum()
    states = sums[sums["level"] == "state"]
    municipal = sums[sums["level"] == "municipality"].merge(states[keys], on=keys, how="left", indicator=True)
    reference = pd.concat([states[[*keys, "area_km2"]],
                           municipal.loc[municipal["_merge"] == "left_only", [*keys, "area_km2"]]])
    both = prepared.merge(reference.rename(columns={"area_km2": "official_km2"}), on=keys, how="inner")
    both = both.sort_values(keys, kind="stable").set_index(keys)
    out: dict[str, Any] = {"files": n_files, "state_years": len(both),
                           "conservation_unit_rows_not_compared": int((official["level"] == "conservation_unit").sum())}
    if both.empty:
        return out
    both["difference_km2"] = both["prepared_km2"] - both["official_km2"]
    worst = both["difference_km2"].abs().idxmax()
    total_official = float(both["official_km2"].sum())

    def km2(value: float, digits: int = 3) -> float:
        return round(float(value), digits) + 0.0  # + 0.0: no "-0.0"

    out.update({
        "prepared_km2": km2(both["prepared_km2"].sum()),
        "official_km2": km2(total_official),
        "difference_km2": km2(both["difference_km2"].sum()),
        "relative_difference": km2(both["difference_km2"].sum() / total_official, 5) if total_official else None,
        "max_abs_difference_km2": km2(abs(both.loc[worst, "difference_km2"])),
        # where it is, when it shows at the metric's precision
        "max_abs_difference_at": f"{worst[0]} {worst[1]}" if km2(abs(both.loc[worst, "difference_km2"])) else "",
        "difference_km2_by_year": {str(y): km2(v) for y, v in
                                   both.groupby(level="year")["difference_km2"].sum().items()},
    })
    log.info("prepared clearing vs official PRODES increments, km² per state and year:\n%s", both.round(3))
    return out


def prepare(raw_dir: Path, p: dict[str, Any], joins: common.SpatialJoins = common.IN_PROCESS
            ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Build the cell × PRODES-year panel; returns (panel, report);
    `joins` runs the spatial joins (in this process by default; on Dask: geih.compute.spatial).

    The panel covers only PRODES years that both the weather and the PRODES polygons cover (see
    `panel_years`); official increment tables, when present (``prodes_increments/``), are compared with
    the prepared clearing per state and year (`compare_with_official`).
    """
    check_prepare_params(p)
    raw_dir = Path(raw_dir)
    grid = Grid(float(p["grid_resolution_deg"]))
    _, cells = common.load_region(raw_dir, grid)
    raw = common.load_raw(raw_dir, [k for k in RAW_KINDS if k != "boundary"], grid, optional=OPTIONAL_KINDS,
                          cells=cells)
    states, _ = raw["states"]
    cells["state"] = joins.assign_states(cells, states).to_numpy()

    cube, _ = raw.pop("weather")
    prodes, prodes_reports = raw["deforestation"]
    weather_years = prodes_years_covered(cube.dates)
    prodes_years = sorted(int(y) for y in prodes["year"].unique())
    years = panel_years(weather_years, prodes_years, raw_dir)
    clearing = common.clearing_by_cell_year(grid, cells, prodes)
    vi, _ = raw["vegetation_index"]
    if vi.empty:
        raise DataError("no vegetation-index rows: the NDVI/EVI features and their anomalies need the composites "
                        "of every panel year", file="vegetation_index/")
    landcover, _ = raw["landcover"]
    roads, _ = raw["roads"]
    settlements, _ = raw["settlements"]

    panel = pd.DataFrame({
        "cell_id": np.repeat(cells["cell_id"].to_numpy(), len(years)),
        "year": np.tile(np.asarray(years, dtype=np.int64), len(cells)),
    })
    static = cells[["cell_id", "lat", "lon", "state", "area_km2"]].join(common.distances_km(cells, roads, settlements))
    panel = panel.merge(static, on="cell_id", how="left")
    panel = panel.merge(clearing, on=["cell_id", "year"], how="left")
    panel["cleared_km2"] = panel["cleared_km2"].fillna(0.0)
    panel = add_clearing_history(panel.sort_values(["cell_id", "year"], kind="stable").reset_index(drop=True),
                                 cells, clearing, grid)
    panel = add_recent_clearing(panel, cells, clearing, grid, years, float(p["threshold_km2"]))
    panel = panel.merge(prior_clearing_distance(cells, prodes, years), on=["cell_id", "year"], how="left")
    panel = panel.merge(recent_clearing_distance(cells, prodes, years), on=["cell_id", "year"], how="left")
    precip = yearly_precip(cube, years)
    precip["cell_id"] = cells["cell_id"].to_numpy()[precip.pop("pos").to_numpy()]
    panel = panel.merge(precip, on=["cell_id", "year"], how="left")
    panel = panel.merge(vegetation_stats(grid, cells, vi, years), on=["cell_id", "year"], how="left")
    panel = panel.merge(vegetation_anomalies(grid, cells, vi, years), on=["cell_id", "year"], how="left")
    lc = common.landcover_fractions(grid, cells, landcover)
    # Land cover of calendar year Y−2 ends before PRODES year Y starts (1 Aug Y−1); the latest map stands in
    # for later years. A year with no map that old gets none (NaN): a later map would show the clearing of
    # its own label year.
    panel["lc_year"] = np.minimum(panel["year"] - 2, lc["year"].max())
    panel = panel.merge(lc.rename(columns={"year": "lc_year"}), on=["cell_id", "lc_year"], how="left")
    panel = panel.merge(front_distance(cells, landcover).rename(columns={"year": "lc_year"}),
                        on=["cell_id", "lc_year"], how="left")
    panel = add_context(panel, lc)
    panel = panel.drop(columns=["lc_year"]).sort_values(["cell_id", "year"], kind="stable").reset_index(drop=True)
    panel["label"] = (panel["cleared_km2"] > float(p["threshold_km2"])).astype(np.int64)
    report = {"cells": len(cells), "years": years, "rows": len(panel),
              "prodes_polygons": int(sum(r.rows_kept for r in prodes_reports)),
              "coverage": {"weather_prodes_years": common.year_runs(weather_years),
                           "deforestation_years": common.year_runs(prodes_years),
                           "vegetation_index": {"first_day": f"{vi['date'].min():%Y-%m-%d}",
                                                "last_day": f"{vi['date'].max():%Y-%m-%d}"},
                           "landcover_years": common.year_runs(landcover["year"].unique()),
                           "panel_years": common.year_runs(years)},
              "positive_rate": float(panel["label"].mean())}
    if "prodes_increments" in raw:
        official, official_reports = raw["prodes_increments"]
        report["official_increments"] = compare_with_official(panel, official, len(official_reports))
    return panel, report


def add_clearing_history(panel: pd.DataFrame, cells: pd.DataFrame, clearing: pd.DataFrame,
                         grid: Grid) -> pd.DataFrame:
    """Clearing before the label year: the cell's fraction cleared, last year's km², and the
    neighbours' km² last year. `panel` is a complete cell × year grid sorted by cell then year."""
    cell_id, year = panel["cell_id"].to_numpy(), panel["year"].to_numpy()
    prev_km2, total_km2 = common.clearing_lookup(cells, clearing, cell_id, year - 1)
    panel["cleared_km2_prev_year"] = prev_km2
    panel["cleared_frac_before"] = np.clip(total_km2 / panel["area_km2"].to_numpy(), 0, 1)
    cell_ids = panel["cell_id"].unique()
    by_cell = prev_km2.reshape(len(cell_ids), -1)
    nb = neighbour_array_sum(by_cell, cell_ids, neighbour_pairs(grid, cell_ids))
    panel["neighbour_cleared_km2_prev_year"] = nb.reshape(-1)
    return panel


# ---------------------------------------------------------------- analyst features (all from before/within Y)

ANTHROPIC_GROUPS = ("pasture", "agriculture", "mosaic", "urban")  # land converted by people: the front
BREAK_SD = 3.0  # a composite this many of the pixel's own standard deviations below its history is a break
MIN_SD = 0.01


def _covered(year: np.ndarray, years: list[int], back: int) -> np.ndarray:
    """Whether PRODES year `year − back` is one of the panel's years (its polygons are known)."""
    return np.isin(np.asarray(year) - back, np.asarray(years))


def add_recent_clearing(panel: pd.DataFrame, cells: pd.DataFrame, clearing: pd.DataFrame, grid: Grid,
                        years: list[int], threshold_km2: float) -> pd.DataFrame:
    """Recent clearing of the cell and its neighbours, from PRODES years before the label year only.

    cleared_km2_prev_3_years (Y−3 … Y−1, the years the panel covers), clearing_event_rate_before (share
    of the covered earlier years with clearing above `threshold_km2`: the cell's own clearing habit),
    neighbour_event_frac_prev_year (share of the 8 neighbours with such clearing in Y−1) and
    neighbour_cleared_km2_trend (neighbours' km² in Y−1 minus Y−2). A value whose years are not covered
    is NaN (no PRODES data is not no clearing); so are last year's km² of the cell and its neighbours in
    the first panel year. `panel` is a complete cell × year grid sorted by cell then year.
    """
    cell_id, year = panel["cell_id"].to_numpy(), panel["year"].to_numpy()
    cell_ids = panel["cell_id"].unique()
    n_cells = len(cell_ids)
    pairs = neighbour_pairs(grid, cell_ids)
    n_neighbours = neighbour_array_sum(np.ones((n_cells, 1)), cell_ids, pairs)
    per_back = {}
    for back in (1, 2, 3):
        km2, _ = common.clearing_lookup(cells, clearing, cell_id, year - back)
        per_back[back] = np.where(_covered(year, years, back), km2, np.nan)
    recent = np.stack(list(per_back.values()), axis=1)
    panel["cleared_km2_prev_3_years"] = np.where(np.isnan(recent).all(axis=1), np.nan,
                                                 np.nansum(recent, axis=1))
    first = min(years)
    earlier_events = np.zeros(len(panel))
    for y in years:
        km2, _ = common.clearing_lookup(cells, clearing, cell_id, np.full(len(panel), y))
        earlier_events += (km2 > threshold_km2) & (y < year)
    n_earlier = np.array([sum(1 for y in years if y < v) for v in year], dtype=float)
    panel["clearing_event_rate_before"] = np.where(year > first, earlier_events / np.maximum(n_earlier, 1), np.nan)
    prev_event = (np.nan_to_num(per_back[1]) > threshold_km2).astype(float).reshape(n_cells, -1)
    nb_events = neighbour_array_sum(prev_event, cell_ids, pairs)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = (nb_events / n_neighbours).reshape(-1)
    panel["neighbour_event_frac_prev_year"] = np.where(_covered(year, years, 1), frac, np.nan)
    nb = {back: neighbour_array_sum(np.nan_to_num(per_back[back]).reshape(n_cells, -1), cell_ids, pairs).reshape(-1)
          for back in (1, 2)}
    panel["neighbour_cleared_km2_trend"] = np.where(_covered(year, years, 2), nb[1] - nb[2], np.nan)
    no_last_year = ~_covered(year, years, 1)
    panel.loc[no_last_year, ["cleared_km2_prev_year", "neighbour_cleared_km2_prev_year"]] = np.nan
    return panel


def recent_clearing_distance(cells: pd.DataFrame, prodes: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """Distance (km, at most 2000) from each cell centre to the nearest PRODES polygon of year Y − 1
    (NaN when that year is not covered): how close last year's clearing came."""
    rows = []
    lat, lon = cells["lat"].to_numpy(), cells["lon"].to_numpy()
    for year in years:
        last = prodes[prodes["year"] == year - 1]
        if year - 1 not in years:
            dist = np.full(len(cells), np.nan)
        else:
            dist = np.minimum(distance_to_features_km(lat, lon, last.geometry.representative_point())
                              if len(last) else np.full(len(cells), np.inf), 2000.0)
        rows.append(pd.DataFrame({"cell_id": cells["cell_id"].to_numpy(), "year": year,
                                  "dist_recent_clearing_km": dist}))
    return pd.concat(rows, ignore_index=True)


def front_distance(cells: pd.DataFrame, landcover: pd.DataFrame) -> pd.DataFrame:
    """Distance (km, at most 2000) from each cell centre to the nearest pixel of converted land
    (pasture, agriculture, mosaic, urban) in each land-cover map: the deforestation front.
    Columns cell_id, year (of the map), dist_front_km."""
    import geopandas as gpd

    codes = [c for g in ANTHROPIC_GROUPS for c in common.LANDCOVER_GROUPS[g]]
    lat, lon = cells["lat"].to_numpy(), cells["lon"].to_numpy()
    rows = []
    for year in np.sort(landcover["year"].unique()):
        sub = landcover[(landcover["year"] == year) & landcover["class_code"].isin(codes)]
        points = gpd.GeoSeries(gpd.points_from_xy(sub["lon"], sub["lat"]))
        dist = distance_to_features_km(lat, lon, points) if len(sub) else np.full(len(cells), np.inf)
        rows.append(pd.DataFrame({"cell_id": cells["cell_id"].to_numpy(), "year": int(year),
                                  "dist_front_km": np.minimum(dist, 2000.0)}))
    return pd.concat(rows, ignore_index=True)


def vegetation_anomalies(grid: Grid, cells: pd.DataFrame, vi: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """NDVI/EVI of each vegetation-index pixel against its own history, summarised per cell and PRODES year.

    A pixel's history for year Y is its composites of the earlier PRODES years, by 16-day slot of the
    calendar year (same season). Per pixel and year: the mean anomaly (value − history mean of its
    slot), the lowest, and whether any composite is a break (more than BREAK_SD of the pixel's own
    standard deviation below its history). Per cell: ndvi_anomaly_mean and evi_anomaly_mean (mean over
    its pixels), ndvi_anomaly_min (lowest), ndvi_break_frac (share of its pixels with a break). Only data
    up to the end of year Y is used; years without history are NaN.
    """
    dates = pd.DatetimeIndex(pd.to_datetime(vi["date"]))
    pixel_key = pd.MultiIndex.from_arrays([vi["lat"].to_numpy(), vi["lon"].to_numpy()])
    pixel, uniques = pd.factorize(pixel_key)
    pix_lat = np.array([u[0] for u in uniques], dtype=float)
    pix_lon = np.array([u[1] for u in uniques], dtype=float)
    pos = common.cell_positions(grid, cells, pix_lat, pix_lon)
    py = common.prodes_year_of(dates)
    all_years = np.arange(py.min(), max(years) + 1)
    slot = np.minimum((dates.day_of_year.to_numpy() - 1) // 16, 22)
    keep = (py <= max(years))
    n_pix, n_y = len(uniques), len(all_years)
    shape = (n_pix, n_y, 23)
    out = {}
    for name in ("ndvi", "evi"):
        values = vi[name].to_numpy(dtype=float)
        ok = keep & np.isfinite(values)
        flat = np.ravel_multi_index((pixel[ok], py[ok] - all_years[0], slot[ok]), shape)
        size = int(np.prod(shape))
        s = np.bincount(flat, weights=values[ok], minlength=size).reshape(shape)
        n = np.bincount(flat, minlength=size).reshape(shape).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.where(n > 0, s / np.maximum(n, 1), np.nan)  # pixel × year × slot mean
            present = np.isfinite(value)
            v0 = np.where(present, value, 0.0)
            # history: the earlier years only (cumulative sums shifted by one year)
            h_n = np.cumsum(present, axis=1) - present
            h_s = np.cumsum(v0, axis=1) - v0
            h_ss = np.cumsum(v0 ** 2, axis=1) - v0 ** 2
            h_mean = np.where(h_n > 0, h_s / np.maximum(h_n, 1), np.nan)
            anomaly = value - h_mean
            # the pixel's own spread: residual variance over its earlier composites, pooled over slots
            resid_ss = h_ss - h_n * np.nan_to_num(h_mean) ** 2
            pooled_n = np.sum(np.maximum(h_n - 1, 0), axis=2)
            sd = np.sqrt(np.where(pooled_n > 0, np.sum(np.where(h_n > 1, resid_ss, 0.0), axis=2)
                                  / np.maximum(pooled_n, 1), np.nan))
            has = np.isfinite(anomaly).any(axis=2)
            mean = np.where(has, np.nansum(anomaly, axis=2) / np.maximum(np.isfinite(anomaly).sum(axis=2), 1),
                            np.nan)
            low = np.where(has, np.nanmin(np.where(np.isfinite(anomaly), anomaly, np.inf), axis=2), np.nan)
        out[f"{name}_mean"], out[f"{name}_low"], out[f"{name}_sd"] = mean, low, sd
    with np.errstate(invalid="ignore"):
        brk = np.where(np.isfinite(out["ndvi_low"]) & np.isfinite(out["ndvi_sd"]),
                       out["ndvi_low"] < -BREAK_SD * np.maximum(out["ndvi_sd"], MIN_SD), np.nan)
    inside = pos >= 0
    rows = []
    for j, year in enumerate(all_years):
        if year not in years:
            continue
        per_pixel = pd.DataFrame({"pos": pos[inside], "ndvi_anomaly_mean": out["ndvi_mean"][inside, j],
                                  "evi_anomaly_mean": out["evi_mean"][inside, j],
                                  "ndvi_anomaly_min": out["ndvi_low"][inside, j], "ndvi_break_frac": brk[inside, j]})
        agg = per_pixel.groupby("pos").agg(ndvi_anomaly_mean=("ndvi_anomaly_mean", "mean"),
                                           evi_anomaly_mean=("evi_anomaly_mean", "mean"),
                                           ndvi_anomaly_min=("ndvi_anomaly_min", "min"),
                                           ndvi_break_frac=("ndvi_break_frac", "mean"))
        agg = agg.reindex(np.arange(len(cells)))
        agg.insert(0, "year", int(year))
        agg.insert(0, "cell_id", cells["cell_id"].to_numpy())
        rows.append(agg.reset_index(drop=True))
    return pd.concat(rows, ignore_index=True)


def add_context(panel: pd.DataFrame, lc: pd.DataFrame) -> pd.DataFrame:
    """Land-cover context and access: the change of the forest fraction between the maps of Y−3 and Y−2
    (NaN without both), the frontier index 4·f·(1−f) of the forest fraction f, and road and settlement
    proximity (exp(−km / 50), exp(−km / 35)) times f: access to forest that is left to clear."""
    earlier = lc[["cell_id", "year", "lc_forest"]].rename(columns={"year": "lc_year", "lc_forest": "_forest_before"})
    earlier["lc_year"] += 1
    panel = panel.merge(earlier, on=["cell_id", "lc_year"], how="left")
    f = panel["lc_forest"]
    panel["lc_forest_change"] = f - panel.pop("_forest_before")
    panel["frontier_index"] = 4.0 * f * (1.0 - f)
    panel["road_access_forest"] = np.exp(-panel["dist_road_km"] / 50.0) * f
    panel["settlement_access_forest"] = np.exp(-panel["dist_settlement_km"] / 35.0) * f
    return panel


def featurize(panel: pd.DataFrame, grid_resolution_deg: float) -> pd.DataFrame:
    """The panel already holds features computed from before/within the year; keep the columns."""
    return panel[[*ID_COLUMNS, "label", *FEATURES]].reset_index(drop=True)


TASK = Task(
    name="deforestation", time_column="year", id_columns=tuple(ID_COLUMNS), features=tuple(FEATURES),
    valid_ranges=VALID_RANGES, registered_name="geih-deforestation",
    baseline_column="neighbour_cleared_km2_prev_year", baseline_name="neighbours",  # clearing next door last year
    map=MapSpec(kind="probability", observed_column="label", title="Predicted clearing probability, PRODES {period}",
                observed_title="Cells cleared in PRODES {period}"),
    raw_kinds=RAW_KINDS, prepare=prepare, featurize=featurize, check_prepare_params=check_prepare_params,
    truth_params={"threshold_km2": "deforestation_threshold_km2"},
    featurize_halo_cells=0,  # featurize selects columns row by row
)
