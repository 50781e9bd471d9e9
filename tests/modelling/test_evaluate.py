"""The evaluate params: the repository's own group passes; each extra's knobs are checked with the key named."""

from __future__ import annotations

import pytest

from geih.errors import ParamsError
from geih.modelling.evaluate import check_evaluate_params
from geih.params import group, load_params


def test_the_repository_params_pass_with_the_costly_extras_cheap_or_off():
    p = group(load_params("params.yaml"), "evaluate")
    check_evaluate_params(p)
    assert p["random_split"] is False  # opt in: dvc exp run -S evaluate.random_split=true
    assert p["permutation_rows"] <= 5000 and p["permutation_repeats"] <= 2


@pytest.mark.parametrize(("key", "value"), [("permutation_rows", 10), ("permutation_rows", 2.5),
                                            ("permutation_repeats", -1), ("random_split", "yes")])
def test_a_bad_value_names_its_key(key: str, value: object):
    p = dict(group(load_params("params.yaml"), "evaluate"), **{key: value})
    with pytest.raises(ParamsError, match=f"evaluate.{key}"):
        check_evaluate_params(p)


def test_a_missing_key_is_refused():
    p = group(load_params("params.yaml"), "evaluate")
    p.pop("permutation_rows")
    with pytest.raises(ParamsError, match="permutation_rows"):
        check_evaluate_params(p)


def test_the_random_split_figure_refits_a_clone_on_a_seeded_80_20_split():
    from types import SimpleNamespace

    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from geih.modelling.evaluate import random_split_auc

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"signal": rng.normal(size=400), "noise": rng.normal(size=400)})
    frame["label"] = (frame["signal"] + 0.3 * rng.normal(size=400) > 0).astype(int)
    schema = SimpleNamespace(label="label", matrix=lambda f: f[["signal", "noise"]])
    model = LogisticRegression()
    auc = random_split_auc(model, frame, schema, seed=3)
    assert 0.9 < auc <= 1.0 and auc == random_split_auc(model, frame, schema, seed=3)
    assert not hasattr(model, "coef_")  # the given model is cloned, never fitted in place
    assert auc != random_split_auc(model, frame, schema, seed=4)  # another seed, another split


def test_the_random_split_tests_on_a_seeded_fifth_of_the_rows_and_scores_exactly_those():
    from types import SimpleNamespace

    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    from geih.modelling.evaluate import random_split_auc, random_test_rows

    test = random_test_rows(10_000, seed=5)
    assert test.dtype == bool and 0.19 < test.mean() < 0.21
    assert np.array_equal(test, random_test_rows(10_000, seed=5))
    assert not np.array_equal(test, random_test_rows(10_000, seed=6))
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"signal": rng.normal(size=300)})
    frame["label"] = (frame["signal"] + rng.normal(size=300) > 0).astype(int)
    schema = SimpleNamespace(label="label", matrix=lambda f: f[["signal"]])
    rows = random_test_rows(len(frame), seed=2)
    fitted = LogisticRegression().fit(frame.loc[~rows, ["signal"]], frame.loc[~rows, "label"])
    expected = roc_auc_score(frame.loc[rows, "label"], fitted.predict_proba(frame.loc[rows, ["signal"]])[:, 1])
    assert random_split_auc(LogisticRegression(), frame, schema, seed=2) == pytest.approx(expected, abs=1e-12)
