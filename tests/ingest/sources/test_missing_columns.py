"""A missing column never surfaces as a bare KeyError: every loader, fed each of its fixture files with one
column (or property) left out, either still reads the file (an optional column) or raises DataError naming
the file — and, for a column it requires, that column."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from geih.errors import DataError
from geih.ingest.sources.folder import reader_for

# an exception pyarrow can only print (one raised in its invalid-row callback) fails the test here
pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sources"
CSV_FILES = [("hotspots", p.name) for p in sorted((FIXTURES / "hotspots").glob("*.csv"))] + [
    ("weather", "weather.csv"), ("vegetation_index", "vegetation_index.csv"), ("landcover", "landcover.csv")]
VECTOR_FILES = [("deforestation", "prodes_current.geojson"), ("deforestation", "prodes_older.geojson"),
                ("states", "states.geojson"), ("roads", "roads.geojson"), ("settlements", "settlements.geojson"),
                ("boundary", "boundary.geojson")]
# Columns without which a file cannot be read (the rest are optional): the loaders' documented requirements.
REQUIRED = {
    "hotspots": {"latitude", "longitude", "lat", "lon", "acq_date", "acq_time", "satellite", "satelite",
                 "data_hora_gmt", "data_pas", "datahora"},
    "weather": {"date", "lat", "lon", "precip_mm", "tmax_c", "rhmin_pct", "wind_ms"},
    "vegetation_index": {"date", "lat", "lon", "ndvi", "evi"},
    "landcover": {"lat", "lon"},
    "deforestation": {"year"},
}


def fixture_dir(kind: str) -> str:
    return "hotspots" if kind == "hotspots" else "tables" if kind in ("weather", "vegetation_index", "landcover") \
        else "vectors"


def read_or_error(kind: str, path: Path) -> DataError | None:
    """None when the loader reads the file; the DataError when it refuses it. Anything else fails the test."""
    try:
        reader_for(kind)(path)
    except DataError as exc:
        return exc
    return None


def check(kind: str, path: Path, dropped: str) -> None:
    error = read_or_error(kind, path)
    if dropped.lower() in REQUIRED.get(kind, set()):
        assert error is not None, f"{path.name} without {dropped!r} was read"
        assert error.file == str(path)
        assert (error.column or "").lower() == dropped.lower() or dropped.lower() in str(error).lower(), str(error)
    elif error is not None:
        assert error.file == str(path), str(error)


def fixture_lines(kind: str, name: str) -> tuple[list[str], str, str]:
    """(lines, encoding, separator) of a CSV fixture: UTF-8 or Latin-1, ',' or ';' (Brazilian exports)."""
    raw = (FIXTURES / fixture_dir(kind) / name).read_bytes()
    try:
        text, encoding = raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = raw.decode("latin-1"), "latin-1"
    lines = text.splitlines()
    return lines, encoding, ";" if ";" in lines[0] and "," not in lines[0] else ","


def csv_cases() -> list[tuple[str, str, str]]:
    cases = []
    for kind, name in CSV_FILES:
        lines, _, sep = fixture_lines(kind, name)
        cases += [(kind, name, column) for column in lines[0].split(sep)]
    return cases


@pytest.mark.parametrize("kind,name,dropped", csv_cases())
def test_csv_without_a_column(kind: str, name: str, dropped: str, tmp_path: Path):
    lines, encoding, sep = fixture_lines(kind, name)
    position = lines[0].split(sep).index(dropped)
    kept = [sep.join(f for i, f in enumerate(line.split(sep)) if i != position) for line in lines]
    path = tmp_path / name
    path.write_text("\n".join(kept) + "\n", encoding=encoding)
    check(kind, path, dropped)


@pytest.mark.parametrize("kind,name", [c for c in CSV_FILES if c[0] != "hotspots"])
def test_parquet_without_each_column(kind: str, name: str, tmp_path: Path):
    table = pd.read_csv(FIXTURES / "tables" / name)
    for column in table.columns:
        path = tmp_path / f"{column}.parquet"
        table.drop(columns=column).to_parquet(path, index=False)
        check(kind, path, column)


def test_landcover_without_any_year_column_names_the_pattern(tmp_path: Path):
    path = tmp_path / "lc.csv"
    path.write_text("lat,lon\n-3.2,-52.2\n")
    error = read_or_error("landcover", path)
    assert error is not None and error.column == "classification_YYYY"


@pytest.mark.parametrize("kind,name", VECTOR_FILES)
def test_vector_without_a_property(kind: str, name: str, tmp_path: Path):
    data = json.loads((FIXTURES / "vectors" / name).read_text(encoding="utf-8"))
    properties = sorted({key for feature in data["features"] for key in feature["properties"]})
    for dropped in [*properties, "*"]:  # each property, then all of them
        copy = json.loads(json.dumps(data))
        for feature in copy["features"]:
            feature["properties"] = {k: v for k, v in feature["properties"].items() if dropped not in (k, "*")}
            if dropped == "*":
                feature["properties"] = {"unrelated": 1}
        path = tmp_path / f"{dropped.replace('*', 'all')}.geojson"
        path.write_text(json.dumps(copy), encoding="utf-8")
        if dropped == "*":
            error = read_or_error(kind, path)
            if kind in ("deforestation", "states"):  # both need at least one attribute column
                assert error is not None and error.file == str(path)
            else:
                assert error is None  # geometry alone is enough
        else:
            check(kind, path, dropped)
