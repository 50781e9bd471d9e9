"""A small synthetic world, generated once per test session (1° cells, 0.1° land-cover pixels, three years)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from geih.ingest.synthetic import WorldConfig, generate_world

SMALL_PARAMS = {"grid_resolution_deg": 1.0, "years": 3, "subcells": 10}


@dataclass(frozen=True)
class World:
    config: WorldConfig
    root: Path
    raw: Path
    truth: Path
    plots: Path
    summary: dict[str, Any]


def make_world(root: Path, params: dict[str, Any]) -> World:
    config = WorldConfig.from_params(params)
    summary = generate_world(config, root / "raw", root / "truth", root / "plots", progress=False)
    return World(config, root, root / "raw", root / "truth", root / "plots", summary)


@pytest.fixture(scope="session")
def world_factory():
    """make_world(root, params) for tests that need their own world."""
    return make_world


@pytest.fixture(scope="session")
def small_params() -> dict[str, Any]:
    return dict(SMALL_PARAMS)


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return make_world(tmp_path_factory.mktemp("world_a"), SMALL_PARAMS)


@pytest.fixture(scope="session")
def world_again(tmp_path_factory: pytest.TempPathFactory) -> World:
    return make_world(tmp_path_factory.mktemp("world_b"), SMALL_PARAMS)


def landcover_pixels(raw: Path) -> pd.DataFrame:
    """The world's MapBiomas GeoTIFF as a pixel table (lat, lon, classification_YYYY, ...): the pixels
    of the cells (code > 0), north to south then west to east."""
    import rasterio

    with rasterio.open(raw / "landcover" / "mapbiomas_lulc.tif") as src:
        data, names, t = src.read(), src.descriptions, src.transform
    rows, cols = np.nonzero(data[0] > 0)
    table = {"lat": np.round(t.f + (rows + 0.5) * t.e, 6), "lon": np.round(t.c + (cols + 0.5) * t.a, 6)}
    table.update({name: data[i, rows, cols].astype(np.int32) for i, name in enumerate(names)})
    return pd.DataFrame(table)
