"""A deterministic synthetic Legal Amazon written in the real public file formats (see docs/data-layout.md).

`generate_world(WorldConfig.from_params(params["acquire"]), raw_dir, truth_dir, plots_dir)` writes the raw
layout (boundary, states, roads, settlements, MapBiomas-like land cover, daily weather, MOD13-like vegetation
index, PRODES-like increments, INPE BDQueimadas monthly hotspot CSVs), the truth files and four map PNGs.
"""

from geih.ingest.synthetic.config import (
                                   DeforestationCoefficients,
                                   DetectionCoefficients,
                                   FireCoefficients,
                                   LandcoverCoefficients,
                                   WeatherCoefficients,
                                   WorldConfig,
)
from geih.ingest.synthetic.world import generate_world

__all__ = ["WorldConfig", "generate_world", "WeatherCoefficients", "LandcoverCoefficients",
           "DeforestationCoefficients", "FireCoefficients", "DetectionCoefficients"]
