"""The models a service answers for: each loaded from a bundle folder through the bundle's own predict.py
(the service depends on the bundle contract only), with request/response schemas generated from the
bundle's input schema (one pydantic model per task: the features as fields, strict numbers, valid ranges)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from geih.errors import GeihError
from geih.lifecycle.bundle import load_predictor

# model_info.json keys that describe files and tracking-store ids rather than the model.
INTERNAL_KEYS = ("model_file", "feature_schema_file", "run_id", "model_id")
DEFAULT_MAX_INSTANCES = 1000  # per request; larger batches: predict.py --input/--output


@dataclass(frozen=True)
class ServedModel:
    """One task's model as the service holds it: the bundle's predict.py module, the model, its
    model_info and the request model generated from the input schema."""

    task: str
    folder: Path
    module: ModuleType
    model: Any
    info: dict[str, Any]
    scorer: Any  # the bundle's predict.Scorer: matrix → (probabilities, predictions, risk-level indices)
    instance_model: type[BaseModel]
    request_model: type[BaseModel]

    @property
    def name(self) -> str:
        return str(self.info["name"])

    @property
    def version(self) -> str:
        return str(self.info["version"])

    @property
    def features(self) -> list[str]:
        return [s["name"] for s in self.info["input_schema"]["features"]]

    def metadata(self) -> dict[str, Any]:
        """model_info without file names and tracking-store ids."""
        return {k: v for k, v in self.info.items() if k not in INTERNAL_KEYS}


def verify_bundle(folder: Path) -> dict[str, Any]:
    """Check a bundle folder without unpickling anything (model_info.json readable, model file matching
    its checksum, input schema present); returns its model_info. Problems are GeihErrors."""
    folder = Path(folder)
    if not folder.is_dir():
        raise GeihError(f"bundle {folder}: no such folder")
    module = load_predictor(folder)
    try:
        info = module.read_info(folder)
        module.verify_model_file(folder, info)
    except module.BundleError as exc:
        raise GeihError(f"bundle {folder}: {exc}") from exc
    if "input_schema" not in info:
        raise GeihError(f"bundle {folder}: model_info.json has no input_schema; rebuild the bundle")
    if info.get("kind", "classification") != "classification":
        targets = ", ".join(t["name"] for t in info.get("targets", []))
        raise GeihError(f"bundle {folder}: a {info['kind']} bundle (task {info.get('task')}, targets {targets}); "
                        "the service answers classification bundles (probability, class, risk level) — score it "
                        "with `geih predict` or the bundle's predict.py")
    return info


def load_served(folder: Path, max_instances: int = DEFAULT_MAX_INSTANCES, threads: int = 1) -> ServedModel:
    """Load a bundle (model verified by its checksum first) and build its request schemas; the model scores
    with `threads` threads per request (n_jobs)."""
    folder = Path(folder)
    verify_bundle(folder)
    module = load_predictor(folder)
    try:
        model, info = module.load_bundle(folder)
    except module.BundleError as exc:
        raise GeihError(f"bundle {folder}: {exc}") from exc
    task = str(info["task"])
    instance = instance_model(task, info["input_schema"]["features"], reference_medians(folder, info))
    return ServedModel(task=task, folder=folder, module=module, model=model, info=info,
                       scorer=module.Scorer(model, info, threads=threads), instance_model=instance,
                       request_model=request_model(task, instance, max_instances))


def reference_medians(folder: Path, info: dict[str, Any]) -> dict[str, float]:
    """Each feature's training median from the bundle's feature_schema.json (used as the schema's example
    values); empty when the file is absent."""
    path = folder / info.get("feature_schema_file", "feature_schema.json")
    if not path.is_file():
        return {}
    reference = json.loads(path.read_text(encoding="utf-8")).get("reference", {})
    out = {}
    for name, stats in reference.items():
        quantiles = stats.get("quantiles") or []
        if len(quantiles) >= 3 and quantiles[len(quantiles) // 2] is not None:
            out[name] = float(quantiles[len(quantiles) // 2])
    return out


def camel(task: str) -> str:
    return "".join(part.capitalize() for part in task.replace("-", "_").split("_"))


def instance_model(task: str, specs: list[dict[str, Any]], examples: dict[str, float]) -> type[BaseModel]:
    """A pydantic model with one required field per feature (aliased to the feature's name): a strict
    finite number (JSON integers accepted, booleans and strings not) within the feature's valid range,
    nullable where the input schema allows a missing value; unknown fields are rejected."""
    fields: dict[str, Any] = {}
    for i, spec in enumerate(specs):
        name = spec["name"]
        low, high, nullable = spec.get("minimum"), spec.get("maximum"), spec.get("nullable", True)
        where = ", ".join(filter(None, [f"≥ {low}" if low is not None else "", f"≤ {high}" if high is not None else ""]))
        description = f"{spec.get('dtype', 'float64')}{f', {where}' if where else ''}; " + (
            "null = missing" if nullable else "required (not null)")
        example = examples.get(name)
        if example is not None and ((low is not None and example < low) or (high is not None and example > high)):
            example = None
        kind = float | None if nullable else float
        field = Field(alias=name, strict=True, allow_inf_nan=False, ge=low, le=high, description=description,
                      examples=[example] if example is not None else None)
        fields[f"f{i}"] = (Annotated[kind, field], ...)
    return create_model(f"{camel(task)}Instance", __config__=ConfigDict(
        extra="forbid", validate_by_alias=True, validate_by_name=False, serialize_by_alias=True,
        title=f"{camel(task)}Instance"), **fields)


def request_model(task: str, instance: type[BaseModel], max_instances: int) -> type[BaseModel]:
    """{"instances": [<instance>, ...]} with at most `max_instances` rows."""
    return create_model(f"{camel(task)}PredictRequest", __config__=ConfigDict(extra="forbid"),
                        instances=(Annotated[list[instance], Field(max_length=max_instances)], ...))


class ModelRef(BaseModel):
    name: str
    version: str


def prediction_model(task: str, levels: list[str]) -> type[BaseModel]:
    """One prediction: class at the bundle's threshold, probability of the positive class, risk level."""
    return create_model(f"{camel(task)}Prediction", prediction=(Literal[0, 1], ...),
                        probability=(Annotated[float, Field(ge=0.0, le=1.0)], ...),
                        risk_level=(Literal[tuple(levels)], ...))


def response_model(task: str, levels: list[str]) -> type[BaseModel]:
    return create_model(f"{camel(task)}PredictResponse", model=(ModelRef, ...),
                        predictions=(list[prediction_model(task, levels)], ...))
