"""WorldConfig defaults and params validation."""

from __future__ import annotations

import pytest

from geih.errors import ParamsError
from geih.ingest.synthetic import WorldConfig


def test_defaults_describe_the_documented_world() -> None:
    c = WorldConfig()
    assert (c.seed, c.start_year, c.years, c.grid_resolution_deg, c.subcells) == (42, 2019, 6, 0.5, 5)
    assert c.drought_year == 2020 and c.hotspot_scale == 1.0
    assert c.prodes_years == [2020, 2021, 2022, 2023, 2024]  # Aug Y-1 .. Jul Y fully inside 2019..2024
    assert c.pixel_deg == pytest.approx(0.1)


def test_from_params_reads_top_level_and_nested_coefficients() -> None:
    c = WorldConfig.from_params({"seed": 7, "years": 3, "grid_resolution_deg": 1, "drought_year": None,
                                 "fire": {"intercept": -1.5}, "deforestation": {"burn_in_years": 2}})
    assert c.seed == 7 and c.years == 3 and c.grid_resolution_deg == 1.0 and c.drought_year is None
    assert c.fire.intercept == -1.5 and c.fire.season == WorldConfig().fire.season
    assert c.deforestation.burn_in_years == 2 and isinstance(c.deforestation.burn_in_years, int)
    assert WorldConfig.from_params(None) == WorldConfig()
    assert WorldConfig.from_params(c.to_dict()) == c


@pytest.mark.parametrize("params, key", [
    ({"sed": 1}, "acquire.sed"),
    ({"years": 1}, "acquire.years"),
    ({"years": 2.5}, "acquire.years"),
    ({"grid_resolution_deg": 0}, "acquire.grid_resolution_deg"),
    ({"grid_resolution_deg": 5.5}, "acquire.grid_resolution_deg"),
    ({"grid_resolution_deg": "0.5"}, "acquire.grid_resolution_deg"),
    ({"subcells": 0}, "acquire.subcells"),
    ({"hotspot_scale": 0}, "acquire.hotspot_scale"),
    ({"seed": True}, "acquire.seed"),
    ({"drought_year": "2020"}, "acquire.drought_year"),
    ({"fire": {"bogus": 1}}, "acquire.fire.bogus"),
    ({"fire": {"intercept": float("nan")}}, "acquire.fire.intercept"),
    ({"detection": {"reference_prob": 0}}, "acquire.detection.reference_prob"),
    ({"deforestation": {"burn_in_years": 1.5}}, "acquire.deforestation.burn_in_years"),
    ({"weather": [1, 2]}, "acquire.weather"),
])
def test_bad_params_name_the_key(params: dict, key: str) -> None:
    with pytest.raises(ParamsError) as err:
        WorldConfig.from_params(params)
    assert err.value.key == key
    assert key in str(err.value)


def test_prefix_is_configurable() -> None:
    with pytest.raises(ParamsError) as err:
        WorldConfig.from_params({"nope": 1}, prefix="world")
    assert err.value.key == "world.nope"
