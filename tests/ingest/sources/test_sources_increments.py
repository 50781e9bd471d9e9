"""Official PRODES yearly increments as TerraBrasilis exports them (the aggregate reference)."""

from __future__ import annotations

from pathlib import Path

import pytest

from geih.errors import DataError
from geih.ingest.sources.folder import load_folder
from geih.ingest.sources.prodes import increment_columns, read_prodes_increments
from geih.ingest.sources.validate import validate_path

INC = Path(__file__).parents[2] / "fixtures" / "sources" / "increments"


def test_state_table_full_names_decimal_commas_thousands_dots():
    df, report = read_prodes_increments(INC / "prodes_uf.csv")
    assert list(df.columns) == ["year", "area_km2", "state", "level", "name"]
    assert df["year"].tolist() == [2020, 2020, 2021, 2021] and df["state"].tolist() == ["PA", "MT", "PA", "MT"]
    assert df["area_km2"].tolist() == [4899.0612, 1779.1234, 5238.7, 684.7060860136418]
    assert report.format == "prodes_increments_state" and (df["level"] == "state").all()
    assert report.period == ("2020", "2021") and any("decimal commas" in n for n in report.notes)


def test_municipality_table_takes_the_state_from_the_geocode():
    df, report = read_prodes_increments(INC / "prodes_municipalities.csv")
    assert report.format == "prodes_increments_municipality" and report.counts == {"dropped_missing_value": 1}
    assert df["state"].tolist() == ["PA", "PA", "MT", "AM"] and df["area_km2"].iloc[0] == 1234.5
    assert df["name"].tolist()[1:3] == ["São Félix do Xingu", 'Juara "MT"']   # quoted, "" escapes


def test_conservation_unit_table_with_unit_in_the_header_latin1_crlf():
    df, report = read_prodes_increments(INC / "prodes_conservation_units.csv")  # 'area km²'
    assert report.format == "prodes_increments_conservation_unit" and report.encoding == "latin-1"
    assert df["area_km2"].tolist() == [12.5, 8.25] and df["state"].isna().all()
    assert df["name"].tolist() == ["FLONA do Jamanxim", "APA Triunfo do Xingu"]


def test_increment_columns_from_header_spellings():
    assert increment_columns(["year", "area km²", "consunit"]) == {"year": "year", "area": "area km²",
                                                                   "consunit": "consunit"}
    assert increment_columns(["Ano", "AREAKM", "UF"]) == {"year": "ano", "area": "areakm", "state": "uf"}
    assert increment_columns(["year", "areakm"]) == {} and increment_columns(["lat", "lon"]) == {}


@pytest.mark.parametrize("line, column, message", [
    ("2020,5;12,0;Pará", "year", "not a PRODES year"), ("1950;12,0;Pará", "year", "not a PRODES year"),
    ("2020;-3,0;Pará", "areakm", "negative area"), ("2020;doze;Pará", "areakm", "not a number"),
    ("2020;12,0;Gotham", "uf", "names no Brazilian state"),
])
def test_bad_rows_are_named(tmp_path, line, column, message):
    path = tmp_path / "inc.csv"
    path.write_text(f"year;areakm;uf\n2019;1,0;Acre\n{line}", encoding="utf-8")
    with pytest.raises(DataError, match=message) as err:
        read_prodes_increments(path)
    assert (err.value.file, err.value.row, err.value.column) == (str(path), 3, column)


def test_not_an_increments_table(tmp_path):
    (tmp_path / "x.csv").write_text("year;lat\n2020;1\n")
    with pytest.raises(DataError, match="not an official PRODES increments table") as err:
        read_prodes_increments(tmp_path / "x.csv")
    assert err.value.row == 1


def test_folder_and_validate_read_the_increments(tmp_path):
    folder = tmp_path / "prodes_increments"
    folder.mkdir()
    for name in ("prodes_uf.csv", "prodes_municipalities.csv"):
        (folder / name).write_bytes((INC / name).read_bytes())
    df, reports = load_folder(folder, "prodes_increments")
    assert len(df) == 8 and [r.format for r in reports] == ["prodes_increments_municipality",
                                                            "prodes_increments_state"]
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "a.csv").write_bytes((INC / "prodes_conservation_units.csv").read_bytes())
    summary, = validate_path(loose)
    assert summary.kind == "prodes_increments" and (summary.date_min, summary.date_max) == ("2020", "2021")
