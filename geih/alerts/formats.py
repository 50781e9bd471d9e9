"""Alerts as GeoJSON (RFC 7946: EPSG:4326 longitude/latitude, counter-clockwise cell polygons) and as CSV (one
row per alert, the cell polygon as WKT), and the counts per level.

GeoJSON: a FeatureCollection whose foreign members say what it is (`task`, `model`, `levels`, `periods`,
`attribution`, `count`); each Feature's properties: task, model_name, model_version, period, cell_id, lat/lon
(cell centre), probability, risk_level, state, state_code, municipality, municipality_code (IBGE), and
`top_features`, a list of {feature, contribution} (log-odds; empty when the model family has no attribution —
`attribution` says why). CSV: the same properties with top_feature_1..3 / top_contribution_1..3 and `geometry_wkt`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geih.alerts.places import cell_bounds, polygon_ring
from geih.domain.grid import Grid
from geih.errors import GeihError
from geih.io import atomic_path

FORMATS = ("geojson", "csv")
PROPERTY_COLUMNS = ("task", "model_name", "model_version", "period", "cell_id", "lat", "lon", "probability",
                    "risk_level", "state", "state_code", "municipality", "municipality_code")


def output_format(path: Path, given: str | None = None) -> str:
    """'geojson' or 'csv': `given`, else from the extension (.geojson/.json, .csv); GeihError otherwise."""
    if given is not None:
        if given not in FORMATS:
            raise GeihError(f"--format {given!r}: expected one of {list(FORMATS)}")
        return given
    suffix = Path(path).suffix.lower()
    if suffix in (".geojson", ".json"):
        return "geojson"
    if suffix == ".csv":
        return "csv"
    raise GeihError(f"{path}: cannot tell the format from {suffix or 'no extension'!r}; use .geojson or .csv, "
                    "or --format geojson|csv")


def _number(value: Any, digits: int = 6) -> Any:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if isinstance(value, (np.integer, int)):
        return int(value)
    return round(float(value), digits)


def _top_features(row: dict[str, Any], k: int) -> list[dict[str, Any]]:
    return [{"feature": row[f"top_feature_{j}"], "contribution": _number(row[f"top_contribution_{j}"])}
            for j in range(1, k + 1) if row.get(f"top_feature_{j}") is not None]


def top_k(alerts: pd.DataFrame) -> int:
    return sum(1 for c in alerts.columns if c.startswith("top_feature_"))


def feature_collection(alerts: pd.DataFrame, resolution: float, levels: Sequence[str]) -> dict[str, Any]:
    """The alerts as a GeoJSON FeatureCollection (a dict ready for json.dumps)."""
    west, south, east, north = cell_bounds(Grid(resolution), alerts["cell_id"].to_numpy())
    k = top_k(alerts)
    features = []
    for i, row in enumerate(alerts.to_dict("records")):
        props = {c: row[c] for c in PROPERTY_COLUMNS}
        for c in ("lat", "lon", "probability", "cell_id", "state_code", "municipality_code"):
            props[c] = _number(props[c], 6 if c in ("lat", "lon") else 12)
        props["top_features"] = _top_features(row, k)
        features.append({"type": "Feature", "id": f"{row['period']}/{row['cell_id']}",
                         "geometry": {"type": "Polygon",
                                      "coordinates": [polygon_ring(west[i], south[i], east[i], north[i])]},
                         "properties": props})
    first = alerts.iloc[0] if len(alerts) else None
    return {"type": "FeatureCollection",
            "task": None if first is None else first["task"],
            "model": None if first is None else {"name": first["model_name"], "version": first["model_version"]},
            "levels": list(levels), "periods": sorted(alerts["period"].unique().tolist()),
            "attribution": alerts.attrs.get("attribution"), "count": len(alerts), "features": features}


def geojson_text(alerts: pd.DataFrame, resolution: float, levels: Sequence[str]) -> str:
    """The FeatureCollection as text, one Feature per line (readable diffs)."""
    collection = feature_collection(alerts, resolution, levels)
    features = collection.pop("features")
    head = json.dumps(collection, ensure_ascii=False)[:-1]
    body = ",\n".join(json.dumps(f, ensure_ascii=False) for f in features)
    return f'{head}, "features": [\n{body}\n]}}\n' if features else f'{head}, "features": []}}\n'



def csv_frame(alerts: pd.DataFrame, resolution: float) -> pd.DataFrame:
    """The CSV rows: the properties, top features flattened, the attribution method and the polygon as WKT."""
    west, south, east, north = cell_bounds(Grid(resolution), alerts["cell_id"].to_numpy())
    k = top_k(alerts)
    columns = [*PROPERTY_COLUMNS, *(c for j in range(1, k + 1) for c in (f"top_feature_{j}", f"top_contribution_{j}"))]
    out = alerts[columns].copy()
    out["attribution"] = alerts.attrs.get("attribution")
    out["geometry_wkt"] = [
        "POLYGON ((" + ", ".join(f"{x:.6f} {y:.6f}" for x, y in polygon_ring(w, s, e, n)) + "))"
        for w, s, e, n in zip(west, south, east, north)]
    return out


def write_alerts(alerts: pd.DataFrame, path: Path, resolution: float, levels: Sequence[str],
                 fmt: str | None = None) -> str:
    """Write the alerts atomically as GeoJSON or CSV (by `fmt` or the extension); returns the format."""
    kind = output_format(path, fmt)
    with atomic_path(path) as tmp:
        if kind == "geojson":
            tmp.write_text(geojson_text(alerts, resolution, levels), encoding="utf-8")
        else:
            csv_frame(alerts, resolution).to_csv(tmp, index=False, float_format="%.6g", lineterminator="\n")
    return kind


def level_counts(alerts: pd.DataFrame, levels: Sequence[str]) -> dict[str, int]:
    """Alerted cells per level, every level named (0 where none)."""
    counts = alerts["risk_level"].value_counts()
    return {level: int(counts.get(level, 0)) for level in levels}
