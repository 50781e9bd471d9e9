"""Shared test set-up: no analytics/telemetry, a throwaway MLflow store per test session."""

from __future__ import annotations

import os

os.environ.setdefault("DVC_NO_ANALYTICS", "1")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("PYTHONHASHSEED", "0")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]


def load_benchmark(name: str):
    """benchmarks/<name>.py imported as module `name` (registered in sys.modules, where its dataclasses look
    their module up), with benchmarks/ importable for its `servers` helpers."""
    import importlib.util
    import sys

    if str(REPO_ROOT / "benchmarks") not in sys.path:
        sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory) -> Path:
    """A small synthetic world (1.5° grid, 3 years) generated once; returns its raw folder."""
    from geih.ingest.synthetic import WorldConfig, generate_world

    root = tmp_path_factory.mktemp("world")
    config = WorldConfig.from_params({"grid_resolution_deg": 1.5, "years": 3, "subcells": 3})
    generate_world(config, root / "raw", root / "truth", root / "plots")
    return root / "raw"


# Test tiers (pytest -m unit|data|pipeline): `pipeline` for tests/pipeline (a whole `dvc repro`, servers) and
# for tests on a real MLflow store (`store_root`, `new_store_root`: model logging takes 10–90 s each),
# `data` for tests that generate a synthetic world or check prepared tables, `unit` for everything else.
DATA_FIXTURES = {"tiny_world", "world", "world_factory", "small_world"}
STORE_FIXTURES = {"store_root", "new_store_root"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        own = {m.name for m in item.iter_markers()} & {"unit", "data", "pipeline"}
        if own:
            continue
        parts = Path(str(item.fspath)).relative_to(REPO_ROOT / "tests").parts
        fixtures = set(getattr(item, "fixturenames", ()))
        if parts[0] == "pipeline" or STORE_FIXTURES & fixtures:
            item.add_marker(pytest.mark.pipeline)
        elif DATA_FIXTURES & fixtures:
            item.add_marker(pytest.mark.data)
        else:
            item.add_marker(pytest.mark.unit)


def pytest_collection_finish(session):
    """Start the tiny pipeline repo's build in the background when a collected test needs it
    (tests/pipeline/tiny_build.py): it runs while the tests before the first such test do."""
    if session.config.option.collectonly:
        return
    if any("tiny_repo" in getattr(item, "fixturenames", ()) for item in session.items):
        from tests.pipeline.tiny_build import start_tiny_build

        start_tiny_build(session.config)


def pytest_sessionfinish(session, exitstatus):
    from tests.pipeline.tiny_build import finish_tiny_build

    # Under xdist another worker may still wait for the build: a worker lets it finish unless the run is stopping.
    worker = hasattr(session.config, "workerinput")
    stopping = exitstatus == pytest.ExitCode.INTERRUPTED or bool(session.shouldstop) or bool(session.shouldfail)
    finish_tiny_build(session.config, stop=not worker or stopping)
