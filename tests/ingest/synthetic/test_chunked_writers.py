"""acquire writes the daily weather in chunks (never the whole table in memory): the chunks are the table,
and the chunked Parquet writer gives the same bytes as the one-frame writer."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from geih.ingest.synthetic import formats
from geih.ingest.synthetic.weather import Weather, weather_table_chunks

N_CELLS, N_BURN, N_SPAN = 5, 3, 7


def small_weather() -> tuple[pd.DataFrame, Weather]:
    """5 cells × (3 burn-in + 7 span) days of distinct values (rounding to 0.1 is visible)."""
    rng = np.random.default_rng(1)
    shape = (N_CELLS, N_BURN + N_SPAN)

    def field(scale: float) -> np.ndarray:
        return (rng.random(shape) * scale).astype(np.float32)

    cells = pd.DataFrame({"lat": -5.0 - np.arange(N_CELLS), "lon": -60.0 + 0.5 * np.arange(N_CELLS)})
    zeros = np.zeros(shape, dtype=np.float32)
    weather = Weather(dates=pd.date_range("2020-01-01", periods=shape[1], freq="D"), n_burn=N_BURN,
                      precip=field(30), tmax=field(40), rhmin=field(100), wind=field(10),
                      dsr=np.zeros(shape, dtype=np.int16), tmax_clim=zeros, rh_clim=zeros, dry_phase=zeros,
                      seasonality=np.ones(N_CELLS, dtype=np.float32),
                      elevation=(rng.random(N_CELLS) * 300).astype(np.float32))
    return cells, weather


def weather_table(cells: pd.DataFrame, weather: Weather) -> pd.DataFrame:
    """The whole table: one chunk larger than it."""
    (table,) = weather_table_chunks(cells, weather, 10**9)
    return table


def test_the_whole_table_is_ordered_by_date_then_cell_over_the_span_only():
    cells, weather = small_weather()
    table = weather_table(cells, weather)
    assert len(table) == N_CELLS * N_SPAN
    assert (table["date"].iloc[:N_CELLS] == weather.dates[N_BURN]).all()
    assert table["lat"].tolist() == cells["lat"].tolist() * N_SPAN
    day2_cell3 = table.iloc[2 * N_CELLS + 3]
    assert day2_cell3["date"] == weather.dates[N_BURN + 2]
    assert day2_cell3["precip_mm"] == np.float32(np.round(weather.precip[3, N_BURN + 2], 1))
    assert day2_cell3["elevation_m"] == np.float32(np.round(weather.elevation[3], 0))
    assert table["wind_ms"].dtype == np.float32
    # every row, by hand: row i is day i // N_CELLS of the span, cell i % N_CELLS
    day, cell = np.divmod(np.arange(len(table)), N_CELLS)
    for column, field in (("precip_mm", weather.precip), ("tmax_c", weather.tmax), ("rhmin_pct", weather.rhmin),
                          ("wind_ms", weather.wind)):
        expected = np.round(field[cell, N_BURN + day], 1).astype(np.float32)
        np.testing.assert_array_equal(table[column].to_numpy(), expected, err_msg=column)
    np.testing.assert_array_equal(table["date"].to_numpy(), weather.dates[N_BURN + day].to_numpy())


@pytest.mark.parametrize("rows_per_chunk", [1, 3, N_CELLS, N_CELLS + 1, 2 * N_CELLS - 1, 34, 35, 1000])
def test_chunks_concatenate_to_the_table_whatever_their_size(rows_per_chunk: int):
    cells, weather = small_weather()
    chunks = list(weather_table_chunks(cells, weather, rows_per_chunk))
    assert [len(c) for c in chunks[:-1]] == [rows_per_chunk] * (len(chunks) - 1)
    assert 0 < len(chunks[-1]) <= rows_per_chunk
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), weather_table(cells, weather))


def test_a_chunk_size_below_one_is_refused():
    cells, weather = small_weather()
    with pytest.raises(ValueError, match="rows_per_chunk must be ≥ 1, got 0"):
        next(weather_table_chunks(cells, weather, 0))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_chunks_of_whole_row_groups_give_the_one_frame_bytes(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(formats, "PARQUET_ROW_GROUP", 10)
    cells, weather = small_weather()
    types = {"date": pa.timestamp("ms")}
    formats.write_parquet(tmp_path / "whole.parquet", weather_table(cells, weather), types)
    formats.write_parquet_chunks(tmp_path / "chunked.parquet", weather_table_chunks(cells, weather, 20), types)
    assert digest(tmp_path / "chunked.parquet") == digest(tmp_path / "whole.parquet")
    meta = pq.ParquetFile(tmp_path / "chunked.parquet").metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [10, 10, 10, 5]
    # other sizes: the same rows, smaller row groups at the chunk ends
    formats.write_parquet_chunks(tmp_path / "odd.parquet", weather_table_chunks(cells, weather, 12), types)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "odd.parquet"), pd.read_parquet(tmp_path / "whole.parquet"))
    assert pq.ParquetFile(tmp_path / "odd.parquet").metadata.num_row_groups == 6
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_failing_chunk_leaves_no_file_and_no_temporary(tmp_path: Path):
    cells, weather = small_weather()

    def chunks():
        yield from weather_table_chunks(cells, weather, 10)
        raise RuntimeError("generator failed")

    out = tmp_path / "weather.parquet"
    with pytest.raises(RuntimeError, match="generator failed"):
        formats.write_parquet_chunks(out, chunks())
    assert list(tmp_path.iterdir()) == []


def test_no_chunks_is_an_error_naming_the_file(tmp_path: Path):
    with pytest.raises(ValueError, match="no chunks to write to .*empty.parquet"):
        formats.write_parquet_chunks(tmp_path / "empty.parquet", [])
    assert list(tmp_path.iterdir()) == []
