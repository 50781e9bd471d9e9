"""PRODES deforestation and generic vector loaders (GeoJSON, GeoPackage, Shapefile)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geih.errors import DataError
from geih.ingest.sources.prodes import read_prodes
from geih.ingest.sources.vectors import read_states, read_vector

VEC = Path(__file__).parents[2] / "fixtures" / "sources" / "vectors"


def test_prodes_older_fields_float_year_and_class_filter():
    gdf, report = read_prodes(VEC / "prodes_older.geojson")
    assert list(gdf.columns) == ["year", "area_km2", "image_date", "state", "geometry"]
    assert report.format == "prodes_older" and gdf.crs.to_epsg() == 4326
    assert gdf["year"].dtype == np.int64 and gdf["year"].tolist() == [2019, 2020, 2021]
    assert report.counts["dropped_not_deforestation"] == 1          # the NUVEM polygon
    assert gdf["state"].tolist() == ["PA", "MT", "RO"]
    assert gdf["area_km2"].iloc[0] == pytest.approx(0.1234)
    # null areakm -> computed from the geometry: ~0.02° x 0.02° near 12.5°S is ~4.8 km²
    assert report.counts["area_from_geometry"] == 1 and 4.0 < gdf["area_km2"].iloc[1] < 5.5
    assert gdf["image_date"].iloc[0] == pd.Timestamp("2019-07-29") and pd.isna(gdf["image_date"].iloc[2])


def test_prodes_current_fields():
    gdf, report = read_prodes(VEC / "prodes_current.geojson")
    assert report.format == "prodes_current" and len(gdf) == 2
    assert gdf["year"].tolist() == [2023, 2024] and gdf["state"].tolist() == ["PA", "AM"]
    assert gdf["area_km2"].tolist() == pytest.approx([0.0871, 0.51])
    assert str(gdf["image_date"].dtype) == "datetime64[ns]"


@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")
@pytest.mark.parametrize("driver, suffix", [("GPKG", ".gpkg"), ("ESRI Shapefile", ".shp")])
def test_prodes_other_formats_and_crs_are_reprojected(tmp_path, driver, suffix):
    src = gpd.read_file(VEC / "prodes_current.geojson")
    path = tmp_path / f"prodes{suffix}"
    src.to_crs("EPSG:5880").to_file(path, driver=driver)
    gdf, report = read_prodes(path)
    assert gdf.crs.to_epsg() == 4326 and any("reprojected" in n for n in report.notes)
    assert gdf.geometry.iloc[0].bounds == pytest.approx((-50.10, -6.41, -50.09, -6.40), abs=1e-6)
    assert gdf["year"].tolist() == [2023, 2024]
    assert gdf["image_date"].tolist() == [pd.Timestamp("2023-07-24"), pd.Timestamp("2024-07-08")]


def test_prodes_without_year_or_with_bad_year(tmp_path):
    src = gpd.read_file(VEC / "prodes_current.geojson")
    src.drop(columns="year").to_file(tmp_path / "noyear.gpkg")
    with pytest.raises(DataError, match="year") as err:
        read_prodes(tmp_path / "noyear.gpkg")
    assert err.value.column == "year"
    bad = src.assign(year=[2023.0, 2024.5, 2024.0])
    bad.to_file(tmp_path / "badyear.gpkg")
    with pytest.raises(DataError, match="feature 2"):
        read_prodes(tmp_path / "badyear.gpkg")


def test_prodes_invalid_polygon_repaired_and_counted(tmp_path):
    bowtie = shapely.Polygon([(-50, -6), (-49.9, -6.1), (-49.9, -6), (-50, -6.1), (-50, -6)])
    gdf = gpd.GeoDataFrame({"year": [2020], "main_class": ["desmatamento"], "area_km": [1.0]},
                           geometry=[bowtie], crs="EPSG:4326")
    gdf.to_file(tmp_path / "bow.gpkg")
    out, report = read_prodes(tmp_path / "bow.gpkg")
    assert report.counts["repaired_geometry"] == 1 and out.geometry.is_valid.all()
    assert out.geometry.iloc[0].geom_type in ("Polygon", "MultiPolygon")


def test_read_vector_types_and_empty_geometry():
    roads = read_vector(VEC / "roads.geojson", "line")
    assert len(roads) == 2 and roads.crs.to_epsg() == 4326     # the null geometry is dropped
    towns = read_vector(VEC / "settlements.geojson", "point")
    assert towns["name"].tolist() == ["Altamira", "Maués"] and "population" in towns
    with pytest.raises(DataError, match="expected polygon") as err:
        read_vector(VEC / "roads.geojson", "polygon")
    assert err.value.file.endswith("roads.geojson") and "feature 1" in str(err.value)


def test_read_vector_unreadable_and_empty_files(tmp_path):
    junk = tmp_path / "junk.geojson"
    junk.write_text("this is not json")
    with pytest.raises(DataError, match="cannot read"):
        read_vector(junk, "polygon")
    empty = tmp_path / "empty.gpkg"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match="empty"):
        read_vector(empty, "polygon")


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_read_vector_without_crs_in_metres_is_rejected(tmp_path):
    gdf = gpd.GeoDataFrame(geometry=[shapely.box(5_000_000, 8_000_000, 5_001_000, 8_001_000)])
    gdf.to_file(tmp_path / "nocrs.shp")
    (tmp_path / "nocrs.prj").unlink(missing_ok=True)
    with pytest.raises(DataError, match="no CRS"):
        read_vector(tmp_path / "nocrs.shp", "polygon")


def test_read_states_from_ibge_codes_and_other_columns(tmp_path):
    states = read_states(VEC / "states.geojson")
    assert list(states.columns) == ["state", "state_id", "geometry"]
    assert states["state"].tolist() == ["PA", "MT"] and states["state_id"].tolist() == [15, 51]
    by_uf = gpd.GeoDataFrame({"sigla": ["am", "RO"]}, geometry=[shapely.box(0, 0, 1, 1)] * 2,
                             crs="EPSG:4326")
    by_uf.to_file(tmp_path / "uf.geojson")
    got = read_states(tmp_path / "uf.geojson")
    assert got["state"].tolist() == ["AM", "RO"] and got["state_id"].tolist() == [13, 11]
    gpd.GeoDataFrame({"uf": ["XX"]}, geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:4326").to_file(
        tmp_path / "bad.geojson")
    with pytest.raises(DataError, match="unknown state code") as err:
        read_states(tmp_path / "bad.geojson")
    assert err.value.column == "uf"
