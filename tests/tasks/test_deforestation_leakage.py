"""Deforestation features never see the label year's PRODES polygons; panel sanity on a tiny world."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geih.tasks import deforestation

PARAMS = {"grid_resolution_deg": 1.5, "threshold_km2": 1.0}


def test_panel_shape_and_label(tiny_world: Path):
    panel, report = deforestation.prepare(tiny_world, PARAMS)
    assert report["years"] == sorted(panel["year"].unique().tolist())
    assert len(panel) == report["cells"] * len(report["years"])
    assert ((panel["cleared_km2"] > 1.0) == (panel["label"] == 1)).all()
    # land cover comes from the map two calendar years before the PRODES year: the first year has none; the
    # clearing-history features need an earlier PRODES year; a trend/change needs two (none in this 2-year panel)
    two_earlier = {"neighbour_cleared_km2_trend", "lc_forest_change"}
    assert report["years"] == [2020, 2021] and panel[list(two_earlier)].isna().all().all()
    landcover = [f for f in deforestation.FEATURES if f.startswith("lc_") and f not in two_earlier]
    others = [f for f in deforestation.FEATURES if f not in landcover and f not in two_earlier]
    first = panel["year"] == panel["year"].min()
    assert panel.loc[~first, others].notna().mean().min() > 0.5
    assert panel.loc[first, landcover].isna().all().all() and panel.loc[~first, landcover].notna().mean().min() > 0.5
    current = ["lat", "lon", "dist_road_km", "precip_year_mm", "ndvi_mean", "evi_drop_vs_last_year", "ndvi_anomaly_mean"]
    assert panel.loc[first, current].notna().all().all()  # what needs no clearing history is there from the start


def test_shuffling_label_year_polygons_changes_no_feature(tiny_world: Path, tmp_path: Path):
    base, _ = deforestation.prepare(tiny_world, PARAMS)
    last_year = int(base["year"].max())
    shuffled = tmp_path / "raw"
    shutil.copytree(tiny_world, shuffled)
    prodes_file = next((shuffled / "deforestation").glob("*.geojson"))
    gdf = gpd.read_file(prodes_file)
    in_year = gdf["year"].astype(int) == last_year
    assert in_year.sum() > 5
    # Move every label-year polygon to another random label-year polygon's place (and scramble areas).
    rng = np.random.default_rng(0)
    idx = np.flatnonzero(in_year.to_numpy())
    gdf.loc[in_year, "geometry"] = gdf.geometry.iloc[rng.permutation(idx)].to_numpy()
    gdf.loc[in_year, "area_km"] = rng.permutation(gdf.loc[in_year, "area_km"].to_numpy())
    prodes_file.unlink()
    gdf.to_file(prodes_file, driver="GeoJSON")
    moved, _ = deforestation.prepare(shuffled, PARAMS)
    rows = base["year"] == last_year
    pd.testing.assert_frame_equal(base.loc[rows, deforestation.FEATURES].reset_index(drop=True),
                                  moved.loc[rows, deforestation.FEATURES].reset_index(drop=True))
    assert not base.loc[rows, "cleared_km2"].reset_index(drop=True).equals(
        moved.loc[rows, "cleared_km2"].reset_index(drop=True))
