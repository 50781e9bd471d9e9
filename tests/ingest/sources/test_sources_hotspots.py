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
    ("inpe_annual_2010.csv", "inpe_annual", 4), ("inpe_annual_2024.csv", "inpe_annual", 4),
    ("inpe_open_data.csv", "inpe_open_data", 5), ("inpe_open_data_ams.csv", "inpe_open_data", 4),
    ("firms_viirs_modis_names.csv", "firms_viirs", 4), ("inpe_current_semicolon.csv", "inpe_current", 3),
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


# ------------------------------------------------------------------ the remaining published layouts


def test_annual_all_satellites_older_year_leaves_weather_and_frp_empty():
    df, report = read_hotspots(HOT / "inpe_annual_2010.csv")   # '  -25.990000 ,' padded on both sides
    assert df["lat"].iloc[0] == -25.99 and df["lon"].iloc[0] == -50.58
    assert df["satellite"].tolist() == ["AQUA_M-T", "NOAA-15D", "GOES-12", "ATSR"]   # kept as published
    assert df[["frp", "days_without_rain", "precipitation", "fire_risk"]].isna().all().all()
    assert df["state"].tolist() == ["PR", "MT", "PA", "TO"]    # 'PARANÁ', upper case with accents
    assert report.counts == {} and report.period == ("2010-08-14 13:30:00", "2010-08-15 22:15:00")


def test_annual_all_satellites_recent_year_floats_sentinels_goes_and_industrial_areas():
    df, report = read_hotspots(HOT / "inpe_annual_2024.csv")
    assert report.counts == {"dropped_duplicate_rows": 1, "dropped_industrial_area": 1,
                             "nan_days_without_rain_minus999": 1, "nan_precipitation_minus999": 1,
                             "nan_fire_risk_minus999": 1, "nan_frp_negative": 1}
    assert "SÃO LUÍS" not in df.to_string() and len(df) == 4        # the industrial-area row is gone
    assert df["days_without_rain"].tolist()[::2] == [24.0, 7.0] and df["days_without_rain"].max() == 131
    goes = df[df["satellite"] == "GOES-16"].iloc[0]
    assert np.isnan(goes["frp"]) and goes["fire_risk"] == 1.0      # GOES rows: empty FRP
    assert np.isnan(df["precipitation"].iloc[1])                    # '-999.0' is INPE's marker too


def test_open_data_coordinates_from_columns_and_geom_only_cross_checked():
    df, report = read_hotspots(HOT / "inpe_open_data.csv")          # CRLF, longitude before latitude
    assert df["lat"].iloc[0] == -6.57597 and df["lon"].iloc[0] == -58.85257
    assert df["datetime"].iloc[0] == pd.Timestamp("2021-07-13 16:10:00")   # ISO 'T'
    # geom 'POINT (lat lon)': swapped axes counted, never used; a geom of another point counted too
    assert report.counts["geom_axes_swapped"] == 2 and report.counts["geom_disagrees"] == 1
    assert df["lat"].iloc[3] == -8.76                               # the columns win over the geom
    assert any("axes swapped" in n for n in report.notes) and any("another point" in n for n in report.notes)
    assert df["frp"].isna().all() and df["state"].tolist() == ["AM", "PA", "MT", "RO", "TO"]
    assert np.isnan(df["days_without_rain"].iloc[1]) and report.counts["nan_fire_risk_minus999"] == 1


def test_open_data_south_america_several_countries():
    df, report = read_hotspots(HOT / "inpe_open_data_ams.csv")       # no id column, no final newline
    assert len(df) == 4 and report.counts == {"geom_axes_swapped": 4}
    assert df["state"].isna().tolist() == [True, True, True, False] and df["state"].iloc[3] == "AC"


def test_open_data_unreadable_geom_is_counted(tmp_path):
    lines = (HOT / "inpe_open_data_ams.csv").read_text().splitlines()
    lines[1] = lines[1].replace("POINT (-17.8 -63.18)", '"LINESTRING (0 0, 1 1)"')
    (tmp_path / "f.csv").write_text("\n".join(lines) + "\n")
    df, report = read_hotspots(tmp_path / "f.csv")
    assert len(df) == 4 and report.counts == {"geom_axes_swapped": 3, "geom_unreadable": 1}


def test_firms_instrument_column_beats_the_header():
    df, report = read_hotspots(HOT / "firms_viirs_modis_names.csv")  # brightness/bright_t31, instrument VIIRS
    assert report.format == "firms_viirs" and (df["source_format"] == "firms_viirs").all()
    assert df["satellite"].tolist() == ["NPP-375", "NOAA-20", "NPP-375", "NPP-375"]
    assert df["confidence"].iloc[:3].tolist() == ["nominal", "high", "low"]
    assert pd.isna(df["confidence"].iloc[3]) and report.counts == {"nan_confidence_invalid": 1}  # '85': MODIS scale
    assert any("instrument column says VIIRS" in n for n in report.notes)


def test_firms_mixed_instruments_are_read_row_by_row(tmp_path):
    lines = (HOT / "firms_modis.csv").read_text().splitlines()
    lines.append("-9.6,-56.9,330.0,0.4,0.4,2021-08-16,1700,N20,VIIRS,h,2,290.0,12.0,D,0")
    (tmp_path / "mixed.csv").write_text("\n".join(lines) + "\n")
    df, report = read_hotspots(tmp_path / "mixed.csv")
    assert report.format == "firms_modis+firms_viirs"
    assert df["source_format"].tolist() == ["firms_modis"] * 5 + ["firms_viirs"]
    assert df["satellite"].iloc[-1] == "NOAA-20" and df["confidence"].iloc[-1] == "high"


def test_firms_unknown_instrument_or_satellite_of_another_instrument(tmp_path):
    lines = (HOT / "firms_viirs_modis_names.csv").read_text().splitlines()
    (tmp_path / "oli.csv").write_text("\n".join([lines[0], lines[1], lines[2].replace("VIIRS", "OLI")]) + "\n")
    with pytest.raises(DataError, match="unknown FIRMS instrument 'OLI'") as err:
        read_hotspots(tmp_path / "oli.csv")
    assert (err.value.row, err.value.column) == (3, "instrument")
    (tmp_path / "sat.csv").write_text("\n".join([lines[0], lines[1], lines[2].replace(",1,VIIRS", ",Aqua,VIIRS")]) + "\n")
    with pytest.raises(DataError, match="unknown FIRMS VIIRS satellite 'Aqua'") as err:
        read_hotspots(tmp_path / "sat.csv")
    assert (err.value.row, err.value.column) == (3, "satellite")


def test_semicolons_decimal_commas_latin1_and_crlf_are_read_and_noted():
    df, report = read_hotspots(HOT / "inpe_current_semicolon.csv")
    assert df["lat"].tolist() == [-6.57597, -3.20451, -12.54321] and df["frp"].iloc[0] == 12.5
    assert df["frp"].iloc[1] == 1234.5                              # '1.234,5': thousands dot
    assert report.encoding == "latin-1" and report.counts == {"nan_frp_minus999": 1}
    assert any("separator ';'" in n and "decimal commas" in n for n in report.notes)
    reference, _ = read_hotspots(HOT / "inpe_current.csv")
    assert df["state"].tolist() == reference["state"].tolist()[:3]


def test_detect_the_new_layouts_from_their_headers():
    annual = ["latitude", "longitude", "data_pas", "satelite", "pais", "estado", "municipio", "bioma",
              "numero_dias_sem_chuva", "precipitacao", "risco_fogo", "id_area_industrial", "frp"]
    assert detect_csv_format(annual) == "inpe_annual"
    assert detect_csv_format(["FID", "longitude", "latitude", "data_hora_gmt", "satelite", "geom"]) == "inpe_open_data"
    assert detect_csv_format(["id", "lat", "lon", "data_hora_gmt", "satelite"]) == "inpe_current"
