"""The grid: cell ids, centres and neighbours."""

from __future__ import annotations

import numpy as np

from geih.domain.grid import Grid, neighbour_pairs


def test_grid_cell_roundtrip_and_outside():
    g = Grid(0.5)
    ids = g.cell_of(np.array([-6.57, 5.6, -10.0]), np.array([-58.85, -60.0, -80.0]))
    assert ids[1] == -1 and ids[2] == -1
    lat, lon = g.center(ids[:1])
    assert abs(lat[0] - -6.75) < 1e-9 and abs(lon[0] - -58.75) < 1e-9
    assert g.cell_of(lat, lon)[0] == ids[0]


def test_neighbour_pairs_counts_interior_and_corner():
    g = Grid(1.0)
    rows, cols = np.meshgrid(np.arange(3), np.arange(3), indexing="ij")
    ids = (rows * g.ncols + cols).ravel()
    pairs = neighbour_pairs(g, ids)
    per_cell = pairs.groupby("cell_id").size()
    assert per_cell[1 * g.ncols + 1] == 8  # centre
    assert per_cell[0] == 3  # corner
