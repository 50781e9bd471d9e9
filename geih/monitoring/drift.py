"""Data drift: current inputs (production rows, or a held-out period) against the training reference,
feature by feature. Pure functions of arrays and frames; no I/O.

Per feature:
- numeric: the two-sample Kolmogorov–Smirnov test on the finite values (`scipy.stats.ks_2samp`) and the
  population stability index (PSI) over the reference's decile bins (right-closed, tied edges merged),
  with one more bin for missing values when either side has any;
- categorical (a feature whose values are not numbers, or one named categorical): the chi-square test of
  the 2×k table of category counts, reference vs current (`scipy.stats.chi2_contingency`), missing values
  being a category of their own, and the PSI over the categories.
PSI = Σ (a − e)·ln(a / e) over bins, with reference fractions e and current fractions a, each floored at
`PSI_FLOOR` so an empty bin does not make it infinite.

Decision rule (params `monitor.drift`, `DriftRule`): the p-values of all tested features are adjusted
with Benjamini–Hochberg; a feature has drifted when its adjusted p-value ≤ `fdr` AND its shift is
material: PSI ≥ its PSI threshold, or (numeric, continuous) KS statistic D ≥ its KS threshold. A numeric feature
whose reference holds at most `LATTICE_MAX_DISTINCT` distinct values (counts, rates over a few years) is judged
on PSI alone: on a lattice, D measures where the lattice points sit (a rate over 4 years vs over 5), not how the
mass moved. The data set has drifted when more than `max_drifted_features` features drifted.

The thresholds are per feature: at least the absolute floors `min_psi` and `min_ks`, and at least `year_margin`
times the feature's typical between-year KS D and `year_margin`² times its typical between-year PSI (PSI grows with
the square of a small shift, D linearly: both thresholds then stand for a shift `year_margin` times the usual one) (`YearNull`, `between_year_null`): the same comparison — a year
against the `reference_years` years before it, seasonally matched — repeated between the training years, and the
root mean square of the shifts over those year pairs taken. Year-to-year variation that is normal for a feature
(weather that differs from one year to the next, features that trend steadily) then does not count as drift; a
shift several times larger than the training years' own does. The root mean square uses every pair (with 3 or 4
pairs the median is too noisy a scale: a normal year beats 3 × the median of 3 pairs 14 % of the time, 3 × their
RMS 5 %, when year effects dominate a feature); the price is that an exceptional training year (a drought) raises
the bar for the features it moved — the model has seen such a year, and only a larger shift counts. Without a
training-year pair (one training year, or a reference with no time column) only the floors apply.

The p-values assume independent rows: rows of one cell over months are not, and the samples are large, so on
panel data nearly every feature is 'significant' and the thresholds are what bound false alarms. Their rate is
measured, not derived (`benchmarks/drift_false_alarms.py`: the rule on pairs of years with no drift by
construction, each calibrated on the other pairs; README, Monitoring).

Seasonal matching (`seasonal_match`): for monthly data the reference is resampled to the calendar-month
mix of the current rows (a December is compared with the training Decembers, not with a whole year).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from geih.errors import DataError
from geih.modelling.feature_schema import ReferenceStats
from geih.modelling.splits import row_year
from geih.params import check_keys, number

PSI_FLOOR = 1e-4
DECILES = np.linspace(0.1, 0.9, 9)
RULE_KEYS = {"fdr", "min_psi", "min_ks", "max_drifted_features", "year_margin"}


@dataclass(frozen=True)
class DriftRule:
    """When a feature, and the data set, count as drifted (see the module docstring)."""

    fdr: float = 0.05
    min_psi: float = 0.2
    min_ks: float = 0.1
    max_drifted_features: int = 0
    year_margin: float = 3.0  # × the feature's typical (RMS) between-year shift (PSI, KS D): its threshold

    @classmethod
    def from_params(cls, p: dict[str, Any], prefix: str = "monitor.drift") -> DriftRule:
        """The rule from the params group `prefix`; a bad or unknown key → ParamsError naming it."""
        check_keys(p, RULE_KEYS, prefix)
        return cls(fdr=float(number(p, "fdr", prefix, low=1e-6, high=0.5)),
                   min_psi=float(number(p, "min_psi", prefix, low=0.0)),
                   min_ks=float(number(p, "min_ks", prefix, low=0.0, high=1.0)),
                   max_drifted_features=int(number(p, "max_drifted_features", prefix, low=0, integer=True)),
                   year_margin=float(number(p, "year_margin", prefix, low=0.0)))

    def thresholds(self, feature: str, null: YearNull | None) -> tuple[float, float]:
        """(PSI threshold, KS threshold) of `feature`: the floors, raised to `year_margin`² × its typical
        between-year PSI and `year_margin` × its typical KS D when `null` knows the feature."""
        psi_min, ks_min = self.min_psi, self.min_ks
        if null is not None:
            typical_psi, typical_ks = null.psi.get(feature, math.nan), null.ks.get(feature, math.nan)
            if math.isfinite(typical_psi):  # PSI grows with the square of a small shift, KS D linearly
                psi_min = max(psi_min, self.year_margin ** 2 * typical_psi)
            if math.isfinite(typical_ks):
                ks_min = max(ks_min, self.year_margin * typical_ks)
        return psi_min, ks_min


@dataclass(frozen=True)
class YearNull:
    """The typical shift of each feature from one year to the next: the root mean square, over the
    training-year pairs named in `pairs` ('2021 vs 2020'), of its PSI and (KS-tested) KS statistic."""

    psi: dict[str, float]
    ks: dict[str, float]
    pairs: list[str]


LATTICE_MAX_DISTINCT = 20  # numeric features with at most this many distinct reference values: PSI decides


@dataclass(frozen=True)
class Reference:
    """The reference distribution of one feature: its non-missing values (all training values, or the
    schema's sample), the missing rate, the rows it stands for and the PSI bin edges (numeric only)."""

    values: np.ndarray
    missing_rate: float
    count: int
    edges: np.ndarray
    categorical: bool = False

    @classmethod
    def from_values(cls, values: Any, categorical: bool = False) -> Reference:
        """The reference of raw training values; numeric bins are the deciles of the finite values."""
        present, missing_rate, n = _split_missing(values, categorical)
        edges = np.empty(0)
        if not categorical and len(present):
            edges = np.unique(np.quantile(present, DECILES))
        return cls(values=np.sort(present), missing_rate=missing_rate, count=n, edges=edges,
                   categorical=categorical)

    @classmethod
    def from_stats(cls, ref: ReferenceStats) -> Reference:
        """The reference of a feature schema's statistics: its sample for the KS test and bin shares,
        its stored deciles as bin edges, its missing rate (numeric features only)."""
        inner = [q for q in ref.quantiles[1:-1] if q is not None]
        return cls(values=np.sort(np.asarray(ref.sample, dtype=np.float64)), missing_rate=float(ref.missing_rate),
                   count=int(ref.count), edges=np.unique(np.asarray(inner, dtype=np.float64)))


@dataclass(frozen=True)
class FeatureDrift:
    """Test results of one feature (p_adjusted and the decisions are filled by `detect_drift`)."""

    feature: str
    kind: str  # numeric | categorical
    test: str  # ks | chi2 | none (too few values to test)
    statistic: float
    p_value: float
    psi: float
    n_reference: int
    n_current: int
    missing_rate_reference: float
    missing_rate_current: float
    mean_reference: float | None = None
    mean_current: float | None = None
    discrete: bool = False  # numeric with few distinct reference values: PSI alone decides materiality
    psi_threshold: float = math.nan  # the rule's thresholds for this feature (floors or between-year)
    ks_threshold: float = math.nan
    p_adjusted: float = math.nan
    significant: bool = False
    material: bool = False
    drifted: bool = False


@dataclass(frozen=True)
class DriftReport:
    """All features' results under one rule, and the data-set decision."""

    rule: DriftRule
    features: list[FeatureDrift]

    @property
    def drifted_features(self) -> list[str]:
        return [f.feature for f in self.features if f.drifted]

    @property
    def drift_detected(self) -> bool:
        return len(self.drifted_features) > self.rule.max_drifted_features

    def to_dict(self, detail: bool = True) -> dict[str, Any]:
        """Top-level decision and counts, the rule and per-feature statistics — all of them, or (detail
        False, the metrics-file layout) the decision, PSI, test statistic and adjusted p-value."""
        keep = None if detail else ("drifted", "psi", "statistic", "p_adjusted", "psi_threshold", "ks_threshold")
        return {"drift_detected": self.drift_detected, "n_features": len(self.features),
                "n_tested": sum(f.test != "none" for f in self.features),
                "n_drifted": len(self.drifted_features), "drifted_features": self.drifted_features,
                "rule": asdict(self.rule),
                "features": {f.feature: {k: v for k, v in asdict(f).items()
                                         if k != "feature" and (keep is None or k in keep)}
                             for f in self.features}}

    def to_frame(self) -> pd.DataFrame:
        """One row per feature, most shifted (PSI) first."""
        frame = pd.DataFrame([asdict(f) for f in self.features])
        if frame.empty:
            return frame
        return frame.sort_values("psi", ascending=False, kind="stable").reset_index(drop=True)


def _split_missing(values: Any, categorical: bool) -> tuple[np.ndarray, float, int]:
    """(present values, missing rate, count): NaN/None/inf are missing for numbers, NaN/None for categories."""
    if categorical:
        series = pd.Series(values, dtype=object)
        missing = series.isna().to_numpy()
        present = series[~missing].astype(str).to_numpy(dtype=object)
    else:
        arr = np.asarray(values, dtype=np.float64)
        missing = ~np.isfinite(arr)
        present = arr[~missing]
    n = len(missing)
    return present, (float(missing.mean()) if n else 0.0), n


def psi(expected: np.ndarray, actual: np.ndarray, floor: float = PSI_FLOOR) -> float:
    """Population stability index of two vectors of bin fractions (each floored at `floor`)."""
    e = np.maximum(np.asarray(expected, dtype=np.float64), floor)
    a = np.maximum(np.asarray(actual, dtype=np.float64), floor)
    return float(np.sum((a - e) * np.log(a / e)))


def bin_fractions(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Fractions of finite `values` in the right-closed bins (-inf, e1], (e1, e2], …, (ek, inf)."""
    counts = np.bincount(np.searchsorted(edges, values, side="left"), minlength=len(edges) + 1)
    return counts / max(len(values), 1)


def _with_missing_bin(fractions: np.ndarray, missing_rate: float, keep: bool) -> np.ndarray:
    scaled = fractions * (1.0 - missing_rate)
    return np.append(scaled, missing_rate) if keep else scaled


def numeric_drift(name: str, ref: Reference, current: Any) -> FeatureDrift:
    """KS test and PSI of one numeric feature's current values against its reference."""
    present, missing_rate, n = _split_missing(current, categorical=False)
    keep_missing_bin = ref.missing_rate > 0 or missing_rate > 0
    if len(ref.values) and len(present):
        res = stats.ks_2samp(ref.values, present)
        test, statistic, p_value = "ks", float(res.statistic), float(res.pvalue)
        value = psi(_with_missing_bin(bin_fractions(ref.values, ref.edges), ref.missing_rate, keep_missing_bin),
                    _with_missing_bin(bin_fractions(present, ref.edges), missing_rate, keep_missing_bin))
    else:
        test, statistic, p_value = "none", math.nan, math.nan
        value = psi([ref.missing_rate, 1 - ref.missing_rate], [missing_rate, 1 - missing_rate]) if n else math.nan
    return FeatureDrift(
        feature=name, kind="numeric", test=test, statistic=statistic, p_value=p_value, psi=value,
        n_reference=ref.count, n_current=n, missing_rate_reference=ref.missing_rate,
        missing_rate_current=missing_rate,
        mean_reference=float(ref.values.mean()) if len(ref.values) else None,
        mean_current=float(present.mean()) if len(present) else None,
        discrete=bool(len(ref.values)) and len(np.unique(ref.values)) <= LATTICE_MAX_DISTINCT)


def categorical_drift(name: str, ref: Reference, current: Any) -> FeatureDrift:
    """Chi-square test of the category counts (missing = a category) and PSI over the categories."""
    present, missing_rate, n = _split_missing(current, categorical=True)
    ref_missing = int(round(ref.missing_rate * ref.count))
    ref_counts = pd.Series(ref.values).value_counts()
    cur_counts = pd.Series(present, dtype=object).value_counts()
    categories = sorted(set(ref_counts.index) | set(cur_counts.index), key=str)
    table = np.array([[ref_counts.get(c, 0) for c in categories] + [ref_missing],
                      [cur_counts.get(c, 0) for c in categories] + [n - len(present)]], dtype=np.float64)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] >= 2 and table[0].sum() > 0 and table[1].sum() > 0:
        chi2, p_value, _, _ = stats.chi2_contingency(table, correction=False)
        test, statistic = "chi2", float(chi2)
        value = psi(table[0] / table[0].sum(), table[1] / table[1].sum())
    elif table[0].sum() > 0 and table[1].sum() > 0:  # one single category on both sides: identical
        test, statistic, p_value, value = "chi2", 0.0, 1.0, 0.0
    else:
        test, statistic, p_value, value = "none", math.nan, math.nan, math.nan
    return FeatureDrift(feature=name, kind="categorical", test=test, statistic=statistic, p_value=float(p_value),
                        psi=value, n_reference=ref.count, n_current=n, missing_rate_reference=ref.missing_rate,
                        missing_rate_current=missing_rate)


def benjamini_hochberg(p_values: Any, fdr: float) -> tuple[np.ndarray, np.ndarray]:
    """(rejected, adjusted p-values) by the Benjamini–Hochberg step-up procedure; NaN p-values are not
    tested (never rejected, adjusted NaN) and do not count in the number of tests."""
    p = np.asarray(p_values, dtype=np.float64)
    adjusted = np.full(p.shape, np.nan)
    tested = np.flatnonzero(np.isfinite(p))
    m = len(tested)
    if m:
        order = np.argsort(p[tested], kind="stable")
        scaled = p[tested][order] * m / np.arange(1, m + 1)
        monotone = np.minimum.accumulate(scaled[::-1])[::-1]
        adjusted[tested[order]] = np.minimum(monotone, 1.0)
    rejected = np.zeros(p.shape, dtype=bool)
    rejected[tested] = adjusted[tested] <= fdr
    return rejected, adjusted


def decide(results: list[FeatureDrift], rule: DriftRule, null: YearNull | None = None) -> DriftReport:
    """Apply the rule: BH over all tested features, then each feature's thresholds (floors, or `year_margin`
    × its between-year shift in `null`)."""
    rejected, adjusted = benjamini_hochberg([r.p_value for r in results], rule.fdr)
    decided = []
    for r, significant, p_adj in zip(results, rejected, adjusted):
        psi_min, ks_min = rule.thresholds(r.feature, null)
        uses_ks = r.kind == "numeric" and not r.discrete and r.test == "ks"
        material = bool((np.isfinite(r.psi) and r.psi >= psi_min)
                        or (uses_ks and np.isfinite(r.statistic) and r.statistic >= ks_min))
        decided.append(FeatureDrift(**{**asdict(r), "psi_threshold": float(psi_min),
                                       "ks_threshold": float(ks_min) if uses_ks else math.nan,
                                       "p_adjusted": float(p_adj), "significant": bool(significant),
                                       "material": material, "drifted": bool(significant) and material}))
    return DriftReport(rule=rule, features=decided)


def feature_tests(references: Mapping[str, Reference], current: pd.DataFrame) -> list[FeatureDrift]:
    """The undecided test results of every feature of `references` (in its order) on the same column of
    `current`; a column missing from `current` is a DataError naming it."""
    missing = [name for name in references if name not in current.columns]
    if missing:
        raise DataError(f"feature columns missing from the current data: {missing}", column=missing[0])
    results = []
    for name, ref in references.items():
        test = categorical_drift if ref.categorical else numeric_drift
        results.append(test(name, ref, current[name].to_numpy()))
    return results


def detect_drift(references: Mapping[str, Reference], current: pd.DataFrame, rule: DriftRule,
                 null: YearNull | None = None) -> DriftReport:
    """Test every feature of `references` on `current` and apply the rule (with the between-year `null`
    when given)."""
    return decide(feature_tests(references, current), rule, null)


def references_from_frame(frame: pd.DataFrame, features: list[str],
                          categorical: frozenset[str] = frozenset()) -> dict[str, Reference]:
    """References from raw training rows (missing columns → DataError naming the first)."""
    missing = [f for f in features if f not in frame.columns]
    if missing:
        raise DataError(f"feature columns missing from the reference data: {missing}", column=missing[0])
    return {f: Reference.from_values(frame[f].to_numpy(), categorical=f in categorical or _is_text(frame[f]))
            for f in features}


def references_from_stats(reference: Mapping[str, ReferenceStats], features: list[str]) -> dict[str, Reference]:
    """References from a feature schema's statistics (a feature without statistics → DataError)."""
    missing = [f for f in features if f not in reference]
    if missing:
        raise DataError(f"the feature schema holds no reference statistics for {missing}", column=missing[0])
    return {f: Reference.from_stats(reference[f]) for f in features}


def _is_text(series: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series))


def calendar_months(values: pd.Series) -> np.ndarray | None:
    """The calendar month (1–12) of each value of a time column, or None when the column holds no dates
    (integer years: yearly data have no season to match). Strings like '2024-03' or '2024-03-01' are dates."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.month.to_numpy()
    if pd.api.types.is_numeric_dtype(values) or len(values) == 0:
        return None
    text = values.astype("string")
    if not text.str.fullmatch(r"\d{4}-\d{2}(-\d{2}.*)?").fillna(False).all():
        return None
    return pd.to_datetime(text.str.slice(0, 7), format="%Y-%m").dt.month.to_numpy()


def seasonal_match(reference: pd.DataFrame, reference_months: np.ndarray, current_months: np.ndarray,
                   seed: int = 0) -> pd.DataFrame:
    """The reference rows resampled (without replacement, seeded) to the calendar-month mix of the current
    rows: months absent from the current rows are dropped, and each month keeps as many rows as the
    largest mix-preserving sample allows. Months the reference lacks are left out of the mix."""
    months, counts = np.unique(current_months, return_counts=True)
    available = {m: np.flatnonzero(reference_months == m) for m in months}
    keep = [(m, c) for m, c in zip(months, counts) if len(available[m])]
    if not keep:
        raise DataError("the reference holds none of the current rows' calendar months; no seasonal match")
    total = sum(c for _, c in keep)
    scale = min(len(available[m]) / (c / total) for m, c in keep)
    rng = np.random.default_rng(seed)
    chosen = []
    for m, c in keep:
        rows = available[m]
        take = min(len(rows), max(1, int(math.floor(c / total * scale + 1e-9))))
        chosen.append(rows if take == len(rows) else rng.choice(rows, size=take, replace=False))
    return reference.iloc[np.sort(np.concatenate(chosen))].reset_index(drop=True)


def recent_years(frame: pd.DataFrame, time_column: str, years: int) -> pd.DataFrame:
    """The rows of `frame` in its last `years` distinct years (all rows when `years` is 0)."""
    if years <= 0 or frame.empty:
        return frame
    year = row_year(frame[time_column])
    keep = np.isin(year, np.sort(np.unique(year))[-years:])
    return frame[keep].reset_index(drop=True)


def year_reference(earlier: pd.DataFrame, current: pd.DataFrame, time_column: str, seed: int = 0) -> pd.DataFrame:
    """The rows of `earlier` to compare `current` with: resampled to the current calendar-month mix when both
    time columns hold dates, else all of them."""
    ref_months, cur_months = calendar_months(earlier[time_column]), calendar_months(current[time_column])
    if ref_months is None or cur_months is None or len(current) == 0:
        return earlier
    return seasonal_match(earlier, ref_months, cur_months, seed)


def between_year_null(train: pd.DataFrame, features: list[str], time_column: str, reference_years: int = 1,
                      months: np.ndarray | None = None, rows: int | None = None, seed: int = 0) -> YearNull | None:
    """Each feature's typical shift between training years (see `YearNull`): every training year that has
    `reference_years` years before it (any earlier year when 0) is compared, as the current rows would be, with
    those earlier years, seasonally matched. `months` keeps only those calendar months of each year (the
    months of the current rows); `rows` subsamples each year to that many rows, so the null carries the
    sampling noise of a current sample that small. None when the training rows hold fewer than two years."""
    if train.empty:
        return None
    year = row_year(train[time_column])
    years = np.sort(np.unique(year))
    lag = reference_years if reference_years > 0 else len(years)
    rng = np.random.default_rng(seed)
    psis: dict[str, list[float]] = {f: [] for f in features}
    kss: dict[str, list[float]] = {f: [] for f in features}
    pairs = []
    for i in range(1, len(years)):
        current = train[year == years[i]].reset_index(drop=True)
        if months is not None:
            current_months = calendar_months(current[time_column])
            if current_months is not None:
                current = current[np.isin(current_months, months)].reset_index(drop=True)
        if rows is not None and len(current) > rows:
            current = current.iloc[np.sort(rng.choice(len(current), size=rows, replace=False))].reset_index(drop=True)
        earlier = train[np.isin(year, years[max(0, i - lag):i])].reset_index(drop=True)
        if current.empty or earlier.empty:
            continue
        try:
            reference = year_reference(earlier, current, time_column, seed)
        except DataError:  # the earlier years lack the current calendar months
            continue
        for r in feature_tests(references_from_frame(reference, features), current):
            psis[r.feature].append(r.psi)
            if r.test == "ks":
                kss[r.feature].append(r.statistic)
        span = f"{years[max(0, i - lag)]}" + (f"..{years[i - 1]}" if i - 1 > max(0, i - lag) else "")
        pairs.append(f"{years[i]} vs {span}")
    if not pairs:
        return None

    def rms(values: list[float]) -> float:
        finite = np.asarray([v for v in values if math.isfinite(v)])
        return float(np.sqrt(np.mean(finite ** 2))) if len(finite) else math.nan

    return YearNull(psi={f: rms(v) for f, v in psis.items()}, ks={f: rms(v) for f, v in kss.items()}, pairs=pairs)


def held_out_drift(train: pd.DataFrame, test: pd.DataFrame, features: list[str], time_column: str,
                   rule: DriftRule, seed: int = 0, reference_years: int = 0) -> tuple[DriftReport, dict[str, Any]]:
    """Drift of the held-out rows against the training rows of the last `reference_years` years (all when 0),
    seasonally matched when the time column holds dates, judged against the training years' own between-year
    shifts (`between_year_null`), and a description of what was compared.

    Comparing with the recent past keeps features that trend by construction (cumulative clearing, the
    length of a cell's history) and a drought years back in the training period from reading as drift."""
    recent = recent_years(train, time_column, reference_years)
    reference = year_reference(recent, test, time_column, seed)
    matched = reference is not recent
    null = between_year_null(train, features, time_column, reference_years, seed=seed)
    report = detect_drift(references_from_frame(reference, features), test, rule, null)

    def span(values: pd.Series) -> str:
        low, high = values.min(), values.max()
        fmt = (lambda v: v.strftime("%Y-%m")) if pd.api.types.is_datetime64_any_dtype(values) else str
        return f"{fmt(low)}..{fmt(high)}" if len(values) else ""

    return report, {"reference_rows": len(reference), "training_rows": len(train), "current_rows": len(test),
                    "seasonal_match": matched, "reference_span": span(recent[time_column]),
                    "current_span": span(test[time_column]), "time_column": time_column,
                    "between_year_pairs": null.pairs if null else []}


def drift_plot_rows(report: DriftReport) -> pd.DataFrame:
    """Plot data, one row per feature (most shifted first): PSI, KS statistic (numeric features),
    BH-adjusted p-value, the feature's thresholds, the decision (1 = drifted), the test, means and missing rates."""
    frame = report.to_frame()
    if frame.empty:
        return pd.DataFrame(columns=["feature", "psi", "ks_statistic", "p_adjusted", "psi_threshold",
                                     "ks_threshold", "drifted", "test",
                                     "mean_reference", "mean_current", "missing_rate_reference",
                                     "missing_rate_current"])
    return pd.DataFrame({"feature": frame["feature"], "psi": frame["psi"],
                         "ks_statistic": frame["statistic"].where(frame["test"] == "ks"),
                         "p_adjusted": frame["p_adjusted"], "psi_threshold": frame["psi_threshold"],
                         "ks_threshold": frame["ks_threshold"], "drifted": frame["drifted"].astype(int),
                         "test": frame["test"], "mean_reference": frame["mean_reference"],
                         "mean_current": frame["mean_current"],
                         "missing_rate_reference": frame["missing_rate_reference"],
                         "missing_rate_current": frame["missing_rate_current"]})
