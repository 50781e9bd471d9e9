"""The world map PNGs (matplotlib Agg, fixed size and dpi, no metadata that changes).

`acquire` draws the same four maps (land cover, roads and settlements, reference-satellite hotspots,
days without rain in the dry season) for the synthetic world (from the generator's arrays) and for a
directory of real downloads (`draw_raw_maps`, from the imported files read with the pipeline's
loaders), so that the committed plots of `plots/world/` exist whatever the source.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import BoundaryNorm, ListedColormap, LogNorm
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from geih.domain.grid import LAT_MAX, LAT_MIN, LON_MAX, LON_MIN, Grid, cell_positions, cells_in_boundary
from geih.ingest.sources.landcover import dominant_class
from geih.io import atomic_path

log = logging.getLogger(__name__)

EXTENT = (LON_MIN, LON_MAX, LAT_MIN, LAT_MAX)
CLASS_COLOURS = {3: "#1f8d49", 4: "#7dc975", 12: "#d6bc74", 15: "#edde8e", 39: "#f5b3c8", 19: "#c27ba0",
                 21: "#ffefc3", 24: "#d4271e", 33: "#2532e4"}
CLASS_NAMES = {3: "Forest formation", 4: "Savanna formation", 12: "Grassland", 15: "Pasture", 39: "Soybean",
               19: "Other temporary crop", 21: "Mosaic of uses", 24: "Urban area", 33: "River, lake, ocean"}
# Other MapBiomas codes drawn in the colour of the legend class closest in kind (27 Not Observed: blank).
SIMILAR_CLASS = {1: 3, 5: 3, 6: 3, 49: 3, 9: 3, 10: 12, 11: 12, 13: 12, 29: 12, 32: 12, 50: 12, 14: 21,
                 18: 19, 20: 19, 40: 19, 41: 19, 62: 19, 36: 19, 46: 19, 47: 19, 35: 19, 48: 19, 22: 24,
                 23: 24, 25: 24, 30: 24, 75: 24, 26: 33, 31: 33}
MAP_NAMES = ("landcover", "roads_settlements", "hotspot_density", "dryness_dry_season")
DPI = 100
SIZE_IN = (8.0, 7.0)  # 800 × 700 px


def _figure() -> tuple[Figure, object]:
    fig = Figure(figsize=SIZE_IN, dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.08, 0.07, 0.84, 0.85))
    ax.set_xlim(LON_MIN, LON_MAX)
    ax.set_ylim(LAT_MIN, LAT_MAX)
    ax.set_aspect("equal")
    ax.set_xlabel("longitude (°)")
    ax.set_ylabel("latitude (°)")
    return fig, ax


def _save(fig: Figure, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI, metadata={"Software": None})


def _outline(ax, boundary) -> None:
    gpd.GeoSeries([boundary]).boundary.plot(ax=ax, color="black", linewidth=0.8)


def landcover_map(path: Path, row: np.ndarray, col: np.ndarray, shape: tuple[int, int], codes: np.ndarray,
                  boundary, title: str) -> None:
    """MapBiomas classes on a raster over the bounding box (`shape`), `codes` at (`row`, `col`)."""
    keys = sorted(CLASS_COLOURS)
    codes = np.asarray(codes)
    if not np.isin(codes, keys).all():  # real data: the legend's closest class (none: blank)
        codes = np.vectorize(lambda c: c if c in CLASS_COLOURS else SIMILAR_CLASS.get(int(c), -1),
                             otypes=[np.int64])(codes)
    img = np.full(shape, np.nan)
    img[row, col] = np.where(np.isin(codes, keys), np.searchsorted(keys, codes), np.nan)
    fig, ax = _figure()
    cmap = ListedColormap([CLASS_COLOURS[k] for k in keys])
    ax.imshow(img, extent=EXTENT, origin="upper", cmap=cmap,
              norm=BoundaryNorm(np.arange(len(keys) + 1) - 0.5, len(keys)), interpolation="nearest")
    _outline(ax, boundary)
    handles = [Patch(color=CLASS_COLOURS[k], label=f"{k} {CLASS_NAMES[k]}") for k in keys]
    ax.legend(handles=handles, loc="lower left", fontsize=7, framealpha=0.9)
    ax.set_title(title)
    _save(fig, path)


def roads_map(path: Path, states: gpd.GeoDataFrame, roads: gpd.GeoDataFrame,
              settlements: gpd.GeoDataFrame) -> None:
    """States, trunk and side roads, towns sized by population."""
    fig, ax = _figure()
    states.plot(ax=ax, color="#f3f1e7", edgecolor="#777777", linewidth=0.6)
    for r in states.itertuples():
        p = r.geometry.representative_point()
        ax.text(p.x, p.y, r.state, fontsize=9, color="#555555", ha="center")
    kind = roads["kind"] if "kind" in roads.columns else pd.Series("", index=roads.index)
    side = roads[kind != "trunk"]
    if len(side):
        side.plot(ax=ax, color="#d08a4a", linewidth=0.4)
    if (kind == "trunk").any():
        roads[kind == "trunk"].plot(ax=ax, color="#b22222", linewidth=1.4)
    points = settlements[settlements.geom_type == "Point"]
    if "population" in points.columns:
        pop = pd.to_numeric(points["population"], errors="coerce").fillna(0).to_numpy(dtype=float)
    else:
        pop = np.ones(len(points))
    ax.scatter(points.geometry.x, points.geometry.y, s=2 + 40 * np.sqrt(pop / max(pop.max(initial=0), 1e-9)),
               color="black", zorder=3)
    if "name" in points.columns and "population" in points.columns:
        for x, y, name in zip(points.geometry.x[pop >= 250000], points.geometry.y[pop >= 250000],
                              points["name"][pop >= 250000]):
            ax.text(x + 0.2, y + 0.2, name, fontsize=7)
    ax.set_title("Roads (fishbone side roads) and settlements" if "kind" in roads.columns else "Roads and settlements")
    _save(fig, path)


def _cell_raster(cells: pd.DataFrame, values: np.ndarray, nrows: int, ncols: int) -> np.ndarray:
    img = np.full((nrows, ncols), np.nan)
    img[cells["row"].to_numpy(), cells["col"].to_numpy()] = values
    return img


def hotspot_map(path: Path, cells: pd.DataFrame, counts: np.ndarray, nrows: int, ncols: int, boundary,
                title: str) -> None:
    """Reference-satellite hotspots per cell over the span (log colour scale)."""
    fig, ax = _figure()
    img = _cell_raster(cells, np.where(counts > 0, counts, np.nan), nrows, ncols)
    vmax = max(float(np.nanmax(img)) if np.isfinite(img).any() else 1.0, 2.0)
    im = ax.imshow(img, extent=EXTENT, origin="upper", cmap="inferno_r", norm=LogNorm(1, vmax),
                   interpolation="nearest")
    _outline(ax, boundary)
    fig.colorbar(im, ax=ax, shrink=0.7, label="hotspots per cell")
    ax.set_title(title)
    _save(fig, path)


def dryness_map(path: Path, cells: pd.DataFrame, dsr: np.ndarray, nrows: int, ncols: int, boundary,
                title: str) -> None:
    """Days without rain per cell on one day."""
    fig, ax = _figure()
    img = _cell_raster(cells, dsr, nrows, ncols)
    im = ax.imshow(img, extent=EXTENT, origin="upper", cmap="YlOrBr", vmin=0, vmax=max(60.0, float(dsr.max())),
                   interpolation="nearest")
    _outline(ax, boundary)
    fig.colorbar(im, ax=ax, shrink=0.7, label="days without rain")
    ax.set_title(title)
    _save(fig, path)


# ---------------------------------------------------------------- the maps of a directory of real downloads


def draw_raw_maps(raw_dir: Path, plots_dir: Path, resolution_deg: float) -> dict[str, str]:
    """Draw the four world maps (`MAP_NAMES`) from a raw folder read with the pipeline's loaders, on a
    grid of `resolution_deg`: dominant land-cover class per cell in the last year, roads and
    settlements, reference-satellite hotspots per cell, and days without rain on 30 September of the
    last year the weather covers (its last day when no 30 September is covered). Returns the title of each.
    """
    from geih.ingest.sources.folder import load_folder
    from geih.ingest.sources.hotspot_rules import REFERENCE_SATELLITE

    raw_dir, plots_dir = Path(raw_dir), Path(plots_dir)
    grid = Grid(resolution_deg)
    boundary_frame, _ = load_folder(raw_dir / "boundary", "boundary")
    boundary = boundary_frame.geometry.union_all()
    cells = cells_in_boundary(grid, boundary)
    states, _ = load_folder(raw_dir / "states", "states")
    titles = {}

    landcover, _ = load_folder(raw_dir / "landcover", "landcover", grid)
    year = int(landcover["year"].max())
    codes = dominant_class(grid, cells, landcover, year)
    titles["landcover"] = f"Land cover (MapBiomas, dominant class per {resolution_deg:g}° cell), {year}"
    landcover_map(plots_dir / "landcover.png", cells["row"].to_numpy(), cells["col"].to_numpy(),
                  (grid.nrows, grid.ncols), codes, boundary, titles["landcover"])

    roads, _ = load_folder(raw_dir / "roads", "roads")
    settlements, _ = load_folder(raw_dir / "settlements", "settlements")
    roads_map(plots_dir / "roads_settlements.png", states, roads, settlements)
    titles["roads_settlements"] = "Roads and settlements"

    hotspots, _ = load_folder(raw_dir / "hotspots", "hotspots")
    reference = hotspots[hotspots["satellite"] == REFERENCE_SATELLITE]
    counts = per_cell_counts(grid, cells, reference["lat"].to_numpy(), reference["lon"].to_numpy())
    span = (f"{reference['datetime'].min():%Y}–{reference['datetime'].max():%Y}" if len(reference) else "no detections")
    titles["hotspot_density"] = f"{REFERENCE_SATELLITE} hotspots per cell, {span}"
    hotspot_map(plots_dir / "hotspot_density.png", cells, counts, grid.nrows, grid.ncols, boundary,
                titles["hotspot_density"])

    weather, _ = load_folder(raw_dir / "weather", "weather")
    day, dsr = days_without_rain_on(grid, cells, weather)
    titles["dryness_dry_season"] = f"Days without rain on {day:%Y-%m-%d}"
    dryness_map(plots_dir / "dryness_dry_season.png", cells, dsr, grid.nrows, grid.ncols, boundary,
                titles["dryness_dry_season"])
    log.info("world maps drawn from %s", raw_dir)
    return titles


def per_cell_counts(grid: Grid, cells: pd.DataFrame, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Points per cell of `cells`."""
    pos = cell_positions(grid, cells, lat, lon)
    return np.bincount(pos[pos >= 0], minlength=len(cells))


def days_without_rain_on(grid: Grid, cells: pd.DataFrame, weather: pd.DataFrame) -> tuple[pd.Timestamp, np.ndarray]:
    """The day mapped (30 September of the last year covered, else the last day) and, per cell, the days
    since the last day with ≥ 1 mm of rain at a station in the cell (counted from the first day when it
    never rained; NaN for cells without a station)."""
    dates = pd.to_datetime(weather["date"])
    first, last = dates.min(), dates.max()
    day = pd.Timestamp(last.year, 9, 30)
    day = day if first <= day <= last else (pd.Timestamp(last.year - 1, 9, 30) if first <= pd.Timestamp(
        last.year - 1, 9, 30) else last)
    pos = cell_positions(grid, cells, weather["lat"].to_numpy(), weather["lon"].to_numpy())
    has_station = np.bincount(pos[pos >= 0], minlength=len(cells)) > 0
    rain = (pos >= 0) & (dates <= day).to_numpy() & (weather["precip_mm"].to_numpy() >= 1.0)
    last_rain = pd.Series(dates[rain].to_numpy()).groupby(pos[rain]).max()
    since = np.full(len(cells), float((day - first).days))
    since[last_rain.index.to_numpy()] = (day - pd.DatetimeIndex(last_rain.to_numpy())).days.to_numpy(dtype=float)
    return day, np.where(has_station, since, np.nan)
