"""Alerts of a features frame with a bundle: selection at exact level boundaries and by period, the
GeoJSON/CSV content, and bad input refused with the file and column named."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from geih.alerts.formats import csv_frame, feature_collection, level_counts, output_format
from geih.alerts.table import build_alerts, load_alert_model, score_frame
from geih.domain.grid import Grid
from geih.errors import DataError, GeihError
from tests.alerts.support import column_bundle, frame
from tests.serving.bundle_support import make_bundle


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return load_alert_model(column_bundle(tmp_path_factory.mktemp("alerts") / "bundle"))


def test_cells_on_a_threshold_alert_at_the_upper_level(model):
    rows = frame([0.2, 0.4999999, 0.5, 0.7499999, 0.75, 1.0])
    alerts = build_alerts(rows, model, ("alto", "crítico"))
    assert alerts["cell_id"].tolist() == [1005, 1004, 1003, 1002]  # most probable first
    assert alerts["risk_level"].tolist() == ["crítico", "crítico", "alto", "alto"]
    assert alerts["probability"].tolist() == [1.0, 0.75, 0.7499999, 0.5]
    only_top = build_alerts(rows, model, ("crítico",))
    assert only_top["cell_id"].tolist() == [1005, 1004]
    assert level_counts(alerts, ("alto", "crítico")) == {"alto": 2, "crítico": 2}


def test_the_latest_period_by_default_or_the_one_asked(model):
    rows = frame([0.9, 0.9, 0.1], months=["2024-11-01", "2024-12-01", "2024-12-01"], cells=[5, 6, 7])
    assert build_alerts(rows, model, ("alto", "crítico"))["cell_id"].tolist() == [6]
    assert build_alerts(rows, model, ("alto", "crítico"), "2024-11")["period"].tolist() == ["2024-11"]
    assert len(build_alerts(rows, model, ("alto", "crítico"), "all")) == 2
    with pytest.raises(DataError, match="period '2023-01' not in the input"):
        build_alerts(rows, model, ("alto",), "2023-01", source="f.parquet")


def test_alerts_carry_geometry_place_model_and_an_honest_attribution(model):
    grid = Grid(0.5)
    cell = int(grid.cell_of(-3.1, -60.1))  # a cell holding Manaus
    alerts = build_alerts(frame([0.8], cells=[cell], states=["AM"]), model, ("alto", "crítico"))
    collection = json.loads(json.dumps(feature_collection(alerts, 0.5, ("alto", "crítico"))))
    feature = collection["features"][0]
    props = feature["properties"]
    assert props["municipality"] == "Manaus" and props["municipality_code"] == 1302603
    assert props["state"] == "AM" and props["state_code"] == 13
    assert (props["model_name"], props["model_version"], props["period"]) == ("geih-fire-risk", "7", "2024-12")
    ring = feature["geometry"]["coordinates"][0]
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    assert min(lons) <= -60.1 < max(lons) and min(lats) <= -3.1 < max(lats) and max(lons) - min(lons) == 0.5
    # ColumnModel is no known family: no top features, and the file says why
    assert props["top_features"] == [] and collection["attribution"].startswith("none")
    wkt = csv_frame(alerts, 0.5)["geometry_wkt"].iloc[0]
    assert wkt.startswith("POLYGON ((") and f"{min(lons):.6f} {min(lats):.6f}" in wkt


def test_a_known_family_names_its_top_features(tmp_path: Path):
    model = load_alert_model(make_bundle(tmp_path / "logistic"))  # logistic regression on a, b, c
    scored = score_frame(frame([0.95, 0.9]), model)
    assert "standardized" in scored.attrs["attribution"]
    assert scored["top_feature_1"].tolist() == ["a", "a"]  # the label is driven by `a`
    assert scored[["top_feature_1", "top_feature_2", "top_feature_3"]].notna().all().all()


def test_only_the_rows_at_or_above_the_alerting_level_are_attributed_when_asked(tmp_path: Path):
    model = load_alert_model(make_bundle(tmp_path / "logistic"))
    rows = frame([0.95, 0.05, 0.9, 0.1])
    every = score_frame(rows, model)
    some = score_frame(rows, model, explain_from=("alto", "crítico"))
    alerted = (some["level_index"] >= model.levels.index("alto")).to_numpy()
    assert alerted.any() and not alerted.all()
    tops = [f"top_{kind}_{j}" for kind in ("feature", "contribution") for j in (1, 2, 3)]
    # the alerted rows: the same top features as when every row is attributed; the others: none
    pd.testing.assert_frame_equal(some.loc[alerted, tops], every.loc[alerted, tops])
    assert some.loc[~alerted, tops].isna().all().all() and every.loc[~alerted, tops].notna().all().all()
    plain = [c for c in every.columns if c not in tops]
    pd.testing.assert_frame_equal(some[plain], every[plain])
    assert some.attrs["attribution"] == every.attrs["attribution"]


@pytest.mark.parametrize(("drop", "column"), [("cell_id", "cell_id"), ("month", "month"), ("b", "b")])
def test_a_missing_column_is_named(model, drop: str, column: str):
    with pytest.raises(DataError, match=f"file in.parquet, column '{column}'"):
        build_alerts(frame([0.9]).drop(columns=drop), model, ("alto",), source="in.parquet")


def test_bad_values_and_cells_are_refused(model):
    with pytest.raises(DataError, match="feature 'a' is 1.5, above the valid maximum"):
        build_alerts(frame([1.5]), model, ("alto",), source="in.parquet")
    with pytest.raises(DataError, match="cell id 99999999 is not a cell"):
        build_alerts(frame([0.9], cells=[99999999]), model, ("alto",), source="in.parquet")


def test_not_a_bundle_and_unknown_formats_are_refused(tmp_path: Path):
    with pytest.raises(GeihError, match="no such folder"):
        load_alert_model(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(GeihError, match="not a model bundle"):
        load_alert_model(tmp_path / "empty")
    assert output_format(Path("x.GeoJSON")) == "geojson" and output_format(Path("x.txt"), "csv") == "csv"
    with pytest.raises(GeihError, match="cannot tell the format"):
        output_format(Path("alerts.xlsx"))


def test_empty_alerts_still_make_a_valid_collection(model):
    alerts = build_alerts(frame([0.1, 0.2]), model, ("crítico",))
    collection = feature_collection(alerts, 0.5, ("crítico",))
    assert collection["features"] == [] and collection["count"] == 0
    assert isinstance(csv_frame(alerts, 0.5), pd.DataFrame)
