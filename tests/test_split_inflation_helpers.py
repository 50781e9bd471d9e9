"""The helpers of benchmarks/split_inflation.py: features left out, the splits' test masks, the penalties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.conftest import load_benchmark


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("split_inflation")


NAMES = ["lat", "lon", "hotspots_m0", "neighbour_hotspots_12m", "fire_months_12m", "precip_mm"]


def test_kept_features_leave_out_every_name_containing_a_piece(bench):
    assert bench.kept_features(NAMES, ["hotspots", "fire_"]) == ["lat", "lon", "precip_mm"]
    assert bench.kept_features(NAMES, []) == NAMES


def test_kept_features_name_a_piece_no_feature_contains_and_refuse_to_leave_none(bench):
    with pytest.raises(ValueError, match="--without wind: no feature name contains it"):
        bench.kept_features(NAMES, ["hotspots", "wind"])
    with pytest.raises(ValueError, match="leaves no feature"):
        bench.kept_features(["hotspots_m0"], ["hotspots"])


def _frame() -> pd.DataFrame:
    lat, lon = np.meshgrid(np.arange(-10.0, -2.0, 1.0), np.arange(-60.0, -52.0, 1.0))
    cells = pd.DataFrame({"lat": lat.ravel() + 0.25, "lon": lon.ravel() + 0.25})
    return pd.concat([cells.assign(year=y) for y in (2020, 2021, 2022)], ignore_index=True)


def test_split_masks_temporal_random_and_one_spatial_block_draw_per_seed(bench):
    frame = _frame()
    split = {"split": "temporal", "test_years": 1, "block_size_deg": 2.0, "test_fraction": 0.25, "seed": 42}
    masks = bench.split_masks(frame, "year", split, random_seed=7, block_seeds=[42, 1])
    assert list(masks) == ["temporal", "random", "spatial_block_42", "spatial_block_1"]
    assert np.array_equal(masks["temporal"], frame["year"].to_numpy() == 2022)
    # evaluate's random_split_roc_auc draws its 80/20 split this way: the same rows for the same seed
    assert np.array_equal(masks["random"], np.random.default_rng(7).random(len(frame)) < 0.2)
    for name in ("spatial_block_42", "spatial_block_1"):
        block = (np.floor(frame["lat"] / 2.0).astype(int) * 10_000 + np.floor(frame["lon"] / 2.0).astype(int))
        held_out = set(block[masks[name]])
        assert len(held_out) == 4  # 25 % of the 16 blocks, every year of each
        assert masks[name].sum() == 4 * 4 * 3 and set(block[~masks[name]]).isdisjoint(held_out)
    assert not np.array_equal(masks["spatial_block_42"], masks["spatial_block_1"])


def test_inflation_summary_penalties_raw_and_in_oracle_gaps(bench):
    scores = {"temporal": {"roc_auc": 0.88, "oracle_roc_auc": 0.89, "oracle_gap": 0.01},
              "random": {"roc_auc": 0.89, "oracle_roc_auc": 0.90, "oracle_gap": 0.01},
              "spatial_block_42": {"roc_auc": 0.86, "oracle_roc_auc": 0.89, "oracle_gap": 0.03},
              "spatial_block_1": {"roc_auc": 0.91, "oracle_roc_auc": 0.92, "oracle_gap": 0.01}}
    summary = bench.inflation_summary(scores)
    assert summary["random_minus_temporal_roc_auc"] == pytest.approx(0.01)
    raw = summary["penalty_raw_roc_auc"]
    assert raw["by_draw"] == {"spatial_block_42": pytest.approx(0.03), "spatial_block_1": pytest.approx(-0.02)}
    assert (raw["mean"], raw["min"], raw["max"]) == (pytest.approx(0.005), pytest.approx(-0.02), pytest.approx(0.03))
    gaps = summary["penalty_in_oracle_gaps"]
    # the second draw's held-out blocks are easier (its oracle too scores higher): no penalty in gaps
    assert gaps["by_draw"] == {"spatial_block_42": pytest.approx(0.02), "spatial_block_1": pytest.approx(0.0)}
    assert gaps["mean"] == pytest.approx(0.01)


def test_inflation_summary_needs_a_spatial_block_draw(bench):
    with pytest.raises(ValueError, match="no spatial_block_<seed> split"):
        bench.inflation_summary({"temporal": {"roc_auc": 0.8, "oracle_gap": 0.0},
                                 "random": {"roc_auc": 0.8, "oracle_gap": 0.0}})
