"""Prometheus metrics of the prediction service (prometheus-client), served at /metrics.

  geih_http_requests_total{method, route, status}        every request (route = path template)
  geih_prediction_latency_seconds{task}                   predict requests answered 200, arrival → response
  geih_predicted_rows_total{task}                         rows scored
  geih_prediction_errors_total{task, status}              predict requests answered with an error status
  geih_sink_failures_total{task}                          prediction events the monitoring sink refused

The request size limit (413) is enforced by `BodyLimitMiddleware` here as well. Each app keeps its own registry. With several uvicorn workers (`geih serve --workers N`) the CLI sets
PROMETHEUS_MULTIPROC_DIR, every worker writes its values there and /metrics adds them up.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess as prometheus_multiprocess
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED = "<unmatched>"
ARRIVED = "geih.arrived"  # scope["state"] keys set when a request arrives: perf_counter() and time.time()
ARRIVED_WALL = "geih.arrived_wall"


class ServiceMetrics:
    """The service's counters and histograms in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("geih_http_requests", "HTTP requests by route and status",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("geih_prediction_latency_seconds", "Predict requests answered 200: seconds from "
                                 "arrival to response", ["task"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.rows = Counter("geih_predicted_rows", "Rows scored", ["task"], registry=self.registry)
        self.errors = Counter("geih_prediction_errors", "Predict requests answered with an error status",
                              ["task", "status"], registry=self.registry)
        self.sink_failures = Counter("geih_sink_failures", "Prediction events the sink refused", ["task"],
                                     registry=self.registry)

    def exposition(self) -> bytes:
        """The text exposition: this process's registry, or every worker's values in multiprocess mode."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            prometheus_multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Pure ASGI middleware: stamps the arrival time into the request's state and, once the app answered,
    counts the request by route template and status; predict routes also feed latency and error metrics."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics, predict_routes: dict[str, str],
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.app, self.metrics, self.predict_routes, self.clock = app, metrics, predict_routes, clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = self.clock()
        state = scope.setdefault("state", {})
        state[ARRIVED], state[ARRIVED_WALL] = start, time.time()
        status, answered = 500, None

        async def send_status(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status, answered = message["status"], self.clock()
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            task = self.predict_routes.get(route)
            if task is not None:
                if status == 200:
                    self.metrics.latency.labels(task).observe((answered or self.clock()) - start)
                else:
                    self.metrics.errors.labels(task, str(status)).inc()


class BodyLimitMiddleware:
    """Pure ASGI middleware: a request body over `max_body_bytes` (by its Content-Length or as it streams in)
    becomes HTTPException 413, which the app's handlers answer as JSON like every other error."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app, self.max_body_bytes = app, max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        too_large = HTTPException(413, f"request body larger than {self.max_body_bytes} bytes")
        received = 0

        async def limited() -> Message:
            nonlocal received
            if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
                raise too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise too_large
            return message

        await self.app(scope, limited, send)
