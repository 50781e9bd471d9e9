"""geih.domain.monthly: calendar months of a daily series and the one monthly reduction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geih.domain import monthly


def test_monthly_reduce_tiny_with_partial_months():
    dates = pd.date_range("2020-01-30", periods=4, freq="D")  # Jan 30, 31, Feb 1, 2
    daily = np.array([[1.0, 3.0, 5.0, np.nan],
                      [np.nan, np.nan, 2.0, 4.0]])
    months = monthly.calendar_months(dates)
    bounds = monthly.month_bounds(dates, months)
    mean = monthly.monthly_reduce(daily, bounds, "mean")
    mx = monthly.monthly_reduce(daily, bounds, "max")
    # cell 0: Jan (1+3)/2 = 2, max 3; Feb 5 (NaN skipped), max 5
    # cell 1: Jan all NaN -> NaN; Feb (2+4)/2 = 3, max 4
    np.testing.assert_array_equal(mean, [[2.0, 5.0], [np.nan, 3.0]])
    np.testing.assert_array_equal(mx, [[3.0, 5.0], [np.nan, 4.0]])
    assert list(months) == [pd.Timestamp("2020-01-01"), pd.Timestamp("2020-02-01")]
    assert list(monthly.full_months(dates)) == []


def test_calendar_months_mean_and_max_match_pandas_groupby():
    dates = pd.date_range("2019-12-15", "2020-03-10", freq="D")
    rng = np.random.default_rng(2)
    daily = rng.random((3, len(dates)))
    daily[rng.random(daily.shape) < 0.2] = np.nan
    months = monthly.calendar_months(dates)
    bounds = monthly.month_bounds(dates, months)
    frame = pd.DataFrame(daily.T, index=dates)
    g = frame.groupby(dates.to_period("M"))
    np.testing.assert_allclose(monthly.monthly_reduce(daily, bounds, "mean"), g.mean().to_numpy().T)
    np.testing.assert_allclose(monthly.monthly_reduce(daily, bounds, "max"), g.max().to_numpy().T)
    assert len(months) == 4 and months[0] == pd.Timestamp("2019-12-01")


@pytest.mark.parametrize("dates", [
    pd.DatetimeIndex(["2020-01-01", "2020-01-03", "2020-01-04"]),  # gap
    pd.DatetimeIndex(["2020-01-02", "2020-01-01", "2020-01-03"]),  # unsorted
    pd.DatetimeIndex(["2020-01-01", "2020-01-01", "2020-01-02"]),  # repeat
])
def test_month_bounds_rejects_non_contiguous(dates):
    with pytest.raises(ValueError, match="contiguous"):
        monthly.month_bounds(dates, pd.DatetimeIndex(["2020-01-01"]))


def test_monthly_reduce_rejects_too_few_days():
    dates = pd.date_range("2020-01-01", periods=3)
    bounds = monthly.month_bounds(dates, monthly.calendar_months(dates))
    with pytest.raises(ValueError, match="days"):
        monthly.monthly_reduce(np.zeros((1, 2)), bounds, "mean")
    with pytest.raises(ValueError, match="unknown reduction"):
        monthly.monthly_reduce(np.zeros((1, 3)), bounds, "median")


def test_month_bounds_rejects_a_month_without_dates():
    dates = pd.date_range("2020-01-01", "2020-01-31")
    with pytest.raises(ValueError, match="2020-03 has no date"):
        monthly.month_bounds(dates, pd.DatetimeIndex(["2020-01-01", "2020-03-01"]))


def test_monthly_reduce_matches_pandas_with_nan():
    dates = pd.date_range("2020-01-01", "2020-03-31", freq="D")
    rng = np.random.default_rng(0)
    daily = rng.random((3, len(dates)))
    daily[0, :31] = np.nan  # cell 0: January all missing
    daily[1, 40] = np.nan
    months = monthly.full_months(dates)
    bounds = monthly.month_bounds(dates, months)
    frame = pd.DataFrame(daily.T, index=dates)
    by_month = frame.groupby(frame.index.to_period("M"))
    np.testing.assert_allclose(monthly.monthly_reduce(daily, bounds, "mean"), by_month.mean().to_numpy().T)
    np.testing.assert_allclose(monthly.monthly_reduce(daily, bounds, "max"), by_month.max().to_numpy().T)
    np.testing.assert_allclose(monthly.monthly_reduce(daily, bounds, "min"), by_month.min().to_numpy().T)
    total = monthly.monthly_reduce(daily, bounds, "sum")
    assert np.isnan(total[0, 0])  # all-NaN month is missing, not zero
    np.testing.assert_allclose(total[1:], by_month.sum().to_numpy().T[1:])
    np.testing.assert_allclose(monthly.monthly_reduce(daily, bounds, "last"), daily[:, [30, 59, 90]])


def test_monthly_reduce_complete_series_path_equals_nan_path():
    dates = pd.date_range("2021-01-01", "2021-04-30", freq="D")
    daily = np.random.default_rng(3).random((4, len(dates)))
    months = monthly.full_months(dates)
    bounds = monthly.month_bounds(dates, months)
    with_nan = daily.copy()
    with_nan[3, 0] = np.nan  # forces the NaN-aware path for the whole array
    for how in ("sum", "mean", "max", "min"):
        fast = monthly.monthly_reduce(daily, bounds, how)
        careful = monthly.monthly_reduce(with_nan, bounds, how)
        np.testing.assert_allclose(fast[:3], careful[:3])


def test_full_months_and_bounds_skip_partial_months():
    dates = pd.date_range("2020-01-15", "2020-04-10", freq="D")
    months = monthly.full_months(dates)
    assert list(months) == [pd.Timestamp("2020-02-01"), pd.Timestamp("2020-03-01")]
    bounds = monthly.month_bounds(dates, months)
    assert bounds.tolist() == [17, 17 + 29, 17 + 29 + 31]
