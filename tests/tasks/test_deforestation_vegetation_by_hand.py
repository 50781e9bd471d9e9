"""Deforestation's vegetation-index, rain and PRODES-year helpers worked by hand on tiny frames (cases found by
mutation testing): each pixel's anomaly against its own history by 16-day slot, the break rule, the per-cell
summaries; NDVI/EVI statistics per PRODES year; rain per PRODES year and dry season; which PRODES years the
daily weather covers; the panel years; the prepare parameters; featurize's columns."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from geih.domain.grid import Grid
from geih.tasks import deforestation

GRID = Grid(1.0)  # 31 columns
A, B, C = 5 * 31 + 7, 5 * 31 + 8, 9 * 31 + 20  # A and B side by side, C with no vegetation-index pixel
OUTSIDE = 12 * 31 + 3  # a cell of the grid that is not in the region


def cells() -> pd.DataFrame:
    """Cells as region_cells gives them: sorted by cell_id, with their centres."""
    frame = pd.DataFrame({"cell_id": np.array([A, B, C], dtype=np.int64)})
    frame["lat"], frame["lon"] = GRID.center(frame["cell_id"].to_numpy())
    return frame


def vi_rows(cell: int, dlat: float, composites: dict[str, tuple[float, float]]) -> list[tuple]:
    """Vegetation-index rows (date, lat, lon, ndvi, evi) of one pixel `dlat` degrees north of `cell`'s centre."""
    lat, lon = GRID.center(np.array([cell]))
    return [(pd.Timestamp(day), float(lat[0]) + dlat, float(lon[0]) + 0.1, ndvi, evi)
            for day, (ndvi, evi) in composites.items()]


def vi_table(rows: list[tuple]) -> pd.DataFrame:
    """The table as read_vegetation_index loads it: datetime64 dates, float columns."""
    return pd.DataFrame(rows, columns=["date", "lat", "lon", "ndvi", "evi"])


nan = np.nan

# ---------------------------------------------------------------- vegetation_anomalies


def anomaly_world() -> pd.DataFrame:
    """Four pixels over PRODES years 2018–2021 (composites in January: PRODES year = calendar year).

    16-day slots of the calendar year: 1 Jan (day 1) and 16 Jan (day 16) are slot 0, 17 Jan (day 17) slot 1.
    p1 (cell A):  NDVI slot 0 = 0.8 (0.7, 0.9 averaged), 0.6, 0.7, 0.6; slot 1 = 0.5, 0.5, 0.6, 0.5
                  EVI  slot 0 = 0.4, 0.2, 0.3, 0.1 (1 Jan 2021 missing); slot 1 = 0.3, missing, 0.5, 0.3
    p2 (cell A):  slot 0 only: NDVI 0.5, 0.5, 0.48, 0.3; EVI 0.25, 0.25, 0.25, missing
    p3 (cell B):  slot 1, from 2019: NDVI 0.5, 0.7, 0.25; EVI 0.3, 0.3, 0.2; and 2 Feb 2021 (day 33, slot 2)
                  with no earlier composite in its slot: no anomaly, it must not count as one.
    p4 (a cell outside the region): huge swings that must not reach any cell.
    Plus a composite of PRODES year 2022 (Sep 2021) beyond the last panel year: ignored.
    """
    rows = []
    rows += vi_rows(A, 0.2, {
        "2018-01-01": (0.7, 0.4), "2018-01-16": (0.9, 0.4), "2018-01-17": (0.5, 0.3),
        "2019-01-01": (0.6, 0.2), "2019-01-16": (0.6, 0.2), "2019-01-17": (0.5, nan),
        "2020-01-01": (0.7, 0.3), "2020-01-16": (0.7, 0.3), "2020-01-17": (0.6, 0.5),
        "2021-01-01": (0.6, nan), "2021-01-16": (0.6, 0.1), "2021-01-17": (0.5, 0.3),
        "2021-09-14": (-0.9, -0.9),
    })
    rows += vi_rows(A, -0.2, {"2018-01-01": (0.5, 0.25), "2019-01-01": (0.5, 0.25), "2020-01-01": (0.48, 0.25),
                              "2021-01-01": (0.3, nan)})
    rows += vi_rows(B, 0.0, {"2019-01-17": (0.5, 0.3), "2020-01-17": (0.7, 0.3), "2021-01-17": (0.25, 0.2),
                             "2021-02-02": (0.9, 0.9)})
    rows += vi_rows(OUTSIDE, 0.0, {"2018-01-01": (0.9, 0.9), "2019-01-01": (0.9, 0.9), "2020-01-01": (-0.9, -0.9),
                                   "2021-01-01": (-0.9, -0.9)})
    return vi_table(rows)


def test_vegetation_anomalies_against_each_pixels_own_history_by_hand():
    """p1 2020: NDVI slot 0 0.7 − mean(0.8, 0.6) = 0.0, slot 1 0.6 − mean(0.5, 0.5) = 0.1 → mean 0.05, low 0.0;
    spread: squared deviations 0.01 + 0.01 (slot 0) + 0 (slot 1) over (2 − 1) + (2 − 1) → sd 0.1: no break.
    p1 2021: slot 0 0.6 − 0.7 = −0.1, slot 1 0.5 − mean(0.5, 0.5, 0.6) = −1/30 → mean −1/15, low −0.1;
    sd √((0.02 + 0.02/3) / 4) ≈ 0.0816: −0.1 is not below −3 sd ≈ −0.245: no break.
    EVI p1: 2020 0.3 − mean(0.4, 0.2) = 0.0 and 0.5 − 0.3 (2019 missing) = 0.2 → 0.1;
            2021 0.1 − 0.3 = −0.2 (the missing 1 Jan is skipped) and 0.3 − mean(0.3, 0.5) = −0.1 → −0.15.
    p2 2020: NDVI 0.48 − 0.5 = −0.02, a flat history (sd 0, floored at MIN_SD 0.01): −0.02 is not below
    −0.03: no break; EVI 0.0. p2 2021: 0.3 − mean(0.5, 0.5, 0.48) = −0.58/3; sd √((2·(0.02/3)² + (0.04/3)²) / 2)
    = 0.02/√3 ≈ 0.0115: a break. EVI missing.
    p3 2020: NDVI 0.7 − 0.5 = 0.2, EVI 0.0, but one earlier year gives no spread: no break verdict (NaN).
    p3 2021: NDVI 0.25 − mean(0.5, 0.7) = −0.35, EVI 0.2 − 0.3 = −0.1; sd √((0.01 + 0.01) / (2 − 1)) ≈ 0.141:
    −0.35 is not below −3 sd ≈ −0.424: no break.
    Cell A = mean of p1 and p2 (min for the NDVI low, the share of breaks); cell B = p3; cell C has no pixel
    (NaN); p4 lies outside the region and the September 2021 composite is in PRODES year 2022."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = deforestation.vegetation_anomalies(GRID, cells(), anomaly_world(), [2020, 2021])
    assert list(out.columns) == ["cell_id", "year", "ndvi_anomaly_mean", "evi_anomaly_mean", "ndvi_anomaly_min",
                                 "ndvi_break_frac"]
    assert out.index.tolist() == list(range(6))
    assert out["cell_id"].tolist() == [A, B, C, A, B, C] and out["cell_id"].dtype == np.int64
    assert out["year"].tolist() == [2020, 2020, 2020, 2021, 2021, 2021] and out["year"].dtype == np.int64
    p2_2021 = 0.3 - (0.5 + 0.5 + 0.48) / 3
    expected = {
        "ndvi_anomaly_mean": [(0.05 - 0.02) / 2, 0.2, nan, (-1 / 15 + p2_2021) / 2, -0.35, nan],
        "evi_anomaly_mean": [(0.1 + 0.0) / 2, 0.0, nan, -0.15, -0.1, nan],
        "ndvi_anomaly_min": [-0.02, 0.2, nan, p2_2021, -0.35, nan],
        "ndvi_break_frac": [0.0, nan, nan, 0.5, 0.0, nan],
    }
    for column, values in expected.items():
        assert out[column].dtype == np.float64, column
        np.testing.assert_allclose(out[column].to_numpy(), values, atol=1e-12, err_msg=column)


def test_vegetation_anomalies_a_year_without_panel_rows_is_left_out_and_earlier_history_counts():
    """Panel years [2021] only: 2018–2020 still make the history; only 2021's rows come out."""
    out = deforestation.vegetation_anomalies(GRID, cells(), anomaly_world(), [2021])
    assert out["year"].tolist() == [2021] * 3 and out["cell_id"].tolist() == [A, B, C]
    assert out.index.tolist() == [0, 1, 2]
    np.testing.assert_allclose(out["ndvi_anomaly_min"], [0.3 - (0.5 + 0.5 + 0.48) / 3, -0.35, nan], atol=1e-12)


def test_vegetation_anomalies_break_is_strictly_more_than_three_sd_below():
    """One pixel in cell A, slot 0: history 0.25, 0.5, 0.75 (mean 0.5, squared deviations 0.125 over 2 → sd
    exactly 0.25). A 2021 value of −0.25 is exactly 3 sd below (anomaly −0.75): not a break; −0.3 is one."""
    for value, brk in ((-0.25, 0.0), (-0.3, 1.0)):
        vi = vi_table(vi_rows(A, 0.0, {"2018-01-01": (0.25, 0.5), "2019-01-01": (0.5, 0.5),
                                       "2020-01-01": (0.75, 0.5), "2021-01-01": (value, 0.5)}))
        out = deforestation.vegetation_anomalies(GRID, cells(), vi, [2020, 2021])
        row = out[(out["cell_id"] == A) & (out["year"] == 2021)].iloc[0]
        assert row["ndvi_anomaly_min"] == pytest.approx(value - 0.5)
        assert row["ndvi_break_frac"] == brk


# ---------------------------------------------------------------- vegetation_stats


def test_vegetation_stats_slope_uses_every_ndvi_composite_even_where_evi_is_missing():
    """PRODES year 2021, one pixel in cell A, four composites 16 days apart from 1 Aug 2020 (t = 0, d, 2d, 3d
    with d = 16 / 365.25 years): NDVI 0.8, 0.7, 0.7, 0.5, EVI 0.4, missing, 0.3, 0.2.
    Least squares: t − t̄ = (−1.5, −0.5, 0.5, 1.5)·d, Σ (t − t̄)·NDVI = (−1.2 − 0.35 + 0.35 + 0.75)·d = −0.45·d,
    Σ (t − t̄)² = 5·d² → slope −0.09 / d per year (all four composites, the one without EVI included).
    Means: NDVI 2.7 / 4 = 0.675, EVI 0.9 / 3 = 0.3 (its missing composite skipped); amplitude 0.8 − 0.5."""
    d = 16 / 365.25
    vi = vi_table(vi_rows(A, 0.0, {"2020-08-01": (0.8, 0.4), "2020-08-17": (0.7, nan), "2020-09-02": (0.7, 0.3),
                                   "2020-09-18": (0.5, 0.2)}))
    out = deforestation.vegetation_stats(GRID, cells(), vi, [2021])
    assert out["cell_id"].tolist() == [A] and out["year"].tolist() == [2021]
    row = out.iloc[0]
    assert row["ndvi_slope"] == pytest.approx(-0.09 / d, rel=1e-9)
    assert row["ndvi_mean"] == pytest.approx(0.675) and row["evi_mean"] == pytest.approx(0.3)
    assert row["ndvi_min"] == 0.5 and row["evi_min"] == 0.2 and row["ndvi_amplitude"] == pytest.approx(0.3)


def test_vegetation_stats_a_year_whose_composites_share_one_day_has_no_slope():
    """Cell B's two pixels each have a single composite in PRODES year 2021, both on 1 Jan 2021: no spread in
    time, so no slope (NaN), whatever rounding leaves in the sums; the mean is (0.1 + 0.2) / 2."""
    vi = vi_table(vi_rows(B, 0.2, {"2021-01-01": (0.1, 0.1)}) + vi_rows(B, -0.2, {"2021-01-01": (0.2, 0.1)}))
    out = deforestation.vegetation_stats(GRID, cells(), vi, [2021])
    assert out["cell_id"].tolist() == [B]
    assert np.isnan(out["ndvi_slope"].iloc[0]) and out["ndvi_mean"].iloc[0] == pytest.approx(0.15)


# ---------------------------------------------------------------- prodes_years_covered and panel_years


def test_prodes_years_covered_by_a_single_day_is_none():
    assert deforestation.prodes_years_covered(pd.DatetimeIndex(["2020-01-01"])) == []
    assert deforestation.prodes_years_covered(pd.date_range("2019-12-31", "2021-07-31")) == [2021]
    assert deforestation.prodes_years_covered(pd.date_range("2019-08-01", "2021-01-01")) == [2020]


def test_panel_years_with_fewer_than_two_years_names_both_sources_coverage(tmp_path):
    from geih.errors import DataError

    with pytest.raises(DataError) as err:
        deforestation.panel_years([2017, 2018, 2020], [2020, 2021, 2023], tmp_path)
    assert str(err.value) == (
        f"file {tmp_path / 'deforestation'}: weather covers PRODES years 2017..2018, 2020 and PRODES polygons 2020..2021, 2023: deforestation needs "
        "at least two PRODES years (1 Aug – 31 Jul) covered by both")
    assert err.value.file == str(tmp_path / "deforestation")
