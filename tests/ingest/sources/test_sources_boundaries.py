"""Boundaries as IBGE and common redistributions publish them: GeoJSON saved as .json, states and
municipalities matched by IBGE code or by name/UF (accents and case normalised)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import shapely

from geih.errors import DataError
from geih.ingest.sources.folder import load_folder
from geih.ingest.sources.states import uf_from_text
from geih.ingest.sources.validate import validate_path
from geih.ingest.sources.vectors import looks_like_geojson, read_states_report, read_vector

VEC = Path(__file__).parents[2] / "fixtures" / "sources" / "vectors"
PA = shapely.box(-58.9, -9.8, -46.0, 2.6)


@pytest.mark.parametrize("name, column, dissolved", [
    ("ibge_uf.json", "codarea", 0),                   # IBGE mesh API: codarea text, EPSG:4674, one line
    ("ibge_municipios.json", "codarea", 1),           # 7-digit municipality codes
    ("municipios_geocodigo.geojson", "GEOCODIGO", 1),
    ("estados_uf_estado.geojson", "UF", 0),           # no code: the UF
    ("municipios_id_name.json", "id", 1),             # id (7-digit text) / name / description
    ("estados_nomes.geojson", "nome", 0),             # names only, any case and accents
])
def test_states_from_codes_or_names(name, column, dissolved):
    states, report = read_states_report(VEC / name)
    assert states["state"].tolist() == ["PA", "MT"] and states["state_id"].tolist() == [15, 51]
    assert states.crs.to_epsg() == 4326
    assert states.geometry.iloc[0].equals(PA)  # municipalities dissolved into their state
    assert report.counts.get("dissolved_features", 0) == dissolved
    assert not dissolved or any(f"({column})" in n for n in report.notes)
    if name.startswith("ibge"):
        assert "reprojected from EPSG:4674 to EPSG:4326" in report.notes


@pytest.mark.parametrize("text, uf", [("15", "PA"), ("1500602", "PA"), ("150060", "PA"), (5105101, "MT"),
                                      ("São Paulo", "SP"), ("SAO PAULO", "SP"), (" ro ", "RO"), ("99", None),
                                      ("9912345", None), ("Gotham", None), (None, None)])
def test_uf_from_state_and_municipality_codes_and_names(text, uf):
    assert uf_from_text(text) == uf


def test_a_feature_no_column_places_is_named(tmp_path):
    text = (VEC / "municipios_geocodigo.geojson").read_text(encoding="utf-8")
    (tmp_path / "m.geojson").write_text(text.replace('"5105101"', '"9905101"').replace('"MT"', '"XX"'),
                                        encoding="utf-8")
    with pytest.raises(DataError, match="feature 3: unknown state code '9905101'") as err:
        read_states_report(tmp_path / "m.geojson")
    assert err.value.column == "GEOCODIGO" and err.value.file.endswith("m.geojson")


def test_json_is_read_wherever_geojson_is(tmp_path):
    shutil.copy(VEC / "roads.geojson", tmp_path / "roads.json")
    assert len(read_vector(tmp_path / "roads.json", "line")) == 2
    folder = tmp_path / "states"
    folder.mkdir()
    shutil.copy(VEC / "ibge_uf.json", folder / "malha.json")
    (folder / "metadata.json").write_text('{"source": "IBGE", "downloaded": "2024-08-01"}')
    assert looks_like_geojson(folder / "malha.json") and not looks_like_geojson(folder / "metadata.json")
    states, reports = load_folder(folder, "states")              # metadata.json skipped with a warning
    assert states["state"].tolist() == ["PA", "MT"] and len(reports) == 1
    kinds = {Path(s.file).name: (s.kind, s.notes) for s in validate_path(folder.parent)}
    assert kinds["malha.json"][0] == "states" and kinds["metadata.json"] == ("ignored", ["JSON, not GeoJSON"])
    assert kinds["roads.json"][0] == "roads"


def test_loose_municipality_mesh_with_ibge_ids_is_states(tmp_path):
    shutil.copy(VEC / "municipios_id_name.json", tmp_path / "a.json")
    shutil.copy(VEC / "boundary.geojson", tmp_path / "b.geojson")
    kinds = {Path(s.file).name: s.kind for s in validate_path(tmp_path)}
    assert kinds == {"a.json": "states", "b.geojson": "boundary"}
