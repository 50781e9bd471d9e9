"""The daily weather cube read one piece at a time (`load_weather_cube`, `CubeSums`, `weather_pieces`): the same
cube as the whole frame gives, whatever the pieces, the row order, the stations and the files; the same checks,
counts and row numbers as `read_weather`; and the monthly weather computed a block of cells at a time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geih.domain.grid import Grid
from geih.errors import DataError
from geih.ingest.sources.cleaning import CleaningReport
from geih.ingest.sources.tables import read_weather, weather_pieces
from geih.tasks import common, fire_risk

GRID = Grid(1.0)
IDS = np.array([10 * GRID.ncols + 10, 10 * GRID.ncols + 11, 12 * GRID.ncols + 3, 14 * GRID.ncols + 7])
VARIABLES = [*common.WEATHER_VARIABLES, "elevation_m"]


def cells() -> pd.DataFrame:
    frame = pd.DataFrame({"cell_id": IDS})
    frame["lat"], frame["lon"] = GRID.center(IDS)
    return frame


def day_major(days: int = 9, seed: int = 0) -> pd.DataFrame:
    """One row per cell and day, day after day (as the synthetic world writes it), with a station outside."""
    c = cells()
    lat = np.append(c["lat"].to_numpy(), 60.0)  # the last station lies outside the region
    lon = np.append(c["lon"].to_numpy(), -10.0)
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2021-03-01", periods=days, freq="D")
    rows = pd.DataFrame({"date": np.repeat(dates, len(lat)), "lat": np.tile(lat, days), "lon": np.tile(lon, days)})
    for var in common.WEATHER_VARIABLES:
        rows[var] = rng.random(len(rows)) * 10
    if days > 2:
        rows.loc[7, "precip_mm"] = np.nan
        rows.loc[11, "tmax_c"] = -0.0
    rows["elevation_m"] = np.tile([95.5, 380.25, 12.0, 7.1, 3.0], days)
    return rows


def assert_same_cube(a: common.WeatherCube, b: common.WeatherCube) -> None:
    assert a.dates.equals(b.dates) and a.dates.dtype == b.dates.dtype
    for var in VARIABLES:
        x, y = getattr(a, var), getattr(b, var)
        np.testing.assert_array_equal(x, y, err_msg=var)
        assert np.array_equal(np.signbit(x), np.signbit(y)), var  # -0.0 stays -0.0
        assert y.flags["C_CONTIGUOUS"]


def write_parquet(rows: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows.to_parquet(path, index=False)
    return path


@pytest.mark.parametrize("piece_rows", [1, 7, 10, 13, 10_000])
def test_the_cube_read_in_pieces_is_the_cube_of_the_whole_table(tmp_path, piece_rows):
    rows = day_major()
    write_parquet(rows, tmp_path / "weather" / "daily.parquet")
    whole = common.weather_cube(GRID, cells(), rows)
    pieces, reports = common.load_weather_cube(tmp_path / "weather", GRID, cells(), piece_rows=piece_rows)
    assert_same_cube(whole, pieces)
    assert whole.precip_mm[1, 2] == rows["precip_mm"].iloc[2 * 5 + 1]  # cell 1, day 2: exactly its row
    assert np.isnan(whole.precip_mm[2, 1])  # its only row had no rain figure
    np.testing.assert_array_equal(whole.elevation_m, [95.5, 380.25, 12.0, 7.1])
    [report] = reports
    assert report.rows_read == report.rows_kept == len(rows) and report.counts == {"nan_precip_mm_missing": 1}


def test_stations_files_repeats_and_gaps_give_the_means_of_the_whole_table(tmp_path):
    rows = day_major(days=6)
    twin = day_major(days=6, seed=1).sample(frac=1, random_state=3)  # a second station per cell, shuffled
    twin["elevation_m"] += 10.0
    late = day_major(days=12, seed=2).iloc[40:]  # a third file that runs longer, from a later day
    write_parquet(rows, tmp_path / "weather" / "a.parquet")
    write_parquet(twin, tmp_path / "weather" / "b" / "b.parquet")
    late.to_csv(tmp_path / "weather" / "c.csv", index=False)
    everything = pd.concat([rows, twin, late], ignore_index=True)
    whole = common.weather_cube(GRID, cells(), everything)
    pieces, reports = common.load_weather_cube(tmp_path / "weather", GRID, cells(), piece_rows=4)
    assert len(pieces.dates) == 12
    assert [Path(r.file).name for r in reports] == ["a.parquet", "b.parquet", "c.csv"]
    for var in VARIABLES:  # means of several rows: equal up to the order of the additions
        np.testing.assert_allclose(getattr(pieces, var), getattr(whole, var), rtol=1e-12, err_msg=var)
    one_cell_day = everything[(everything["lat"] == cells()["lat"][0]) & (everything["lon"] == cells()["lon"][0])
                              & (everything["date"] == "2021-03-02")]
    assert len(one_cell_day) == 2
    assert pieces.tmax_c[0, 1] == pytest.approx(one_cell_day["tmax_c"].mean())
    assert pieces.elevation_m[0] == pytest.approx((6 * 95.5 + 6 * 105.5 + 4 * 95.5) / 16)  # the rows disagree


def test_the_cube_refuses_tables_without_a_dated_row_or_a_row_in_the_region(tmp_path):
    rows = day_major(days=2)
    outside = rows[rows["lat"] == 60.0]
    write_parquet(outside, tmp_path / "out" / "w.parquet")
    with pytest.raises(DataError, match="no weather row falls inside the region"):
        common.load_weather_cube(tmp_path / "out", GRID, cells())
    undated = rows.assign(date=pd.NaT)
    write_parquet(undated, tmp_path / "undated" / "w.parquet")
    with pytest.raises(DataError, match="no weather row has a date"):
        common.load_weather_cube(tmp_path / "undated", GRID, cells())
    with pytest.raises(DataError, match="missing folder for weather data"):
        common.load_weather_cube(tmp_path / "nowhere", GRID, cells())


def test_pieces_are_checked_and_counted_as_the_whole_file_with_rows_numbered_in_the_file(tmp_path):
    rows = day_major(days=4)
    rows.loc[3, "lat"] = np.nan  # dropped: no key
    rows.loc[5, "precip_mm"] = -0.0002  # round-off: clipped to 0
    path = write_parquet(rows, tmp_path / "w.parquet")
    whole, whole_report = read_weather(path)
    report = CleaningReport(file=str(path), format="weather")
    pieces = list(weather_pieces(path, report, piece_rows=6))
    assert len(pieces) == 4
    pd.testing.assert_frame_equal(pd.concat(pieces, ignore_index=True), whole)
    assert (report.rows_read, report.rows_kept, report.counts) == (whole_report.rows_read, whole_report.rows_kept,
                                                                   whole_report.counts)
    dates = pd.concat(weather_pieces(path, CleaningReport(file=str(path), format="weather"), 6, dates_only=True))
    assert list(dates.columns) == ["date"] and len(dates) == len(rows)
    bad = rows.copy()
    bad.loc[[14, 16], "rhmin_pct"] = 140.0
    path = write_parquet(bad, tmp_path / "bad.parquet")
    with pytest.raises(DataError, match=r"outside 0\.\.100 in 2 row\(s\) of rows 13–18") as err:
        list(weather_pieces(path, CleaningReport(file=str(path), format="weather"), piece_rows=6))
    assert err.value.row == 15 and err.value.column == "rhmin_pct"  # Parquet rows count from 1
    with pytest.raises(DataError, match=r"in 2 row\(s\)$") as err:
        read_weather(path)
    assert err.value.row == 15


def test_a_cell_day_with_too_many_rows_is_refused(tmp_path):
    rows = day_major(days=1).iloc[:1]
    sums = common.CubeSums.spanning(len(cells()), *common.date_span(rows["date"].to_numpy()))
    sums.most_rows = common.MAX_ROWS_PER_CELL_DAY
    with pytest.raises(DataError, match="more than 65535 weather rows for one cell and day"):
        sums.add(GRID, cells(), rows)


def test_load_raw_reads_the_weather_into_the_cube_of_the_cells_it_is_given(tmp_path):
    write_parquet(day_major(), tmp_path / "weather" / "w.parquet")
    with pytest.raises(ValueError, match="pass `cells`"):
        common.load_raw(tmp_path, ["weather"], GRID)
    cube, reports = common.load_raw(tmp_path, ["weather"], GRID, cells=cells())["weather"]
    assert isinstance(cube, common.WeatherCube) and cube.precip_mm.shape == (len(IDS), 9) and len(reports) == 1


def test_by_cell_blocks_concatenates_blocks_into_the_whole():
    values = np.arange(20.0).reshape(10, 2)

    def compute(rows: slice) -> dict[str, np.ndarray]:
        return {"double": values[rows] * 2, "first": values[rows, 0]}

    for block in (1, 3, 10, 64):
        out = common.by_cell_blocks(compute, 10, block)
        np.testing.assert_array_equal(out["double"], values * 2)
        np.testing.assert_array_equal(out["first"], values[:, 0])


def test_monthly_fire_weather_a_block_of_cells_at_a_time_equals_all_cells_at_once(monkeypatch):
    rows = day_major(days=70)
    cube = common.weather_cube(GRID, cells(), rows)
    months = pd.date_range("2021-03-01", periods=2, freq="MS")
    veg = np.array([1, 2, 3, 1])
    lat = cells()["lat"].to_numpy()
    whole = fire_risk.monthly_weather(cube, months, veg, lat)
    monkeypatch.setattr(common, "CELL_BLOCK", 3)
    blocks = fire_risk.monthly_weather(cube, months, veg, lat)
    assert set(blocks) == set(whole) and whole["inpe_risk_max"].shape == (4, 2)
    for key in whole:
        np.testing.assert_array_equal(blocks[key], whole[key], err_msg=key)
