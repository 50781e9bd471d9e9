"""Unit tests of the small pure pieces: grid, risk levels, splits, params, io, models, registry rules."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geih import io
from geih.domain.grid import Grid, neighbour_pairs
from geih.domain.risk_levels import probability_level
from geih.errors import DataError, ParamsError
from geih.lifecycle.registry import decide_alias
from geih.lifecycle.tracking import flatten, repo_root
from geih.modelling.families import build_model, resolve_train_params
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
    levels = probability_level(np.array([0.0, 0.2499, 0.25, 0.5, 0.7499, 0.75, 1.0]))
    assert list(levels) == ["baixo", "baixo", "médio", "alto", "alto", "crítico", "crítico"]
    with pytest.raises(ValueError):
        probability_level(np.array([0.1]), (0.5, 0.25, 0.75))


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


def test_resolve_train_params_merges_and_rejects():
    train = {"seed": 1, "n_jobs": 1, "n_estimators": 50, "max_depth": 3, "fire_risk": {"model": "xgboost", "max_depth": 5}}
    name, hp = resolve_train_params(train, "fire_risk", ["fire_risk", "deforestation"])
    assert name == "xgboost" and hp == {"n_estimators": 50, "max_depth": 5}
    with pytest.raises(ParamsError, match="unknown model 'svm'"):
        resolve_train_params({**train, "fire_risk": {"model": "svm"}}, "fire_risk", ["fire_risk"])
    with pytest.raises(ParamsError, match="train.nonsense"):
        resolve_train_params({**train, "nonsense": 1}, "fire_risk", ["fire_risk"])


@pytest.mark.parametrize("name", ["random_forest", "gradient_boosting", "logistic_regression", "xgboost", "lightgbm"])
def test_every_model_fits_raw_features_with_nan(name):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    y = (X["a"] + 0.3 * rng.normal(size=300) > 0).astype(int).to_numpy()
    X.loc[::17, "b"] = np.nan
    model = build_model(name, {"n_estimators": 20, "max_depth": 3, "learning_rate": 0.2}, seed=0, n_jobs=1)
    p = model.fit(X, y).predict_proba(X)[:, 1]
    assert ((p >= 0) & (p <= 1)).all()
    assert np.corrcoef(p, X["a"])[0, 1] > 0.5
    has_scaler = any(step == "scale" for step, _ in model.steps)
    assert has_scaler == (name == "logistic_regression")


def test_decide_alias_rules():
    p = {"metric": "roc_auc", "min_improvement": 0.01, "min_roc_auc": 0.6}
    assert decide_alias({"roc_auc": 0.8}, None, p)[0] == "champion"
    assert decide_alias({"roc_auc": 0.8}, {"roc_auc": 0.795}, p)[0] == "challenger"
    assert decide_alias({"roc_auc": 0.81}, {"roc_auc": 0.795}, p)[0] == "champion"
    alias, reason = decide_alias({"roc_auc": 0.55}, None, p)
    assert alias == "challenger" and "floor" in reason


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
