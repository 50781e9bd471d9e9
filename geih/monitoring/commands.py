"""`geih monitor …`: the monitoring commands (parser and dispatch for geih.cli, and their I/O).

  summary   --task T [--since 7d] [--json]        volume, errors, latency, resources, dropped events
  drift     --task T [--current FILE]             production inputs (or a file) vs the training reference
  report    --task T --out report.html [--format md]   self-contained HTML page, or Markdown for CI
  check     --task T                              exit 0 healthy, 1 drift/performance/service over thresholds
  log-truth --task T --file observed.csv          attach observed outcomes → performance over time
  prune     [--days N]                            roll up and delete rows older than monitor.retention_days

The store is --db, else GEIH_MONITOR_DB, else <repo>/monitoring/monitor.db; thresholds and the drift rule
come from the `monitor` group of --params (default: the repo's params.yaml). The window defaults to the
last monitor.window_days days. Errors (a missing file, bad params, an unreadable store) exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMATS = ("html", "md")


def add_parser(sub: Any) -> None:
    """Add the `monitor` command and its actions to the geih subparsers `sub`."""
    monitor = sub.add_parser("monitor", help="production monitoring: log, drift, performance, health")
    actions = monitor.add_subparsers(dest="action", required=True)

    def action(name: str, text: str, task: bool = True) -> argparse.ArgumentParser:
        p = actions.add_parser(name, help=text, description=text)
        if task:
            p.add_argument("--task", required=True)
        p.add_argument("--db", help="store URL or SQLite path (default: GEIH_MONITOR_DB or monitoring/monitor.db)")
        p.add_argument("--params", type=Path, help="params file (default: params.yaml of the repo)")
        return p

    def window(p: argparse.ArgumentParser) -> None:
        p.add_argument("--since", help="start of the window: 7d, 24h, 90m or an ISO date/time "
                                       "(default: monitor.window_days ago)")
        p.add_argument("--until", help="end of the window (default: now)")

    def reference(p: argparse.ArgumentParser) -> None:
        p.add_argument("--reference", type=Path, help="features folder (schema.json + train.parquet: seasonal "
                                                      "matching), bundle folder or schema JSON (default: "
                                                      "data/features/<task>, else models/<task>/bundle)")
        p.add_argument("--current", type=Path, help="CSV/Parquet of current inputs instead of the logged ones")
        p.add_argument("--max-rows", type=int, default=100_000, help="newest logged rows to test (default 100000)")

    p = action("summary", "counts, error rate, latency percentiles, resource use and dropped events")
    window(p)
    p.add_argument("--json", action="store_true")
    p = action("drift", "drift of recent production inputs (or --current) against the training reference")
    window(p)
    reference(p)
    p.add_argument("--json", action="store_true")
    p = action("report", "a self-contained HTML report (or Markdown with --format md)")
    window(p)
    reference(p)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--format", choices=FORMATS, help="html or md (default: from --out's suffix, else html)")
    p = action("check", "exit 0 when healthy, 1 when drift, performance or service health cross thresholds")
    window(p)
    reference(p)
    p.add_argument("--json", action="store_true")
    p = action("log-truth", "attach observed outcomes (cell_id, period, observed) and compute performance")
    p.add_argument("--file", type=Path, required=True, help="CSV or Parquet with columns cell_id, period, observed")
    p.add_argument("--threshold", type=float, help="class threshold (default: the bundle's, else 0.5)")
    p.add_argument("--window", help="performance window: period|day|week|month (default: "
                                    "monitor.performance_window)")
    p.add_argument("--json", action="store_true")
    p = action("prune", "roll up and delete log rows older than monitor.retention_days", task=False)
    p.add_argument("--days", type=float, help="override monitor.retention_days")


def dispatch(args: argparse.Namespace) -> None:
    """Run a parsed `geih monitor` action."""
    handlers = {"summary": _summary, "drift": _drift, "report": _report, "check": _check,
                "log-truth": _log_truth, "prune": _prune}
    handlers[args.action](args)


# ---- shared I/O ----------------------------------------------------------------------------------------------
def _config(args: argparse.Namespace) -> Any:
    from geih.lifecycle.tracking import repo_root
    from geih.monitoring.config import MonitorConfig
    from geih.params import load_params

    return MonitorConfig.from_params(load_params(args.params or repo_root() / "params.yaml"))


def _store(args: argparse.Namespace) -> Any:
    from geih.monitoring.store import MonitorStore

    return MonitorStore(args.db)


def _window(args: argparse.Namespace, config: Any, now: float) -> tuple[float, float | None]:
    from geih.monitoring.windows import parse_time

    since = parse_time(args.since, now) if args.since else now - config.window_days * 86400
    until = parse_time(args.until, now) if getattr(args, "until", None) else None
    return since, until


def _check_task(task: str) -> None:
    from geih.tasks import get_task

    get_task(task)


def _read_table(path: Path, **csv_kw: Any) -> Any:
    import pandas as pd

    from geih.errors import DataError

    if not path.exists():
        raise DataError("no such file", file=str(path))
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path, **csv_kw)
    except (ValueError, OSError) as exc:
        raise DataError(f"cannot read the table ({exc})", file=str(path)) from exc


@dataclass
class DriftResult:
    report: Any  # DriftReport
    rows: int
    note: str
    model: dict[str, str] | None


def _reference(task: str, path: Path | None) -> tuple[Any, Any, str]:
    """(schema, training rows or None, description) of the reference for `task`."""
    import pandas as pd

    from geih.errors import GeihError
    from geih.lifecycle.tracking import repo_root
    from geih.modelling.feature_schema import FeatureSchema

    root = repo_root()
    candidates = [path] if path else [root / "data" / "features" / task, root / "models" / task / "bundle"]
    for c in candidates:
        if c.is_dir() and (c / "schema.json").exists() and (c / "train.parquet").exists():
            schema = FeatureSchema.load(c / "schema.json")
            return schema, pd.read_parquet(c / "train.parquet"), f"training rows of {c}"
        for name in ("feature_schema.json", "schema.json"):
            if c.is_dir() and (c / name).exists():
                return FeatureSchema.load(c / name), None, f"training statistics in {c / name}"
        if c.is_file():
            return FeatureSchema.load(c), None, f"training statistics in {c}"
    if path:
        raise GeihError(f"reference {path}: expected a features folder, a bundle folder or a schema JSON file")
    raise GeihError(f"no reference for task {task!r}: none of {[str(c) for c in candidates]} exists; "
                    "pass --reference")


def _drift_result(args: argparse.Namespace, config: Any, store: Any, since: float, until: float | None) -> DriftResult:
    """Drift of the current inputs (logged rows in the window, or --current) against the reference."""
    from geih.errors import DataError, GeihError
    from geih.monitoring import drift as d

    schema, train, ref_note = _reference(args.task, args.reference)
    if schema.task != args.task:
        raise GeihError(f"the reference schema is for task {schema.task!r}, not {args.task!r}")
    features = schema.feature_names
    model = None
    if args.current:
        current = _read_table(args.current)
        absent = [f for f in features if f not in current.columns]
        if absent:
            raise DataError(f"feature columns missing: {absent}", file=str(args.current), column=absent[0])
        months = d.calendar_months(current[schema.time_column]) if schema.time_column in current.columns else None
        source = f"{len(current):,} rows of {args.current}"
    else:
        logged = store.predictions_frame(args.task, since, until, limit=args.max_rows)
        current = logged.rename(columns=lambda c: c.removeprefix("feature:"))
        for f in features:
            if f not in current.columns:
                current[f] = float("nan")
        has_period = len(current) > 0 and current["period"].notna().all()
        months = d.calendar_months(current["period"]) if has_period else None
        source = f"{len(current):,} logged prediction rows since {_iso(since)}"
        if len(logged):
            model = {"name": str(logged["model_name"].iloc[0]), "version": str(logged["model_version"].iloc[0])}
    if len(current) == 0:
        return DriftResult(None, 0, f"No current inputs ({source}).", model)
    null = None
    if train is not None:
        null = d.between_year_null(train, features, schema.time_column, 0, months=months, rows=len(current),
                                   seed=config.seed)
        if null is not None:
            ref_note += f"; thresholds from the shifts between training years ({', '.join(null.pairs)})"
        ref_months = d.calendar_months(train[schema.time_column])
        if ref_months is not None and months is not None:
            train = d.seasonal_match(train, ref_months, months, config.seed)
            ref_note += f", seasonally matched to the current calendar months ({len(train):,} rows)"
        elif ref_months is not None:
            ref_note += " (not seasonally matched: the current rows carry no period)"
        references = d.references_from_frame(train, features)
    else:
        references = d.references_from_stats(schema.reference, features)
        ref_note += " (not seasonally matched)"
    report = d.detect_drift(references, current, config.drift, null)
    return DriftResult(report, len(current), f"Current: {source}. Reference: {ref_note}.", model)


def _record_drift(store: Any, task: str, result: DriftResult, now: float) -> None:
    """Keep the drift outcome in the metrics table (one entry per model version and UTC day)."""
    if result.report is None or result.model is None:
        return
    from geih.monitoring.windows import window_labels

    day = str(window_labels([now], "day")[0])
    frame = result.report.to_frame()
    values = {"n_drifted": len(result.report.drifted_features), "drift_detected": float(result.report.drift_detected),
              "max_psi": float(frame["psi"].max())}
    store.replace_metrics([{"task": task, "model_name": result.model["name"], "model_version": result.model["version"],
                            "window_kind": "drift", "window": day, "metric": k, "value": v, "n": result.rows}
                           for k, v in values.items()], now=now)


def _iso(ts: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _summary_of(store: Any, task: str, since: float, until: float | None) -> dict[str, Any]:
    from geih.monitoring.summary import summarize

    return summarize(store.requests_frame(task, since, until), store.resources_frame(since, until), task=task,
                     since=since, until=until)


def _performance(store: Any, task: str, window_kind: str) -> Any:
    from geih.monitoring.performance import metrics_table

    return metrics_table(store.metrics_frame(task, window_kind=window_kind))


def _findings(store: Any, args: argparse.Namespace, config: Any, now: float) -> tuple[Any, Any, DriftResult, Any]:
    from geih.monitoring.summary import health_findings, latest_performance

    since, until = _window(args, config, now)
    summary = _summary_of(store, args.task, since, until)
    drift = _drift_result(args, config, store, since, until)
    perf = _performance(store, args.task, config.performance_window)
    version = (summary["current_model"] or {}).get("version")
    latest = latest_performance(perf, version, config.check.min_labelled_rows)
    return summary, health_findings(summary, drift.report, drift.rows, latest, config.check), drift, perf


# ---- actions -------------------------------------------------------------------------------------------------
def _summary(args: argparse.Namespace) -> None:
    from geih.monitoring.report import summary_rows

    _check_task(args.task)
    config, store, now = _config(args), _store(args), time.time()
    since, until = _window(args, config, now)
    summary = _summary_of(store, args.task, since, until)
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"monitoring summary — {args.task}")
    for name, value in summary_rows(_data(args.task, summary, now, config)):
        print(f"  {name:<36} {value}")


def _data(task: str, summary: dict[str, Any], now: float, config: Any, **kw: Any) -> Any:
    import pandas as pd

    from geih.monitoring.report import ReportData

    defaults = {"daily": pd.DataFrame(), "resources": pd.DataFrame(), "performance": pd.DataFrame(),
                "performance_window": config.performance_window, "drift": None, "drift_note": ""}
    return ReportData(task=task, generated_at=_iso(now), summary=summary, **{**defaults, **kw})


def _drift(args: argparse.Namespace) -> None:
    _check_task(args.task)
    config, store, now = _config(args), _store(args), time.time()
    since, until = _window(args, config, now)
    result = _drift_result(args, config, store, since, until)
    if not args.current:
        _record_drift(store, args.task, result, now)
    if args.json:
        print(json.dumps({"note": result.note, "rows": result.rows,
                          **(result.report.to_dict() if result.report else {"drift_detected": None})},
                         indent=2, default=_json_default))
        return
    print(result.note)
    if result.report is None:
        return
    frame = result.report.to_frame()
    cols = ["feature", "test", "statistic", "p_adjusted", "psi", "missing_rate_current", "drifted"]
    print(frame[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    r = result.report
    print(f"drift_detected: {r.drift_detected} ({len(r.drifted_features)} of {len(r.features)} features drifted"
          f"{': ' + ', '.join(r.drifted_features) if r.drifted_features else ''})")


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serialisable: {value!r}")


def _report(args: argparse.Namespace) -> None:
    from geih.io import atomic_path
    from geih.monitoring.report import render_html, render_markdown
    from geih.monitoring.summary import daily_series

    _check_task(args.task)
    config, store, now = _config(args), _store(args), time.time()
    since, until = _window(args, config, now)
    summary, findings, drift, perf = _findings(store, args, config, now)
    rollups = store.rollup_frame(args.task)
    if len(rollups):
        rollups = rollups[rollups["day"] >= _iso(since)[:10]]
    daily = daily_series(store.requests_frame(args.task, since, until), rollups)
    data = _data(args.task, summary, now, config, daily=daily, resources=store.resources_frame(since, until),
                 performance=perf, drift=drift.report, drift_note=drift.note, findings=findings)
    from geih.alerts.html_map import risk_map_href
    from geih.lifecycle.tracking import repo_root

    data.risk_map = risk_map_href(args.task, args.out, repo_root())
    fmt = args.format or ("md" if args.out.suffix.lower() in (".md", ".markdown") else "html")
    text = render_markdown(data) if fmt == "md" else render_html(data)
    with atomic_path(args.out) as tmp:
        tmp.write_text(text, encoding="utf-8")
    print(f"report written: {args.out} ({fmt}, {len(text):,} characters)")


def _check(args: argparse.Namespace) -> None:
    from geih.monitoring.summary import is_healthy

    _check_task(args.task)
    config, store, now = _config(args), _store(args), time.time()
    summary, findings, drift, _ = _findings(store, args, config, now)
    if not args.current:
        _record_drift(store, args.task, drift, now)
    healthy = is_healthy(findings)
    if args.json:
        print(json.dumps({"task": args.task, "healthy": healthy, "findings": [f.to_dict() for f in findings]},
                         indent=2, default=_json_default))
    else:
        for f in findings:
            status = "not judged" if f.ok is None else "ok" if f.ok else "FAIL"
            print(f"{f.check:<16} {status:<11} {f.detail}")
        print(f"{args.task}: {'healthy' if healthy else 'UNHEALTHY — retraining or investigation needed'}")
    if not healthy:
        raise SystemExit(1)


def _threshold(task: str, given: float | None) -> float:
    from geih.io import read_json
    from geih.lifecycle.tracking import repo_root

    if given is not None:
        return given
    info = repo_root() / "models" / task / "bundle" / "model_info.json"
    return float(read_json(info).get("threshold", 0.5)) if info.exists() else 0.5


def _log_truth(args: argparse.Namespace) -> None:
    from geih.errors import GeihError
    from geih.monitoring.performance import metric_rows, parse_truth, performance_over_windows
    from geih.monitoring.windows import WINDOW_KINDS

    _check_task(args.task)
    config = _config(args)
    kind = args.window or config.performance_window
    if kind not in WINDOW_KINDS:
        raise GeihError(f"--window {kind!r}: expected one of {list(WINDOW_KINDS)}")
    truth = parse_truth(_read_table(args.file, dtype={"cell_id": str, "period": str}), str(args.file))
    store = _store(args)
    stored = store.upsert_truth(args.task, truth)
    threshold = _threshold(args.task, args.threshold)
    labelled = store.labelled_predictions(args.task)
    perf = performance_over_windows(labelled, kind, threshold)
    store.replace_metrics(metric_rows(perf, args.task, kind))
    if args.json:
        print(json.dumps({"outcomes": stored, "linked_rows": len(labelled), "threshold": threshold, "window": kind,
                          "performance": json.loads(perf.to_json(orient="records"))}, indent=2))
        return
    print(f"{stored:,} observed outcomes stored for {args.task}; {len(labelled):,} logged prediction rows linked "
          f"(threshold {threshold:g}, window {kind})")
    if len(perf):
        print(perf.to_string(index=False, float_format=lambda v: f"{v:.4f}"))


def _prune(args: argparse.Namespace) -> None:
    config = _config(args)
    days = args.days if args.days is not None else config.retention_days
    result = _store(args).apply_retention(days)
    print(json.dumps({"retention_days": days, **result}, sort_keys=True))
