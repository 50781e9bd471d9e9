"""Deforestation features and the official comparison worked by hand on tiny frames shaped like the ones
prepare hands them (cases found by mutation testing): the land-cover context (add_context), the distances
to the deforestation front (front_distance) and to last year's PRODES polygons (recent_clearing_distance),
and the rounding of the report against the official increments (compare_with_official).

Distances are along one meridian (lon −54.5, the centre column 19 of the 1° grid), so they are meridian
arcs: about 110.66 km per degree near 16.5°S (111132.95 − 559.85·cos 2φ m); more than 2000 km is the cap."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from geih.domain.grid import Grid
from geih.tasks import deforestation

GRID = Grid(1.0)
SOUTH = 22 * GRID.ncols + 19  # centre (−17.0, −54.5)
NORTH = 0 * GRID.ncols + 19  # centre (5.0, −54.5): 22° (≈ 2433 km) north of SOUTH
DEGREE_KM = 110.66  # one degree of meridian near 16.5°S


def two_cells() -> pd.DataFrame:
    """Cells as region_cells gives them (cell_id, row, col, lat, lon, area_km2), sorted by cell_id."""
    ids = np.array([NORTH, SOUTH], dtype=np.int64)
    lat, lon = GRID.center(ids)
    row, col = GRID.row_col(ids)
    return pd.DataFrame({"cell_id": ids, "row": row, "col": col, "lat": lat, "lon": lon,
                         "area_km2": GRID.cell_area_km2(ids)})


# ---------------------------------------------------------------- add_context


def test_land_cover_context_forest_change_frontier_index_and_access_by_hand():
    """Two cells, maps of 2015–2017, panel years 2017–2020 (lc_year = min(Y − 2, 2017), as prepare sets it,
    and the map's fractions already merged in). Cell 101: forest 1.0, 0.75, 0.25; 50 km from a road and
    35 km from a settlement. Cell 102: no pixel in 2015 (NaN), then 0.5 and 0.0; on a road, 70 km from a
    settlement.
    lc_forest_change = f(lc_year) − f(lc_year − 1): NaN for the 2015 map (no 2014 map) and next to a NaN.
    frontier_index = 4·f·(1 − f): 1.0 → 0, 0.75 → 0.75, 0.25 → 0.75, 0.5 → 1, 0 → 0.
    road_access_forest = exp(−km/50)·f: e⁻¹·f for cell 101, f for cell 102;
    settlement_access_forest = exp(−km/35)·f: e⁻¹·f for cell 101, e⁻²·f for cell 102."""
    nan = np.nan
    lc = pd.DataFrame({"cell_id": np.repeat(np.array([101, 102], dtype=np.int64), 3),
                       "year": np.tile(np.array([2015, 2016, 2017], dtype=np.int64), 2),
                       "lc_forest": [1.0, 0.75, 0.25, nan, 0.5, 0.0],
                       "lc_pasture": [0.0, 0.25, 0.75, nan, 0.5, 1.0]})
    years = np.array([2017, 2018, 2019, 2020], dtype=np.int64)
    panel = pd.DataFrame({"cell_id": np.repeat(np.array([101, 102], dtype=np.int64), 4),
                          "year": np.tile(years, 2),
                          "dist_road_km": np.repeat([50.0, 0.0], 4),
                          "dist_settlement_km": np.repeat([35.0, 70.0], 4)})
    panel["lc_year"] = np.minimum(panel["year"] - 2, lc["year"].max())
    panel = panel.merge(lc.rename(columns={"year": "lc_year"}), on=["cell_id", "lc_year"], how="left")
    panel = panel.iloc[[4, 0, 5, 1, 6, 2, 7, 3]].reset_index(drop=True)  # rows in no particular order
    before = panel.copy()

    out = deforestation.add_context(panel, lc)

    new = ["lc_forest_change", "frontier_index", "road_access_forest", "settlement_access_forest"]
    assert list(out.columns) == [*before.columns, *new]
    pd.testing.assert_frame_equal(out[before.columns], before)  # same rows, same order, nothing else changed
    e1, e2 = math.exp(-1.0), math.exp(-2.0)
    # rows: 102/2017, 101/2017, 102/2018, 101/2018, 102/2019, 101/2019, 102/2020, 101/2020
    expected = {
        "lc_forest_change": [nan, nan, nan, -0.25, -0.5, -0.5, -0.5, -0.5],
        "frontier_index": [nan, 0.0, 1.0, 0.75, 0.0, 0.75, 0.0, 0.75],
        "road_access_forest": [nan, e1, 0.5, 0.75 * e1, 0.0, 0.25 * e1, 0.0, 0.25 * e1],
        "settlement_access_forest": [nan, e1, 0.5 * e2, 0.75 * e1, 0.0, 0.25 * e1, 0.0, 0.25 * e1],
    }
    for column, values in expected.items():
        assert out[column].dtype == np.float64, column
        np.testing.assert_allclose(out[column].to_numpy(), values, rtol=1e-12, atol=0, err_msg=column)


# ---------------------------------------------------------------- front_distance


def test_front_distance_to_converted_land_of_each_map_by_hand():
    """Land-cover rows as the loaders give them (lat, lon, year int32, class_code int16, pixels), maps listed
    out of order. 2015: forest (3) on SOUTH's centre and water (33) next to it, no converted land: 2000
    (the cap) for both cells. 2016: forest on SOUTH's centre does not count; agriculture (39) 0.5° north of
    SOUTH and a mosaic (21) pixel 1° north: 0.5° ≈ 55.33 km. 2017: pasture (15) on SOUTH's centre (0 km)
    and urban (24) 1° north. NORTH is ≥ 21° (≈ 2320 km) from every pixel: the cap, 2000."""
    rows = [  # lat, lon, year, class_code
        (-17.0, -54.5, 2017, 15), (-16.0, -54.5, 2017, 24),
        (-17.0, -54.5, 2015, 3), (-16.9, -54.5, 2015, 33),
        (-17.0, -54.5, 2016, 3), (-16.5, -54.5, 2016, 39), (-16.0, -54.5, 2016, 21),
    ]
    landcover = pd.DataFrame({"lat": [r[0] for r in rows], "lon": [r[1] for r in rows],
                              "year": np.array([r[2] for r in rows], dtype=np.int32),
                              "class_code": np.array([r[3] for r in rows], dtype=np.int16),
                              "pixels": np.ones(len(rows), dtype=np.int64)})

    out = deforestation.front_distance(two_cells(), landcover)

    assert list(out.columns) == ["cell_id", "year", "dist_front_km"]
    assert out.index.equals(pd.RangeIndex(6))  # one row per map and cell, a fresh index
    assert out["cell_id"].tolist() == [NORTH, SOUTH] * 3
    assert out["year"].tolist() == [2015, 2015, 2016, 2016, 2017, 2017]
    assert out["year"].dtype == np.int64 and out["dist_front_km"].dtype == np.float64
    np.testing.assert_allclose(out["dist_front_km"].to_numpy(),
                               [2000.0, 2000.0, 2000.0, DEGREE_KM / 2, 2000.0, 0.0], rtol=0, atol=0.05)
    assert out["dist_front_km"].tolist()[:3] == [2000.0, 2000.0, 2000.0]  # the cap itself, not 2001
    assert out["dist_front_km"].iloc[4] == 2000.0


# ---------------------------------------------------------------- recent_clearing_distance


def prodes_polygons(rows) -> pd.DataFrame:
    """PRODES polygons as read_prodes gives them: year, area_km2, image_date, state, geometry (WGS84);
    each a square of 0.02° around (lat, lon), whose representative point is that centre."""
    import geopandas as gpd
    import shapely

    return gpd.GeoDataFrame({
        "year": np.array([r[0] for r in rows], dtype=np.int64),
        "area_km2": np.full(len(rows), 4.9),
        "image_date": pd.to_datetime([f"{r[0]}-07-15" for r in rows]).astype("datetime64[ns]"),
        "state": pd.array(["MT"] * len(rows), dtype="str"),
    }, geometry=[shapely.box(lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01) for _, lat, lon in rows],
        crs="EPSG:4326")


def test_recent_clearing_distance_to_last_years_polygons_by_hand():
    """Panel years 2017–2020. 2016 is not a panel year: 2017 is NaN although a 2016 polygon lies on SOUTH's
    centre. 2018 ← the 2017 polygon 1° north of SOUTH (≈ 110.66 km; NORTH 21° away: 2000). 2019 ← the 2018
    polygon 0.5° north (≈ 55.33 km). 2020 ← the 2019 polygon on NORTH's centre (0 km; SOUTH 22° away: 2000).
    The 2020 polygon on SOUTH's centre is the label year's: never used."""
    prodes = prodes_polygons([(2016, -17.0, -54.5), (2017, -16.0, -54.5), (2018, -16.5, -54.5),
                              (2019, 5.0, -54.5), (2020, -17.0, -54.5)])
    years = [2017, 2018, 2019, 2020]

    out = deforestation.recent_clearing_distance(two_cells(), prodes, years)

    assert list(out.columns) == ["cell_id", "year", "dist_recent_clearing_km"]
    assert out.index.equals(pd.RangeIndex(8))
    assert out["cell_id"].tolist() == [NORTH, SOUTH] * 4
    assert out["year"].tolist() == [2017, 2017, 2018, 2018, 2019, 2019, 2020, 2020]
    assert out["year"].dtype == np.int64 and out["dist_recent_clearing_km"].dtype == np.float64
    nan = np.nan
    np.testing.assert_allclose(out["dist_recent_clearing_km"].to_numpy(),
                               [nan, nan, 2000.0, DEGREE_KM, 2000.0, DEGREE_KM / 2, 0.0, 2000.0],
                               rtol=0, atol=0.05)
    assert out["dist_recent_clearing_km"].iloc[[2, 4, 7]].tolist() == [2000.0] * 3  # the cap itself


def test_recent_clearing_distance_is_the_cap_when_last_year_has_no_polygon():
    """A covered year Y − 1 without any polygon (nothing cleared anywhere) is 2000 km for every cell, not NaN:
    NaN is kept for years that are not covered."""
    prodes = prodes_polygons([(2017, -16.0, -54.5)])

    out = deforestation.recent_clearing_distance(two_cells(), prodes, [2017, 2018, 2019])

    assert out["year"].tolist() == [2017, 2017, 2018, 2018, 2019, 2019]
    values = out["dist_recent_clearing_km"].to_numpy()
    assert np.isnan(values[:2]).all()
    assert values[2] == 2000.0 and values[3] == pytest.approx(DEGREE_KM, abs=0.05)
    assert values[4:].tolist() == [2000.0, 2000.0]
    assert out["dist_recent_clearing_km"].dtype == np.float64


# ---------------------------------------------------------------- compare_with_official


def official_rows(rows) -> pd.DataFrame:
    """Official increments as read_prodes_increments gives them: year, area_km2, state, level, name."""
    return pd.DataFrame({
        "year": np.array([r[0] for r in rows], dtype=np.int64),
        "area_km2": np.array([r[1] for r in rows], dtype=float),
        "state": pd.array([r[2] for r in rows], dtype="str"),
        "level": pd.array([r[3] for r in rows], dtype="str"),
        "name": pd.array([r[2] for r in rows], dtype="str"),
    })


def panel_rows(rows) -> pd.DataFrame:
    """Prepared panel rows (cell_id, year, state, cleared_km2)."""
    return pd.DataFrame({"cell_id": np.arange(len(rows), dtype=np.int64),
                         "year": np.array([r[0] for r in rows], dtype=np.int64),
                         "state": [r[1] for r in rows], "cleared_km2": [r[2] for r in rows]})


def test_official_comparison_below_the_reported_precision_reads_as_zero():
    """PA 2019: 6.0 + 3.9999 = 9.9999 km² prepared against 10.0 official. At 3 decimals (1000 m²) that is
    10.0 against 10.0, a difference of 0.0 (−0.0001 rounds to −0.0: reported as 0.0, never "-0.0") with no
    place named; relative −0.0001 / 10 = −1e-05 at 5 decimals."""
    panel = panel_rows([(2019, "PA", 6.0), (2019, "PA", 3.9999)])
    official = official_rows([(2019, 10.0, "PA", "state")])

    out = deforestation.compare_with_official(panel, official, n_files=1)

    assert out == {"files": 1, "state_years": 1, "conservation_unit_rows_not_compared": 0,
                   "prepared_km2": 10.0, "official_km2": 10.0, "difference_km2": 0.0,
                   "relative_difference": -1e-05, "max_abs_difference_km2": 0.0, "max_abs_difference_at": "",
                   "difference_km2_by_year": {"2019": 0.0}}
    for key in ("difference_km2", "max_abs_difference_km2"):
        assert math.copysign(1.0, out[key]) == 1.0, key
    assert math.copysign(1.0, out["difference_km2_by_year"]["2019"]) == 1.0
    assert "-0.0" not in json.dumps(out)


def test_official_comparison_relative_difference_to_five_decimals_and_none_against_zero():
    """MT 2019: 4.0 prepared against 3.0 official: +1.0 km², relative 1/3 → 0.33333 (5 decimals).
    AC 2020: 0.5 prepared where the official increment is 0.0: the relative difference has no meaning
    (None), the 0.5 km² difference is still reported and placed."""
    out = deforestation.compare_with_official(panel_rows([(2019, "MT", 4.0)]),
                                              official_rows([(2019, 3.0, "MT", "state")]), n_files=2)
    assert out["relative_difference"] == 0.33333
    assert (out["difference_km2"], out["max_abs_difference_km2"], out["max_abs_difference_at"]) == (1.0, 1.0,
                                                                                                     "MT 2019")

    out = deforestation.compare_with_official(panel_rows([(2020, "AC", 0.5)]),
                                              official_rows([(2020, 0.0, "AC", "state")]), n_files=1)
    assert out["relative_difference"] is None
    assert (out["prepared_km2"], out["official_km2"], out["difference_km2"]) == (0.5, 0.0, 0.5)
    assert (out["max_abs_difference_km2"], out["max_abs_difference_at"]) == (0.5, "AC 2020")
    assert out["difference_km2_by_year"] == {"2020": 0.5}
