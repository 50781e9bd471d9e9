"""The prediction service: a FastAPI app over one or more model bundles.

    create_app(bundles, sink=None, on_start=(), on_stop=(), api_token=None, max_body_bytes=..., max_instances=...)

Routes (one predict and one metadata route per task, so the OpenAPI schema carries each task's features):
  POST /models/{task}/alerts     GeoJSON alerts (geih.serving.alerts_route; classifier bundles)
  POST /models/{task}/predict    {"instances": [{feature: value, ...}, ...]} → {"model": {"name", "version"},
                                 "predictions": [{"prediction", "probability", "risk_level"}, ...]}
  GET  /health                   open even when a token is required
  GET  /models, /models/{task}/metadata, /metrics (Prometheus), /openapi.json, /docs

Errors: 422 with field-level errors (loc = ["body", "instances", row, feature]), 400 for malformed JSON, 413 for
a body over `max_body_bytes`, 404 naming the served tasks for an unknown one, 401 without the bearer token when
one is set (`api_token`, default: the GEIH_API_TOKEN environment variable; compared in constant time).

Monitoring hooks: every answered predict request becomes one `PredictionEvent` handed to `sink.submit` after
the response has been sent (a sink that raises is counted in geih_sink_failures_total, never seen by the
client); `on_start` / `on_stop` callables (plain or async) run in the app's lifespan, e.g. to start and stop a
resource sampler; `sink.close()` runs after `on_stop` at shutdown.
"""

import hmac
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import asynccontextmanager
from inspect import isawaitable
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException

from geih import __version__
from geih.errors import GeihError
from geih.serving.alerts_route import add_alerts_route
from geih.serving.events import NullSink, PredictionEvent, PredictionSink
from geih.serving.metrics import ARRIVED, ARRIVED_WALL, BodyLimitMiddleware, MetricsMiddleware, ServiceMetrics
from geih.serving.models import DEFAULT_MAX_INSTANCES, ServedModel, load_served, response_model

log = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024
INLINE_ROWS = 256  # larger requests are scored (and handed to the sink) in a worker thread
Hook = Callable[[], Any]


class ErrorDetail(BaseModel):
    detail: str


class ModelSummary(BaseModel):
    task: str
    name: str
    version: str
    alias: str | None = None
    n_features: int
    predict: str
    metadata: str


class ModelsList(BaseModel):
    models: list[ModelSummary]


class Health(BaseModel):
    status: str
    models: list[ModelSummary]


def create_app(bundles: Sequence[Path | ServedModel], *, sink: PredictionSink | None = None,
               on_start: Sequence[Hook] = (), on_stop: Sequence[Hook] = (), api_token: str | None = None,
               max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, max_instances: int = DEFAULT_MAX_INSTANCES) -> FastAPI:
    """The service for `bundles` (folders or already loaded models). `sink` receives one PredictionEvent per
    answered predict request (default NullSink); `on_start`/`on_stop` run at start-up and shutdown;
    `api_token` (default GEIH_API_TOKEN; empty = none) protects every route but /health."""
    served = [b if isinstance(b, ServedModel) else load_served(b, max_instances) for b in bundles]
    if not served:
        raise GeihError("no model bundle to serve")
    tasks = [s.task for s in served]
    if len(set(tasks)) != len(tasks):
        raise GeihError(f"two bundles for the same task: {tasks}")
    token = api_token if api_token is not None else os.environ.get("GEIH_API_TOKEN", "")
    sink = sink if sink is not None else NullSink()
    metrics = ServiceMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await run_hooks(on_start)
        try:
            yield
        finally:
            try:
                await run_hooks(on_stop)
            finally:
                sink.close()

    app = FastAPI(title="GEIH prediction service", version=__version__, lifespan=lifespan,
                  openapi_url=None, docs_url=None, redoc_url=None,
                  telemetry={"tracing": False, "metrics": False, "logs": False},
                  description="Fire-risk and deforestation models of the Brazilian Legal Amazon, served from their "
                              "bundles. Feature names, ranges and nullability come from each bundle's input schema.")
    app.state.served = {s.task: s for s in served}
    app.state.metrics = metrics
    app.state.sink = sink
    guard = [Depends(bearer_guard(token))] if token else []
    errors: dict[int | str, dict[str, Any]] = {
        400: {"model": ErrorDetail, "description": "Malformed JSON body"},
        413: {"model": ErrorDetail, "description": f"Request body larger than {max_body_bytes} bytes"}}
    if token:
        errors[401] = {"model": ErrorDetail, "description": "Missing or wrong bearer token (GEIH_API_TOKEN)"}
    auth_only = {401: errors[401]} if token else {}

    @app.get("/health", response_model=Health, tags=["service"])
    async def health() -> dict[str, Any]:
        return {"status": "ok", "models": summaries(served)}

    @app.get("/models", response_model=ModelsList, tags=["models"], dependencies=guard, responses=auth_only)
    async def list_models() -> dict[str, Any]:
        return {"models": summaries(served)}

    for model in served:
        add_model_routes(app, model, metrics, sink, guard, errors, auth_only)
        add_alerts_route(app, model, guard, errors)

    json_401 = {"401": {"description": errors[401]["description"], "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/ErrorDetail"}}}}} if token else {}

    @app.get("/metrics", response_class=PlainTextResponse, tags=["service"], dependencies=guard,
             openapi_extra={"responses": json_401}, summary="Prometheus metrics (text exposition format)")
    async def prometheus_metrics() -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST

        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/openapi.json", include_in_schema=False, dependencies=guard)
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=guard)
    async def docs() -> Response:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="GEIH prediction service")

    add_error_handlers(app, tasks)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics,
                       predict_routes={f"/models/{s.task}/predict": s.task for s in served})
    return app


async def run_hooks(hooks: Sequence[Hook]) -> None:
    for hook in hooks:
        result = hook()
        if isawaitable(result):
            await result


def summaries(served: list[ServedModel]) -> list[dict[str, Any]]:
    return [{"task": s.task, "name": s.name, "version": s.version, "alias": s.info.get("alias"),
             "n_features": len(s.features), "predict": f"/models/{s.task}/predict",
             "metadata": f"/models/{s.task}/metadata"} for s in served]


def bearer_guard(token: str) -> Callable[..., None]:
    """A dependency that answers 401 unless the request carries `Authorization: Bearer <token>`."""
    bearer = HTTPBearer(auto_error=False, description="The service's GEIH_API_TOKEN")
    expected = token.encode()

    def require_token(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> None:
        given = credentials.credentials.encode() if credentials is not None else b""
        if not hmac.compare_digest(given, expected):
            raise HTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})

    return require_token


def add_model_routes(app: FastAPI, served: ServedModel, metrics: ServiceMetrics, sink: PredictionSink,
                     guard: list[Any], errors: dict[int | str, dict[str, Any]], auth_only: dict[int | str, Any]) -> None:
    """POST /models/{task}/predict and GET /models/{task}/metadata for one served model."""
    task, request_model = served.task, served.request_model
    attributes = list(request_model.model_fields["instances"].annotation.__args__[0].model_fields)
    model_ref = {"name": served.name, "version": served.version}
    levels = served.info["risk_levels"]

    async def predict(body: request_model, request: Request) -> Response:  # type: ignore[valid-type]
        rows = body.instances
        matrix = np.array([[getattr(r, a) for a in attributes] for r in rows], dtype=np.float64)
        matrix = matrix.reshape(len(rows), len(attributes))
        if len(rows) > INLINE_ROWS:
            probabilities, predictions, level_index = await run_in_threadpool(served.scorer, matrix)
        else:
            probabilities, predictions, level_index = served.scorer(matrix)
        p, c, k = probabilities.tolist(), predictions.tolist(), level_index.tolist()
        content = json.dumps({"model": model_ref, "predictions": [
            {"prediction": c[i], "probability": p[i], "risk_level": levels[k[i]]} for i in range(len(rows))]},
            ensure_ascii=False).encode()
        state = request.scope.get("state", {})
        arrived = state.get(ARRIVED)
        latency_ms = (time.perf_counter() - arrived) * 1000 if arrived is not None else 0.0
        request_id = uuid.uuid4().hex
        metrics.rows.labels(task).inc(len(rows))
        hand_off = BackgroundTask(submit_event, sink, metrics, served, request_id,
                                  state.get(ARRIVED_WALL, time.time()), latency_ms, rows, p, c)
        return Response(content, media_type="application/json", headers={"X-Request-ID": request_id},
                        background=hand_off)

    app.post(f"/models/{task}/predict", response_model=response_model(task, levels), tags=["models"],
             dependencies=guard, responses=errors, summary=f"Predict {task} for a list of instances",
             description=f"{served.name} version {served.version}: one prediction per instance, in order. Each "
                         f"instance holds every feature of the model ({len(attributes)}); unknown fields are "
                         "rejected. Header X-Request-ID identifies the request in the monitoring store.")(predict)

    async def metadata() -> dict[str, Any]:
        return served.metadata()

    app.get(f"/models/{task}/metadata", tags=["models"], dependencies=guard, responses=auth_only,
            summary=f"The {task} model's model_info (metrics, params, input schema, thresholds)")(metadata)


async def submit_event(sink: PredictionSink, metrics: ServiceMetrics, served: ServedModel, request_id: str,
                       arrived: float, latency_ms: float, rows: list[BaseModel], probabilities: list[float],
                       predictions: list[int]) -> None:
    """Build the request's PredictionEvent and hand it to the sink (after the response went out)."""
    def build() -> PredictionEvent:
        return PredictionEvent(request_id=request_id, task=served.task, model_name=served.name,
                               model_version=served.version, timestamp=arrived, latency_ms=latency_ms,
                               features=[r.model_dump(by_alias=True) for r in rows],
                               probabilities=probabilities, predictions=predictions)

    try:
        event = await run_in_threadpool(build) if len(rows) > INLINE_ROWS else build()
        sink.submit(event)
    except Exception:  # the client has its answer; monitoring loses this event only
        log.exception("prediction sink refused event %s", request_id)
        metrics.sink_failures.labels(served.task).inc()


UNKNOWN_TASK = re.compile(r"^/models/(?P<task>[^/]+)(?:/.*)?$")


def add_error_handlers(app: FastAPI, tasks: list[str]) -> None:
    """400 for malformed JSON, 422 with field-level errors (JSON-safe: no echoed input), 404 naming tasks."""

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        malformed = next((e for e in errors if e.get("type") == "json_invalid"), None)
        if malformed is not None:
            reason = (malformed.get("ctx") or {}).get("error", "not valid JSON")
            where = malformed["loc"][-1] if malformed.get("loc") else "?"
            return JSONResponse({"detail": f"malformed JSON body: {reason} at position {where}"}, status_code=400)
        detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in errors]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        match = UNKNOWN_TASK.match(request.url.path)
        if exc.status_code == 404 and match and match.group("task") not in tasks:
            return JSONResponse({"detail": f"unknown task {match.group('task')!r}; this service answers for "
                                           f"{sorted(tasks)}"}, status_code=404)
        return await http_exception_handler(request, exc)
