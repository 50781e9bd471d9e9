"""Calendar months over daily series: which months a series covers, where they start, and the one
monthly reduction of (n_cells, n_days) arrays used everywhere (weather aggregates, the INPE index).

Dates are a sorted, gap-free daily `pd.DatetimeIndex`, one per column of the daily arrays.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

REDUCTIONS = ("sum", "mean", "max", "min", "last")


def calendar_months(dates: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Month-start timestamps of every calendar month `dates` touch (the first and last may be partial)."""
    if len(dates) == 0:
        return pd.DatetimeIndex([])
    return pd.date_range(dates[0].to_period("M").to_timestamp(), dates[-1], freq="MS")


def full_months(dates: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Month-start timestamps of the calendar months fully covered by `dates`."""
    months = calendar_months(dates)
    return pd.DatetimeIndex([m for m in months
                             if m >= dates[0] and (m + pd.offsets.MonthEnd(0)) <= dates[-1]])


def month_bounds(dates: pd.DatetimeIndex, months: pd.DatetimeIndex) -> np.ndarray:
    """Day index where each of `months` starts in `dates` (its first date in the month), plus the index
    after the last month's last date: the `bounds` of `monthly_reduce`.

    ValueError when `dates` are not consecutive days, or a month has no date in `dates`.
    """
    idx = pd.DatetimeIndex(dates)
    if idx.hasnans:
        raise ValueError("dates contains NaT")
    steps = np.diff(idx.values)  # timedelta64 in the index's own unit (ns, us, ...)
    if steps.size and not np.all(steps == np.timedelta64(1, "D")):
        raise ValueError("dates must be sorted and contiguous daily steps (no gaps or repeats)")
    months = pd.DatetimeIndex(months)
    if len(months) == 0:
        raise ValueError("no months to reduce over")
    starts = idx.searchsorted(months, side="left")
    end = idx.searchsorted(months[-1] + pd.offsets.MonthEnd(0) + pd.Timedelta(days=1), side="left")
    bounds = np.append(starts, end).astype(np.int64)
    if np.any(np.diff(bounds) <= 0):
        empty = months[np.flatnonzero(np.diff(bounds) <= 0)[0]]
        raise ValueError(f"month {empty:%Y-%m} has no date in dates")
    return bounds


def monthly_reduce(daily: np.ndarray, bounds: np.ndarray, how: str) -> np.ndarray:
    """Reduce a (cells, days) array over each month, NaN-aware: how in sum/mean/max/min/last.

    Missing values are skipped; a month with no value gives NaN (also for "sum"). "last" is the
    month's last day as it is. `bounds` from `month_bounds`; returns (cells, months).
    """
    if how not in REDUCTIONS:
        raise ValueError(f"unknown reduction {how!r}; allowed: {', '.join(REDUCTIONS)}")
    if daily.ndim != 2 or bounds[-1] > daily.shape[1]:
        raise ValueError(f"daily has shape {daily.shape}; the months end at day {int(bounds[-1])} "
                         "(need a 2-D array with at least that many days)")
    block = daily[:, bounds[0]:bounds[-1]]
    starts = bounds[:-1] - bounds[0]
    if how == "last":
        return block[:, bounds[1:] - bounds[0] - 1].astype(float)
    if not np.isnan(block).any():  # complete series: plain reductions
        if how == "sum":
            return np.add.reduceat(block, starts, axis=1)
        if how == "mean":
            return np.add.reduceat(block, starts, axis=1) / np.diff(bounds)
        if how == "max":
            return np.maximum.reduceat(block, starts, axis=1)
        return np.minimum.reduceat(block, starts, axis=1)
    valid = ~np.isnan(block)
    count = np.add.reduceat(valid, starts, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        if how in ("sum", "mean"):
            total = np.add.reduceat(np.where(valid, block, 0.0), starts, axis=1)
            out = total if how == "sum" else total / count
        elif how == "max":
            out = np.fmax.reduceat(block, starts, axis=1)
        else:
            out = np.fmin.reduceat(block, starts, axis=1)
    return np.where(count > 0, out, np.nan)
