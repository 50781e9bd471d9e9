"""`geih external register|list|show`: the external model registry from the command line."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from geih.errors import GeihError


def add_parser(sub: Any) -> None:
    """Add the `external` command and its actions to the geih subparsers `sub`."""
    external = sub.add_parser("external", help="the registry of external models (ONNX, Python callables)")
    actions = external.add_subparsers(dest="action", required=True)

    def action(name: str, text: str) -> argparse.ArgumentParser:
        p = actions.add_parser(name, help=text, description=text)
        p.add_argument("--registry", type=Path,
                       help="registry file (default: GEIH_EXTERNAL_REGISTRY, else models/external/registry.json)")
        return p

    register = action("register", "register a version of an external model")
    register.add_argument("--name", required=True)
    register.add_argument("--version", required=True)
    register.add_argument("--type", required=True, help="onnx | python")
    register.add_argument("--path", required=True, type=Path, help="the model artefact")
    register.add_argument("--metadata", help="JSON object, or @FILE holding one (the ModelMetadata form)")
    listing = action("list", "registered versions")
    listing.add_argument("--json", action="store_true")
    show = action("show", "one version (the latest registered without --version)")
    show.add_argument("--name", required=True)
    show.add_argument("--version")
    show.add_argument("--json", action="store_true")
    evaluate = action("evaluate", "score a registered version on a regression task's test rows with the pipeline's "
                                  "evaluate code (the same metrics and baselines as metrics/<task>/evaluate.json)")
    evaluate.add_argument("--name", required=True)
    evaluate.add_argument("--version")
    evaluate.add_argument("--task", required=True)
    evaluate.add_argument("--features", required=True, type=Path, help="the task's features folder")
    evaluate.add_argument("--out", required=True, type=Path, help="metrics JSON to write")


def parse_metadata(text: str | None) -> dict[str, Any]:
    """--metadata as a dict: inline JSON or @FILE; GeihError when it is not a JSON object."""
    if not text:
        return {}
    where = "--metadata"
    if text.startswith("@"):
        where = text[1:]
        try:
            text = Path(where).read_text(encoding="utf-8")
        except OSError as exc:
            raise GeihError(f"--metadata file {where}: {exc.strerror}") from exc
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GeihError(f"{where}: not valid JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise GeihError(f"{where}: expected a JSON object")
    return value


def dispatch(args: argparse.Namespace) -> str:
    """Run a parsed `geih external` action; returns the text to print."""
    from geih.external.registry import ExternalModelRegistry, format_table

    registry = ExternalModelRegistry(args.registry)
    if args.action == "register":
        info = registry.register(args.name, args.version, args.type, args.path, parse_metadata(args.metadata))
        return f"registered {info.name} version {info.version} ({info.type}, sha256 {info.sha256[:12]}…) in {registry.path}"
    if args.action == "evaluate":
        return _evaluate(registry, args)
    if args.action == "list":
        infos = registry.list()
        return json.dumps([i.to_dict() for i in infos], indent=2) if args.json else format_table(infos)
    info = registry.get_model_info(args.name, args.version)
    if args.json:
        return json.dumps(info.to_dict(), indent=2, sort_keys=True)
    meta = info.metadata
    lines = [f"{info.name} version {info.version}", f"  type        {info.type}", f"  path        {info.path}",
             f"  sha256      {info.sha256}", f"  registered  {info.registered_at}"]
    if meta:
        lines += [f"  description {meta.get('description', '')}",
                  f"  inputs      {', '.join(v['name'] for v in meta.get('inputs', []))}",
                  f"  outputs     {', '.join(v['name'] for v in meta.get('outputs', []))}"]
    return "\n".join(lines)


def _evaluate(registry: Any, args: argparse.Namespace) -> str:
    from geih import io
    from geih.external.evaluation import evaluate_external
    from geih.external.registry import load_adapter
    from geih.modelling.feature_schema import FeatureSchema
    from geih.modelling.feature_tables import load_split
    from geih.tasks import get_task

    task = get_task(args.task)
    if task.kind != "regression":
        raise GeihError(f"task {task.name!r} is a {task.kind} task; external models forecast regression targets")
    schema = FeatureSchema.load(args.features, task.name)
    info = registry.get_model_info(args.name, args.version)
    result = evaluate_external(load_adapter(info), load_split(args.features, "train"),
                               load_split(args.features, "test"), schema, task)
    metrics = {**result.metrics, "model": f"{info.name}@{info.version}"}
    io.write_json(metrics, args.out)
    skills = ", ".join(f"{t.name} {metrics[t.name]['skill_vs_climatology']:.4f}" for t in task.targets)
    return f"{info.name} version {info.version} on {task.name}: skill vs climatology {skills} → {args.out}"
