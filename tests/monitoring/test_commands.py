"""`geih monitor …` end to end on a temporary store and a small features folder: summary, log-truth →
performance over time, drift (logged rows and a file, seasonally matched), check exit codes, the
self-contained report (HTML and Markdown), prune; bad input exits 2 with a message."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from geih import cli
from geih.modelling.feature_schema import build_schema
from geih.monitoring.store import MonitorStore
from geih.stage import run_main
from tests.monitoring.helpers import event

MONITOR = {"drift": {"fdr": 0.05, "min_psi": 0.2, "min_ks": 0.1, "max_drifted_features": 0, "year_margin": 3.0},
           "seed": 0, "reference_years": 1, "retention_days": 90, "window_days": 30, "performance_window": "period",
           "check": {"min_drift_rows": 100, "min_labelled_rows": 50, "min_roc_auc": 0.7, "max_brier": 0.25,
                     "max_error_rate": 0.05, "max_latency_p95_ms": 100, "max_dropped_share": 0.01}}


def training_rows(rng: np.random.Generator) -> pd.DataFrame:
    """Two years of monthly rows for 50 cells; temperature has a season, rain does not."""
    months = pd.date_range("2022-01-01", "2023-12-01", freq="MS")
    frame = pd.DataFrame({"cell_id": np.tile(np.arange(50), len(months)),
                          "label_month": np.repeat(months, 50)})
    season = np.cos(2 * np.pi * (frame["label_month"].dt.month.to_numpy() - 7) / 12)
    frame["temp"] = 28 + 4 * season + rng.normal(size=len(frame))
    frame["rain"] = rng.gamma(2.0, 50.0, size=len(frame))
    frame["label"] = (rng.random(len(frame)) < 0.3).astype(int)
    return frame


@pytest.fixture
def setup(tmp_path: Path) -> dict:
    rng = np.random.default_rng(7)
    train = training_rows(rng)
    features = tmp_path / "features"
    features.mkdir()
    schema = build_schema("fire_risk", train, train.head(0), ["temp", "rain"], {}, label="label",
                          time_column="label_month", id_columns=["cell_id", "label_month"], grid_resolution_deg=0.5,
                          baseline_column="rain", baseline_name="rain", prepare={}, split={})
    schema.save(features / "schema.json")
    train.to_parquet(features / "train.parquet")
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"monitor": MONITOR}))
    db = str(tmp_path / "monitor.db")
    return {"db": db, "features": features, "params": params, "tmp": tmp_path, "rng": rng}


def log_july(s: dict, n: int = 300, temp_shift: float = 0.0, latency_ms: float = 4.0) -> pd.DataFrame:
    """Log n one-row predictions for July 2024 (like training Julys, plus `temp_shift`); returns the
    outcomes, drawn from the logged probabilities."""
    rng, now = s["rng"], time.time()
    store = MonitorStore(s["db"])
    p = rng.uniform(0.02, 0.98, size=n)
    events = [event(f"r{i}", ts=now - 3600 + i, latency_ms=latency_ms, probability=float(p[i]),
                    features=[{"temp": 32 + temp_shift + float(rng.normal()), "rain": float(rng.gamma(2.0, 50.0))}],
                    ids=[{"cell_id": i, "period": "2024-07-01"}]) for i in range(n)]
    store.insert_events(events)
    store.insert_resource_samples([{"ts": now - 60, "process": "1@h:1", "cpu_percent": 12.5, "rss_bytes": 300 * 2**20,
                                    "store_bytes": 4096, "queued": 0, "written": n, "dropped": 3, "failed": 0}])
    store.close()
    return pd.DataFrame({"cell_id": np.arange(n), "period": "2024-07",
                         "observed": (rng.random(n) < p).astype(int)})


def geih(s: dict, *args: str) -> int:
    return run_main(cli.main, ["monitor", *args, "--db", s["db"], "--params", str(s["params"])])


def test_summary_counts_latency_and_dropped_events(setup, capsys):
    log_july(setup, n=200, latency_ms=4.0)
    MonitorStore(setup["db"]).insert_events([event("bad", features=[], error="422", latency_ms=40.0)])
    assert geih(setup, "summary", "--task", "fire_risk", "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["requests"], out["rows"], out["errors"]) == (201, 200, 1)
    assert out["error_rate"] == pytest.approx(1 / 201) and out["latency_ms"]["p50"] == 4.0
    assert out["latency_ms"]["max"] == 40.0 and out["writer"]["dropped"] == 3
    assert out["resources"]["cpu_percent_max"] == 12.5 and out["resources"]["rss_mb_last"] == 300
    assert out["current_model"] == {"name": "geih-fire-risk", "version": "1"}
    assert geih(setup, "summary", "--task", "fire_risk") == 0
    assert re.search(r"requests / rows\s+201 / 200", capsys.readouterr().out)
    assert geih(setup, "summary", "--task", "fire_risk", "--since", "2099-01-01", "--json") == 0
    assert json.loads(capsys.readouterr().out)["requests"] == 0


def test_log_truth_computes_performance_per_period(setup, capsys):
    truth = log_july(setup)
    path = setup["tmp"] / "observed.csv"
    truth.to_csv(path, index=False)
    assert geih(setup, "log-truth", "--task", "fire_risk", "--file", str(path), "--threshold", "0.5", "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["outcomes"] == 300 and out["linked_rows"] == 300 and out["window"] == "period"
    perf = out["performance"][0]
    assert perf["window"] == "2024-07" and perf["n"] == 300 and perf["roc_auc"] > 0.7
    stored = MonitorStore(setup["db"]).metrics_frame("fire_risk", "period").set_index("metric")
    assert stored.loc["roc_auc", "value"] == pytest.approx(perf["roc_auc"])
    assert set(stored.index) >= {"precision", "recall", "f1", "roc_auc", "brier"}


def test_log_truth_rejects_a_bad_row_with_exit_2(setup, caplog):
    path = setup["tmp"] / "observed.csv"
    path.write_text("cell_id,period,observed\n1,2024-07,1\n2,2024-07,maybe\n")
    assert geih(setup, "log-truth", "--task", "fire_risk", "--file", str(path)) == 2
    assert "row 3" in caplog.text and "'observed'" in caplog.text and "maybe" in caplog.text
    assert MonitorStore(setup["db"]).truth_count("fire_risk") == 0  # nothing half-stored


def test_drift_of_logged_rows_is_seasonally_matched(setup, capsys):
    log_july(setup)  # July temperatures: far from the annual mean, like the training Julys
    assert geih(setup, "drift", "--task", "fire_risk", "--reference", str(setup["features"]), "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["drift_detected"] is False and out["rows"] == 300
    assert "seasonally matched" in out["note"] and "(100 rows)" in out["note"]  # 2 Julys × 50 cells
    assert "thresholds from the shifts between training years (2023 vs 2022)" in out["note"]
    assert out["features"]["temp"]["ks_threshold"] >= 0.1 and out["features"]["rain"]["psi_threshold"] >= 0.2
    recorded = MonitorStore(setup["db"]).metrics_frame("fire_risk", "drift").set_index("metric")
    assert recorded.loc["n_drifted", "value"] == 0 and recorded.loc["drift_detected", "value"] == 0


def test_drift_of_a_file_and_against_schema_statistics(setup, capsys):
    current = pd.DataFrame({"temp": 28 + 6 + np.random.default_rng(1).normal(size=500),
                            "rain": np.random.default_rng(2).gamma(2.0, 50.0, size=500)})
    path = setup["tmp"] / "current.parquet"
    current.to_parquet(path)
    assert geih(setup, "drift", "--task", "fire_risk", "--reference", str(setup["features"] / "schema.json"),
                "--current", str(path)) == 0
    out = capsys.readouterr().out
    assert "drift_detected: True" in out and "temp" in out.split("drift_detected")[1]
    assert "not seasonally matched" in out
    current.drop(columns="rain").to_csv(setup["tmp"] / "partial.csv", index=False)
    assert geih(setup, "drift", "--task", "fire_risk", "--reference", str(setup["features"]),
                "--current", str(setup["tmp"] / "partial.csv")) == 2


def test_check_exit_codes(setup, capsys):
    truth = log_july(setup)
    path = setup["tmp"] / "observed.csv"
    truth.to_csv(path, index=False)
    assert geih(setup, "log-truth", "--task", "fire_risk", "--file", str(path), "--threshold", "0.5") == 0
    capsys.readouterr()
    ref = ["--reference", str(setup["features"])]
    assert geih(setup, "check", "--task", "fire_risk", *ref, "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["healthy"] is True
    assert {f["check"]: f["ok"] for f in out["findings"]} == {
        "error_rate": True, "latency_p95_ms": True, "dropped_share": True, "drift": True, "roc_auc": True,
        "brier": True}
    log_july(setup, temp_shift=4.0)  # a hot July: drift
    with pytest.raises(SystemExit) as exit_info:
        geih(setup, "check", "--task", "fire_risk", *ref, "--since", "2h")
    assert exit_info.value.code == 1
    text = capsys.readouterr().out
    assert re.search(r"drift\s+FAIL", text) and "UNHEALTHY" in text
    assert geih(setup, "check", "--task", "fire_risk", "--reference", str(setup["tmp"] / "nowhere")) == 2


def test_unhealthy_service_metrics_fail_the_check(setup, capsys):
    log_july(setup, latency_ms=250.0)  # above max_latency_p95_ms
    with pytest.raises(SystemExit) as exit_info:
        geih(setup, "check", "--task", "fire_risk", "--reference", str(setup["features"]), "--json")
    assert exit_info.value.code == 1
    findings = {f["check"]: f for f in json.loads(capsys.readouterr().out)["findings"]}
    assert findings["latency_p95_ms"]["ok"] is False and findings["performance"]["ok"] is None  # no truth yet


def test_report_html_is_self_contained_and_md_has_tables(setup, capsys):
    truth = log_july(setup)
    path = setup["tmp"] / "observed.csv"
    truth.to_csv(path, index=False)
    geih(setup, "log-truth", "--task", "fire_risk", "--file", str(path))
    out = setup["tmp"] / "report.html"
    assert geih(setup, "report", "--task", "fire_risk", "--out", str(out), "--reference", str(setup["features"])) == 0
    page = out.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)  # nothing fetched
    assert "<script" not in page.lower() and "<link" not in page.lower() and "@import" not in page
    assert page.count('src="data:image/png;base64,') == 5  # volume, latency, resources, performance, drift
    for heading in ("Health", "Summary", "Volume", "Latency", "Resources", "Performance over time", "Drift"):
        assert f"<h2>{heading}" in page
    assert "2024-07" in page and "No drift" in page
    md = setup["tmp"] / "report.md"
    assert geih(setup, "report", "--task", "fire_risk", "--out", str(md), "--reference", str(setup["features"])) == 0
    text = md.read_text()
    assert text.startswith("## GEIH monitoring — fire_risk") and "| window | version | n |" in text
    assert "data:image" not in text and "| feature | kind | test |" in text
    txt = setup["tmp"] / "report.txt"  # --format md whatever the suffix (a CI comment body)
    assert geih(setup, "report", "--task", "fire_risk", "--out", str(txt), "--format", "md",
                "--reference", str(setup["features"])) == 0
    assert txt.read_text().startswith("## GEIH monitoring — fire_risk") and "<html" not in txt.read_text()


def test_report_with_an_empty_store(setup):
    out = setup["tmp"] / "empty.html"
    assert geih(setup, "report", "--task", "fire_risk", "--out", str(out), "--reference", str(setup["features"])) == 0
    page = out.read_text()
    assert "No data in the window." in page and "No ground truth logged yet" in page and "No current inputs" in page


def test_prune_applies_retention(setup, capsys):
    store = MonitorStore(setup["db"])
    store.insert_events([event("old", ts=time.time() - 200 * 86400), event("new")])
    assert geih(setup, "prune") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["retention_days"] == 90 and out["requests"] == 1 and out["rolled_up_days"] == 1
    assert store.count("requests") == 1


def test_unknown_task_and_bad_params_exit_2(setup, caplog):
    assert geih(setup, "summary", "--task", "wildfire") == 2
    bad = setup["tmp"] / "bad.yaml"
    bad.write_text(yaml.safe_dump({"monitor": {**MONITOR, "window_days": "a month"}}))
    assert run_main(cli.main, ["monitor", "summary", "--task", "fire_risk", "--db", setup["db"],
                               "--params", str(bad)]) == 2
    assert "monitor.window_days" in caplog.text
