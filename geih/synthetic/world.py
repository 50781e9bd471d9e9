"""`generate_world`: build the synthetic Legal Amazon and write it in the real public file formats."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from geih.grid import Grid
from geih.synthetic import deforestation as defo
from geih.synthetic import fires as fi
from geih.synthetic import formats as fmt
from geih.synthetic import geography as geo
from geih.synthetic import landcover as lc
from geih.synthetic import maps
from geih.synthetic import vegetation as veg
from geih.synthetic import weather as wx
from geih.synthetic.config import WorldConfig

log = logging.getLogger(__name__)

STREAMS = ("geography", "landcover", "elevation", "weather", "deforestation", "polygons", "prodes", "fire",
           "detection", "records", "vegetation")
DEFORESTATION_THRESHOLD_KM2 = 1.0
TIMESTAMP = pa.timestamp("ms")


def _rngs(seed: int) -> dict[str, np.random.Generator]:
    """One independent generator per component, so changing one part leaves the others' draws alone."""
    seqs = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {name: np.random.default_rng(s) for name, s in zip(STREAMS, seqs)}


def _recent_clearing_pixels(polys: pd.DataFrame, shape: tuple[int, int], year: int) -> np.ndarray:
    """Pixels with a clearing imaged in calendar year `year` or the one before."""
    out = np.zeros(shape, dtype=bool)
    if len(polys):
        y = pd.DatetimeIndex(polys["image_date"]).year
        sel = polys[(y == year) | (y == year - 1)]
        out[sel["cell"].to_numpy(), sel["pixel"].to_numpy()] = True
    return out


def _flammability(fracs: dict[str, np.ndarray], config: WorldConfig) -> np.ndarray:
    c = config.fire
    w = {"forest": c.weight_forest, "savanna": c.weight_savanna, "grassland": c.weight_grassland,
         "pasture": c.weight_pasture, "crop": c.weight_crop, "mosaic": c.weight_mosaic, "other": c.weight_other}
    return sum(fracs[g] * w[g] for g in w)


def _clear_stale(folder: Path, pattern: str) -> None:
    """Remove files this generator owns from an earlier run (e.g. months no longer in the span)."""
    if folder.exists():
        for p in folder.glob(pattern):
            p.unlink()


def generate_world(config: WorldConfig, raw_dir: Path, truth_dir: Path, plots_dir: Path,
                   progress: bool = True) -> dict[str, Any]:
    """Generate the world from `config` and write raw files, truth files and map PNGs; return counts."""
    t0 = time.perf_counter()
    raw_dir, truth_dir, plots_dir = Path(raw_dir), Path(truth_dir), Path(plots_dir)
    rng = _rngs(config.seed)
    res = config.grid_resolution_deg
    grid = Grid(res)
    years = list(range(config.start_year, config.end_year + 1))

    boundary = geo.legal_amazon_boundary()
    states = geo.state_polygons(boundary)
    roads = geo.fishbone_roads(boundary, rng["geography"])
    settlements = geo.build_settlements(roads, boundary, rng["geography"])
    cells = geo.build_cells(grid, boundary, states, roads, settlements)
    n_cells = len(cells)
    log.info("geography: %d cells of %.3g°, %d roads, %d settlements", n_cells, res, len(roads), len(settlements))

    pix = lc.pixel_grid(grid, cells, config.subcells)
    base = lc.base_landcover(pix, roads, settlements, config.landcover, rng["landcover"])
    elev_noise = lc.smooth_field((grid.nrows, grid.ncols), 1.0 / res, rng["elevation"])
    elevation = geo.elevation_m(cells["lat"].to_numpy(), cells["lon"].to_numpy(),
                                elev_noise[cells["row"].to_numpy(), cells["col"].to_numpy()])

    weather = wx.generate_weather(cells, (grid.nrows, grid.ncols), res, elevation, config, rng["weather"])
    mw = wx.monthly(weather)
    log.info("weather: %d days × %d cells", len(weather.dates) - weather.n_burn, n_cells)

    clearing = defo.simulate_clearing(grid, cells, pix, base, config, rng["deforestation"], progress)
    geoms = defo.polygon_geometries(clearing.polygons, pix, cells, clearing.slots_per_side, rng["polygons"])
    by_year = lc.yearly_classification(base, clearing.flip_year, years)
    fracs = {y: lc.group_fractions(by_year[y]) for y in years}
    cleared_m = defo.monthly_cleared(clearing.polygons, n_cells, mw.months)

    flam = {y: _flammability(fracs[y], config) for y in years}
    smooth = lc.smooth_field((grid.nrows, grid.ncols), 1.5 / res, rng["fire"])
    smooth = smooth[cells["row"].to_numpy(), cells["col"].to_numpy()]
    eta = fi.log_intensity(cells, mw, flam, cleared_m, weather.seasonality, smooth / smooth.std(), config,
                           rng["fire"])
    lam = np.exp(eta) * config.hotspot_scale * fi.area_factor(cells["area_km2"].to_numpy())[:, None]
    span_months = mw.months[mw.n_burn:]
    pixel_w = {y: fi.pixel_flammability(by_year[y], config.fire)
               + 2.0 * _recent_clearing_pixels(clearing.polygons, base.shape, y) for y in years}
    true_fires = fi.sample_fires(lam, pix, by_year, pixel_w, weather, span_months, rng["fire"], progress)
    det = fi.detect(true_fires, weather, res, config, rng["detection"])
    records = fi.hotspot_records(det, true_fires, cells, weather, config, rng["records"])
    log.info("fires: %d true fires, %d hotspot rows", true_fires.cell.size, len(records))

    summary: dict[str, Any] = {"cells": n_cells, "files": {}}
    files = summary["files"]

    def count(rel: str, n: int) -> None:
        files[rel] = int(n)

    fmt.write_geojson(raw_dir / "boundary" / "legal_amazon.geojson",
                      pd.DataFrame({"name": ["Amazônia Legal"]}), [boundary], "legal_amazon")
    count("boundary/legal_amazon.geojson", 1)
    fmt.write_geojson(raw_dir / "states" / "states.geojson", states[["state", "state_id", "name"]],
                      states.geometry, "states")
    count("states/states.geojson", len(states))
    fmt.write_geojson(raw_dir / "roads" / "roads.geojson", roads[["name", "kind"]], roads.geometry, "roads")
    count("roads/roads.geojson", len(roads))
    fmt.write_geojson(raw_dir / "settlements" / "settlements.geojson", settlements[["name", "population"]],
                      settlements.geometry, "settlements")
    count("settlements/settlements.geojson", len(settlements))

    lc_table = lc.landcover_table(pix, by_year)
    fmt.write_parquet(raw_dir / "landcover" / "mapbiomas_lulc.parquet", lc_table)
    count("landcover/mapbiomas_lulc.parquet", len(lc_table))
    del lc_table

    wt = wx.weather_table(cells, weather)
    fmt.write_parquet(raw_dir / "weather" / "weather_daily.parquet", wt, {"date": TIMESTAMP})
    count("weather/weather_daily.parquet", len(wt))
    del wt

    vt = veg.vegetation_table(cells, weather, fracs, cleared_m, mw.months, config.start_year, config.end_year,
                              rng["vegetation"])
    fmt.write_parquet(raw_dir / "vegetation_index" / "mod13_16day.parquet", vt, {"date": TIMESTAMP})
    count("vegetation_index/mod13_16day.parquet", len(vt))

    prodes = defo.prodes_table(clearing.polygons, geoms, cells, config.prodes_years, rng["prodes"])
    fmt.write_geojson(raw_dir / "deforestation" / "prodes_yearly_deforestation.geojson",
                      prodes.drop(columns="geometry"), prodes["geometry"], "yearly_deforestation")
    count("deforestation/prodes_yearly_deforestation.geojson", len(prodes))

    hot_dir = raw_dir / "hotspots"
    _clear_stale(hot_dir, "focos_mensal_br_*.csv")
    formatted = fmt.bdqueimadas_frame(records)
    month_key = records["time"].to_numpy().astype("datetime64[M]")
    for m in span_months:
        sel = month_key == np.datetime64(m, "M")
        name = f"focos_mensal_br_{m.year}{m.month:02d}.csv"
        fmt.write_bdqueimadas(hot_dir / name, formatted[sel])
        count(f"hotspots/{name}", int(sel.sum()))
    summary["hotspot_rows"] = len(records)
    summary["true_fires"] = int(true_fires.cell.size)

    ref_lam = lam * config.detection.reference_prob
    fire_truth = pd.DataFrame({
        "cell_id": np.repeat(cells["cell_id"].to_numpy(), len(span_months)),
        "month": np.tile(span_months.values, n_cells),
        "probability": (-np.expm1(-ref_lam)).ravel(),
    }).sort_values(["month", "cell_id"], kind="stable")
    fmt.write_parquet(truth_dir / "fire_risk.parquet", fire_truth, {"month": TIMESTAMP})
    keep = [clearing.years.index(y) for y in config.prodes_years]
    defo_truth = pd.DataFrame({
        "cell_id": np.repeat(cells["cell_id"].to_numpy(), len(keep)),
        "year": np.tile(np.asarray(config.prodes_years), n_cells),
        "probability": clearing.probability[:, keep].ravel(),
    }).sort_values(["year", "cell_id"], kind="stable")
    fmt.write_parquet(truth_dir / "deforestation.parquet", defo_truth)
    fmt.write_json(truth_dir / "manifest.json", {
        "available": True, "grid_resolution_deg": res, "reference_satellite": fi.REFERENCE_SATELLITE,
        "deforestation_threshold_km2": DEFORESTATION_THRESHOLD_KM2})
    count("truth/fire_risk.parquet", len(fire_truth))
    count("truth/deforestation.parquet", len(defo_truth))

    _write_maps(plots_dir, config, pix, by_year, boundary, states, roads, settlements, cells, grid, records,
                weather)
    summary["positive_rate_reference"] = float((-np.expm1(-ref_lam)).mean())
    summary["seconds"] = round(time.perf_counter() - t0, 2)
    log.info("synthetic world written in %.1f s: %d hotspot rows, %d PRODES polygons", summary["seconds"],
             len(records), len(prodes))
    return summary


def _write_maps(plots_dir: Path, config: WorldConfig, pix: lc.PixelGrid, by_year: dict[int, np.ndarray],
                boundary, states, roads, settlements, cells: pd.DataFrame, grid: Grid, records: pd.DataFrame,
                weather: wx.Weather) -> None:
    """The four map PNGs."""
    last = config.end_year
    maps.landcover_map(plots_dir / "landcover.png", pix, by_year[last], last, boundary)
    maps.roads_map(plots_dir / "roads_settlements.png", states, roads, settlements)
    ref = records[records["satellite"] == fi.REFERENCE_SATELLITE]
    cell_of = grid.cell_of(ref["lat"].to_numpy(), ref["lon"].to_numpy())
    counts = pd.Series(cell_of).value_counts().reindex(cells["cell_id"].to_numpy(), fill_value=0).to_numpy()
    maps.hotspot_map(plots_dir / "hotspot_density.png", cells, counts, grid.nrows, grid.ncols, boundary,
                     f"{fi.REFERENCE_SATELLITE} hotspots per cell, {config.start_year}–{last}")
    year = config.drought_year if config.drought_year in range(config.start_year, last + 1) else last
    day = pd.Timestamp(f"{year}-09-30")
    d = int((day - weather.dates[0]).days)
    maps.dryness_map(plots_dir / "dryness_dry_season.png", cells, weather.dsr[:, d].astype(float), grid.nrows,
                     grid.ncols, boundary, f"Days without rain on {day.date()}")
