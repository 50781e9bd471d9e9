"""POST /models/{task}/alerts: the service's alerts, with the same selection code as `geih alerts`.

Body: {"instances": [{<features>, "cell_id": int, "period": str, "state": str | null}, ...],
       "min_level": "alto"}  (optional, default alto: alerts are the instances at or above it)
Answer: the GeoJSON FeatureCollection `geih alerts` writes (cells at or above the lowest level given, most
probable first, with polygon, state and municipality IBGE codes, probability, level, period, model name and
version and the top-3 contributing features). Every instance given is a candidate (no period filter).
Alert requests are not prediction events: they are not handed to the monitoring sink.
Added only for bundles with risk levels (classifiers).
"""

# No `from __future__ import annotations`: FastAPI reads the route's body annotation at run time.

from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model
from starlette.exceptions import HTTPException

from geih.alerts.formats import feature_collection
from geih.alerts.levels import parse_levels
from geih.alerts.table import alert_model, build_alerts
from geih.domain.grid import Grid
from geih.errors import GeihError
from geih.serving.models import ServedModel, camel

DEFAULT_LEVEL = "alto"


def whole_number(value: Any) -> Any:
    """A JSON integer, also written as 1.0 (JSON Schema's integer); booleans and text are left to fail."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def alerts_request_model(served: ServedModel, resolution: float) -> type[BaseModel]:
    """The task's instance model plus cell_id, period and state; and the request around it (every request
    valid by this schema is answered: levels and cell ids are enumerated and bounded here)."""
    cells = Grid(resolution).nrows * Grid(resolution).ncols
    levels = served.info["risk_levels"]
    default = DEFAULT_LEVEL if DEFAULT_LEVEL in levels else levels[-1]
    instance = create_model(
        f"{camel(served.task)}AlertInstance", __base__=served.instance_model,
        cell_id=(Annotated[int, Field(strict=True, ge=0, lt=cells, description=f"cell of the {resolution}° grid"),
                           BeforeValidator(whole_number)], ...),
        period=(Annotated[str, Field(min_length=1, description="the period predicted, e.g. 2025-01")], ...),
        state=(Annotated[str | None, Field(description="UF; default: the nearest municipality seat's")], None))
    max_rows = served.request_model.model_fields["instances"].metadata
    return create_model(f"{camel(served.task)}AlertsRequest", __config__=ConfigDict(extra="forbid"),
                        instances=(Annotated[list[instance], *max_rows], ...),
                        min_level=(Literal[tuple(levels)], default))


def request_frame(rows: list[BaseModel], served: ServedModel, time_column: str) -> pd.DataFrame:
    """The request's instances as a features frame (feature columns by name, cell_id, period, state)."""
    data = [r.model_dump(by_alias=True) for r in rows]
    frame = pd.DataFrame(data, columns=[*served.features, "cell_id", "period", "state"])
    frame[served.features] = frame[served.features].astype("float64")
    frame["cell_id"] = frame["cell_id"].astype("int64")
    return frame.rename(columns={"period": time_column})


def add_alerts_route(app: FastAPI, served: ServedModel, guard: list[Any], errors: dict[int | str, Any]) -> None:
    """POST /models/{task}/alerts for a classifier bundle (nothing for a bundle without risk levels)."""
    if not served.info.get("risk_levels"):
        return
    model = alert_model(served.module, served.model, served.info, served.folder, served.scorer)
    body_model = alerts_request_model(served, model.grid_resolution_deg)

    def answer(body: Any) -> dict[str, Any]:
        try:
            levels = parse_levels(body.min_level, model.levels, "min_level")
            frame = request_frame(body.instances, served, model.time_column)
            alerts = build_alerts(frame, model, levels, "all", source="request")
        except GeihError as exc:
            raise HTTPException(422, str(exc)) from exc
        return feature_collection(alerts, model.grid_resolution_deg, levels)

    async def alerts(body: body_model) -> dict[str, Any]:  # type: ignore[valid-type]
        return await run_in_threadpool(answer, body)

    app.post(f"/models/{served.task}/alerts", tags=["models"], dependencies=guard, responses=errors,
             summary=f"{served.task} alerts: the instances at or above a risk level, as GeoJSON",
             description=__doc__.split("\n\n")[1])(alerts)
