"""The interactive risk map: self-contained (nothing remote), valid HTML with a script that parses, holding
every period and every alerted cell; the monitoring report links to it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from geih.alerts.html_map import DATA_ID, alerted_cells, risk_map_href, state_paths
from geih.alerts.pipeline import stage_outputs
from geih.alerts.table import load_alert_model
from geih.monitoring import report
from geih.monitoring.report import ReportData, render_html
from tests.alerts.support import column_bundle, frame
from tests.serving.bundle_support import make_bundle


class Page(HTMLParser):
    """Collects tags, attributes, scripts and the inline data of the page (fails on unbalanced tags)."""

    VOID = {"meta", "br", "input", "img", "link", "rect", "circle", "path"}

    def __init__(self) -> None:
        super().__init__()
        self.stack, self.attrs, self.scripts, self.data, self.in_script = [], [], [], None, None

    def handle_starttag(self, tag, attrs):
        self.attrs += attrs
        if tag == "script":
            self.in_script = dict(attrs)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()
        if tag == "script":
            self.in_script = None

    def handle_data(self, data):
        if self.in_script is not None:
            if self.in_script.get("id") == DATA_ID:
                self.data = json.loads(data)
            elif data.strip():
                self.scripts.append(data)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    model = load_alert_model(column_bundle(tmp_path_factory.mktemp("map") / "bundle"))
    months = ["2024-11-01"] * 4 + ["2024-12-01"] * 4
    cells = [1000, 1001, 1062, 1063] * 2
    test = frame([0.1, 0.6, 0.8, 0.3, 0.76, 0.2, 0.5, 0.49], months=months, cells=cells, states=["PA"] * 8)
    states = pd.DataFrame({"state": ["PA", "AM"]}).assign(geometry=[
        shapely.box(-56, -8, -48, 0), shapely.Polygon([(-70, -9), (-56, -9), (-56, 0), (-70, 0)]).buffer(0)])
    observed = np.array([0, 1, 1, 0, 1, 0, 0, 0], dtype=bool)
    return stage_outputs(test, model, ("alto", "crítico"), observed, state_paths(states),
                         "Fire risk {period}: predicted level", "observed (n_hotspots > 0)", "test.parquet")


def test_the_map_references_nothing_remote_and_parses(outputs):
    page = outputs.html
    assert "http://" not in page and "https://" not in page and "@import" not in page
    parser = Page()
    parser.feed(page)
    parser.close()
    assert parser.stack == []
    assert not [v for k, v in parser.attrs if k in ("src", "href") and v and re.match(r"\s*(\w+:)?//", v)]
    assert not [v for k, v in parser.attrs if k == "src"]  # no external script or image at all
    assert len(parser.scripts) == 1 and parser.data is not None
    node = shutil.which("node")
    if node:  # the inline script is valid JavaScript
        script = Path(pytest.importorskip("tempfile").mkdtemp()) / "map.js"
        script.write_text(parser.scripts[0], encoding="utf-8")
        out = subprocess.run([node, "--check", str(script)], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr


def test_the_map_holds_every_period_and_every_alerted_cell(outputs):
    parser = Page()
    parser.feed(outputs.html)
    data = parser.data
    assert sorted(data["periods"]) == ["2024-11", "2024-12"]
    assert alerted_cells(data, "2024-12") == sorted(outputs.alerts["cell_id"].tolist()) == [1000, 1062]
    assert alerted_cells(data, "2024-11") == [1001, 1062]
    december = data["periods"]["2024-12"]
    assert [data["levels"][k] for k in december["k"]] == ["crítico", "baixo", "alto", "médio"]
    assert december["p"] == [760, 200, 500, 490] and data["periods"]["2024-11"]["o"] == [0, 1, 1, 0]
    assert {s["name"] for s in data["states"]} == {"PA", "AM"} and data["states"][0]["path"].startswith("M")
    assert outputs.metrics == {"alerted": 2, "alerted_by_level": {"alto": 1, "crítico": 1}, "cells": 4,
                               "cells_by_level": {"baixo": 1, "médio": 1, "alto": 1, "crítico": 1}}
    assert outputs.plot["cells"].tolist() == [1, 1, 1, 1] and outputs.plot["alerted"].tolist() == [False, False, True, True]


def test_the_map_can_hold_top_features_of_the_alerted_cells_only(tmp_path: Path):
    model = load_alert_model(make_bundle(tmp_path / "logistic"))
    test = frame([0.95, 0.05, 0.9, 0.1], states=["PA"] * 4)
    observed = np.zeros(4, dtype=bool)
    made = {scope: stage_outputs(test, model, ("alto", "crítico"), observed, [], "t {period}", "observed", "in",
                                 map_top_features=scope) for scope in ("all", "alerted")}
    data = {scope: out.data for scope, out in made.items()}
    assert data["all"]["top_features_of"] == "all" and data["alerted"]["top_features_of"] == "alerted"
    block, full = data["alerted"]["periods"]["2024-12"], data["all"]["periods"]["2024-12"]
    alerted = [k >= data["alerted"]["alert_from"] for k in block["k"]]
    assert any(alerted) and not all(alerted) and block["k"] == full["k"] and block["p"] == full["p"]
    for row, is_alert in enumerate(alerted):
        first = (block["t"][0][row], full["t"][0][row])
        assert first[0] == first[1] >= 0 if is_alert else first[0] == -1 <= first[1]
    pd.testing.assert_frame_equal(made["alerted"].alerts, made["all"].alerts)
    assert made["alerted"].metrics == made["all"].metrics
    assert "computed for alerted cells only" in made["alerted"].html
    with pytest.raises(ValueError, match="map_top_features"):
        stage_outputs(test, model, ("alto",), observed, [], "t", "o", "in", map_top_features="some")


def test_the_monitoring_report_links_to_the_map(tmp_path: Path, monkeypatch):
    assert risk_map_href("fire_risk", tmp_path / "report.html", tmp_path) is None
    target = tmp_path / "plots/alerts/fire_risk/risk_map.html"
    target.parent.mkdir(parents=True)
    target.write_text("<html></html>")
    href = risk_map_href("fire_risk", tmp_path / "reports/monitor.html", tmp_path)
    assert href == "../plots/alerts/fire_risk/risk_map.html"
    empty = pd.DataFrame()
    monkeypatch.setattr(report, "summary_rows", lambda data: [])  # the report's own content is not this test's
    monkeypatch.setattr(report, "charts", lambda data: {})
    page = render_html(ReportData(task="fire_risk", generated_at="now", summary={}, daily=empty, resources=empty,
                                  performance=empty, performance_window="period", drift=None, drift_note="",
                                  risk_map=href))
    assert f'<a href="{href}">Interactive risk map</a>' in page
