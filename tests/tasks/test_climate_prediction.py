"""The climate_prediction task on the tiny synthetic world: panel and targets, features that never see
the target month, a regression model through the shared train/evaluate code, the baselines, and an
external (ONNX) model scored by the same evaluate code on the same test rows."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geih.errors import DataError, GeihError, ParamsError
from geih.external.adapter import ContractError, GridSpec, ModelMetadata, Variable
from geih.external.evaluation import evaluate_external
from geih.external.onnx_adapter import OnnxAdapter
from geih.modelling.evaluate import evaluate
from geih.modelling.families import build_model, spec_of
from geih.modelling.feature_schema import FeatureSchema, task_schema
from geih.modelling.regression import climatology_forecast, error_scores, skill_score
from geih.modelling.splits import is_test_row
from geih.modelling.training import fit_metrics, fit_model
from geih.tasks import climate_prediction, get_task
from tests.external.support import write_affine_onnx
from tests.tasks.test_leakage import perturb_daily_table

PARAMS = {"grid_resolution_deg": 1.5}
SPLIT = {"split": "temporal", "test_years": 1, "block_size_deg": 4.0, "test_fraction": 0.2, "seed": 42}
TASK = get_task("climate_prediction")
CUT = pd.Timestamp("2021-01-01")  # the tiny world spans 2019–2021


def features(raw: Path) -> pd.DataFrame:
    panel, _ = TASK.prepare(raw, PARAMS)
    return TASK.featurize(panel, PARAMS["grid_resolution_deg"])


@pytest.fixture(scope="module")
def prepared(tiny_world: Path) -> tuple[pd.DataFrame, dict]:
    return TASK.prepare(tiny_world, PARAMS)


@pytest.fixture(scope="module")
def tables(prepared) -> tuple[pd.DataFrame, pd.DataFrame, FeatureSchema]:
    frame = TASK.featurize(prepared[0], PARAMS["grid_resolution_deg"])
    test_rows = is_test_row(frame, TASK.time_column, SPLIT)
    train, test = frame[~test_rows].reset_index(drop=True), frame[test_rows].reset_index(drop=True)
    return train, test, task_schema(TASK, train, test, grid_resolution_deg=1.5, prepare=PARAMS, split=SPLIT)


@pytest.fixture(scope="module")
def fitted(tables):
    train, _, schema = tables
    model = build_model("gradient_boosting", {"n_estimators": 40, "max_depth": 4, "learning_rate": 0.1}, 0, 1,
                        n_targets=len(schema.targets))
    return fit_model(model, schema.matrix(train), schema.labels(train))


def test_task_declares_a_regression_of_two_targets():
    assert TASK.kind == "regression" and [t.name for t in TASK.targets] == ["precip", "tmax"]
    assert TASK.label_columns == ("target_precip_mm", "target_tmax_c")
    assert TASK.register_params({"metric": "roc_auc", "min_roc_auc": 0.6})["metric"] == "skill_vs_climatology"
    assert get_task("fire_risk").register_params({"metric": "pr_auc"}) == {"metric": "pr_auc"}


def test_panel_targets_are_next_months_weather(prepared):
    panel, report = prepared
    assert report["rows"] == len(panel) and report["cells_without_weather"] == 0
    one = panel[panel["cell_id"] == panel["cell_id"].iloc[0]].set_index("month")
    later = one.index[1:]
    np.testing.assert_allclose(one["target_precip_mm"].iloc[:-1].to_numpy(), one.loc[later, "precip_mm"].to_numpy())
    np.testing.assert_allclose(one["target_tmax_c"].iloc[:-1].to_numpy(), one.loc[later, "tmax_mean"].to_numpy())
    assert (panel["target_month"] == panel["month"] + pd.offsets.MonthBegin(1)).all()


def test_features_are_complete_and_in_range(tables):
    train, test, schema = tables
    assert schema.label_columns == ["target_precip_mm", "target_tmax_c"] and schema.targets[1]["units"] == "degC"
    for frame in (train, test):
        assert not frame[list(TASK.features)].isna().any().any()
        for name, (low, high) in TASK.valid_ranges.items():
            assert low is None or frame[name].min() >= low
            assert high is None or frame[name].max() <= high
    assert test["target_month"].dt.year.unique().tolist() == [2021] and len(test) > 0


def test_features_never_see_the_target_month(tiny_world: Path, tmp_path: Path, tables):
    raw = tmp_path / "raw"
    shutil.copytree(tiny_world, raw)
    perturb_daily_table(raw, "weather", CUT)
    base = pd.concat(tables[:2], ignore_index=True).sort_values(["cell_id", "month"]).reset_index(drop=True)
    moved = features(raw).sort_values(["cell_id", "month"]).reset_index(drop=True)
    known = base["month"] < CUT  # the rows whose target month is January 2021 or earlier
    feats = list(TASK.features)
    pd.testing.assert_frame_equal(base.loc[known, feats], moved.loc[known, feats])
    last_known = base["month"] == CUT - pd.offsets.MonthBegin(1)
    assert not np.allclose(base.loc[last_known, "target_precip_mm"], moved.loc[last_known, "target_precip_mm"])


def test_too_short_weather_and_bad_params(tiny_world: Path, tmp_path: Path):
    with pytest.raises(ParamsError, match="prepare.climate_prediction"):
        TASK.prepare(tiny_world, {"grid_resolution_deg": 1.5, "extra": 1})
    raw = tmp_path / "raw"
    shutil.copytree(tiny_world, raw)
    path = next(p for p in (raw / "weather").rglob("*") if p.is_file())
    table = pd.read_parquet(path)
    table[pd.to_datetime(table["date"]) < pd.Timestamp("2019-07-01")].to_parquet(path, index=False)
    with pytest.raises(DataError, match="needs at least 14"):
        TASK.prepare(raw, PARAMS)


def test_regression_model_through_the_shared_code(tables, fitted):
    train, test, schema = tables
    assert spec_of(fitted).name == "gradient_boosting"
    assert set(fit_metrics(fitted, schema.matrix(train), schema.labels(train), schema)) == {
        "train_rmse_precip", "train_rmse_tmax"}
    result = evaluate(fitted, train, test, schema, TASK, None, {}, None)
    m = result.metrics
    for name in ("precip", "tmax"):
        assert {"rmse", "mae", "skill_vs_climatology", "skill_vs_persistence"} <= set(m[name])
        assert m[name]["rmse"] >= m[name]["mae"] > 0
        # skill is 1 − MSE / MSE_reference, from the rmse values reported beside it
        assert m[name]["skill_vs_persistence"] == pytest.approx(1 - (m[name]["rmse"] / m[name]["persistence_rmse"]) ** 2)
        assert m[name]["skill_vs_climatology"] == pytest.approx(1 - (m[name]["rmse"] / m[name]["climatology_rmse"]) ** 2)
    assert m["precip"]["skill_vs_persistence"] > 0  # seasonal rain: last month is a poor forecast
    assert m["skill_vs_climatology"] == pytest.approx((m["precip"]["skill_vs_climatology"]
                                                       + m["tmax"]["skill_vs_climatology"]) / 2)
    assert list(result.plots["error_by_month"]["period"]) == [f"2021-{k:02d}" for k in range(1, 13)]
    assert {"predicted_precip", "predicted_tmax", "target_precip_mm"} <= set(result.predictions.columns)


def test_climatology_uses_training_rows_of_the_same_calendar_month():
    train = pd.DataFrame({"cell_id": [1, 1, 1, 2], "target_month": pd.to_datetime(
        ["2019-03-01", "2020-03-01", "2020-04-01", "2020-03-01"]), "v": [10.0, 20.0, 99.0, 7.0]})
    test = pd.DataFrame({"cell_id": [1, 3, 1], "target_month": pd.to_datetime(["2021-03-01", "2021-03-01",
                                                                                "2021-05-01"])})
    out = climatology_forecast(train, test, TASK, "v")
    # cell 1 March: (10 + 20) / 2; unseen cell 3: March over all cells; May never seen: the overall mean
    np.testing.assert_allclose(out, [15.0, (10 + 20 + 7) / 3, (10 + 20 + 99 + 7) / 4])
    assert skill_score(4.0, 16.0) == 0.75 and np.isnan(skill_score(1.0, 0.0))
    assert error_scores(np.array([1.0, 3.0]), np.array([2.0, 1.0])) == {"rmse": pytest.approx(np.sqrt(2.5)),
                                                                         "mae": 1.5, "mse": 2.5, "bias": -0.5}


def cell_grid(resolution: float) -> GridSpec:
    """A global grid whose points are the project grid's cell centres at this resolution."""
    lat_first = 4.75 + resolution * int((90 - 4.75) // resolution)  # the tiny world's centres: 4.75, 3.25, …
    lon_first = -73.25 - resolution * int((180 - 73.25) // resolution)
    n_lat = int((lat_first + 90) // resolution) + 1
    return GridSpec(n_lat, int(round(360 / resolution)), lat_first, -resolution, lon_first, resolution)


def persistence_metadata(grid: GridSpec) -> ModelMetadata:
    return ModelMetadata(
        name="persistence", type="onnx", description="next month = this month",
        inputs=(Variable("precip_mm", "mm", mean=130.0, std=80.0), Variable("tmax_mean", "degC", mean=31.0, std=2.0)),
        outputs=(Variable("precip", "mm", mean=130.0, std=80.0), Variable("tmax", "degC", mean=31.0, std=2.0)),
        grid=grid, temporal_resolution_hours=720.0, forecast_horizon_hours=720.0)


def test_an_external_model_is_scored_by_the_same_evaluate_code(tables, tmp_path):
    train, test, schema = tables
    grid = cell_grid(1.5)
    assert np.isclose(grid.lats, test["lat"].iloc[0]).any() and np.isclose(grid.lons, test["lon"].iloc[0]).any()
    model = OnnxAdapter(write_affine_onnx(tmp_path / "persistence.onnx", [1.0, 1.0], [0.0, 0.0], grid=grid),
                        persistence_metadata(grid))
    model.load_model()
    result = evaluate_external(model, train, test, schema, TASK)
    for name in ("precip", "tmax"):
        m = result.metrics[name]
        assert m["rmse"] == pytest.approx(m["persistence_rmse"], rel=1e-5)
        assert abs(m["skill_vs_persistence"]) < 1e-4
    np.testing.assert_allclose(result.predictions["predicted_tmax"], test["tmax_mean"], rtol=1e-5)


def test_an_external_model_without_the_targets_is_refused(tables, tmp_path):
    train, test, schema = tables
    grid = cell_grid(1.5)
    meta = persistence_metadata(grid)
    other = ModelMetadata(**{**meta.__dict__, "outputs": (Variable("precip", "mm"), Variable("tmax", "K"))})
    model = OnnxAdapter(write_affine_onnx(tmp_path / "m.onnx", [1.0, 1.0], [0.0, 0.0], grid=grid), other)
    model.load_model()
    with pytest.raises(ContractError, match=r"does not forecast \['tmax \(degC\)'\]"):
        evaluate_external(model, train, test, schema, TASK)


def test_module_constants_agree():
    assert set(climate_prediction.VALID_RANGES) <= set(climate_prediction.FEATURES)


def test_a_registered_external_model_is_evaluated_from_the_command_line(tables, tmp_path, capsys):
    import json

    from geih.cli import main as cli_main
    from geih.modelling.feature_tables import write_feature_tables

    train, test, schema = tables
    write_feature_tables(tmp_path / "features", train, test, schema)
    grid = cell_grid(1.5)
    onnx_path = write_affine_onnx(tmp_path / "persistence.onnx", [1.0, 1.0], [0.0, 0.0], grid=grid)
    (tmp_path / "meta.json").write_text(json.dumps(persistence_metadata(grid).to_dict()))
    registry = str(tmp_path / "registry.json")
    cli_main(["external", "register", "--registry", registry, "--name", "persistence", "--version", "1",
              "--type", "onnx", "--path", str(onnx_path), "--metadata", f"@{tmp_path / 'meta.json'}"])
    cli_main(["external", "evaluate", "--registry", registry, "--name", "persistence", "--task", "climate_prediction",
              "--features", str(tmp_path / "features"), "--out", str(tmp_path / "external.json")])
    assert "persistence version 1 on climate_prediction" in capsys.readouterr().out
    metrics = json.loads((tmp_path / "external.json").read_text())
    assert metrics["model"] == "persistence@1" and abs(metrics["tmax"]["skill_vs_persistence"]) < 1e-4
    with pytest.raises(GeihError, match="fire_risk' is a classification task"):
        cli_main(["external", "evaluate", "--registry", registry, "--name", "persistence", "--task", "fire_risk",
                  "--features", str(tmp_path / "features"), "--out", str(tmp_path / "x.json")])
