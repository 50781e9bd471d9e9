"""Running the service (`geih serve`): uvicorn builds the app in every worker with `app_from_env`, from a
JSON configuration the command puts in the GEIH_SERVE_CONFIG environment variable.

A monitoring sink is plugged in with `--sink MODULE:FACTORY`: FACTORY() is called once per worker and
returns a PredictionSink (geih.serving.events). With several workers, Prometheus metrics are collected
across workers in a temporary PROMETHEUS_MULTIPROC_DIR, removed at exit.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from geih.errors import GeihError
from geih.serving.app import DEFAULT_MAX_BODY_BYTES, create_app
from geih.serving.models import DEFAULT_MAX_INSTANCES, verify_bundle

CONFIG_ENV = "GEIH_SERVE_CONFIG"


def load_object(spec: str) -> Any:
    """The object named by 'package.module:attribute'; a bad name is a GeihError."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise GeihError(f"--sink {spec!r}: expected MODULE:FACTORY, e.g. mypackage.monitoring:make_sink")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise GeihError(f"--sink {spec!r}: cannot import it ({exc})") from exc


def app_from_env() -> Any:
    """The app described by GEIH_SERVE_CONFIG (uvicorn's factory in each worker)."""
    try:
        config = json.loads(os.environ[CONFIG_ENV])
    except (KeyError, json.JSONDecodeError) as exc:
        raise GeihError(f"{CONFIG_ENV} missing or not JSON: start the service with `geih serve`") from exc
    sink = load_object(config["sink"])() if config.get("sink") else None
    return create_app([Path(b) for b in config["bundles"]], sink=sink, max_body_bytes=config["max_body_bytes"],
                      max_instances=config["max_instances"])


def serve(bundles: list[Path], host: str = "127.0.0.1", port: int = 8000, workers: int = 1, sink: str | None = None,
          max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, max_instances: int = DEFAULT_MAX_INSTANCES,
          access_log: bool = False, log_level: str = "info") -> None:
    """Check the bundles (checksums, without loading the models) and the sink, then run uvicorn until
    stopped (SIGINT/SIGTERM: graceful shutdown, the sink is closed)."""
    import uvicorn

    if workers < 1:
        raise GeihError(f"--workers {workers}: expected 1 or more")
    tasks = [verify_bundle(b)["task"] for b in bundles]
    if len(set(tasks)) != len(tasks):
        raise GeihError(f"two bundles for the same task: {tasks}")
    if sink:
        load_object(sink)
    os.environ[CONFIG_ENV] = json.dumps({"bundles": [str(Path(b).resolve()) for b in bundles], "sink": sink,
                                         "max_body_bytes": max_body_bytes, "max_instances": max_instances})
    metrics_dir = None
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        metrics_dir = tempfile.mkdtemp(prefix="geih-serve-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        uvicorn.run("geih.serving.server:app_from_env", factory=True, host=host, port=port, workers=workers,
                    access_log=access_log, log_level=log_level, timeout_graceful_shutdown=10)
    finally:
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)
