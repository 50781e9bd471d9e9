"""Evaluation pieces on small frames: metrics, curves, baselines, oracle join, truth comparability."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geih.io import write_json
from geih.modelling import metrics as ev
from geih.modelling.evaluate import load_truth, map_rows, oracle_scores


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


def test_oracle_join_and_truth_comparability(tmp_path):
    truth = pd.DataFrame({"cell_id": [1, 2], "month": pd.to_datetime(["2024-02-01", "2024-02-01"]),
                          "probability": [0.2, 0.7]})
    test = pd.DataFrame({"cell_id": [2, 1, 3], "label_month": pd.to_datetime(["2024-02-01"] * 3)})
    scores = oracle_scores(test, truth, "label_month")
    assert scores[:2].tolist() == [0.7, 0.2] and np.isnan(scores[2])
    truth.to_parquet(tmp_path / "fire_risk.parquet")
    write_json({"available": True, "grid_resolution_deg": 0.5}, tmp_path / "manifest.json")
    assert load_truth(tmp_path, "fire_risk", {"grid_resolution_deg": 0.5}) is not None
    assert load_truth(tmp_path, "fire_risk", {"grid_resolution_deg": 1.0}) is None  # other grid: no oracle
    write_json({"available": False}, tmp_path / "manifest.json")
    assert load_truth(tmp_path, "fire_risk", {"grid_resolution_deg": 0.5}) is None


def test_map_rows_last_or_all():
    pred = pd.DataFrame({"label_month": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-02-01"]), "x": [1, 2, 3]})
    last = map_rows(pred, "label_month", "last")
    assert [label for label, _ in last] == ["2024-02"] and len(last[0][1]) == 2
    assert [label for label, _ in map_rows(pred, "label_month", "all")] == ["2024-01", "2024-02"]
