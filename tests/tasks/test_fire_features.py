"""Fire-risk features from a hand-built panel: lags, neighbour counts, no look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geih.domain.grid import Grid
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


def test_weather_cube_same_for_day_major_shuffled_and_duplicated_rows():
    from geih.domain.grid import Grid
    from geih.tasks import common

    g = Grid(1.0)
    ids = np.array([10 * g.ncols + 10, 10 * g.ncols + 11, 12 * g.ncols + 3])
    cells = pd.DataFrame({"cell_id": ids})
    cells["lat"], cells["lon"] = g.center(ids)
    dates = pd.date_range("2020-01-01", periods=5, freq="D")
    rng = np.random.default_rng(1)
    rows = pd.DataFrame({"date": np.repeat(dates, 3), "lat": np.tile(cells["lat"], 5), "lon": np.tile(cells["lon"], 5)})
    for var in common.WEATHER_VARIABLES:
        rows[var] = rng.random(len(rows))
    rows["elevation_m"] = 100.0
    fast = common.weather_cube(g, cells, rows)
    shuffled = common.weather_cube(g, cells, rows.sample(frac=1, random_state=0))
    np.testing.assert_array_equal(fast.precip_mm, shuffled.precip_mm)
    assert fast.precip_mm[1, 2] == rows["precip_mm"].iloc[2 * 3 + 1]
    # Two stations in one cell are averaged.
    twin = rows.copy()
    twin["precip_mm"] += 1.0
    both = common.weather_cube(g, cells, pd.concat([rows, twin], ignore_index=True))
    np.testing.assert_allclose(both.precip_mm, fast.precip_mm + 0.5)


def test_station_positions_fast_path_equals_the_general_one():
    from geih.domain.grid import Grid
    from geih.tasks import common

    g = Grid(1.0)
    ids = np.array([10 * g.ncols + 10, 10 * g.ncols + 11, 12 * g.ncols + 3])
    cells = pd.DataFrame({"cell_id": ids})
    cells["lat"], cells["lon"] = g.center(ids)
    lat = np.tile(np.append(cells["lat"].to_numpy(), 50.0), 4)  # one station outside the grid
    lon = np.tile(np.append(cells["lon"].to_numpy(), -60.0), 4)
    expected = common.cell_positions(g, cells, lat, lon)
    np.testing.assert_array_equal(common.station_positions(g, cells, lat, lon), expected)
    assert expected.tolist()[:4] == [0, 1, 2, -1]
    lat[5] = cells["lat"].iloc[2]  # break the repeating layout
    np.testing.assert_array_equal(common.station_positions(g, cells, lat, lon), common.cell_positions(g, cells, lat, lon))
