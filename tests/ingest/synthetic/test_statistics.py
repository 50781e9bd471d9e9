"""The synthetic world behaves like the Legal Amazon where the models will look."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from sklearn.metrics import roc_auc_score

from geih.domain.grid import Grid, distance_to_features_km
from geih.ingest.synthetic.validation import oracle_auc_by_year, reference_labels
from tests.ingest.synthetic.conftest import landcover_pixels

GRID = Grid(1.0)


@pytest.fixture(scope="module")
def panel(world) -> pd.DataFrame:
    """Cell-month panel: truth probability, reference-satellite count, centre, road distance, recent clearing."""
    truth = pd.read_parquet(world.truth / "fire_risk.parquet")
    truth["month"] = pd.to_datetime(truth["month"])
    labels = reference_labels(world.raw, GRID)
    labels["month"] = pd.to_datetime(labels["month"]).astype(truth["month"].dtype)
    p = truth.merge(labels, on=["cell_id", "month"], how="left").fillna({"count": 0})
    lat, lon = GRID.center(p["cell_id"].to_numpy())
    p["lat"], p["lon"] = lat, lon
    roads = gpd.read_file(world.raw / "roads" / "roads.geojson")
    cells = p.drop_duplicates("cell_id")[["cell_id", "lat", "lon"]]
    cells["road_km"] = distance_to_features_km(cells["lat"].to_numpy(), cells["lon"].to_numpy(), roads.geometry)
    p = p.merge(cells[["cell_id", "road_km"]], on="cell_id")
    prodes = _prodes_by_cell(world)
    recent = []
    for m in sorted(p["month"].unique()):
        window = prodes[(prodes["image_date"] < m) & (prodes["image_date"] >= m - pd.DateOffset(months=12))]
        s = window.groupby("cell_id")["area_km"].sum()
        recent.append(pd.DataFrame({"cell_id": s.index, "month": m, "cleared_12m": s.to_numpy()}))
    p = p.merge(pd.concat(recent), on=["cell_id", "month"], how="left").fillna({"cleared_12m": 0.0})
    p["moy"] = p["month"].dt.month
    return p


def _prodes_by_cell(world) -> pd.DataFrame:
    prodes = gpd.read_file(world.raw / "deforestation" / "prodes_yearly_deforestation.geojson")
    c = shapely.centroid(prodes.geometry.values)
    c = gpd.GeoSeries(c)
    prodes["cell_id"] = GRID.cell_of(c.y.to_numpy(), c.x.to_numpy())
    prodes["image_date"] = pd.to_datetime(prodes["image_date"])
    return prodes


def test_truth_matches_the_published_reference_hotspots(panel: pd.DataFrame, world) -> None:
    positive = panel["count"] > 0
    assert 0.15 < positive.mean() < 0.6
    assert abs(panel["probability"].mean() - positive.mean()) < 0.02  # calibrated
    for lo, hi in [(0.0, 0.1), (0.3, 0.6), (0.8, 1.0)]:
        sel = panel["probability"].between(lo, hi)
        assert abs(positive[sel].mean() - panel.loc[sel, "probability"].mean()) < 0.05
    auc = oracle_auc_by_year(world.truth, world.raw)
    assert sorted(auc) == [2019, 2020, 2021]
    assert all(0.8 < v < 0.95 for v in auc.values())


def test_fires_peak_in_the_dry_season(panel: pd.DataFrame) -> None:
    south = panel[panel["lat"] < -8]
    dry = south[south["moy"].isin([8, 9, 10])]["count"].mean()
    wet = south[south["moy"].isin([2, 3, 4])]["count"].mean()
    assert dry > 8 * wet
    north = panel[panel["lat"] > 1.5]  # Roraima: dry season December–March
    assert north[north["moy"].isin([1, 2, 3])]["count"].mean() > 2 * north[north["moy"].isin([6, 7, 8])][
        "count"].mean()


def test_drought_year_burns_more(panel: pd.DataFrame) -> None:
    season = panel[panel["moy"].isin([7, 8, 9, 10])]
    by_year = season.groupby(season["month"].dt.year)["count"].mean()
    assert by_year[2020] > 1.2 * by_year.drop(2020).max()


def test_fire_rate_higher_near_roads_and_recent_clearing(panel: pd.DataFrame) -> None:
    season = panel[panel["moy"].isin([7, 8, 9, 10])]
    near, far = season[season["road_km"] < 30], season[season["road_km"] > 150]
    assert (near["count"] > 0).mean() > 1.5 * (far["count"] > 0).mean()
    assert near["count"].mean() > 3 * far["count"].mean()
    cleared = season[season["cleared_12m"] > 2.0]
    untouched = season[season["cleared_12m"] == 0]
    assert len(cleared) > 50
    assert (cleared["count"] > 0).mean() > 1.3 * (untouched["count"] > 0).mean()


@pytest.fixture(scope="module")
def clearing(world, panel: pd.DataFrame) -> pd.DataFrame:
    """Cell-year table: realised clearing (km²), event flag, truth probability, road distance."""
    prodes = _prodes_by_cell(world)
    area = prodes.groupby(["cell_id", "year"])["area_km"].sum().rename("km2").reset_index()
    truth = pd.read_parquet(world.truth / "deforestation.parquet")
    t = truth.merge(area, on=["cell_id", "year"], how="left").fillna({"km2": 0.0})
    t["event"] = t["km2"] >= 1.0
    roads = panel.drop_duplicates("cell_id")[["cell_id", "road_km", "lat", "lon"]]
    return t.merge(roads, on="cell_id")


def test_clearing_advances_from_roads(clearing: pd.DataFrame) -> None:
    near = clearing[clearing["road_km"] < 40]["event"].mean()
    mid = clearing[clearing["road_km"].between(40, 150)]["event"].mean()
    far = clearing[clearing["road_km"] > 150]["event"].mean()
    assert near > mid > far and near - far > 0.2
    p = clearing.groupby(pd.cut(clearing["road_km"], [0, 40, 150, 1e9]), observed=True)["probability"].mean()
    assert p.iloc[0] > p.iloc[1] > p.iloc[2]


def test_clearing_advances_from_earlier_clearings(clearing: pd.DataFrame) -> None:
    prev = clearing[clearing["year"] == 2020].set_index("cell_id")["event"]
    now = clearing[clearing["year"] == 2021].set_index("cell_id")
    row, col = GRID.row_col(now.index.to_numpy())
    hit = pd.Series(False, index=now.index)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            nid = (row + dr) * GRID.ncols + (col + dc)
            hit |= pd.Series(prev.reindex(nid).fillna(False).to_numpy(dtype=bool), index=now.index)
    assert now.loc[hit, "event"].mean() > 2 * now.loc[~hit, "event"].mean()


def test_prodes_truth_and_thresholds(clearing: pd.DataFrame) -> None:
    events = clearing[clearing["event"]]
    assert len(events) > 20
    assert clearing.loc[~clearing["event"], "km2"].max() < 1.0  # noise polygons stay below the threshold
    assert (clearing.loc[clearing["probability"] == 0, "km2"] == 0).all()
    assert roc_auc_score(clearing["event"], clearing["probability"]) > 0.75
    assert abs(clearing["probability"].mean() - clearing["event"].mean()) < 0.05


def test_landcover_flips_follow_prodes(world) -> None:
    lc = landcover_pixels(world.raw)
    prodes = _prodes_by_cell(world)
    pixel = 0.1
    c = gpd.GeoSeries(shapely.centroid(prodes.geometry.values))
    prodes["px"] = list(zip(np.floor(c.y / pixel).astype(int), np.floor(c.x / pixel).astype(int)))
    for year in world.config.prodes_years:
        flipped = lc[(lc[f"classification_{year - 1}"] == 3) & (lc[f"classification_{year}"] == 15)]
        keys = set(zip(np.floor(flipped["lat"] / pixel).astype(int), np.floor(flipped["lon"] / pixel).astype(int)))
        with_polygons = set(prodes.loc[prodes["year"] == year, "px"])
        assert keys <= with_polygons
    forest = lc["classification_2019"] == 3
    assert forest[lc["lat"] > -5].mean() > forest[lc["lat"] < -12].mean()  # forest dominates north and west


def test_weather_seasons_dry_spells_and_persistence(world) -> None:
    w = pd.read_parquet(world.raw / "weather" / "weather_daily.parquet")
    w["month"] = w["date"].dt.to_period("M")
    south = w[w["lat"] < -10]
    by_moy = south.groupby(south["date"].dt.month)["precip_mm"].mean()
    assert by_moy[[6, 7, 8]].mean() < 0.15 * by_moy[[12, 1, 2]].mean()
    assert (south.groupby(["lat", "lon", south["date"].dt.year])["precip_mm"].apply(
        lambda s: (s.to_numpy() > 0).mean()) < 0.9).all()
    monthly = w.groupby(["lat", "lon", "month"])["precip_mm"].sum().reset_index()
    monthly["moy"] = monthly["month"].dt.month
    monthly["anom"] = np.log1p(monthly["precip_mm"]) - monthly.groupby(["lat", "lon", "moy"])["precip_mm"].transform(
        lambda s: np.log1p(s).mean())
    monthly = monthly.sort_values(["lat", "lon", "month"])
    a = monthly.groupby(["lat", "lon"])["anom"]
    r = np.corrcoef(monthly["anom"], a.shift(1).fillna(0))[0, 1]
    assert r > 0.1  # anomalies persist from one month to the next
    dry = w[w["date"].dt.month.isin([7, 8, 9])]
    by_year = dry.groupby(dry["date"].dt.year).agg(p=("precip_mm", "mean"), t=("tmax_c", "mean"))
    assert by_year.loc[2020, "p"] < 0.85 * by_year.drop(2020)["p"].min()
    assert by_year.loc[2020, "t"] > by_year.drop(2020)["t"].max() + 0.5
    rain = (w.sort_values(["lat", "lon", "date"])["precip_mm"] > 0).to_numpy()
    assert rain.mean() > 0.2 and (~rain).mean() > 0.2
