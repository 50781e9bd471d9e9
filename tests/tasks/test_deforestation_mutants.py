"""Deforestation prepare reads its raw folders on the analysis grid, with the official increment tables optional
(cases found by mutation testing). Without the grid, land-cover rasters would be summarised on the 0.5° summary
grid, which differs from an analysis grid that is not a multiple of it (0.75° here); a required
``prodes_increments/`` would refuse every raw folder without official tables."""

from __future__ import annotations

import pytest

from geih.domain.grid import Grid
from geih.tasks import deforestation


class _Stop(Exception):
    """Raised by the stand-in loader: only the arguments of the call are under test."""


def test_prepare_loads_the_raw_folders_on_its_grid_with_official_tables_optional(monkeypatch, tmp_path):
    calls = []

    def fake_load_raw(raw_dir, kinds, grid, optional=()):
        calls.append((raw_dir, kinds, grid, optional))
        raise _Stop

    monkeypatch.setattr(deforestation.common, "load_raw", fake_load_raw)
    with pytest.raises(_Stop):
        deforestation.prepare(tmp_path, {"grid_resolution_deg": 0.75, "threshold_km2": 1.0})
    [(raw_dir, kinds, grid, optional)] = calls
    assert raw_dir == tmp_path and {"landcover", "prodes_increments"} <= set(kinds)
    assert isinstance(grid, Grid) and grid == Grid(0.75)
    assert optional == ("prodes_increments",)
