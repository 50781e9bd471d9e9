"""Tests for geih.domain.fire_index (INPE Risco de Fogo v11, 2019), with hand-worked values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from geih.domain import fire_index as fi

N_HIST = 120  # days of history one PSE needs


def _dry(n_cells: int = 1, n_days: int = N_HIST) -> np.ndarray:
    return np.zeros((n_cells, n_days))


# ---------------------------------------------------------------- constants


def test_windows_are_disjoint_and_cover_120_days():
    days = [d for a, b in fi.RAIN_WINDOWS for d in range(a, b + 1)]
    assert days == list(range(1, 121))
    assert len(fi.RAIN_WINDOWS) == len(fi.RAIN_COEFFICIENTS) == 11
    assert fi.RAIN_COEFFICIENTS[0] == -0.14 and fi.RAIN_COEFFICIENTS[-1] == -0.0007


def test_vegetation_constants_psemax_about_180_over_a():
    for a, pse_max in fi.VEGETATION_CLASSES.values():
        assert a * pse_max == pytest.approx(180.0, abs=0.61)  # class 6: 1.72*105 = 180.6


# ---------------------------------------------------------------- days of dryness


def test_pse_no_rain_is_105():
    pse = fi.days_of_dryness(_dry(2, 200))
    # exp(0) for all 11 windows -> 105 * 1
    np.testing.assert_array_equal(pse[:, 119:], 105.0)


def test_first_119_days_nan_then_defined():
    pse = fi.days_of_dryness(_dry(3, 150))
    assert pse.shape == (3, 150)
    assert np.isnan(pse[:, :119]).all()
    assert not np.isnan(pse[:, 119:]).any()


def test_short_series_all_nan():
    assert np.isnan(fi.days_of_dryness(_dry(2, 119))).all()


def test_pse_single_10mm_today_yesterday_20_days_ago():
    p = _dry(3)
    p[0, -1] = 10.0   # today = day 1, c = -0.14
    p[1, -2] = 10.0   # yesterday = day 2, c = -0.07
    p[2, -21] = 10.0  # 20 days ago = day 21, window 16-30, c = -0.004
    pse = fi.days_of_dryness(p)[:, -1]
    # 105*exp(-1.4) = 105*0.246597 = 25.8927
    assert pse[0] == pytest.approx(25.89268, abs=1e-4)
    # 105*exp(-0.7) = 105*0.496585 = 52.1415
    assert pse[1] == pytest.approx(52.14146, abs=1e-4)
    # 105*exp(-0.04) = 105*0.960789 = 100.8829
    assert pse[2] == pytest.approx(100.88289, abs=1e-4)


def test_rain_121_days_ago_no_longer_counts():
    p = _dry(1, 121)
    p[0, 0] = 50.0  # day 121 for the last day; day 120 for the one before (c = -0.0007)
    pse = fi.days_of_dryness(p)[0]
    assert pse[-1] == 105.0
    # 105*exp(-0.0007*50) = 105*exp(-0.035) = 105*0.965605 = 101.3885
    assert pse[-2] == pytest.approx(101.38853, abs=1e-4)


def test_nan_precip_propagates_through_its_120_days():
    p = _dry(2, 300)
    p[0, 150] = np.nan
    pse = fi.days_of_dryness(p)
    assert not np.isnan(pse[0, 119:150]).any()
    assert np.isnan(pse[0, 150:270]).all()   # days 150..269 have day 150 in their history
    assert not np.isnan(pse[0, 270:]).any()
    assert not np.isnan(pse[1, 119:]).any()  # the other cell is unaffected


def _pse_reference(p: np.ndarray) -> np.ndarray:
    """Straightforward per-day loop, independent of the cumulative-sum implementation."""
    out = np.full(p.shape, np.nan)
    for t in range(119, p.shape[1]):
        s = 0.0 * p[:, 0]
        for c, (a, b) in zip(fi.RAIN_COEFFICIENTS, fi.RAIN_WINDOWS):
            s = s + c * p[:, t - b + 1: t - a + 2].sum(axis=1)
        out[:, t] = 105.0 * np.exp(s)
    return out


def test_pse_matches_loop_reference_on_random_rain():
    rng = np.random.default_rng(0)
    p = rng.gamma(0.3, 12.0, size=(4, 400)) * (rng.random((4, 400)) < 0.4)
    np.testing.assert_allclose(fi.days_of_dryness(p), _pse_reference(p), rtol=1e-10, equal_nan=True)


def test_pse_rejects_1d():
    with pytest.raises(ValueError, match="2-D"):
        fi.days_of_dryness(np.zeros(200))


# ---------------------------------------------------------------- MapBiomas mapping


@pytest.mark.parametrize("code,expected", [
    (3, 7), (6, 7), (5, 7), (1, 7),           # forest formation, floodable forest, mangrove, forest
    (4, 4), (49, 4),                          # savanna, wooded sandbank
    (12, 1), (50, 1), (15, 1),                # grassland, herbaceous sandbank, pasture
    (39, 2), (19, 2), (21, 2), (14, 2),       # soybean, temporary crop, mosaic, farming
    (46, 3), (35, 3),                         # coffee, palm oil (perennial woody crops)
    (9, 5),                                   # forest plantation
    (10, 3),                                  # herbaceous/shrubby
    (11, 0), (29, 0), (32, 0), (24, 0), (26, 0), (33, 0), (30, 0), (27, 0), (0, 0), (255, 0),
])
def test_mapbiomas_mapping(code, expected):
    assert fi.vegetation_class_from_mapbiomas(np.array([code]))[0] == expected


def test_mapbiomas_shape_and_nodata():
    out = fi.vegetation_class_from_mapbiomas(np.array([[3.0, np.nan], [-1.0, 15.0]]))
    np.testing.assert_array_equal(out, [[7, 0], [0, 1]])
    assert out.shape == (2, 2)


# ---------------------------------------------------------------- basic risk


@pytest.mark.parametrize("cls", [1, 2, 3, 4, 5, 6, 7])
def test_rb_is_0_9_at_and_beyond_psemax(cls):
    pse_max = fi.VEGETATION_CLASSES[cls][1]
    pse = np.array([[pse_max, pse_max + 1.0, 500.0]])
    # A*PSEmax = 180 -> sin(90 deg) = 1 -> 0.9*(1+1)/2 = 0.9 (class 6: angle clipped from 180.6)
    np.testing.assert_allclose(fi.basic_risk(pse, np.array([cls])), 0.9, rtol=0, atol=1e-12)


def test_rb_hand_values():
    pse = np.array([[105.0], [30.0], [0.0]])
    rb = fi.basic_risk(pse, np.array([7, 3, 1]))
    # class 7: 1.5*105 = 157.5; sin(67.5 deg) = 0.9238795; 0.9*1.9238795/2 = 0.8657458
    assert rb[0, 0] == pytest.approx(0.8657458, abs=1e-7)
    # class 3: 3*30 = 90; sin(0) = 0 -> 0.45
    assert rb[1, 0] == pytest.approx(0.45, abs=1e-12)
    # PSE 0: sin(-90 deg) = -1 -> 0
    assert rb[2, 0] == pytest.approx(0.0, abs=1e-12)


def test_rb_class_0_is_nan_and_broadcast_shapes_agree():
    pse = np.full((3, 4), 50.0)
    a = fi.basic_risk(pse, np.array([0, 2, 7]))
    b = fi.basic_risk(pse, np.array([[0], [2], [7]]))
    assert np.isnan(a[0]).all() and not np.isnan(a[1:]).any()
    np.testing.assert_array_equal(a[1:], b[1:])
    assert a[1, 0] == pytest.approx(0.9)  # class 2: PSEmax 45 < 50


def test_rb_rejects_bad_class_and_shape():
    with pytest.raises(ValueError, match="0–7"):
        fi.basic_risk(np.zeros((1, 2)), np.array([8]))
    with pytest.raises(ValueError, match="shape"):
        fi.basic_risk(np.zeros((2, 2)), np.array([1, 2, 3]))


# ---------------------------------------------------------------- fire risk


def _weather(tmax: float, rh: float, n_cells: int = 1, n_days: int = N_HIST):
    return np.full((n_cells, n_days), tmax), np.full((n_cells, n_days), rh)


def test_rf_hand_worked_both_versions():
    # No rain -> PSE 105; class 7 -> RB = 0.8657458 (see test_rb_hand_values).
    # Tmax 30 -> FT = 0.02*30 + 0.4 = 1.0; URmin 60.
    t, rh = _weather(30.0, 60.0)
    veg = np.array([7])
    # pre2019: FU = -0.006*60 + 1.3 = 0.94 -> RF = 0.8657458*1.0*0.94 = 0.8138010 (not rounded)
    rf_old = fi.fire_risk(_dry(), t, rh, veg, version="pre2019")[0, -1]
    assert rf_old == pytest.approx(0.8138010, abs=1e-6)
    assert rf_old != round(rf_old, 2)
    # 2019: FU = -0.008*60 + 1.3 = 0.82 -> 0.8657458*0.82 = 0.7099115 -> rounded 0.71
    assert fi.fire_risk(_dry(), t, rh, veg)[0, -1] == 0.71
    # with lat -10, elevation 200 m: (1 + 10*0.003)*(1 + 200*0.00003) = 1.03*1.006 = 1.03618
    # 0.7099115*1.03618 = 0.7355961 -> 0.74
    rf = fi.fire_risk(_dry(), t, rh, veg, lat=np.array([-10.0]), elevation_m=np.array([200.0]))
    assert rf[0, -1] == 0.74
    assert np.isnan(rf[0, :119]).all()


def test_rf_with_rain_and_tmax_scaling():
    p = _dry()
    p[0, -2] = 10.0  # yesterday: PSE = 52.14146 (see above)
    t, rh = _weather(35.0, 50.0)
    # class 2: 4*52.14146 = 208.566 > 180 -> capped at PSEmax 45 -> RB 0.9
    # FT = 0.02*35+0.4 = 1.1; pre2019 FU = -0.3+1.3 = 1.0 -> 0.99
    rf = fi.fire_risk(p, t, rh, np.array([2]), version="pre2019")
    assert rf[0, -1] == pytest.approx(0.99, abs=1e-12)
    # class 7: 1.5*52.14146 = 78.2122 deg; sin(-11.7878 deg) = -0.2042886
    # RB = 0.9*(1-0.2042886)/2 = 0.3580701; pre2019: *1.1*1.0 = 0.3938771
    rf7 = fi.fire_risk(p, t, rh, np.array([7]), version="pre2019")
    assert rf7[0, -1] == pytest.approx(0.3938771, abs=1e-6)


def test_rf_capped_at_one():
    # class 1, no rain: RB 0.9. Tmax 35 -> FT 1.1; URmin 30.
    t, rh = _weather(35.0, 30.0)
    # pre2019: FU = -0.18+1.3 = 1.12 -> 0.9*1.1*1.12 = 1.1088 -> 1
    assert fi.fire_risk(_dry(), t, rh, np.array([1]), version="pre2019")[0, -1] == 1.0
    # 2019 lat/elevation factor pushes over 1: Tmax 30 (FT 1.0), URmin 35: FU = -0.28+1.3 = 1.02
    # 0.9*1.0*1.02 = 0.918; *(1+15*0.003 = 1.045) = 0.95931; *(1+2000*0.00003 = 1.06) = 1.01687 -> 1
    t, rh = _weather(30.0, 35.0)
    veg = np.array([1])
    no_factor = fi.fire_risk(_dry(), t, rh, veg)[0, -1]
    assert no_factor == 0.92  # 0.918 rounded
    rf = fi.fire_risk(_dry(), t, rh, veg, lat=np.array([-15.0]), elevation_m=np.array([2000.0]))
    assert rf[0, -1] == 1.0


def test_rf_class_0_nan_and_unknown_version():
    t, rh = _weather(30.0, 50.0, n_cells=2)
    rf = fi.fire_risk(_dry(2), t, rh, np.array([0, 7]))
    assert np.isnan(rf[0, -1]) and not np.isnan(rf[1, -1])
    with pytest.raises(ValueError, match="'pre2019', '2019'"):
        fi.fire_risk(_dry(), *_weather(30.0, 50.0), np.array([7]), version="2020")


def test_rf_shape_mismatch_rejected():
    with pytest.raises(ValueError, match="must match"):
        fi.fire_risk(_dry(1, 130), *_weather(30.0, 50.0), np.array([7]))


# ---------------------------------------------------------------- INPE risk classes


def test_inpe_risk_class_boundaries():
    v = np.array([0.0, 0.15, 0.151, 0.40, 0.401, 0.70, 0.71, 0.95, 0.96, 1.0, np.nan])
    expected = ["mínimo", "mínimo", "baixo", "baixo", "médio", "médio", "alto", "alto",
                "crítico", "crítico", ""]
    assert fi.inpe_risk_class(v).tolist() == expected


def test_inpe_risk_class_keeps_shape_on_rounded_rf():
    v = np.round(np.array([[0.149999, 0.4000001], [0.7, 0.95]]), 2)
    out = fi.inpe_risk_class(v)
    assert out.shape == (2, 2)
    assert out.tolist() == [["mínimo", "baixo"], ["médio", "alto"]]


def test_inpe_risk_class_of_an_object_column_with_missing_values():
    """Values read from JSON or an object column (None for a missing value) are classed as numbers."""
    assert fi.inpe_risk_class(pd.Series([0.1, None, 0.97], dtype=object)).tolist() == ["mínimo", "", "crítico"]


# ---------------------------------------------------------------- per-event form


def _random_weather(n_cells: int = 4, n_days: int = 200, seed: int = 5):
    rng = np.random.default_rng(seed)
    precip = np.where(rng.random((n_cells, n_days)) < 0.3, rng.gamma(0.8, 8.0, (n_cells, n_days)), 0.0)
    tmax = rng.uniform(22.0, 38.0, (n_cells, n_days))
    rh = rng.uniform(15.0, 90.0, (n_cells, n_days))
    return precip, tmax, rh


def test_dryness_at_pairs_equals_the_full_array_exactly():
    precip, _, _ = _random_weather()
    precip[2, 150] = np.nan  # its 120 days after are NaN
    full = fi.days_of_dryness(precip)
    cells = np.array([0, 1, 2, 2, 2, 3, 3])
    days = np.array([199, 119, 149, 150, 160, 0, 118])
    np.testing.assert_array_equal(fi.days_of_dryness_at(precip, cells, days), full[cells, days])
    assert np.isnan(fi.days_of_dryness_at(precip, np.array([3]), np.array([118])))[0]  # short history
    assert fi.days_of_dryness_at(precip, np.array([], dtype=int), np.array([], dtype=int)).shape == (0,)


def test_dryness_at_rejects_bad_pairs():
    precip, _, _ = _random_weather()
    with pytest.raises(ValueError, match="outside"):
        fi.days_of_dryness_at(precip, np.array([0]), np.array([200]))
    with pytest.raises(ValueError, match="equal length"):
        fi.days_of_dryness_at(precip, np.array([0, 1]), np.array([150]))


def test_fire_risk_at_pairs_equals_fire_risk_on_the_full_arrays():
    precip, tmax, rh = _random_weather()
    veg = np.array([7, 1, 4, 0])
    lat, elev = np.array([-3.0, -10.0, -15.0, -7.0]), np.array([50.0, 300.0, 800.0, 10.0])
    full = fi.fire_risk(precip, tmax, rh, veg, lat=lat, elevation_m=elev)
    cells = np.repeat(np.arange(4), 3)
    days = np.tile(np.array([130, 170, 199]), 4)
    at = fi.fire_risk_at(precip, cells, days, tmax[cells, days], rh[cells, days], veg[cells],
                         lat=lat[cells], elevation_m=elev[cells])
    np.testing.assert_array_equal(at, full[cells, days])
    assert np.isnan(at[9:]).all() and not np.isnan(at[:9]).any()  # class 0: no value
    old = fi.fire_risk_at(precip, cells, days, tmax[cells, days], rh[cells, days], veg[cells], version="pre2019")
    np.testing.assert_array_equal(old, fi.fire_risk(precip, tmax, rh, veg, version="pre2019")[cells, days])
    with pytest.raises(ValueError, match="one value per event"):
        fi.fire_risk_at(precip, cells, days, tmax[0], rh[cells, days], veg[cells])
    # per-event values from an object column (JSON, a CSV with gaps): None is a missing value, NaN RF
    rh_objects = pd.Series(rh[cells, days], dtype=object)
    rh_objects[0] = None
    with_gap = fi.fire_risk_at(precip, cells, days, tmax[cells, days], rh_objects, veg[cells],
                               lat=lat[cells], elevation_m=elev[cells])
    assert np.isnan(with_gap[0]) and with_gap.dtype == np.float64
    np.testing.assert_array_equal(with_gap[1:], at[1:])


def test_fire_risk_from_dryness_is_fire_risk_after_days_of_dryness():
    precip, tmax, rh = _random_weather()
    veg = np.array([2, 3, 5, 6])
    np.testing.assert_array_equal(fi.fire_risk_from_dryness(fi.days_of_dryness(precip), tmax, rh, veg),
                                  fi.fire_risk(precip, tmax, rh, veg))


def test_inpe_classes_and_probability_levels_are_different_scales():
    from geih.domain.risk_levels import PROBABILITY_LEVELS, probability_level

    # the same number is "baixo" on INPE's index scale and "médio" on the probability scale
    assert fi.inpe_risk_class(np.array([0.3])).tolist() == ["baixo"]
    assert probability_level(np.array([0.3])).tolist() == ["médio"]
    assert [name for name, _ in fi.INPE_RISK_CLASSES] == ["mínimo", *PROBABILITY_LEVELS]
    assert not hasattr(fi, "RISK_CLASSES") and not hasattr(fi, "risk_class")


def test_hand_constants_consistent():
    # guard the arithmetic used in the comments above
    assert 105 * math.exp(-1.4) == pytest.approx(25.89268, abs=1e-4)
    assert 0.9 * (1 + math.sin(math.radians(67.5))) / 2 == pytest.approx(0.8657458, abs=1e-7)
