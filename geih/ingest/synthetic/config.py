"""Configuration of the synthetic Legal Amazon: world size, seed and every generator coefficient.

`WorldConfig.from_params` reads the `acquire` params group (a plain dict, nested groups for the
coefficients) and names the offending key in a `ParamsError` when a key is unknown or a value is bad.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from geih.errors import ParamsError


def _coef(default: float, lo: float | None = None, hi: float | None = None, *,
          lo_open: bool = False, integer: bool = False, doc: str = "") -> Any:
    """A dataclass field with a numeric default and the range `from_params` enforces."""
    return field(default=default, metadata={"lo": lo, "hi": hi, "lo_open": lo_open,
                                            "integer": integer, "doc": doc})


@dataclass(frozen=True)
class WeatherCoefficients:
    """Daily weather: seasonal wet-day probability, rain amounts, persistent dryness anomalies."""

    wet_prob_wet_season: float = _coef(0.72, 0.05, 0.99, doc="wet-day probability at the height of the wet season")
    dry_season_logit_drop: float = _coef(5.3, 0.0, 10.0, doc="logit drop of the wet-day probability at the dry-season "
                                                            "peak, times the cell's seasonality (0.3 NW .. 1 SE)")
    mean_rain_mm: float = _coef(11.0, 0.5, 100.0, doc="mean rain above the 1 mm floor on a wet day (wet season)")
    anomaly_sd: float = _coef(0.55, 0.0, 3.0, doc="sd of the persistent dryness anomaly (logit units, + = drier)")
    anomaly_timescale_days: float = _coef(40.0, 1.0, 365.0, doc="e-folding time of the AR(1) dryness anomaly")
    anomaly_length_deg: float = _coef(3.0, 0.0, 20.0, doc="spatial smoothing scale of the anomaly")
    year_anomaly_sd: float = _coef(0.25, 0.0, 3.0, doc="sd of the smooth year-to-year dryness anomaly")
    drought_strength: float = _coef(1.3, 0.0, 5.0, doc="extra dryness anomaly over the dry season of drought_year")
    drought_heat_c: float = _coef(1.5, 0.0, 10.0, doc="extra tmax (°C) over the dry season of drought_year")
    rain_event_length_deg: float = _coef(0.7, 0.0, 10.0, doc="spatial scale of daily rain events")


@dataclass(frozen=True)
class LandcoverCoefficients:
    """Initial land cover: conversion pressure from roads, towns and the arc of deforestation."""

    road_weight: float = _coef(1.6, doc="conversion score at a road (decays with road_scale_km)")
    road_scale_km: float = _coef(22.0, 0.1, doc="e-folding distance of the road effect on conversion")
    settlement_weight: float = _coef(0.8, doc="conversion score at a town (decays with 35 km)")
    arc_weight: float = _coef(1.1, doc="conversion score on the arc of deforestation")
    cerrado_weight: float = _coef(0.5, doc="extra conversion score in the Cerrado")
    noise_sd: float = _coef(0.45, 0.0, doc="sd of the smooth noise added to the conversion score")
    threshold: float = _coef(1.25, doc="converted where the score exceeds this")
    flip_fraction: float = _coef(0.25, 0.0, 1.0, lo_open=True,
                                 doc="a forest pixel becomes pasture once this fraction of it is cleared")


@dataclass(frozen=True)
class DeforestationCoefficients:
    """Yearly clearing: logit p = intercept + road + neighbours (more along roads) + history + forest + cell
    effect + noise. The cell effect (land-use pressure) is mostly a smooth Gaussian random field: clearing
    pressure is regional, as in the real arc of deforestation."""

    intercept: float = _coef(-3.4, doc="logit of the clearing probability of a remote, intact cell")
    road: float = _coef(2.4, doc="× exp(-distance to road / road_scale_km)")
    road_scale_km: float = _coef(45.0, 0.1)
    neighbours: float = _coef(1.8, doc="× fraction of the 8 neighbours with an event last year")
    history: float = _coef(0.55, doc="× log1p(km² the cell cleared in the previous 3 years)")
    forest: float = _coef(0.6, doc="× log(remaining forest fraction + 0.02)")
    frontier: float = _coef(1.2, doc="× 4·f·(1-f), f = forest fraction (edge of the frontier)")
    road_neighbours: float = _coef(0.8, doc="× neighbours' event fraction × road term: the frontier spreads along roads")
    cell_effect_sd: float = _coef(0.6, 0.0, doc="persistent land-use pressure of a cell (logit units)")
    cell_effect_spatial_share: float = _coef(0.8, 0.0, 1.0, doc="share of its variance in a smooth random field")
    cell_effect_range_deg: float = _coef(2.0, 0.0, 20.0, doc="smoothing scale (Gaussian sd) of that field, degrees")
    noise_sd: float = _coef(0.35, 0.0)
    event_area_median_km2: float = _coef(4.0, 0.0, lo_open=True, doc="median extra area above 1 km² of an event")
    event_area_sigma: float = _coef(1.1, 0.0, doc="lognormal sigma of the event area")
    noise_polygon_rate: float = _coef(0.35, 0.0, 1.0, doc="chance a non-event forest cell-year gets tiny polygons")
    burn_in_years: int = _coef(4, 0, 20, integer=True, doc="PRODES years simulated (not written) before the span")


@dataclass(frozen=True)
class FireCoefficients:
    """Expected monthly count of true fires per cell: λ = exp(η) · hotspot_scale (per cell, any resolution).

    Tuned so that at the default size the oracle AUC is ≈ 0.89 and a model using information up to the
    previous month gets within ≈ 0.01 of it: most of η is known before the month (season, last months'
    dryness, land cover, roads, clearing, the persistent cell effect); `precip`, `tmax_anomaly`,
    `rhmin_anomaly` and `noise_sd` are the month's own surprise. How strongly fires answer dryness can be made
    regional (`dryness_response_*`, off by default: burning practices and fuels differ between regions): a cell's
    own past counts do not reveal it, its region's past fires and dryness do.
    """

    intercept: float = _coef(-0.2)
    season: float = _coef(0.4, doc="× seasonality × climatological dry-season phase of the month")
    prev_dry_days: float = _coef(0.25, doc="× log1p(days without rain at the end of the previous month)")
    prev_precip: float = _coef(-0.25, doc="× log1p(previous month's rain / 10 mm)")
    prev2_precip: float = _coef(-0.1, doc="× log1p(rain two months before / 10 mm)")
    precip: float = _coef(-0.12, doc="× log1p(this month's rain / 10 mm) — not known before the month")
    tmax_anomaly: float = _coef(0.06, doc="per °C of this month's mean tmax anomaly")
    rhmin_anomaly: float = _coef(-0.008, doc="per % of this month's mean rhmin anomaly")
    landcover: float = _coef(0.8, doc="× log(flammability-weighted land-cover mix)")
    weight_forest: float = _coef(0.2, 0.0)
    weight_savanna: float = _coef(1.0, 0.0)
    weight_grassland: float = _coef(1.1, 0.0)
    weight_pasture: float = _coef(1.0, 0.0)
    weight_crop: float = _coef(0.45, 0.0)
    weight_mosaic: float = _coef(0.9, 0.0)
    weight_other: float = _coef(0.02, 0.0, doc="water, urban")
    road: float = _coef(1.3, doc="× exp(-distance to road / road_scale_km)")
    road_scale_km: float = _coef(30.0, 0.1)
    settlement: float = _coef(0.4, doc="× exp(-distance to town / settlement_scale_km)")
    settlement_scale_km: float = _coef(25.0, 0.1)
    recent_clearing: float = _coef(0.55, doc="× log1p(km² cleared in the previous 12 months)")
    cell_effect_sd: float = _coef(0.6, 0.0, doc="persistent ignition pressure of a cell (learnable from past fires)")
    cell_effect_spatial_share: float = _coef(0.8, 0.0, 1.0, doc="share of its variance in a smooth random field")
    cell_effect_range_deg: float = _coef(1.5, 0.0, 20.0, doc="smoothing scale (Gaussian sd) of that field, degrees")
    dryness_response_sd: float = _coef(0.0, 0.0, 3.0, doc="regional fire regime: sd of a smooth field that "
                                       "multiplies the carried-over dryness, log1p(days without rain at the end "
                                       "of the previous month) less its mean over the span")
    dryness_response_range_deg: float = _coef(2.5, 0.0, 20.0, doc="smoothing scale (Gaussian sd) of that field")
    noise_sd: float = _coef(0.15, 0.0, doc="month-to-month noise, unknown in advance")


@dataclass(frozen=True)
class DetectionCoefficients:
    """How true fires become BDQueimadas rows."""

    reference_prob: float = _coef(0.6, 0.0, 1.0, lo_open=True, doc="P(AQUA_M-T detects a true fire)")
    other_satellites_scale: float = _coef(1.0, 0.0, 5.0, doc="× detection probabilities of the other satellites")
    jitter_deg: float = _coef(0.005, 0.0, 0.1, doc="sd of the position jitter of duplicate detections")
    negative_frp_rate: float = _coef(0.003, 0.0, 1.0)
    duplicate_row_rate: float = _coef(0.002, 0.0, 1.0, doc="fraction of rows published twice")
    invalid_weather_rate: float = _coef(0.01, 0.0, 1.0, doc="fraction of -999 in days-without-rain/precip/risk")


@dataclass(frozen=True)
class WorldConfig:
    """Everything that determines the synthetic world; the same config gives the same bytes."""

    seed: int = 42
    start_year: int = 2019
    years: int = 6
    grid_resolution_deg: float = 0.5
    subcells: int = 5
    hotspot_scale: float = 1.0
    drought_year: int | None = 2020
    weather: WeatherCoefficients = field(default_factory=WeatherCoefficients)
    landcover: LandcoverCoefficients = field(default_factory=LandcoverCoefficients)
    deforestation: DeforestationCoefficients = field(default_factory=DeforestationCoefficients)
    fire: FireCoefficients = field(default_factory=FireCoefficients)
    detection: DetectionCoefficients = field(default_factory=DetectionCoefficients)

    @property
    def end_year(self) -> int:
        """Last calendar year of the span (inclusive)."""
        return self.start_year + self.years - 1

    @property
    def prodes_years(self) -> list[int]:
        """PRODES years (Aug Y-1 .. Jul Y) that lie fully inside the span."""
        return list(range(self.start_year + 1, self.end_year + 1))

    @property
    def pixel_deg(self) -> float:
        """Side of a land-cover pixel in degrees."""
        return self.grid_resolution_deg / self.subcells

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (the shape `from_params` reads)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_params(cls, params: dict[str, Any] | None, prefix: str = "acquire") -> WorldConfig:
        """Build from a params dict; raise ParamsError naming `<prefix>.<key>` for bad keys or values."""
        params = dict(params or {})
        known = {f.name for f in dataclasses.fields(cls)}
        for key in params:
            if key not in known:
                raise ParamsError(f"{prefix}.{key}", f"unknown key; expected one of {sorted(known)}")
        kwargs: dict[str, Any] = {}
        for key, value in params.items():
            if key in _GROUPS:
                kwargs[key] = _group_from_params(_GROUPS[key], value, f"{prefix}.{key}")
            else:
                kwargs[key] = value
        _check_top(kwargs, prefix)
        return cls(**kwargs)


_GROUPS: dict[str, type] = {
    "weather": WeatherCoefficients,
    "landcover": LandcoverCoefficients,
    "deforestation": DeforestationCoefficients,
    "fire": FireCoefficients,
    "detection": DetectionCoefficients,
}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: Any) -> bool:
    return _is_number(value) and float(value).is_integer()


def _check_top(kw: dict[str, Any], prefix: str) -> None:
    """Validate the top-level scalar keys present in `kw` (converting ints in place)."""
    def need_int(key: str, lo: int, hi: int) -> None:
        if key in kw:
            v = kw[key]
            if not _is_int(v) or not lo <= v <= hi:
                raise ParamsError(f"{prefix}.{key}", f"expected an integer in [{lo}, {hi}], got {v!r}")
            kw[key] = int(v)

    need_int("seed", 0, 2**63 - 1)
    need_int("start_year", 1990, 2100)
    need_int("years", 2, 40)
    need_int("subcells", 1, 20)
    if "grid_resolution_deg" in kw:
        v = kw["grid_resolution_deg"]
        if not _is_number(v) or not 0 < v <= 5:
            raise ParamsError(f"{prefix}.grid_resolution_deg", f"expected a number in (0, 5], got {v!r}")
        kw["grid_resolution_deg"] = float(v)
    if "hotspot_scale" in kw:
        v = kw["hotspot_scale"]
        if not _is_number(v) or not 0 < v <= 1000:
            raise ParamsError(f"{prefix}.hotspot_scale", f"expected a number in (0, 1000], got {v!r}")
        kw["hotspot_scale"] = float(v)
    if "drought_year" in kw and kw["drought_year"] is not None:
        v = kw["drought_year"]
        if not _is_int(v) or not 1990 <= v <= 2100:
            raise ParamsError(f"{prefix}.drought_year", f"expected a year or null, got {v!r}")
        kw["drought_year"] = int(v)


def _group_from_params(cls: type, value: Any, prefix: str) -> Any:
    """One coefficient group from a dict, each value checked against its field's range."""
    if value is None:
        return cls()
    if not isinstance(value, dict):
        raise ParamsError(prefix, f"expected a mapping of coefficients, got {type(value).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, v in value.items():
        if key not in fields:
            raise ParamsError(f"{prefix}.{key}", f"unknown key; expected one of {sorted(fields)}")
        meta = fields[key].metadata
        if not _is_number(v):
            raise ParamsError(f"{prefix}.{key}", f"expected a finite number, got {v!r}")
        if meta.get("integer"):
            if not _is_int(v):
                raise ParamsError(f"{prefix}.{key}", f"expected an integer, got {v!r}")
            v = int(v)
        else:
            v = float(v)
        lo, hi = meta.get("lo"), meta.get("hi")
        if lo is not None and (v < lo or (meta.get("lo_open") and v == lo)):
            bound = ">" if meta.get("lo_open") else ">="
            raise ParamsError(f"{prefix}.{key}", f"expected a value {bound} {lo}, got {v!r}")
        if hi is not None and v > hi:
            raise ParamsError(f"{prefix}.{key}", f"expected a value <= {hi}, got {v!r}")
        kwargs[key] = v
    return cls(**kwargs)
