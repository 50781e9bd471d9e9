"""INPE operational fire-risk index ("Risco de Fogo", Setzer, Sismanoglu & Santos, v11, 2019).

Pure, vectorised numpy functions over arrays shaped ``(n_cells, n_days)`` (float64):

1. :func:`days_of_dryness` — PSE = 105 · ∏ exp(c_k · P_k) over 11 disjoint rain windows.
2. :func:`basic_risk` — RB = 0.9 · (1 + sin((A·PSE − 90)·π/180)) / 2, PSE capped at PSEmax.
3. :func:`fire_risk` — RF = RB · FT · FU (capped at 1), plus the 2019 latitude/elevation factor
   (:func:`fire_risk_from_dryness` is the same from PSE on).
4. :func:`inpe_risk_class` — INPE's five published classes of RF (`INPE_RISK_CLASSES`).

Per event — (cell, day) pairs, e.g. one fire each — :func:`days_of_dryness_at` and :func:`fire_risk_at`
give the same values as the full arrays at those pairs (the synthetic world's hotspot records use them).
Monthly statistics of the daily index: `geih.domain.monthly.monthly_reduce`.

INPE's classes are a scale of the *index* RF and share their Portuguese names with a different
scale: the probability levels of the deployed models (`geih.domain.risk_levels.PROBABILITY_LEVELS`,
four levels at probabilities 0.25/0.5/0.75). A "médio" on one scale is not a "médio" on the other.

Documented choices (not fixed by the method text):

* Missing data: the first 119 days (incomplete 120-day history) and any day whose 120-day
  history holds a NaN precipitation get PSE = NaN; NaN propagates through RB and RF.
* Class 6 has A = 1.72 and tabulated PSEmax = 105, but 1.72·105 = 180.6° > 180°, which would give
  RB = 0.89998 instead of the peak. The angle A·PSE is therefore also clipped to 180°, so RB = 0.9
  exactly at and beyond PSEmax for every class (equivalent to PSEmax = 180/A ≈ 104.65 for class 6).
* RF is not clipped from below: FT·FU is positive for any plausible weather (Tmax > −20 °C).
* ``fire_risk(version="2019")`` with ``lat``/``elevation_m`` left as None uses a factor of 1
  for that term (as at the equator / sea level). ``version="pre2019"`` ignores both and is not rounded.
* Rounding uses ``np.round`` (round-half-to-even on the binary value).
* :func:`inpe_risk_class` returns ``""`` for NaN (no value: non-vegetated cell or missing history).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numpy as np

__all__ = [
    "RAIN_WINDOWS",
    "RAIN_COEFFICIENTS",
    "HISTORY_DAYS",
    "PSE_NO_RAIN",
    "VEGETATION_CLASSES",
    "MAPBIOMAS_TO_INPE",
    "INPE_RISK_CLASSES",
    "VERSIONS",
    "days_of_dryness",
    "days_of_dryness_at",
    "vegetation_class_from_mapbiomas",
    "basic_risk",
    "fire_risk",
    "fire_risk_from_dryness",
    "fire_risk_at",
    "inpe_risk_class",
]

#: Disjoint rain windows as inclusive (first_day, last_day); day 1 is the day itself.
RAIN_WINDOWS: Final[tuple[tuple[int, int], ...]] = (
    (1, 1), (2, 2), (3, 3), (4, 4), (5, 5),
    (6, 10), (11, 15), (16, 30), (31, 60), (61, 90), (91, 120),
)
#: Coefficient c per window (same order as RAIN_WINDOWS), factor exp(c · P[mm]).
RAIN_COEFFICIENTS: Final[tuple[float, ...]] = (
    -0.14, -0.07, -0.04, -0.03, -0.02, -0.01, -0.008, -0.004, -0.002, -0.001, -0.0007,
)
#: Days of precipitation history one PSE value needs.
HISTORY_DAYS: Final[int] = RAIN_WINDOWS[-1][1]
#: PSE after no rain at all over the whole history.
PSE_NO_RAIN: Final[float] = 105.0

#: INPE vegetation class -> (A, PSEmax).
VEGETATION_CLASSES: Final[dict[int, tuple[float, float]]] = {
    1: (6.0, 30.0),     # grassland
    2: (4.0, 45.0),     # cropland / crop mosaic
    3: (3.0, 60.0),     # open shrub, savanna
    4: (2.4, 75.0),     # closed shrub, woody savanna
    5: (2.0, 90.0),     # needleleaf / mixed forest
    6: (1.72, 105.0),   # deciduous broadleaf
    7: (1.5, 120.0),    # evergreen broadleaf (Amazon rainforest)
}

#: MapBiomas (collections 8–10) code -> INPE class; any code not listed maps to 0 (no value).
#: Choices: 1 Forest (level-1 aggregate), 5 Mangrove (evergreen broadleaf trees, as IGBP) -> 7;
#: 10 Herbaceous/Shrubby (level-1 aggregate) -> 3 open shrub; 29 Rocky Outcrop and 32 Hypersaline
#: Tidal Flat are bare land -> 0; 14 Farming (aggregate of pasture/crops/mosaic) -> 2 crop mosaic;
#: perennial crops 36/46/47/35/48 (woody) -> 3, following IGBP, which classes perennial woody crops
#: by their shrub/tree cover rather than as cropland; 9 Forest Plantation (pine/eucalyptus) -> 5.
MAPBIOMAS_TO_INPE: Final[dict[int, int]] = {
    1: 7, 3: 7, 6: 7, 5: 7,
    4: 4, 49: 4,
    10: 3,
    12: 1, 50: 1, 15: 1,
    14: 2, 18: 2, 19: 2, 39: 2, 20: 2, 40: 2, 62: 2, 41: 2, 21: 2,
    36: 3, 46: 3, 47: 3, 35: 3, 48: 3,
    9: 5,
    # explicit no-value codes (as unlisted ones): wetland, bare/saline, non-vegetated, water,
    # not observed
    11: 0, 29: 0, 32: 0, 22: 0, 23: 0, 24: 0, 25: 0, 30: 0, 75: 0, 26: 0, 33: 0, 31: 0, 27: 0,
}

#: INPE's five classes of the fire-risk index RF: (name, upper bound of RF inclusive) in increasing
#: order; the last class is unbounded. Not the model probability levels of `geih.domain.risk_levels`.
INPE_RISK_CLASSES: Final[tuple[tuple[str, float], ...]] = (
    ("mínimo", 0.15), ("baixo", 0.40), ("médio", 0.70), ("alto", 0.95), ("crítico", np.inf),
)
#: Humidity coefficient of FU per method version.
VERSIONS: Final[dict[str, float]] = {"pre2019": -0.006, "2019": -0.008}

_COEF = np.asarray(RAIN_COEFFICIENTS, dtype=np.float64)
_A_TABLE = np.full(len(VEGETATION_CLASSES) + 1, np.nan)
_PSEMAX_TABLE = np.full(len(VEGETATION_CLASSES) + 1, np.nan)
for _k, (_a, _pmax) in VEGETATION_CLASSES.items():
    _A_TABLE[_k], _PSEMAX_TABLE[_k] = _a, _pmax
_MB_TABLE = np.zeros(256, dtype=np.int8)
for _code, _cls in MAPBIOMAS_TO_INPE.items():
    _MB_TABLE[_code] = _cls


def _as_2d(name: str, a: np.ndarray) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_cells, n_days), got shape {arr.shape}")
    return arr


def _per_cell(name: str, a: np.ndarray, n_cells: int) -> np.ndarray:
    """Return a per-cell array shaped (n_cells, 1) from (n_cells,) or (n_cells, 1)."""
    arr = np.asarray(a)
    if arr.shape not in ((n_cells,), (n_cells, 1)):
        raise ValueError(f"{name} must have shape ({n_cells},) or ({n_cells}, 1), got {arr.shape}")
    return arr.reshape(n_cells, 1)


def _dryness(window_rain: Callable[[int, int, np.ndarray], object], shape: tuple[int, ...]) -> np.ndarray:
    """PSE = 105 · exp(Σ c_k · P_k), shaped `shape`; window_rain(first_day, last_day, out) writes the rain
    P_k of window k of RAIN_WINDOWS into `out`."""
    expo = np.zeros(shape)
    rain = np.empty(shape)
    for c, (a, b) in zip(_COEF, RAIN_WINDOWS):  # 11 windows, each vectorised over all values
        window_rain(a, b, rain)
        rain *= c
        expo += rain
    np.exp(expo, out=expo)
    expo *= PSE_NO_RAIN
    return expo


def _rain_cumsums(p: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Cumulative rain (NaN as 0) and cumulative NaN count along days, each with a leading 0 column
    (the NaN count is None when there is no NaN)."""
    n_cells, n_days = p.shape
    nan = np.isnan(p)
    csum = np.zeros((n_cells, n_days + 1))
    np.cumsum(np.where(nan, 0.0, p), axis=1, out=csum[:, 1:])
    if not nan.any():
        return csum, None
    cnan = np.zeros((n_cells, n_days + 1))
    np.cumsum(nan, axis=1, dtype=np.float64, out=cnan[:, 1:])
    return csum, cnan


def days_of_dryness(precip: np.ndarray) -> np.ndarray:
    """Days of dryness PSE from daily rain (mm), shaped (n_cells, n_days).

    PSE = 105 · exp(Σ c_k · P_k) with P_k the rain in window k of RAIN_WINDOWS ending on the day.
    The first 119 days, and days with any NaN in their 120-day history, are NaN.
    """
    p = _as_2d("precip", precip)
    n_cells, n_days = p.shape
    out = np.full((n_cells, n_days), np.nan)
    if n_days < HISTORY_DAYS:
        return out
    csum, cnan = _rain_cumsums(p)
    # Output day t (0-based, t >= 119), window days a..b (1 = the day itself) covers
    # p[t-b+1 .. t-a+1] = csum[t-a+2] - csum[t-b+1]; as contiguous slices over t = 119..n_days-1.
    n_out = n_days - (HISTORY_DAYS - 1)

    def window_rain(a: int, b: int, out: np.ndarray) -> None:
        hi, lo = HISTORY_DAYS + 1 - a, HISTORY_DAYS - b
        np.subtract(csum[:, hi:hi + n_out], csum[:, lo:lo + n_out], out=out)

    pse = _dryness(window_rain, (n_cells, n_out))
    if cnan is not None:
        pse[(cnan[:, HISTORY_DAYS:] - cnan[:, :n_out]) > 0] = np.nan
    out[:, HISTORY_DAYS - 1:] = pse
    return out


def days_of_dryness_at(precip: np.ndarray, cells: np.ndarray, days: np.ndarray) -> np.ndarray:
    """PSE at (cell, day) pairs of daily rain ``precip`` (n_cells, n_days): the per-event form.

    ``cells`` and ``days`` are equal-length integer arrays (0-based row and day indices); the result
    equals ``days_of_dryness(precip)[cells, days]`` without building the full (n_cells, n_days) array.
    """
    p = _as_2d("precip", precip)
    c = np.asarray(cells, dtype=np.intp)
    t = np.asarray(days, dtype=np.intp)
    if c.shape != t.shape or c.ndim != 1:
        raise ValueError(f"cells {c.shape} and days {t.shape} must be 1-D and of equal length")
    if c.size and (c.min() < 0 or c.max() >= p.shape[0] or t.min() < 0 or t.max() >= p.shape[1]):
        raise ValueError(f"cell or day index outside precip of shape {p.shape}")
    out = np.full(c.size, np.nan)
    full = t >= HISTORY_DAYS - 1  # earlier days lack a complete history
    c, t = c[full], t[full]
    csum, cnan = _rain_cumsums(p)
    def window_rain(a: int, b: int, out: np.ndarray) -> None:
        np.subtract(csum[c, t - a + 2], csum[c, t - b + 1], out=out)

    pse = _dryness(window_rain, c.shape)
    if cnan is not None:
        pse[(cnan[c, t + 1] - cnan[c, t + 1 - HISTORY_DAYS]) > 0] = np.nan
    out[full] = pse
    return out


def vegetation_class_from_mapbiomas(codes: np.ndarray) -> np.ndarray:
    """Map MapBiomas codes to INPE classes 1–7 (int8); 0 = no value (see MAPBIOMAS_TO_INPE).

    Codes not in the table, negative, non-finite or > 255 (raster nodata) map to 0.
    """
    c = np.asarray(codes)
    if c.dtype.kind == "f":
        ok = np.isfinite(c) & (c >= 0) & (c < _MB_TABLE.size) & (c == np.floor(np.nan_to_num(c)))
    else:
        ok = (c >= 0) & (c < _MB_TABLE.size)
    idx = np.where(ok, c, 0).astype(np.intp)
    return _MB_TABLE[idx]


def _class_constants(vegetation_class: np.ndarray, n_cells: int) -> tuple[np.ndarray, np.ndarray]:
    v = _per_cell("vegetation_class", vegetation_class, n_cells)
    vi = np.asarray(v, dtype=np.float64)
    valid = np.isfinite(vi) & (vi >= 1) & (vi <= len(VEGETATION_CLASSES)) & (vi == np.round(vi))
    bad = np.isfinite(vi) & ~valid & (vi != 0)
    if bad.any():
        raise ValueError(f"vegetation_class values must be 0–7, got {np.unique(vi[bad]).tolist()}")
    idx = np.where(valid, vi, 0).astype(np.intp)
    return _A_TABLE[idx], _PSEMAX_TABLE[idx]


def basic_risk(pse: np.ndarray, vegetation_class: np.ndarray) -> np.ndarray:
    """Basic risk RB = 0.9·(1 + sin((A·min(PSE, PSEmax) − 90)·π/180))/2; NaN where class is 0.

    ``vegetation_class`` is per cell, (n_cells,) or (n_cells, 1), against pse (n_cells, n_days).
    The angle is clipped to 180° so RB is exactly 0.9 at and beyond PSEmax (see module notes).
    """
    p = _as_2d("pse", pse)
    a, pse_max = _class_constants(vegetation_class, p.shape[0])
    angle = np.minimum(a * np.minimum(p, pse_max), 180.0)
    return 0.9 * (1.0 + np.sin(np.deg2rad(angle - 90.0))) / 2.0


def fire_risk(
    precip: np.ndarray,
    tmax_c: np.ndarray,
    rhmin_pct: np.ndarray,
    vegetation_class: np.ndarray,
    lat: np.ndarray | None = None,
    elevation_m: np.ndarray | None = None,
    version: str = "2019",
) -> np.ndarray:
    """Fire risk RF in [0, 1] per cell and day, shaped (n_cells, n_days).

    FT = 0.02·Tmax + 0.4; FU = k·URmin + 1.3 (k = −0.006 "pre2019", −0.008 "2019");
    RF = min(RB·FT·FU, 1). For "2019" also × (1 + |lat|·0.003)·(1 + elevation·0.00003),
    capped at 1 and rounded to 2 decimals. lat / elevation_m are per cell (n_cells,).
    """
    _check_version(version)
    p = _as_2d("precip", precip)
    return fire_risk_from_dryness(days_of_dryness(p), tmax_c, rhmin_pct, vegetation_class, lat,
                                  elevation_m, version)


def _check_version(version: str) -> None:
    if version not in VERSIONS:
        raise ValueError(f"unknown version {version!r}; allowed: {', '.join(map(repr, VERSIONS))}")


def fire_risk_from_dryness(
    pse: np.ndarray,
    tmax_c: np.ndarray,
    rhmin_pct: np.ndarray,
    vegetation_class: np.ndarray,
    lat: np.ndarray | None = None,
    elevation_m: np.ndarray | None = None,
    version: str = "2019",
) -> np.ndarray:
    """RF from days of dryness PSE (n_cells, n_days): :func:`fire_risk` after :func:`days_of_dryness`.

    tmax_c and rhmin_pct have the shape of pse; vegetation_class, lat and elevation_m are per row.
    """
    _check_version(version)
    p = _as_2d("pse", pse)
    t = _as_2d("tmax_c", tmax_c)
    rh = _as_2d("rhmin_pct", rhmin_pct)
    if t.shape != p.shape or rh.shape != p.shape:
        raise ValueError(f"pse {p.shape}, tmax_c {t.shape} and rhmin_pct {rh.shape} must match")
    rb = basic_risk(p, vegetation_class)
    ft = 0.02 * t + 0.4
    fu = VERSIONS[version] * rh + 1.3
    rf = np.minimum(rb * ft * fu, 1.0)
    if version == "pre2019":
        return rf
    n_cells = p.shape[0]
    if lat is not None:
        rf = rf * (1.0 + np.abs(_per_cell("lat", lat, n_cells).astype(np.float64)) * 0.003)
    if elevation_m is not None:
        elev = _per_cell("elevation_m", elevation_m, n_cells).astype(np.float64)
        rf = rf * (1.0 + elev * 0.00003)
    return np.round(np.minimum(rf, 1.0), 2)


def fire_risk_at(
    precip: np.ndarray,
    cells: np.ndarray,
    days: np.ndarray,
    tmax_c: np.ndarray,
    rhmin_pct: np.ndarray,
    vegetation_class: np.ndarray,
    lat: np.ndarray | None = None,
    elevation_m: np.ndarray | None = None,
    version: str = "2019",
) -> np.ndarray:
    """RF at (cell, day) pairs of daily rain ``precip`` (n_cells, n_days): the per-event form.

    Every other argument has one value per pair (the weather of that day, the vegetation class,
    latitude and elevation of the event). Equals :func:`fire_risk` on the full arrays at those pairs.
    """
    pse = days_of_dryness_at(precip, cells, days)
    n = pse.size

    def column(name: str, values: np.ndarray) -> np.ndarray:
        arr = np.asarray(values, dtype=np.float64)
        if arr.shape != (n,):
            raise ValueError(f"{name} must have one value per event ({n},), got {arr.shape}")
        return arr.reshape(n, 1)

    rf = fire_risk_from_dryness(pse.reshape(n, 1), column("tmax_c", tmax_c), column("rhmin_pct", rhmin_pct),
                                vegetation_class, lat, elevation_m, version)
    return rf.reshape(n)


def inpe_risk_class(values: np.ndarray) -> np.ndarray:
    """INPE class of each RF value: mínimo ≤ 0.15 < baixo ≤ 0.40 < médio ≤ 0.70 < alto ≤ 0.95 < crítico.

    Returns a str array of the same shape; NaN gives "" (no value). These are INPE's classes of the
    index, not the model probability levels (`geih.domain.risk_levels.probability_level`).
    """
    v = np.asarray(values, dtype=np.float64)
    names = np.array([n for n, _ in INPE_RISK_CLASSES] + [""])
    bounds = np.array([b for _, b in INPE_RISK_CLASSES[:-1]])
    idx = np.searchsorted(bounds, v, side="left")  # v <= bounds[i] -> class i
    idx = np.where(np.isnan(v), len(INPE_RISK_CLASSES), idx)
    return names[idx]
