"""Validation year inside the training years and the operating threshold chosen on it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from geih.errors import DataError, ParamsError
from geih.modelling.feature_schema import build_schema
from geih.modelling.metrics import operating_threshold
from geih.modelling.validation import check_threshold_params, choose_threshold, validate, validation_rows

Y = np.array([1, 1, 1, 0, 1, 0, 0, 0])
P = np.array([0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1])


def test_max_f1_threshold_by_hand():
    # thresholds 0.9: F1 2/5=.4; 0.8: .667; 0.7: .857; 0.6: .75; 0.4: 8/9=.889; 0.3: .8 ...
    assert choose_threshold(Y, P, "max_f1", 0.8) == pytest.approx(0.4)


def test_recall_target_takes_the_highest_threshold_reaching_it():
    assert choose_threshold(Y, P, "recall_target", 0.75) == pytest.approx(0.7)  # 3 of 4
    assert choose_threshold(Y, P, "recall_target", 0.76) == pytest.approx(0.4)  # needs all 4
    assert choose_threshold(Y, P, "recall_target", 0.5) == pytest.approx(0.8)


def test_f1_ties_go_to_the_higher_threshold():
    y, p = np.array([1, 0, 1, 0]), np.array([0.9, 0.8, 0.7, 0.1])
    # 0.9: P1 R.5 F .667; 0.8: P.5 R.5 F.5; 0.7: P.667 R1 F.8 -> unique best 0.7
    assert choose_threshold(y, p, "max_f1", 0.8) == pytest.approx(0.7)
    y, p = np.array([1, 0, 1, 1, 0, 0]), np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    # 0.9: 2/4=.5; 0.7: P.667 R.667 .667; 0.6: P.75 R1 .857; 0.5: P.6 R1 .75
    assert choose_threshold(y, p, "max_f1", 0.8) == pytest.approx(0.6)


def test_no_positive_validation_row_is_a_data_error():
    with pytest.raises(DataError, match="no positive row"):
        choose_threshold(np.zeros(4), P[:4], "max_f1", 0.8)


@pytest.mark.parametrize(("params", "key"), [
    ({"threshold_rule": "best", "recall_target": 0.8}, "train.threshold_rule"),
    ({"recall_target": 0.8}, "train.threshold_rule"),
    ({"threshold_rule": "max_f1", "recall_target": 0}, "train.recall_target"),
    ({"threshold_rule": "max_f1", "recall_target": 1.2}, "train.recall_target"),
    ({"threshold_rule": "max_f1", "recall_target": True}, "train.recall_target"),
])
def test_bad_threshold_params_name_the_key(params, key):
    with pytest.raises(ParamsError, match=key.replace(".", r"\.")):
        check_threshold_params(params)


def test_threshold_params_are_returned():
    assert check_threshold_params({"threshold_rule": "recall_target", "recall_target": 0.9}) == ("recall_target", 0.9)


def test_validation_rows_are_the_last_year_and_need_two_years():
    frame = pd.DataFrame({"year": [2020, 2021, 2022, 2022, 2021]})
    assert validation_rows(frame, "year").tolist() == [False, False, True, True, False]
    months = pd.DataFrame({"month": pd.to_datetime(["2021-05-01", "2022-01-01", "2022-12-01"])})
    assert validation_rows(months, "month").tolist() == [False, True, True]
    with pytest.raises(DataError, match="single year"):
        validation_rows(pd.DataFrame({"year": [2022, 2022]}), "year")


def _frame(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 600
    x = rng.normal(size=n)
    year = np.repeat([2020, 2021, 2022], n // 3)
    label = (rng.random(n) < 1 / (1 + np.exp(-2 * x))).astype(int)
    return pd.DataFrame({"cell_id": np.arange(n), "year": year, "x": x, "noise": rng.normal(size=n),
                         "label": label})


def test_validate_fits_on_earlier_years_and_scores_the_last():
    train = _frame(0)
    schema = build_schema("t", train, train, ["x", "noise"], {}, label="label", time_column="year",
                          id_columns=["cell_id", "year"], grid_resolution_deg=1.0, baseline_column="x",
                          baseline_name="x", prepare={}, split={})
    model = LogisticRegression()
    out = validate(model, train, schema, "max_f1", 0.8)
    assert out["validation_year"] == 2022 and out["validation_rows"] == 200
    assert 0.75 < out["validation_roc_auc"] <= 1.0 and out["threshold_rule"] == "max_f1"
    assert 0.0 < out["threshold"] < 1.0 and "recall_target" not in out
    assert not hasattr(model, "coef_")  # the stage's model itself is left unfitted
    # The same as fitting by hand on 2020–2021 and choosing on 2022.
    early, last = train[train["year"] < 2022], train[train["year"] == 2022]
    p = LogisticRegression().fit(early[["x", "noise"]], early["label"]).predict_proba(last[["x", "noise"]])[:, 1]
    assert out["threshold"] == pytest.approx(choose_threshold(last["label"].to_numpy(), p, "max_f1", 0.8))
    enforcement = validate(model, train, schema, "recall_target", 0.9)
    assert enforcement["validation_recall"] >= 0.9 and enforcement["recall_target"] == 0.9
    assert enforcement["threshold"] <= out["threshold"]


def test_operating_threshold_read_from_train_metrics():
    assert operating_threshold({"threshold": 0.31}, "train.json") == 0.31
    for bad in ({}, {"threshold": 1.5}, {"threshold": "0.3"}, {"threshold": True}):
        with pytest.raises(DataError, match="threshold"):
            operating_threshold(bad, "train.json")


def test_a_regression_task_has_no_operating_threshold():
    assert operating_threshold({}, "train.json", regression=True) is None
    assert operating_threshold({"threshold": 0.31}, "train.json", regression=False) == 0.31
