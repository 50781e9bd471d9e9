"""Weather, vegetation-index and MapBiomas pixel tables (CSV and Parquet)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geih.errors import DataError
from geih.ingest.sources.landcover import MAPBIOMAS_CLASSES, read_landcover
from geih.ingest.sources.tables import read_vegetation_index, read_weather

TAB = Path(__file__).parents[2] / "fixtures" / "sources" / "tables"


def test_weather_csv_columns_types_and_cleaning():
    df, report = read_weather(TAB / "weather.csv")
    assert list(df.columns) == ["date", "lat", "lon", "precip_mm", "tmax_c", "rhmin_pct", "wind_ms",
                                "elevation_m"]
    assert str(df["date"].dtype) == "datetime64[ns]" and df["date"].iloc[1] == pd.Timestamp("2024-08-02")
    assert df["precip_mm"].iloc[3] == 0.0 and report.counts["clipped_precip_mm"] == 1
    assert np.isnan(df["rhmin_pct"].iloc[3]) and report.counts["nan_rhmin_pct_missing"] == 1
    assert report.rows_kept == 4


def test_weather_parquet_matches_csv_and_elevation_is_optional(tmp_path):
    csv_df, _ = read_weather(TAB / "weather.csv")
    csv_df.drop(columns="elevation_m").to_parquet(tmp_path / "w.parquet")
    pq_df, report = read_weather(tmp_path / "w.parquet")
    assert "elevation_m" not in pq_df
    pd.testing.assert_frame_equal(pq_df, csv_df.drop(columns="elevation_m"))


def test_weather_missing_column_and_ranges(tmp_path):
    good = pd.read_csv(TAB / "weather.csv")
    good.drop(columns="tmax_c").to_parquet(tmp_path / "nocol.parquet")
    with pytest.raises(DataError, match="tmax_c") as err:
        read_weather(tmp_path / "nocol.parquet")
    assert err.value.column == "tmax_c"
    for col, value in [("rhmin_pct", 120.0), ("tmax_c", 75.0), ("precip_mm", -3.0)]:
        bad = good.copy()
        bad.loc[2, col] = value
        bad.to_csv(tmp_path / "bad.csv", index=False)
        with pytest.raises(DataError, match="outside") as err:
            read_weather(tmp_path / "bad.csv")
        assert err.value.column == col and err.value.row == 4   # header = row 1


def test_weather_text_in_numbers_and_bad_dates(tmp_path):
    text = (TAB / "weather.csv").read_text().replace("34.1", "hot")
    (tmp_path / "t.csv").write_text(text)
    with pytest.raises(DataError, match="not a number") as err:
        read_weather(tmp_path / "t.csv")
    assert err.value.column == "tmax_c" and err.value.row == 2
    text = (TAB / "weather.csv").read_text().replace("2024-08-02,-12.75", "2024-08-32,-12.75")
    (tmp_path / "d.csv").write_text(text)
    with pytest.raises(DataError, match="cannot parse date") as err:
        read_weather(tmp_path / "d.csv")
    assert err.value.row == 5 and err.value.column == "date"


def test_vegetation_index_and_scaled_integers(tmp_path):
    df, _ = read_vegetation_index(TAB / "vegetation_index.csv")
    assert list(df.columns) == ["date", "lat", "lon", "ndvi", "evi"] and df["ndvi"].between(-1, 1).all()
    scaled = df.assign(ndvi=(df["ndvi"] * 10000).round())
    scaled.to_parquet(tmp_path / "s.parquet")
    with pytest.raises(DataError, match="divide by 10000") as err:
        read_vegetation_index(tmp_path / "s.parquet")
    assert err.value.column == "ndvi"


def test_a_large_weather_table_is_read_whole(tmp_path):
    """Many row groups, every row kept with its values (the loader's speed is measured by
    benchmarks/prepare_vs_read.py, not here)."""
    n = 200_000
    rng = np.random.default_rng(0)
    big = pd.DataFrame({"date": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 365, n), "D"),
                        "lat": rng.uniform(-18, 5, n), "lon": rng.uniform(-74, -44, n),
                        "precip_mm": rng.gamma(0.5, 8, n), "tmax_c": rng.uniform(20, 40, n),
                        "rhmin_pct": rng.uniform(10, 90, n), "wind_ms": rng.uniform(0, 8, n)})
    big.to_parquet(tmp_path / "big.parquet", row_group_size=16_384)
    df, report = read_weather(tmp_path / "big.parquet")
    assert len(df) == n and report.rows_kept == n
    for column in ("lat", "lon", "precip_mm", "tmax_c", "rhmin_pct", "wind_ms"):
        np.testing.assert_array_equal(df[column].to_numpy(float), big[column].to_numpy())
    assert (pd.to_datetime(df["date"]).to_numpy() == big["date"].to_numpy()).all()


def test_landcover_long_frame_and_nodata():
    df, report = read_landcover(TAB / "landcover.csv")
    assert list(df.columns) == ["lat", "lon", "year", "class_code", "pixels"] and (df["pixels"] == 1).all()
    assert pd.api.types.is_integer_dtype(df["year"]) and pd.api.types.is_integer_dtype(df["class_code"])
    px = df[(df["lat"] == -3.215)]
    assert px.set_index("year")["class_code"].to_dict() == {2019: 3, 2020: 15, 2021: 15}
    assert not (df["lat"] == -3.225).any()                  # all-0 pixel = no data
    assert report.counts["dropped_nodata"] == 4 and report.rows_read == 15 and len(df) == 11
    assert set(df["class_code"]) <= set(MAPBIOMAS_CLASSES)


def test_landcover_parquet_unknown_code_and_missing_columns(tmp_path):
    wide = pd.read_csv(TAB / "landcover.csv")
    wide.assign(**{"system:index": "x"}).to_parquet(tmp_path / "lc.parquet")
    df, report = read_landcover(tmp_path / "lc.parquet")
    assert len(df) == 11 and any("system:index" in n for n in report.notes)
    wide.loc[1, "classification_2020"] = 99
    wide.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(DataError, match="unknown MapBiomas class code") as err:
        read_landcover(tmp_path / "bad.csv")
    assert err.value.column == "classification_2020" and err.value.row == 3
    wide.drop(columns=["classification_2019", "classification_2020", "classification_2021"]).to_csv(
        tmp_path / "noyears.csv", index=False)
    with pytest.raises(DataError, match="classification_YYYY"):
        read_landcover(tmp_path / "noyears.csv")


def test_mapbiomas_legend_has_the_documented_codes():
    for code in (1, 3, 4, 5, 6, 9, 12, 15, 24, 26, 27, 33, 39, 62, 75):
        assert code in MAPBIOMAS_CLASSES
    assert 0 not in MAPBIOMAS_CLASSES and 2 not in MAPBIOMAS_CLASSES


def test_tables_bad_files(tmp_path):
    (tmp_path / "pipe.csv").write_text("date|lat|lon|ndvi|evi\n2024-07-27|-3.25|-52.25|0.81|0.50\n")
    with pytest.raises(DataError, match="wrong delimiter '\\|'") as err:
        read_vegetation_index(tmp_path / "pipe.csv")
    assert err.value.row == 1 and err.value.file.endswith("pipe.csv")
    (tmp_path / "junk.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match="Parquet") as err:
        read_weather(tmp_path / "junk.parquet")
    assert err.value.file.endswith("junk.parquet")
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(DataError, match="empty"):
        read_landcover(tmp_path / "empty.csv")
    (tmp_path / "head.csv").write_text("date,lat,lon,ndvi,evi\n")
    df, report = read_vegetation_index(tmp_path / "head.csv")
    assert len(df) == 0 and any("header only" in n for n in report.notes)


def test_a_report_absorbs_another_read_of_its_file():
    from geih.ingest.sources.cleaning import CleaningReport

    into = CleaningReport(file="w.csv", format="weather", rows_read=10, rows_kept=8, counts={"dropped_missing_key": 2})
    into.note("read as utf-8")
    part = CleaningReport(file="w.csv", format="weather", rows_read=5, rows_kept=4, encoding="latin-1",
                          counts={"dropped_missing_key": 1, "nan_tmax_missing": 3}, notes=["read as utf-8", "BOM"])
    into.absorb(part)
    assert (into.rows_read, into.rows_kept) == (15, 12)
    assert into.counts == {"dropped_missing_key": 3, "nan_tmax_missing": 3}
    assert into.notes == ["read as utf-8", "BOM"] and into.encoding == "latin-1"
    assert into.rows_read - into.rows_kept == sum(into.dropped.values())
