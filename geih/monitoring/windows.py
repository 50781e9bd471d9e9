"""Time helpers of the monitoring store: parsing `--since`, canonical period keys, window labels."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import numpy as np
import pandas as pd

from geih.errors import GeihError

WINDOW_KINDS = ("period", "day", "week", "month")
_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_time(text: str, now: float) -> float:
    """Seconds since the epoch of `text`: a span back from `now` ('90m', '24h', '7d', '2w') or an ISO date
    or date-time ('2024-05-01', '2024-05-01T12:00', UTC unless it names an offset)."""
    match = _RELATIVE.match(text)
    if match:
        return now - float(match.group(1)) * _SECONDS[match.group(2)]
    try:
        stamp = dt.datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise GeihError(f"cannot read the time {text!r}: expected e.g. 7d, 24h, 90m, 2024-05-01 "
                        "or 2024-05-01T12:00") from exc
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.timestamp()


def canonical_period(value: Any) -> str | None:
    """The key of a period (the month or year a prediction is for), the same however it was written:
    a year → '2024'; a month → '2024-03' (from '2024-03', '2024-03-01', '2024-03-01T00:00' or a timestamp
    on the 1st); another date → 'YYYY-MM-DD'. None/NaN/'' → None."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(int(value))
    if isinstance(value, (dt.date, pd.Timestamp)):
        stamp = pd.Timestamp(value)
        return stamp.strftime("%Y-%m") if stamp.day == 1 else stamp.strftime("%Y-%m-%d")
    text = str(value).strip()
    if not text:
        return None
    if re.fullmatch(r"\d{4}(\.0)?", text):
        return text[:4]
    if re.fullmatch(r"\d{4}-\d{2}", text):
        return text
    if re.match(r"\d{4}-\d{2}-\d{2}", text):
        day = text[8:10]
        return text[:7] if day == "01" and _midnight(text[10:]) else text[:10]
    return text


def _midnight(rest: str) -> bool:
    clock = rest.lstrip("T ").split("+")[0].rstrip("Z")
    return clock == "" or set(clock.replace(":", "").replace(".", "")) <= {"0"}


def window_labels(timestamps: Any, kind: str) -> np.ndarray:
    """Label of each epoch-seconds timestamp's window: 'YYYY-MM-DD' (day), 'YYYY-Www' (ISO week) or
    'YYYY-MM' (month), in UTC."""
    stamps = pd.to_datetime(pd.Series(np.asarray(timestamps, dtype=np.float64)), unit="s", utc=True)
    if kind == "day":
        return stamps.dt.strftime("%Y-%m-%d").to_numpy()
    if kind == "week":
        iso = stamps.dt.isocalendar()
        return (iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)).to_numpy()
    if kind == "month":
        return stamps.dt.strftime("%Y-%m").to_numpy()
    raise GeihError(f"unknown window kind {kind!r}; expected one of {list(WINDOW_KINDS)}")
