"""Drift statistics on known distributions: identical → no drift, shifted → drift; PSI bins by hand;
Benjamini–Hochberg against hand-computed adjustments; seasonal matching; the held-out comparison."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from geih.errors import DataError, ParamsError
from geih.modelling.feature_schema import ReferenceStats
from geih.monitoring import drift as d

RULE = d.DriftRule(fdr=0.05, min_psi=0.2, min_ks=0.1, max_drifted_features=0)


def normal_frame(seed: int, n: int, shift: dict[str, float] | None = None, features: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(features)})
    for name, delta in (shift or {}).items():
        frame[name] += delta
    return frame


def test_identical_distributions_do_not_drift():
    ref, cur = normal_frame(1, 5000), normal_frame(2, 3000)
    report = d.detect_drift(d.references_from_frame(ref, list(ref.columns)), cur, RULE)
    assert not report.drift_detected and report.drifted_features == []
    assert all(f.psi < 0.05 and f.statistic < 0.05 for f in report.features)


def test_a_shifted_feature_drifts_and_only_it():
    ref, cur = normal_frame(1, 5000), normal_frame(2, 3000, shift={"x3": 0.6})
    report = d.detect_drift(d.references_from_frame(ref, list(ref.columns)), cur, RULE)
    assert report.drift_detected and report.drifted_features == ["x3"]
    x3 = next(f for f in report.features if f.feature == "x3")
    assert x3.significant and x3.material and x3.psi > 0.2 and x3.statistic > 0.2
    assert x3.mean_current - x3.mean_reference == pytest.approx(0.6, abs=0.1)


def test_a_tiny_shift_is_significant_but_not_material():
    """Large samples make a 0.05σ shift 'significant'; the effect floor keeps it from flagging."""
    ref, cur = normal_frame(1, 200_000, features=1), normal_frame(2, 200_000, shift={"x0": 0.05}, features=1)
    f = d.detect_drift(d.references_from_frame(ref, ["x0"]), cur, RULE).features[0]
    assert f.significant and not f.material and not f.drifted


def test_max_drifted_features_sets_the_data_set_decision():
    ref, cur = normal_frame(1, 3000), normal_frame(2, 3000, shift={"x1": 1.0})
    lenient = d.DriftRule(fdr=0.05, min_psi=0.2, min_ks=0.1, max_drifted_features=1)
    report = d.detect_drift(d.references_from_frame(ref, list(ref.columns)), cur, lenient)
    assert report.drifted_features == ["x1"] and not report.drift_detected


def test_psi_by_hand():
    # (0.25 − 0.5)·ln(0.25/0.5) + (0.75 − 0.5)·ln(0.75/0.5)
    assert d.psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(0.25 * math.log(2) + 0.25 * math.log(1.5))
    assert d.psi([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]) == 0.0
    assert math.isfinite(d.psi([0.5, 0.5], [1.0, 0.0]))  # an empty bin is floored, not infinite


def test_psi_bins_are_reference_deciles_with_ties_merged_and_right_closed():
    ref = d.Reference.from_values(np.array([0, 0, 0, 0, 0, 0, 0, 1, 2, 3], dtype=float))
    # deciles (linear, position 9q): 0.1…0.6 are all 0 → one edge; 0.7 → 0.3, 0.8 → 1.2, 0.9 → 2.1
    assert ref.edges.tolist() == pytest.approx([0.0, 0.3, 1.2, 2.1])
    # bins (-inf, 0], (0, 0.3], (0.3, 1.2], (1.2, 2.1], (2.1, inf): zeros in the first, 1.2 closes the third
    assert d.bin_fractions(np.array([0.0, 0.0, 1.0, 1.2, 2.0, 5.0]), ref.edges).tolist() == pytest.approx(
        [2 / 6, 0, 2 / 6, 1 / 6, 1 / 6])


def test_missing_values_have_their_own_psi_bin():
    rng = np.random.default_rng(0)
    ref = d.Reference.from_values(rng.normal(size=4000))
    current = rng.normal(size=4000)
    current[: len(current) // 2] = np.nan  # half the values go missing; the rest is unchanged
    f = d.numeric_drift("x", ref, current)
    assert f.missing_rate_current == pytest.approx(0.5) and f.statistic < 0.05  # KS sees no shift in values
    assert f.psi > 0.2  # … but the missing bin does
    assert d.decide([f], RULE).features[0].material


def test_reference_from_schema_statistics_uses_its_deciles_and_sample():
    rng = np.random.default_rng(3)
    values = rng.normal(size=20_000)
    values[::10] = np.nan
    stats = ReferenceStats.of(values, seed=0)
    ref = d.Reference.from_stats(stats)
    assert len(ref.values) == 1000 and ref.missing_rate == pytest.approx(0.1) and ref.count == 20_000
    assert ref.edges.tolist() == pytest.approx(stats.quantiles[1:-1])
    same = d.numeric_drift("x", ref, rng.normal(size=3000))
    shifted = d.numeric_drift("x", ref, rng.normal(loc=0.8, size=3000))
    assert same.statistic < 0.06 and shifted.statistic > 0.25 and shifted.psi > 0.2


def test_categorical_features_use_chi_square():
    rng = np.random.default_rng(0)
    ref = d.Reference.from_values(rng.choice(["forest", "pasture", "crop"], p=[0.6, 0.3, 0.1], size=5000),
                                  categorical=True)
    same = d.categorical_drift("lc", ref, rng.choice(["forest", "pasture", "crop"], p=[0.6, 0.3, 0.1], size=3000))
    moved = d.categorical_drift("lc", ref, rng.choice(["forest", "pasture", "crop", "urban"], p=[0.3, 0.4, 0.2, 0.1],
                                                      size=3000))
    assert same.test == moved.test == "chi2" and same.p_value > 0.01 and same.psi < 0.01
    assert moved.p_value < 1e-10 and moved.psi > 0.2  # a new category ('urban') counts, not crashes
    report = d.decide([same, moved], RULE)
    assert report.drifted_features == ["lc"] and report.features[0].kind == "categorical"


def test_text_columns_are_categorical_in_references_from_frame():
    refs = d.references_from_frame(pd.DataFrame({"state": ["PA", "MT", "PA"], "x": [1.0, 2.0, 3.0]}), ["state", "x"])
    assert refs["state"].categorical and not refs["x"].categorical


def test_benjamini_hochberg_hand_computed():
    # sorted p: .001 .03 .036 .9; thresholds i·q/m: .0125 .025 .0375 .05 → largest i with p(i) ≤ i·q/m is 3,
    # so .03 is rejected although it is above its own threshold (step-up)
    rejected, adjusted = d.benjamini_hochberg([0.9, 0.036, 0.001, 0.03], 0.05)
    assert rejected.tolist() == [False, True, True, True]
    # adjusted = min over k ≥ i of p(k)·m/k: p·m/i = .004, .06, .048, .9 → .004, min(.06, .048) = .048, .048, .9
    assert adjusted.tolist() == pytest.approx([0.9, 0.048, 0.004, 0.048])
    rejected, adjusted = d.benjamini_hochberg([0.04, 0.045, 0.05, 0.2], 0.05)
    assert not rejected.any() and adjusted.tolist() == pytest.approx([0.0667, 0.0667, 0.0667, 0.2], abs=1e-4)


def test_benjamini_hochberg_skips_untested_features():
    rejected, adjusted = d.benjamini_hochberg([0.02, float("nan"), 0.04], 0.05)
    assert rejected.tolist() == [True, False, True]  # m = 2: .02·2/1 = .04, .04·2/2 = .04
    assert adjusted[0] == pytest.approx(0.04) and math.isnan(adjusted[1])


def test_missing_column_is_a_data_error():
    refs = d.references_from_frame(normal_frame(0, 100, features=2), ["x0", "x1"])
    with pytest.raises(DataError, match="x1"):
        d.detect_drift(refs, normal_frame(0, 100, features=1), RULE)


def test_rule_from_params_checks_keys_and_ranges():
    assert d.DriftRule.from_params({"fdr": 0.1, "min_psi": 0.25, "min_ks": 0.1, "max_drifted_features": 2,
                                    "year_margin": 3}).fdr == 0.1
    with pytest.raises(ParamsError, match="monitor.drift.fdr"):
        d.DriftRule.from_params({"fdr": 2, "min_psi": 0.2, "min_ks": 0.1, "max_drifted_features": 0, "year_margin": 3})
    with pytest.raises(ParamsError, match="monitor.drift.year_margin"):
        d.DriftRule.from_params({"fdr": 0.1, "min_psi": 0.2, "min_ks": 0.1, "max_drifted_features": 0})
    assert d.DriftRule.from_params({"fdr": 0.1, "min_psi": 0.25, "min_ks": 0.1, "max_drifted_features": 2,
                                    "year_margin": 2.5}).year_margin == 2.5
    with pytest.raises(ParamsError, match="monitor.drift.year_margin"):
        d.DriftRule.from_params({"fdr": 0.1, "min_psi": 0.25, "min_ks": 0.1, "max_drifted_features": 2,
                                 "year_margin": -1})
    with pytest.raises(ParamsError, match="monitor.drift.typo"):
        d.DriftRule.from_params({"fdr": 0.05, "min_psi": 0.2, "min_ks": 0.1, "max_drifted_features": 0,
                                 "year_margin": 3, "typo": 1})


def test_calendar_months_of_dates_strings_and_years():
    assert d.calendar_months(pd.Series(pd.to_datetime(["2024-03-01", "2023-12-01"]))).tolist() == [3, 12]
    assert d.calendar_months(pd.Series(["2024-03", "2024-11-01"])).tolist() == [3, 11]
    assert d.calendar_months(pd.Series([2023, 2024])) is None  # yearly data: no season
    assert d.calendar_months(pd.Series(["2024", "2023"])) is None


def test_seasonal_match_keeps_the_current_month_mix():
    months = np.repeat([1, 6, 12], [300, 500, 200])
    reference = pd.DataFrame({"month": months, "row": np.arange(len(months))})
    current = np.repeat([6, 12], [30, 10])  # June:December = 3:1, no January
    matched = d.seasonal_match(reference, months, current, seed=0)
    counts = matched["month"].value_counts().to_dict()
    # June needs 3 rows per December: all 500 Junes and 500 / 3 = 166 of the 200 Decembers
    assert counts == {6: 500, 12: 166}
    current = np.repeat([6, 12], [10, 30])  # 1:3 → all 200 Decembers, 66 Junes
    counts = d.seasonal_match(reference, months, current, seed=0)["month"].value_counts().to_dict()
    assert counts == {12: 200, 6: 66}
    with pytest.raises(DataError, match="calendar months"):
        d.seasonal_match(reference, months, np.array([7, 8]), seed=0)


def test_held_out_drift_compares_december_with_training_decembers():
    """The test period is a December that looks like earlier Decembers: unmatched against the whole
    year it would drift (seasonal temperature), matched it does not."""
    rng = np.random.default_rng(0)
    months = pd.date_range("2020-01-01", "2023-12-01", freq="MS")
    train = pd.DataFrame({"label_month": np.repeat(months, 200)})
    season = np.cos(2 * np.pi * (train["label_month"].dt.month.to_numpy() - 1) / 12)
    train["temp"] = 30 + 3 * season + rng.normal(size=len(train))
    test = pd.DataFrame({"label_month": pd.Timestamp("2024-12-01"), "temp": 30 + 3 * np.cos(2 * np.pi * 11 / 12)
                         + rng.normal(size=400)})
    report, compared = d.held_out_drift(train, test, ["temp"], "label_month", RULE, seed=1)
    assert compared["seasonal_match"] and compared["reference_rows"] == 4 * 200
    assert compared["current_span"] == "2024-12..2024-12" and not report.drift_detected
    unmatched = d.detect_drift(d.references_from_frame(train, ["temp"]), test, RULE)
    assert unmatched.drift_detected


def test_report_layouts_and_plot_rows():
    ref, cur = normal_frame(1, 2000, features=3), normal_frame(2, 2000, shift={"x2": 1.0}, features=3)
    report = d.detect_drift(d.references_from_frame(ref, list(ref.columns)), cur, RULE)
    full, compact = report.to_dict(), report.to_dict(detail=False)
    assert full["drift_detected"] is True and full["n_drifted"] == 1 and full["drifted_features"] == ["x2"]
    assert set(compact["features"]["x2"]) == {"drifted", "psi", "statistic", "p_adjusted", "psi_threshold",
                                               "ks_threshold"}
    assert compact["features"]["x2"]["psi_threshold"] == 0.2 and compact["features"]["x2"]["ks_threshold"] == 0.1
    assert "mean_current" in full["features"]["x2"]
    plot = d.drift_plot_rows(report)
    assert plot["feature"].iloc[0] == "x2" and plot["drifted"].tolist() == [1, 0, 0]
    assert plot["ks_statistic"].notna().all()


def test_recent_years_keeps_the_last_years_of_dates_and_integer_years():
    months = pd.DataFrame({"label_month": pd.to_datetime(["2021-03-01", "2022-07-01", "2023-01-01", "2023-12-01"])})
    assert list(d.recent_years(months, "label_month", 1)["label_month"].dt.year) == [2023, 2023]
    assert len(d.recent_years(months, "label_month", 2)) == 3
    assert len(d.recent_years(months, "label_month", 0)) == 4
    years = pd.DataFrame({"year": [2019, 2020, 2020, 2021]})
    assert list(d.recent_years(years, "year", 1)["year"]) == [2021]


def test_held_out_drift_against_recent_years_ignores_a_shift_years_back():
    rng = np.random.default_rng(3)
    train = pd.DataFrame({"year": np.repeat([2019, 2020, 2021], 400),
                          "x": np.concatenate([rng.normal(5, 1, 400), rng.normal(0, 1, 800)])})
    test = pd.DataFrame({"year": np.full(400, 2022), "x": rng.normal(0, 1, 400)})
    rule = d.DriftRule(fdr=0.05, min_psi=0.2, min_ks=0.1, max_drifted_features=0, year_margin=0.0)  # floors only
    all_years, _ = d.held_out_drift(train, test, ["x"], "year", rule, reference_years=0)
    recent, compared = d.held_out_drift(train, test, ["x"], "year", rule, reference_years=1)
    assert all_years.drift_detected and not recent.drift_detected
    assert compared["reference_span"] == "2021..2021" and compared["reference_rows"] == 400


def test_a_rate_on_another_lattice_is_judged_on_psi_not_on_ks():
    """A rate over 4 years (k/4) against the same propensity over 5 years (k/5): KS D is large because the
    lattice moved, PSI is small because the mass did not; a real shift of the rate still drifts."""
    rng = np.random.default_rng(7)
    ref = rng.binomial(4, 0.3, 20000) / 4
    same = rng.binomial(5, 0.3, 20000) / 5
    shifted = rng.binomial(5, 0.7, 20000) / 5
    rule = d.DriftRule(fdr=0.05, min_psi=0.2, min_ks=0.1, max_drifted_features=0)
    lattice = d.numeric_drift("rate", d.Reference.from_values(ref), same)
    assert lattice.discrete and lattice.statistic >= 0.1 and lattice.psi < 0.2
    assert not d.decide([lattice], rule).drift_detected
    assert d.decide([d.numeric_drift("rate", d.Reference.from_values(ref), shifted)], rule).drift_detected
    continuous = d.numeric_drift("x", d.Reference.from_values(rng.normal(size=5000)), rng.normal(0.3, 1, 5000))
    assert not continuous.discrete and d.decide([continuous], rule).drift_detected


# --- the between-year null: normal year-to-year variation is not drift ---------------------------------------

def yearly_panel(year_means: dict[int, float], rows: int = 3000, seed: int = 0) -> pd.DataFrame:
    """Rows of years with a feature `weather` whose mean moves from year to year (the given means, sd 1 within a
    year) and a feature `stable` that does not move."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"year": np.repeat(list(year_means), rows),
                         "weather": np.concatenate([rng.normal(m, 1, rows) for m in year_means.values()]),
                         "stable": rng.normal(0, 1, rows * len(year_means))})


NORMAL_YEARS = {2019: 0.0, 2020: 0.4, 2021: -0.05, 2022: 0.35, 2023: -0.1}  # |year-to-year shift| 0.35–0.45


def test_a_normal_year_flags_on_the_floors_alone_but_not_against_the_between_year_null():
    """The test year moves as much as the training years did from one year to the next (0.3 sd): KS D ≈ 0.12
    passes the floor 0.1, but it is a third of the usual between-year shift, so the calibrated rule is quiet."""
    panel = yearly_panel({**NORMAL_YEARS, 2024: 0.2})
    train, test = panel[panel["year"] < 2024], panel[panel["year"] == 2024]
    floors_only = d.DriftRule(year_margin=0.0)
    report, compared = d.held_out_drift(train, test, ["weather", "stable"], "year", RULE, reference_years=1)
    bare, _ = d.held_out_drift(train, test, ["weather", "stable"], "year", floors_only, reference_years=1)
    assert bare.drifted_features == ["weather"]
    assert not report.drift_detected
    assert compared["between_year_pairs"] == ["2020 vs 2019", "2021 vs 2020", "2022 vs 2021", "2023 vs 2022"]
    weather = next(f for f in report.features if f.feature == "weather")
    assert 0.1 < weather.statistic < weather.ks_threshold and weather.ks_threshold > 3 * 0.1
    stable = next(f for f in report.features if f.feature == "stable")
    assert stable.ks_threshold == 0.1 and stable.psi_threshold == 0.2  # tiny between-year shifts: the floors


def test_a_shift_beyond_the_usual_year_to_year_variation_flags():
    panel = yearly_panel({**NORMAL_YEARS, 2024: 2.0})  # a drought: 2 sd, five times the usual move
    train, test = panel[panel["year"] < 2024], panel[panel["year"] == 2024]
    report, _ = d.held_out_drift(train, test, ["weather", "stable"], "year", RULE, reference_years=1)
    assert report.drift_detected and report.drifted_features == ["weather"]


def test_an_exceptional_training_year_raises_the_bar_for_the_features_it_moved():
    """A drought in a training year is a large between-year shift: a test-year drought of the same size is within
    what the training years saw (not flagged); one three times as large is flagged."""
    years = {2019: 0.0, 2020: 0.8, 2021: 0.0, 2022: 0.3, 2023: 0.0}
    panel = yearly_panel({**years, 2024: 0.8})
    train, test = panel[panel["year"] < 2024], panel[panel["year"] == 2024]
    assert not d.held_out_drift(train, test, ["weather"], "year", RULE, reference_years=1)[0].drift_detected
    panel = yearly_panel({**years, 2024: 2.5})
    train, test = panel[panel["year"] < 2024], panel[panel["year"] == 2024]
    assert d.held_out_drift(train, test, ["weather"], "year", RULE, reference_years=1)[0].drifted_features == ["weather"]


def test_false_alarms_under_a_between_year_null_are_rare():
    """Worlds whose yearly means are independent draws (sd 0.25): the test year is just another year. Over 30
    seeded worlds the calibrated rule flags at most 3 (the floors alone flag many of them)."""
    calibrated = floors = 0
    for seed in range(30):
        rng = np.random.default_rng(100 + seed)
        panel = yearly_panel(dict(zip(range(2019, 2025), rng.normal(0, 0.25, 6))), rows=1000, seed=seed)
        train, test = panel[panel["year"] < 2024], panel[panel["year"] == 2024]
        calibrated += d.held_out_drift(train, test, ["weather"], "year", RULE, reference_years=1)[0].drift_detected
        floors += d.held_out_drift(train, test, ["weather"], "year", d.DriftRule(year_margin=0.0),
                                   reference_years=1)[0].drift_detected
    assert calibrated <= 3 and floors >= 10


def test_between_year_null_uses_the_current_months_and_sample_size():
    """Monthly rows: only the current calendar months are compared between years; a small current sample
    (rows) carries more sampling noise, so its typical between-year PSI is larger."""
    rng = np.random.default_rng(5)
    months = pd.date_range("2020-01-01", "2023-12-01", freq="MS")
    train = pd.DataFrame({"label_month": np.repeat(months, 300)})
    june = (train["label_month"].dt.month == 6).to_numpy()
    year_shift = (train["label_month"].dt.year.to_numpy() % 2) * 1.5  # June values jump between years
    train["x"] = rng.normal(size=len(train)) + np.where(june, year_shift, 0.0)
    all_months = d.between_year_null(train, ["x"], "label_month", 1)
    no_june = d.between_year_null(train, ["x"], "label_month", 1, months=np.array([1, 2, 3]))
    june_only = d.between_year_null(train, ["x"], "label_month", 1, months=np.array([6]))
    assert june_only.ks["x"] > 0.4 > all_months.ks["x"] > no_june.ks["x"]
    small = d.between_year_null(train, ["x"], "label_month", 1, months=np.array([1, 2, 3]), rows=60, seed=1)
    assert small.psi["x"] > no_june.psi["x"]
    assert d.between_year_null(train[train["label_month"].dt.year == 2020], ["x"], "label_month", 1) is None


def test_rule_thresholds_are_the_floors_or_the_margin_times_the_typical_shift():
    null = d.YearNull(psi={"a": 0.01, "b": 0.5}, ks={"a": 0.02, "b": 0.2}, pairs=["2021 vs 2020"])
    rule = d.DriftRule(min_psi=0.2, min_ks=0.1, year_margin=3.0)
    assert rule.thresholds("a", null) == (0.2, 0.1)
    assert rule.thresholds("b", null) == pytest.approx((4.5, 0.6))  # PSI: margin², a quadratic measure
    assert rule.thresholds("c", null) == (0.2, 0.1) and rule.thresholds("b", None) == (0.2, 0.1)
