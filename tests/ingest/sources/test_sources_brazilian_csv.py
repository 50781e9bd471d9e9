"""Brazilian CSV conventions in every tabular loader: ';' separators, decimal commas, thousands dots,
no final newline, non-ASCII headers — detected from the file and noted in the report."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from geih.errors import DataError
from geih.ingest.sources import tabular as tab
from geih.ingest.sources.landcover import read_landcover
from geih.ingest.sources.tables import read_vegetation_index, read_weather

TAB = Path(__file__).parents[2] / "fixtures" / "sources" / "tables"


def test_dialect_is_detected_from_the_header(tmp_path):
    cases = {"comma.csv": ("a,b;c\n1,2\n", ","), "semi.csv": ("year;area km²;uf\n", ";"),
             "tab.csv": ("a\tb\tc\n", "\t"), "one.csv": ("year\n2020\n", ",")}
    for name, (text, delimiter) in cases.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        assert tab.csv_dialect(tmp_path / name).delimiter == delimiter, name
    assert tab.csv_dialect(tmp_path / "semi.csv").header == ["year", "area km²", "uf"]


@pytest.mark.parametrize("text, plain", [
    ("684,7060860136418", "684.7060860136418"), ("7.845,00", "7845.00"), (" -1.234.567,5 ", "-1234567.5"),
    ("7.845", "7845"), ("12", "12"), ("", ""), ("São Paulo, SP", "São Paulo, SP"), ("2024-08-01", "2024-08-01"),
    ("1.5", "1.5"),  # not thousands grouping: left as it is
])
def test_decimal_commas_rewrite_numbers_only(text, plain):
    table = pa.table({"x": pa.array([text, "1,5"])})  # the '1,5' makes the file a decimal-comma file
    out, n = tab.decimal_commas(table)
    assert out.column("x")[0].as_py() == plain
    assert n == 1 + (plain != text)


def test_a_semicolon_file_without_decimal_commas_keeps_its_points():
    table = pa.table({"lat": pa.array(["-6.575970", "-3.2"]), "n": pa.array(["1.234", "7"])})
    out, n = tab.decimal_commas(table)
    assert n == 0 and out.equals(table)


def test_weather_with_semicolons_decimal_commas_and_no_final_newline():
    df, report = read_weather(TAB / "weather_semicolon.csv")
    reference, _ = read_weather(TAB / "weather.csv")
    pd.testing.assert_frame_equal(df.iloc[:2], reference.iloc[:2])
    assert df["elevation_m"].iloc[2] == 1234.5 and df["tmax_c"].iloc[2] == 36.2
    assert any(n.startswith("separator ';'; decimal commas") for n in report.notes)


def test_vegetation_index_and_landcover_tables_with_semicolons():
    vi, report = read_vegetation_index(TAB / "vegetation_index_semicolon.csv")   # CRLF too
    reference, _ = read_vegetation_index(TAB / "vegetation_index.csv")
    pd.testing.assert_frame_equal(vi, reference.iloc[:2])
    assert any("decimal commas" in n for n in report.notes)
    lc, lc_report = read_landcover(TAB / "landcover_semicolon.csv")
    table, _ = read_landcover(TAB / "landcover.csv")
    pd.testing.assert_frame_equal(lc, table.iloc[:6])
    assert lc_report.rows_kept == 6 and any("separator ';'" in n for n in lc_report.notes)


def test_a_bad_value_in_a_decimal_comma_file_is_named(tmp_path):
    (tmp_path / "w.csv").write_text("date;lat;lon;precip_mm;tmax_c;rhmin_pct;wind_ms\n"
                                    "2024-08-01;-3,25;-52,25;0,0;34,1;38,5;2,1\n"
                                    "2024-08-02;-3,25;-52,25;1,2,3;31,0;61,0;1,4\n", encoding="utf-8")
    with pytest.raises(DataError, match="not a number: '1,2,3'") as err:
        read_weather(tmp_path / "w.csv")
    assert (err.value.row, err.value.column) == (3, "precip_mm") and err.value.file.endswith("w.csv")
