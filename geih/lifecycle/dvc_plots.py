"""DVC plots that need no network: an HTML page template with the Vega libraries inlined (for
`dvc plots show/diff`), and PNG images of the plots for pull-request reports.

DVC fills a page template by replacing `{plot_divs}` with one `<div>` per plot, each calling the global
`vegaEmbed`; it adds its CDN `<script>` tags only where the template has `{scripts}`. The template written
here has no `{scripts}` and defines `vegaEmbed` itself, from the JavaScript bundle shipped by the
`vl-convert-python` package, so the third-party code is installed, never committed."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from geih.errors import GeihError
from geih.io import atomic_path

# DVC's plot templates are Vega-Lite 5 specs (its CDN tags load vega-lite@5).
VEGA_LITE_VERSION = "5.21"
DVC_PLACEHOLDERS = ("{plot_divs}", "{scripts}", "{refresh_tag}")

PAGE = """<!DOCTYPE html>
<html>
<head>
    <meta charset="utf-8">
    {refresh_tag}
    <title>DVC plots (offline)</title>
    <!-- Vega, Vega-Lite and Vega-Embed inlined from vl-convert-python {version}: no network needed. -->
    <script type="text/javascript">
{javascript}
    </script>
    <style>
        table { border-spacing: 15px; }
        body { font-family: sans-serif; }
    </style>
</head>
<body>
    {plot_divs}
</body>
</html>
"""


def vega_javascript(vl_version: str = VEGA_LITE_VERSION) -> str:
    """The Vega + Vega-Lite + Vega-Embed bundle of the installed vl-convert-python, defining
    `window.vegaEmbed`, `window.vega` and `window.vegaLite`."""
    try:
        import vl_convert
    except ImportError as exc:
        raise GeihError("vl-convert-python is not installed: run `make venv` (it is pinned in "
                        "requirements.txt)") from exc
    return vl_convert.javascript_bundle(vl_version=vl_version)


def offline_template(javascript: str, version: str = "") -> str:
    """A DVC HTML template with `javascript` inlined in one classic <script>, wrapped in a function so
    its top-level names stay private; no `{scripts}` placeholder, so DVC adds no CDN tags."""
    found = [p for p in DVC_PLACEHOLDERS if p in javascript]
    if found:
        raise GeihError(f"the Vega bundle contains the DVC placeholder(s) {found}; DVC would replace them")
    if "window.vegaEmbed" not in javascript:
        raise GeihError("the Vega bundle does not define window.vegaEmbed")
    if "<!--" in javascript:  # would switch the HTML parser into a script-comment state
        raise GeihError("the Vega bundle contains '<!--', which cannot be inlined in a <script> safely")
    safe = re.sub(r"</(script)", r"<\\/\1", javascript, flags=re.IGNORECASE)
    head, tail = PAGE.replace("{version}", version).split("{javascript}")
    return f"{head}(function () {{\n{safe}\n}})();{tail}"


def write_offline_template(path: str | Path, vl_version: str = VEGA_LITE_VERSION) -> Path:
    """Write the offline template to `path` (atomically) and return it."""
    from importlib import metadata

    page = offline_template(vega_javascript(vl_version), metadata.version("vl-convert-python"))
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return Path(path)


def image_name(title: str) -> str:
    """A file name for a plot title: letters, digits, `-` and `_` only."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", title).strip("_") or "plot"


def vega_specs(plots: Any) -> dict[str, dict[str, Any]]:
    """{plot title: Vega-Lite spec with its data} from `dvc plots show/diff --json` output; image
    plots (the maps) are left out, they are files already."""
    data = plots.get("data") if isinstance(plots, dict) else None
    if not isinstance(data, dict):
        raise GeihError("not `dvc plots show/diff --json` output: no top-level 'data' object")
    specs = {}
    for title, entries in data.items():
        for entry in entries:
            if entry.get("type") == "vega" and isinstance(entry.get("content"), dict):
                specs[title] = entry["content"]
    return specs


def render_images(plots: dict[str, Any], out_dir: str | Path, vl_version: str = VEGA_LITE_VERSION,
                  link_prefix: str | None = None) -> str:
    """Render every Vega-Lite plot of `dvc plots ... --json` output to `<out_dir>/<title>.png` and
    return a Markdown section that shows them (image links relative to `link_prefix`, default
    `out_dir` as given)."""
    import vl_convert

    out = Path(out_dir)
    prefix = str(out_dir) if link_prefix is None else link_prefix
    lines = ["## Plots", ""]
    specs = vega_specs(plots)
    if not specs:
        return "## Plots\n\nNo Vega plots in this comparison.\n"
    for title, spec in specs.items():
        name = f"{image_name(title)}.png"
        with atomic_path(out / name) as tmp:
            tmp.write_bytes(vl_convert.vegalite_to_png(spec, vl_version=vl_version))
        lines += [f"### {title}", "", f"![{title}]({prefix.rstrip('/')}/{name})", ""]
    return "\n".join(lines)


def load_plots_json(path: str | Path) -> dict[str, Any]:
    """Read `dvc plots ... --json` output saved to `path` (`-` is not accepted: pass a file)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise GeihError(f"{path}: no such file") from exc
    except json.JSONDecodeError as exc:
        raise GeihError(f"{path}: not JSON ({exc})") from exc
