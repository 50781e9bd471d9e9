"""Which risk levels alert: the bundle's levels (`model_info.json` `risk_levels`, lowest first) and the
chosen ones. An alert is a cell at or above the lowest chosen level; the chosen levels must therefore run
without a gap up to the top level (`alto,crítico`, or just `alto` meaning the same); a list that skips a
level (`médio,crítico`) is refused rather than guessed. A probability equal to a threshold takes the upper
level (the bundle's rule), so 0.75 is `crítico` with thresholds 0.25/0.5/0.75."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from geih.errors import GeihError


def parse_levels(chosen: str | Sequence[str], known: Sequence[str], where: str = "--levels") -> tuple[str, ...]:
    """The alerting levels, lowest first, from a comma list or a sequence of level names; an unknown
    or empty choice, or one that skips a level, is a GeihError naming `where`."""
    names = [s.strip() for s in chosen.split(",")] if isinstance(chosen, str) else [str(s).strip() for s in chosen]
    names = [n for n in names if n]
    if not names:
        raise GeihError(f"{where}: no risk level given; expected some of {list(known)}")
    unknown = [n for n in names if n not in known]
    if unknown:
        raise GeihError(f"{where}: unknown risk level(s) {unknown}; the bundle's levels are {list(known)}")
    lowest = min(known.index(n) for n in names)
    expected = tuple(known[lowest:])
    if set(names) != set(expected) and len(set(names)) > 1:
        raise GeihError(f"{where}: {names} skips a level; alerts are the cells at or above a level, so give "
                        f"{','.join(expected)} (or just {known[lowest]})")
    return expected


def alert_mask(level_index: np.ndarray, chosen: Sequence[str], known: Sequence[str]) -> np.ndarray:
    """True for each level index (into `known`) at or above the lowest chosen level."""
    return np.asarray(level_index) >= min(known.index(c) for c in chosen)
