"""The `geih` command: operations outside the pipeline.

  geih tracking init                      create/migrate the MLflow store and experiments
  geih tracking uri                       print the store's URI (for MLFLOW_TRACKING_URI=$(geih tracking uri) mlflow …)
  geih data validate PATH                 parse raw files, print a summary per file
  geih predict --bundle DIR [INPUT]       predict with a model bundle (JSON in, JSON out)
  geih predict --bundle DIR --input F --output F   batch: Parquet/CSV in, Parquet/CSV out
  geih bundle --model NAME@ALIAS --out DIR     a bundle of a registered version (or --model NAME --version N)
  geih serve --bundle DIR [--bundle DIR]  the prediction API (FastAPI + uvicorn)
  geih models list --task T               registered versions and aliases
  geih models hyperparameters             every family's hyperparameters: valid values, defaults
  geih models best --task T --metric M    best evaluate run of one task definition; --promote sets champion
  geih monitor summary|drift|report|check|log-truth|prune --task T   production monitoring
  geih alerts --bundle DIR --input F --out alerts.geojson|.csv [--levels alto,crítico] [--webhook URL]
                                          cells at or above a risk level, with place, probability and top features
  geih external register|list|show|evaluate   external models (ONNX, Python callables): registry, scoring
  geih plots template [--out PATH]        write the offline `dvc plots` HTML template (Vega inlined)
  geih plots images JSON --out DIR        render `dvc plots show/diff --json` output to PNGs, print Markdown
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from geih.errors import GeihError
from geih.stage import run_main

log = logging.getLogger("geih.cli")
# What `geih serve` hands every prediction to unless told otherwise: the monitoring store's background writer.
MONITOR_SINK = "geih.monitoring.writer:service_sink"


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="geih", description="GEIH MLOps operations outside the DVC pipeline.")
    sub = ap.add_subparsers(dest="command", required=True)

    tracking = sub.add_parser("tracking", help="MLflow tracking store").add_subparsers(dest="action", required=True)
    tracking.add_parser("init", help="create and migrate the store and the task experiments")
    tracking.add_parser("uri", help="print the tracking URI the pipeline uses (MLFLOW_TRACKING_URI if set, else "
                                    "the repo's SQLite store), found from any folder of the repo")

    data = sub.add_parser("data", help="raw data").add_subparsers(dest="action", required=True)
    validate = data.add_parser("validate", help="parse raw files and print a summary per file")
    validate.add_argument("path", type=Path)

    predict = sub.add_parser("predict", help="predict with a model bundle")
    predict.add_argument("--bundle", type=Path, required=True)
    predict.add_argument("input", nargs="?", default="-", help="JSON file (default: stdin)")
    predict.add_argument("--input", dest="batch_input", type=Path, help="batch mode: .parquet or .csv rows")
    predict.add_argument("--output", dest="batch_output", type=Path, help="batch mode: .parquet or .csv to write")

    bundle = sub.add_parser("bundle", help="build a model bundle from a registered model version")
    bundle.add_argument("--model", required=True, help="NAME@ALIAS (geih-fire-risk@champion) or NAME with --version")
    bundle.add_argument("--version", help="the registered version number")
    bundle.add_argument("--out", type=Path, required=True, help="bundle folder to write")

    serve = sub.add_parser("serve", help="serve model bundles over HTTP (FastAPI + uvicorn)")
    serve.add_argument("--bundle", type=Path, action="append", required=True, help="a bundle folder (repeatable)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--max-body-bytes", type=int, help="larger requests get 413 (default 8 MiB)")
    serve.add_argument("--max-instances", type=int, help="most instances in one request (default 1000)")
    serve.add_argument("--sink", default=MONITOR_SINK,
                       help="MODULE:FACTORY returning the PredictionSink for monitoring (default: the monitoring "
                            "store at GEIH_MONITOR_DB, else <repo>/monitoring/monitor.db)")
    serve.add_argument("--no-monitor", action="store_true", help="hand predictions to no sink (nothing logged)")
    serve.add_argument("--access-log", action="store_true", help="log every request (off: faster)")

    models = sub.add_parser("models", help="the model registry").add_subparsers(dest="action", required=True)
    mlist = models.add_parser("list", help="registered versions and aliases")
    mlist.add_argument("--task", required=True)
    models.add_parser("hyperparameters", help="every model family's hyperparameters: valid values and defaults")
    best = models.add_parser("best", help="the best evaluate run by a metric")
    best.add_argument("--task", required=True)
    best.add_argument("--metric", default="roc_auc")
    best.add_argument("--lower-is-better", action="store_true")
    best.add_argument("--definition", help="task definition fingerprint to rank within (see `geih models list`; "
                                           "default: the champion's, else the newest evaluate run's)")
    best.add_argument("--promote", action="store_true", help="register it if needed and set alias champion")

    from geih.monitoring import commands as monitor_commands

    monitor_commands.add_parser(sub)
    add_alerts_parser(sub)
    from geih.external import commands as external_commands

    external_commands.add_parser(sub)
    warm = sub.add_parser("warm", help="run a command (dvc repro, dvc exp run …) with a warm stage server: every stage "
                          "forks from a process that has already imported pandas, scikit-learn and MLflow")
    warm.add_argument("--preload", help="comma-separated modules the server imports (default: the stage libraries)")
    warm.add_argument("warm_command", nargs=argparse.REMAINDER, metavar="-- COMMAND",
                      help="the command and its arguments, after `--`")
    plots = sub.add_parser("plots", help="offline DVC plots").add_subparsers(dest="action", required=True)
    template = plots.add_parser("template", help="write the HTML template `dvc plots` uses (.dvc/config)")
    template.add_argument("--out", type=Path, default=Path("build/dvc-plots-offline.html"))
    images = plots.add_parser("images", help="render `dvc plots show/diff --json` output to PNG files")
    images.add_argument("json", type=Path, help="file holding the JSON output")
    images.add_argument("--out", type=Path, required=True, help="folder for the PNG files")
    images.add_argument("--link-prefix", help="prefix of the image links in the Markdown (default: --out)")
    return ap


def add_alerts_parser(sub: argparse._SubParsersAction) -> None:
    alerts = sub.add_parser("alerts", help="cells at or above a risk level as GeoJSON/CSV alerts (+ webhook)")
    alerts.add_argument("--bundle", type=Path, required=True, help="a model bundle folder")
    alerts.add_argument("--input", type=Path, required=True, help="features (.parquet or .csv): cell_id, the "
                        "period column, the model's features; `state` (UF) used when present")
    alerts.add_argument("--out", type=Path, required=True, help="alerts file (.geojson or .csv)")
    alerts.add_argument("--format", choices=("geojson", "csv"), help="default: from --out's extension")
    alerts.add_argument("--levels", default="alto,crítico", help="alerting levels (default alto,crítico; "
                        "'alto' alone means alto and above)")
    alerts.add_argument("--period", default="latest", help="'latest' (default), 'all' or one period label")
    alerts.add_argument("--webhook", help="POST the alerts (GeoJSON) to this URL after writing the file")
    alerts.add_argument("--webhook-secret", help="HMAC-SHA256 secret (default: GEIH_WEBHOOK_SECRET)")
    alerts.add_argument("--webhook-timeout", type=float, default=10.0, help="seconds per attempt (default 10)")
    alerts.add_argument("--webhook-retries", type=int, default=3, help="retries after the first attempt (default 3)")


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.command == "tracking":
        from geih.lifecycle.tracking import init_store, tracking_uri
        from geih.tasks import task_names

        if args.action == "uri":
            print(tracking_uri())
            return
        print(f"tracking store ready: {init_store(list(task_names()))}")
    elif args.command == "data":
        from geih.ingest.sources.validate import format_summaries, validate_path

        if not args.path.exists():
            raise GeihError(f"{args.path}: no such file or directory")
        print(format_summaries(validate_path(args.path)))
    elif args.command == "predict":
        _predict(args.bundle, args.input, args.batch_input, args.batch_output)
    elif args.command == "monitor":
        from geih.monitoring import commands as monitor_commands

        monitor_commands.dispatch(args)
    elif args.command == "external":
        from geih.external import commands as external_commands

        print(external_commands.dispatch(args))
    elif args.command == "bundle":
        from geih.lifecycle.registry_bundle import bundle_from_registry

        info = bundle_from_registry(args.model, args.version, args.out)
        print(f"bundle {args.out}: {info['name']} version {info['version']} ({info['task']}, "
              f"{len(info['features'])} features, model sha256 {info['model_sha256'][:12]}…)")
    elif args.command == "serve":
        from geih.serving.server import serve

        limits = {k: v for k, v in (("max_body_bytes", args.max_body_bytes), ("max_instances", args.max_instances))
                  if v is not None}
        serve(args.bundle, host=args.host, port=args.port, workers=args.workers,
              sink=None if args.no_monitor else args.sink,
              access_log=args.access_log, **limits)
    elif args.command == "models":
        if args.action == "hyperparameters":
            from geih.modelling.families import describe_hyperparameters

            print(describe_hyperparameters())
            return
        from geih.lifecycle import selection as model_ops

        if args.action == "list":
            print(model_ops.format_versions(model_ops.list_versions(args.task)))
        else:
            best_run = model_ops.best_run(args.task, args.metric, not args.lower_is_better, args.definition)
            print(json.dumps(best_run, indent=2, sort_keys=True))
            if args.promote:
                version = model_ops.promote(args.task, best_run["run_id"])
                print(f"promoted {best_run['run_id']} → {version['name']} version {version['version']} @champion")
    elif args.command == "alerts":
        _alerts(args)
    elif args.command == "warm":
        from geih.warm.launch import run_warm

        command = args.warm_command[1:] if args.warm_command[:1] == ["--"] else args.warm_command
        status = run_warm(command, args.preload)
        if status:
            raise SystemExit(status)
    elif args.command == "plots":
        from geih.lifecycle import dvc_plots

        if args.action == "template":
            print(f"offline plots template: {dvc_plots.write_offline_template(args.out)}")
        else:
            print(dvc_plots.render_images(dvc_plots.load_plots_json(args.json), args.out, link_prefix=args.link_prefix))


def _predict(bundle: Path, source: str, batch_input: Path | None, batch_output: Path | None) -> None:
    """Run the bundle's own predict.py logic (JSON or batch mode); its errors become GeihErrors."""
    from geih.lifecycle.bundle import load_predictor

    module = load_predictor(bundle)
    argv = [source] if batch_input is None and batch_output is None else []
    if batch_input is not None:
        argv += ["--input", str(batch_input)]
    if batch_output is not None:
        argv += ["--output", str(batch_output)]
    try:
        out = module.run(argv, Path(bundle))
    except module.BundleError as exc:
        raise GeihError(str(exc)) from exc
    if out is not None:
        print(out)


def _alerts(args: argparse.Namespace) -> None:
    """Write the alerts (then deliver them to the webhook, if any) and print a one-line summary."""
    from geih.alerts.formats import level_counts
    from geih.alerts.run import run_alerts
    from geih.alerts.webhook import Webhook, secret_from

    hook = None if not args.webhook else Webhook(args.webhook, secret_from(args.webhook_secret),
                                                  args.webhook_timeout, args.webhook_retries)
    alerts, delivery = run_alerts(args.bundle, args.input, args.out, args.levels, args.period, args.format, hook)
    counts = ", ".join(f"{k} {v}" for k, v in level_counts(alerts, sorted(set(alerts["risk_level"]))).items())
    sent = f"; webhook HTTP {delivery.status}" if delivery else ""
    print(f"{len(alerts)} alert(s) ({counts or 'none'}) → {args.out}{sent}")


def entry() -> int:
    return run_main(main)


if __name__ == "__main__":
    sys.exit(entry())
