"""`geih serve` as users run it: a real uvicorn server on a free loopback port, an httpx client, stopped by
PID (SIGTERM to its process group, then SIGKILL). Events reach a sink plugged in with --sink; the sink is
closed at shutdown; with several workers /metrics adds up every worker. Schemathesis checks the service
against its own OpenAPI schema."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from geih.lifecycle.bundle import load_predictor
from tests.conftest import REPO_ROOT
from tests.pipeline.mlflow_support import free_port, loopback_server
from tests.serving.bundle_support import FEATURES, EvilPayload, make_bundle, tables

pytestmark = pytest.mark.pipeline
TOKEN = "test-token-0123456789"


@pytest.fixture(scope="module")
def bundles(tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("served")
    return [make_bundle(root / "fire_risk"), make_bundle(root / "deforestation", task="deforestation")]


@pytest.fixture(autouse=True)
def monitor_db(tmp_path: Path, monkeypatch) -> Path:
    """`geih serve` logs to the monitoring store by default: each test gets its own (never the repo's)."""
    db = tmp_path / "monitor.db"
    monkeypatch.setenv("GEIH_MONITOR_DB", str(db))
    return db


def env(**extra: str) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if k not in ("GEIH_API_TOKEN", "PROMETHEUS_MULTIPROC_DIR")}
    out.update({"PYTHONPATH": str(REPO_ROOT), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{out['PATH']}"})
    out.update(extra)
    return out


def serve_cmd(bundles: list[Path], port: int, *extra: str) -> list[str]:
    cmd = [sys.executable, "-m", "geih.cli", "serve", "--host", "127.0.0.1", "--port", str(port), *extra]
    for bundle in bundles:
        cmd += ["--bundle", str(bundle)]
    return cmd


def instances(n: int) -> list[dict]:
    rows = tables(3 * max(n, 100))[1].head(n)[FEATURES]
    return [{f: (None if v != v else float(v)) for f, v in r.items()} for r in rows.to_dict("records")]


def test_served_predictions_events_auth_and_shutdown(bundles: list[Path], tmp_path: Path):
    port, events = free_port(), tmp_path / "events.jsonl"
    base = f"http://127.0.0.1:{port}"
    cmd = serve_cmd(bundles, port, "--sink", "tests.serving.sink_support:jsonl_sink")
    run_env = env(GEIH_API_TOKEN=TOKEN, GEIH_TEST_SINK_FILE=str(events))
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with loopback_server(cmd, f"{base}/health", tmp_path, run_env, tmp_path / "serve.log", timeout=120), \
            httpx.Client(base_url=base, timeout=60) as client:
        answers = [client.post("/models/fire_risk/predict", json={"instances": instances(n)}, headers=auth)
                   for n in (1, 2, 400)]
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert [len(a.json()["predictions"]) for a in answers] == [1, 2, 400]
        module = load_predictor(bundles[0])
        assert answers[2].json()["predictions"] == module.predict(instances(400), *module.load_bundle(bundles[0]))
        assert client.post("/models/fire_risk/predict", json={"instances": instances(1)}).status_code == 401
        assert client.get("/health").status_code == 200
        assert client.get("/models", headers=auth).json()["models"][1]["task"] == "deforestation"
        bad = client.post("/models/fire_risk/predict", json={"instances": [{"a": 9, "b": None, "c": 1}]}, headers=auth)
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "instances", 0, "a"]
        assert client.post("/models/nope/predict", json={}, headers=auth).status_code == 404
        broken = client.post("/models/fire_risk/predict", content=b"{", headers={**auth, "content-type": "application/json"})
        assert broken.status_code == 400
        metrics = client.get("/metrics", headers=auth).text
        assert re.search(r'^geih_predicted_rows_total\{task="fire_risk"\} 403.0$', metrics, re.M)
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    assert lines[-1]["closed"] is True  # the sink was closed at shutdown (SIGTERM → lifespan end)
    handed = lines[:-1]
    assert [e["request_id"] for e in handed] == [a.headers["x-request-id"] for a in answers]
    assert [len(e["features"]) for e in handed] == [1, 2, 400]
    assert handed[2]["probabilities"] == [p["probability"] for p in answers[2].json()["predictions"]]


def test_several_workers_share_metrics(bundles: list[Path], tmp_path: Path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with loopback_server(serve_cmd(bundles[:1], port, "--workers", "2"), f"{base}/health", tmp_path, env(),
                         tmp_path / "serve.log", timeout=180):
        for _ in range(30):  # fresh connections: the kernel spreads them over the workers
            assert httpx.post(f"{base}/models/fire_risk/predict", json={"instances": instances(1)}, timeout=60).status_code == 200
        text = httpx.get(f"{base}/metrics", timeout=60).text
    found = re.search(r'^geih_http_requests_total\{method="POST",route="/models/fire_risk/predict",status="200"\} '
                      r'([0-9.]+)$', text, re.M)
    assert found and float(found.group(1)) == 30


def test_serve_refuses_bad_bundles_before_starting(bundles: list[Path], tmp_path: Path):
    import shutil

    import joblib

    shutil.copytree(bundles[0], tmp_path / "evil")
    joblib.dump(EvilPayload(tmp_path / "unpickled"), tmp_path / "evil" / "model.joblib")
    cases = [([tmp_path / "evil"], [], "checksum does not match"), ([tmp_path / "nowhere"], [], "no such folder"),
             ([bundles[0], bundles[0]], [], "two bundles for the same task"),
             (bundles[:1], ["--sink", "no.such.module:factory"], "cannot import it")]
    for folders, extra, message in cases:
        out = subprocess.run(serve_cmd(folders, free_port(), *extra), capture_output=True, text=True, env=env(),
                             timeout=120)
        assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert not (tmp_path / "unpickled").exists()


def test_schemathesis_finds_no_server_error_or_undocumented_status(bundles: list[Path], tmp_path: Path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with loopback_server(serve_cmd(bundles, port), f"{base}/health", tmp_path, env(GEIH_API_TOKEN=TOKEN),
                         tmp_path / "serve.log", timeout=120):
        out = subprocess.run(
            [str(Path(sys.executable).parent / "st"), "run", f"{base}/openapi.json", "-H",
             f"Authorization: Bearer {TOKEN}", "--checks", "all", "--max-examples", "25", "--workers", "1",
             "--seed", "1", "--no-color"], capture_output=True, text=True, timeout=600, env=env(),
            cwd=tmp_path)  # schemathesis keeps a cache folder (.schemathesis/) in its working directory
    assert out.returncode == 0, out.stdout[-6000:]
    assert "No issues found" in out.stdout
    assert re.search(r"Tested: 9", out.stdout)


def test_every_prediction_reaches_the_monitoring_store_under_concurrent_clients(bundles: list[Path], tmp_path: Path,
                                                                                monitor_db: Path):
    """The default sink: 4 client threads × 25 requests of 3 rows on 2 workers → exactly 300 rows logged, each
    with its request id, once the service has shut down (the writer flushes at close)."""
    from concurrent.futures import ThreadPoolExecutor

    from geih.monitoring.store import MonitorStore

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    body = {"instances": instances(3)}

    def client_run(_: int) -> list[str]:
        with httpx.Client(base_url=base, timeout=60) as client:
            answers = [client.post("/models/fire_risk/predict", json=body) for _ in range(25)]
        assert all(a.status_code == 200 for a in answers)
        return [a.headers["x-request-id"] for a in answers]

    with loopback_server(serve_cmd(bundles, port, "--workers", "2"), f"{base}/health", tmp_path, env(),
                         tmp_path / "serve.log", timeout=180):
        with ThreadPoolExecutor(4) as pool:
            request_ids = [rid for ids in pool.map(client_run, range(4)) for rid in ids]
    store = MonitorStore(str(monitor_db))
    assert store.count("predictions", "fire_risk") == 300
    logged = store.predictions_frame("fire_risk")
    assert sorted(set(logged["request_id"])) == sorted(request_ids)
    assert logged.groupby("request_id").size().eq(3).all()
