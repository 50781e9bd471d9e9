"""Edges of the hotspot rules the other tests leave open (found by mutation testing): the geometry
cross-check at its tolerance, the place/time dedup key's rounding and its params bounds, the
reference-satellite warning and the frames' columns."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from geih.errors import ParamsError
from geih.ingest.sources import hotspot_rules as rules

TOL = rules.GEOM_TOLERANCE_DEG


def cross_check(rows: list[tuple[float, float, float, float]]) -> tuple[list[bool], list[bool]]:
    lat, lon, x, y = (np.array(col, dtype=float) for col in zip(*rows))
    swapped, neither = rules.geom_cross_check(lat, lon, x, y)
    return swapped.tolist(), neither.tolist()


def test_geom_cross_check_same_swapped_neither_and_missing():
    # (lat, lon, x, y): the point (lon, lat); the point (lat, lon); x right but y off; no point; half a point
    swapped, neither = cross_check([(-6.5, -58.8, -58.8, -6.5), (-6.5, -58.8, -6.5, -58.8),
                                    (-6.5, -58.8, -58.8, -7.0), (-6.5, -58.8, np.nan, np.nan),
                                    (-6.5, -58.8, np.nan, -6.5)])
    assert swapped == [False, True, False, False, False]
    # only a point that is neither (lon, lat) nor (lat, lon) counts; a missing or half-missing point does not
    assert neither == [False, False, True, False, False]


def test_geom_cross_check_a_difference_equal_to_the_tolerance_is_the_same_point():
    # |1e-5 - 0.0| is exactly the tolerance in floating point; each axis and each reading on its own
    assert abs(TOL - 0.0) == TOL
    swapped, neither = cross_check([
        (0.5, 0.0, TOL, 0.5),   # x - lon at the tolerance: (lon, lat)
        (0.0, 0.5, 0.5, TOL),   # y - lat at the tolerance: (lon, lat)
        (0.0, 0.5, TOL, 0.5),   # x - lat at the tolerance: (lat, lon)
        (0.5, 0.0, 0.5, TOL),   # y - lon at the tolerance: (lat, lon)
    ])
    assert swapped == [False, False, True, True]
    assert neither == [False, False, False, False]


def test_geom_cross_check_and_vegetation_type_warn_about_nothing_on_nan():
    nan = np.nan
    with np.errstate(all="raise"):  # a NaN or inf must not reach numpy's invalid-value handler unsilenced
        rules.geom_cross_check(np.array([nan, np.inf]), np.array([nan, np.inf]),
                               np.array([nan, np.inf]), np.array([nan, np.inf]))
        assert rules.non_vegetation_type(np.array([nan, 0.0, 2.0])).tolist() == [False, False, True]


def place_frame(lats: list[float], lons: list[float], minutes: list[int] | None = None) -> pd.DataFrame:
    n = len(lats)
    minutes = minutes if minutes is not None else [10 * i for i in range(n)]
    return pd.DataFrame({"datetime": pd.Timestamp("2024-08-04 12:00") + pd.to_timedelta(minutes, unit="min"),
                         "lat": lats, "lon": lons, "satellite": ["NOAA-20"] * n})


def test_place_time_rounds_each_axis_to_place_decimals():
    # two decimals: -6.51 and -6.52 are two places (a key rounded at 10·2 = 20 steps per degree would merge them)
    out, counts = rules.dedup_hotspots(place_frame([-6.51, -6.52], [-58.8, -58.8]), "place_time")
    assert counts == {"dropped_place_time_duplicates": 0} and len(out) == 2
    # the longitude is rounded the same way: -58.81 and -58.82 are two places, -58.811 and -58.809 one
    out, counts = rules.dedup_hotspots(place_frame([-6.5, -6.5], [-58.81, -58.82]), "place_time")
    assert counts == {"dropped_place_time_duplicates": 0}
    out, counts = rules.dedup_hotspots(place_frame([-6.5, -6.5], [-58.811, -58.809]), "place_time")
    assert counts == {"dropped_place_time_duplicates": 1} and out["lon"].tolist() == [-58.811]
    # three decimals: 1000 steps per degree, -6.501 and -6.502 are two places
    out, counts = rules.dedup_hotspots(place_frame([-6.501, -6.502], [-58.8, -58.8]), "place_time", place_decimals=3)
    assert counts == {"dropped_place_time_duplicates": 0}


def test_place_time_accepts_zero_decimals_and_a_one_minute_window():
    # zero decimals: whole degrees, -6.4 and -6.2 are one place (both round to -6)
    out, counts = rules.dedup_hotspots(place_frame([-6.4, -6.2], [-58.8, -58.8]), "place_time", place_decimals=0)
    assert counts == {"dropped_place_time_duplicates": 1} and out["lat"].tolist() == [-6.4]
    # one-minute windows: 12:00 and 12:01 are two windows, 12:01:00 and 12:01:30 one
    frame = place_frame([-6.5] * 3, [-58.8] * 3, [0, 1, 0])
    frame.loc[2, "datetime"] = pd.Timestamp("2024-08-04 12:01:30")
    out, counts = rules.dedup_hotspots(frame, "place_time", time_window_minutes=1)
    assert counts == {"dropped_place_time_duplicates": 1} and len(out) == 2


def test_dedup_params_errors_name_the_params_key_and_the_rule():
    frame = place_frame([-6.5], [-58.8])
    with pytest.raises(ParamsError) as bad_window:
        rules.dedup_hotspots(frame, "place_time", time_window_minutes=0)
    assert bad_window.value.key == "prepare.dedup"
    assert str(bad_window.value) == ("params key 'prepare.dedup': place_decimals must be >= 0 and "
                                     "time_window_minutes > 0, got 2 and 0")
    with pytest.raises(ParamsError) as bad_method:
        rules.dedup_hotspots(frame, "nearest")
    assert bad_method.value.key == "prepare.dedup"


def test_reference_dedup_returns_the_same_columns_and_warns_only_without_the_reference(caplog):
    frame = place_frame([-6.5, -6.6], [-58.8, -58.8]).assign(satellite=["AQUA_M-T", "NOAA-20"])
    with caplog.at_level(logging.WARNING, logger=rules.__name__):
        out, _ = rules.dedup_hotspots(frame.iloc[[1]], "reference")
        assert out.empty and "no hotspots from the reference satellite" in caplog.text
        caplog.clear()
        out, _ = rules.dedup_hotspots(frame, "reference")
        assert caplog.text == ""
    assert list(out.columns) == list(frame.columns) and out["lat"].tolist() == [-6.5]


@pytest.mark.parametrize(("lat", "lon", "expected"), [
    ([90.0], [10.0], None),              # |lat| = 90 is possible
    ([90.5], [10.0], (90.5, 10.0)),      # just past 90 with |lon| <= 90: impossible as given
    ([95.0], [90.0], (95.0, 90.0)),      # |lon| = 90 still reads as a latitude
    ([95.0], [90.5], None),              # |lon| > 90 cannot be a latitude: not a swap
    ([50.0], [10.0], None),              # outside South America either way: not a swap
    ([-999.0, -999.0, 95.0], [10.0, 10.0, 10.0], (95.0, 10.0)),  # -999 latitudes take no part in the vote
])
def test_swapped_sample_edges(lat, lon, expected):
    assert rules.swapped_sample(np.array(lat), np.array(lon)) == expected
