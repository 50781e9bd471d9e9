"""Map PNGs of the synthetic world (matplotlib Agg, fixed size and dpi, no metadata that changes)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import BoundaryNorm, ListedColormap, LogNorm
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from geih.domain.grid import LAT_MAX, LAT_MIN, LON_MAX, LON_MIN
from geih.ingest.synthetic.formats import atomic_path
from geih.ingest.synthetic.landcover import CLASS_NAMES, PixelGrid

EXTENT = (LON_MIN, LON_MAX, LAT_MIN, LAT_MAX)
CLASS_COLOURS = {3: "#1f8d49", 4: "#7dc975", 12: "#d6bc74", 15: "#edde8e", 39: "#f5b3c8", 19: "#c27ba0",
                 21: "#ffefc3", 24: "#d4271e", 33: "#2532e4"}
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
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = atomic_path(path)
    fig.savefig(tmp, format="png", dpi=DPI, metadata={"Software": None})
    tmp.replace(path)


def _outline(ax, boundary) -> None:
    gpd.GeoSeries([boundary]).boundary.plot(ax=ax, color="black", linewidth=0.8)


def landcover_map(path: Path, pix: PixelGrid, codes: np.ndarray, year: int, boundary) -> None:
    """Land-cover classes of `year` on the pixel raster."""
    keys = sorted(CLASS_COLOURS)
    img = np.full(pix.shape, np.nan)
    img[pix.row, pix.col] = np.searchsorted(keys, codes)
    fig, ax = _figure()
    cmap = ListedColormap([CLASS_COLOURS[k] for k in keys])
    ax.imshow(img, extent=EXTENT, origin="upper", cmap=cmap,
              norm=BoundaryNorm(np.arange(len(keys) + 1) - 0.5, len(keys)), interpolation="nearest")
    _outline(ax, boundary)
    handles = [Patch(color=CLASS_COLOURS[k], label=f"{k} {CLASS_NAMES[k]}") for k in keys]
    ax.legend(handles=handles, loc="lower left", fontsize=7, framealpha=0.9)
    ax.set_title(f"Synthetic land cover (MapBiomas codes), {year}")
    _save(fig, path)


def roads_map(path: Path, states: gpd.GeoDataFrame, roads: gpd.GeoDataFrame,
              settlements: gpd.GeoDataFrame) -> None:
    """States, trunk and side roads, towns sized by population."""
    fig, ax = _figure()
    states.plot(ax=ax, color="#f3f1e7", edgecolor="#777777", linewidth=0.6)
    for r in states.itertuples():
        p = r.geometry.representative_point()
        ax.text(p.x, p.y, r.state, fontsize=9, color="#555555", ha="center")
    side = roads[roads["kind"] != "trunk"]
    side.plot(ax=ax, color="#d08a4a", linewidth=0.4)
    roads[roads["kind"] == "trunk"].plot(ax=ax, color="#b22222", linewidth=1.4)
    pop = settlements["population"].to_numpy().astype(float)
    ax.scatter(settlements.geometry.x, settlements.geometry.y, s=2 + 40 * np.sqrt(pop / pop.max()),
               color="black", zorder=3)
    big = settlements[settlements["population"] >= 250000]
    for r in big.itertuples():
        ax.text(r.geometry.x + 0.2, r.geometry.y + 0.2, r.name, fontsize=7)
    ax.set_title("Roads (fishbone side roads) and settlements")
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
