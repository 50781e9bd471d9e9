"""The synthetic hotspot records carry INPE's index as `geih.domain.fire_index` computes it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geih.domain import fire_index
from geih.ingest.synthetic import fires
from geih.ingest.synthetic.landcover import FOREST, PASTURE, SAVANNA, WATER
from geih.ingest.synthetic.weather import Weather


def _weather(n_cells: int = 3, n_days: int = 300) -> Weather:
    rng = np.random.default_rng(11)
    shape = (n_cells, n_days)
    precip = np.where(rng.random(shape) < 0.3, 1.0 + rng.gamma(0.8, 8.0, shape), 0.0).astype(np.float32)
    zeros = np.zeros(shape, dtype=np.float32)
    return Weather(dates=pd.date_range("2019-01-01", periods=n_days), n_burn=0, precip=precip,
                   tmax=rng.uniform(24, 38, shape).astype(np.float32),
                   rhmin=rng.uniform(15, 85, shape).astype(np.float32), wind=zeros,
                   dsr=np.zeros(shape, dtype=np.int16), tmax_clim=zeros, rh_clim=zeros, dry_phase=zeros,
                   seasonality=np.ones(n_cells, dtype=np.float32),
                   elevation=np.array([40.0, 250.0, 600.0], dtype=np.float32))


def test_record_index_equals_fire_index_on_the_full_arrays():
    weather = _weather()
    cells = pd.DataFrame({"lat": [-3.0, -9.5, -14.0]})
    codes = np.array([FOREST, SAVANNA, PASTURE])  # one land-cover class per cell for the full-array reference
    full = fire_index.fire_risk(weather.precip, weather.tmax, weather.rhmin,
                                fire_index.vegetation_class_from_mapbiomas(codes),
                                lat=cells["lat"].to_numpy(), elevation_m=weather.elevation)
    cell = np.array([0, 1, 2, 2, 1, 0])
    day = np.array([150, 200, 299, 119, 130, 250])
    risk = fires.inpe_fire_risk(weather, cells, cell, day, codes[cell])
    np.testing.assert_array_equal(risk, full[cell, day])
    assert not np.isnan(risk).any()
    # savanna is INPE class 4 (A = 2.4), as in the features; water has no INPE class
    assert fire_index.vegetation_class_from_mapbiomas(np.array([SAVANNA]))[0] == 4
    assert np.isnan(fires.inpe_fire_risk(weather, cells, cell[:1], day[:1], np.array([WATER])))[0]
