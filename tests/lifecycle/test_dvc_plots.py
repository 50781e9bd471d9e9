"""The offline `dvc plots` template and the PNG images of plots for pull-request reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dvc_render.html import render_html
from dvc_render.vega import VegaRenderer

from geih.cli import main
from geih.errors import GeihError
from geih.lifecycle import dvc_plots

FAKE_JS = "var hidden = 1; window.vegaEmbed = function (id, spec) { return '</script>'; };"


def test_template_inlines_the_javascript_and_leaves_dvc_no_scripts_slot():
    page = dvc_plots.offline_template(FAKE_JS, "9.9")
    assert "{plot_divs}" in page and "{refresh_tag}" in page and "{scripts}" not in page
    assert "(function () {\nvar hidden = 1;" in page  # top-level names stay private
    assert "return '<\\/script>'" in page and page.count("</script>") == 1
    assert "vl-convert-python 9.9" in page


@pytest.mark.parametrize("javascript, message", [
    ("window.vegaEmbed = 1; // {plot_divs}", "placeholder"),
    ("window.vegaEmbed = 1; // {scripts}", "placeholder"),
    ("window.vega = 1;", "window.vegaEmbed"),
    ("window.vegaEmbed = 1; var s = '<!--';", "<!--"),
])
def test_template_refuses_javascript_that_cannot_be_inlined(javascript: str, message: str):
    with pytest.raises(GeihError, match=message):
        dvc_plots.offline_template(javascript)


def test_dvc_fills_the_template_without_cdn_tags(tmp_path: Path):
    template = tmp_path / "template.html"
    template.write_text(dvc_plots.offline_template(FAKE_JS), encoding="utf-8")
    renderer = VegaRenderer([{"x": 1, "y": 2, "rev": "workspace"}], "fire_risk ROC", template="linear", x="x", y="y")
    out = Path(render_html([renderer], tmp_path / "out" / "index.html", html_template=str(template)))
    html = out.read_text(encoding="utf-8")
    assert "cdn.jsdelivr" not in html and "<script src" not in html
    assert "vegaEmbed('#fire_risk_ROC', spec)" in html and '"x": 1' in html


def plots_json() -> dict:
    spec = {"$schema": "https://vega.github.io/schema/vega-lite/v5.json",
            "data": {"values": [{"fpr": 0, "tpr": 0, "rev": "main"}, {"fpr": 1, "tpr": 1, "rev": "main"}]},
            "title": "fire_risk ROC", "mark": "line",
            "encoding": {"x": {"field": "fpr", "type": "quantitative"}, "y": {"field": "tpr", "type": "quantitative"}}}
    return {"data": {"fire_risk ROC": [{"type": "vega", "revisions": ["main"], "content": spec}],
                     "plots/world/landcover.png": [{"type": "image", "revisions": ["main"], "url": "x.png"}]}}


def test_images_render_each_vega_plot_and_skip_image_plots(tmp_path: Path):
    markdown = dvc_plots.render_images(plots_json(), tmp_path / "images", link_prefix="dvc_plots/images")
    png = tmp_path / "images" / "fire_risk_ROC.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == ["fire_risk_ROC.png"]
    assert "### fire_risk ROC" in markdown and "![fire_risk ROC](dvc_plots/images/fire_risk_ROC.png)" in markdown


def test_images_cli_prints_markdown(tmp_path: Path, capsys):
    source = tmp_path / "plots.json"
    source.write_text(json.dumps(plots_json()))
    main(["plots", "images", str(source), "--out", str(tmp_path / "out")])
    assert f"]({tmp_path / 'out'}/fire_risk_ROC.png)" in capsys.readouterr().out


@pytest.mark.parametrize("content, message", [(None, "no such file"), ("{", "not JSON"), ("[]", "'data'")])
def test_images_reject_what_is_not_dvc_plots_json(tmp_path: Path, content: str | None, message: str):
    source = tmp_path / "plots.json"
    if content is not None:
        source.write_text(content)
    with pytest.raises(GeihError, match=message):
        dvc_plots.render_images(dvc_plots.load_plots_json(source), tmp_path / "out")


def test_no_vega_plots_gives_a_note():
    assert "No Vega plots" in dvc_plots.render_images({"data": {}}, "unused")


def test_image_names_are_plain():
    assert dvc_plots.image_name("fire_risk ROC AUC by state/x") == "fire_risk_ROC_AUC_by_state_x"
    assert dvc_plots.image_name("***") == "plot"
