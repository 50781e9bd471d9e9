"""Metrics on small frames: binary metrics, curves, calibration, climatology baseline, groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geih.modelling import metrics as ev


def test_binary_metrics_hand_computed():
    y = np.array([1, 1, 0, 0])
    p = np.array([0.9, 0.4, 0.6, 0.1])
    m = ev.binary_metrics(y, p, threshold=0.5)
    assert m["roc_auc"] == pytest.approx(0.75)  # 3 of 4 positive/negative pairs ordered
    assert m["precision"] == pytest.approx(0.5) and m["recall"] == pytest.approx(0.5)
    assert m["accuracy"] == pytest.approx(0.5)
    assert m["brier"] == pytest.approx((0.01 + 0.36 + 0.36 + 0.01) / 4)
    assert m["n"] == 4 and m["positive_rate"] == 0.5


def test_curves_are_thinned_and_ordered():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 5000)
    p = np.clip(y * 0.3 + rng.random(5000) * 0.7, 0, 1)
    roc = ev.roc_points(y, p, max_points=100)
    assert len(roc) <= 100 and roc["fpr"].is_monotonic_increasing
    assert roc.iloc[0][["fpr", "tpr"]].tolist() == [0.0, 0.0] and roc.iloc[-1][["fpr", "tpr"]].tolist() == [1.0, 1.0]
    pr = ev.pr_points(y, p, max_points=100)
    assert len(pr) <= 100 and pr["recall"].is_monotonic_increasing


def test_calibration_bins_sum_to_rows():
    y = np.array([0, 0, 1, 1, 1])
    p = np.array([0.05, 0.15, 0.55, 0.95, 0.99])
    cal = ev.calibration_points(y, p, bins=10)
    assert cal["count"].sum() == 5
    assert cal["fraction_positive"].tolist() == [0.0, 0.0, 1.0, 1.0]


def test_climatology_uses_training_frequency_per_cell_and_month():
    train = pd.DataFrame({"cell_id": [1, 1, 1, 2], "m": [8, 8, 2, 8], "label": [1, 0, 0, 1]})
    test = pd.DataFrame({"cell_id": [1, 1, 3], "m": [8, 2, 8]})
    assert ev.climatology_score(train, test, "m").tolist() == [0.5, 0.0, 0.5]  # unseen cell → base rate


def test_metrics_by_group():
    frame = pd.DataFrame({"y": [1, 0, 1, 0, 1, 1], "p": [0.9, 0.1, 0.8, 0.3, 0.2, 0.6], "g": list("aaaabb")})
    out = ev.metrics_by_group(frame, "g", 0.5).set_index("g")
    assert out.loc["a", "roc_auc"] == 1.0 and out.loc["a", "rows"] == 4
    assert np.isnan(out.loc["b", "roc_auc"])  # one class only: undefined, not a crash


def test_permutation_importance_ranks_the_informative_feature_first_on_at_most_max_rows():
    from sklearn.inspection import permutation_importance as sk_permutation_importance
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"noise": rng.normal(size=200), "signal": rng.normal(size=200)})
    y = (X["signal"] + 0.5 * rng.normal(size=200) > 0).astype(int).to_numpy()
    model = LogisticRegression().fit(X, y)
    out = ev.permutation_importance(model, X, y, repeats=3, seed=0)
    assert list(out.columns) == ["feature", "importance", "repeats", "rows", "rows_test"]
    assert out.index.tolist() == [0, 1]
    assert out[["repeats", "rows", "rows_test"]].drop_duplicates().values.tolist() == [[3, 200, 200]]
    assert out["feature"].tolist() == ["signal", "noise"]  # sorted, most important first
    assert out["importance"].iloc[0] > 0.2 and abs(out["importance"].iloc[1]) < 0.05
    # more rows than max_rows: scored (ROC AUC drop) on `max_rows` rows drawn with the seed, in their order
    take = np.sort(np.random.default_rng(7).choice(200, size=50, replace=False))
    direct = sk_permutation_importance(model, X.iloc[take], y[take], scoring="roc_auc", n_repeats=3, random_state=7)
    sub = ev.permutation_importance(model, X, y, repeats=3, seed=7, max_rows=50)
    assert sub.set_index("feature")["importance"].to_dict() == pytest.approx(
        dict(zip(X.columns, direct.importances_mean)), abs=1e-12)
    assert sub[["repeats", "rows", "rows_test"]].drop_duplicates().values.tolist() == [[3, 50, 200]]
    assert ev.permutation_importance(model, X, y, repeats=3, seed=0, max_rows=200).equals(out)


def test_permutation_importance_is_the_same_in_any_batch_size_and_on_any_index():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(2)
    X = pd.DataFrame({"a": rng.normal(size=150), "b": rng.normal(size=150), "c": rng.normal(size=150)},
                     index=rng.permutation(150) + 1000)
    y = (X["a"] - X["b"] + rng.normal(size=150) > 0).astype(int).to_numpy()
    model = LogisticRegression().fit(X, y)
    whole = ev.permutation_importance(model, X, y, repeats=2, seed=5)
    for batch_rows in (1, 150, 400):  # one copy per call, one per call, two per call (3 features × 2 repeats)
        pd.testing.assert_frame_equal(ev.permutation_importance(model, X, y, repeats=2, seed=5,
                                                                batch_rows=batch_rows), whole)


def test_calibration_points_default_to_ten_bins():
    # 0.09 and 0.095 share the first of ten bins (eleven would split them)
    cal = ev.calibration_points(np.array([0, 1, 1]), np.array([0.09, 0.095, 0.95]))
    assert cal["count"].tolist() == [2, 1] and cal["fraction_positive"].tolist() == [0.5, 1.0]


def test_permutation_importance_keeps_column_order_among_ties():
    """Features the model never uses tie at 0: they stay in column order (a stable sort), whatever their number."""
    from sklearn.tree import DecisionTreeClassifier

    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(120, 24)), columns=[f"f{i:02d}" for i in range(24)])
    y = (X["f13"] > 0).astype(int).to_numpy()
    model = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X, y)
    out = ev.permutation_importance(model, X, y, repeats=1, seed=0)
    assert out["feature"].iloc[0] == "f13" and (out["importance"].iloc[1:] == 0).all()
    assert out["feature"].iloc[1:].tolist() == [c for c in X.columns if c != "f13"]


def test_curves_are_thinned_to_200_points_by_default():
    rng = np.random.default_rng(3)
    y, p = rng.integers(0, 2, 2000), rng.random(2000)
    roc, pr = ev.roc_points(y, p), ev.pr_points(y, p)
    assert len(roc) == len(pr) == 200
    assert roc["fpr"].iloc[[0, -1]].tolist() == [0.0, 1.0]  # the ends of the curve are kept
