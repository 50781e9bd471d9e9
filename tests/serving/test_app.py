"""The prediction service in process (httpx over ASGI, lifespan included): routes, the OpenAPI schema generated
from the input schema, field-level 422s, 400/401/404/413, Prometheus metrics, the sink hand-off and hooks."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from geih.errors import GeihError
from geih.lifecycle.bundle import load_predictor
from geih.serving.app import INLINE_ROWS, create_app
from geih.serving.events import PredictionEvent
from tests.serving.bundle_support import FEATURES, EvilPayload, make_bundle, tables


@pytest.fixture(scope="module")
def bundles(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("served")
    return {"fire_risk": make_bundle(root / "fire_risk"),
            "deforestation": make_bundle(root / "deforestation", task="deforestation", threshold=0.3)}


def instances(n: int = 3) -> list[dict]:
    rows = tables()[1].head(n)[FEATURES]
    return [{f: (None if v != v else float(v)) for f, v in r.items()} for r in rows.to_dict("records")]


class ListSink:
    def __init__(self) -> None:
        self.events: list[PredictionEvent] = []
        self.closed = False

    def submit(self, event: PredictionEvent) -> None:
        self.events.append(event)

    def close(self) -> None:
        self.closed = True


def call(app, requests: list[tuple], headers: dict | None = None) -> list[httpx.Response]:
    """Send (method, path, kwargs) requests to `app` inside its lifespan; returns the responses."""
    async def go() -> list[httpx.Response]:
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc",
                                         headers=headers or {}) as client:
                return [await client.request(method, path, **kwargs) for method, path, kwargs in requests]

    return asyncio.run(go())


def one(app, method: str, path: str, headers: dict | None = None, **kwargs) -> httpx.Response:
    return call(app, [(method, path, kwargs)], headers)[0]


def test_predict_answers_like_the_bundle(bundles: dict[str, Path]):
    sink = ListSink()
    app = create_app(list(bundles.values()), sink=sink)
    body = {"instances": instances(4)}
    fire, defo = call(app, [("POST", "/models/fire_risk/predict", {"json": body}),
                            ("POST", "/models/deforestation/predict", {"json": body})])
    assert fire.status_code == 200 and fire.headers["content-type"] == "application/json"
    module = load_predictor(bundles["fire_risk"])
    expected = module.predict(body["instances"], *module.load_bundle(bundles["fire_risk"]))
    assert fire.json() == {"model": {"name": "geih-fire-risk", "version": "7"}, "predictions": expected}
    probabilities = [p["probability"] for p in defo.json()["predictions"]]
    assert [p["prediction"] for p in defo.json()["predictions"]] == [int(p >= 0.3) for p in probabilities]
    assert defo.json()["model"]["name"] == "geih-deforestation"
    assert re.fullmatch(r"[0-9a-f]{32}", fire.headers["x-request-id"])


def test_each_answered_request_is_one_event_for_the_sink(bundles: dict[str, Path]):
    sink = ListSink()
    app = create_app([bundles["fire_risk"]], sink=sink)
    body = {"instances": instances(3)}
    body["instances"][1]["b"] = None
    before = time.time()
    good, bad = call(app, [("POST", "/models/fire_risk/predict", {"json": body}),
                           ("POST", "/models/fire_risk/predict", {"json": {"instances": [{"a": 2}]}})])
    assert bad.status_code == 422 and len(sink.events) == 1 and sink.closed  # closed at shutdown
    event = sink.events[0]
    assert event.request_id == good.headers["x-request-id"]
    assert (event.task, event.model_name, event.model_version) == ("fire_risk", "geih-fire-risk", "7")
    assert event.features == body["instances"] and list(event.features[0]) == FEATURES
    assert event.probabilities == [p["probability"] for p in good.json()["predictions"]]
    assert event.predictions == [p["prediction"] for p in good.json()["predictions"]]
    assert before - 1 <= event.timestamp <= time.time() and event.latency_ms > 0


def test_large_requests_are_scored_off_the_event_loop_alike(bundles: dict[str, Path]):
    sink = ListSink()
    app = create_app([bundles["fire_risk"]], sink=sink)
    rows = instances(INLINE_ROWS + 40)
    response = one(app, "POST", "/models/fire_risk/predict", json={"instances": rows})
    module = load_predictor(bundles["fire_risk"])
    expected = module.predict(rows, *module.load_bundle(bundles["fire_risk"]))
    assert response.json()["predictions"] == expected
    assert len(sink.events[0].features) == len(rows)
    assert one(app, "POST", "/models/fire_risk/predict", json={"instances": []}).json()["predictions"] == []


def test_a_failing_sink_never_reaches_the_client(bundles: dict[str, Path]):
    class Broken(ListSink):
        def submit(self, event: PredictionEvent) -> None:
            raise OSError("disk full")

    app = create_app([bundles["fire_risk"]], sink=Broken())
    answer, metrics = call(app, [("POST", "/models/fire_risk/predict", {"json": {"instances": instances(1)}}),
                                 ("GET", "/metrics", {})])
    assert answer.status_code == 200
    assert 'geih_sink_failures_total{task="fire_risk"} 1.0' in metrics.text


def test_lifespan_runs_start_and_stop_hooks_then_closes_the_sink(bundles: dict[str, Path]):
    calls: list[str] = []
    sink = ListSink()

    async def async_stop() -> None:
        calls.append(f"async stop (sink closed: {sink.closed})")

    app = create_app([bundles["fire_risk"]], sink=sink, on_start=[lambda: calls.append("start")],
                     on_stop=[lambda: calls.append("stop"), async_stop])
    assert one(app, "GET", "/health").status_code == 200
    assert calls == ["start", "stop", "async stop (sink closed: False)"] and sink.closed


def test_openapi_schema_comes_from_the_input_schema(bundles: dict[str, Path]):
    app = create_app(list(bundles.values()))
    schema = one(app, "GET", "/openapi.json").json()
    assert set(schema["paths"]) == {"/health", "/models", "/metrics", "/models/fire_risk/predict",
                                    "/models/fire_risk/metadata", "/models/deforestation/predict",
                                    "/models/deforestation/metadata", "/models/fire_risk/alerts",
                                    "/models/deforestation/alerts"}
    instance = schema["components"]["schemas"]["FireRiskInstance"]
    assert instance["required"] == FEATURES and instance["additionalProperties"] is False
    a, b, c = (instance["properties"][f] for f in FEATURES)
    assert (a["type"], a["minimum"], a["maximum"]) == ("number", 0.0, 1.0)
    assert {"type": "null"} in b["anyOf"] and "minimum" not in json.dumps(b)
    assert c["minimum"] == 0.0 and "maximum" not in c
    assert a["examples"] and 0 <= a["examples"][0] <= 1  # the training median from feature_schema.json
    request = schema["components"]["schemas"]["FireRiskPredictRequest"]
    assert request["properties"]["instances"]["maxItems"] == 1000
    responses = schema["paths"]["/models/fire_risk/predict"]["post"]["responses"]
    assert set(responses) == {"200", "400", "413", "422"}
    prediction = schema["components"]["schemas"]["FireRiskPrediction"]["properties"]
    assert prediction["risk_level"]["enum"] == ["baixo", "médio", "alto", "crítico"]


@pytest.mark.parametrize("instance, loc, kind", [
    ({"a": True, "b": 1.0, "c": 1.0}, ["body", "instances", 2, "a"], "float_type"),
    ({"a": "0.5", "b": 1.0, "c": 1.0}, ["body", "instances", 2, "a"], "float_type"),
    ({"a": 1.5, "b": 1.0, "c": 1.0}, ["body", "instances", 2, "a"], "less_than_equal"),
    ({"a": 0.5, "b": 1.0, "c": -1}, ["body", "instances", 2, "c"], "greater_than_equal"),
    ({"a": None, "b": 1.0, "c": 1.0}, ["body", "instances", 2, "a"], "float_type"),
    ({"a": 0.5, "c": 1.0}, ["body", "instances", 2, "b"], "missing"),
    ({"a": 0.5, "b": 1.0, "c": 1.0, "d": 2}, ["body", "instances", 2, "d"], "extra_forbidden"),
])
def test_bad_instances_get_field_level_422(bundles: dict[str, Path], instance: dict, loc: list, kind: str):
    app = create_app([bundles["fire_risk"]])
    good = instances(1)[0]
    response = one(app, "POST", "/models/fire_risk/predict", json={"instances": [good, good, instance]})
    assert response.status_code == 422
    assert {"loc": loc, "type": kind} in [{"loc": e["loc"], "type": e["type"]} for e in response.json()["detail"]]


def test_non_finite_numbers_are_a_422_not_a_crash(bundles: dict[str, Path]):
    app = create_app([bundles["fire_risk"]])
    for literal in ("NaN", "Infinity", "-Infinity"):
        body = '{"instances": [{"a": 0.5, "b": ' + literal + ', "c": 1}]}'
        response = one(app, "POST", "/models/fire_risk/predict", content=body,
                       headers={"content-type": "application/json"})
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["body", "instances", 0, "b"]


def test_too_many_instances_malformed_json_and_size_limit(bundles: dict[str, Path]):
    app = create_app([bundles["fire_risk"]], max_body_bytes=4000, max_instances=5)
    too_many = one(app, "POST", "/models/fire_risk/predict", json={"instances": instances(6)})
    assert too_many.status_code == 422 and too_many.json()["detail"][0]["type"] == "too_long"
    broken = one(app, "POST", "/models/fire_risk/predict", content=b'{"instances": [',
                 headers={"content-type": "application/json"})
    assert broken.status_code == 400 and broken.json()["detail"].startswith("malformed JSON body: Expecting value")
    big = json.dumps({"instances": instances(5), "pad": " " * 5000})
    declared = one(app, "POST", "/models/fire_risk/predict", content=big, headers={"content-type": "application/json"})
    assert declared.status_code == 413 and "larger than 4000 bytes" in declared.json()["detail"]

    async def chunks():
        for _ in range(5):
            yield b" " * 1000

    streamed = one(app, "POST", "/models/fire_risk/predict", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413 and streamed.headers["content-type"] == "application/json"


def test_unknown_task_is_a_404_naming_the_tasks(bundles: dict[str, Path]):
    app = create_app(list(bundles.values()))
    for method, path in (("POST", "/models/floods/predict"), ("GET", "/models/floods/metadata")):
        response = one(app, method, path, json={"instances": []})
        assert response.status_code == 404
        assert response.json() == {"detail": "unknown task 'floods'; this service answers for "
                                             "['deforestation', 'fire_risk']"}
    assert one(app, "GET", "/nowhere").status_code == 404


def test_models_health_and_metadata(bundles: dict[str, Path]):
    app = create_app(list(bundles.values()))
    health, models, metadata = call(app, [("GET", "/health", {}), ("GET", "/models", {}),
                                          ("GET", "/models/fire_risk/metadata", {})])
    assert health.json()["status"] == "ok"
    assert [m["task"] for m in models.json()["models"]] == ["fire_risk", "deforestation"]
    assert models.json()["models"][0] == {"task": "fire_risk", "name": "geih-fire-risk", "version": "7",
                                          "alias": "champion", "n_features": 3, "predict": "/models/fire_risk/predict",
                                          "metadata": "/models/fire_risk/metadata"}
    info = json.loads((bundles["fire_risk"] / "model_info.json").read_text())
    meta = metadata.json()
    assert not {"model_file", "feature_schema_file", "run_id", "model_id"} & set(meta)
    assert meta["input_schema"] == info["input_schema"] and meta["metrics"] == info["metrics"]
    assert meta["model_sha256"] == info["model_sha256"]


def test_bearer_token_guards_everything_but_health(bundles: dict[str, Path], monkeypatch):
    monkeypatch.setenv("GEIH_API_TOKEN", "s3cret-token")
    app = create_app([bundles["fire_risk"]])
    body = {"instances": instances(1)}
    assert one(app, "GET", "/health").status_code == 200
    for method, path in (("GET", "/models"), ("GET", "/models/fire_risk/metadata"), ("GET", "/metrics"),
                         ("GET", "/openapi.json"), ("GET", "/docs"), ("POST", "/models/fire_risk/predict")):
        for headers in ({}, {"Authorization": "Bearer s3cret-tokeN"}, {"Authorization": "Bearer x"},
                        {"Authorization": "Basic s3cret-token"}):
            response = one(app, method, path, headers=headers, json=body)
            assert response.status_code == 401, (method, path, headers)
            assert response.headers["www-authenticate"] == "Bearer"
    invalid = one(app, "POST", "/models/fire_risk/predict", json={"instances": [{"a": "x"}]})
    assert invalid.status_code == 401  # no token: not even the validation errors
    ok = {"Authorization": "Bearer s3cret-token"}
    assert one(app, "POST", "/models/fire_risk/predict", headers=ok, json=body).status_code == 200
    schema = one(app, "GET", "/openapi.json", headers=ok).json()
    assert "401" in schema["paths"]["/models/fire_risk/predict"]["post"]["responses"]
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "<title>GEIH prediction service</title>" in one(app, "GET", "/docs", headers=ok).text
    assert one(create_app([bundles["fire_risk"]], api_token=""), "GET", "/models").status_code == 200


def test_prometheus_metrics_count_requests_latency_rows_and_errors(bundles: dict[str, Path]):
    app = create_app([bundles["fire_risk"]])
    good = {"json": {"instances": instances(3)}}
    bad = {"json": {"instances": [{"a": 3}]}}
    responses = call(app, [("POST", "/models/fire_risk/predict", good)] * 2
                     + [("POST", "/models/fire_risk/predict", bad), ("GET", "/models/x/predict", {}),
                        ("GET", "/metrics", {})])
    text = responses[-1].text
    assert responses[-1].headers["content-type"].startswith("text/plain")

    def value(sample: str) -> float:
        found = re.search(rf"^{re.escape(sample)} ([0-9.e+]+)$", text, re.M)
        assert found, sample
        return float(found.group(1))

    assert value('geih_http_requests_total{method="POST",route="/models/fire_risk/predict",status="200"}') == 2
    assert value('geih_http_requests_total{method="POST",route="/models/fire_risk/predict",status="422"}') == 1
    assert value('geih_http_requests_total{method="GET",route="<unmatched>",status="404"}') == 1
    assert value('geih_prediction_latency_seconds_count{task="fire_risk"}') == 2
    assert value('geih_prediction_latency_seconds_sum{task="fire_risk"}') > 0
    assert value('geih_predicted_rows_total{task="fire_risk"}') == 6
    assert value('geih_prediction_errors_total{status="422",task="fire_risk"}') == 1


def test_service_refuses_bad_bundle_sets(bundles: dict[str, Path], tmp_path: Path):
    import shutil

    import joblib

    with pytest.raises(GeihError, match="two bundles for the same task"):
        create_app([bundles["fire_risk"], bundles["fire_risk"]])
    with pytest.raises(GeihError, match="no model bundle"):
        create_app([])
    with pytest.raises(GeihError, match="no such folder"):
        create_app([tmp_path / "missing"])
    shutil.copytree(bundles["fire_risk"], tmp_path / "evil")
    joblib.dump(EvilPayload(tmp_path / "unpickled"), tmp_path / "evil" / "model.joblib")
    with pytest.raises(GeihError, match="checksum does not match"):
        create_app([tmp_path / "evil"])
    assert not (tmp_path / "unpickled").exists()


def test_scoring_uses_one_thread_per_request(bundles: dict[str, Path]):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import Pipeline

    from geih.serving.models import load_served

    train = tables()[0]
    forest = Pipeline([("model", RandomForestClassifier(n_estimators=3, n_jobs=2, random_state=0))])
    forest.fit(train[FEATURES].fillna(0), train["label"])
    folder = make_bundle(bundles["fire_risk"].parent / "forest", model=forest)
    served = load_served(folder)
    assert served.model.named_steps["model"].n_jobs == 1
    matrix = np.nan_to_num(np.array([[r[f] for f in FEATURES] for r in instances(3)], dtype=float))
    assert served.scorer(matrix)[0].shape == (3,)


def alert_instances(n: int = 4) -> list[dict]:
    """Instances with the alert fields: cell ids on the 0.5° grid, a period, a state for all but the last."""
    rows = instances(n)
    for i, row in enumerate(rows):
        row.update({"cell_id": 1000 + i, "period": "2025-01", "state": "PA" if i < n - 1 else None})
    return rows


def test_alerts_route_selects_like_geih_alerts(bundles: dict[str, Path]):
    from geih.alerts.formats import feature_collection
    from geih.alerts.table import build_alerts, load_alert_model
    from tests.alerts.support import frame

    app = create_app([bundles["fire_risk"]])
    rows = alert_instances(12)
    got = one(app, "POST", "/models/fire_risk/alerts", json={"instances": rows, "min_level": "médio"})
    assert got.status_code == 200, got.text
    body = got.json()
    model = load_alert_model(bundles["fire_risk"])
    local = frame([r["a"] for r in rows], months=["2025-01-01"] * 12, cells=[r["cell_id"] for r in rows],
                  states=[r["state"] for r in rows])
    local[["b", "c"]] = [[r["b"], r["c"]] for r in rows]
    expected = feature_collection(build_alerts(local, model, ("médio", "alto", "crítico"), "all"), 0.5,
                                  ("médio", "alto", "crítico"))
    assert body["count"] == expected["count"] > 0 and body["levels"] == ["médio", "alto", "crítico"]
    assert [f["id"] for f in body["features"]] == [f["id"] for f in expected["features"]]
    first = body["features"][0]["properties"]
    assert first["model_name"] == "geih-fire-risk" and first["municipality_code"] > 1_000_000
    assert len(first["top_features"]) == 3 and "standardized" in body["attribution"]


def test_alerts_route_refuses_bad_requests(bundles: dict[str, Path]):
    app = create_app([bundles["fire_risk"]])
    no_cell = [{k: v for k, v in r.items() if k != "cell_id"} for r in alert_instances(2)]
    bad_level, missing, unknown = call(app, [
        ("POST", "/models/fire_risk/alerts", {"json": {"instances": alert_instances(2), "min_level": "grave"}}),
        ("POST", "/models/fire_risk/alerts", {"json": {"instances": no_cell}}),
        ("POST", "/models/nowhere/alerts", {"json": {"instances": alert_instances(2)}})])
    assert bad_level.status_code == 422 and bad_level.json()["detail"][0]["loc"] == ["body", "min_level"]
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "instances", 0, "cell_id"]
    assert unknown.status_code == 404
