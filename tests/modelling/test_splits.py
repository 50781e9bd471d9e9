"""Train/test splits: temporal (last years) and spatial blocks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geih.errors import DataError
from geih.modelling.splits import is_test_row


def test_temporal_split_takes_last_year():
    df = pd.DataFrame({"label_month": pd.to_datetime(["2020-01-01", "2021-05-01", "2022-03-01", "2022-12-01"])})
    mask = is_test_row(df, "label_month", {"split": "temporal", "test_years": 1})
    assert mask.tolist() == [False, False, True, True]
    with pytest.raises(DataError, match="no training year"):
        is_test_row(df, "label_month", {"split": "temporal", "test_years": 3})


def test_spatial_block_split_keeps_blocks_whole():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"lat": rng.uniform(-18, 5, 2000), "lon": rng.uniform(-74, -44, 2000), "year": 2020})
    p = {"split": "spatial_block", "block_size_deg": 4.0, "test_fraction": 0.3, "seed": 1}
    mask = is_test_row(df, "year", p)
    blocks = np.floor(df["lat"] / 4).astype(int) * 10_000 + np.floor(df["lon"] / 4).astype(int)
    per_block = pd.Series(mask).groupby(blocks.to_numpy()).nunique()
    assert (per_block == 1).all() and 0.1 < mask.mean() < 0.5
