"""The regression generalisation outside the task: family regressors (one MultiOutputRegressor for several
targets), the schema's targets, the register floor of a regression task, a regression bundle that
predicts values, and Task's checks of its kind and targets."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

from geih.errors import GeihError, ParamsError
from geih.lifecycle.bundle import BundleSource, bundle_requirements, load_predictor, write_bundle
from geih.lifecycle.registry import CHALLENGER, CHAMPION, Champion, decide_alias
from geih.modelling.families import build_model, final_estimator, spec_of
from geih.modelling.feature_schema import FeatureSchema, build_schema
from geih.modelling.training import fit_metrics, fit_model
from geih.serving.models import verify_bundle
from geih.tasks import get_task
from geih.tasks.task import Target, Task

FEATURES = ["a", "b"]
TARGETS = [{"name": "y1", "column": "t1", "units": "mm", "persistence_column": "a"},
           {"name": "y2", "column": "t2", "units": "degC", "persistence_column": "b"}]


def frames(n: int = 200) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"cell_id": np.arange(n), "month": pd.Timestamp("2024-01-01"),
                          "a": rng.uniform(0, 1, n), "b": rng.normal(0, 1, n)})
    frame["t1"] = 3 * frame["a"] + 1
    frame["t2"] = -2 * frame["b"]
    return frame.iloc[:150].reset_index(drop=True), frame.iloc[150:].reset_index(drop=True)


def schema(train, test) -> FeatureSchema:
    return build_schema("climate_prediction", train, test, FEATURES, {}, label="t1", time_column="month",
                        id_columns=["cell_id", "month"], grid_resolution_deg=0.5, baseline_column="a",
                        baseline_name="persistence", prepare={}, split={}, targets=TARGETS)


@pytest.mark.parametrize("family", ["gradient_boosting", "random_forest", "lightgbm", "xgboost"])
def test_each_family_with_a_regressor_fits_two_targets(family):
    train, test = frames()
    s = schema(train, test)
    model = fit_model(build_model(family, {"n_estimators": 20}, 0, 1, n_targets=2), s.matrix(train), s.labels(train))
    assert spec_of(model).name == family and type(model.steps[-1][1]).__name__ == "MultiOutputRegressor"
    assert type(final_estimator(model)).__name__.endswith("Regressor")
    assert model.predict(s.matrix(test)).shape == (len(test), 2)
    train_metrics = fit_metrics(model, s.matrix(train), s.labels(train), s)
    assert set(train_metrics) == {"train_rmse_y1", "train_rmse_y2"} and train_metrics["train_rmse_y1"] < 1.0
    one = build_model(family, {"n_estimators": 5}, 0, 1, n_targets=1)
    assert type(one.steps[-1][1]).__name__.endswith("Regressor")  # no wrapper for a single target


def test_regression_refuses_families_without_a_regressor_and_calibration():
    with pytest.raises(ParamsError, match="logistic_regression has no regressor"):
        build_model("logistic_regression", {}, 0, 1, n_targets=2)
    with pytest.raises(ParamsError, match="train.calibration"):
        build_model("gradient_boosting", {"calibration": "sigmoid"}, 0, 1, n_targets=2)


def test_schema_records_targets_only_for_regression(tmp_path):
    train, test = frames()
    s = schema(train, test)
    assert s.label_columns == ["t1", "t2"] and s.labels(test).shape == (len(test), 2)
    s.save(tmp_path / "schema.json")
    loaded = FeatureSchema.load(tmp_path / "schema.json")  # floats are rounded in JSON
    assert loaded.targets == TARGETS and loaded.label_columns == ["t1", "t2"]
    classification = build_schema("fire_risk", train.assign(label=1), test.assign(label=0), FEATURES, {},
                                  label="label", time_column="month", id_columns=["cell_id"],
                                  grid_resolution_deg=0.5, baseline_column="a", baseline_name="a", prepare={},
                                  split={})
    assert "targets" not in classification.to_dict()  # schema.json of a classification task reads as before
    assert classification.label_columns == ["label"] and classification.labels(test.assign(label=0)).ndim == 1


def test_a_regression_task_registers_by_skill_above_zero():
    p = get_task("climate_prediction").register_params(
        {"metric": "roc_auc", "higher_is_better": True, "min_improvement": 0.001, "min_roc_auc": 0.6})
    assert decide_alias({"skill_vs_climatology": 0.3}, None, p) == (CHAMPION, "no current champion")
    alias, reason = decide_alias({"skill_vs_climatology": -0.01}, None, p)
    assert alias == CHALLENGER and reason == "skill_vs_climatology -0.0100 below the floor the task's floor=0.0"
    champ = Champion("3", {"skill_vs_climatology": 0.30}, None)
    assert decide_alias({"skill_vs_climatology": 0.3005}, champ, p)[0] == CHALLENGER
    assert decide_alias({"skill_vs_climatology": 0.32}, champ, p)[0] == CHAMPION


def test_task_checks_its_kind_and_targets():
    climate = get_task("climate_prediction")
    fields = {f: getattr(climate, f) for f in climate.__dataclass_fields__}
    with pytest.raises(ValueError, match="kind 'ranking'"):
        Task(**{**fields, "kind": "ranking"})
    with pytest.raises(ValueError, match="a regression task has targets"):
        Task(**{**fields, "targets": ()})
    with pytest.raises(ValueError, match="label_column 'label' is not the first target's column"):
        Task(**{**fields, "label_column": "label"})
    with pytest.raises(ValueError, match=r"persistence columns \['nope'\] are not features"):
        Task(**{**fields, "targets": (Target("precip", "target_precip_mm", "mm", "nope"),)})
    with pytest.raises(ValueError, match=r"target columns \['precip_mm'\] are also features"):
        Task(**{**fields, "label_column": "precip_mm", "map": climate.map,
                "targets": (Target("precip", "precip_mm", "mm", "tmax_mean"),)})


def test_a_regression_bundle_predicts_values(tmp_path: Path):
    train, test = frames()
    s = schema(train, test)
    model = fit_model(build_model("gradient_boosting", {"n_estimators": 30}, 0, 1, n_targets=2),
                      s.matrix(train), s.labels(train))
    joblib.dump(model, tmp_path / "model.joblib")
    source = BundleSource(task="climate_prediction", model_path=tmp_path / "model.joblib", schema=s,
                          registry={"name": "geih-climate-prediction", "version": 1}, metrics={},
                          train_params={"model": "gradient_boosting"}, threshold=0.5,
                          requirements=bundle_requirements("gradient_boosting"), origin="pipeline")
    info = write_bundle(tmp_path / "bundle", source, "2026-01-01T00:00:00Z")
    assert info["kind"] == "regression" and info["targets"] == [{"name": "y1", "units": "mm"},
                                                                {"name": "y2", "units": "degC"}]
    predictor = load_predictor(tmp_path / "bundle")
    loaded = predictor.load_bundle(tmp_path / "bundle")
    records = [{"a": float(r.a), "b": float(r.b)} for r in test.head(3).itertuples()]
    out = predictor.predict(records, *loaded)
    expected = model.predict(s.matrix(test.head(3)))
    assert [sorted(o) for o in out] == [["y1", "y2"]] * 3
    np.testing.assert_allclose([[o["y1"], o["y2"]] for o in out], expected, rtol=1e-12)
    test.head(10).drop(columns=["t1", "t2"]).to_parquet(tmp_path / "in.parquet")
    assert predictor.predict_file(tmp_path / "in.parquet", tmp_path / "out.csv", *loaded) == 10
    scored = pd.read_csv(tmp_path / "out.csv")
    assert list(scored.columns) == ["cell_id", "month", "y1", "y2"]
    np.testing.assert_allclose(scored[["y1", "y2"]].to_numpy(), model.predict(s.matrix(test.head(10))), rtol=1e-9)
    assert json.loads((tmp_path / "bundle" / "model_info.json").read_text())["kind"] == "regression"
    with pytest.raises(GeihError, match=r"a regression bundle \(task climate_prediction, targets y1, y2\); the "
                                        "service answers classification bundles"):
        verify_bundle(tmp_path / "bundle")


def model_bytes(model) -> bytes:
    import io

    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return buffer.getvalue()


def test_train_n_jobs_fixes_histgradientboosting_threads_and_so_the_model_bytes():
    """HistGradientBoosting takes no n_jobs and pickles the OpenMP thread count it ran with; a process
    limited to one thread (OMP_NUM_THREADS=1 from a Dask nanny) must still write the same model."""
    from threadpoolctl import threadpool_limits

    from geih.modelling.training import openmp_threads

    train, test = frames()
    s = schema(train, test)

    def fitted(process_threads: int | None) -> object:
        model = build_model("gradient_boosting", {"n_estimators": 10}, 0, 2, n_targets=2)
        with threadpool_limits(limits=process_threads, user_api="openmp"), openmp_threads(2):
            return fit_model(model, s.matrix(train), s.labels(train))

    one, default = fitted(1), fitted(None)
    assert model_bytes(one) == model_bytes(default)
    from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

    with openmp_threads(2):
        pinned = _openmp_effective_n_threads()
    assert one.steps[-1][1].estimators_[0]._bin_mapper.n_threads == pinned
    if pinned > 1:  # the hazard is real: unpinned under a one-thread process, the pickle differs
        with threadpool_limits(limits=1, user_api="openmp"):
            unpinned = fit_model(build_model("gradient_boosting", {"n_estimators": 10}, 0, 2, n_targets=2),
                                 s.matrix(train), s.labels(train))
        assert model_bytes(unpinned) != model_bytes(one)
