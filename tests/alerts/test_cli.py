"""`geih alerts`: GeoJSON/CSV by extension or --format, exit status 2 and no file on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from geih.cli import main
from geih.stage import run_main
from tests.alerts.support import column_bundle, frame


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return column_bundle(tmp_path_factory.mktemp("cli") / "bundle")


def geih(*argv: str) -> int:
    return run_main(main, list(argv))


def test_geojson_and_csv_outputs(bundle: Path, tmp_path: Path, capsys):
    source = tmp_path / "features.parquet"
    frame([0.3, 0.6, 0.8], states=["PA", "PA", "MT"]).to_parquet(source)
    assert geih("alerts", "--bundle", str(bundle), "--input", str(source), "--out", str(tmp_path / "a.geojson")) == 0
    assert "2 alert(s) (alto 1, crítico 1)" in capsys.readouterr().out
    collection = json.loads((tmp_path / "a.geojson").read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection" and collection["levels"] == ["alto", "crítico"]
    assert [f["properties"]["cell_id"] for f in collection["features"]] == [1002, 1001]
    assert geih("alerts", "--bundle", str(bundle), "--input", str(source), "--out", str(tmp_path / "a.txt"),
                "--format", "csv", "--levels", "médio") == 0
    table = pd.read_csv(tmp_path / "a.txt")
    assert table["risk_level"].tolist() == ["crítico", "alto", "médio"]
    assert {"state_code", "municipality_code", "top_feature_1", "geometry_wkt"} <= set(table.columns)


def test_csv_input_reads_dates(bundle: Path, tmp_path: Path):
    source = tmp_path / "features.csv"
    frame([0.9, 0.9], months=["2024-11-01", "2024-12-01"]).to_csv(source, index=False)
    assert geih("alerts", "--bundle", str(bundle), "--input", str(source), "--out", str(tmp_path / "a.csv")) == 0
    assert pd.read_csv(tmp_path / "a.csv")["period"].tolist() == ["2024-12"]


@pytest.mark.parametrize(("change", "message"), [
    ("levels", "unknown risk level(s) ['grave']"), ("column", "column 'c'"), ("bundle", "not a model bundle"),
    ("out", "cannot tell the format"), ("input", "expected a .parquet or .csv features file")])
def test_bad_input_exits_2_and_writes_nothing(bundle: Path, tmp_path: Path, caplog, change: str, message: str):
    source = tmp_path / ("features.txt" if change == "input" else "features.parquet")
    frame([0.9]).drop(columns="c" if change == "column" else []).to_parquet(source)
    out = tmp_path / ("alerts.xlsx" if change == "out" else "alerts.geojson")
    argv = ["alerts", "--bundle", str(tmp_path if change == "bundle" else bundle), "--input", str(source),
            "--out", str(out), "--levels", "grave" if change == "levels" else "alto"]
    assert geih(*argv) == 2
    assert message in caplog.text
    if change == "column":
        assert str(source) in caplog.text
    assert not out.exists() and not list(tmp_path.glob(".alerts*"))
