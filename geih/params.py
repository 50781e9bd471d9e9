"""Reading params.yaml groups and checking their keys."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from geih.errors import GeihError, ParamsError


def load_params(path: str | Path = "params.yaml") -> dict[str, Any]:
    """The whole params file as a dict; a missing or malformed file is a GeihError."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise GeihError(f"params file {path} not found") from exc
    except yaml.YAMLError as exc:
        raise GeihError(f"params file {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise GeihError(f"params file {path} must hold a mapping of groups")
    return data


def with_overrides(params: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """A copy of `params` with each `dotted.key=value` set, as `dvc exp run -S` sets it (the value read as YAML:
    `400` an int, `null` None, `random_forest` a string). A leaf may be new, its parent must be an existing
    mapping (a mistyped group is an error, not a new group); malformed → ParamsError naming the override."""
    result = copy.deepcopy(params)
    for override in overrides:
        key, sep, text = override.partition("=")
        if not sep or not key or any(not part for part in key.split(".")):
            raise ParamsError(override, "expected dotted.key=value")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ParamsError(key, f"value {text!r} is not valid YAML: {exc}") from exc
        *parents, leaf = key.split(".")
        node = group(result, ".".join(parents)) if parents else result
        node[leaf] = value
    return result


def group(params: dict[str, Any], key: str) -> dict[str, Any]:
    """The sub-mapping at dotted `key` (e.g. 'prepare.fire_risk'); missing → ParamsError."""
    node: Any = params
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ParamsError(key, "missing from params.yaml")
        node = node[part]
    if not isinstance(node, dict):
        raise ParamsError(key, f"expected a mapping, got {node!r}")
    return node


def check_keys(values: dict[str, Any], allowed: set[str], prefix: str) -> None:
    """Raise ParamsError naming the first key of `values` not in `allowed`."""
    for key in values:
        if key not in allowed:
            raise ParamsError(f"{prefix}.{key}", f"unknown key; expected one of {sorted(allowed)}")


def number(values: dict[str, Any], key: str, prefix: str, *, low: float | None = None,
           high: float | None = None, integer: bool = False) -> float:
    """values[key] checked to be a number within [low, high] (an int when `integer`)."""
    if key not in values:
        raise ParamsError(f"{prefix}.{key}", "missing")
    value = values[key]
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type:
        kind = "an integer" if integer else "a number"
        raise ParamsError(f"{prefix}.{key}", f"expected {kind}, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ParamsError(f"{prefix}.{key}", f"expected a value in [{low}, {high}], got {value!r}")
    return value


def choice(values: dict[str, Any], key: str, prefix: str, allowed: set[str] | list[str]) -> str:
    """values[key] checked to be one of `allowed`."""
    value = values.get(key)
    if value not in allowed:
        raise ParamsError(f"{prefix}.{key}", f"expected one of {sorted(allowed)}, got {value!r}")
    return value
