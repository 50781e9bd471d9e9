"""The monitoring store on a temporary SQLite file: location rules, schema version, the prediction log
(features JSON, keys from ids), ground truth upserts and links, metrics, retention with roll-ups."""

from __future__ import annotations

import math
import sqlite3

import pandas as pd
import pytest

from geih.errors import GeihError
from geih.monitoring import store as st
from geih.monitoring.store import MonitorStore
from tests.monitoring.helpers import event

DAY = 86400.0
NOW = 1_720_000_000.0  # 2024-07-03 09:46 UTC


@pytest.fixture
def store(tmp_path) -> MonitorStore:
    s = MonitorStore(str(tmp_path / "m.db"))
    yield s
    s.close()


def test_database_url_from_argument_env_or_repo_default(tmp_path, monkeypatch):
    monkeypatch.delenv(st.ENV_VAR, raising=False)
    assert st.database_url("postgresql+psycopg://u:p@db/monitor") == "postgresql+psycopg://u:p@db/monitor"
    assert st.database_url(str(tmp_path / "a.db")) == f"sqlite:///{tmp_path / 'a.db'}"
    monkeypatch.setenv(st.ENV_VAR, str(tmp_path / "env.db"))
    assert st.database_url() == f"sqlite:///{tmp_path / 'env.db'}"
    monkeypatch.delenv(st.ENV_VAR)
    monkeypatch.delenv("DVC_ROOT", raising=False)
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    monkeypatch.chdir(tmp_path)
    assert st.database_url() == f"sqlite:///{tmp_path / 'monitoring' / 'monitor.db'}"


def test_sqlite_set_up_wal_busy_timeout_and_schema_version(store, tmp_path):
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    assert store.integrity_check() == "ok"
    raw = sqlite3.connect(tmp_path / "m.db")
    assert raw.execute("select value from schema_info where key='schema_version'").fetchone() == ("1",)
    raw.execute("update schema_info set value='99'")
    raw.commit()
    raw.close()
    with pytest.raises(GeihError, match="schema version 99"):
        MonitorStore(str(tmp_path / "m.db"))


def test_unopenable_store_is_a_geih_error(tmp_path):
    (tmp_path / "not_a_db").write_text("plain text, not SQLite " * 100)
    with pytest.raises(GeihError, match="cannot open"):
        MonitorStore(str(tmp_path / "not_a_db"))


def test_events_become_request_and_prediction_rows(store):
    e = event("r1", features=[{"x": 1.5, "y": float("nan")}, {"x": 2.0, "y": 3.0}],
              ids=[{"cell_id": 87, "period": "2024-03-01", "state": "PA"}, {}], probability=0.7)
    failed = event("r2", features=[], error="422: feature 'x' must be a number")
    assert store.insert_events([e, failed]) == 2
    reqs = store.requests_frame()
    assert reqs["request_id"].tolist() == ["r1", "r2"] and reqs["n_rows"].tolist() == [2, 0]
    assert reqs["error"].isna().tolist() == [True, False]
    rows = store.predictions_frame()
    assert rows["row_index"].tolist() == [0, 1] and rows["predicted_class"].tolist() == [1, 1]
    assert rows["feature:x"].tolist() == [1.5, 2.0] and math.isnan(rows["feature:y"][0])  # NaN → null → NaN
    assert rows["cell_id"][0] == "87" and rows["period"][0] == "2024-03" and rows["ids"][0] == '{"state":"PA"}'
    assert rows["cell_id"].isna()[1] and rows["model_name"][0] == "geih-fire-risk"
    assert store.count("predictions", "fire_risk") == 2 and store.count("predictions", "deforestation") == 0


def test_window_and_limit(store):
    store.insert_events([event(f"r{i}", ts=NOW + i) for i in range(10)])
    assert len(store.requests_frame("fire_risk", since=NOW + 5)) == 5
    assert len(store.requests_frame("fire_risk", since=NOW + 5, until=NOW + 7)) == 2
    newest = store.predictions_frame("fire_risk", limit=3, features=False)
    assert newest["request_id"].tolist() == ["r9", "r8", "r7"] and "features" not in newest


def test_truth_upsert_replaces_and_links_by_cell_and_period(store):
    store.insert_events([event("a", ids=[{"cell_id": 1, "period": "2024-05"}], probability=0.8),
                         event("b", ids=[{"cell_id": 2, "period": "2024-05"}], probability=0.2),
                         event("c", ids=[{"cell_id": 3, "period": "2024-06"}], probability=0.4)])
    truth = pd.DataFrame({"cell_id": ["1", "2"], "period": ["2024-05", "2024-05"], "observed": [0, 0]})
    assert store.upsert_truth("fire_risk", truth) == 2
    store.upsert_truth("fire_risk", truth.assign(observed=[1, 0]))  # a correction replaces the first
    assert store.truth_count("fire_risk") == 2
    linked = store.labelled_predictions("fire_risk").sort_values("cell_id")
    assert linked["cell_id"].tolist() == ["1", "2"] and linked["observed"].tolist() == [1, 0]


def test_metrics_replace_by_key(store):
    row = {"task": "fire_risk", "model_name": "m", "model_version": "1", "window_kind": "period",
           "window": "2024-05", "metric": "roc_auc", "value": 0.8, "n": 100}
    store.replace_metrics([row])
    store.replace_metrics([{**row, "value": 0.75, "n": 120}, {**row, "metric": "brier", "value": float("nan")}])
    m = store.metrics_frame("fire_risk").set_index("metric")
    assert m.loc["roc_auc", "value"] == 0.75 and m.loc["roc_auc", "n"] == 120 and len(m) == 2
    assert m["value"].isna()["brier"]  # NaN stored as NULL


def test_retention_rolls_up_then_deletes_old_rows(store):
    old_day, recent = NOW - 40 * DAY, NOW - 1 * DAY
    store.insert_events([event(f"old{i}", n=2, ts=old_day + i, latency_ms=10.0 + i, probability=0.9)
                         for i in range(5)] + [event("olderr", ts=old_day + 10, features=[], error="boom")])
    store.insert_events([event(f"new{i}", ts=recent + i) for i in range(3)])
    store.insert_resource_samples([{"ts": old_day, "process": "p", "cpu_percent": 1.0, "rss_bytes": 1},
                                   {"ts": recent, "process": "p", "cpu_percent": 2.0, "rss_bytes": 2}])
    result = store.apply_retention(30, now=NOW)
    assert result["predictions"] == 10 and result["requests"] == 6 and result["resources"] == 1
    assert result["rolled_up_days"] == 1
    assert store.count("predictions") == 3 and store.count("requests") == 3 and store.count("resources") == 1
    day = store.rollup_frame("fire_risk").iloc[0]
    assert day["day"] == pd.Timestamp(old_day, unit="s").strftime("%Y-%m-%d")
    assert (day["requests"], day["rows"], day["errors"]) == (6, 10, 1)
    assert day["latency_max_ms"] == 14.0 and day["positive_rate"] == 1.0 and day["mean_probability"] == 0.9
    # a late row for the same old day is added to the stored day, not a second day
    store.insert_events([event("late", n=2, ts=old_day + 100, probability=0.1)])
    store.apply_retention(30, now=NOW)
    day = store.rollup_frame("fire_risk").iloc[0]
    assert len(store.rollup_frame()) == 1 and (day["requests"], day["rows"]) == (7, 12)
    assert day["mean_probability"] == pytest.approx((0.9 * 10 + 0.1 * 2) / 12)
    assert store.integrity_check() == "ok"
