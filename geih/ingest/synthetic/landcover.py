"""Land cover on a pixel grid (grid_resolution / subcells) with MapBiomas codes.

Natural cover follows the biome (forest in the Amazon, savanna and grassland in the Cerrado and Pantanal);
conversion to pasture, crops and mosaic follows roads, towns and the arc of deforestation. Forest pixels
become pasture in the PRODES year in which enough of them has been cleared (see `deforestation`).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import ndimage
from shapely.geometry import LineString, Polygon

from geih.domain.grid import LAT_MAX, LON_MIN, Grid, distance_to_features_km
from geih.ingest.synthetic import geography as geo
from geih.ingest.synthetic.config import LandcoverCoefficients

FOREST, SAVANNA, GRASSLAND, PASTURE, SOY, TEMP_CROP, MOSAIC, URBAN, WATER = 3, 4, 12, 15, 39, 19, 21, 24, 33
# Groups used by the fire and vegetation models.
GROUPS = {"forest": (FOREST,), "savanna": (SAVANNA,), "grassland": (GRASSLAND,), "pasture": (PASTURE,),
          "crop": (SOY, TEMP_CROP), "mosaic": (MOSAIC,), "other": (URBAN, WATER)}


@dataclass(frozen=True)
class PixelGrid:
    """The land-cover pixels of the cells: arrays of shape (n_cells, subcells²), row-major inside a cell."""

    k: int
    pixel_deg: float
    row: np.ndarray  # pixel row in the fine raster over the bounding box
    col: np.ndarray
    lat: np.ndarray  # pixel centre
    lon: np.ndarray
    shape: tuple[int, int]  # fine raster shape

    @property
    def n(self) -> int:
        return self.k * self.k


def pixel_grid(grid: Grid, cells: pd.DataFrame, k: int) -> PixelGrid:
    """Pixels of `cells` on a raster `k` times finer than `grid`."""
    sub_r, sub_c = np.divmod(np.arange(k * k), k)
    row = cells["row"].to_numpy()[:, None] * k + sub_r[None, :]
    col = cells["col"].to_numpy()[:, None] * k + sub_c[None, :]
    pd_ = grid.resolution / k
    lat = LAT_MAX - (row + 0.5) * pd_
    lon = LON_MIN + (col + 0.5) * pd_
    return PixelGrid(k, pd_, row, col, lat, lon, (grid.nrows * k, grid.ncols * k))


def smooth_field(shape: tuple[int, int], sigma_px: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian-smoothed white noise with unit standard deviation."""
    z = rng.standard_normal(shape)
    if sigma_px > 0:
        z = ndimage.gaussian_filter(z, sigma_px, mode="reflect")
    return (z - z.mean()) / (z.std() + 1e-12)


def _near_lines(lat: np.ndarray, lon: np.ndarray, lines: list[tuple[LineString, float]]) -> np.ndarray:
    """True where a point lies within the half-width of any of the lines (degrees)."""
    pts = shapely.points(np.column_stack([lon.ravel(), lat.ravel()]))
    hit = np.zeros(pts.shape, dtype=bool)
    for line, half_width in lines:
        hit |= shapely.distance(line, pts) <= half_width
    return hit.reshape(lat.shape)


def base_landcover(pix: PixelGrid, roads: gpd.GeoDataFrame, settlements: gpd.GeoDataFrame,
                   coef: LandcoverCoefficients, rng: np.random.Generator) -> np.ndarray:
    """Land-cover codes of every pixel before any simulated clearing, shape (n_cells, subcells²)."""
    lat, lon = pix.lat, pix.lon
    deg = pix.pixel_deg
    big = smooth_field(pix.shape, 1.2 / deg, rng)[pix.row, pix.col]
    mid = smooth_field(pix.shape, 0.35 / deg, rng)[pix.row, pix.col]
    small = smooth_field(pix.shape, 0.12 / deg, rng)[pix.row, pix.col]
    crop_noise = smooth_field(pix.shape, 0.5 / deg, rng)[pix.row, pix.col]

    # Natural cover by biome.
    cerrado = geo.cerrado_score(lat, lon) + 0.35 * big > 0
    pantanal = shapely.contains_xy(Polygon(geo.PANTANAL_LONLAT), lon, lat)
    (lx, ly), (ax, ay) = geo.LAVRADO
    lavrado = ((lon - lx) / ax) ** 2 + ((lat - ly) / ay) ** 2 + 0.3 * mid < 1.0
    codes = np.full(lat.shape, FOREST, dtype=np.int16)
    codes[small < -2.4] = GRASSLAND
    savanna_zone = cerrado | lavrado
    codes[savanna_zone] = SAVANNA
    codes[savanna_zone & (small > 0.9)] = FOREST
    codes[savanna_zone & (small < -1.0)] = GRASSLAND
    codes[pantanal] = GRASSLAND
    codes[pantanal & (small > 0.4)] = SAVANNA

    # Conversion pressure.
    flat_lat, flat_lon = lat.ravel(), lon.ravel()
    road_km = distance_to_features_km(flat_lat, flat_lon, roads.geometry).reshape(lat.shape)
    towns = settlements[settlements["population"] >= 5000]
    town_km = distance_to_features_km(flat_lat, flat_lon, towns.geometry).reshape(lat.shape)
    arc = np.exp(-(geo.arc_distance_deg(lat, lon) / 2.3) ** 2)
    score = (coef.road_weight * np.exp(-road_km / coef.road_scale_km)
             + coef.settlement_weight * np.exp(-town_km / 35.0)
             + coef.arc_weight * arc + coef.cerrado_weight * cerrado + coef.noise_sd * mid)
    converted = (score > coef.threshold) & ~pantanal

    soy_belt = (lat > -15.8) & (lat < -11.0) & (lon > -59.0) & (lon < -51.5)
    crop_score = crop_noise + np.where(soy_belt, 1.0, -0.9) + 0.7 * cerrado
    east = (lon > -50.5) & (lat > -7.5)
    mosaic_score = small + np.where(east, 0.9, -0.4) + 0.8 * np.exp(-town_km / 25.0)
    conv = np.full(lat.shape, PASTURE, dtype=np.int16)
    conv[mosaic_score > 1.2] = MOSAIC
    conv[crop_score > 0.5] = TEMP_CROP
    conv[crop_score > 0.9] = SOY
    codes = np.where(converted, conv, codes)

    # Rivers, then towns.
    rivers = [(LineString(c), max(w, 0.45 * deg)) for _, w, c in geo.RIVERS]
    codes[_near_lines(lat, lon, rivers)] = WATER
    codes[_urban_mask(pix, settlements)] = URBAN
    return codes


def _urban_mask(pix: PixelGrid, settlements: gpd.GeoDataFrame) -> np.ndarray:
    """Pixels holding a town of ≥ 15,000 people; a 3×3 block for cities of ≥ 400,000."""
    index = pd.Series(np.arange(pix.row.size), index=pd.MultiIndex.from_arrays(
        [pix.row.ravel(), pix.col.ravel()]))
    mask = np.zeros(pix.row.size, dtype=bool)
    for s in settlements.itertuples():
        if s.population < 15000:
            continue
        r = int(np.floor((LAT_MAX - s.geometry.y) / pix.pixel_deg))
        c = int(np.floor((s.geometry.x - LON_MIN) / pix.pixel_deg))
        reach = 1 if s.population >= 400000 else 0
        for dr in range(-reach, reach + 1):
            for dc in range(-reach, reach + 1):
                j = index.get((r + dr, c + dc))
                if j is not None:
                    mask[int(j)] = True
    return mask.reshape(pix.row.shape)


def yearly_classification(base: np.ndarray, flip_year: np.ndarray, years: list[int]) -> dict[int, np.ndarray]:
    """Codes per calendar year: pixels flipped (cleared) in PRODES year ≤ Y are pasture in year Y."""
    out = {}
    for y in years:
        flipped = (flip_year > 0) & (flip_year <= y)
        out[y] = np.where(flipped, PASTURE, base).astype(np.int16)
    return out


def group_fractions(codes: np.ndarray) -> dict[str, np.ndarray]:
    """Fraction of each cell's pixels in each land-cover group (keys of GROUPS)."""
    return {g: np.isin(codes, members).mean(axis=1) for g, members in GROUPS.items()}


def landcover_rasters(pix: PixelGrid, by_year: dict[int, np.ndarray]) -> dict[str, np.ndarray]:
    """The MapBiomas-like yearly rasters over the grid's bounding box (0 outside the cells), one
    ``classification_YYYY`` band per year."""
    bands = {}
    for y in sorted(by_year):
        raster = np.zeros(pix.shape, dtype=np.uint8)
        raster[pix.row, pix.col] = by_year[y]
        bands[f"classification_{y}"] = raster
    return bands
