"""Splits at their edges: integer years, several test years, block ids of negative coordinates, a
spatial split that leaves one side empty, and the featurize params checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geih.errors import DataError, ParamsError
from geih.modelling.splits import check_split_params, is_test_row, row_year, spatial_blocks

SPLIT = {"split": "temporal", "test_years": 1, "block_size_deg": 4.0, "test_fraction": 0.2, "seed": 42}


def test_temporal_split_on_integer_years_and_several_test_years():
    df = pd.DataFrame({"year": [2021, 2019, 2020, 2022, 2022, 2020]})
    assert is_test_row(df, "year", SPLIT).tolist() == [False, False, False, True, True, False]
    two = is_test_row(df, "year", {**SPLIT, "test_years": 2})
    assert two.tolist() == [True, False, False, True, True, False]
    with pytest.raises(DataError, match="only 4 year") as err:
        is_test_row(df, "year", {**SPLIT, "test_years": 4})
    assert err.value.column == "year"
    assert is_test_row(df, "year", {**SPLIT, "test_years": 3}).tolist() == [True, False, True, True, True, True]


def test_row_year_of_timestamps_and_integers():
    assert row_year(pd.Series(pd.to_datetime(["2020-12-31", "2021-01-01"]))).tolist() == [2020, 2021]
    assert row_year(pd.Series([2020.0, 2021.0])).tolist() == [2020, 2021]
    assert row_year(pd.Series([2020.0])).dtype == np.int64


def test_spatial_blocks_floor_negative_coordinates():
    lat = np.array([-0.1, 0.1, -4.0, -4.1, 3.9])
    lon = np.array([-60.1, -60.1, -56.0, -56.0, -59.0])
    blocks = spatial_blocks(lat, lon, 4.0)
    # floor(-0.1/4) = -1, floor(0.1/4) = 0; lon floor(-60.1/4) = -16, floor(-56/4) = -14, floor(-59/4) = -15
    assert blocks.tolist() == [-1 * 10_000 - 16, -16, -1 * 10_000 - 14, -2 * 10_000 - 14, -15]
    assert blocks.dtype == np.int64


def test_spatial_split_is_seeded_and_needs_both_sides():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"lat": rng.uniform(-18, 5, 500), "lon": rng.uniform(-74, -44, 500), "year": 2020})
    p = {**SPLIT, "split": "spatial_block", "test_fraction": 0.3, "seed": 7}
    first, again = is_test_row(df, "year", p), is_test_row(df, "year", p)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, is_test_row(df, "year", {**p, "seed": 8}))
    blocks = np.unique(spatial_blocks(df["lat"].to_numpy(), df["lon"].to_numpy(), 4.0))
    chosen = np.unique(spatial_blocks(df["lat"].to_numpy()[first], df["lon"].to_numpy()[first], 4.0))
    assert len(chosen) == round(len(blocks) * 0.3)
    one_block = pd.DataFrame({"lat": [1.0, 1.5], "lon": [-60.5, -60.2], "year": 2020})
    with pytest.raises(DataError) as err:
        is_test_row(one_block, "year", {**p, "block_size_deg": 20.0})
    assert err.value.detail == "the spatial-block split left one side empty; change featurize.block_size_deg"


@pytest.mark.parametrize("change,key", [
    ({"split": "random"}, "featurize.split"), ({"test_years": 0}, "featurize.test_years"),
    ({"test_years": 1.5}, "featurize.test_years"), ({"block_size_deg": 0.05}, "featurize.block_size_deg"),
    ({"block_size_deg": 25}, "featurize.block_size_deg"), ({"test_fraction": 0.01}, "featurize.test_fraction"),
    ({"test_fraction": 0.99}, "featurize.test_fraction"), ({"seed": "x"}, "featurize.seed"),
    ({"seed": 1.5}, "featurize.seed"), ({"block_size_deg": 0.09}, "featurize.block_size_deg"),
    ({"block_size_deg": 20.5}, "featurize.block_size_deg"),
    ({"other": 1}, "featurize"),
])
def test_split_params_are_checked(change: dict, key: str):
    check_split_params(SPLIT)
    check_split_params({**SPLIT, "split": "spatial_block", "block_size_deg": 0.1})  # the range's ends are valid
    check_split_params({**SPLIT, "block_size_deg": 20, "test_fraction": 0.95, "test_years": 3})
    with pytest.raises(ParamsError) as err:
        check_split_params({**SPLIT, **change})
    assert err.value.key.startswith(key)
