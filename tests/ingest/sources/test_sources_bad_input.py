"""Bad hotspot CSVs: each gives a DataError naming file/row/column, or a counted cleaning."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from geih.errors import DataError
from geih.ingest.sources.hotspots import read_hotspots

HEADER = ("id,lat,lon,data_hora_gmt,satelite,municipio,estado,pais,municipio_id,estado_id,pais_id,"
          "numero_dias_sem_chuva,precipitacao,risco_fogo,bioma,frp")
ROWS = [
    "a1,  -6.575970, -58.852570,2024-08-04 17:30:00,NOAA-21,MAUÉS,AMAZONAS,Brasil,1302900,13,33,24,0.0,0.8,Amazônia,12.5",
    "a2,  -3.204510, -52.210330,2024-08-04 17:35:00,AQUA_M-T,ALTAMIRA,PARÁ,Brasil,1500602,15,33,3,0.0,0.5,Amazônia,4.0",
    "a3, -12.543210, -55.721000,2024-08-05 04:10:00,TERRA_M-M,SORRISO,MATO GROSSO,Brasil,5107925,51,33,9,0.0,1.0,Amazônia,7.0",
]


def _write(tmp_path: Path, lines: list[str], name: str = "focos.csv", encoding: str = "utf-8",
           end: str = "\n") -> Path:
    path = tmp_path / name
    path.write_bytes(("\n".join(lines) + end).encode(encoding))
    return path


def test_wrong_delimiter(tmp_path):
    path = _write(tmp_path, [HEADER.replace(",", "|"), ROWS[0].replace(",", "|")])
    with pytest.raises(DataError, match="wrong delimiter '\\|'") as err:
        read_hotspots(path)
    assert err.value.file == str(path) and err.value.row == 1


def test_missing_required_column(tmp_path):
    header = HEADER.replace("id,lat,", "id,")
    rows = [r.split(",", 2)[0] + "," + r.split(",", 2)[2] for r in ROWS]
    path = _write(tmp_path, [header, *rows])
    with pytest.raises(DataError, match="missing required column 'lat'") as err:
        read_hotspots(path)
    assert err.value.column == "lat" and err.value.file == str(path)


def test_unparseable_date_names_the_row(tmp_path):
    bad = ROWS[1].replace("2024-08-04 17:35:00", "04/08/2024 17h35")
    path = _write(tmp_path, [HEADER, ROWS[0], bad, ROWS[2]])
    with pytest.raises(DataError, match="cannot parse date") as err:
        read_hotspots(path)
    assert err.value.row == 3 and err.value.column == "data_hora_gmt"
    assert "row 3" in str(err.value) and str(path) in str(err.value)


def test_row_numbers_stay_true_after_a_dropped_truncated_row(tmp_path):
    bad = ROWS[2].replace("2024-08-05 04:10:00", "not a date")
    path = _write(tmp_path, [HEADER, ROWS[0], "a9,  -1.0", ROWS[1], bad])
    with pytest.raises(DataError) as err:
        read_hotspots(path)
    assert err.value.row == 5


def test_swapped_lat_lon_columns_rejected(tmp_path):
    swapped = []
    for r in ROWS:
        f = r.split(",")
        f[1], f[2] = f[2], f[1]
        swapped.append(",".join(f))
    path = _write(tmp_path, [HEADER, *swapped])
    with pytest.raises(DataError, match="swapped") as err:
        read_hotspots(path)
    assert err.value.column == "lat"


def test_impossible_latitudes_rejected_as_swapped(tmp_path):
    path = _write(tmp_path, [
        "latitude,longitude,bright_ti4,scan,track,acq_date,acq_time,satellite,confidence,version,bright_ti5,frp,daynight",
        "120.5,-8.1,335.2,0.39,0.36,2024-09-01,0048,N,n,2.0NRT,290.1,5.2,N",
        "130.0,-8.2,335.2,0.39,0.36,2024-09-01,0048,N,n,2.0NRT,290.1,5.2,N",
    ])
    with pytest.raises(DataError, match="swapped"):
        read_hotspots(path)


def test_single_out_of_range_row_dropped_and_counted(tmp_path):
    bad = ROWS[1].replace("  -3.204510", "  -93.204510")
    missing = ROWS[2].replace(" -12.543210", "-999")
    path = _write(tmp_path, [HEADER, ROWS[0], bad, missing])
    df, report = read_hotspots(path)
    assert len(df) == 1 and report.counts["dropped_invalid_lat_lon"] == 2
    assert report.rows_read == 3 and report.rows_kept == 1


def test_non_numeric_coordinate_names_row_and_column(tmp_path):
    path = _write(tmp_path, [HEADER, ROWS[0], ROWS[1].replace("  -3.204510", "  -3,2")])
    # '-3,2' splits into two fields: too many fields for the header
    with pytest.raises(DataError, match="fields") as err:
        read_hotspots(path)
    assert err.value.row == 3
    path = _write(tmp_path, [HEADER, ROWS[0], ROWS[1].replace("  -3.204510", "  S3.2")])
    with pytest.raises(DataError, match="not a number") as err:
        read_hotspots(path)
    assert err.value.row == 3 and err.value.column == "lat"


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(DataError, match="empty") as err:
        read_hotspots(path)
    assert err.value.file == str(path)


def test_latin1_file_is_decoded_and_noted(tmp_path):
    path = _write(tmp_path, [HEADER, *ROWS], encoding="latin-1")
    assert b"PAR\xc1" in path.read_bytes()
    df, report = read_hotspots(path)
    assert report.encoding == "latin-1" and any("Latin-1" in n for n in report.notes)
    assert df["state"].tolist() == ["AM", "PA", "MT"]
    utf8, report8 = read_hotspots(_write(tmp_path, [HEADER, *ROWS], name="utf8.csv"))
    assert report8.encoding == "utf-8" and report8.notes == []


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_latin1_truncated_row_with_an_accent_is_dropped_without_an_unraisable_error(tmp_path):
    """pyarrow decodes an invalid row's text as UTF-8 before its callback sees it: a Latin-1 file read as
    UTF-8 (its header is plain ASCII) raised inside pyarrow, which could only print it. The encoding is
    now known before pyarrow reads."""
    truncated = ROWS[1].rsplit(",", 3)[0]  # ends in ",Amazônia" → fields missing, an accent in the row
    path = _write(tmp_path, [HEADER, ROWS[0], truncated, ROWS[2]], encoding="latin-1")
    df, report = read_hotspots(path)
    assert report.encoding == "latin-1" and report.counts.get("dropped_truncated_rows") == 1
    assert df["state"].tolist() == ["AM", "MT"]


def test_utf8_throughout_reads_in_blocks_and_sees_a_late_latin1_byte(tmp_path):
    from geih.ingest.sources.tabular import utf8_throughout

    path = tmp_path / "late.csv"
    path.write_bytes(("Amazônia," * 10).encode() + b"PAR\xc1")
    assert not utf8_throughout(path, block_bytes=7)
    path.write_bytes(("Amazônia," * 10).encode())  # "ô" split across blocks of 7 bytes is still UTF-8
    assert utf8_throughout(path, block_bytes=7)
    with pytest.raises(DataError, match="cannot read file") as err:
        utf8_throughout(tmp_path / "missing.csv")
    assert err.value.file == str(tmp_path / "missing.csv")


def test_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + ("\n".join([HEADER, *ROWS]) + "\n").encode())
    df, report = read_hotspots(path)
    assert len(df) == 3 and report.format == "inpe_current"


def test_truncated_last_line_dropped_and_counted(tmp_path):
    cut = ROWS[2][:40]
    path = _write(tmp_path, [HEADER, ROWS[0], ROWS[1], cut], end="")
    df, report = read_hotspots(path)
    assert len(df) == 2 and report.counts["dropped_truncated_rows"] == 1
    assert report.rows_read == 3 and any("row 4" in n for n in report.notes)


def test_header_only_file_is_valid_and_noted(tmp_path):
    path = _write(tmp_path, [HEADER])
    df, report = read_hotspots(path)
    assert len(df) == 0 and report.rows_read == 0
    assert "datetime" in df.columns and any("header only" in n for n in report.notes)


def test_firms_impossible_time_and_unknown_satellite(tmp_path):
    head = "latitude,longitude,brightness,scan,track,acq_date,acq_time,satellite,confidence,version,bright_t31,frp,daynight"
    ok = "-9.1,-56.4,320.5,1.0,1.0,2021-08-15,45,Aqua,85,6.1,300.1,25.3,N"
    path = _write(tmp_path, [head, ok, ok.replace(",45,", ",2561,")])
    with pytest.raises(DataError, match="time") as err:
        read_hotspots(path)
    assert err.value.row == 3 and err.value.column == "acq_time"
    path = _write(tmp_path, [head, ok, ok.replace("Aqua", "Sentinel")], name="sat.csv")
    with pytest.raises(DataError, match="satellite") as err:
        read_hotspots(path)
    assert err.value.row == 3 and err.value.column == "satellite"


def test_invalid_confidence_blanked_and_counted(tmp_path):
    head = "latitude,longitude,bright_ti4,scan,track,acq_date,acq_time,satellite,confidence,version,bright_ti5,frp,daynight"
    row = "-8.1,-62.5,335.2,0.39,0.36,2024-09-01,0048,N,{},2.0NRT,290.1,5.2,N"
    path = _write(tmp_path, [head, row.format("n"), row.format("x"), row.format(""), row.format("150")])
    df, report = read_hotspots(path)
    assert df["confidence"].iloc[0] == "nominal" and df["confidence"].iloc[1:].isna().all()
    assert report.counts["nan_confidence_invalid"] == 2  # 'x' and 150; the empty one is just missing


def test_missing_date_dropped_and_counted(tmp_path):
    path = _write(tmp_path, [HEADER, ROWS[0], ROWS[1].replace("2024-08-04 17:35:00", "")])
    df, report = read_hotspots(path)
    assert len(df) == 1 and report.counts["dropped_missing_datetime"] == 1
    assert not np.isnat(df["datetime"].to_numpy()).any()


def test_windows_line_endings_and_quoted_fields(tmp_path):
    quoted = ROWS[0].replace("MAUÉS", '"MAUÉS, AM"')
    path = tmp_path / "crlf.csv"
    path.write_bytes(("\r\n".join([HEADER, quoted, ROWS[1]]) + "\r\n").encode())
    df, report = read_hotspots(path)
    assert len(df) == 2 and report.counts == {}
    assert df["frp"].tolist() == [12.5, 4.0]
