"""MOD13Q1-like 16-day NDVI/EVI per cell centre: land cover, dry-season dip, clearing drop, clouds."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geih.ingest.synthetic.landcover import GROUPS
from geih.ingest.synthetic.weather import Weather

# Group -> (NDVI in the wet season, dip at full dryness).
NDVI_BY_GROUP = {"forest": (0.84, 0.05), "savanna": (0.62, 0.22), "grassland": (0.55, 0.24),
                 "pasture": (0.66, 0.22), "crop": (0.70, 0.32), "mosaic": (0.68, 0.18), "other": (0.05, 0.0)}
CLEARED_NDVI = 0.30  # NDVI of freshly cleared ground


def composite_dates(first_year: int, last_year: int) -> pd.DatetimeIndex:
    """MOD13 16-day composite start dates: day of year 1, 17, 33, … in each year."""
    out = []
    for y in range(first_year, last_year + 1):
        start = pd.Timestamp(f"{y}-01-01")
        out.extend(start + pd.to_timedelta(np.arange(0, 365, 16), unit="D"))
    return pd.DatetimeIndex(out)


def vegetation_table(cells: pd.DataFrame, weather: Weather, fractions_by_year: dict[int, dict[str, np.ndarray]],
                     cleared_monthly: np.ndarray, months: pd.DatetimeIndex, first_year: int, last_year: int,
                     rng: np.random.Generator) -> pd.DataFrame:
    """Rows date, lat, lon, ndvi, evi (date-major). `cleared_monthly` (n_cells, len(months)) is km² cleared
    per month; a composite sees the clearing of its month and the 35 before (regrowth afterwards)."""
    dates = composite_dates(first_year, last_year)
    day_idx = (dates - weather.dates[0]).days.to_numpy()
    n_days = weather.precip.shape[1]
    cum = np.concatenate([np.zeros((len(cells), 1)), np.cumsum(weather.precip, axis=1, dtype=np.float64)], axis=1)
    end = np.minimum(day_idx + 16, n_days)
    rain32 = cum[:, end] - cum[:, np.maximum(day_idx - 16, 0)]  # the composite and the 16 days before
    dryness = np.exp(-rain32 / 45.0 * 32.0 / (end - np.maximum(day_idx - 16, 0)))
    roll = np.cumsum(np.pad(cleared_monthly, ((0, 0), (1, 0))), axis=1)
    m = months.get_indexer(dates.to_period("M").to_timestamp())
    recent = roll[:, m + 1] - roll[:, np.maximum(m - 35, 0)]
    area = cells["area_km2"].to_numpy()[:, None]
    cleared = np.clip(recent / area, 0, 1)
    ndvi = np.zeros((len(cells), len(dates)))
    for j, d in enumerate(dates):
        fr = fractions_by_year[d.year]
        for group in GROUPS:
            wet, dip = NDVI_BY_GROUP[group]
            ndvi[:, j] += fr[group] * (wet - dip * dryness[:, j])
    ndvi = ndvi - cleared * (ndvi - CLEARED_NDVI)
    ndvi += rng.normal(0, 0.015, ndvi.shape)
    evi = 0.62 * ndvi - 0.03 + rng.normal(0, 0.012, ndvi.shape)
    cloudy = rng.random(ndvi.shape) < 0.01 + 0.04 * (1 - dryness)
    ndvi = np.where(cloudy, np.nan, np.clip(ndvi, -0.2, 1.0))
    evi = np.where(cloudy, np.nan, np.clip(evi, -0.2, 1.0))
    n = len(cells)
    return pd.DataFrame({
        "date": np.repeat(dates.values, n),
        "lat": np.tile(cells["lat"].to_numpy(), len(dates)),
        "lon": np.tile(cells["lon"].to_numpy(), len(dates)),
        "ndvi": np.round(ndvi.T.ravel(), 4).astype(np.float32),
        "evi": np.round(evi.T.ravel(), 4).astype(np.float32),
    })
