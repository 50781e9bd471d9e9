"""Fires as a point process and their satellite detections (BDQueimadas rows).

The expected monthly number of true fires in a cell is λ = exp(η)·hotspot_scale (per cell, whatever the grid
resolution), where η adds the climatological dry season, dryness carried over from the previous months, this
month's weather surprise (a minor part), land cover, roads, towns, recent clearing, a persistent cell effect
(mostly spatially smooth), a regional response to dryness (a smooth field, off by default: fire regimes differ between regions)
and a little month-to-month noise. Each true fire is seen by the reference satellite
AQUA_M-T with probability `reference_prob` (always inside its cell, month and the outline) and by other
satellites with their own probabilities, times and position jitter.

Each record's ``risco_fogo`` is INPE's fire-risk index computed by `geih.domain.fire_index` (the same code
that computes the index features) at the fire's cell and day, with the INPE vegetation class of the fire's
pixel (`fire_index.vegetation_class_from_mapbiomas`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from tqdm import tqdm

from geih.domain import fire_index
from geih.domain.grid import LAT_MAX, LON_MIN
from geih.ingest.synthetic.config import FireCoefficients, WorldConfig
from geih.ingest.synthetic.formats import INVALID, uuid4_strings
from geih.ingest.synthetic.landcover import (
    FOREST,
    GRASSLAND,
    MOSAIC,
    PASTURE,
    SAVANNA,
    SOY,
    TEMP_CROP,
    URBAN,
    WATER,
    PixelGrid,
)
from geih.ingest.synthetic.weather import MonthlyWeather, Weather

REFERENCE_SATELLITE = "AQUA_M-T"


@dataclass(frozen=True)
class Pass:
    """One satellite pass type: detection probability, extra pixels per fire, local time, availability."""

    satellite: str
    prob: float
    extra: float  # mean extra detections (pixels) of a detected fire
    hour: float  # local solar hour (mean), or the start of a uniform window when `window` > 0
    hour_sd: float
    day_offset: int  # 1 for the night pass after the fire's day
    frp_factor: float
    start: str = "2000-01-01"
    end: str = "2100-01-01"
    window: float = 0.0
    clock: str = "minute"  # "minute", "second" or "quarter" (time resolution of the record)


PASSES: tuple[Pass, ...] = (
    Pass("AQUA_M-M", 0.05, 0.05, 1.5, 0.3, 1, 1.0),
    Pass("TERRA_M-M", 0.15, 0.10, 10.5, 0.3, 0, 1.0),
    Pass("TERRA_M-T", 0.04, 0.05, 22.5, 0.3, 0, 1.0),
    Pass("NOAA-20", 0.30, 0.60, 13.4, 0.5, 0, 0.2),
    Pass("NOAA-20", 0.20, 0.20, 1.5, 0.5, 1, 0.2),
    Pass("NOAA-21", 0.30, 0.60, 13.6, 0.5, 0, 0.2, start="2023-01-01"),
    Pass("NOAA-21", 0.20, 0.20, 1.6, 0.5, 1, 0.2, start="2023-01-01"),
    Pass("NPP-375", 0.28, 0.50, 13.5, 0.5, 0, 0.2),
    Pass("NPP-375D", 0.18, 0.20, 1.5, 0.5, 1, 0.2),
    Pass("GOES-16", 0.25, 0.10, 10.0, 0.0, 0, 3.0, end="2025-04-07", window=12.0, clock="second"),
    Pass("GOES-19", 0.25, 0.10, 10.0, 0.0, 0, 3.0, start="2025-04-07", window=12.0, clock="second"),
    Pass("METOP-B", 0.08, 0.10, 21.5, 0.4, 0, 1.0),
    Pass("METOP-C", 0.07, 0.10, 21.3, 0.4, 0, 1.0, start="2019-07-01"),
    Pass("MSG-03", 0.03, 0.00, 9.0, 0.0, 0, 3.0, window=12.0, clock="quarter"),
)
# The reference pass; its detection probability comes from DetectionCoefficients.reference_prob.
REFERENCE_PASS = Pass(REFERENCE_SATELLITE, 0.6, 0.15, 13.5, 0.3, 0, 1.0)


def class_weights(coef: FireCoefficients) -> dict[int, float]:
    """Fire propensity of each MapBiomas class used here."""
    return {FOREST: coef.weight_forest, SAVANNA: coef.weight_savanna, GRASSLAND: coef.weight_grassland,
            PASTURE: coef.weight_pasture, SOY: coef.weight_crop, TEMP_CROP: coef.weight_crop,
            MOSAIC: coef.weight_mosaic, URBAN: coef.weight_other, WATER: coef.weight_other}


def pixel_flammability(codes: np.ndarray, coef: FireCoefficients) -> np.ndarray:
    """Class weight of every pixel, same shape as `codes`."""
    lut = np.zeros(100)
    for code, w in class_weights(coef).items():
        lut[code] = w
    return lut[codes]


def dryness_response(prev_dry_days: np.ndarray, response_field: np.ndarray, sd: float) -> np.ndarray:
    """The regional fire regime's term of η: `sd` × the cell's response (`response_field`, unit sd, one value
    per cell) × log1p(days without rain at the end of the previous month) less its mean over all cells and
    months; `prev_dry_days` is (n_cells, n_months). Where the field is positive fires answer dryness more
    strongly than the shared `prev_dry_days` coefficient says, where negative less."""
    dryness = np.log1p(prev_dry_days)
    return sd * response_field[:, None] * (dryness - dryness.mean())


def log_intensity(cells: pd.DataFrame, mw: MonthlyWeather, flam_by_year: dict[int, np.ndarray],
                  cleared_monthly: np.ndarray, seasonality: np.ndarray, smooth_cell_noise: np.ndarray,
                  response_field: np.ndarray, config: WorldConfig, rng: np.random.Generator) -> np.ndarray:
    """η of every cell and span month, shape (n_cells, n_span_months); λ = exp(η)·hotspot_scale.

    The persistent cell effect (ignition pressure) is `cell_effect_spatial_share` spatially smooth
    (`smooth_cell_noise`, unit sd) and the rest per cell; the response to carried-over dryness varies
    between regions (`response_field`, unit sd, see `dryness_response`).
    """
    c = config.fire
    nb = mw.n_burn
    span = slice(nb, None)
    months = mw.months[span]
    lag1 = slice(nb - 1, -1)
    lag2 = slice(nb - 2, -2)
    clear12 = np.cumsum(np.pad(cleared_monthly, ((0, 0), (1, 0))), axis=1)
    clear12 = clear12[:, :-1] - np.concatenate(
        [np.zeros((len(cells), 12)), clear12[:, :-13]], axis=1)  # months m-12 .. m-1
    flam = np.stack([flam_by_year[y] for y in months.year], axis=1)
    share = c.cell_effect_spatial_share
    cell_effect = c.cell_effect_sd * (np.sqrt(share) * smooth_cell_noise
                                      + np.sqrt(1.0 - share) * rng.standard_normal(len(cells)))
    eta = (c.intercept
           + c.season * seasonality[:, None] * mw.dry_phase[:, span]
           + c.prev_dry_days * np.log1p(mw.dsr_end[:, lag1])
           + dryness_response(mw.dsr_end[:, lag1], response_field, c.dryness_response_sd)
           + c.prev_precip * np.log1p(mw.precip[:, lag1] / 10.0)
           + c.prev2_precip * np.log1p(mw.precip[:, lag2] / 10.0)
           + c.precip * np.log1p(mw.precip[:, span] / 10.0)
           + c.tmax_anomaly * mw.tmax_anom[:, span]
           + c.rhmin_anomaly * mw.rh_anom[:, span]
           + c.landcover * np.log(flam + 1e-3)
           + c.road * np.exp(-cells["road_km"].to_numpy() / c.road_scale_km)[:, None]
           + c.settlement * np.exp(-cells["town_km"].to_numpy() / c.settlement_scale_km)[:, None]
           + c.recent_clearing * np.log1p(clear12[:, span])
           + cell_effect[:, None]
           + rng.normal(0.0, c.noise_sd, (len(cells), len(months))))
    return eta


@dataclass(frozen=True)
class TrueFires:
    """True fires: cell index, span-month index, day index into the weather arrays, position, pixel, FRP."""

    cell: np.ndarray
    month: np.ndarray
    day: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    code: np.ndarray  # land-cover class of the fire's pixel
    frp: np.ndarray


def region_mask(region, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """True where points (lat, lon arrays of any shape) lie inside `region`."""
    return shapely.contains_xy(region, lon, lat)


def _positions_inside(cell_row: np.ndarray, cell_col: np.ndarray, pixel_deg: float, region,
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Uniform positions in the given pixels, redrawn where they fall outside `region` (pixel centre as a
    last resort), so that loaders clipping hotspots to the region keep every fire."""
    fy, fx = rng.uniform(0.02, 0.98, (2, cell_row.size))
    lat = LAT_MAX - (cell_row + fy) * pixel_deg
    lon = LON_MIN + (cell_col + fx) * pixel_deg
    for _ in range(10):
        out = np.flatnonzero(~region_mask(region, lat, lon))
        if out.size == 0:
            break
        fy, fx = rng.uniform(0.02, 0.98, (2, out.size))
        lat[out] = LAT_MAX - (cell_row[out] + fy) * pixel_deg
        lon[out] = LON_MIN + (cell_col[out] + fx) * pixel_deg
    out = ~region_mask(region, lat, lon)
    lat[out] = LAT_MAX - (cell_row[out] + 0.5) * pixel_deg
    lon[out] = LON_MIN + (cell_col[out] + 0.5) * pixel_deg
    return lat, lon


def sample_fires(lam: np.ndarray, pix: PixelGrid, codes_by_year: dict[int, np.ndarray],
                 pixel_weight_by_year: dict[int, np.ndarray], weather: Weather, months: pd.DatetimeIndex,
                 region, rng: np.random.Generator, progress: bool = False) -> TrueFires:
    """Draw Poisson counts per cell-month, then a pixel, a position and a (dry) day for each fire.

    Pixels whose centre lies outside `region` (the shrunk outline) get no fires, and positions stay inside.
    """
    inside = region_mask(region, pix.lat, pix.lon)
    inside[~inside.any(axis=1)] = True  # never leave a cell without a pixel
    parts = []
    day0 = weather.dates[0]
    for m in tqdm(range(len(months)), desc="fires (months)", disable=not progress, leave=False):
        counts = rng.poisson(lam[:, m])
        cell = np.repeat(np.arange(lam.shape[0]), counts)
        if cell.size == 0:
            continue
        year = months[m].year
        w = (pixel_weight_by_year[year] * inside)[cell]
        cum = np.cumsum(w, axis=1)
        u = rng.random(cell.size) * cum[:, -1]
        px = np.minimum((cum < u[:, None]).sum(axis=1), pix.n - 1)
        first = int((months[m] - day0).days)
        n_days = months[m].days_in_month
        dsr = weather.dsr[cell, first:first + n_days].astype(float)
        wet = weather.precip[cell, first:first + n_days] > 0
        dw = np.sqrt(1.0 + np.minimum(dsr, 40.0)) * np.where(wet, 0.2, 1.0)
        dcum = np.cumsum(dw, axis=1)
        du = rng.random(cell.size) * dcum[:, -1]
        day = first + np.minimum((dcum < du[:, None]).sum(axis=1), n_days - 1)
        lat, lon = _positions_inside(pix.row[cell, px], pix.col[cell, px], pix.pixel_deg, region, rng)
        frp = rng.lognormal(np.log(14.0), 1.0, cell.size)
        parts.append((cell, np.full(cell.size, m), day, lat, lon, codes_by_year[year][cell, px], frp))
    if not parts:
        empty = np.array([], dtype=np.int64)
        return TrueFires(empty, empty, empty, np.array([]), np.array([]), empty, np.array([]))
    return TrueFires(*[np.concatenate(col) for col in zip(*parts)])


@dataclass(frozen=True)
class Detections:
    """One row per satellite detection (before the CSV formatting)."""

    satellite: np.ndarray
    time: np.ndarray  # datetime64[s], GMT
    lat: np.ndarray
    lon: np.ndarray
    frp: np.ndarray
    fire: np.ndarray  # index into TrueFires


def detect(fires: TrueFires, weather: Weather, res: float, region, config: WorldConfig,
           rng: np.random.Generator) -> Detections:
    """Detections by the reference satellite (kept inside the fire's cell, the region and the day) and by
    all others (jittered freely)."""
    det = config.detection
    ref = dataclasses.replace(REFERENCE_PASS, prob=det.reference_prob)
    fire_date = weather.dates.values[fires.day.astype(int)]
    out = []
    for p in (ref, *PASSES):
        prob = p.prob if p is ref else min(1.0, p.prob * det.other_satellites_scale)
        seen = rng.random(fires.cell.size) < prob
        seen &= (fire_date >= np.datetime64(p.start)) & (fire_date < np.datetime64(p.end))
        idx = np.flatnonzero(seen)
        idx = np.repeat(idx, 1 + rng.poisson(p.extra, idx.size))
        if idx.size == 0:
            continue
        lon0, lat0 = fires.lon[idx], fires.lat[idx]
        if p.window > 0:
            local = p.hour + rng.uniform(0, p.window, idx.size)
        else:
            local = np.clip(p.hour + rng.normal(0, p.hour_sd, idx.size), 0.05, 23.9)
        hours = local - lon0 / 15.0 + 24.0 * p.day_offset
        seconds = np.round(hours * 3600.0).astype(np.int64)
        step = {"minute": 60, "second": 1, "quarter": 900}[p.clock]
        seconds = (seconds // step) * step
        time = (fire_date[idx].astype("datetime64[s]") + seconds.astype("timedelta64[s]"))
        jitter = 0.003 if p is ref else det.jitter_deg
        lat = lat0 + rng.normal(0, jitter, idx.size)
        lon = lon0 + rng.normal(0, jitter, idx.size)
        if p is ref:  # the reference detection stays in the fire's cell and inside the region
            lat, lon = _clip_to_cell(lat, lon, lat0, lon0, res)
            outside = ~region_mask(region, lat, lon)
            lat[outside], lon[outside] = lat0[outside], lon0[outside]
        frp = fires.frp[idx] * p.frp_factor * rng.lognormal(0.0, 0.3, idx.size)
        out.append((np.full(idx.size, p.satellite, dtype=object), time, lat, lon, frp, idx))
    if not out:
        return Detections(np.array([], dtype=object), np.array([], dtype="datetime64[s]"), np.array([]),
                          np.array([]), np.array([]), np.array([], dtype=np.int64))
    return Detections(*[np.concatenate(c) for c in zip(*out)])


def _clip_to_cell(lat: np.ndarray, lon: np.ndarray, lat0: np.ndarray, lon0: np.ndarray, res: float,
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Clip jittered points into the grid cell of the original points (with a small margin)."""
    margin = 1e-5
    top = LAT_MAX - np.floor((LAT_MAX - lat0) / res) * res
    left = LON_MIN + np.floor((lon0 - LON_MIN) / res) * res
    lat = np.clip(lat, top - res + margin, top - margin)
    lon = np.clip(lon, left + margin, left + res - margin)
    return lat, lon


def inpe_fire_risk(weather: Weather, cells: pd.DataFrame, cell: np.ndarray, day: np.ndarray,
                   code: np.ndarray) -> np.ndarray:
    """INPE fire-risk index RF of each (cell, day) pair, for a fire on a pixel of MapBiomas class `code`, as
    `geih.domain.fire_index` computes it (2019 version, latitude of the cell centre); NaN where the class
    has no INPE vegetation class (water, urban)."""
    return fire_index.fire_risk_at(weather.precip, cell, day, weather.tmax[cell, day], weather.rhmin[cell, day],
                                   fire_index.vegetation_class_from_mapbiomas(code),
                                   lat=cells["lat"].to_numpy()[cell], elevation_m=weather.elevation[cell])


def hotspot_records(det: Detections, fires: TrueFires, cells: pd.DataFrame, weather: Weather,
                    config: WorldConfig, rng: np.random.Generator) -> pd.DataFrame:
    """Typed BDQueimadas records of the detections inside the span, sorted by time, with the published
    quirks: -999 weather values, a few negative FRP values and a few exact duplicate rows."""
    end = np.datetime64(f"{config.end_year + 1}-01-01T00:00:00")
    keep = det.time < end
    fire = det.fire[keep]
    cell = fires.cell[fire].astype(int)
    day = fires.day[fire].astype(int)
    risk = inpe_fire_risk(weather, cells, cell, day, fires.code[fire])
    n = cell.size
    rate = config.detection.invalid_weather_rate
    dsr = np.where(rng.random(n) < rate, INVALID, weather.dsr[cell, day]).astype(np.int64)
    precip = np.where(rng.random(n) < rate, INVALID, np.round(weather.precip[cell, day], 1))
    risk = np.where((rng.random(n) < rate) | np.isnan(risk), INVALID, risk)
    frp = np.round(det.frp[keep], 1)
    neg = rng.random(n) < config.detection.negative_frp_rate
    frp[neg] = -np.round(rng.uniform(0.1, 3.0, int(neg.sum())), 1)
    rows = pd.DataFrame({
        "id": uuid4_strings(rng, n),
        "time": det.time[keep], "lat": det.lat[keep], "lon": det.lon[keep], "satellite": det.satellite[keep],
        "municipio": cells["municipio"].to_numpy()[cell], "estado": cells["state_upper"].to_numpy()[cell],
        "municipio_id": cells["municipio_id"].to_numpy()[cell], "estado_id": cells["state_id"].to_numpy()[cell],
        "dsr": dsr, "precip": precip, "risk": risk, "bioma": cells["bioma"].to_numpy()[cell], "frp": frp,
    })
    dup = np.flatnonzero(rng.random(n) < config.detection.duplicate_row_rate)
    rows = pd.concat([rows, rows.iloc[dup]], ignore_index=True)
    return rows.sort_values(["time", "satellite", "lat", "lon", "id"], kind="stable").reset_index(drop=True)
