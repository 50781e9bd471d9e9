"""The fast loader paths (pyarrow/numpy) give exactly what the careful pandas paths give.

Each fast path declines (returns None) on anything but plainly valid input; the careful path then
produces the same frame or the DataError naming file, row and column. These tests run both paths on
the same input and compare.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from geopandas.testing import assert_geodataframe_equal

from geih.errors import DataError
from geih.ingest.sources import hotspots as hot
from geih.ingest.sources import prodes, tables
from geih.ingest.sources import tabular as tab
from geih.ingest.sources.folder import load_folder

FIX = Path(__file__).parents[2] / "fixtures" / "sources"
HOT = FIX / "hotspots"


def _careful(path: Path) -> tuple[pd.DataFrame, dict]:
    """read_hotspots with the careful parsers only."""
    raw = hot._open(path)
    out, counts, kept = hot._clean(raw.table, raw.fmt, raw.fields, np.array([raw.table.num_rows]),
                                   hot._Careful(raw.report.file, raw.rows))
    for key, per_file in counts.items():
        raw.report.add(key, int(per_file[0]))
    raw.report.rows_kept = int(kept[0])
    return out, raw.report


@pytest.mark.parametrize("name", sorted(p.name for p in HOT.glob("*.csv")))
def test_hotspot_fast_path_matches_careful_path(name):
    raw = hot._open(HOT / name)
    assert hot._clean(raw.table, raw.fmt, raw.fields, np.array([raw.table.num_rows]), hot._Strict()) is not None
    fast, report = hot.read_hotspots(HOT / name)
    careful, careful_report = _careful(HOT / name)
    pd.testing.assert_frame_equal(fast, careful, check_exact=True)
    assert list(report.counts.items()) == list(careful_report.counts.items())
    assert (report.rows_read, report.rows_kept) == (careful_report.rows_read, careful_report.rows_kept)


def test_folder_cleans_files_together_with_per_file_reports(tmp_path):
    names = ["inpe_current.csv", "inpe_current.csv", "firms_modis.csv", "inpe_web.csv", "inpe_web_lower.csv"]
    for i, name in enumerate(names):
        shutil.copy(HOT / name, tmp_path / f"{i}.csv")
    (tmp_path / "5.csv").write_text((HOT / "inpe_current.csv").read_text().splitlines()[0] + "\n")
    df, reports = load_folder(tmp_path, "hotspots")
    singles = [hot.read_hotspots(tmp_path / f"{i}.csv") for i in range(6)]
    expected = pd.concat([f for f, _ in singles if len(f)], ignore_index=True)
    pd.testing.assert_frame_equal(df, expected, check_exact=True)
    assert [r.__dict__ for r in reports] == [r.__dict__ for _, r in singles]
    assert reports[0].counts["dropped_duplicate_rows"] == reports[1].counts["dropped_duplicate_rows"] == 1


def test_folder_reports_the_first_bad_file_in_order(tmp_path):
    text = (HOT / "inpe_current.csv").read_text()
    shutil.copy(HOT / "inpe_current.csv", tmp_path / "a.csv")
    (tmp_path / "b.csv").write_text(text.replace("2024-08-04 17:30:00", "2024-02-30 17:30:00", 1))
    (tmp_path / "c.csv").write_text("x;y\n1;2\n")  # not hotspots: but b comes first
    with pytest.raises(DataError, match="cannot parse date") as err:
        load_folder(tmp_path, "hotspots")
    assert err.value.file == str(tmp_path / "b.csv") and err.value.row == 2
    (tmp_path / "b.csv").unlink()
    with pytest.raises(DataError, match="unrecognised hotspot CSV header") as err:
        load_folder(tmp_path, "hotspots")
    assert err.value.file == str(tmp_path / "c.csv")


def test_duplicates_are_found_within_a_file_only(tmp_path):
    lines = (HOT / "inpe_current.csv").read_text().splitlines()
    (tmp_path / "a.csv").write_text("\n".join(lines[:3]) + "\n")
    (tmp_path / "b.csv").write_text("\n".join(lines[:3]) + "\n")  # same rows as a.csv
    df, reports = load_folder(tmp_path, "hotspots")
    assert len(df) == 4 and all("dropped_duplicate_rows" not in r.counts for r in reports)


@pytest.mark.parametrize("text, expected", [
    ("2024-08-04 17:30:00", "2024-08-04 17:30:00"), (" 2019/08/11 03:40:00\t", "2019-08-11 03:40:00"),
    ("2021-07-13T16:10:00", "2021-07-13 16:10:00"),
    ("2024-02-29", "2024-02-29"), ("", None), (" NaN ", None), ("null", None),
])
def test_strict_datetime_parses_plain_values(text, expected):
    out = tab.arrow_datetime(pa.array([text, "2020-01-01 00:00:00"]))
    assert out is not None and out.dtype == np.dtype("datetime64[ns]")
    assert (pd.isna(out[0]) if expected is None else out[0] == np.datetime64(expected))
    values = pd.Series([text, "2020-01-01 00:00:00"], dtype="str")
    careful = tab.to_datetime(values, "c", "f", tab.RowNumbers())
    np.testing.assert_array_equal(out, careful)


@pytest.mark.parametrize("text", ["2023-02-29", "2024-04-31", "2024-13-01", "2024-08-04t17:30:00",
                                  "2024-08-04 24:00:00", "2024-8-4", "04/08/2024", "2024-08-04 17:30",
                                  "1600-01-01", "NaT", "\u00a02024-08-04"])
def test_strict_datetime_declines_anything_else(text):
    assert tab.arrow_datetime(pa.array(["2020-01-01", text])) is None


def test_float_parser_same_for_arrow_and_pandas_text():
    values = ["  -6.575970", "1e3", "", " 12 ", "-999", "nan", " NA ", "null"]
    fast = tab.parse_floats(pa.array(values))
    careful = tab.to_float(pd.Series(values, dtype="str"), "c", "f", tab.RowNumbers())
    np.testing.assert_array_equal(fast, careful)
    np.testing.assert_array_equal(fast[:5], [-6.57597, 1000.0, np.nan, 12.0, -999.0])
    assert np.isnan(fast[5:]).all()
    assert tab.parse_floats(pa.array(["1.5", "S3.2"])) is None
    with pytest.raises(DataError, match="not a number: 'S3.2'") as err:
        tab.to_float(pa.array(["1.5", "2", "S3.2", "x"]), "c", "f", tab.RowNumbers())
    assert err.value.row == 4  # header is row 1: the third value is row 4


def test_float_parser_numbers_and_wrong_types():
    ints = pa.chunked_array([pa.array([1, None, 3]), pa.array([4], type=pa.int64())])
    out = tab.parse_floats(ints)
    np.testing.assert_array_equal(out, [1.0, np.nan, 3.0, 4.0])
    out[0] = 9.0  # a new, writable array
    np.testing.assert_array_equal(tab.parse_floats(pd.Series([1, 2], dtype="Int64")), [1.0, 2.0])
    with pytest.raises(DataError, match="expected numbers, found bool"):
        tab.to_float(pd.Series([True, False]), "c", "f", tab.RowNumbers())
    with pytest.raises(DataError, match="expected numbers"):
        tab.to_float(pa.array([True]), "c", "f", tab.RowNumbers())


def _weather_table(n: int = 50) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({
        "date": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 365, n), "D"),
        "lat": rng.uniform(-18, 5, n), "lon": rng.uniform(-74, -44, n),
        "precip_mm": rng.gamma(0.5, 8, n).astype("float32"), "tmax_c": rng.uniform(20, 40, n),
        "rhmin_pct": rng.integers(10, 90, n), "wind_ms": rng.uniform(0, 8, n)})


@pytest.mark.parametrize("date_type", [pa.timestamp("ms"), pa.timestamp("s", tz="America/Sao_Paulo"),
                                       pa.date32(), pa.string()])
def test_weather_numpy_path_matches_pandas_path(tmp_path, date_type, monkeypatch):
    df = _weather_table()
    df.loc[3, "rhmin_pct"] = None
    df.loc[4, "precip_mm"] = -0.0005
    table = pa.Table.from_pandas(df, preserve_index=False)
    dates = table.column("date")
    dates = dates.cast(pa.string()) if pa.types.is_string(date_type) else dates.cast(date_type)
    table = table.set_column(0, "date", dates)
    pq.write_table(table, tmp_path / "w.parquet")
    fast, report = tables.read_weather(tmp_path / "w.parquet")
    monkeypatch.setattr(tables, "_numpy_dates", lambda values: None)
    careful, careful_report = tables.read_weather(tmp_path / "w.parquet")
    pd.testing.assert_frame_equal(fast, careful, check_exact=True)
    assert report.counts == careful_report.counts and report.counts["clipped_precip_mm"] == 1


@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")
@pytest.mark.parametrize("name", ["prodes_current.geojson", "prodes_older.geojson", "prodes.gpkg"])
def test_prodes_arrow_read_matches_plain_read(tmp_path, name, monkeypatch):
    path = FIX / "vectors" / name
    if name.endswith(".gpkg"):
        path = tmp_path / name
        gpd.read_file(FIX / "vectors" / "prodes_current.geojson").to_file(path)
    calls = []
    real = prodes._read_fast
    monkeypatch.setattr(prodes, "_read_fast", lambda p, r: calls.append(1) or real(p, r))
    fast, report = prodes.read_prodes(path)
    assert calls and real(path, type(report)(file=str(path), format="prodes"))[0] is not None
    monkeypatch.setattr(prodes, "_read_fast", lambda p, r: (None, None))
    plain, plain_report = prodes.read_prodes(path)
    assert_geodataframe_equal(fast, plain, check_less_precise=False)
    assert (fast.geometry.to_wkb() == plain.geometry.to_wkb()).all() and fast.crs == plain.crs
    assert report.__dict__ == plain_report.__dict__
