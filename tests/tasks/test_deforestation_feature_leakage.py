"""The analyst features of deforestation (recent clearing, neighbours' trend, distance to recent clearing and
to the front, pixel-level vegetation anomalies, land-cover context and access) never see their label year.

As in test_leakage.py: perturb only the raw data a row of PRODES year Y may not know (PRODES polygons of
year ≥ Y, land-cover maps of calendar year ≥ Y − 1, daily vegetation index after Y ends), re-run prepare and
featurize, and check that no feature of the rows of year ≤ the cut-off moves while some later row's new
features do. A four-year world (PRODES years 2020–2022) gives the rows at the cut-off (2021) a history.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geih.tasks import deforestation
from tests.tasks.test_leakage import assert_no_leak, perturb_daily_table, perturb_prodes, perturbed_copy, single_file

PARAMS = {"grid_resolution_deg": 1.5, "threshold_km2": 1.0}
CUT_YEAR = 2021  # PRODES years 2020, 2021 (Aug 2020 – Jul 2021) and 2022
NEW_FEATURES = deforestation.ANALYST_FEATURES
LEGAL_AMAZON_STATES = {"AC", "AM", "AP", "MA", "MT", "PA", "RO", "RR", "TO"}
TWO_YEARS_BACK = ["neighbour_cleared_km2_trend", "lc_forest_change"]  # first defined in 2022 here


@pytest.fixture(scope="module")
def four_year_world(tmp_path_factory) -> Path:
    """A small synthetic world over four calendar years (2019–2022); returns its raw folder."""
    from geih.ingest.synthetic import WorldConfig, generate_world

    root = tmp_path_factory.mktemp("world4")
    config = WorldConfig.from_params({"grid_resolution_deg": 1.5, "years": 4, "subcells": 3})
    generate_world(config, root / "raw", root / "truth", root / "plots", progress=False)
    return root / "raw"


def features(raw: Path) -> pd.DataFrame:
    panel, _ = deforestation.prepare(raw, PARAMS)
    return deforestation.featurize(panel, PARAMS["grid_resolution_deg"])


@pytest.fixture(scope="module")
def base(four_year_world: Path) -> pd.DataFrame:
    return features(four_year_world)


def perturb_landcover_geotiff(raw: Path, first_year: int) -> None:
    """Replace the class codes of the MapBiomas GeoTIFF bands of `first_year` and later by a random
    forest (3) / pasture (15) pattern where the band has data."""
    import rasterio

    path = next((raw / "landcover").glob("*.tif"))
    with rasterio.open(path) as src:
        profile, names = src.profile, list(src.descriptions)
        bands = src.read()
    rng = np.random.default_rng(0)
    later = [i for i, name in enumerate(names) if int(str(name)[-4:]) >= first_year]
    assert later and len(later) < len(names)
    for i in later:
        noise = np.where(rng.random(bands[i].shape) < 0.5, 15, 3)
        bands[i] = np.where(bands[i] > 0, noise, 0).astype(bands[i].dtype)
    path.unlink()
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(bands)
        for i, name in enumerate(names, start=1):
            dst.set_band_description(i, name)


GROUPS = {
    "prodes": (lambda raw: perturb_prodes(raw, lambda g: g["year"].astype(int) >= CUT_YEAR),
               ["cleared_km2_prev_3_years", "clearing_event_rate_before", "neighbour_event_frac_prev_year",
                "neighbour_cleared_km2_trend", "dist_recent_clearing_km"]),
    # maps of calendar year 2020 and later are finished after PRODES year 2021 starts (1 Aug 2020)
    "landcover": (lambda raw: perturb_landcover_geotiff(raw, CUT_YEAR - 1),
                  ["dist_front_km", "lc_forest_change", "frontier_index", "road_access_forest",
                   "settlement_access_forest"]),
    "vegetation_index": (lambda raw: perturb_daily_table(raw, "vegetation_index", pd.Timestamp(CUT_YEAR, 8, 1)),
                         ["ndvi_anomaly_mean", "ndvi_anomaly_min", "evi_anomaly_mean", "ndvi_break_frac"]),
}


def test_every_new_feature_is_checked_by_a_group():
    checked = {f for _, columns in GROUPS.values() for f in columns}
    assert checked == set(NEW_FEATURES) and set(NEW_FEATURES) <= set(deforestation.FEATURES)


@pytest.mark.parametrize("group", list(GROUPS))
def test_new_features_never_see_the_label_year(group: str, four_year_world: Path, tmp_path: Path,
                                               base: pd.DataFrame):
    perturb, columns = GROUPS[group]
    moved = features(perturbed_copy(four_year_world, tmp_path, perturb))
    known = base["year"] <= CUT_YEAR
    # the rows at the cut-off have values to lose (all but the two-year changes): the test could fail
    at_cut = base["year"] == CUT_YEAR
    have = base.loc[at_cut, [c for c in columns if c not in TWO_YEARS_BACK]].notna().mean()
    assert have.min() > 0.5, have
    assert_no_leak(base, moved, ["cell_id", "year"], list(deforestation.FEATURES), known, columns)


def test_new_features_by_hand(base: pd.DataFrame, four_year_world: Path):
    """Recent clearing and neighbours' events recomputed from the panel's own cleared_km2 and label."""
    panel, _ = deforestation.prepare(four_year_world, PARAMS)
    # each cell carries the Legal Amazon state (UF) it lies in, the same in every year
    assert panel["state"].notna().all() and set(panel["state"]) <= LEGAL_AMAZON_STATES
    assert (panel.groupby("cell_id")["state"].nunique() == 1).all()
    km2 = panel.pivot(index="cell_id", columns="year", values="cleared_km2")
    row = panel[panel["year"] == 2022].set_index("cell_id")
    assert np.allclose(row["cleared_km2_prev_3_years"], km2[2020] + km2[2021])
    events = km2 > PARAMS["threshold_km2"]
    assert np.allclose(row["clearing_event_rate_before"], (events[2020].astype(int) + events[2021]) / 2)
    first = panel[panel["year"] == 2020]
    assert first[["cleared_km2_prev_3_years", "clearing_event_rate_before", "cleared_km2_prev_year",
                  "neighbour_event_frac_prev_year", "dist_recent_clearing_km"]].isna().all().all()
    assert ((row["neighbour_event_frac_prev_year"] >= 0) & (row["neighbour_event_frac_prev_year"] <= 1)).all()
    f = row["lc_forest"]
    assert np.allclose(row["frontier_index"], 4 * f * (1 - f), equal_nan=True)
    assert (base[NEW_FEATURES].notna().mean() > 0.3).all()
    trend = row["neighbour_cleared_km2_trend"]  # neighbours' km² in 2021 minus 2020
    assert trend.notna().all() and (trend != 0).any()
    assert row["lc_forest_change"].notna().mean() > 0.5  # maps of 2020 and 2019
    assert base.loc[base["year"] < 2022, TWO_YEARS_BACK].isna().all().all()


# ---------------------------------------------------------------- the panel's shape, whatever a source misses
# (cases found by mutation testing: an inner join in prepare's merges, or an index left as a column, passed every
# other test because the test worlds cover every cell-year)


def assert_full_panel(panel: pd.DataFrame, report: dict) -> None:
    """Every cell × every panel year exactly once, no column left over from an index or a clashing merge."""
    years = list(report["years"])
    assert len(panel) == report["cells"] * len(years) == report["rows"]
    assert not panel.duplicated(["cell_id", "year"]).any()
    assert sorted(panel["year"].unique()) == years
    assert (panel.groupby("cell_id")["year"].size() == len(years)).all()
    leftover = [c for c in panel.columns if c == "index" or c.endswith(("_x", "_y"))]
    assert not leftover, leftover
    assert panel[["cell_id", "year"]].equals(panel.sort_values(["cell_id", "year"])[["cell_id", "year"]]
                                             .reset_index(drop=True))


def test_the_panel_is_every_cell_in_every_year_once(four_year_world: Path):
    panel, report = deforestation.prepare(four_year_world, PARAMS)
    assert_full_panel(panel, report)
    # the first panel year has no land-cover map two years back: its rows stay, with no land-cover features
    first = panel[panel["year"] == min(report["years"])]
    assert len(first) == report["cells"] and first["lc_forest"].isna().all()


def test_a_cell_without_vegetation_index_keeps_its_rows_with_no_vegetation_features(
        four_year_world: Path, tmp_path: Path, base: pd.DataFrame):
    """Drop every vegetation-index pixel of one cell: its rows stay, its NDVI/EVI features are NaN, and
    no other cell's features move."""
    panel, _ = deforestation.prepare(four_year_world, PARAMS)
    half = PARAMS["grid_resolution_deg"] / 2
    target = panel.groupby("cell_id")[["lat", "lon"]].first().iloc[len(panel["cell_id"].unique()) // 2]

    def drop_cell(raw: Path) -> None:
        path = single_file(raw, "vegetation_index")
        vi = pd.read_parquet(path)
        inside = ((vi["lat"] - target["lat"]).abs() < half) & ((vi["lon"] - target["lon"]).abs() < half)
        assert inside.any() and (~inside).any()
        vi[~inside].to_parquet(path, index=False)

    raw = perturbed_copy(four_year_world, tmp_path, drop_cell)
    gap_panel, gap_report = deforestation.prepare(raw, PARAMS)
    assert_full_panel(gap_panel, gap_report)
    moved = deforestation.featurize(gap_panel, PARAMS["grid_resolution_deg"])
    assert moved[["cell_id", "year"]].equals(base[["cell_id", "year"]])
    mine = (moved["cell_id"] == target.name).to_numpy()
    vegetation = [c for c in deforestation.FEATURES if c.startswith(("ndvi", "evi"))]
    assert {"ndvi_mean", "ndvi_anomaly_mean"} <= set(vegetation)
    assert moved.loc[mine, vegetation].isna().all().all()
    assert base.loc[mine, vegetation].notna().any().any()
    others = [c for c in deforestation.FEATURES if c not in vegetation]
    pd.testing.assert_frame_equal(base.loc[~mine, list(deforestation.FEATURES)],
                                  moved.loc[~mine, list(deforestation.FEATURES)])
    pd.testing.assert_frame_equal(base.loc[mine, others], moved.loc[mine, others])


def test_prepare_reports_what_it_read_and_labels_strictly_above_the_threshold(four_year_world: Path):
    """The report's counts and coverage against the raw files themselves; a cell-year that cleared exactly the
    threshold is not an event (label = cleared_km2 > threshold_km2)."""
    import geopandas as gpd

    panel, _ = deforestation.prepare(four_year_world, PARAMS)
    cleared = np.sort(panel.loc[panel["cleared_km2"] > 0, "cleared_km2"].unique())
    threshold = float(cleared[len(cleared) // 2])
    panel, report = deforestation.prepare(four_year_world, {**PARAMS, "threshold_km2": threshold})

    assert panel["label"].dtype == np.int64
    assert panel["label"].equals((panel["cleared_km2"] > threshold).astype(np.int64))
    at_threshold = panel["cleared_km2"] == threshold
    assert at_threshold.any() and (panel.loc[at_threshold, "label"] == 0).all()
    assert report["positive_rate"] == pytest.approx(panel["label"].mean()) and 0 < report["positive_rate"] < 1

    polygons = gpd.read_file(single_file(four_year_world, "deforestation"))
    vi_dates = pd.to_datetime(pd.read_parquet(single_file(four_year_world, "vegetation_index"))["date"])
    assert set(report) == {"cells", "years", "rows", "prodes_polygons", "coverage", "positive_rate",
                           "official_increments"}
    assert report["cells"] == panel["cell_id"].nunique() and report["rows"] == len(panel)
    assert report["years"] == [2020, 2021, 2022] and report["prodes_polygons"] == len(polygons)
    assert report["coverage"] == {
        "weather_prodes_years": ["2020..2022"],  # weather 2019-01-01..2022-12-31: PRODES years Aug 2019–Jul 2022
        "deforestation_years": ["2020..2022"],
        "vegetation_index": {"first_day": f"{vi_dates.min():%Y-%m-%d}", "last_day": f"{vi_dates.max():%Y-%m-%d}"},
        "landcover_years": ["2019..2022"],
        "panel_years": ["2020..2022"],
    }
    official = report["official_increments"]
    assert official["files"] == len(list((four_year_world / "prodes_increments").glob("*.csv"))) == 1
    assert official["state_years"] > 0 and official["prepared_km2"] == pytest.approx(panel["cleared_km2"].sum())


def test_prepare_reports_no_official_increments_without_their_folder(four_year_world: Path, tmp_path: Path):
    raw = perturbed_copy(four_year_world, tmp_path, lambda r: shutil.rmtree(r / "prodes_increments"))
    panel, report = deforestation.prepare(raw, PARAMS)
    assert "official_increments" not in report and report["rows"] == len(panel)


def test_a_vegetation_index_file_without_rows_is_refused_naming_the_folder(four_year_world: Path, tmp_path: Path):
    from geih.errors import DataError

    def empty(raw: Path) -> None:
        path = single_file(raw, "vegetation_index")
        pd.read_parquet(path).iloc[:0].to_parquet(path, index=False)

    raw = perturbed_copy(four_year_world, tmp_path, empty)
    with pytest.raises(DataError) as caught:
        deforestation.prepare(raw, PARAMS)
    assert caught.value.file == "vegetation_index/"
    assert str(caught.value) == ("file vegetation_index/: no vegetation-index rows: the NDVI/EVI features and their "
                                 "anomalies need the composites of every panel year")
