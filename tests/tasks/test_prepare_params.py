"""Each task refuses a bad `prepare.<task>` group before any work, naming the key: unknown keys, missing
ones, wrong types and values outside the documented ranges (the ends of each range are valid)."""

from __future__ import annotations

import pytest

from geih.errors import ParamsError
from geih.tasks import deforestation, fire_risk

FIRE = {"grid_resolution_deg": 0.5, "dedup": "reference", "reference_satellite": "AQUA_M-T"}
DEFOR = {"grid_resolution_deg": 0.5, "threshold_km2": 1.0}


def test_valid_groups_and_the_ends_of_each_range_pass():
    for resolution in (0.05, 5.0):
        fire_risk.check_prepare_params({**FIRE, "grid_resolution_deg": resolution})
        deforestation.check_prepare_params({**DEFOR, "grid_resolution_deg": resolution})
    fire_risk.check_prepare_params({**FIRE, "dedup": "place_time"})
    deforestation.check_prepare_params({**DEFOR, "threshold_km2": 0.0})
    deforestation.check_prepare_params({**DEFOR, "threshold_km2": 3})  # an int is a number


@pytest.mark.parametrize(("check", "base", "change", "key", "words"), [
    (deforestation.check_prepare_params, DEFOR, {"threshold": 1.0}, "prepare.deforestation.threshold",
     "unknown key; expected one of ['grid_resolution_deg', 'threshold_km2']"),
    (deforestation.check_prepare_params, DEFOR, {"grid_resolution_deg": None}, "prepare.deforestation.grid_resolution_deg",
     "expected a number, got None"),
    (deforestation.check_prepare_params, DEFOR, {"grid_resolution_deg": 0.04}, "prepare.deforestation.grid_resolution_deg",
     "expected a value in [0.05, 5.0], got 0.04"),
    (deforestation.check_prepare_params, DEFOR, {"grid_resolution_deg": 5.5}, "prepare.deforestation.grid_resolution_deg",
     "expected a value in [0.05, 5.0], got 5.5"),
    (deforestation.check_prepare_params, DEFOR, {"threshold_km2": -0.5}, "prepare.deforestation.threshold_km2",
     "expected a value in [0.0, None], got -0.5"),
    (deforestation.check_prepare_params, DEFOR, {"threshold_km2": True}, "prepare.deforestation.threshold_km2",
     "expected a number, got True"),
    (fire_risk.check_prepare_params, FIRE, {"dedup": "none"}, "prepare.fire_risk.dedup",
     "expected one of ['place_time', 'reference'], got 'none'"),
    (fire_risk.check_prepare_params, FIRE, {"grid_resolution_deg": 6}, "prepare.fire_risk.grid_resolution_deg",
     "expected a value in [0.05, 5.0], got 6"),
    (fire_risk.check_prepare_params, FIRE, {"satellite": "x"}, "prepare.fire_risk.satellite", "unknown key"),
])
def test_a_bad_group_names_its_key(check, base, change, key, words):
    with pytest.raises(ParamsError) as err:
        check({**base, **change})
    assert err.value.key == key and words in str(err.value), str(err.value)


@pytest.mark.parametrize(("check", "base", "key"), [
    (deforestation.check_prepare_params, DEFOR, "grid_resolution_deg"),
    (deforestation.check_prepare_params, DEFOR, "threshold_km2"),
    (fire_risk.check_prepare_params, FIRE, "grid_resolution_deg"),
])
def test_a_missing_key_is_named(check, base, key):
    with pytest.raises(ParamsError, match="missing") as err:
        check({k: v for k, v in base.items() if k != key})
    assert err.value.key.endswith(f".{key}")
