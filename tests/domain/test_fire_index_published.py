"""INPE "Risco de Fogo" (Setzer, Sismanoglu & Santos, method v11, 2019): the published constants pinned
as literals from the method's tables, not read back from the module under test, and a hand-worked case
for every rain window (both of its edges).

Expected values below are computed by hand from the published coefficients:
PSE = 105 · exp(c · P) for P mm of rain on one day of the window whose coefficient is c.
"""

from __future__ import annotations

import numpy as np
import pytest

from geih.domain import fire_index as fi
from geih.ingest.sources.hotspot_rules import REFERENCE_SATELLITE

# ---------------------------------------------------------------- the method's tables, as published

PUBLISHED_WINDOWS = [  # (first day, last day, coefficient c of exp(c · P)) — day 1 is the day itself
    (1, 1, -0.14), (2, 2, -0.07), (3, 3, -0.04), (4, 4, -0.03), (5, 5, -0.02), (6, 10, -0.01),
    (11, 15, -0.008), (16, 30, -0.004), (31, 60, -0.002), (61, 90, -0.001), (91, 120, -0.0007),
]
PUBLISHED_VEGETATION = {  # class: (A, PSEmax)
    1: (6.0, 30.0), 2: (4.0, 45.0), 3: (3.0, 60.0), 4: (2.4, 75.0), 5: (2.0, 90.0), 6: (1.72, 105.0),
    7: (1.5, 120.0),
}
PUBLISHED_HUMIDITY_COEFFICIENT = {"pre2019": -0.006, "2019": -0.008}  # FU = k · URmin + 1.3
PUBLISHED_CLASS_BOUNDS = [("mínimo", 0.15), ("baixo", 0.40), ("médio", 0.70), ("alto", 0.95)]  # RF ≤ bound

# PSE after 10 mm on one day of each window (105 · exp(10 c)), and after 30 mm.
PSE_AFTER_10MM = [25.892681, 52.141457, 70.383605, 77.785913, 85.966729, 95.007929, 96.927216, 100.882891,
                  102.920861, 103.955233, 104.267567]
PSE_AFTER_30MM = [1.574536, 12.857925, 31.625392, 42.689814, 57.625222, 77.785913, 82.595925, 93.126646,
                  98.885276, 101.896781, 102.817991]


def test_rain_windows_and_coefficients_are_the_published_ones():
    assert list(fi.RAIN_WINDOWS) == [(a, b) for a, b, _ in PUBLISHED_WINDOWS]
    assert list(fi.RAIN_COEFFICIENTS) == [c for _, _, c in PUBLISHED_WINDOWS]
    assert fi.HISTORY_DAYS == 120 and fi.PSE_NO_RAIN == 105.0


def test_vegetation_a_and_psemax_are_the_published_ones():
    assert dict(fi.VEGETATION_CLASSES) == PUBLISHED_VEGETATION


def test_humidity_factors_and_risk_class_bounds_are_the_published_ones():
    assert dict(fi.VERSIONS) == PUBLISHED_HUMIDITY_COEFFICIENT
    assert list(fi.INPE_RISK_CLASSES[:-1]) == PUBLISHED_CLASS_BOUNDS
    assert fi.INPE_RISK_CLASSES[-1] == ("crítico", np.inf)
    assert REFERENCE_SATELLITE == "AQUA_M-T"  # INPE's reference satellite (afternoon pass of Aqua MODIS)


# ---------------------------------------------------------------- every rain window, by hand


def rain_on(days_ago: list[int], mm: float, n_days: int = 130) -> np.ndarray:
    """One cell's daily rain: `mm` on each of the days `days_ago` (1 = the last day of the series)."""
    p = np.zeros((1, n_days))
    for d in days_ago:
        p[0, n_days - d] = mm
    return p


@pytest.mark.parametrize("k", range(len(PUBLISHED_WINDOWS)))
def test_10mm_on_either_edge_of_each_window(k: int):
    first, last, _ = PUBLISHED_WINDOWS[k]
    for day in (first, last):
        pse = fi.days_of_dryness(rain_on([day], 10.0))[0, -1]
        assert pse == pytest.approx(PSE_AFTER_10MM[k], abs=1e-5), (first, last, day)
        at = fi.days_of_dryness_at(rain_on([day], 10.0), np.array([0]), np.array([129]))[0]
        assert at == pytest.approx(PSE_AFTER_10MM[k], abs=1e-5), (first, last, day)


@pytest.mark.parametrize("k", range(len(PUBLISHED_WINDOWS)))
def test_rain_is_summed_within_a_window(k: int):
    """30 mm on one day of a window, or spread over several of its days, gives 105 · exp(30 c)."""
    first, last, _ = PUBLISHED_WINDOWS[k]
    days = sorted({first, last, (first + last) // 2})
    pse = fi.days_of_dryness(rain_on(days, 30.0 / len(days)))[0, -1]
    assert pse == pytest.approx(PSE_AFTER_30MM[k], abs=1e-5)


def test_windows_multiply():
    """2 mm today, 8 mm on each of days 6–10 (40 mm in that window) and 30 mm on day 100:
    105 · exp(−0.14·2 − 0.01·40 − 0.0007·30) = 52.089342."""
    p = rain_on([1], 2.0)
    for d in range(6, 11):
        p[0, 130 - d] = 8.0
    p[0, 130 - 100] = 30.0
    assert fi.days_of_dryness(p)[0, -1] == pytest.approx(52.089342, abs=1e-5)


def test_each_day_of_the_series_uses_its_own_120_days():
    """10 mm on one day moves through the windows as the days pass: on the day itself it is in
    window 1, two days later in window 3, 120 days later in window 11, 121 days later in none."""
    p = np.zeros((1, 300))
    p[0, 150] = 10.0
    pse = fi.days_of_dryness(p)[0]
    assert pse[149] == 105.0
    assert pse[150] == pytest.approx(PSE_AFTER_10MM[0], abs=1e-5)
    assert pse[152] == pytest.approx(PSE_AFTER_10MM[2], abs=1e-5)
    assert pse[150 + 119] == pytest.approx(PSE_AFTER_10MM[10], abs=1e-5)
    assert pse[150 + 120] == 105.0


# ---------------------------------------------------------------- RB, RF and classes by hand


@pytest.mark.parametrize("cls,pse,expected", [
    # RB = 0.9 · (1 + sin((A · PSE − 90)°)) / 2
    (1, 15.0, 0.45),                 # 6 · 15 = 90° → sin 0 = 0
    (2, 22.5, 0.45),                 # 4 · 22.5 = 90°
    (3, 45.0, 0.7681980515),         # 3 · 45 = 135° → sin 45° = 0.7071068 → 0.9 · 1.7071068 / 2
    (4, 50.0, 0.675),                # 2.4 · 50 = 120° → sin 30° = 0.5 → 0.675
    (5, 30.0, 0.225),                # 2 · 30 = 60° → sin −30° = −0.5 → 0.225
    (6, 50.0, 0.4186096),            # 1.72 · 50 = 86° → sin −4° = −0.0697565 → 0.9 · 0.9302435 / 2
    (7, 60.0, 0.45),                 # 1.5 · 60 = 90°
    (7, 120.0, 0.9), (7, 200.0, 0.9),  # at and beyond PSEmax
])
def test_basic_risk_by_hand(cls: int, pse: float, expected: float):
    assert fi.basic_risk(np.array([[pse]]), np.array([cls]))[0, 0] == pytest.approx(expected, abs=1e-7)


def test_temperature_and_humidity_factors_by_hand():
    """Class 4 at PSE 50: RB = 0.675. Tmax 25 → FT = 0.02 · 25 + 0.4 = 0.9; URmin 40 →
    FU = −0.006 · 40 + 1.3 = 1.06 (pre2019) or −0.008 · 40 + 1.3 = 0.98 (2019).
    pre2019: 0.675 · 0.9 · 1.06 = 0.643950; 2019: 0.675 · 0.9 · 0.98 = 0.595350 → 0.60, then with
    lat −20° and 500 m: × 1.06 × 1.015 = 0.640528 → 0.64."""
    pse, t, rh = np.array([[50.0]]), np.array([[25.0]]), np.array([[40.0]])
    veg = np.array([4])
    assert fi.fire_risk_from_dryness(pse, t, rh, veg, version="pre2019")[0, 0] == pytest.approx(0.64395, abs=1e-9)
    assert fi.fire_risk_from_dryness(pse, t, rh, veg)[0, 0] == 0.60
    with_place = fi.fire_risk_from_dryness(pse, t, rh, veg, lat=np.array([-20.0]), elevation_m=np.array([500.0]))
    assert with_place[0, 0] == 0.64
    # latitude alone (0.59535 · 1.06 = 0.631071 → 0.63), elevation alone (0.59535 · 1.015 = 0.604280 → 0.60)
    assert fi.fire_risk_from_dryness(pse, t, rh, veg, lat=np.array([20.0]))[0, 0] == 0.63
    assert fi.fire_risk_from_dryness(pse, t, rh, veg, elevation_m=np.array([2000.0]))[0, 0] == 0.63  # × 1.06


@pytest.mark.parametrize("name,bound", PUBLISHED_CLASS_BOUNDS)
def test_class_bounds_belong_to_the_lower_class(name: str, bound: float):
    names = [n for n, _ in fi.INPE_RISK_CLASSES]
    above = names[names.index(name) + 1]
    assert fi.inpe_risk_class(np.array([bound, np.nextafter(bound, 2.0)])).tolist() == [name, above]


def test_mapbiomas_forest_and_pasture_get_the_published_inpe_classes():
    # MapBiomas 3 forest formation → evergreen broadleaf (7); 15 pasture → grassland (1); 4 savanna → 4
    assert fi.vegetation_class_from_mapbiomas(np.array([3, 15, 4, 39])).tolist() == [7, 1, 4, 2]


def test_mapbiomas_codes_that_are_not_legend_integers_have_no_class():
    floats = np.array([3.0, 3.5, -3.0, 255.0, 256.0, 1000.0, np.inf, -np.inf, np.nan, 0.0, 15.0])
    assert fi.vegetation_class_from_mapbiomas(floats).tolist() == [7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    ints = np.array([3, -3, 255, 256, 1000, 15, 9], dtype=np.int64)
    assert fi.vegetation_class_from_mapbiomas(ints).tolist() == [7, 0, 0, 0, 0, 1, 5]
    assert fi.vegetation_class_from_mapbiomas(np.array([4], dtype=np.uint8)).dtype == np.int8


def test_inpe_risk_class_of_values_outside_the_usual_range():
    v = np.array([-0.2, 0.0, 1.0, 1.7, np.nan])
    assert fi.inpe_risk_class(v).tolist() == ["mínimo", "mínimo", "crítico", "crítico", ""]
    assert fi.inpe_risk_class(np.array([[np.nan]])).tolist() == [[""]]


def test_per_event_arguments_are_named_when_their_shape_is_wrong():
    precip = rain_on([1], 0.0)
    cells, days = np.array([0, 0]), np.array([128, 129])
    good = np.array([30.0, 30.0])
    with pytest.raises(ValueError, match=r"tmax_c must have one value per event \(2,\)"):
        fi.fire_risk_at(precip, cells, days, np.array([30.0]), good, np.array([7, 7]))
    with pytest.raises(ValueError, match=r"rhmin_pct must have one value per event \(2,\)"):
        fi.fire_risk_at(precip, cells, days, good, np.array([[40.0, 40.0]]), np.array([7, 7]))
    out = fi.fire_risk_at(precip, cells, days, good, np.array([40.0, 60.0]), np.array([7, 7]), version="pre2019")
    # no rain: RB 0.8657458 (class 7 at PSE 105), FT 1.0, FU 1.06 and 0.94
    np.testing.assert_allclose(out, [0.8657458 * 1.06, 0.8657458 * 0.94], atol=1e-6)


def test_each_array_argument_is_named_when_it_is_not_2d():
    ok, flat = np.zeros((1, 130)), np.zeros(130)
    cases = [
        ("precip", lambda: fi.fire_risk(flat, ok, ok, np.array([7]))),
        ("precip", lambda: fi.days_of_dryness_at(flat, np.array([0]), np.array([0]))),
        ("pse", lambda: fi.fire_risk_from_dryness(flat, ok, ok, np.array([7]))),
        ("tmax_c", lambda: fi.fire_risk_from_dryness(ok, flat, ok, np.array([7]))),
        ("rhmin_pct", lambda: fi.fire_risk_from_dryness(ok, ok, flat, np.array([7]))),
        ("pse", lambda: fi.basic_risk(flat, np.array([7]))),
    ]
    for name, call in cases:
        with pytest.raises(ValueError, match=rf"^{name} must be 2-D \(n_cells, n_days\), got shape \(130,\)$"):
            call()
    with pytest.raises(ValueError, match=r"^lat must have shape \(1,\) or \(1, 1\), got \(2,\)$"):
        fi.fire_risk_from_dryness(ok, ok, ok, np.array([7]), lat=np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"^elevation_m must have shape"):
        fi.fire_risk_from_dryness(ok, ok, ok, np.array([7]), elevation_m=np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"^vegetation_class must have shape"):
        fi.fire_risk_from_dryness(ok, ok, ok, np.array([7, 7]))
