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
