"""Daily weather per cell: seasonal rain as intermittent events, persistent dryness anomalies, heat, humidity.

The dry season shifts with latitude (south: Jun–Sep, peak Aug–Sep; near the equator Sep–Nov; Roraima north of
the equator: Dec–Mar) and its strength grows to the south and east. A dryness anomaly (AR(1) in time, smooth
in space, plus a smooth year-to-year part and a drought year) lowers the wet-day probability and raises tmax
and lowers rhmin, so one month's dryness tells something about the next.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import ndimage, signal, special

from geih.ingest.synthetic.config import WorldConfig

RAIN_FLOOR_MM = 1.0  # every wet day has at least this much rain, so "days without rain" is unambiguous


@dataclass(frozen=True)
class Weather:
    """Daily fields of shape (n_cells, n_days) over `dates` (burn-in days first, then the span)."""

    dates: pd.DatetimeIndex
    n_burn: int
    precip: np.ndarray
    tmax: np.ndarray
    rhmin: np.ndarray
    wind: np.ndarray
    dsr: np.ndarray  # days since the last wet day (0 on a wet day)
    tmax_clim: np.ndarray  # climatological tmax (no anomaly, no rain effect)
    rh_clim: np.ndarray
    dry_phase: np.ndarray  # climatological dry-season weight h ∈ [0, 1], (n_cells, n_days)
    seasonality: np.ndarray  # (n_cells,)
    elevation: np.ndarray  # (n_cells,)


@dataclass(frozen=True)
class MonthlyWeather:
    """Monthly aggregates of shape (n_cells, n_months) over `months` (month starts, burn-in first)."""

    months: pd.DatetimeIndex
    n_burn: int
    precip: np.ndarray  # total rain (mm)
    dsr_end: np.ndarray  # days without rain on the month's last day
    tmax_anom: np.ndarray  # mean tmax minus climatology (°C)
    rh_anom: np.ndarray  # mean rhmin minus climatology (%)
    dry_phase: np.ndarray  # mean climatological dry-season weight
    wet_days: np.ndarray


def seasonality(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Strength of the dry season, 0.25 (humid north-west) .. 1 (south, east, Roraima, Amapá)."""
    s = (0.25 + 0.75 * special.expit((-lat - 6.0) / 2.5) + 0.35 * special.expit((lon + 55.0) / 3.0)
         + 0.6 * special.expit((lat - 1.5) / 0.7))
    return np.clip(s, 0.25, 1.0)


def dry_peak_doy(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Day of year at the height of the dry season (may exceed 365: wraps into the next year)."""
    south = np.interp(lat, [-20, -10, -5, -2, 0, 6], [215, 225, 245, 270, 295, 300])
    north = np.interp(lat, [-20, -10, -5, -2, 0, 1.0, 2.0, 6], [215, 225, 245, 270, 295, 350, 400, 410])
    w = special.expit((-lon - 55.0) / 1.0)  # Roraima-style timing west of ~55°W
    return w * north + (1 - w) * south


def dry_phase(doy: np.ndarray, peak: np.ndarray) -> np.ndarray:
    """Climatological dry-season weight in [0, 1]: flat-bottomed, ~5 months above 0.5."""
    c = np.cos(2 * np.pi * (doy[None, :] - peak[:, None]) / 365.25)
    lo, hi = special.expit((-1 - 0.1) / 0.3), special.expit((1 - 0.1) / 0.3)
    return ((special.expit((c - 0.1) / 0.3) - lo) / (hi - lo)).astype(np.float32)


def _smooth_noise(n_days: int, rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int], sigma: float,
                  rng: np.random.Generator) -> np.ndarray:
    """Per-day spatially smooth N(0, 1) noise sampled at (rows, cols); shape (n_cells, n_days)."""
    z = rng.standard_normal((n_days, *shape), dtype=np.float32)
    if sigma > 0:
        z = ndimage.gaussian_filter(z, (0, sigma, sigma), mode="reflect")
    z = z[:, rows, cols].T
    return z / (z.std() + 1e-12)


def _dryness_anomaly(cells: pd.DataFrame, dates: pd.DatetimeIndex, shape: tuple[int, int], res: float,
                     config: WorldConfig, h: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """AR(1)-in-time, smooth-in-space dryness anomaly plus year-to-year part and the drought year."""
    w = config.weather
    rows, cols = cells["row"].to_numpy(), cells["col"].to_numpy()
    rho = float(np.exp(-1.0 / w.anomaly_timescale_days))
    innov = _smooth_noise(len(dates), rows, cols, shape, w.anomaly_length_deg / res, rng)
    ar = signal.lfilter([np.sqrt(1 - rho**2)], [1.0, -rho], innov, axis=1)
    ar[:, :] *= w.anomaly_sd
    # year-to-year part: smooth fields at mid-year, linearly interpolated in time
    years = np.arange(dates[0].year - 1, dates[-1].year + 2)
    fields = np.stack([_smooth_noise(1, rows, cols, shape, 6.0 / res, rng)[:, 0] for _ in years], axis=1)
    mid = (pd.to_datetime([f"{y}-07-01" for y in years]) - dates[0]).days.to_numpy()
    t = np.arange(len(dates))
    yearly = np.stack([np.interp(t, mid, f) for f in fields]) * w.year_anomaly_sd
    anomaly = ar + yearly
    if config.drought_year is not None:
        in_drought = _drought_window(dates, config.drought_year)
        anomaly += w.drought_strength * h * in_drought[None, :]
    return anomaly.astype(np.float32)


def _drought_window(dates: pd.DatetimeIndex, year: int) -> np.ndarray:
    """Weight of the drought over time: ramps in from March, holds through November of `year`."""
    t = (dates - pd.Timestamp(f"{year}-01-01")).days.to_numpy().astype(float)
    up = np.clip((t - 60) / 60.0, 0, 1)
    down = np.clip((365 - t) / 40.0, 0, 1)
    return np.minimum(up, down)


def generate_weather(cells: pd.DataFrame, shape: tuple[int, int], res: float, elevation: np.ndarray,
                     config: WorldConfig, rng: np.random.Generator) -> Weather:
    """Daily weather for every cell from one year before the span to its end."""
    w = config.weather
    start = pd.Timestamp(f"{config.start_year}-01-01")
    dates = pd.date_range(start - pd.DateOffset(years=1), pd.Timestamp(f"{config.end_year}-12-31"), freq="D")
    n_burn = int((start - dates[0]).days)
    lat, lon = cells["lat"].to_numpy(), cells["lon"].to_numpy()
    s = seasonality(lat, lon).astype(np.float32)
    h = dry_phase(dates.day_of_year.to_numpy().astype(float), dry_peak_doy(lat, lon))
    anomaly = _dryness_anomaly(cells, dates, shape, res, config, h, rng)
    wet_local = special.expit((lon + 66.0) / 2.0) * -0.35 + 0.15  # wetter north-west
    logit = (special.logit(w.wet_prob_wet_season) - wet_local[:, None]
             - w.dry_season_logit_drop * s[:, None] * h - anomaly)
    p_wet = special.expit(logit)
    u = special.ndtr(_smooth_noise(len(dates), cells["row"].to_numpy(), cells["col"].to_numpy(), shape,
                                   w.rain_event_length_deg / res, rng))
    wet = u < p_wet
    mean = w.mean_rain_mm * (1 - 0.35 * s[:, None] * h) * np.exp(-0.25 * anomaly)
    amount = rng.gamma(0.8, 1.0, size=wet.shape).astype(np.float32) * (mean / 0.8)
    precip = np.where(wet, RAIN_FLOOR_MM + amount, 0.0).astype(np.float32)
    wet_prev = np.concatenate([wet[:, :1], wet[:, :-1]], axis=1)

    tmax_clim = (31.8 - 0.0055 * elevation[:, None] + 0.05 * np.abs(lat)[:, None]
                 + 3.2 * s[:, None] * h - 0.8 * s[:, None] * (1 - h)).astype(np.float32)
    heat = np.zeros_like(h)
    if config.drought_year is not None:
        heat = w.drought_heat_c * h * _drought_window(dates, config.drought_year)[None, :]
    noise = rng.standard_normal(wet.shape, dtype=np.float32)
    tmax = tmax_clim + 1.4 * anomaly + heat - 2.8 * wet - 1.2 * wet_prev + 1.0 * noise
    rh_clim = (66.0 - 34.0 * s[:, None] * h).astype(np.float32)
    noise = rng.standard_normal(wet.shape, dtype=np.float32)
    rhmin = np.clip(rh_clim - 5.0 * anomaly + 14.0 * wet + 5.0 * wet_prev + 4.0 * noise, 8.0, 98.0)
    noise = np.abs(rng.standard_normal(wet.shape, dtype=np.float32))
    wind = np.clip(1.5 + 1.2 * s[:, None] * h + 0.25 * anomaly + 0.7 * noise, 0.2, 12.0)
    return Weather(dates=dates, n_burn=n_burn, precip=precip, tmax=tmax.astype(np.float32),
                   rhmin=rhmin.astype(np.float32), wind=wind.astype(np.float32), dsr=days_since_rain(wet),
                   tmax_clim=tmax_clim, rh_clim=rh_clim, dry_phase=h, seasonality=s,
                   elevation=elevation.astype(np.float32))


def days_since_rain(wet: np.ndarray, prior: int = 30) -> np.ndarray:
    """Days since the last wet day along axis 1 (0 on wet days; `prior` dry days assumed before day 0)."""
    t = np.arange(wet.shape[1])
    last = np.where(wet, t[None, :], -prior)
    last = np.maximum.accumulate(last, axis=1)
    return (t[None, :] - last).astype(np.int16)


def monthly(weather: Weather) -> MonthlyWeather:
    """Aggregate the daily fields to calendar months."""
    dates = weather.dates
    month_start = dates.to_period("M").to_timestamp()
    months = pd.DatetimeIndex(month_start.unique())
    first = np.searchsorted(month_start.values, months.values)
    last = np.append(first[1:], len(dates)) - 1
    n_days = (last - first + 1)[None, :]
    wet = weather.precip > 0

    def msum(a: np.ndarray) -> np.ndarray:
        return np.add.reduceat(a.astype(np.float64), first, axis=1)

    return MonthlyWeather(
        months=months, n_burn=int((months < dates[weather.n_burn]).sum()),
        precip=msum(weather.precip), dsr_end=weather.dsr[:, last].astype(np.float64),
        tmax_anom=msum(weather.tmax - weather.tmax_clim) / n_days,
        rh_anom=msum(weather.rhmin - weather.rh_clim) / n_days,
        dry_phase=msum(weather.dry_phase) / n_days, wet_days=msum(wet),
    )


def weather_table_chunks(cells: pd.DataFrame, weather: Weather, rows_per_chunk: int) -> Iterator[pd.DataFrame]:
    """The published daily table over the span (date, lat, lon, precip_mm, tmax_c, rhmin_pct, wind_ms,
    elevation_m; one row per cell per day, ordered by date then cell) in consecutive frames of
    `rows_per_chunk` rows, the last one shorter, so that the whole table is never in memory."""
    if rows_per_chunk < 1:
        raise ValueError(f"rows_per_chunk must be ≥ 1, got {rows_per_chunk}")
    n_cells = len(cells)
    dates = weather.dates[weather.n_burn:]
    lat, lon = cells["lat"].to_numpy(), cells["lon"].to_numpy()
    elevation = np.round(weather.elevation, 0)
    total = n_cells * len(dates)
    for start in range(0, total, rows_per_chunk):
        stop = min(start + rows_per_chunk, total)
        first_day, end_day = start // n_cells, (stop - 1) // n_cells + 1  # the days the rows fall on
        rows = slice(start - first_day * n_cells, stop - first_day * n_cells)
        days = slice(weather.n_burn + first_day, weather.n_burn + end_day)
        n_days = end_day - first_day
        yield pd.DataFrame({
            "date": np.repeat(dates.values[first_day:end_day], n_cells)[rows],
            "lat": np.tile(lat, n_days)[rows],
            "lon": np.tile(lon, n_days)[rows],
            "precip_mm": _published(weather.precip, days, rows),
            "tmax_c": _published(weather.tmax, days, rows),
            "rhmin_pct": _published(weather.rhmin, days, rows),
            "wind_ms": _published(weather.wind, days, rows),
            "elevation_m": np.tile(elevation, n_days).astype(np.float32)[rows],
        })


def _published(field: np.ndarray, days: slice, rows: slice) -> np.ndarray:
    """A daily (cells × days) field over `days`, day-major, rounded to 0.1 as published, then `rows` of it."""
    return np.round(field[:, days].T.ravel(), 1).astype(np.float32)[rows]
