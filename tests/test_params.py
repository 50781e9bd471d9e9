"""params.yaml helpers: errors name the dotted key."""

from __future__ import annotations

import pytest

from geih.errors import ParamsError
from geih.params import check_keys, number


def test_params_helpers_name_the_key():
    with pytest.raises(ParamsError, match="'train.bogus'"):
        check_keys({"bogus": 1}, {"n_estimators"}, "train")
    with pytest.raises(ParamsError, match="'train.n_estimators'.*integer"):
        number({"n_estimators": "many"}, "n_estimators", "train", integer=True)
