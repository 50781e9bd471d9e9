"""The interactive risk map: one self-contained HTML file (inline SVG, an inline script, the data as inline
JSON) that opens with no network — no tiles, no CDN, no web fonts.

What it shows: the cells of each period coloured by risk level (a period selector: the test months or years,
the latest first), cells at or above the alerting level outlined, observed events (hotspots, clearing) as
dots, state boundaries as the base layer (their outlines drawn over the cells too). Drag to pan, wheel or +/−
to zoom; hovering or clicking a cell shows its probability, level, place (state, municipality with IBGE code)
and top contributing features; the side list holds the period's alerts (click one to zoom to it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geih.alerts.places import cell_bounds
from geih.domain.grid import Grid
from geih.domain.risk_levels import PROBABILITY_LEVEL_COLORS

DATA_ID = "geih-map-data"
# Where `dvc repro` (stage alerts@<task>, dvc.yaml) writes each task's map, relative to the repository root.
RISK_MAP_PATH = "plots/alerts/{task}/risk_map.html"
SIMPLIFY_DEG = 0.02  # state outlines simplified to this tolerance (degrees) to keep the file small


def risk_map_href(task: str, page: Path, root: Path) -> str | None:
    """The link from an HTML page at `page` to the task's risk map under `root`, or None when there is none."""
    target = Path(root) / RISK_MAP_PATH.format(task=task)
    if not target.is_file():
        return None
    return Path(os.path.relpath(target.resolve(), Path(page).resolve().parent)).as_posix()


def svg_path(geometry: Any, digits: int = 3) -> str:
    """An SVG path (x = longitude, y = −latitude) of a Polygon or MultiPolygon's rings."""
    polygons = getattr(geometry, "geoms", [geometry])
    parts = []
    for polygon in polygons:
        for ring in [polygon.exterior, *polygon.interiors]:
            coords = np.asarray(ring.coords)
            points = " ".join(f"{x:.{digits}f} {-y:.{digits}f}" for x, y in coords[:-1])
            parts.append(f"M{points}Z")
    return "".join(parts)


def state_paths(states: pd.DataFrame) -> list[dict[str, str]]:
    """[{name, path}] of the states (a GeoDataFrame with `state` and geometry, EPSG:4326), simplified."""
    return [{"name": str(name), "path": svg_path(geometry.simplify(SIMPLIFY_DEG, preserve_topology=True))}
            for name, geometry in zip(states["state"], states.geometry)]


def map_data(scored: pd.DataFrame, observed: np.ndarray, resolution: float, levels: Sequence[str],
             alert_levels: Sequence[str], states: list[dict[str, str]], title: str, observed_label: str,
             attribution: str, top_features_of: str = "all") -> dict[str, Any]:
    """The map's data: cells (id, west/north corner, place), per period the cells present with probability
    (‰), level, top features and observed flags, the levels with their colours and the alerting level;
    `top_features_of` ('all' or 'alerted') says which cells have top features computed."""
    frame = scored.assign(observed=np.asarray(observed, dtype=bool)).sort_values(["period", "cell_id"], kind="stable")
    cell_ids = np.unique(frame["cell_id"].to_numpy())
    west, _, _, north = cell_bounds(Grid(resolution), cell_ids)
    first = frame.drop_duplicates("cell_id").set_index("cell_id").loc[cell_ids]
    place_text = (first["state"].astype(str) + " · " + first["municipality"].astype(str) + " ("
                  + first["municipality_code"].astype(str) + ")").tolist()
    places, place_index = np.unique(place_text, return_inverse=True)
    k = sum(1 for c in frame.columns if c.startswith("top_feature_"))
    names = sorted({n for j in range(1, k + 1) for n in frame[f"top_feature_{j}"].dropna()})
    name_index = {n: i for i, n in enumerate(names)}
    periods = {}
    for period, rows in frame.groupby("period", sort=True):
        top = []
        for j in range(1, k + 1):
            top.append([name_index.get(n, -1) if isinstance(n, str) else -1 for n in rows[f"top_feature_{j}"]])
            top.append(np.nan_to_num(np.round(rows[f"top_contribution_{j}"].to_numpy(float) * 100), nan=0).astype(int).tolist())
        periods[str(period)] = {
            "cells": np.searchsorted(cell_ids, rows["cell_id"].to_numpy()).tolist(),
            "p": np.round(rows["probability"].to_numpy(float) * 1000).astype(int).tolist(),
            "k": rows["level_index"].astype(int).tolist(),
            "o": rows["observed"].astype(int).tolist(),
            "t": top,
        }
    return {
        "title": title, "observed_label": observed_label, "attribution": attribution, "resolution": resolution,
        "top_features_of": top_features_of,
        "levels": list(levels), "colors": [PROBABILITY_LEVEL_COLORS.get(lv, "#999999") for lv in levels],
        "alert_from": list(levels).index(alert_levels[0]), "alert_levels": list(alert_levels),
        "cells": {"id": cell_ids.tolist(), "x": np.round(west, 6).tolist(), "y": np.round(-north, 6).tolist(),
                  "place": place_index.tolist()},
        "places": places.tolist(), "features": names, "periods": periods, "states": states,
    }


def alerted_cells(data: dict[str, Any], period: str) -> list[int]:
    """Cell ids at or above the alerting level in one period of the map's data."""
    block = data["periods"][period]
    ids = data["cells"]["id"]
    return sorted(ids[c] for c, k in zip(block["cells"], block["k"]) if k >= data["alert_from"])


def risk_map_html(data: dict[str, Any]) -> str:
    """The self-contained HTML page of `map_data`'s data."""
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True).replace("</", "<\\/")
    title = data["title"].replace("{period}", "").strip(" :,") or "Risk map"
    return (PAGE.replace("__TITLE__", _escape(title)).replace("__DATA_ID__", DATA_ID)
            .replace("__DATA__", payload).replace("__SCRIPT__", SCRIPT))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>__TITLE__</title>
<style>
body { margin: 0; font: 13px system-ui, sans-serif; color: #222; display: flex; height: 100vh; }
#main { flex: 1; display: flex; flex-direction: column; min-width: 0; }
#bar { padding: 6px 10px; display: flex; gap: 10px; align-items: center; flex-wrap: wrap; border-bottom: 1px solid #ddd; }
#bar h1 { font-size: 15px; margin: 0 10px 0 0; }
#map { flex: 1; width: 100%; background: #eef3f7; cursor: grab; touch-action: none; }
#map.dragging { cursor: grabbing; }
#side { width: 300px; border-left: 1px solid #ddd; overflow: auto; padding: 8px; }
#side h2 { font-size: 14px; margin: 6px 0; }
.legend span { display: inline-block; width: 12px; height: 12px; margin: 0 3px 0 8px; vertical-align: -2px; border: 1px solid #888; }
.legend i { display: inline-block; width: 6px; height: 6px; border-radius: 3px; background: #111; margin: 0 3px 0 8px; }
#tip { position: fixed; pointer-events: none; background: #fff; border: 1px solid #888; padding: 5px 7px; display: none; max-width: 280px; box-shadow: 0 1px 4px #0003; }
#alerts { list-style: none; padding: 0; margin: 0; }
#alerts li { padding: 3px 4px; border-bottom: 1px solid #eee; cursor: pointer; }
#alerts li:hover { background: #f4f4f4; }
#detail { background: #fafafa; border: 1px solid #ddd; padding: 6px; margin-bottom: 8px; min-height: 40px; }
button { min-width: 28px; }
.state { fill: #f7f5ec; stroke: #777; stroke-width: 0.04; }
.cell { stroke: none; }
.cell.alert { stroke: #111; stroke-width: 0.05; }
.cell.picked { stroke: #0057ff; stroke-width: 0.12; }
.obs { fill: #111; pointer-events: none; }
.border { fill: none; stroke: #333; stroke-width: 0.06; pointer-events: none; }
</style>
</head>
<body>
<div id="main">
  <div id="bar">
    <h1 id="title"></h1>
    <label>period <select id="period"></select></label>
    <button id="zin" title="zoom in">+</button><button id="zout" title="zoom out">&minus;</button><button id="zreset" title="whole area">&#8634;</button>
    <span class="legend" id="legend"></span>
  </div>
  <svg id="map" preserveAspectRatio="xMidYMid meet"><g id="states"></g><g id="cells"></g><g id="borders"></g><g id="obs"></g></svg>
</div>
<div id="side">
  <div id="detail">Hover or click a cell.</div>
  <h2 id="alerts-title"></h2>
  <ol id="alerts"></ol>
  <p id="note"></p>
</div>
<div id="tip"></div>
<script type="application/json" id="__DATA_ID__">__DATA__</script>
<script>
__SCRIPT__
</script>
</body>
</html>
"""

SCRIPT = r"""
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("geih-map-data").textContent);
  var svg = document.getElementById("map"), NS = svg.namespaceURI, res = D.resolution;
  var C = D.cells, n = C.id.length, rects = new Array(n), dots = new Array(n);
  var periods = Object.keys(D.periods).sort().reverse(), current = null, picked = -1, row = new Int32Array(n);
  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var a in attrs) e.setAttribute(a, attrs[a]);
    parent.appendChild(e);
    return e;
  }
  function text(s) { return String(s).replace(/[&<>]/g, function (c) { return {"&": "&amp;", "<": "&lt;", ">": "&gt;"}[c]; }); }
  var sg = document.getElementById("states"), bg = document.getElementById("borders");
  D.states.forEach(function (s) {
    el("path", {d: s.path, "class": "state"}, sg).appendChild(document.createElementNS(NS, "title")).textContent = s.name;
    el("path", {d: s.path, "class": "border"}, bg);
  });
  var minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  var cg = document.getElementById("cells"), og = document.getElementById("obs");
  for (var i = 0; i < n; i++) {
    rects[i] = el("rect", {x: C.x[i], y: C.y[i], width: res, height: res, "class": "cell", "data-i": i}, cg);
    dots[i] = el("circle", {cx: C.x[i] + res / 2, cy: C.y[i] + res / 2, r: res * 0.16, "class": "obs"}, og);
    minX = Math.min(minX, C.x[i]); minY = Math.min(minY, C.y[i]);
    maxX = Math.max(maxX, C.x[i] + res); maxY = Math.max(maxY, C.y[i] + res);
  }
  var pad = res * 2, home = [minX - pad, minY - pad, maxX - minX + 2 * pad, maxY - minY + 2 * pad], view = home.slice();
  function setView(v) { view = v; svg.setAttribute("viewBox", v.join(" ")); }
  setView(home);
  var leg = document.getElementById("legend"), html = "";
  D.levels.forEach(function (lv, k) { html += '<span style="background:' + D.colors[k] + '"></span>' + text(lv); });
  html += "<i></i>" + text(D.observed_label) + ' <span style="background:none;border:2px solid #111"></span>alert (' + text(D.alert_levels.join(", ")) + ")";
  leg.innerHTML = html;
  var sel = document.getElementById("period");
  periods.forEach(function (p) { var o = document.createElement("option"); o.value = p; o.textContent = p; sel.appendChild(o); });
  function describe(i) {
    var B = D.periods[current], r = row[i];
    if (r < 0) return "cell " + C.id[i] + ": not scored in " + text(current);
    var s = "<b>cell " + C.id[i] + "</b> · " + text(current) + "<br>" + text(D.places[C.place[i]]) +
      "<br>probability <b>" + (B.p[r] / 1000).toFixed(3) + "</b> · <b>" + text(D.levels[B.k[r]]) + "</b>" +
      (B.o[r] ? "<br>" + text(D.observed_label) : "");
    var tops = [];
    for (var j = 0; j + 1 < B.t.length; j += 2) {
      if (B.t[j][r] >= 0) tops.push(text(D.features[B.t[j][r]]) + " (" + (B.t[j + 1][r] >= 0 ? "+" : "") + (B.t[j + 1][r] / 100).toFixed(2) + ")");
    }
    var skipped = D.top_features_of === "alerted" && B.k[r] < D.alert_from;
    s += "<br>top features: " + (tops.length ? tops.join(", ") : skipped ?
      "computed for alerted cells only (alerts.map_top_features: alerted)" : "none (" + text(D.attribution) + ")");
    return s;
  }
  function show(p) {
    current = p;
    var B = D.periods[p];
    row.fill(-1);
    for (var i = 0; i < n; i++) { rects[i].style.display = "none"; dots[i].style.display = "none"; }
    var alerts = [];
    B.cells.forEach(function (c, r) {
      row[c] = r;
      var rect = rects[c];
      rect.style.display = "";
      rect.setAttribute("fill", D.colors[B.k[r]]);
      rect.setAttribute("class", "cell" + (B.k[r] >= D.alert_from ? " alert" : "") + (c === picked ? " picked" : ""));
      if (B.o[r]) dots[c].style.display = "";
      if (B.k[r] >= D.alert_from) alerts.push([B.p[r], c]);
    });
    alerts.sort(function (a, b) { return b[0] - a[0] || C.id[a[1]] - C.id[b[1]]; });
    document.getElementById("title").textContent = D.title.replace("{period}", p);
    document.getElementById("alerts-title").textContent = alerts.length + " alert(s) in " + p;
    var list = document.getElementById("alerts");
    list.innerHTML = "";
    alerts.forEach(function (a) {
      var li = document.createElement("li");
      li.innerHTML = "cell " + C.id[a[1]] + " · " + (a[0] / 1000).toFixed(3) + " · " + text(D.places[C.place[a[1]]]);
      li.dataset.i = a[1];
      list.appendChild(li);
    });
    if (picked >= 0) document.getElementById("detail").innerHTML = describe(picked);
  }
  function pick(i) {
    if (picked >= 0) rects[picked].classList.remove("picked");
    picked = i;
    rects[i].classList.add("picked");
    document.getElementById("detail").innerHTML = describe(i);
  }
  document.getElementById("alerts").addEventListener("click", function (e) {
    var li = e.target.closest("li");
    if (!li) return;
    var i = +li.dataset.i, w = res * 12;
    pick(i);
    setView([C.x[i] + res / 2 - w / 2, C.y[i] + res / 2 - w / 2, w, w]);
  });
  sel.addEventListener("change", function () { show(sel.value); });
  var tip = document.getElementById("tip");
  svg.addEventListener("mousemove", function (e) {
    var i = e.target.getAttribute && e.target.getAttribute("data-i");
    if (i === null || i === undefined || dragging) { tip.style.display = "none"; return; }
    tip.innerHTML = describe(+i);
    tip.style.display = "block";
    tip.style.left = (e.clientX + 14) + "px";
    tip.style.top = (e.clientY + 10) + "px";
  });
  svg.addEventListener("mouseleave", function () { tip.style.display = "none"; });
  function toMap(e) {
    var pt = svg.createSVGPoint();
    pt.x = e.clientX; pt.y = e.clientY;
    return pt.matrixTransform(svg.getScreenCTM().inverse());
  }
  function zoom(f, at) {
    var cx = at ? at.x : view[0] + view[2] / 2, cy = at ? at.y : view[1] + view[3] / 2;
    setView([cx - (cx - view[0]) * f, cy - (cy - view[1]) * f, view[2] * f, view[3] * f]);
  }
  svg.addEventListener("wheel", function (e) { e.preventDefault(); zoom(e.deltaY > 0 ? 1.25 : 0.8, toMap(e)); }, {passive: false});
  document.getElementById("zin").onclick = function () { zoom(0.67); };
  document.getElementById("zout").onclick = function () { zoom(1.5); };
  document.getElementById("zreset").onclick = function () { setView(home.slice()); };
  var dragging = false, start = null, moved = false;
  svg.addEventListener("pointerdown", function (e) { start = [e.clientX, e.clientY, view.slice(), toMap(e)]; moved = false; });
  window.addEventListener("pointermove", function (e) {
    if (!start) return;
    var dx = e.clientX - start[0], dy = e.clientY - start[1];
    if (!moved && Math.abs(dx) + Math.abs(dy) < 4) return;
    moved = dragging = true;
    svg.classList.add("dragging");
    var ctm = svg.getScreenCTM(), v = start[2];
    setView([v[0] - dx / ctm.a, v[1] - dy / ctm.d, v[2], v[3]]);
  });
  window.addEventListener("pointerup", function (e) {
    if (start && !moved) {
      var i = e.target.getAttribute && e.target.getAttribute("data-i");
      if (i !== null && i !== undefined) pick(+i);
    }
    start = null; dragging = false;
    svg.classList.remove("dragging");
  });
  document.getElementById("note").textContent = "Top features: " + D.attribution + ". Cells of " + res + "°; alert = level " + D.alert_levels.join(" or ") + ".";
  show(periods[0]);
})();
"""
