"""Argument checks of the INPE fire-index functions the other tests leave open (found by mutation
testing): `days_of_dryness` names its own argument, `days_of_dryness_at` refuses each index outside
the rain array on its own axis."""

from __future__ import annotations

import re

import numpy as np
import pytest

from geih.domain import fire_index as fi


def test_days_of_dryness_names_precip_when_it_is_not_2d():
    with pytest.raises(ValueError, match=r"^precip must be 2-D \(n_cells, n_days\), got shape \(130,\)$"):
        fi.days_of_dryness(np.zeros(130))


@pytest.mark.parametrize(("cells", "days"), [
    ([2], [125]),     # one cell past the last of 2 (the days are fine, and fewer than the 130 days)
    ([-1], [125]),    # a negative cell (numpy would read the last row)
    ([0, 2], [125, 125]),
    ([0], [130]),     # one day past the last
    ([0], [-1]),      # a negative day
])
def test_days_of_dryness_at_refuses_an_index_outside_precip(cells, days):
    precip = np.zeros((2, 130))
    with pytest.raises(ValueError, match=r"^cell or day index outside precip of shape \(2, 130\)$"):
        fi.days_of_dryness_at(precip, np.array(cells), np.array(days))


def test_days_of_dryness_at_the_last_cell_and_day_is_inside():
    # no rain in 120 days: every window holds 0 mm, so PSE = 105 · exp(0) = 105
    assert fi.days_of_dryness_at(np.zeros((2, 130)), np.array([1]), np.array([129])).tolist() == [105.0]


@pytest.mark.parametrize(("nan_day", "expected"), [
    (0, 105.0),      # long before the 120-day history of day 125 (days 6..125)
    (5, 105.0),      # the day just before it
    (6, np.nan),     # its first day
    (125, np.nan),   # the day itself
])
def test_days_of_dryness_at_masks_a_nan_only_inside_the_120_day_history(nan_day, expected):
    # no rain: every window holds 0 mm, PSE = 105 · exp(0) = 105, unless a NaN falls in days t-119..t
    precip = np.zeros((1, 130))
    precip[0, nan_day] = np.nan
    at = fi.days_of_dryness_at(precip, np.array([0]), np.array([125]))
    np.testing.assert_array_equal(at, [expected])
    np.testing.assert_array_equal(fi.days_of_dryness(precip)[0, [125]], [expected])


def test_a_vegetation_class_outside_0_to_7_is_named_in_the_error():
    pse = np.full((3, 1), 50.0)
    with pytest.raises(ValueError, match=r"^vegetation_class values must be 0–7, got \[8\.0, 9\.0\]$"):
        fi.basic_risk(pse, np.array([9, 8, 7]))


@pytest.mark.parametrize("wrong", ["tmax_c", "rhmin_pct"])
def test_fire_risk_from_dryness_refuses_one_weather_array_of_another_shape(wrong):
    """Either weather array alone with a shape other than PSE's is refused (numpy would broadcast a (1, n) row
    over every cell), naming the three shapes."""
    pse = np.full((2, 3), 10.0)
    weather = {"tmax_c": np.full((2, 3), 30.0), "rhmin_pct": np.full((2, 3), 50.0)}
    weather[wrong] = weather[wrong][:1]
    t_shape, rh_shape = weather["tmax_c"].shape, weather["rhmin_pct"].shape
    with pytest.raises(ValueError, match=re.escape(f"pse (2, 3), tmax_c {t_shape} and rhmin_pct {rh_shape} must match")):
        fi.fire_risk_from_dryness(pse, weather["tmax_c"], weather["rhmin_pct"], np.array([7, 7]))
