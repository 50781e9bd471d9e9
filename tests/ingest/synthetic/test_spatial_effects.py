"""The world's latent cell effects are spatially autocorrelated at the configured range, and deterministic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geih.domain.grid import Grid
from geih.ingest.synthetic.config import WorldConfig
from geih.ingest.synthetic.deforestation import _clearing_logit, spatial_effect


def full_grid(res: float) -> tuple[Grid, pd.DataFrame]:
    grid = Grid(res)
    rows, cols = np.meshgrid(np.arange(grid.nrows), np.arange(grid.ncols), indexing="ij")
    return grid, pd.DataFrame({"row": rows.ravel(), "col": cols.ravel()})


def lag_correlation(values: np.ndarray, grid: Grid, lag: int) -> float:
    """Correlation of the field with itself `lag` cells to the east."""
    field = values.reshape(grid.nrows, grid.ncols)
    return float(np.corrcoef(field[:, :-lag].ravel(), field[:, lag:].ravel())[0, 1])


def test_smooth_share_sets_the_autocorrelation():
    grid, cells = full_grid(0.5)
    smooth = spatial_effect(grid, cells, 0.6, 1.0, 2.0, np.random.default_rng(0))
    white = spatial_effect(grid, cells, 0.6, 0.0, 2.0, np.random.default_rng(0))
    mixed = spatial_effect(grid, cells, 0.6, 0.8, 2.0, np.random.default_rng(0))
    assert smooth.std() == pytest.approx(0.6, rel=0.05) and white.std() == pytest.approx(0.6, rel=0.05)
    assert lag_correlation(smooth, grid, 1) > 0.9  # 0.5° apart
    # Gaussian-smoothed noise of scale s: correlation exp(−d²/4s²) at distance d (0.78 at 2°, 0.37 at 4°)
    assert 0.55 < lag_correlation(smooth, grid, 4) < 0.9
    assert lag_correlation(smooth, grid, 8) < 0.5
    assert abs(lag_correlation(white, grid, 1)) < 0.05
    assert lag_correlation(mixed, grid, 1) == pytest.approx(0.8 * lag_correlation(smooth, grid, 1), abs=0.05)


def test_spatial_effect_is_deterministic_per_seed():
    grid, cells = full_grid(1.0)
    a = spatial_effect(grid, cells, 0.6, 0.8, 2.0, np.random.default_rng(7))
    b = spatial_effect(grid, cells, 0.6, 0.8, 2.0, np.random.default_rng(7))
    c = spatial_effect(grid, cells, 0.6, 0.8, 2.0, np.random.default_rng(8))
    assert np.array_equal(a, b) and not np.allclose(a, c)


def test_the_frontier_spreads_faster_along_roads():
    coef = WorldConfig().deforestation
    zero = np.zeros(2)
    road = np.array([1.0, 0.0])  # at a road, far from any
    quiet = _clearing_logit(coef, road, zero, zero, np.full(2, 0.5), zero, zero)
    busy = _clearing_logit(coef, road, np.ones(2), zero, np.full(2, 0.5), zero, zero)
    lift = busy - quiet  # what neighbours' clearing adds
    assert lift[0] == pytest.approx(coef.neighbours + coef.road_neighbours)
    assert lift[1] == pytest.approx(coef.neighbours) and coef.road_neighbours > 0


@pytest.mark.parametrize("key", ["deforestation.cell_effect_spatial_share", "fire.cell_effect_spatial_share"])
def test_spatial_share_is_a_checked_coefficient(key: str):
    from geih.errors import ParamsError

    group, name = key.split(".")
    with pytest.raises(ParamsError, match=f"acquire.{key}"):
        WorldConfig.from_params({group: {name: 1.5}})


def test_dryness_response_follows_the_regional_field():
    from geih.ingest.synthetic.fires import dryness_response

    dry_days = np.array([[0.0, 10.0, 40.0], [0.0, 10.0, 40.0], [0.0, 10.0, 40.0]])
    field = np.array([1.0, -1.0, 0.0])
    term = dryness_response(dry_days, field, 0.6)
    centred = np.log1p(dry_days[0]) - np.log1p(dry_days).mean()
    assert term[0] == pytest.approx(0.6 * centred) and term[1] == pytest.approx(-0.6 * centred)
    assert np.all(term[2] == 0.0)  # a cell of average response: only the shared coefficient
    assert term[0, 2] > 0 > term[0, 0]  # a dry-responsive region burns more when dry, less when wet
    assert np.all(dryness_response(dry_days, field, 0.0) == 0.0)


def test_the_fire_regime_stream_leaves_the_other_streams_alone():
    from geih.ingest.synthetic.world import STREAMS, _rngs

    assert STREAMS[-1] == "fire_regime"
    older = np.random.SeedSequence(42).spawn(len(STREAMS) - 1)
    rngs = _rngs(42)
    for name, seq in zip(STREAMS[:-1], older):
        assert rngs[name].random(3).tolist() == np.random.default_rng(seq).random(3).tolist()


@pytest.mark.parametrize(("name", "value"), [("dryness_response_sd", 5.0), ("dryness_response_range_deg", -1.0)])
def test_dryness_response_coefficients_are_checked(name: str, value: float):
    from geih.errors import ParamsError

    with pytest.raises(ParamsError, match=f"acquire.fire.{name}"):
        WorldConfig.from_params({"fire": {name: value}})
