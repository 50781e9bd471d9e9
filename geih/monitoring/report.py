"""The monitoring report: one self-contained HTML page (charts are inline base64 PNGs drawn with
matplotlib; no script, stylesheet or image is fetched from anywhere) or Markdown for CI comments.
Rendering only: the numbers come in a `ReportData`."""

from __future__ import annotations

import base64
import html
import io
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from geih.monitoring.drift import DriftReport
from geih.monitoring.summary import Finding

PERF_COLUMNS = ("roc_auc", "pr_auc", "f1", "precision", "recall", "brier")
DRIFT_COLUMNS = ("feature", "kind", "test", "statistic", "ks_threshold", "p_adjusted", "psi", "psi_threshold", "drifted")


@dataclass
class ReportData:
    task: str
    generated_at: str
    summary: dict[str, Any]
    daily: pd.DataFrame  # daily_series
    resources: pd.DataFrame  # resource samples (ts, cpu_percent, rss_bytes, …)
    performance: pd.DataFrame  # metrics_table
    performance_window: str
    drift: DriftReport | None
    drift_note: str
    findings: list[Finding] = field(default_factory=list)
    risk_map: str | None = None  # href of the task's interactive risk map (geih.alerts.html_map.risk_map_href)


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        return f"{value:.3g}" if abs(value) < 1e-3 and value != 0 else f"{value:,.4g}"
    return str(value)


def summary_rows(data: ReportData) -> list[tuple[str, str]]:
    s = data.summary
    lat, res, w = s["latency_ms"], s["resources"], s["writer"]
    model = s.get("current_model") or {}
    return [
        ("window", f"{s['since'] or 'start'} → {s['until'] or 'now'}"),
        ("current model", f"{model.get('name', '–')} v{model.get('version', '–')}"),
        ("requests / rows", f"{s['requests']:,} / {s['rows']:,}"),
        ("errors (rate)", f"{s['errors']:,} ({_fmt(s['error_rate'])})"),
        ("latency p50 / p95 / p99 (ms)", f"{_fmt(lat['p50'])} / {_fmt(lat['p95'])} / {_fmt(lat['p99'])}"),
        ("CPU % mean / max (one core = 100)", f"{_fmt(res.get('cpu_percent_mean'))} / {_fmt(res.get('cpu_percent_max'))}"),
        ("RSS memory MB last / max", f"{_fmt(res.get('rss_mb_last'))} / {_fmt(res.get('rss_mb_max'))}"),
        ("store size MB", _fmt(res.get("store_mb_last"))),
        ("events dropped / failed (share)", f"{w['dropped']:,} / {w['failed']:,} ({_fmt(w['dropped_share'])})"),
    ]


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(width: float = 7.0, height: float = 2.6) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, height))
    ax.grid(alpha=0.3)
    return fig, ax


def charts(data: ReportData) -> dict[str, str]:
    """Data-URI PNGs of the charts that have data: volume, latency, resources, performance, drift."""
    out = {}
    daily = data.daily
    if len(daily):
        fig, ax = _figure()
        ax.bar(daily["day"], daily["requests"], color="#4c78a8", label="requests")
        ax.bar(daily["day"], daily["errors"], color="#e45756", label="errors")
        ax.set_ylabel("per day")
        ax.legend(loc="upper left")
        ax.tick_params(axis="x", labelrotation=45, labelsize=7)
        out["volume"] = _png(fig)
        fig, ax = _figure()
        ax.plot(daily["day"], daily["latency_p50_ms"], marker="o", label="p50")
        ax.plot(daily["day"], daily["latency_p95_ms"], marker="o", label="p95")
        ax.set_ylabel("latency (ms)")
        ax.legend(loc="upper left")
        ax.tick_params(axis="x", labelrotation=45, labelsize=7)
        out["latency"] = _png(fig)
    if len(data.resources):
        res = data.resources.sort_values("ts")
        when = pd.to_datetime(res["ts"], unit="s", utc=True)
        fig, ax = _figure()
        ax.plot(when, res["cpu_percent"], color="#4c78a8", label="CPU %")
        ax.set_ylabel("CPU % (one core = 100)")
        ax2 = ax.twinx()
        ax2.plot(when, res["rss_bytes"] / 2**20, color="#f58518", label="RSS MB")
        ax2.set_ylabel("RSS memory (MB)")
        ax.tick_params(axis="x", labelrotation=30, labelsize=7)
        out["resources"] = _png(fig)
    perf = data.performance
    if len(perf):
        fig, ax = _figure()
        for version, sub in perf.groupby("model_version", sort=True):
            for metric, style in (("roc_auc", "-o"), ("f1", "--s"), ("brier", ":^")):
                ax.plot(sub["window"].astype(str), sub[metric], style, label=f"{metric} v{version}")
        ax.set_ylim(0, 1)
        ax.legend(fontsize=7, ncol=3, loc="lower left")
        ax.tick_params(axis="x", labelrotation=45, labelsize=7)
        out["performance"] = _png(fig)
    if data.drift is not None and data.drift.features:
        frame = data.drift.to_frame().head(25).iloc[::-1]
        fig, ax = _figure(7.0, max(2.0, 0.22 * len(frame) + 0.8))
        colors = ["#e45756" if d else "#4c78a8" for d in frame["drifted"]]
        ax.barh(frame["feature"], frame["psi"].fillna(0), color=colors)
        ax.axvline(data.drift.rule.min_psi, color="black", linestyle="--", linewidth=1)
        ax.set_xlabel(f"PSI (red: drifted; dashed: min_psi {data.drift.rule.min_psi:g})")
        ax.tick_params(axis="y", labelsize=7)
        out["drift"] = _png(fig)
    return out


def _table_html(header: list[str], rows: list[list[Any]], flag: list[bool] | None = None) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cls = ' class="bad"' if flag and flag[i] else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _drift_rows(drift: DriftReport) -> list[list[Any]]:
    frame = drift.to_frame()
    return [[r[c] for c in DRIFT_COLUMNS] for _, r in frame.iterrows()]


def _perf_rows(perf: pd.DataFrame) -> list[list[Any]]:
    return [[r["window"], r["model_version"], int(r["n"]), *[r.get(c) for c in PERF_COLUMNS]]
            for _, r in perf.iterrows()]


STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1000px;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}
th{background:#f3f3f3}tr.bad td{background:#fde2e1}h2{border-bottom:1px solid #ddd;padding-bottom:3px}
.ok{color:#1a7f37}.fail{color:#c62828}.na{color:#777}img{max-width:100%}"""


def render_html(data: ReportData) -> str:
    """The report as one HTML document with everything inline."""
    imgs = charts(data)
    esc = html.escape

    def img(name: str, alt: str) -> str:
        return f'<img alt="{esc(alt)}" src="{imgs[name]}">' if name in imgs else "<p>No data in the window.</p>"

    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>GEIH monitoring — "
             f"{esc(data.task)}</title><style>{STYLE}</style></head><body>",
             f"<h1>Monitoring report — {esc(data.task)}</h1><p>Generated {esc(data.generated_at)}.</p>"]
    if data.risk_map:
        parts.append(f'<p><a href="{esc(data.risk_map)}">Interactive risk map</a> (latest predictions, offline)</p>')
    if data.findings:
        rows = "".join(
            f"<tr><td>{esc(f.check)}</td><td class=\"{'na' if f.ok is None else 'ok' if f.ok else 'fail'}\">"
            f"{'not judged' if f.ok is None else 'ok' if f.ok else 'FAIL'}</td><td>{esc(f.detail)}</td></tr>"
            for f in data.findings)
        parts.append(f"<h2>Health</h2><table><thead><tr><th>check</th><th>status</th><th>detail</th></tr></thead>"
                     f"<tbody>{rows}</tbody></table>")
    parts.append("<h2>Summary</h2>" + _table_html(["", ""], [list(r) for r in summary_rows(data)]))
    parts.append("<h2>Volume</h2>" + img("volume", "requests and errors per day"))
    parts.append("<h2>Latency</h2>" + img("latency", "latency p50 and p95 per day"))
    parts.append("<h2>Resources</h2>" + img("resources", "CPU and memory of the service"))
    parts.append(f"<h2>Performance over time (window: {esc(data.performance_window)})</h2>")
    if len(data.performance):
        parts.append(img("performance", "performance over time"))
        parts.append(_table_html(["window", "version", "n", *PERF_COLUMNS], _perf_rows(data.performance)))
    else:
        parts.append("<p>No ground truth logged yet (<code>geih monitor log-truth</code>).</p>")
    parts.append(f"<h2>Drift</h2><p>{esc(data.drift_note)}</p>")
    if data.drift is not None:
        d = data.drift
        parts.append(f"<p>Rule: Benjamini–Hochberg at FDR {d.rule.fdr:g}, then PSI or KS D at least the feature's "
                     f"threshold (PSI ≥ {d.rule.min_psi:g}, D ≥ {d.rule.min_ks:g}, raised to {d.rule.year_margin:g}× "
                     f"the feature's between-year shift when known); drift when more than "
                     f"{d.rule.max_drifted_features} feature(s) drift. "
                     f"<b>{'Drift detected' if d.drift_detected else 'No drift'}</b>: "
                     f"{esc(', '.join(d.drifted_features) or 'no feature drifted')}.</p>")
        parts.append(img("drift", "PSI per feature"))
        parts.append(_table_html(list(DRIFT_COLUMNS), _drift_rows(d), [f.drifted for f in d.to_frame().itertuples()]))
    parts.append("</body></html>")
    return "\n".join(parts)


def _table_md(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(v).replace("|", "\\|") for v in row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(data: ReportData, max_drift_rows: int = 15) -> str:
    """The report as Markdown (tables only), for a CI comment."""
    out = [f"## GEIH monitoring — {data.task}", f"Generated {data.generated_at}.", ""]
    if data.findings:
        out += ["### Health", _table_md(["check", "status", "detail"], [
            [f.check, "not judged" if f.ok is None else "ok" if f.ok else "**FAIL**", f.detail] for f in data.findings]),
            ""]
    out += ["### Summary", _table_md(["", ""], [list(r) for r in summary_rows(data)]), ""]
    out += [f"### Performance over time (window: {data.performance_window})"]
    out += [_table_md(["window", "version", "n", *PERF_COLUMNS], _perf_rows(data.performance))
            if len(data.performance) else "No ground truth logged yet.", ""]
    out += ["### Drift", data.drift_note]
    if data.drift is not None:
        d = data.drift
        out += [f"**{'Drift detected' if d.drift_detected else 'No drift'}** "
                f"({len(d.drifted_features)} of {len(d.features)} features drifted: "
                f"{', '.join(d.drifted_features) or 'none'})", "",
                _table_md(list(DRIFT_COLUMNS), _drift_rows(d)[:max_drift_rows])]
    return "\n".join(out) + "\n"
