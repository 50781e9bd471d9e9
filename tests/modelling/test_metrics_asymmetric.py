"""Hand-computed metric cases in which the symmetric quantities differ (precision ≠ recall, false positives
≠ false negatives), so that a swapped argument or a threshold off by one comparison shows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geih.modelling import metrics as ev

Y = np.array([1, 1, 1, 1, 0, 0])
P = np.array([0.9, 0.8, 0.3, 0.2, 0.4, 0.1])  # at 0.5: TP 2, FN 2, FP 0, TN 2


def test_precision_differs_from_recall():
    m = ev.binary_metrics(Y, P, threshold=0.5)
    assert m["precision"] == 1.0 and m["recall"] == 0.5
    assert m["f1"] == pytest.approx(2 / 3) and m["accuracy"] == pytest.approx(4 / 6)
    assert m["roc_auc"] == pytest.approx(6 / 8)  # positive/negative pairs ordered: 2 + 2 + 1 + 1 of 8
    # average precision: recall steps of 1/4 at precisions 1, 1, 3/4, 4/5
    assert m["pr_auc"] == pytest.approx(0.25 * (1 + 1 + 0.75 + 0.8))
    assert m["brier"] == pytest.approx((0.01 + 0.04 + 0.49 + 0.64 + 0.16 + 0.01) / 6)
    assert m["n"] == 6 and m["positive_rate"] == pytest.approx(4 / 6)
    # a lower threshold: more positives predicted, recall above precision
    low = ev.binary_metrics(Y, P, threshold=0.25)  # TP 3, FP 1, FN 1
    assert low["precision"] == pytest.approx(3 / 4) and low["recall"] == pytest.approx(3 / 4)
    lower = ev.binary_metrics(Y, P, threshold=0.15)  # TP 4, FP 1
    assert lower["precision"] == pytest.approx(4 / 5) and lower["recall"] == 1.0


def test_a_probability_equal_to_the_threshold_is_positive():
    m = ev.binary_metrics(np.array([1, 0]), np.array([0.5, 0.49]), threshold=0.5)
    assert m["recall"] == 1.0 and m["precision"] == 1.0 and m["accuracy"] == 1.0
    conf = ev.confusion_rows(np.array([1.0, 0.0, 0.0]), np.array([0.5, 0.49, 0.7]), 0.5)
    assert conf.to_dict("list") == {"actual": [1, 0, 0], "predicted": [1, 0, 1]}
    # integer classes: DVC's confusion plot labels them 0 and 1, not 0.0 and 1.0
    assert conf.dtypes.tolist() == [np.dtype(int), np.dtype(int)]


def test_one_class_only_leaves_ranking_metrics_undefined():
    m = ev.binary_metrics(np.array([0, 0, 0]), np.array([0.2, 0.6, 0.1]), 0.5)
    assert np.isnan(m["roc_auc"]) and np.isnan(m["pr_auc"])
    assert m["precision"] == 0.0 and m["recall"] == 0.0 and m["accuracy"] == pytest.approx(2 / 3)


def test_ranking_scores_skip_rows_without_a_score():
    y = np.array([1, 0, 1, 0, 1])
    score = np.array([0.9, 0.1, np.nan, 0.95, np.inf])
    out = ev.ranking_scores(y, score, "baseline_x")
    assert set(out) == {"baseline_x_roc_auc", "baseline_x_pr_auc"}
    assert out["baseline_x_roc_auc"] == pytest.approx(0.5)  # rows 0, 1, 3: 0.9 beats 0.1, loses to 0.95
    assert out["baseline_x_pr_auc"] == pytest.approx(0.5)  # ranked 0.95 (neg), 0.9 (pos): precision 1/2 at recall 1
    none = ev.ranking_scores(y, np.full(5, np.nan), "oracle")
    assert np.isnan(none["oracle_roc_auc"]) and np.isnan(none["oracle_pr_auc"])
    one_class = ev.ranking_scores(y, np.array([0.1, np.nan, 0.3, np.nan, 0.2]), "o")
    assert np.isnan(one_class["o_roc_auc"]) and np.isnan(one_class["o_pr_auc"])  # not scikit-learn's 1.0


def test_ranking_scores_are_not_symmetric_in_the_score():
    y = np.array([1, 1, 0, 0, 0])
    s = np.array([0.9, 0.4, 0.5, 0.1, 0.2])
    assert ev.ranking_scores(y, s, "a")["a_roc_auc"] == pytest.approx(5 / 6)
    assert ev.ranking_scores(y, -s, "a")["a_roc_auc"] == pytest.approx(1 / 6)


def test_climatology_is_the_training_frequency_not_the_test_one():
    train = pd.DataFrame({"cell_id": [1, 1, 1, 1, 2], "m": [1, 1, 1, 2, 1], "label": [1, 1, 0, 0, 0]})
    test = pd.DataFrame({"cell_id": [1, 1, 2, 9], "m": [1, 2, 2, 1], "label": [0, 1, 1, 1]})
    score = ev.climatology_score(train, test, "m")
    # cell 1 month 1: 2/3; cell 1 month 2: 0; cell 2 month 2 never in training: base rate 2/5; unseen cell too
    np.testing.assert_allclose(score, [2 / 3, 0.0, 0.4, 0.4])


def test_calibration_bins_and_edges():
    y = np.array([0, 1, 1, 0, 1, 1])
    p = np.array([0.0, 0.1, 0.19, 0.5, 0.99, 1.0])
    cal = ev.calibration_points(y, p, bins=5)  # edges 0.2, 0.4, 0.6, 0.8: bins 0, 0, 0, 2, 4, 4
    assert list(cal.columns) == ["mean_predicted", "fraction_positive", "count"] and cal.index.tolist() == [0, 1, 2]
    assert cal["count"].tolist() == [3, 1, 2]
    np.testing.assert_allclose(cal["mean_predicted"], [(0.0 + 0.1 + 0.19) / 3, 0.5, (0.99 + 1.0) / 2])
    np.testing.assert_allclose(cal["fraction_positive"], [2 / 3, 0.0, 1.0])
    # a value in every bin, two in the fourth: five rows, the last two bins apart
    every = ev.calibration_points(np.array([0, 0, 1, 1, 0, 1]), np.array([0.1, 0.3, 0.5, 0.7, 0.75, 0.9]), bins=5)
    assert every["count"].tolist() == [1, 1, 1, 2, 1] and every["fraction_positive"].tolist() == [0, 0, 1, 0.5, 1]


def test_curves_start_and_end_where_they_should():
    y = np.array([1, 0, 1, 0, 0])
    p = np.array([0.8, 0.7, 0.6, 0.2, 0.1])
    roc = ev.roc_points(y, p)
    assert roc["threshold"].max() <= 1.0 and roc["fpr"].iloc[-1] == 1.0 and roc["tpr"].iloc[-1] == 1.0
    assert roc[["fpr", "tpr"]].iloc[0].tolist() == [0.0, 0.0]
    assert list(roc.columns) == ["fpr", "tpr", "threshold"] and roc["threshold"].iloc[0] == 1.0  # was +inf
    pr = ev.pr_points(y, p)
    assert list(pr.columns) == ["recall", "precision", "threshold"] and pr.index.tolist() == list(range(len(pr)))
    assert pr["threshold"].tolist() == [0.8, 0.7, 0.6, 0.2, 0.1]  # every threshold, highest first
    # recall ascending: the first point has the highest threshold
    assert pr["recall"].iloc[0] == 0.5 and pr["precision"].iloc[0] == 1.0 and pr["threshold"].iloc[0] == 0.8
    assert pr["recall"].iloc[-1] == 1.0 and pr["precision"].iloc[-1] == pytest.approx(0.4)
    thin = ev.roc_points(np.tile(y, 200), np.linspace(0, 1, 1000), max_points=10)
    assert len(thin) == 10 and thin["fpr"].iloc[0] == 0.0 and thin["tpr"].iloc[-1] == 1.0


def test_metrics_by_group_rows_and_means():
    frame = pd.DataFrame({"y": [1, 0, 1, 1, 0], "p": [0.9, 0.2, 0.4, 0.7, 0.6], "g": ["b", "b", "a", "a", "a"]})
    out = ev.metrics_by_group(frame, "g", 0.5)
    assert out["g"].tolist() == ["a", "b"]  # sorted
    a = out.iloc[0]
    assert a["rows"] == 3 and a["positive_rate"] == pytest.approx(2 / 3)
    assert a["mean_probability"] == pytest.approx((0.4 + 0.7 + 0.6) / 3) and a["roc_auc"] == pytest.approx(0.5)
    assert out.iloc[1]["roc_auc"] == 1.0 and out.iloc[1]["pr_auc"] == 1.0
