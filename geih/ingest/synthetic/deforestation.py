"""Yearly clearing of forest (PRODES-like increments) that advances from roads and earlier clearings.

Per cell and PRODES year: p = sigmoid(intercept + road + neighbours' events last year (more so near roads:
the frontier spreads along them) + own recent clearing + remaining forest + frontier + cell effect + noise);
the cell effect is mostly a smooth Gaussian random field (`spatial_effect`). An event clears ≥ 1 km² in several small polygons; other
forest cells may get a few tiny polygons (< 1 km² in total). Polygons sit in non-overlapping slots of forest
pixels, preferring pixels at the forest edge; a pixel becomes pasture once `flip_fraction` of it is cleared.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from scipy import ndimage, special
from tqdm import tqdm

from geih.domain.grid import LAT_MAX, LON_MIN, Grid
from geih.ingest.sources.states import STATES
from geih.ingest.synthetic.config import DeforestationCoefficients, WorldConfig
from geih.ingest.synthetic.formats import decimal_comma
from geih.ingest.synthetic.landcover import FOREST, PixelGrid, smooth_field

MIN_POLYGON_KM2 = 0.07  # a little above PRODES' 6.25 ha minimum mapping unit
EVENT_MIN_KM2 = 1.05  # events clear at least this (the truth threshold is 1 km²)
SLOT_DEG = 0.0125  # target side of a placement slot inside a pixel
# Share of a PRODES year's clearings (image dates) per month, August .. July.
PRODES_MONTH_WEIGHTS = np.array([0.14, 0.12, 0.07, 0.04, 0.03, 0.03, 0.03, 0.04, 0.07, 0.11, 0.14, 0.18])


@dataclass(frozen=True)
class Clearing:
    """Outcome of the clearing simulation over `years` (burn-in years first)."""

    years: list[int]
    probability: np.ndarray  # (n_cells, n_years) P(event), the truth
    event: np.ndarray  # (n_cells, n_years) bool
    cleared_km2: np.ndarray  # (n_cells, n_years)
    flip_year: np.ndarray  # (n_cells, P) PRODES year the pixel became pasture, 0 = never
    polygons: pd.DataFrame  # cell (index), year, area_km2, pixel, slot, image_date
    slots_per_side: int


def slots_per_side(pixel_deg: float) -> int:
    """Number of placement slots along a pixel side."""
    return max(1, int(round(pixel_deg / SLOT_DEG)))


def slot_capacity_km2(lat: np.ndarray, slot_deg: float) -> np.ndarray:
    """Largest polygon area that fits a slot at latitude `lat` (per cell)."""
    w = slot_deg * 111.32 * np.cos(np.deg2rad(np.abs(lat) + slot_deg))
    h = slot_deg * 111.32
    return 0.55 * w * h


def _neighbour_fraction(grid: Grid, cells: pd.DataFrame, flag: np.ndarray) -> np.ndarray:
    """Fraction of each cell's 8 neighbours (inside the region) where `flag` is true."""
    present = np.zeros((grid.nrows, grid.ncols))
    value = np.zeros((grid.nrows, grid.ncols))
    r, c = cells["row"].to_numpy(), cells["col"].to_numpy()
    present[r, c] = 1.0
    value[r, c] = flag
    kernel = np.ones((3, 3))
    kernel[1, 1] = 0
    n = ndimage.convolve(present, kernel, mode="constant")[r, c]
    v = ndimage.convolve(value, kernel, mode="constant")[r, c]
    return np.where(n > 0, v / np.maximum(n, 1), 0.0)


def _edge_weight(pix: PixelGrid, forest: np.ndarray) -> np.ndarray:
    """Pixel weight for placing clearings: higher at the forest edge (non-forest pixel neighbours)."""
    raster = np.zeros(pix.shape)
    raster[pix.row, pix.col] = forest
    kernel = np.ones((3, 3))
    kernel[1, 1] = 0
    forest_nb = ndimage.convolve(raster, kernel, mode="constant")[pix.row, pix.col] / 8.0
    return 1.0 + 6.0 * (1.0 - forest_nb)


def _pixel_weight(edge: np.ndarray, cleared: np.ndarray, pix_area: np.ndarray) -> np.ndarray:
    """Placement weight: forest edge, and strongly pixels already being cleared (clearings grow)."""
    return edge * (1.0 + 40.0 * cleared / pix_area[:, None])


def _split_area(total: float, cap: float, rng: np.random.Generator) -> np.ndarray:
    """Split `total` km² into polygons each in [MIN_POLYGON_KM2, cap], of uneven sizes."""
    n = max(1, int(np.ceil(total / (0.5 * cap))))
    for _ in range(20):
        parts = MIN_POLYGON_KM2 + (total - MIN_POLYGON_KM2 * n) * rng.dirichlet(np.full(n, 6.0))
        if parts.max() <= cap:
            return parts
        n += 1
    n = int(np.ceil(total / (0.95 * cap)))  # pragma: no cover - even split as a last resort
    return np.full(n, total / n)


def _image_dates(year: int, n: int, rng: np.random.Generator) -> list[pd.Timestamp]:
    """`n` image dates inside PRODES year `year` (Aug year-1 .. Jul year), mostly in the dry season."""
    out = []
    for _ in range(n):
        m = int(rng.choice(12, p=PRODES_MONTH_WEIGHTS / PRODES_MONTH_WEIGHTS.sum()))
        start = pd.Timestamp(year=year - 1, month=8, day=1) + pd.DateOffset(months=m)
        day = int(rng.integers(0, start.days_in_month))
        out.append(start + pd.Timedelta(days=day))
    return out


def spatial_effect(grid: Grid, cells: pd.DataFrame, sd: float, spatial_share: float, range_deg: float,
                   rng: np.random.Generator) -> np.ndarray:
    """A persistent per-cell effect with standard deviation `sd`: `spatial_share` of its variance from a
    smooth Gaussian random field (white noise smoothed with a Gaussian of `range_deg`), the rest per cell."""
    field = smooth_field((grid.nrows, grid.ncols), range_deg / grid.resolution, rng)
    smooth = field[cells["row"].to_numpy(), cells["col"].to_numpy()]
    own = rng.standard_normal(len(cells))
    return sd * (np.sqrt(spatial_share) * smooth + np.sqrt(1.0 - spatial_share) * own)


def _clearing_logit(coef: DeforestationCoefficients, road: np.ndarray, nb: np.ndarray, hist: np.ndarray,
                    frac: np.ndarray, cell_effect: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Logit of the event probability from its drivers (see DeforestationCoefficients)."""
    return (coef.intercept + coef.road * road + (coef.neighbours + coef.road_neighbours * road) * nb
            + coef.history * np.log1p(hist)
            + coef.forest * np.log(frac + 0.02) + coef.frontier * 4 * frac * (1 - frac) + cell_effect + noise)


def simulate_clearing(grid: Grid, cells: pd.DataFrame, pix: PixelGrid, base: np.ndarray, config: WorldConfig,
                      rng: np.random.Generator, progress: bool = False) -> Clearing:
    """Run the clearing model over the burn-in and PRODES years."""
    coef = config.deforestation
    years = list(range(config.prodes_years[0] - coef.burn_in_years, config.prodes_years[-1] + 1))
    n_cells, n_pix = base.shape
    ks = slots_per_side(pix.pixel_deg)
    cell_area = cells["area_km2"].to_numpy()
    pix_area = cell_area / n_pix
    cap = slot_capacity_km2(cells["lat"].to_numpy(), pix.pixel_deg / ks)
    forest = base == FOREST
    cleared = np.zeros((n_cells, n_pix))
    used = np.zeros((n_cells, n_pix, ks * ks), dtype=bool)
    flip_year = np.zeros((n_cells, n_pix), dtype=np.int32)
    road = np.exp(-cells["road_km"].to_numpy() / coef.road_scale_km)
    cell_effect = spatial_effect(grid, cells, coef.cell_effect_sd, coef.cell_effect_spatial_share,
                                 coef.cell_effect_range_deg, rng)
    prob = np.zeros((n_cells, len(years)))
    event = np.zeros((n_cells, len(years)), dtype=bool)
    cleared_year = np.zeros((n_cells, len(years)))
    records: list[tuple] = []
    for yi, year in enumerate(tqdm(years, desc="clearing (PRODES years)", disable=not progress, leave=False)):
        forest_km2 = (forest * np.maximum(pix_area[:, None] - cleared, 0.0)).sum(axis=1)
        nb = _neighbour_fraction(grid, cells, event[:, yi - 1]) if yi > 0 else np.zeros(n_cells)
        eta = _clearing_logit(coef, road, nb, cleared_year[:, max(0, yi - 3):yi].sum(axis=1),
                              forest_km2 / cell_area, cell_effect, rng.normal(0.0, coef.noise_sd, n_cells))
        free_cap = cap * ((~used).sum(axis=2) * forest).sum(axis=1)
        able = (forest_km2 >= 3.0) & (free_cap >= 6.0 * EVENT_MIN_KM2 + 4.0 * cap)
        p = np.where(able, special.expit(eta), 0.0)
        ev = rng.random(n_cells) < p
        area = EVENT_MIN_KM2 + rng.lognormal(np.log(coef.event_area_median_km2), coef.event_area_sigma, n_cells)
        area = np.clip(area, EVENT_MIN_KM2, np.maximum(np.minimum(forest_km2 - 1.0, 0.3 * free_cap),
                                                       EVENT_MIN_KM2))
        noisy = able & ~ev & (rng.random(n_cells) < coef.noise_polygon_rate * np.clip(0.15 + 3 * p, 0, 1))
        weight = _pixel_weight(_edge_weight(pix, forest), cleared, pix_area)
        for c in np.flatnonzero(ev | noisy):
            if ev[c]:
                parts = _split_area(float(area[c]), float(cap[c]), rng)
                dates = _image_dates(year, int(rng.integers(1, 3)), rng)
            else:
                parts = rng.uniform(MIN_POLYGON_KM2, 0.28, int(rng.integers(1, 4)))
                dates = _image_dates(year, 1, rng)
            placed = _place(parts, forest[c], used[c], weight[c], rng)
            if ev[c] and len(placed) < len(parts):  # pragma: no cover - excluded by the capacity check
                raise RuntimeError(f"no room for an event clearing in cell {c}, year {year}")
            for (px, slot), a in zip(placed, parts):
                records.append((c, year, float(a), px, slot, dates[int(rng.integers(len(dates)))]))
                cleared[c, px] += a
                cleared_year[c, yi] += a
        prob[:, yi], event[:, yi] = p, ev
        newly = forest & (cleared >= config.landcover.flip_fraction * pix_area[:, None])
        forest &= ~newly
        flip_year[newly] = year
    polys = pd.DataFrame(records, columns=["cell", "year", "area_km2", "pixel", "slot", "image_date"])
    return Clearing(years, prob, event, cleared_year, flip_year, polys, ks)


def _place(parts: np.ndarray, forest: np.ndarray, used: np.ndarray, weight: np.ndarray,
           rng: np.random.Generator) -> list[tuple[int, int]]:
    """Free (pixel, slot) for each polygon of one cell, filling edge-weighted forest pixels one at a time."""
    out: list[tuple[int, int]] = []
    free_pix = forest & ~used.all(axis=1)
    while len(out) < len(parts):
        cand = np.flatnonzero(free_pix)
        if cand.size == 0:
            break
        w = weight[cand] / weight[cand].sum()
        px = int(cand[rng.choice(cand.size, p=w)])
        slots = np.flatnonzero(~used[px])
        rng.shuffle(slots)
        for s in slots[: len(parts) - len(out)]:
            used[px, s] = True
            out.append((px, int(s)))
        free_pix[px] = False
    return out


def polygon_geometries(polys: pd.DataFrame, pix: PixelGrid, cells: pd.DataFrame, ks: int,
                       rng: np.random.Generator) -> np.ndarray:
    """Irregular hexagons of the exact area (km², local equal-area approximation) inside their slots."""
    n = len(polys)
    if n == 0:
        return np.array([], dtype=object)
    cell = polys["cell"].to_numpy()
    px = polys["pixel"].to_numpy()
    slot = polys["slot"].to_numpy()
    slot_deg = pix.pixel_deg / ks
    srow, scol = np.divmod(slot, ks)
    prow, pcol = pix.row[cell, px], pix.col[cell, px]
    lat_c = LAT_MAX - prow * pix.pixel_deg - (srow + 0.5) * slot_deg
    lon_c = LON_MIN + pcol * pix.pixel_deg + (scol + 0.5) * slot_deg
    kx, ky = km_per_degree(lat_c)
    w_km, h_km = slot_deg * kx, slot_deg * ky
    area = polys["area_km2"].to_numpy()
    aspect = rng.uniform(0.6, 1.6, n)
    hx = np.sqrt(area * aspect) / 2
    hy = area / (4 * hx)
    hx = np.minimum(hx, 0.42 * w_km)
    hy = area / (4 * hx)
    hy = np.minimum(hy, 0.42 * h_km)
    hx = area / (4 * hy)
    # six vertices: four jittered corners and two jittered mid-edge points
    base = np.array([[-1, -1], [0, -1], [1, -1], [1, 1], [0, 1], [-1, 1]], dtype=float)
    jitter = rng.uniform(-0.12, 0.12, (n, 6, 2))
    xy = (base[None] + jitter) * np.stack([hx, hy], axis=1)[:, None, :]
    x, y = xy[..., 0], xy[..., 1]
    shoelace = 0.5 * np.abs((x * np.roll(y, -1, axis=1) - np.roll(x, -1, axis=1) * y).sum(axis=1))
    xy *= np.sqrt(area / shoelace)[:, None, None]
    lon = lon_c[:, None] + xy[..., 0] / kx[:, None]
    lat = lat_c[:, None] + xy[..., 1] / ky[:, None]
    ring = np.stack([lon, lat], axis=2)
    ring = np.concatenate([ring, ring[:, :1]], axis=1)
    return shapely.polygons(np.round(ring, 6))


def km_per_degree(lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """km per degree of longitude and of latitude on the WGS84 ellipsoid at `lat`."""
    a, e2 = 6378.137, 0.00669437999014
    s2 = np.sin(np.deg2rad(lat)) ** 2
    meridional = a * (1 - e2) / (1 - e2 * s2) ** 1.5
    normal = a / np.sqrt(1 - e2 * s2)
    k = np.pi / 180.0
    return k * normal * np.cos(np.deg2rad(lat)), k * meridional


def monthly_cleared(polys: pd.DataFrame, n_cells: int, months: pd.DatetimeIndex) -> np.ndarray:
    """km² cleared per cell and calendar month (by image date), shape (n_cells, len(months))."""
    out = np.zeros((n_cells, len(months)))
    if len(polys) == 0:
        return out
    month = pd.DatetimeIndex(polys["image_date"]).to_period("M").to_timestamp()
    idx = months.get_indexer(month)
    ok = idx >= 0
    np.add.at(out, (polys["cell"].to_numpy()[ok], idx[ok]), polys["area_km2"].to_numpy()[ok])
    return out


def _path_row(lat: np.ndarray, lon: np.ndarray) -> list[str]:
    """Approximate Landsat WRS-2 path/row ('PPPRRR') of each point."""
    path = np.round(220 + (-46.5 - lon) / 1.6).astype(int)
    path = np.where(path > 233, path - 233, path)
    row = np.round(60 - lat / 1.44).astype(int)
    return [f"{p:03d}{r:03d}" for p, r in zip(path, row)]


def prodes_table(polys: pd.DataFrame, geoms: np.ndarray, cells: pd.DataFrame, years: list[int],
                 rng: np.random.Generator) -> pd.DataFrame:
    """PRODES yearly-increment attributes (current field names) for the polygons of `years`, with geometry."""
    keep = polys["year"].isin(years).to_numpy()
    p = polys[keep].copy()
    p["geometry"] = geoms[keep]
    p = p.sort_values(["year", "image_date", "cell", "pixel", "slot"], kind="stable").reset_index(drop=True)
    centroid = shapely.centroid(p["geometry"].to_numpy())
    lat, lon = shapely.get_y(centroid), shapely.get_x(centroid)
    image = pd.DatetimeIndex(p["image_date"])
    year = p["year"].to_numpy()
    sat = np.where(year <= 2021, "LANDSAT-8", "LANDSAT-9")
    sensor = np.full(len(p), "OLI", dtype=object)
    alt = rng.random(len(p)) < 0.15
    sat = np.where(alt, "CBERS-4A", sat)
    sensor[alt] = "WFI"
    path_row = _path_row(lat, lon)
    ids = rng.integers(0, 2**63, size=(len(p), 2), dtype=np.uint64)
    uuids = [str(uuid.UUID(int=(int(a) << 64) | int(b), version=4)) for a, b in ids]
    return pd.DataFrame({
        "fid": np.arange(1, len(p) + 1),
        "state": cells["state"].to_numpy()[p["cell"].to_numpy()],
        "path_row": path_row,
        "main_class": "desmatamento",
        "class_name": [f"d{y}" for y in year],
        "def_cloud": 0,
        "julian_day": image.day_of_year.to_numpy(),
        "year": year,
        "area_km": np.round(p["area_km2"].to_numpy(), 6),
        "scene_id": [int(pr) * 100 + (y % 100) for pr, y in zip(path_row, year)],
        "source": "PRODES",
        "satellite": sat,
        "sensor": sensor,
        "uuid": uuids,
        "image_date": image.strftime("%Y-%m-%d"),
        "publish_year": [f"{y + 1}-01-01" for y in year],
        "sub_class": "corte raso",
        "pub_date": [f"{y}-11-30" for y in year],
        "geometry": p["geometry"].to_numpy(),
    })


def official_increments(prodes: pd.DataFrame) -> pd.DataFrame:
    """The official yearly increments per state as TerraBrasilis exports them (``year;areakm;uf``, full
    state names, decimal commas): the polygons' areas summed per state and PRODES year."""
    names = {uf: name for uf, name in STATES.values()}
    sums = prodes.groupby(["year", "state"], sort=True)["area_km"].sum().reset_index()
    return pd.DataFrame({"year": sums["year"].astype(str).to_numpy(),
                         "areakm": decimal_comma(sums["area_km"].to_numpy()),
                         "uf": sums["state"].map(names).to_numpy()})
