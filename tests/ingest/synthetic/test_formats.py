"""The raw files follow the real published layouts (docs/data-layout.md, shared data-formats)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import struct
import uuid

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geih.domain.grid import Grid
from geih.ingest.synthetic import formats
from tests.ingest.synthetic.conftest import landcover_pixels

HEADER = ("id,lat,lon,data_hora_gmt,satelite,municipio,estado,pais,municipio_id,estado_id,pais_id,"
          "numero_dias_sem_chuva,precipitacao,risco_fogo,bioma,frp")
SATELLITES = {"AQUA_M-T", "AQUA_M-M", "TERRA_M-T", "TERRA_M-M", "NOAA-20", "NOAA-21", "GOES-16", "GOES-19",
              "METOP-B", "METOP-C", "MSG-03", "NPP-375", "NPP-375D"}
STATES = {"ACRE": 12, "AMAZONAS": 13, "RORAIMA": 14, "PARÁ": 15, "AMAPÁ": 16, "TOCANTINS": 17,
          "MARANHÃO": 21, "MATO GROSSO": 51, "RONDÔNIA": 11}
PRODES_FIELDS = ["fid", "state", "path_row", "main_class", "class_name", "def_cloud", "julian_day", "year",
                 "area_km", "scene_id", "source", "satellite", "sensor", "uuid", "image_date", "publish_year",
                 "sub_class", "pub_date"]
COORD = re.compile(r"^ *-?\d{1,3}\.\d{6}$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
ANNUAL_HEADER = ("latitude,longitude,data_pas,satelite,pais,estado,municipio,bioma,numero_dias_sem_chuva,"
                 "precipitacao,risco_fogo,id_area_industrial,frp")
PADDED = re.compile(r"^ +-?\d+(\.\d+)? $")


@pytest.fixture(scope="module")
def hotspot_rows(world) -> list[list[str]]:
    rows = []
    for path in sorted((world.raw / "hotspots").glob("focos_mensal_br_*.csv")):
        data = path.read_bytes()
        assert b"\r" not in data
        text = data.decode("utf-8")
        assert text.splitlines()[0] == HEADER
        rows.extend(list(csv.reader(io.StringIO(text)))[1:])
    return rows


def test_first_year_in_the_yearly_file_then_one_file_per_month(world) -> None:
    names = sorted(p.name for p in (world.raw / "hotspots").glob("*"))
    expected = ["focos_br_todos-sats_2019.csv"] + [f"focos_mensal_br_{y}{m:02d}.csv" for y in range(2020, 2022)
                                                   for m in range(1, 13)]
    assert names == expected
    for name in names[1:]:
        with (world.raw / "hotspots" / name).open(encoding="utf-8") as fh:
            rows = list(csv.reader(fh))[1:]
        assert all(r[3].startswith(f"{name[16:20]}-{name[20:22]}-") for r in rows)


def test_yearly_all_satellites_file_layout(world) -> None:
    text = (world.raw / "hotspots" / "focos_br_todos-sats_2019.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == ANNUAL_HEADER and text.endswith("\n")
    rows = list(csv.reader(io.StringIO(text)))[1:]
    assert len(rows) > 2000 and all(len(r) == 13 for r in rows)
    assert all(r[2].startswith("2019-") and STAMP.match(r[2]) for r in rows)
    for r in rows[::29]:
        assert PADDED.match(r[0]) and PADDED.match(r[1]) and len(r[0].split(".")[1]) == 7  # 6 decimals + ' '
        assert r[4] == "Brasil" and r[5] in STATES and r[11] == " 0 "
        assert all(PADDED.match(v) for v in r[8:11])
        assert (r[12] == "") == (r[3] == "GOES-16")  # GOES-16 rows published without FRP
        assert r[12] == "" or PADDED.match(r[12])
    assert any(r[3] == "GOES-16" for r in rows) and any(r[8] == " -999 " for r in rows)


def test_bdqueimadas_field_formats(hotspot_rows: list[list[str]]) -> None:
    assert len(hotspot_rows) > 20000
    for r in hotspot_rows[::37]:
        assert len(r) == 16
        assert UUID.match(r[0]) and uuid.UUID(r[0]).version == 4
        assert len(r[1]) == 11 and len(r[2]) == 11 and COORD.match(r[1]) and COORD.match(r[2])
        assert STAMP.match(r[3])
        assert r[4] in SATELLITES
        assert r[5] == r[5].upper() and r[6] in STATES and r[7] == "Brasil"
        assert len(r[8]) == 7 and int(r[9]) == STATES[r[6]] and r[8].startswith(r[9]) and r[10] == "33"
        assert int(r[11]) == -999 or int(r[11]) >= 0
        assert r[12] == "-999" or float(r[12]) >= 0
        assert r[13] == "-999" or (0.0 <= float(r[13]) <= 1.0 and len(r[13].split(".")[1]) <= 2)
        assert r[14] in {"Amazônia", "Cerrado", "Pantanal"}
        float(r[15])
    lat = np.array([float(r[1]) for r in hotspot_rows])
    lon = np.array([float(r[2]) for r in hotspot_rows])
    assert lat.min() > -18.6 and lat.max() < 5.5 and lon.min() > -74.1 and lon.max() < -43.9
    assert any(r[1].startswith("  ") for r in hotspot_rows)  # space padding to width 11


def test_bdqueimadas_quirks_are_present(hotspot_rows: list[list[str]]) -> None:
    assert sum(r[11] == "-999" for r in hotspot_rows) > 0
    assert sum(r[12] == "-999" for r in hotspot_rows) > 0
    assert sum(r[13] == "-999" for r in hotspot_rows) > 0
    assert sum(float(r[15]) < 0 for r in hotspot_rows) > 0
    assert max(int(r[11]) for r in hotspot_rows) > 100  # long dry spells occur
    lines = [",".join(r) for r in hotspot_rows]
    assert len(lines) - len(set(lines)) > 0  # exact duplicate rows
    assert len(set(lines)) > 0.99 * len(lines)
    sats = {r[4] for r in hotspot_rows}
    assert {"AQUA_M-T", "NOAA-20", "GOES-16", "TERRA_M-M"} <= sats and "NOAA-21" not in sats  # NOAA-21 from 2023
    assert any("MAUÉS" == r[5] or "SÃO FÉLIX DO XINGU" == r[5] or "LÁBREA" == r[5] for r in hotspot_rows)


def test_uuid4_strings_are_version_4_and_deterministic() -> None:
    a = formats.uuid4_strings(np.random.default_rng(1), 50)
    b = formats.uuid4_strings(np.random.default_rng(1), 50)
    assert list(a) == list(b) and len(set(a)) == 50
    assert all(uuid.UUID(s).version == 4 and str(uuid.UUID(s)) == s for s in a)


def test_vector_layers(world) -> None:
    boundary = gpd.read_file(world.raw / "boundary" / "legal_amazon.geojson")
    path = world.raw / "states" / "ibge_malha_uf.json"
    text = path.read_text(encoding="utf-8")
    assert "\n" not in text and json.loads(text)["crs"]["properties"]["name"].endswith("EPSG::4674")
    states = gpd.read_file(path)  # as IBGE's mesh API returns it: .json, codarea text, SIRGAS 2000
    assert states.crs.to_epsg() == 4674 and list(states.columns) == ["codarea", "geometry"]
    assert boundary.crs.to_epsg() == 4326 and len(boundary) == 1 and boundary.geometry.iloc[0].is_valid
    assert sorted(states["codarea"]) == ["11", "12", "13", "14", "15", "16", "17", "21", "51"]
    assert states.union_all().symmetric_difference(boundary.geometry.iloc[0]).area < 1e-4
    roads = gpd.read_file(world.raw / "roads" / "roads.geojson")
    assert roads.geom_type.eq("LineString").all() and roads["name"].str.contains("BR-163").any()
    assert (roads["kind"] == "vicinal").sum() > 5 * (roads["kind"] == "trunk").sum()  # fishbone
    towns = gpd.read_file(world.raw / "settlements" / "settlements.geojson")
    assert {"Altamira", "Novo Progresso", "Porto Velho", "Rio Branco", "Sinop", "Marabá", "Santarém",
            "Manaus"} <= set(towns["name"])
    assert towns.geom_type.eq("Point").all() and (towns["population"] > 0).all()
    assert len(towns) > 100  # plus generated villages along the roads


def test_geojson_text_has_no_timestamps(world) -> None:
    today = dt.date.today().isoformat()
    for path in [*world.raw.rglob("*.geojson"), *world.raw.rglob("*.json")]:
        text = path.read_text(encoding="utf-8")
        assert today not in text
        assert json.loads(text)["type"] == "FeatureCollection"
    assert json.loads((world.truth / "manifest.json").read_text()) == {
        "available": True, "deforestation_threshold_km2": 1.0, "grid_resolution_deg": 1.0,
        "reference_satellite": "AQUA_M-T"}


def test_prodes_increments(world) -> None:
    prodes = gpd.read_file(world.raw / "deforestation" / "prodes_yearly_deforestation.geojson")
    assert list(prodes.columns[:-1]) == PRODES_FIELDS
    assert sorted(prodes["year"].unique()) == world.config.prodes_years == [2020, 2021]
    assert (prodes["main_class"] == "desmatamento").all()
    assert (prodes["class_name"] == "d" + prodes["year"].astype(str)).all()
    assert prodes["area_km"].min() >= 0.0625
    metric = prodes.to_crs("EPSG:5880").area / 1e6
    assert np.allclose(metric, prodes["area_km"], rtol=0.08)  # polyconic distortion away from 54°W
    image = pd.to_datetime(prodes["image_date"])
    start = pd.to_datetime((prodes["year"] - 1).astype(str) + "-08-01")
    end = pd.to_datetime(prodes["year"].astype(str) + "-07-31")
    assert ((image >= start) & (image <= end)).all()
    assert (image.dt.day_of_year == prodes["julian_day"]).all()
    assert prodes.geometry.is_valid.all() and prodes["uuid"].is_unique and prodes["fid"].is_unique
    tree = shapely.STRtree(prodes.geometry.values)
    assert tree.query(prodes.geometry.values, predicate="overlaps").shape[1] == 0


def test_official_increments_table(world) -> None:
    path = world.raw / "prodes_increments" / "prodes_legal_amazon_increments_uf.csv"
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    assert lines[0] == "year;areakm;uf" and not text.endswith("\n")  # TerraBrasilis: no final newline
    rows = [line.split(";") for line in lines[1:]]
    assert all(len(r) == 3 and "," in r[1] and "." not in r[1] for r in rows)  # decimal commas
    assert {r[2] for r in rows} <= {"Pará", "Mato Grosso", "Amazonas", "Rondônia", "Acre", "Roraima", "Amapá",
                                    "Tocantins", "Maranhão"}
    prodes = gpd.read_file(world.raw / "deforestation" / "prodes_yearly_deforestation.geojson")
    table = {(int(r[0]), r[2]): float(r[1].replace(",", ".")) for r in rows}
    assert sum(table.values()) == pytest.approx(prodes["area_km"].sum(), rel=1e-9)
    assert {y for y, _ in table} == set(world.config.prodes_years)


def test_tables(world) -> None:
    weather = pd.read_parquet(world.raw / "weather" / "weather_daily.parquet")
    assert list(weather.columns) == ["date", "lat", "lon", "precip_mm", "tmax_c", "rhmin_pct", "wind_ms",
                                     "elevation_m"]
    n_cells = world.summary["cells"]
    assert len(weather) == n_cells * 1096 and weather.notna().all().all()
    assert pd.api.types.is_datetime64_any_dtype(weather["date"])
    wet = weather["precip_mm"] > 0
    assert (weather.loc[wet, "precip_mm"] >= 1.0).all() and 0.2 < wet.mean() < 0.7
    assert weather["rhmin_pct"].between(0, 100).all() and weather["tmax_c"].between(15, 48).all()

    lc = landcover_pixels(world.raw)
    years = [f"classification_{y}" for y in (2019, 2020, 2021)]
    assert list(lc.columns) == ["lat", "lon", *years] and len(lc) == n_cells * 100
    assert set(np.unique(lc[years].to_numpy())) <= {3, 4, 12, 15, 19, 21, 24, 33, 39}
    changed = lc[years[0]] != lc[years[-1]]
    assert changed.any()
    assert ((lc.loc[changed, years[0]] == 3) & (lc.loc[changed, years[-1]] == 15)).all()

    vi = pd.read_parquet(world.raw / "vegetation_index" / "mod13_16day.parquet")
    assert list(vi.columns) == ["date", "lat", "lon", "ndvi", "evi"]
    assert set(pd.to_datetime(vi["date"]).dt.day_of_year.unique()) == set(range(1, 366, 16))
    assert 0 < vi["ndvi"].isna().mean() < 0.1
    assert vi["ndvi"].between(-0.2, 1).all() or vi["ndvi"].dropna().between(-0.2, 1).all()


def test_truth_is_keyed_like_the_grid(world) -> None:
    grid = Grid(1.0)
    weather = pd.read_parquet(world.raw / "weather" / "weather_daily.parquet", columns=["lat", "lon"])
    cells = set(grid.cell_of(weather["lat"].to_numpy(), weather["lon"].to_numpy()))
    fire = pd.read_parquet(world.truth / "fire_risk.parquet")
    assert list(fire.columns) == ["cell_id", "month", "probability"]
    assert set(fire["cell_id"]) == cells
    months = pd.to_datetime(fire["month"])
    assert (months.dt.day == 1).all() and months.nunique() == 36
    assert len(fire) == len(cells) * 36 and not fire.duplicated(["cell_id", "month"]).any()
    assert fire["probability"].between(0, 1).all()
    defo = pd.read_parquet(world.truth / "deforestation.parquet")
    assert list(defo.columns) == ["cell_id", "year", "probability"]
    assert set(defo["cell_id"]) == cells and sorted(defo["year"].unique()) == [2020, 2021]
    assert defo["probability"].between(0, 1).all()


def _png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_maps(world) -> None:
    for name in ("landcover", "roads_settlements", "hotspot_density", "dryness_dry_season"):
        path = world.plots / f"{name}.png"
        assert _png_size(path) == (800, 700)
        assert b"Software" not in path.read_bytes()[:4096]


def test_reference_hotspots_lie_inside_the_outline_and_their_cell(world, hotspot_rows: list[list[str]]) -> None:
    boundary = gpd.read_file(world.raw / "boundary" / "legal_amazon.geojson").geometry.iloc[0]
    ref = [r for r in hotspot_rows if r[4] == "AQUA_M-T"]
    lat = np.array([float(r[1]) for r in ref])
    lon = np.array([float(r[2]) for r in ref])
    assert shapely.contains_xy(boundary, lon, lat).all()  # loaders clip hotspots to the region
    truth_cells = set(pd.read_parquet(world.truth / "fire_risk.parquet")["cell_id"])
    assert set(Grid(1.0).cell_of(lat, lon)) <= truth_cells


@pytest.mark.parametrize("template", ["%11.6f", "%12.6f ", "%.1f", " %.1f ", "%.2f"])
def test_printf_gives_the_text_of_np_char_mod(template):
    from geih.ingest.synthetic.formats import printf

    values = np.array([0.15, 0.25, 2.675, -0.05, -0.0, 0.0, -3.1234565, -72.000001, 1e6 + 0.05, 123.45, np.nan,
                       *np.random.default_rng(3).uniform(-75, 5, 200)])
    got = printf(template, values)
    assert got.dtype == object and all(type(v) is str for v in got)
    assert got.tolist() == np.char.mod(template, values).tolist()
    assert printf(" %d ", np.array([0, -999, 12], dtype=np.int64)).tolist() == [" 0 ", " -999 ", " 12 "]
    assert printf("%.1f", np.array([])).tolist() == []


def test_write_delimited_writes_objects_numbers_and_text_as_astype_str(tmp_path):
    from geih.ingest.synthetic.formats import write_delimited

    frame = pd.DataFrame({"a": np.array(["x", "y"], dtype=object), "b": [1.5, 0.1], "c": [3, -4]})
    frame["d"] = pd.Series(["Pará", "São Félix"])  # pandas' own string dtype
    write_delimited(tmp_path / "t.csv", frame, ["a", "b", "c", "d"], sep=";", final_newline=False)
    assert (tmp_path / "t.csv").read_text(encoding="utf-8") == "a;b;c;d\nx;1.5;3;Pará\ny;0.1;-4;São Félix"
