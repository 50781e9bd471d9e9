"""Task feature building blocks on hand-built frames and arrays (fast): PRODES years, clearing history,
vegetation-index statistics, yearly rain, land-cover fractions, dry spells, and the fire-risk history
windows (lags, rolling sums, expanding means, same calendar month in earlier years)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from geih.domain.grid import Grid, cell_positions
from geih.ingest.sources.landcover import dominant_class
from geih.tasks import common, deforestation, fire_risk

GRID = Grid(1.0)
IDS = np.array([10 * GRID.ncols + 10, 10 * GRID.ncols + 11, 20 * GRID.ncols + 5])  # two neighbours, one far


def cells() -> pd.DataFrame:
    frame = pd.DataFrame({"cell_id": IDS})
    frame["lat"], frame["lon"] = GRID.center(IDS)
    frame["area_km2"] = [100.0, 100.0, 50.0]
    return frame


# ---------------------------------------------------------------- shared: time and clearing


def test_prodes_year_of_and_the_last_complete_one():
    months = pd.DatetimeIndex(["2020-07-31", "2020-08-01", "2021-01-15", "2021-07-01"])
    assert common.prodes_year_of(months).tolist() == [2020, 2021, 2021, 2021]
    assert common.prodes_year_of(months).dtype == np.int64  # the panels' year keys (DatetimeIndex.year is int32)
    assert common.last_complete_prodes_year(months).tolist() == [2019, 2020, 2020, 2020]


def test_prodes_years_covered_by_the_daily_dates():
    assert deforestation.prodes_years_covered(pd.date_range("2019-01-01", "2021-12-31")) == [2020, 2021]
    assert deforestation.prodes_years_covered(pd.date_range("2019-08-01", "2021-07-31")) == [2020, 2021]
    assert deforestation.prodes_years_covered(pd.date_range("2019-08-02", "2021-07-30")) == []
    assert deforestation.prodes_years_covered(pd.date_range("2019-07-31", "2020-07-31")) == [2020]


def test_days_since_rain_counts_from_the_last_rain_of_at_least_the_threshold():
    p = np.array([[0.0, 2.0, 0.5, 0.0, np.nan, 1.0, 0.0]])
    assert common.days_since_rain(p).tolist() == [[1.0, 0.0, 1.0, 2.0, 3.0, 0.0, 1.0]]
    assert common.days_since_rain(p, threshold_mm=0.5).tolist() == [[1.0, 0.0, 0.0, 1.0, 2.0, 0.0, 1.0]]


def test_clearing_lookup_gives_the_year_and_the_total_up_to_it():
    clearing = pd.DataFrame({"cell_id": [IDS[0], IDS[0], IDS[1]], "year": [2019, 2021, 2020],
                             "cleared_km2": [2.0, 5.0, 1.0]})
    cell_id = np.array([IDS[0], IDS[0], IDS[0], IDS[1], IDS[2]])
    year = np.array([2019, 2020, 2021, 2021, 2021])
    km2, total = common.clearing_lookup(cells(), clearing, cell_id, year)
    assert km2.tolist() == [2.0, 0.0, 5.0, 0.0, 0.0]
    assert total.tolist() == [2.0, 2.0, 7.0, 1.0, 0.0]
    empty = clearing.iloc[:0]
    assert [a.tolist() for a in common.clearing_lookup(cells(), empty, cell_id, year)] == [[0.0] * 5] * 2


def test_clearing_by_cell_year_assigns_polygons_by_their_centroid():
    c = cells()
    lat0, lon0 = c["lat"].iloc[0], c["lon"].iloc[0]
    polygons = [shapely.box(lon0 - 0.1, lat0 - 0.1, lon0 + 0.1, lat0 + 0.1),
                shapely.box(lon0 + 0.2, lat0 - 0.1, lon0 + 0.3, lat0),
                shapely.box(-30.0, -10.0, -29.9, -9.9)]  # outside the region
    prodes = pd.DataFrame({"year": [2020, 2020, 2021], "area_km2": [1.5, 2.0, 9.0]})
    import geopandas as gpd

    out = common.clearing_by_cell_year(GRID, c, gpd.GeoDataFrame(prodes, geometry=polygons, crs=4326))
    assert out.to_dict("list") == {"cell_id": [IDS[0]], "year": [2020], "cleared_km2": [3.5]}
    # no polygon at all: the same columns and dtypes, no rows
    empty = common.clearing_by_cell_year(GRID, c, gpd.GeoDataFrame(prodes.iloc[:0], geometry=[], crs=4326))
    assert empty.empty and empty.dtypes.to_dict() == out.dtypes.to_dict() == {
        "cell_id": np.dtype(np.int64), "year": np.dtype(np.int64), "cleared_km2": np.dtype(float)}


def test_landcover_fractions_and_dominant_class():
    c = cells()
    lat0, lon0 = c["lat"].iloc[0], c["lon"].iloc[0]
    lat1, lon1 = c["lat"].iloc[1], c["lon"].iloc[1]
    lc = pd.DataFrame({"lat": [lat0, lat0, lat0, lat0, lat1, lat0, 50.0],
                       "lon": [lon0, lon0, lon0, lon0, lon1, lon0, 0.0],
                       "year": [2020, 2020, 2020, 2020, 2020, 2021, 2020],
                       "class_code": [3, 3, 15, 39, 4, 15, 3]}).astype({"year": "int32"})  # as the loader reads it
    frame = common.landcover_fractions(GRID, c, lc)
    assert frame["year"].dtype == np.int64  # the panels' year key type, whatever the raster years' type
    out = frame.set_index(["cell_id", "year"])
    first = out.loc[(IDS[0], 2020)]
    assert first["lc_forest"] == 0.5 and first["lc_pasture"] == 0.25 and first["lc_agriculture"] == 0.25
    assert out.loc[(IDS[1], 2020), "lc_savanna"] == 1.0 and out.loc[(IDS[0], 2021), "lc_pasture"] == 1.0
    assert np.isnan(out.loc[(IDS[2], 2020), "lc_forest"])  # no pixel: unknown, not 0
    codes = dominant_class(GRID, c, lc, 2020)
    assert codes.tolist() == [3, 4, 0] and codes.dtype == np.int64  # MapBiomas codes stay integers


def test_cell_positions_outside_the_region_are_minus_one():
    c = cells()
    pos = cell_positions(GRID, c, np.array([c["lat"].iloc[2], 0.0, 60.0]), np.array([c["lon"].iloc[2], -60.0, 0.0]))
    assert pos.tolist() == [2, -1, -1]
    # the grid's first and last cells (corners of the bounding box) are cells like any other
    corners = pd.DataFrame({"cell_id": [0, GRID.nrows * GRID.ncols - 1]})
    lat, lon = GRID.center(corners["cell_id"].to_numpy())
    assert cell_positions(GRID, corners, np.append(lat, 60.0), np.append(lon, 0.0)).tolist() == [0, 1, -1]


def test_states_go_to_the_first_polygon_containing_the_centre():
    c = cells()
    box = shapely.box(-80, -30, -30, 10)
    states = pd.DataFrame({"state": ["AM", "PA"], "geometry": [shapely.box(-80, -30, -80 + 1e-3, 10), box]})
    assert common.assign_states(c, states).tolist() == ["PA", "PA", "PA"]
    shifted = c.set_axis([7, 8, 9])
    out = common.assign_states(shifted, states)
    assert out.name == "state" and out.index.tolist() == [7, 8, 9]
    assert common.assign_states(c, states.iloc[:1]).tolist() == ["NA", "NA", "NA"]
    # labels are kept whole, whatever their length (a states file naming states in full)
    named = states.assign(state=["Amazonas", "Pará"])
    assert common.assign_states(c, named).tolist() == ["Pará", "Pará", "Pará"]


# ---------------------------------------------------------------- deforestation features


def test_clearing_history_of_the_cell_and_its_neighbours():
    c = cells()
    clearing = pd.DataFrame({"cell_id": [IDS[0], IDS[1], IDS[1]], "year": [2019, 2019, 2020],
                             "cleared_km2": [10.0, 4.0, 30.0]})
    panel = pd.DataFrame({"cell_id": np.repeat(IDS, 2), "year": np.tile([2020, 2021], 3),
                          "area_km2": np.repeat(c["area_km2"].to_numpy(), 2)})
    out = deforestation.add_clearing_history(panel, c, clearing, GRID).set_index(["cell_id", "year"])
    assert out.loc[(IDS[0], 2020), "cleared_km2_prev_year"] == 10.0
    assert out.loc[(IDS[0], 2021), "cleared_km2_prev_year"] == 0.0
    assert out.loc[(IDS[1], 2021), "cleared_km2_prev_year"] == 30.0
    assert out.loc[(IDS[1], 2021), "cleared_frac_before"] == pytest.approx(34.0 / 100.0)
    assert out.loc[(IDS[0], 2020), "neighbour_cleared_km2_prev_year"] == 4.0  # cell 1 in 2019
    assert out.loc[(IDS[0], 2021), "neighbour_cleared_km2_prev_year"] == 30.0
    assert out.loc[(IDS[1], 2020), "neighbour_cleared_km2_prev_year"] == 10.0
    assert out.loc[(IDS[2], 2021), "neighbour_cleared_km2_prev_year"] == 0.0


def test_cleared_fraction_is_capped_at_the_whole_cell():
    """More clearing recorded than the cell's area (overlapping PRODES increments): the fraction is 1."""
    c = cells()
    clearing = pd.DataFrame({"cell_id": [IDS[0], IDS[0]], "year": [2019, 2020], "cleared_km2": [70.0, 60.0]})
    panel = pd.DataFrame({"cell_id": np.repeat(IDS, 2), "year": np.tile([2020, 2021], 3),
                          "area_km2": np.repeat(c["area_km2"].to_numpy(), 2)})
    out = deforestation.add_clearing_history(panel, c, clearing, GRID).set_index(["cell_id", "year"])
    assert out.loc[(IDS[0], 2020), "cleared_frac_before"] == pytest.approx(70.0 / c["area_km2"].iloc[0])
    assert out.loc[(IDS[0], 2021), "cleared_frac_before"] == 1.0
    assert out.loc[(IDS[1], 2021), "cleared_frac_before"] == 0.0


def test_vegetation_stats_per_prodes_year():
    c = cells()
    lat0, lon0 = c["lat"].iloc[0], c["lon"].iloc[0]
    dates = pd.to_datetime(["2019-08-01", "2020-02-01", "2020-07-31", "2020-08-01", "2021-02-01", "2021-07-01"])
    ndvi = [0.8, 0.6, 0.4, 0.9, 0.5, 0.1]
    vi = pd.DataFrame({"date": dates, "lat": lat0, "lon": lon0, "ndvi": ndvi, "evi": [v / 2 for v in ndvi]})
    out = deforestation.vegetation_stats(GRID, c, vi, [2020, 2021]).set_index(["cell_id", "year"])
    y20, y21 = out.loc[(IDS[0], 2020)], out.loc[(IDS[0], 2021)]
    assert y20["ndvi_mean"] == pytest.approx(0.6) and y20["ndvi_min"] == pytest.approx(0.4)
    assert y20["ndvi_amplitude"] == pytest.approx(0.4) and y20["evi_min"] == pytest.approx(0.2)
    assert y21["ndvi_mean"] == pytest.approx(0.5) and y21["ndvi_mean_prev_year"] == pytest.approx(0.6)
    assert y21["ndvi_drop_vs_last_year"] == pytest.approx(0.1) and y21["evi_drop_vs_last_year"] == pytest.approx(0.05)
    assert np.isnan(y20["ndvi_mean_prev_year"])
    t = (dates[:3] - pd.Timestamp("2019-08-01")).days / 365.25
    assert y20["ndvi_slope"] == pytest.approx(np.polyfit(t, ndvi[:3], 1)[0])
    assert y20["ndvi_slope"] < 0
    assert IDS[1] not in out.index.get_level_values(0)


def test_yearly_precip_sums_the_prodes_year_and_its_dry_months():
    dates = pd.date_range("2019-08-01", "2021-07-31")
    precip = np.ones((2, len(dates)))
    precip[1, dates.get_loc(pd.Timestamp("2020-06-15"))] = np.nan
    cube = common.WeatherCube(dates=dates, precip_mm=precip, tmax_c=precip, rhmin_pct=precip, wind_ms=precip,
                              elevation_m=np.zeros(2))
    table = deforestation.yearly_precip(cube, [2020, 2021])
    assert table.index.tolist() == [0, 1, 2, 3]
    out = table.set_index(["pos", "year"])
    assert out.loc[(0, 2020), "precip_year_mm"] == 366.0  # Aug 2019 – Jul 2020 (2020 is a leap year)
    assert out.loc[(0, 2021), "precip_year_mm"] == 365.0
    dry_2020 = 31 + 30 + 30 + 31  # Aug, Sep 2019 and Jun, Jul 2020
    assert out.loc[(0, 2020), "precip_dry_season_mm"] == dry_2020
    assert out.loc[(1, 2020), "precip_dry_season_mm"] == dry_2020 - 1  # a missing day adds nothing


def test_prior_clearing_distance_uses_earlier_years_only():
    c = cells()
    import geopandas as gpd

    near = shapely.Point(c["lon"].iloc[0], c["lat"].iloc[0])
    prodes = gpd.GeoDataFrame({"year": [2020, 2021]}, geometry=[near, near], crs=4326)
    table = deforestation.prior_clearing_distance(c, prodes, [2020, 2021, 2022])
    assert table.index.tolist() == list(range(9))  # one row per cell and year, a fresh index
    out = table.set_index(["cell_id", "year"])
    assert out.loc[(IDS[0], 2020), "dist_prior_clearing_km"] == 2000.0  # nothing earlier: the cap
    assert out.loc[(IDS[0], 2021), "dist_prior_clearing_km"] == pytest.approx(0.0, abs=1e-6)
    assert 90 < out.loc[(IDS[1], 2021), "dist_prior_clearing_km"] < 125  # one degree east near the equator


def test_deforestation_featurize_keeps_ids_label_and_features_only():
    columns = [*deforestation.ID_COLUMNS, "label", *deforestation.FEATURES]
    panel = pd.DataFrame({c: [1.0, 2.0] for c in [*columns, "extra", "area_km2"]})
    out = deforestation.featurize(panel.iloc[::-1], 1.0)
    assert list(out.columns) == columns and out.index.tolist() == [0, 1] and out["label"].tolist() == [2.0, 1.0]


# ---------------------------------------------------------------- fire-risk history windows


def test_shift_rolling_and_expanding_windows():
    arr = np.array([[1.0, 2.0, np.nan, 4.0, 5.0]])
    np.testing.assert_array_equal(fire_risk._shift(arr, 2), [[np.nan, np.nan, 1.0, 2.0, np.nan]])
    np.testing.assert_array_equal(fire_risk._rolling_sum(arr, 2), [[1.0, 3.0, 2.0, 4.0, 9.0]])
    np.testing.assert_array_equal(fire_risk._rolling_sum(arr, 3), [[1.0, 3.0, 3.0, 6.0, 9.0]])
    np.testing.assert_allclose(fire_risk._expanding_mean(arr), [[1.0, 1.5, 1.5, 7 / 3, 3.0]])


def test_same_calendar_month_mean_looks_at_the_label_month_in_earlier_years():
    arr = np.arange(40, dtype=float).reshape(1, 40)
    arr[0, 0] = np.nan
    out = fire_risk._same_calendar_month_mean(arr)[0]
    assert np.isnan(out[:12]).all()  # month 11's label month is month 12: month 0, missing
    assert out[12] == 1.0 and out[23] == 12.0  # month 23: months 0 (missing) and 12
    assert out[24] == pytest.approx((1.0 + 13.0) / 2) and out[36] == pytest.approx((1.0 + 13.0 + 25.0) / 3)


def test_monthly_hotspot_counts_ignore_detections_outside_cells_and_months():
    c = cells()
    months = pd.date_range("2020-01-01", periods=3, freq="MS")
    hot = pd.DataFrame({"lat": [c["lat"].iloc[0]] * 3 + [c["lat"].iloc[2], 60.0],
                        "lon": [c["lon"].iloc[0]] * 3 + [c["lon"].iloc[2], 0.0],
                        "datetime": pd.to_datetime(["2020-01-31 23:59", "2020-02-01 00:00", "2020-04-01 00:00",
                                                    "2020-03-15 12:00", "2020-01-10 12:00"])})
    assert fire_risk.monthly_hotspot_counts(hot, GRID, c, months).tolist() == [[1, 1, 0], [0, 0, 0], [0, 0, 1]]
    # no detection in the last cell's last month: still a full cells × months array
    assert fire_risk.monthly_hotspot_counts(hot.iloc[[0, 1]], GRID, c, months).tolist() == [[1, 1, 0], [0, 0, 0],
                                                                                             [0, 0, 0]]


def test_every_fire_risk_history_feature_on_the_hand_panel():
    """Cell 0 of the hand panel has j hotspots and 100 + j mm of rain in month j; its neighbour 2j."""
    from tests.tasks.test_fire_features import hand_panel

    feats = fire_risk.featurize(hand_panel(), 1.0)
    cell0 = feats[feats["cell_id"] == feats["cell_id"].min()].set_index("month")
    first, row = cell0.iloc[0], cell0.loc[pd.Timestamp("2021-02-01")]  # month indices 11 and 13
    assert first["fire_months_12m"] == 11 and row["fire_months_12m"] == 12  # month 0 had none
    assert row["hotspots_mean_all_past"] == pytest.approx(6.5)  # mean of 0…13
    assert first["fire_rate_label_calendar_month"] == 0.0 and row["fire_rate_label_calendar_month"] == 1.0
    assert row["hotspots_label_calendar_month"] == 2.0 and cell0.iloc[-1]["hotspots_label_calendar_month"] == 3.0
    assert row["neighbour_hotspots_12m"] == 2 * sum(range(2, 14))
    assert row["precip_mm_m1"] == 112.0 and row["precip_label_calendar_month_clim"] == 102.0
    assert row["label_month"] == pd.Timestamp("2021-03-01")
    assert row["label_month_sin"] == pytest.approx(1.0) and row["label_month_cos"] == pytest.approx(0.0, abs=1e-12)
    # label month January: angle 2π · 1/12
    assert first["label_month_sin"] == pytest.approx(0.5) and first["label_month_cos"] == pytest.approx(3 ** 0.5 / 2)
    assert list(feats.columns[:6]) == ["cell_id", "month", "label_month", "state", "n_hotspots_label_month", "label"]
    assert len(feats) == 3 * 4 and feats.index.tolist() == list(range(12))


def test_fire_risk_featurize_refuses_an_incomplete_panel():
    from geih.errors import DataError
    from tests.tasks.test_fire_features import hand_panel

    with pytest.raises(DataError, match="complete cell × month grid"):
        fire_risk.featurize(hand_panel().iloc[1:], 1.0)


def test_cleaning_counts_of_several_files_are_summed_per_reason_in_name_order():
    from geih.ingest.sources.cleaning import CleaningReport

    first, second = CleaningReport(file="a.csv", format="inpe_current"), CleaningReport(file="b.csv", format="inpe_annual")
    first.add("dropped_truncated_rows", 2)
    first.add("dropped_duplicate_rows", 1)
    second.add("dropped_duplicate_rows", 4)
    total = fire_risk._sum_counts([first, second, CleaningReport(file="c.csv", format="inpe_current")])
    assert total == {"dropped_duplicate_rows": 5, "dropped_truncated_rows": 2}
    assert list(total) == sorted(total) and all(type(v) is int for v in total.values())
