"""Unit tests of the small pure pieces: grid, risk levels, splits, params, io."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geih import io
from geih.domain.grid import Grid, neighbour_pairs
from geih.domain.risk_levels import risk_level
from geih.errors import DataError, ParamsError
from geih.lifecycle.tracking import flatten, repo_root
from geih.modelling.splits import is_test_row
from geih.params import check_keys, number


def test_grid_cell_roundtrip_and_outside():
    g = Grid(0.5)
    ids = g.cell_of(np.array([-6.57, 5.6, -10.0]), np.array([-58.85, -60.0, -80.0]))
    assert ids[1] == -1 and ids[2] == -1
    lat, lon = g.center(ids[:1])
    assert abs(lat[0] - -6.75) < 1e-9 and abs(lon[0] - -58.75) < 1e-9
    assert g.cell_of(lat, lon)[0] == ids[0]


def test_neighbour_pairs_counts_interior_and_corner():
    g = Grid(1.0)
    rows, cols = np.meshgrid(np.arange(3), np.arange(3), indexing="ij")
    ids = (rows * g.ncols + cols).ravel()
    pairs = neighbour_pairs(g, ids)
    per_cell = pairs.groupby("cell_id").size()
    assert per_cell[1 * g.ncols + 1] == 8  # centre
    assert per_cell[0] == 3  # corner


def test_risk_levels_boundaries():
    levels = risk_level(np.array([0.0, 0.2499, 0.25, 0.5, 0.7499, 0.75, 1.0]))
    assert list(levels) == ["baixo", "baixo", "médio", "alto", "alto", "crítico", "crítico"]
    with pytest.raises(ValueError):
        risk_level(np.array([0.1]), (0.5, 0.25, 0.75))


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


def test_params_helpers_name_the_key():
    with pytest.raises(ParamsError, match="'train.bogus'"):
        check_keys({"bogus": 1}, {"n_estimators"}, "train")
    with pytest.raises(ParamsError, match="'train.n_estimators'.*integer"):
        number({"n_estimators": "many"}, "n_estimators", "train", integer=True)


def test_atomic_json_leaves_no_partial_file(tmp_path: Path):
    target = tmp_path / "out.json"
    io.write_json({"b": np.float64(0.1234567891), "a": float("nan")}, target)
    assert json.loads(target.read_text()) == {"a": None, "b": 0.123457}
    with pytest.raises(RuntimeError):
        with io.atomic_path(tmp_path / "dir") as tmp:
            tmp.mkdir()
            (tmp / "half").write_text("x")
            raise RuntimeError("killed")
    assert not (tmp_path / "dir").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_repo_root_strips_temporary_experiment_folder(tmp_path: Path, monkeypatch):
    main = tmp_path / "repo"
    temp = main / ".dvc" / "tmp" / "exps" / "tmpabc123"
    temp.mkdir(parents=True)
    monkeypatch.setenv("DVC_ROOT", str(temp))
    assert repo_root() == main.resolve()
    assert flatten({"a": {"b": 1}, "c": 2}) == {"a.b": 1, "c": 2}
