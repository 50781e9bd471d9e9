"""Fire-risk features from a hand-built panel: lags, neighbour counts, no look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geih.grid import Grid
from geih.tasks import fire_risk


def hand_panel(n_months: int = 15) -> pd.DataFrame:
    g = Grid(1.0)
    cells = [10 * g.ncols + 10, 10 * g.ncols + 11, 30 * g.ncols + 5]  # two neighbours, one far away
    months = pd.date_range("2020-01-01", periods=n_months, freq="MS")
    rows = []
    for i, cell in enumerate(cells):
        for j, month in enumerate(months):
            rows.append({"cell_id": cell, "month": month, "state": "PA", "n_hotspots": (i + 1) * j,
                         "precip_mm": 100.0 + j})
    panel = pd.DataFrame(rows)
    for col in fire_risk.STATIC_FEATURES + fire_risk.WEATHER_FEATURES + fire_risk.CLEARING_FEATURES:
        if col not in panel:
            panel[col] = 0.5
    for col in fire_risk.common.LANDCOVER_FEATURES:
        panel[col] = 0.1
    panel = panel.sort_values(["cell_id", "month"]).reset_index(drop=True)
    nxt = panel.groupby("cell_id")["n_hotspots"].shift(-1).fillna(0)
    panel["n_hotspots_label_month"] = nxt.astype(int)
    panel["label"] = (nxt > 0).astype(int)
    panel["label_month"] = panel["month"] + pd.offsets.MonthBegin(1)
    return panel


def test_lags_and_history_window():
    feats = fire_risk.featurize(hand_panel(), 1.0)
    assert feats["month"].min() == pd.Timestamp("2020-12-01")  # first 11 months dropped
    cell0 = feats[feats["cell_id"] == feats["cell_id"].min()].set_index("month")
    row = cell0.loc[pd.Timestamp("2021-02-01")]  # month index 13 → count 13 for the first cell
    assert row["hotspots_m0"] == 13 and row["hotspots_m1"] == 12 and row["hotspots_m2"] == 11
    assert row["hotspots_12m"] == sum(range(2, 14))
    assert row["hotspots_same_month_last_year"] == 2  # month index 2 (label month Mar 2020 → Mar 2021)
    assert row["precip_mm_3m"] == 111 + 112 + 113
    assert set(fire_risk.FEATURES) <= set(feats.columns)


def test_neighbour_counts_only_from_adjacent_cells():
    feats = fire_risk.featurize(hand_panel(), 1.0)
    last = feats[feats["month"] == feats["month"].max()].set_index("cell_id")
    a, b, far = sorted(last.index)[:2] + [sorted(last.index)[2]]
    assert last.loc[a, "neighbour_hotspots_m0"] == last.loc[b, "hotspots_m0"]
    assert last.loc[b, "neighbour_hotspots_m0"] == last.loc[a, "hotspots_m0"]
    assert last.loc[far, "neighbour_hotspots_m0"] == 0


def test_label_month_never_reaches_the_features():
    panel = hand_panel()
    base = fire_risk.featurize(panel, 1.0)
    changed = panel.copy()
    changed["n_hotspots_label_month"] = 999
    changed["label"] = 1 - changed["label"]
    other = fire_risk.featurize(changed, 1.0)
    pd.testing.assert_frame_equal(base[fire_risk.FEATURES], other[fire_risk.FEATURES])
    # The last month's own count only appears as the previous row's label: features of earlier rows
    # do not move when it changes.
    bumped = panel.copy()
    last = bumped["month"] == bumped["month"].max()
    bumped.loc[last, "n_hotspots"] += 50
    moved = fire_risk.featurize(bumped, 1.0)
    earlier = base["month"] < base["month"].max()
    pd.testing.assert_frame_equal(base.loc[earlier, fire_risk.FEATURES], moved.loc[earlier, fire_risk.FEATURES])
