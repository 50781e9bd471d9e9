"""The `geih` command: operations outside the pipeline.

  geih tracking init                      create/migrate the MLflow store and experiments
  geih data validate PATH                 parse raw files, print a summary per file
  geih predict --bundle DIR [INPUT]       predict with a model bundle (JSON in, JSON out)
  geih models list --task T               registered versions and aliases
  geih models best --task T --metric M    best evaluate run by a metric; --promote sets champion
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


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="geih", description="GEIH MLOps operations outside the DVC pipeline.")
    sub = ap.add_subparsers(dest="command", required=True)

    tracking = sub.add_parser("tracking", help="MLflow tracking store").add_subparsers(dest="action", required=True)
    tracking.add_parser("init", help="create and migrate the store and the task experiments")

    data = sub.add_parser("data", help="raw data").add_subparsers(dest="action", required=True)
    validate = data.add_parser("validate", help="parse raw files and print a summary per file")
    validate.add_argument("path", type=Path)

    predict = sub.add_parser("predict", help="predict with a model bundle")
    predict.add_argument("--bundle", type=Path, required=True)
    predict.add_argument("input", nargs="?", default="-", help="JSON file (default: stdin)")

    models = sub.add_parser("models", help="the model registry").add_subparsers(dest="action", required=True)
    mlist = models.add_parser("list", help="registered versions and aliases")
    mlist.add_argument("--task", required=True)
    best = models.add_parser("best", help="the best evaluate run by a metric")
    best.add_argument("--task", required=True)
    best.add_argument("--metric", default="roc_auc")
    best.add_argument("--lower-is-better", action="store_true")
    best.add_argument("--promote", action="store_true", help="register it if needed and set alias champion")

    plots = sub.add_parser("plots", help="offline DVC plots").add_subparsers(dest="action", required=True)
    template = plots.add_parser("template", help="write the HTML template `dvc plots` uses (.dvc/config)")
    template.add_argument("--out", type=Path, default=Path("build/dvc-plots-offline.html"))
    images = plots.add_parser("images", help="render `dvc plots show/diff --json` output to PNG files")
    images.add_argument("json", type=Path, help="file holding the JSON output")
    images.add_argument("--out", type=Path, required=True, help="folder for the PNG files")
    images.add_argument("--link-prefix", help="prefix of the image links in the Markdown (default: --out)")
    return ap


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.command == "tracking":
        from geih.lifecycle.tracking import init_store
        from geih.tasks import TASKS

        print(f"tracking store ready: {init_store(list(TASKS))}")
    elif args.command == "data":
        from geih.ingest.sources.validate import format_summaries, validate_path

        if not args.path.exists():
            raise GeihError(f"{args.path}: no such file or directory")
        print(format_summaries(validate_path(args.path)))
    elif args.command == "predict":
        _predict(args.bundle, args.input)
    elif args.command == "models":
        from geih.lifecycle import selection as model_ops

        if args.action == "list":
            print(model_ops.format_versions(model_ops.list_versions(args.task)))
        else:
            best_run = model_ops.best_run(args.task, args.metric, not args.lower_is_better)
            print(json.dumps(best_run, indent=2, sort_keys=True))
            if args.promote:
                version = model_ops.promote(args.task, best_run["run_id"])
                print(f"promoted {best_run['run_id']} → {version['name']} version {version['version']} @champion")
    elif args.command == "plots":
        from geih.lifecycle import dvc_plots

        if args.action == "template":
            print(f"offline plots template: {dvc_plots.write_offline_template(args.out)}")
        else:
            print(dvc_plots.render_images(dvc_plots.load_plots_json(args.json), args.out, link_prefix=args.link_prefix))


def _predict(bundle: Path, source: str) -> None:
    from geih.lifecycle.bundle import load_predictor

    module = load_predictor(bundle)
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
        records = module.records_from_json(json.loads(text))
        model, info = module.load_bundle(bundle)
        result = module.predict(records, model, info)
    except FileNotFoundError as exc:
        raise GeihError(f"input file not found: {exc.filename}") from exc
    except json.JSONDecodeError as exc:
        raise GeihError(f"input is not valid JSON: {exc}") from exc
    except module.BundleInputError as exc:
        raise GeihError(str(exc)) from exc
    print(json.dumps(result, ensure_ascii=False))


def entry() -> int:
    return run_main(main)


if __name__ == "__main__":
    sys.exit(entry())
