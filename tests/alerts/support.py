"""Tiny bundles and feature frames for the alerts tests: the service tests' three-feature bundles
(`tests.serving.bundle_support`) on the 0.5° grid, with cell ids, a monthly period and states."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tests.serving.bundle_support import ColumnModel, make_bundle

LEVEL_EDGES = (0.25, 0.5, 0.75)


def column_bundle(folder: Path) -> Path:
    """A bundle whose probability is feature `a` itself (to place probabilities on level boundaries)."""
    return make_bundle(folder, model=ColumnModel())


def frame(a: list[float], months: list[str] | None = None, cells: list[int] | None = None,
          states: list[str] | None = None) -> pd.DataFrame:
    """Feature rows with `a` as given (b, c fixed), cell ids, months (default one month) and states."""
    n = len(a)
    out = pd.DataFrame({
        "cell_id": np.asarray(cells if cells is not None else np.arange(1000, 1000 + n), dtype=np.int64),
        "month": pd.to_datetime(months if months is not None else ["2024-12-01"] * n),
        "a": np.asarray(a, dtype=float), "b": 0.5, "c": 1.0,
    })
    if states is not None:
        out["state"] = states
    return out
