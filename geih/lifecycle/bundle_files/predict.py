"""Predict with this GEIH model bundle. Needs only the packages in requirements.txt.

Usage:
    python predict.py input.json            # or:  cat input.json | python predict.py
Input: a JSON list of records (feature name → number; null for missing), or {"instances": [...]}.
Output (stdout): a JSON list of {"prediction": 0/1, "probability": float, "risk_level": str}, one per
record, in order. Bad input → a message on stderr naming the record and feature, exit status 2.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


class BundleInputError(ValueError):
    """Input records that do not fit the model's features."""


def load_bundle(folder: Path = HERE) -> tuple[Any, dict[str, Any]]:
    """(model, model_info) of the bundle in `folder`."""
    import joblib

    info = json.loads((folder / "model_info.json").read_text(encoding="utf-8"))
    return joblib.load(folder / info["model_file"]), info


def records_from_json(payload: Any) -> list[dict[str, Any]]:
    """The list of records of a parsed JSON payload."""
    if isinstance(payload, dict) and "instances" in payload:
        payload = payload["instances"]
    if isinstance(payload, dict):
        payload = [payload]
    if not isinstance(payload, list) or not all(isinstance(r, dict) for r in payload):
        raise BundleInputError("expected a JSON list of objects (feature → value) or {\"instances\": [...]}")
    return payload


def feature_rows(records: list[dict[str, Any]], features: list[str]) -> list[list[float]]:
    """Records as rows of floats in the model's feature order; missing/non-numeric → error."""
    rows = []
    for i, record in enumerate(records):
        missing = [f for f in features if f not in record]
        if missing:
            raise BundleInputError(f"record {i}: missing feature(s) {missing[:5]}"
                                   + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""))
        row = []
        for f in features:
            value = record[f]
            if value is None:
                row.append(math.nan)
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise BundleInputError(f"record {i}: feature {f!r} must be a number or null, got {value!r}")
            row.append(float(value))
        rows.append(row)
    return rows


def risk_level(probability: float, thresholds: list[float], levels: list[str]) -> str:
    """The level of `probability`: a value equal to a threshold takes the upper level."""
    return levels[sum(probability >= t for t in thresholds)]


def predict(records: list[dict[str, Any]], model: Any = None, info: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Predictions for `records` with this bundle's model."""
    import pandas as pd

    if model is None or info is None:
        model, info = load_bundle()
    features = info["features"]
    if not records:
        return []
    frame = pd.DataFrame(feature_rows(records, features), columns=features, dtype="float64")
    probabilities = model.predict_proba(frame)[:, 1]
    out = []
    for p in probabilities:
        p = float(p)
        out.append({"prediction": int(p >= info["threshold"]), "probability": round(p, 6),
                    "risk_level": risk_level(p, info["risk_thresholds"], info["risk_levels"])})
    return out


def main(argv: list[str]) -> int:
    try:
        text = Path(argv[0]).read_text(encoding="utf-8") if argv and argv[0] != "-" else sys.stdin.read()
        result = predict(records_from_json(json.loads(text)))
    except FileNotFoundError as exc:
        print(f"error: input file not found: {exc.filename}", file=sys.stderr)
        return 2
    except json.JSONDecodeError as exc:
        print(f"error: input is not valid JSON: {exc}", file=sys.stderr)
        return 2
    except BundleInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    json.dump(result, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
