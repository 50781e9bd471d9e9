"""Where alerts are: cell polygons on the project grid and municipality/state IBGE codes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geih.alerts.places import cell_bounds, places, polygon_ring
from geih.domain.grid import LAT_MAX, LON_MIN, Grid


def test_cell_polygons_are_the_grid_cells_counter_clockwise():
    grid = Grid(0.5)
    west, south, east, north = cell_bounds(grid, np.array([0, grid.ncols + 1]))
    assert (west[0], north[0], east[0], south[0]) == (LON_MIN, LAT_MAX, LON_MIN + 0.5, LAT_MAX - 0.5)
    assert (west[1], north[1]) == (LON_MIN + 0.5, LAT_MAX - 0.5)  # second row, second column
    ring = polygon_ring(west[1], south[1], east[1], north[1])
    assert ring[0] == ring[-1] and len(ring) == 5
    area2 = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:]))
    assert area2 > 0  # counter-clockwise exterior (RFC 7946)
    lat, lon = grid.center(np.array([grid.ncols + 1]))
    assert (grid.cell_of(lat, lon) == grid.ncols + 1).all()


def test_municipality_is_the_nearest_seat_in_the_cells_state():
    seats = pd.DataFrame({"name": ["Near but AM", "Far in PA", "Other PA"], "state": ["AM", "PA", "PA"],
                          "code": [1302603, 1500107, 1500206], "lat": [-3.0, -3.0, -9.0],
                          "lon": [-60.0, -56.0, -50.0]})
    out = places(np.array([-3.0, -3.0, -8.0]), np.array([-59.0, -59.0, -51.0]), np.array(["PA", "NA", "XX"]), seats)
    assert out["municipality_code"].tolist() == [1500107, 1302603, 1500206]
    assert out["state"].tolist() == ["PA", "AM", "PA"]  # unknown states take the nearest seat's
    assert out["state_code"].tolist() == [15, 13, 15]


def test_tiny_world_hotspots_sit_in_the_municipality_alerts_name(tiny_world):
    """The synthetic world writes each hotspot with its fire's IBGE municipality and state codes: the alerts'
    places of the cell containing each reference-satellite hotspot must give the same codes."""
    import pyarrow.csv as pv

    rows = pd.concat([pv.read_csv(f).to_pandas() for f in sorted((tiny_world / "hotspots").glob("focos_mensal_*.csv"))[:6]])
    # the reference satellite's detections stay in their fire's cell; other satellites' are jittered freely and
    # may cross into a neighbouring cell (while keeping the fire's municipality), as real position errors do
    rows = rows[rows["satelite"] == "AQUA_M-T"].dropna(subset=["municipio_id"]).head(3000)
    assert len(rows) > 100
    grid = Grid(1.5)  # the tiny world's grid
    lat, lon = grid.center(grid.cell_of(rows["lat"].to_numpy(), rows["lon"].to_numpy()))
    from geih.ingest.sources.states import STATES

    uf = np.array([STATES[int(s)][0] for s in rows["estado_id"]], dtype=object)
    got = places(lat, lon, uf)
    assert (got["state_code"].to_numpy() == rows["estado_id"].to_numpy()).all()
    assert (got["municipality_code"].to_numpy() == rows["municipio_id"].astype(np.int64).to_numpy()).all()
