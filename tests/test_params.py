"""params.yaml helpers: errors name the dotted key; `-S`-style overrides."""

from __future__ import annotations

import pytest

from geih.errors import ParamsError
from geih.params import check_keys, number, with_overrides


def test_params_helpers_name_the_key():
    with pytest.raises(ParamsError, match="'train.bogus'"):
        check_keys({"bogus": 1}, {"n_estimators"}, "train")
    with pytest.raises(ParamsError, match="'train.n_estimators'.*integer"):
        number({"n_estimators": "many"}, "n_estimators", "train", integer=True)


def test_with_overrides_sets_values_as_dvc_exp_run_s_does_and_leaves_the_original_alone():
    params = {"train": {"n_estimators": 400, "fire_risk": {"model": "xgboost"}}, "seed": 1}
    changed = with_overrides(params, ["train.fire_risk.model=random_forest", "train.fire_risk.max_depth=0",
                                      "train.n_estimators=200", "seed=null"])
    assert changed == {"train": {"n_estimators": 200, "fire_risk": {"model": "random_forest", "max_depth": 0}},
                       "seed": None}
    assert params == {"train": {"n_estimators": 400, "fire_risk": {"model": "xgboost"}}, "seed": 1}
    assert with_overrides(params, []) == params


def test_with_overrides_names_a_malformed_override_and_a_missing_group():
    params = {"train": {"n_estimators": 400}}
    for bad in ("train.n_estimators", "=3", "train..n=3"):
        with pytest.raises(ParamsError, match="expected dotted.key=value"):
            with_overrides(params, [bad])
    with pytest.raises(ParamsError, match="'trian'.*missing"):
        with_overrides(params, ["trian.n_estimators=3"])
    with pytest.raises(ParamsError, match="'train.n_estimators'.*expected a mapping"):
        with_overrides(params, ["train.n_estimators.deep=3"])
    with pytest.raises(ParamsError, match="'train.n_estimators'.*not valid YAML"):
        with_overrides(params, ["train.n_estimators=[1"])
