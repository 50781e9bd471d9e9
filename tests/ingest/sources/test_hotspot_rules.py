"""Each hotspot cleaning rule on a small hand-written array or table, and both parsing strategies of
the hotspot loader applying them alike."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import shapely

from geih.errors import DataError
from geih.ingest.sources import hotspot_rules as rules
from geih.ingest.sources import hotspots as hot
from geih.ingest.sources import tabular as tab
from geih.ingest.sources.cleaning import CleaningReport

NAN = np.nan


# ---------------------------------------------------------------- row rules


def test_exact_duplicates_within_a_file_only():
    table = pa.table({"lat": ["-6.5", "-6.5", "-6.5", "-6.5", "-7.0"],
                      "lon": ["-58.1", "-58.1", "-58.1", "-58.1", "-58.1"],
                      "sat": ["A", "A", "B", "A", "A"]})
    lat = np.array([-6.5, -6.5, -6.5, -6.5, -7.0])
    lon = np.full(5, -58.1)
    one_file = rules.exact_duplicates(table, lat, lon, np.zeros(5, dtype=np.int64))
    assert one_file.tolist() == [False, True, False, True, False]  # row 2 differs in 'sat'
    two_files = rules.exact_duplicates(table, lat, lon, np.array([0, 0, 0, 1, 1]))
    assert two_files.tolist() == [False, True, False, False, False]  # row 3 is the first of file 1


def test_missing_datetime_invalid_lat_lon_satellite_and_type():
    dt = np.array(["2024-01-01T00:00", "NaT"], dtype="datetime64[ns]")
    assert rules.missing_datetime(dt).tolist() == [False, True]
    lat = np.array([-6.0, -999.0, NAN, 90.0, 91.0, -6.0, -6.0])
    lon = np.array([-58.0, -58.0, -58.0, 180.0, -58.0, -180.5, NAN])
    assert rules.invalid_lat_lon(lat, lon).tolist() == [False, True, True, False, True, True, True]
    assert rules.missing_satellite(np.array(["AQUA_M-T", "", "NOAA-20"], dtype=object)).tolist() == [
        False, True, False]
    assert rules.non_vegetation_type(np.array([0.0, 1.0, 2.0, 3.0, NAN])).tolist() == [
        False, True, True, True, False]


# ---------------------------------------------------------------- value rules


def test_invalid_marker_and_negative_frp():
    values = np.array([-999.0, 0.0, -998.9, NAN, 12.5])
    assert rules.invalid_marker(values).tolist() == [True, False, False, False, False]
    assert rules.negative_frp(np.array([-0.1, 0.0, NAN, 3.0])).tolist() == [True, False, False, False]


# ---------------------------------------------------------------- file rule


def test_swapped_sample():
    assert rules.swapped_sample(np.array([-6.5, -3.2]), np.array([-58.8, -52.2])) is None
    assert rules.swapped_sample(np.array([-58.8, -52.2, -6.0]), np.array([-6.5, -3.2, -55.0])) == (-58.8, -6.5)
    assert rules.swapped_sample(np.array([120.0, 130.0]), np.array([10.0, 20.0])) == (120.0, 10.0)  # |lat| > 90
    # -999 and missing values are left out of the vote; nothing left -> no verdict
    assert rules.swapped_sample(np.array([-999.0, NAN]), np.array([-6.5, -3.2])) is None
    assert rules.swapped_sample(np.array([-999.0, -58.8]), np.array([-999.0, -6.5])) == (-58.8, -6.5)


# ---------------------------------------------------------------- frame rules


def test_clip_to_region_drops_points_on_and_outside_the_boundary():
    df = pd.DataFrame({"lat": [-6.0, -6.5, -8.0], "lon": [-58.5, -58.5, -58.5]})
    out, dropped = rules.clip_to_region(df, shapely.box(-59.0, -7.0, -58.0, -6.0))
    assert dropped == 2 and out["lat"].tolist() == [-6.5]
    assert list(out.columns) == ["lat", "lon"] and out.index.tolist() == [0]  # the same columns, a fresh index


def test_dedup_place_time_keeps_the_earliest_across_satellites():
    df = pd.DataFrame({"datetime": pd.to_datetime(["2024-08-04 17:40", "2024-08-04 17:30", "2024-08-04 18:10"]),
                       "lat": [-6.571, -6.574, -6.571], "lon": [-58.851, -58.853, -58.851],
                       "satellite": ["NOAA-21", "AQUA_M-T", "NPP-375"]})
    out, counts = rules.dedup_hotspots(df, "place_time")
    assert counts == {"dropped_place_time_duplicates": 1}
    assert out["satellite"].tolist() == ["AQUA_M-T", "NPP-375"]  # input order kept; 18:10 is another hour
    assert list(out.columns) == list(df.columns) and out.index.tolist() == [0, 1]  # no column added


def test_truncated_last_line_rule(tmp_path):
    path = tmp_path / "cut.csv"
    path.write_text("a,b,c\n1,2,3\n4,5")
    report = CleaningReport(file=str(path), format="x")
    table, _ = tab.read_csv_table(path, report, as_strings=True)
    assert table.num_rows == 1 and report.counts == {"dropped_truncated_rows": 1} and report.rows_read == 2


# ---------------------------------------------------------------- both strategies apply the same rules


HEADER = ["id", "lat", "lon", "data_hora_gmt", "satelite", "municipio", "estado", "pais", "municipio_id",
          "estado_id", "pais_id", "numero_dias_sem_chuva", "precipitacao", "risco_fogo", "bioma", "frp"]


def _row(**change) -> dict:
    row = dict(zip(HEADER, ["a1", "  -6.5", " -58.8", "2024-08-04 17:30:00", "NOAA-21", "MAUÉS", "AMAZONAS",
                            "Brasil", "1302900", "13", "33", "24", "0.0", "0.8", "Amazônia", "12.5"]))
    row.update(change)
    return row


ROWS = [
    _row(),
    _row(),                                               # exact duplicate
    _row(id="a3", data_hora_gmt=""),                      # missing datetime
    _row(id="a4", lat="-999"),                            # invalid lat/lon
    _row(id="a5", satelite=" "),                          # missing satellite
    _row(id="a6", frp="-999", risco_fogo="-999"),         # invalid markers blanked
    _row(id="a7", frp="-3.2"),                            # negative FRP blanked
    _row(id="a8", estado="SANTA CRUZ", estado_id="", pais="Bolivia"),  # no Brazilian state
]


def _table(rows: list[dict]) -> pa.Table:
    return pa.table({name: pa.array([r[name] for r in rows], type=pa.string()) for name in HEADER})


def _both(rows: list[dict]):
    table = _table(rows)
    fields = hot._resolve_fields("inpe_current", set(HEADER), "f.csv")
    sizes = np.array([len(rows)])
    strict = hot._clean(table, "inpe_current", fields, sizes, hot._Strict())
    careful = hot._clean(table, "inpe_current", fields, sizes, hot._Careful("f.csv", tab.RowNumbers()))
    return strict, careful


def test_strict_and_careful_strategies_give_the_same_frame_and_counts():
    (frame, counts, kept), (frame_c, counts_c, kept_c) = _both(ROWS)
    pd.testing.assert_frame_equal(frame, frame_c, check_exact=True)
    assert {k: v.tolist() for k, v in counts.items()} == {k: v.tolist() for k, v in counts_c.items()}
    assert kept.tolist() == kept_c.tolist() == [4]
    nonzero = {k: int(v[0]) for k, v in counts.items() if v[0]}
    assert nonzero == {"dropped_duplicate_rows": 1, "dropped_missing_datetime": 1, "dropped_invalid_lat_lon": 1,
                       "dropped_missing_satellite": 1, "nan_frp_minus999": 1, "nan_fire_risk_minus999": 1,
                       "nan_frp_negative": 1}
    assert frame["state"].tolist()[:3] == ["AM", "AM", "AM"] and pd.isna(frame["state"].iloc[3])
    assert np.isnan(frame["frp"].iloc[1:3]).all() and frame["frp"].iloc[0] == 12.5


def test_strict_strategy_declines_what_the_careful_one_parses():
    rows = [_row(), _row(id="a2", frp=" NA "), _row(id="a3", data_hora_gmt="2024-08-04 17:30")]
    with pytest.raises(hot._NotPlain):
        _both(rows)
    table = _table(rows)
    fields = hot._resolve_fields("inpe_current", set(HEADER), "f.csv")
    frame, counts, kept = hot._clean(table, "inpe_current", fields, np.array([3]),
                                     hot._Careful("f.csv", tab.RowNumbers()))
    assert kept.tolist() == [3] and np.isnan(frame["frp"].iloc[1])
    assert frame["datetime"].iloc[2] == pd.Timestamp("2024-08-04 17:30:00")


def test_careful_strategy_names_the_row_of_a_bad_value():
    rows = [_row(), _row(id="a2", precipitacao="dry")]
    fields = hot._resolve_fields("inpe_current", set(HEADER), "f.csv")
    with pytest.raises(DataError, match="not a number: 'dry'") as err:
        hot._clean(_table(rows), "inpe_current", fields, np.array([2]), hot._Careful("f.csv", tab.RowNumbers()))
    assert err.value.row == 3 and err.value.column == "precipitacao"


@pytest.mark.parametrize("text, minutes", [("45", 45), ("0045", 45), ("130", 90), ("1:30", 90), (" 2359 ", 1439),
                                           ("", -1), ("  ", -1), ("2400", None), ("1260", None), ("-5", None),
                                           ("12345", None), ("1a", None)])
def test_firms_time_text(text, minutes):
    assert hot._hhmm_minutes(text) == minutes


@pytest.mark.parametrize("text, word", [("h", "high"), (" NOMINAL ", "nominal"), ("0", "low"), ("29.9", "low"),
                                        ("30", "nominal"), ("80", "high"), ("100", "high"), ("100.5", None),
                                        ("-1", None), ("", None), ("x", None)])
def test_confidence_word(text, word):
    assert hot._confidence_word(text) == word


def test_source_modules_use_no_private_name_of_another_module():
    package = Path(hot.__file__).parent
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("geih"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private and not node.module.split(".")[-1].startswith("_"), (path.name, node.module)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in (
                    "tab", "rules", "hot") and node.attr.startswith("_"):
                pytest.fail(f"{path.name} uses {node.value.id}.{node.attr}")
