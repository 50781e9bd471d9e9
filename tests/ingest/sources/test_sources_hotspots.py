"""Hotspot CSV loaders: every published layout, the cleaning rules, dedup and clipping."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from geih.errors import DataError, ParamsError
from geih.ingest.sources.hotspot_rules import clip_to_region, dedup_hotspots
from geih.ingest.sources.hotspots import CANONICAL_COLUMNS, FORMAT_NAMES, detect_csv_format, read_hotspots

HOT = Path(__file__).parents[2] / "fixtures" / "sources" / "hotspots"


def _dropped(report) -> int:
    return sum(report.dropped.values())


@pytest.mark.parametrize("name, fmt, n", [
    ("inpe_current.csv", "inpe_current", 5), ("inpe_web.csv", "inpe_web", 3),
    ("inpe_web_lower.csv", "inpe_web", 2), ("inpe_archive.csv", "inpe_archive", 2),
    ("firms_modis.csv", "firms_modis", 5), ("firms_modis_nrt.csv", "firms_modis", 2),
    ("firms_viirs_nrt.csv", "firms_viirs", 3), ("firms_viirs_archive.csv", "firms_viirs", 2),
])
def test_every_layout_gives_the_canonical_frame(name, fmt, n):
    df, report = read_hotspots(HOT / name)
    assert list(df.columns) == CANONICAL_COLUMNS
    assert report.format == fmt and (df["source_format"] == fmt).all()
    assert len(df) == n == report.rows_kept
    assert report.rows_read - report.rows_kept == _dropped(report)
    assert str(df["datetime"].dtype) in ("datetime64[ns]", "datetime64[s]")
    assert df["datetime"].dt.tz is None and df["datetime"].notna().all()
    assert df["lat"].dtype == np.float64 and df["lon"].dtype == np.float64
    assert df["frp"].dtype == np.float64
    assert pd.api.types.is_string_dtype(df["satellite"]) and df["satellite"].notna().all()
    assert set(df["confidence"].dropna()) <= {"low", "nominal", "high"}
    assert df["lat"].between(-34, 6).all() and df["lon"].between(-75, -34).all()


def test_format_names_cover_detection():
    assert set(FORMAT_NAMES) == {"inpe_current", "inpe_web", "inpe_archive", "inpe_annual", "inpe_open_data",
                                 "firms_modis", "firms_viirs"}


def test_inpe_current_space_padding_uuid_accents_and_cleaning():
    df, report = read_hotspots(HOT / "inpe_current.csv")
    first = df.iloc[0]
    assert first["lat"] == pytest.approx(-6.575970) and first["lon"] == pytest.approx(-58.852570)
    assert first["datetime"] == pd.Timestamp("2024-08-04 17:30:00")
    assert first["satellite"] == "NOAA-21" and first["state"] == "AM"
    assert first["days_without_rain"] == 24 and first["fire_risk"] == pytest.approx(0.8)
    assert report.counts["dropped_duplicate_rows"] == 1
    assert report.counts["nan_frp_negative"] == 1          # -3.2 at ALTAMIRA
    assert report.counts["nan_frp_minus999"] == 1          # SORRISO
    for col in ("days_without_rain", "precipitation", "fire_risk"):
        assert report.counts[f"nan_{col}_minus999"] == 1
    altamira = df.iloc[1]
    assert np.isnan(altamira["frp"]) and np.isnan(altamira["precipitation"]) and altamira["state"] == "PA"
    assert df["days_without_rain"].max() == 130             # values over 100 are kept
    assert (df["frp"].dropna() >= 0).all() and not (df[["frp", "fire_risk"]] == -999).any().any()


def test_state_only_for_brazil_and_from_names_or_ids():
    df, _ = read_hotspots(HOT / "inpe_current.csv")
    assert df["state"].tolist()[:3] == ["AM", "PA", "MT"]
    # Bolivia (SANTA CRUZ) and Colombia's department called AMAZONAS: not Brazilian states
    assert df["state"].iloc[3:].isna().all()
    web, _ = read_hotspots(HOT / "inpe_web.csv")
    assert web["state"].tolist() == ["RO", "RO", "AC"]  # 'RONDÔNIA' and 'Rondônia'
    lower, _ = read_hotspots(HOT / "inpe_web_lower.csv")
    assert lower["state"].tolist() == ["TO", "MA"]


def test_web_export_slash_dates_and_empty_frp():
    df, _ = read_hotspots(HOT / "inpe_web.csv")
    assert df["datetime"].iloc[2] == pd.Timestamp("2019-08-11 03:40:00")
    assert df["frp"].iloc[0] == pytest.approx(45.3) and df["frp"].iloc[1:].isna().all()
    lower, _ = read_hotspots(HOT / "inpe_web_lower.csv")
    assert lower["frp"].iloc[0] == pytest.approx(22.1) and lower["satellite"].iloc[1] == "GOES-16"


def test_archive_is_reference_satellite_without_frp():
    df, _ = read_hotspots(HOT / "inpe_archive.csv")
    assert (df["satellite"] == "AQUA_M-T").all()
    assert df["frp"].isna().all() and df["fire_risk"].isna().all()
    assert df["state"].tolist() == ["TO", "PA"]


def test_modis_hhmm_confidence_satellite_type_and_negative_frp():
    df, report = read_hotspots(HOT / "firms_modis.csv")
    assert df["datetime"].dt.strftime("%H:%M").tolist() == ["00:45", "01:30", "14:05", "13:30", "00:00"]
    assert df["satellite"].tolist() == ["AQUA_M-T", "TERRA_M-T", "AQUA_M-T", "TERRA_M-T", "AQUA_M-T"]
    # 85 -> high, 29 -> low, 30 -> nominal, 79 -> nominal, 100 -> high
    assert df["confidence"].tolist() == ["high", "low", "nominal", "nominal", "high"]
    assert report.counts["dropped_non_vegetation_type"] == 1   # type 2 static land source
    assert report.counts["nan_frp_negative"] == 1 and np.isnan(df["frp"].iloc[4])
    nrt, _ = read_hotspots(HOT / "firms_modis_nrt.csv")           # no instrument, no type, A/T codes
    assert nrt["satellite"].tolist() == ["AQUA_M-T", "TERRA_M-T"]
    assert nrt["confidence"].tolist() == ["nominal", "low"]


def test_viirs_letters_words_and_satellites():
    nrt, _ = read_hotspots(HOT / "firms_viirs_nrt.csv")
    assert nrt["confidence"].tolist() == ["nominal", "high", "low"]
    assert nrt["satellite"].tolist() == ["NPP-375", "NOAA-20", "NOAA-21"]
    assert nrt["datetime"].iloc[0] == pd.Timestamp("2024-09-01 00:48")
    arc, report = read_hotspots(HOT / "firms_viirs_archive.csv")
    assert arc["confidence"].tolist() == ["nominal", "high"]      # 'nominal', 'HIGH'
    assert arc["datetime"].iloc[1] == pd.Timestamp("2022-08-20 05:40")  # '540'
    assert report.counts["dropped_non_vegetation_type"] == 1      # type 3 offshore


def test_detect_csv_format_from_header_alone():
    assert detect_csv_format(["DataHora", "Satelite", "Pais", "Estado", "Municipio", "Bioma", "DiaSemChuva",
                              "Precipitacao", "RiscoFogo", "FRP", "Latitude", "Longitude"]) == "inpe_web"
    assert detect_csv_format(["latitude", "longitude", "bright_ti4", "acq_date", "acq_time"]) == "firms_viirs"
    assert detect_csv_format(["id_bdq", "foco_id", "lat", "lon", "data_pas"]) == "inpe_archive"
    with pytest.raises(DataError, match="unrecognised"):
        detect_csv_format(["foo", "bar"])
    with pytest.raises(DataError, match="MODIS"):
        detect_csv_format(["latitude", "longitude", "acq_date", "acq_time", "frp"])


# ------------------------------------------------------------------ dedup and clip


def _points() -> pd.DataFrame:
    return pd.DataFrame({
        "datetime": pd.to_datetime(["2024-08-04 17:30", "2024-08-04 17:40", "2024-08-04 17:35",
                                    "2024-08-04 19:00", "2024-08-05 17:30"]),
        "lat": [-6.571, -6.574, -6.5712, -6.571, -9.0],
        "lon": [-58.851, -58.853, -58.8512, -58.851, -60.0],
        "satellite": ["NOAA-21", "AQUA_M-T", "NPP-375", "AQUA_M-T", "TERRA_M-T"],
    })


def test_dedup_reference_keeps_only_that_satellite():
    out, counts = dedup_hotspots(_points(), "reference")
    assert (out["satellite"] == "AQUA_M-T").all() and len(out) == 2
    assert counts == {"dropped_not_reference_satellite": 3}
    other, _ = dedup_hotspots(_points(), "reference", reference_satellite="TERRA_M-T")
    assert len(other) == 1


def test_dedup_place_time_merges_across_satellites():
    out, counts = dedup_hotspots(_points(), "place_time", place_decimals=2, time_window_minutes=60)
    # the three 17:xx detections near (-6.57, -58.85) are one fire; 19:00 and the far one stay
    assert len(out) == 3 and counts == {"dropped_place_time_duplicates": 2}
    assert out["datetime"].iloc[0] == pd.Timestamp("2024-08-04 17:30")  # earliest kept
    wide, _ = dedup_hotspots(_points(), "place_time", place_decimals=2, time_window_minutes=24 * 60)
    assert len(wide) == 2


def test_dedup_unknown_method_is_a_params_error():
    with pytest.raises(ParamsError, match="prepare.dedup"):
        dedup_hotspots(_points(), "nearest")


def test_clip_to_region_drops_outside_points():
    square = shapely.box(-59.0, -7.0, -58.0, -6.0)
    out, dropped = clip_to_region(_points(), square)
    assert dropped == 1 and len(out) == 4 and (out["lat"] > -7).all()
