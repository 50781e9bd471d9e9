"""Train/test splits that do not flatter models of spatially autocorrelated data.

temporal (default): test = the last `test_years` years of the time column, train = the years before.
spatial_block: the region is cut into square blocks of `block_size_deg`; a seeded random
`test_fraction` of the blocks is the test set, all years.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from geih.errors import DataError
from geih.params import check_keys, choice, number

SPLIT_KEYS = {"split", "test_years", "block_size_deg", "test_fraction", "seed"}


def check_split_params(p: dict[str, Any]) -> None:
    """Validate the `featurize` group."""
    check_keys(p, SPLIT_KEYS, "featurize")
    choice(p, "split", "featurize", {"temporal", "spatial_block"})
    number(p, "test_years", "featurize", low=1, integer=True)
    number(p, "block_size_deg", "featurize", low=0.1, high=20)
    number(p, "test_fraction", "featurize", low=0.05, high=0.95)
    number(p, "seed", "featurize", integer=True)


def row_year(values: pd.Series) -> np.ndarray:
    """The year of each row's time column (a timestamp or an integer year)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.year.to_numpy()
    return values.to_numpy().astype(np.int64)


def spatial_blocks(lat: np.ndarray, lon: np.ndarray, block_size_deg: float) -> np.ndarray:
    """An integer block id for each point."""
    return (np.floor(lat / block_size_deg).astype(np.int64) * 10_000
            + np.floor(lon / block_size_deg).astype(np.int64))


def is_test_row(df: pd.DataFrame, time_col: str, p: dict[str, Any]) -> np.ndarray:
    """Boolean mask of the test rows under the configured split."""
    if p["split"] == "temporal":
        years = row_year(df[time_col])
        last = np.sort(np.unique(years))
        if len(last) <= p["test_years"]:
            raise DataError(f"only {len(last)} year(s) in {time_col}; a temporal split with "
                            f"featurize.test_years={p['test_years']} leaves no training year", column=time_col)
        return years >= last[-int(p["test_years"])]
    blocks = spatial_blocks(df["lat"].to_numpy(), df["lon"].to_numpy(), float(p["block_size_deg"]))
    unique = np.unique(blocks)
    rng = np.random.default_rng(int(p["seed"]))
    n_test = max(1, int(round(len(unique) * float(p["test_fraction"]))))
    chosen = rng.choice(unique, size=n_test, replace=False)
    mask = np.isin(blocks, chosen)
    if mask.all() or not mask.any():
        raise DataError("the spatial-block split left one side empty; change featurize.block_size_deg")
    return mask
