"""`generate_world`: build the synthetic Legal Amazon and write it in the real public file formats."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from shapely.geometry import Polygon

from geih.domain.grid import LAT_MAX, LON_MIN, Grid
from geih.ingest.synthetic import deforestation as defo
from geih.ingest.synthetic import fires as fi
from geih.ingest.synthetic import formats as fmt
from geih.ingest.synthetic import geography as geo
from geih.ingest.synthetic import landcover as lc
from geih.ingest.synthetic import vegetation as veg
from geih.ingest.synthetic import weather as wx
from geih.ingest.synthetic.config import WorldConfig

log = logging.getLogger(__name__)

# New streams go last: SeedSequence.spawn gives the earlier ones the same seeds whatever follows them.
STREAMS = ("geography", "landcover", "elevation", "weather", "deforestation", "polygons", "prodes", "fire",
           "detection", "records", "vegetation", "fire_regime")
DEFORESTATION_THRESHOLD_KM2 = 1.0
WEATHER_CHUNK_ROW_GROUPS = 2  # Parquet row groups of the daily weather built and written at a time
TIMESTAMP = pa.timestamp("ms")


@dataclass(frozen=True)
class World:
    """Everything generated in memory, before writing."""

    config: WorldConfig
    grid: Grid
    boundary: Polygon
    states: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    settlements: gpd.GeoDataFrame
    cells: pd.DataFrame
    pix: lc.PixelGrid
    landcover: dict[int, np.ndarray]  # codes per calendar year, (n_cells, subcells²)
    fractions: dict[int, dict[str, np.ndarray]]
    weather: wx.Weather
    monthly: wx.MonthlyWeather
    clearing: defo.Clearing
    polygons: np.ndarray  # shapely polygons aligned with clearing.polygons
    cleared_monthly: np.ndarray
    fire_lambda: np.ndarray  # expected true fires per cell and span month
    hotspots: pd.DataFrame  # typed BDQueimadas records

    @property
    def span_months(self) -> pd.DatetimeIndex:
        return self.monthly.months[self.monthly.n_burn:]


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
    """Flammability-weighted land-cover mix of each cell."""
    c = config.fire
    w = {"forest": c.weight_forest, "savanna": c.weight_savanna, "grassland": c.weight_grassland,
         "pasture": c.weight_pasture, "crop": c.weight_crop, "mosaic": c.weight_mosaic, "other": c.weight_other}
    return sum(fracs[g] * w[g] for g in w)


def build_world(config: WorldConfig, progress: bool = False) -> World:
    """Generate every layer in memory."""
    rng = _rngs(config.seed)
    res = config.grid_resolution_deg
    grid = Grid(res)
    years = list(range(config.start_year, config.end_year + 1))
    boundary = geo.legal_amazon_boundary()
    states = geo.state_polygons(boundary)
    roads = geo.fishbone_roads(boundary, rng["geography"])
    settlements = geo.build_settlements(roads, boundary, rng["geography"])
    cells = geo.build_cells(grid, boundary, states, roads, settlements)
    rc = (cells["row"].to_numpy(), cells["col"].to_numpy())
    log.info("geography: %d cells of %.3g°, %d roads, %d settlements", len(cells), res, len(roads),
             len(settlements))

    pix = lc.pixel_grid(grid, cells, config.subcells)
    base = lc.base_landcover(pix, roads, settlements, config.landcover, rng["landcover"])
    elevation = geo.elevation_m(cells["lat"].to_numpy(), cells["lon"].to_numpy(),
                                lc.smooth_field((grid.nrows, grid.ncols), 1.0 / res, rng["elevation"])[rc])
    weather = wx.generate_weather(cells, (grid.nrows, grid.ncols), res, elevation, config, rng["weather"])
    mw = wx.monthly(weather)

    clearing = defo.simulate_clearing(grid, cells, pix, base, config, rng["deforestation"], progress)
    polygons = defo.polygon_geometries(clearing.polygons, pix, cells, clearing.slots_per_side, rng["polygons"])
    by_year = lc.yearly_classification(base, clearing.flip_year, years)
    fracs = {y: lc.group_fractions(by_year[y]) for y in years}
    cleared_m = defo.monthly_cleared(clearing.polygons, len(cells), mw.months)

    smooth = lc.smooth_field((grid.nrows, grid.ncols), config.fire.cell_effect_range_deg / res, rng["fire"])[rc]
    regime = lc.smooth_field((grid.nrows, grid.ncols), config.fire.dryness_response_range_deg / res,
                             rng["fire_regime"])[rc]
    flam = {y: _flammability(fracs[y], config) for y in years}
    eta = fi.log_intensity(cells, mw, flam, cleared_m, weather.seasonality, smooth / smooth.std(),
                           regime / regime.std(), config, rng["fire"])
    lam = np.exp(eta) * config.hotspot_scale
    pixel_w = {y: fi.pixel_flammability(by_year[y], config.fire)
               + 2.0 * _recent_clearing_pixels(clearing.polygons, base.shape, y) for y in years}
    span = mw.months[mw.n_burn:]
    region = boundary.buffer(-1e-4)  # hotspots stay inside the published outline, even after rounding
    shapely.prepare(region)
    true_fires = fi.sample_fires(lam, pix, by_year, pixel_w, weather, span, region, rng["fire"], progress)
    det = fi.detect(true_fires, weather, res, region, config, rng["detection"])
    hotspots = fi.hotspot_records(det, true_fires, cells, weather, config, rng["records"])
    log.info("fires: %d true fires, %d hotspot rows; clearing: %d polygons", true_fires.cell.size,
             len(hotspots), len(clearing.polygons))
    return World(config, grid, boundary, states, roads, settlements, cells, pix, by_year, fracs, weather, mw,
                 clearing, polygons, cleared_m, lam, hotspots)


def write_raw(world: World, raw_dir: Path) -> dict[str, int]:
    """Write the raw layout of docs/data-layout.md; return row counts per file."""
    rng = _rngs(world.config.seed)  # the "vegetation" and "prodes" streams are only drawn from here
    counts: dict[str, int] = {}
    vectors = {
        "boundary/legal_amazon.geojson": (pd.DataFrame({"name": ["Amazônia Legal"]}), [world.boundary]),
        "roads/roads.geojson": (world.roads[["name", "kind"]], world.roads.geometry),
        "settlements/settlements.geojson": (world.settlements[["name", "population"]],
                                            world.settlements.geometry),
    }
    for rel, (props, geoms) in vectors.items():
        fmt.write_geojson(raw_dir / rel, props, geoms, Path(rel).stem)
        counts[rel] = len(props)
    # states as IBGE's mesh API returns them: .json, codarea as text, EPSG:4674 declared, one line
    rel = "states/ibge_malha_uf.json"
    fmt.write_geojson(raw_dir / rel, pd.DataFrame({"codarea": world.states["state_id"].astype(str).to_numpy()}),
                      world.states.geometry, "malha_uf", crs_epsg=4674, minified=True)
    counts[rel] = len(world.states)

    rel = "landcover/mapbiomas_lulc.tif"
    fmt.write_geotiff(raw_dir / rel, lc.landcover_rasters(world.pix, world.landcover), LON_MIN, LAT_MAX,
                      world.pix.pixel_deg)
    counts[rel] = len(world.landcover)

    # the daily weather, the largest table, in chunks of whole row groups (never whole in memory; same bytes)
    rel = "weather/weather_daily.parquet"
    chunks = wx.weather_table_chunks(world.cells, world.weather, WEATHER_CHUNK_ROW_GROUPS * fmt.PARQUET_ROW_GROUP)
    fmt.write_parquet_chunks(raw_dir / rel, chunks, {"date": TIMESTAMP})
    counts[rel] = len(world.cells) * (len(world.weather.dates) - world.weather.n_burn)
    rel = "vegetation_index/mod13_16day.parquet"
    table = veg.vegetation_table(world.cells, world.weather, world.fractions, world.cleared_monthly,
                                 world.monthly.months, world.config.start_year, world.config.end_year,
                                 rng["vegetation"])
    fmt.write_parquet(raw_dir / rel, table, {"date": TIMESTAMP})
    counts[rel] = len(table)
    del table

    prodes = defo.prodes_table(world.clearing.polygons, world.polygons, world.cells, world.config.prodes_years,
                               rng["prodes"])
    rel = "deforestation/prodes_yearly_deforestation.geojson"
    fmt.write_geojson(raw_dir / rel, prodes.drop(columns="geometry"), prodes["geometry"], "yearly_deforestation")
    counts[rel] = len(prodes)
    rel = "prodes_increments/prodes_legal_amazon_increments_uf.csv"
    increments = defo.official_increments(prodes)
    fmt.write_delimited(raw_dir / rel, increments, increments.columns, sep=";", final_newline=False)
    counts[rel] = len(increments)

    counts.update(write_hotspots(world, raw_dir))
    return counts


def write_hotspots(world: World, raw_dir: Path) -> dict[str, int]:
    """The first year in INPE's yearly all-satellites layout, the later years as monthly files of the
    current layout (as a user who took the yearly download for earlier years would have them)."""
    hot_dir = raw_dir / "hotspots"
    if hot_dir.exists():  # files of an earlier, longer run would otherwise linger
        for stale in [*hot_dir.glob("focos_mensal_br_*.csv"), *hot_dir.glob("focos_br_todos-sats_*.csv")]:
            stale.unlink()
    counts: dict[str, int] = {}
    year_key = world.hotspots["time"].to_numpy().astype("datetime64[Y]")
    first = world.config.start_year
    annual = year_key == np.datetime64(str(first), "Y")
    name = f"hotspots/focos_br_todos-sats_{first}.csv"
    fmt.write_delimited(raw_dir / name, fmt.annual_all_satellites_frame(world.hotspots[annual]),
                        fmt.ANNUAL_COLUMNS)
    counts[name] = int(annual.sum())
    month_key = world.hotspots["time"].to_numpy().astype("datetime64[M]")
    for m in world.span_months[world.span_months.year > first]:
        sel = month_key == np.datetime64(m, "M")
        name = f"hotspots/focos_mensal_br_{m.year}{m.month:02d}.csv"
        # formatted a month at a time: the whole table as strings was acquire's peak (+1.1 GB at 0.25°)
        fmt.write_bdqueimadas(raw_dir / name, fmt.bdqueimadas_frame(world.hotspots[sel]))
        counts[name] = int(sel.sum())
    return counts


def write_truth(world: World, truth_dir: Path) -> dict[str, int]:
    """Truth for evaluation: P(≥ 1 reference hotspot) per cell-month, P(clearing ≥ 1 km²) per cell-year."""
    config, cells, span = world.config, world.cells, world.span_months
    ref = -np.expm1(-world.fire_lambda * config.detection.reference_prob)
    fire = pd.DataFrame({
        "cell_id": np.repeat(cells["cell_id"].to_numpy(), len(span)),
        "month": np.tile(span.values, len(cells)),
        "probability": ref.ravel(),
    }).sort_values(["month", "cell_id"], kind="stable")
    fmt.write_parquet(truth_dir / "fire_risk.parquet", fire, {"month": TIMESTAMP})
    keep = [world.clearing.years.index(y) for y in config.prodes_years]
    defor = pd.DataFrame({
        "cell_id": np.repeat(cells["cell_id"].to_numpy(), len(keep)),
        "year": np.tile(np.asarray(config.prodes_years), len(cells)),
        "probability": world.clearing.probability[:, keep].ravel(),
    }).sort_values(["year", "cell_id"], kind="stable")
    fmt.write_parquet(truth_dir / "deforestation.parquet", defor)
    fmt.write_json(truth_dir / "manifest.json", {
        "available": True, "grid_resolution_deg": config.grid_resolution_deg,
        "reference_satellite": fi.REFERENCE_SATELLITE, "deforestation_threshold_km2": DEFORESTATION_THRESHOLD_KM2})
    return {"truth/fire_risk.parquet": len(fire), "truth/deforestation.parquet": len(defor)}


def write_maps(world: World, plots_dir: Path) -> None:
    """The four map PNGs."""
    from geih.ingest import maps  # matplotlib is only needed here

    config, grid, cells = world.config, world.grid, world.cells
    last = config.end_year
    maps.landcover_map(plots_dir / "landcover.png", world.pix.row, world.pix.col, world.pix.shape,
                       world.landcover[last], world.boundary, f"Synthetic land cover (MapBiomas codes), {last}")
    maps.roads_map(plots_dir / "roads_settlements.png", world.states, world.roads, world.settlements)
    ref = world.hotspots[world.hotspots["satellite"] == fi.REFERENCE_SATELLITE]
    cell_of = grid.cell_of(ref["lat"].to_numpy(), ref["lon"].to_numpy())
    counts = pd.Series(cell_of).value_counts().reindex(cells["cell_id"].to_numpy(), fill_value=0).to_numpy()
    maps.hotspot_map(plots_dir / "hotspot_density.png", cells, counts, grid.nrows, grid.ncols, world.boundary,
                     f"{fi.REFERENCE_SATELLITE} hotspots per cell, {config.start_year}–{last}")
    year = config.drought_year if config.drought_year in range(config.start_year, last + 1) else last
    day = pd.Timestamp(f"{year}-09-30")
    dsr = world.weather.dsr[:, int((day - world.weather.dates[0]).days)].astype(float)
    maps.dryness_map(plots_dir / "dryness_dry_season.png", cells, dsr, grid.nrows, grid.ncols, world.boundary,
                     f"Days without rain on {day.date()}")


def generate_world(config: WorldConfig, raw_dir: Path, truth_dir: Path, plots_dir: Path,
                   progress: bool = True) -> dict[str, Any]:
    """Generate the world from `config`; write raw files, truth files and map PNGs; return counts.

    The summary holds no timings, so it can be written to a DVC-tracked file.
    """
    t0 = time.perf_counter()
    world = build_world(config, progress)
    files = write_raw(world, Path(raw_dir))
    files.update(write_truth(world, Path(truth_dir)))
    write_maps(world, Path(plots_dir))
    ref = -np.expm1(-world.fire_lambda * config.detection.reference_prob)
    log.info("synthetic world written in %.1f s", time.perf_counter() - t0)
    return {
        "cells": len(world.cells),
        "files": files,
        "hotspot_rows": len(world.hotspots),
        "reference_positive_rate": round(float(ref.mean()), 4),
        "prodes_polygons": files["deforestation/prodes_yearly_deforestation.geojson"],
    }
