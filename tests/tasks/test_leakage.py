"""No feature sees its label period: for every feature group of both tasks, perturb only the raw data
dated from a cut-off on, re-run prepare and featurize on a tiny world, and check that no feature of a row
whose label period starts at or before the cut-off moves — while the features of later rows do (so that
each perturbation reaches the features and the test could fail).

When data counts as known: a daily value (weather, vegetation index) on its date, a hotspot at its time,
a PRODES polygon at its image date (its PRODES year is complete on 31 July), a yearly MapBiomas map of
calendar year Y only after Y ends (1 January Y+1: the map shows the whole year's clearing and burning).

Fire risk: a row labelled by month M may use data known before M starts.
Deforestation (detection within a PRODES year, 1 Aug Y−1 – 31 Jul Y): a row of year Y may use data
dated within or before its year, but no PRODES polygon of year Y or later (they make the label) and no
land-cover map that is not finished before the year starts.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geih.ingest.synthetic import formats
from geih.tasks import deforestation, fire_risk

FIRE_PARAMS = {"grid_resolution_deg": 1.5, "dedup": "reference", "reference_satellite": "AQUA_M-T"}
DEFOR_PARAMS = {"grid_resolution_deg": 1.5, "threshold_km2": 1.0}
FIRE_CUT = pd.Timestamp("2021-01-01")  # the tiny world spans 2019–2021; fire-risk label months 2020-01…2021-12
DEFOR_CUT_YEAR = 2020  # PRODES years 2020 (Aug 2019 – Jul 2020) and 2021


def single_file(raw: Path, kind: str) -> Path:
    files = sorted(p for p in (raw / kind).rglob("*") if p.is_file())
    assert len(files) == 1, files
    return files[0]


# ---------------------------------------------------------------- perturbations of the raw folder


def perturb_daily_table(raw: Path, kind: str, since: pd.Timestamp) -> None:
    """Change every value of a daily table (weather, vegetation index) dated `since` or later, within
    the loaders' valid ranges."""
    path = single_file(raw, kind)
    table = pd.read_parquet(path)
    later = pd.to_datetime(table["date"]) >= since
    assert later.any() and (~later).any()
    changes = {"precip_mm": lambda v: v * 0.3 + 4.0, "tmax_c": lambda v: v - 3.0,
               "rhmin_pct": lambda v: (v * 0.5 + 40.0).clip(0, 100), "wind_ms": lambda v: v + 2.0,
               "ndvi": lambda v: v * 0.4 - 0.1, "evi": lambda v: v * 0.4 - 0.1}
    for column, change in changes.items():
        if column in table.columns:
            table.loc[later, column] = change(table.loc[later, column]).astype(table[column].dtype)
    table.to_parquet(path, index=False)


# The date and latitude column of each hotspot layout the world writes, and how its latitudes are written:
# the monthly files of the current layout and INPE's yearly all-satellites file (numbers padded by spaces).
HOTSPOT_LAYOUTS = {"data_hora_gmt": ("lat", "{:.6f}"), "data_pas": ("latitude", "{:12.6f} ")}


def perturb_hotspots(raw: Path, since: pd.Timestamp) -> None:
    """Drop two thirds of the detections from `since` on and move the rest by one cell, in every hotspot
    file whatever its layout."""
    changed = 0
    for path in sorted((raw / "hotspots").glob("*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        (date_column,) = set(HOTSPOT_LAYOUTS) & set(frame.columns)
        lat_column, lat_format = HOTSPOT_LAYOUTS[date_column]
        later = pd.to_datetime(frame[date_column].str.strip()) >= since
        if not later.any():
            continue
        keep = ~later | (np.arange(len(frame)) % 3 == 0)
        frame = frame[keep].copy()
        moved = later[keep]
        frame.loc[moved, lat_column] = (frame.loc[moved, lat_column].astype(float) - 1.5).map(lat_format.format)
        frame.to_csv(path, index=False)
        changed += int(later.sum())
    assert changed > 0


def yearly_hotspot_file(raw: Path, year: int) -> None:
    """Rewrite the monthly hotspot files of `year` as one INPE yearly all-satellites file, in the format
    the synthetic world writes its first year in."""
    monthly = sorted((raw / "hotspots").glob(f"focos_mensal_br_{year}??.csv"))
    assert len(monthly) == 12, monthly
    frame = pd.concat([pd.read_csv(path, dtype=str, keep_default_na=False) for path in monthly], ignore_index=True)
    rows = pd.DataFrame({
        "time": pd.to_datetime(frame["data_hora_gmt"]), "satellite": frame["satelite"],
        "estado": frame["estado"], "municipio": frame["municipio"], "bioma": frame["bioma"],
        **{name: frame[column].astype(float) for name, column in [
            ("lat", "lat"), ("lon", "lon"), ("dsr", "numero_dias_sem_chuva"), ("precip", "precipitacao"),
            ("risk", "risco_fogo"), ("frp", "frp")]}})
    formats.write_delimited(raw / "hotspots" / f"focos_br_todos-sats_{year}.csv",
                            formats.annual_all_satellites_frame(rows), formats.ANNUAL_COLUMNS)
    for path in monthly:
        path.unlink()


def perturb_landcover(raw: Path, first_year: int) -> None:
    """Permute the class codes among the mapped pixels of the MapBiomas GeoTIFF's bands (one per year)
    of `first_year` and later."""
    import rasterio

    path = single_file(raw, "landcover")
    assert path.suffix == ".tif", path
    with rasterio.open(path) as src:
        profile, names, bands = src.profile, src.descriptions, src.read()
    rng = np.random.default_rng(0)
    years = [int(name.removeprefix("classification_")) for name in names]
    changed = [i for i, year in enumerate(years) if year >= first_year]
    assert changed
    for i in changed:
        mapped = bands[i] != 0
        bands[i][mapped] = np.where(rng.random(int(mapped.sum())) < 0.5, 15, 3)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(bands)
        for i, name in enumerate(names, start=1):
            dst.set_band_description(i, name)


def perturb_prodes(raw: Path, changed: Callable[[gpd.GeoDataFrame], pd.Series]) -> None:
    """Move the polygons `changed` selects to one another's places and scale their areas."""
    path = single_file(raw, "deforestation")
    gdf = gpd.read_file(path)
    rows = changed(gdf).to_numpy()
    assert rows.sum() > 5
    idx = np.flatnonzero(rows)
    rng = np.random.default_rng(1)
    gdf.loc[rows, "geometry"] = gdf.geometry.iloc[rng.permutation(idx)].to_numpy()
    gdf.loc[rows, "area_km"] = gdf.loc[rows, "area_km"].to_numpy() * 3.0
    path.unlink()
    gdf.to_file(path, driver="GeoJSON")


# ---------------------------------------------------------------- features before and after


def fire_features(raw: Path) -> pd.DataFrame:
    panel, _ = fire_risk.prepare(raw, FIRE_PARAMS)
    return fire_risk.featurize(panel, FIRE_PARAMS["grid_resolution_deg"])


def defor_features(raw: Path) -> pd.DataFrame:
    panel, _ = deforestation.prepare(raw, DEFOR_PARAMS)
    return deforestation.featurize(panel, DEFOR_PARAMS["grid_resolution_deg"])


@pytest.fixture(scope="module")
def fire_base(tiny_world: Path) -> pd.DataFrame:
    return fire_features(tiny_world)


@pytest.fixture(scope="module")
def defor_base(tiny_world: Path) -> pd.DataFrame:
    return defor_features(tiny_world)


def perturbed_copy(tiny_world: Path, tmp_path: Path, perturb: Callable[[Path], None]) -> Path:
    raw = tmp_path / "raw"
    shutil.copytree(tiny_world, raw)
    perturb(raw)
    return raw


def assert_no_leak(base: pd.DataFrame, moved: pd.DataFrame, keys: list[str], features: list[str],
                   known: pd.Series, group: list[str]) -> None:
    """Rows where `known` is True keep every feature; some later row changes a feature of `group`."""
    assert base[keys].equals(moved[keys])
    assert known.any() and (~known).any()
    pd.testing.assert_frame_equal(base.loc[known, features], moved.loc[known, features])
    later = ~known.to_numpy()
    a, b = base.loc[later, group].to_numpy(float), moved.loc[later, group].to_numpy(float)
    assert not np.allclose(a, b, equal_nan=True), f"the perturbation reached none of {group}"


FIRE_KEYS = ["cell_id", "month", "label_month"]
FIRE_GROUPS = {
    "weather": (lambda raw: perturb_daily_table(raw, "weather", FIRE_CUT),
                ["precip_mm", "rainy_days", "tmax_mean", "rhmin_min", "wind_mean", "inpe_risk_max",
                 "days_without_rain", "precip_mm_3m"]),
    "hotspots": (lambda raw: perturb_hotspots(raw, FIRE_CUT),
                 ["hotspots_m0", "hotspots_12m", "neighbour_hotspots_m0", "fire_rate_label_calendar_month"]),
    # the map of calendar year 2020 is known from 2021-01-01 on
    "landcover": (lambda raw: perturb_landcover(raw, FIRE_CUT.year - 1), fire_risk.common.LANDCOVER_FEATURES),
    "prodes": (lambda raw: perturb_prodes(raw, lambda g: pd.to_datetime(g["image_date"]) >= FIRE_CUT),
               fire_risk.CLEARING_FEATURES),
}


@pytest.mark.parametrize("group", list(FIRE_GROUPS))
def test_fire_risk_features_never_see_the_label_month(group: str, tiny_world: Path, tmp_path: Path,
                                                      fire_base: pd.DataFrame):
    perturb, columns = FIRE_GROUPS[group]
    moved = fire_features(perturbed_copy(tiny_world, tmp_path, perturb))
    known = fire_base["label_month"] <= FIRE_CUT
    assert_no_leak(fire_base, moved, FIRE_KEYS, list(fire_risk.FEATURES), known, columns)


def test_fire_risk_features_never_see_the_label_month_in_a_yearly_hotspot_file(tiny_world: Path, tmp_path: Path,
                                                                                 fire_base: pd.DataFrame):
    """The same for detections in INPE's yearly all-satellites layout: with 2020 as one yearly file (the
    features are the same as from its monthly files), perturbing it from July on moves no earlier row."""
    cut = pd.Timestamp("2020-07-01")
    yearly = perturbed_copy(tiny_world, tmp_path / "yearly", lambda raw: yearly_hotspot_file(raw, cut.year))
    base = fire_features(yearly)
    pd.testing.assert_frame_equal(base, fire_base)
    moved = fire_features(perturbed_copy(yearly, tmp_path / "moved", lambda raw: perturb_hotspots(raw, cut)))
    known = base["label_month"] <= cut
    assert_no_leak(base, moved, FIRE_KEYS, list(fire_risk.FEATURES), known, FIRE_GROUPS["hotspots"][1])


def test_fire_risk_labels_do_see_the_label_month(tiny_world: Path, tmp_path: Path, fire_base: pd.DataFrame):
    """The control: the same hotspot perturbation changes the labels of the cut-off month itself."""
    moved = fire_features(perturbed_copy(tiny_world, tmp_path, lambda raw: perturb_hotspots(raw, FIRE_CUT)))
    at_cut = fire_base["label_month"] == FIRE_CUT
    assert (fire_base.loc[at_cut, "n_hotspots_label_month"] != moved.loc[at_cut, "n_hotspots_label_month"]).any()
    before = fire_base["label_month"] < FIRE_CUT
    assert fire_base.loc[before, "label"].equals(moved.loc[before, "label"])


DEFOR_KEYS = ["cell_id", "year"]
PRODES_YEAR_STARTS = pd.Timestamp(DEFOR_CUT_YEAR, 8, 1)  # the day after PRODES year DEFOR_CUT_YEAR ends
DEFOR_GROUPS = {
    "weather": (lambda raw: perturb_daily_table(raw, "weather", PRODES_YEAR_STARTS),
                ["precip_year_mm", "precip_dry_season_mm"]),
    "vegetation_index": (lambda raw: perturb_daily_table(raw, "vegetation_index", PRODES_YEAR_STARTS),
                         ["ndvi_mean", "ndvi_min", "evi_mean", "ndvi_slope"]),
    # PRODES polygons of the label year and later make labels only
    "prodes": (lambda raw: perturb_prodes(raw, lambda g: g["year"].astype(int) >= DEFOR_CUT_YEAR),
               ["cleared_km2_prev_year", "neighbour_cleared_km2_prev_year", "cleared_frac_before",
                "dist_prior_clearing_km"]),
    # a map of calendar year Y is finished on 31 Dec Y: for PRODES year 2020 (from 1 Aug 2019) only maps
    # up to 2018 are known
    "landcover": (lambda raw: perturb_landcover(raw, DEFOR_CUT_YEAR - 1),
                  ["lc_forest", "lc_pasture", "lc_agriculture", "lc_savanna"]),
}


@pytest.mark.parametrize("group", list(DEFOR_GROUPS))
def test_deforestation_features_never_see_the_label_year(group: str, tiny_world: Path, tmp_path: Path,
                                                         defor_base: pd.DataFrame):
    perturb, columns = DEFOR_GROUPS[group]
    moved = defor_features(perturbed_copy(tiny_world, tmp_path, perturb))
    known = defor_base["year"] <= DEFOR_CUT_YEAR
    assert_no_leak(defor_base, moved, DEFOR_KEYS, list(deforestation.FEATURES), known, columns)
