"""The bundle contract: what `write_bundle` puts in the folder, and predict.py's interface — JSON records,
columnar batch files, every kind of bad input, risk levels at the thresholds, a tampered model file."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

from geih.domain.risk_levels import PROBABILITY_LEVELS, PROBABILITY_THRESHOLDS, probability_level
from geih.errors import GeihError
from geih.lifecycle.bundle import BUNDLE_FILES, load_predictor
from geih.modelling.feature_schema import FeatureSchema
from tests.serving.bundle_support import FEATURES, ColumnModel, EvilPayload, info, make_bundle, tables


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return make_bundle(tmp_path_factory.mktemp("bundle") / "bundle")


@pytest.fixture(scope="module")
def column_bundle(tmp_path_factory) -> Path:
    return make_bundle(tmp_path_factory.mktemp("column") / "bundle", model=ColumnModel())


@pytest.fixture(scope="module")
def predictor(bundle: Path):
    return load_predictor(bundle)


@pytest.fixture(scope="module")
def loaded(bundle: Path, predictor):
    return predictor.load_bundle(bundle)


def rows(n: int = 5) -> pd.DataFrame:
    return tables()[1].head(n)


def records(frame: pd.DataFrame) -> list[dict]:
    return [{f: (None if pd.isna(v) else float(v)) for f, v in r.items()} for r in frame[FEATURES].to_dict("records")]


def run(predictor, bundle: Path, argv: list[str], stdin: str | None = None):
    import io

    return predictor.run(argv, bundle, io.StringIO(stdin) if stdin is not None else None)


def expected_probabilities(loaded, frame: pd.DataFrame) -> np.ndarray:
    model, _ = loaded
    return model.predict_proba(frame[FEATURES].astype("float64"))[:, 1]


def same(got, expected) -> None:
    """Equal to float64 precision (BLAS may round the last bit differently for another memory layout);
    a 6-decimal rounding would fail this."""
    np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(expected, dtype=float), rtol=1e-13, atol=0)


# ---- the folder --------------------------------------------------------------------------------------

def test_bundle_holds_the_contract_files(bundle: Path):
    assert sorted(p.name for p in bundle.iterdir()) == sorted(BUNDLE_FILES)
    meta = info(bundle)
    assert meta["model_sha256"] == hashlib.sha256((bundle / "model.joblib").read_bytes()).hexdigest()
    train, test = tables()
    schema = FeatureSchema.load(bundle / "feature_schema.json")
    assert schema.feature_names == FEATURES and schema.reference["a"].count == len(train)
    assert meta["input_schema"] == json.loads(json.dumps(schema.input_schema()))
    assert [f["name"] for f in meta["input_schema"]["features"]] == meta["features"] == FEATURES
    a, b, c = meta["input_schema"]["features"]
    assert (a["minimum"], a["maximum"], a["nullable"]) == (0.0, 1.0, False)
    assert (b["minimum"], b["maximum"], b["nullable"]) == (None, None, True)
    assert (c["minimum"], c["maximum"], c["nullable"]) == (0.0, None, False)
    assert meta["risk_thresholds"] == list(PROBABILITY_THRESHOLDS) and meta["risk_levels"] == list(PROBABILITY_LEVELS)
    assert "pyarrow==" in (bundle / "requirements.txt").read_text()


def test_write_bundle_refuses_a_schema_of_another_task(tmp_path: Path):
    from dataclasses import replace

    from geih.lifecycle.bundle import BundleSource, write_bundle
    from tests.serving.bundle_support import tiny_schema

    train, test = tables()
    schema = replace(tiny_schema(train, test), task="deforestation")
    source = BundleSource(task="fire_risk", model_path=tmp_path / "m", schema=schema, registry={"name": "x", "version": 1},
                          metrics={}, train_params={}, threshold=0.5, requirements=[], origin="pipeline")
    with pytest.raises(GeihError, match="feature schema is for task 'deforestation'"):
        write_bundle(tmp_path / "out", source, "now")
    assert not (tmp_path / "out").exists()


# ---- JSON mode ---------------------------------------------------------------------------------------

def test_json_forms_give_the_models_probabilities(predictor, bundle: Path, loaded):
    frame = rows(4)
    recs = records(frame)
    expected = expected_probabilities(loaded, frame)
    for payload in (recs, {"instances": recs}):
        out = json.loads(run(predictor, bundle, ["-"], json.dumps(payload)))
        same([p["probability"] for p in out], expected)
        assert [p["prediction"] for p in out] == (expected >= 0.5).astype(int).tolist()
        assert [p["risk_level"] for p in out] == list(probability_level(expected))
    single = json.loads(run(predictor, bundle, ["-"], json.dumps(recs[0])))
    assert single == json.loads(run(predictor, bundle, ["-"], json.dumps([recs[0]])))
    assert run(predictor, bundle, ["-"], "[]") == "[]"
    assert run(predictor, bundle, ["-"], '{"instances": []}') == "[]"


def test_json_file_argument_and_null_for_a_nullable_feature(predictor, bundle: Path, loaded, tmp_path: Path):
    recs = records(rows(2))
    recs[0]["b"] = None
    (tmp_path / "in.json").write_text(json.dumps(recs))
    out = json.loads(run(predictor, bundle, [str(tmp_path / "in.json")]))
    frame = pd.DataFrame(recs, dtype="float64")
    same([p["probability"] for p in out], expected_probabilities(loaded, frame))


@pytest.mark.parametrize("change, message", [
    ({"drop": "b"}, "record 1: missing feature(s) ['b']"),
    ({"b": "1.5"}, "record 1: feature 'b' must be a number or null, got '1.5'"),
    ({"a": True}, "record 1: feature 'a' must be a number or null, got True"),
    ({"c": [1]}, "record 1: feature 'c' must be a number or null"),
    ({"a": None}, "record 1: feature 'a' is missing (null/NaN) but this feature requires a value"),
    ({"c": math.inf}, "record 1: feature 'c' is infinite"),
    ({"b": -math.inf}, "record 1: feature 'b' is infinite"),
    ({"a": math.nan}, "record 1: feature 'a' is missing"),
    ({"a": 1.5}, "record 1: feature 'a' is 1.5, above the valid maximum 1.0"),
    ({"c": -0.001}, "record 1: feature 'c' is -0.001, below the valid minimum 0.0"),
    ({"c": -math.inf}, "record 1: feature 'c' is infinite"),
    ({"b": 10 ** 400}, "record 1: feature 'b' is too large for a 64-bit float"),
])
def test_bad_json_record_names_record_and_feature(predictor, bundle: Path, change: dict, message: str):
    recs = records(rows(3))
    if "drop" in change:
        del recs[1][change["drop"]]
    else:
        recs[1].update(change)
    with pytest.raises(predictor.BundleInputError) as err:
        run(predictor, bundle, ["-"], json.dumps(recs))  # NaN/Infinity literals: Python's JSON reads them
    assert message in str(err.value)


def test_first_bad_row_is_named_with_a_count_of_the_others(predictor, bundle: Path):
    recs = records(rows(5))
    for i in (2, 3, 4):
        recs[i]["a"] = 2.0
    with pytest.raises(predictor.BundleInputError, match=r"record 2: feature 'a' is 2.0, above .* \(2 more records"):
        run(predictor, bundle, ["-"], json.dumps(recs))


@pytest.mark.parametrize("text, message", [
    ('[{"a": 0.5,', "input is not valid JSON"),
    ('"hello"', "expected a JSON object"),
    ("[1, 2]", "expected a JSON object"),
])
def test_bad_json_document(predictor, bundle: Path, text: str, message: str):
    with pytest.raises(predictor.BundleInputError, match=message):
        run(predictor, bundle, ["-"], text)


def test_main_prints_the_message_and_exits_2(predictor, capsys, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("{not json"))
    assert predictor.main([]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("error: input is not valid JSON")
    assert "Traceback" not in captured.err
    assert predictor.main(["/no/such/file.json"]) == 2
    assert "input file not found: /no/such/file.json" in capsys.readouterr().err


# ---- batch mode --------------------------------------------------------------------------------------

def test_parquet_batch_passes_ids_through_in_any_column_order(predictor, bundle: Path, loaded, tmp_path: Path):
    frame = rows(50)
    shuffled = frame[["c", "cell_id", "b", "label", "a", "month"]]
    shuffled.to_parquet(tmp_path / "in.parquet", index=False)
    assert run(predictor, bundle, ["--input", str(tmp_path / "in.parquet"), "--output", str(tmp_path / "out.parquet")]) is None
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert list(out.columns) == ["cell_id", "label", "month", "prediction", "probability", "risk_level"]
    expected = expected_probabilities(loaded, frame)
    same(out["probability"], expected)
    assert out["prediction"].tolist() == (expected >= 0.5).astype(int).tolist()
    assert out["risk_level"].astype(str).tolist() == list(probability_level(expected))
    pd.testing.assert_frame_equal(out[["cell_id", "label", "month"]], frame[["cell_id", "label", "month"]])


def test_batch_scores_in_chunks_like_one_call(predictor, bundle: Path, loaded, tmp_path: Path, monkeypatch):
    frame = tables(900)[0]
    frame.to_parquet(tmp_path / "in.parquet", index=False)
    monkeypatch.setattr(predictor, "BATCH_ROWS", 64)
    predictor.predict_file(tmp_path / "in.parquet", tmp_path / "out.parquet", *loaded)
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert len(out) == len(frame)
    same(out["probability"], expected_probabilities(loaded, frame))


def test_csv_batch_keeps_full_precision(predictor, column_bundle: Path, tmp_path: Path):
    """The stand-in model returns feature a as the probability: what comes out is what went in, to the bit."""
    frame = rows(20).copy()
    frame["a"] = [0.1 + 0.2, 1 / 3, 2 ** -40, *np.linspace(0.05, 0.95, 17)]
    frame.to_csv(tmp_path / "in.csv", index=False, float_format="%.17g")
    run(predictor, column_bundle, ["--input", str(tmp_path / "in.csv"), "--output", str(tmp_path / "out.csv")])
    out = pd.read_csv(tmp_path / "out.csv", engine="pyarrow")
    assert out["probability"].tolist() == frame["a"].tolist()
    assert out["cell_id"].tolist() == frame["cell_id"].tolist()
    run(predictor, column_bundle, ["--input", str(tmp_path / "in.csv"), "--output", str(tmp_path / "out.parquet")])
    assert pd.read_parquet(tmp_path / "out.parquet")["probability"].tolist() == frame["a"].tolist()
    recs = records(frame)
    assert [p["probability"] for p in json.loads(run(predictor, column_bundle, ["-"], json.dumps(recs)))] == frame["a"].tolist()


def test_empty_inputs_give_empty_outputs(predictor, bundle: Path, tmp_path: Path):
    rows(0)[["cell_id", *FEATURES]].to_parquet(tmp_path / "in.parquet", index=False)
    run(predictor, bundle, ["--input", str(tmp_path / "in.parquet"), "--output", str(tmp_path / "out.parquet")])
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert len(out) == 0 and list(out.columns) == ["cell_id", "prediction", "probability", "risk_level"]
    (tmp_path / "in.csv").write_text("cell_id,a,b,c\n")
    run(predictor, bundle, ["--input", str(tmp_path / "in.csv"), "--output", str(tmp_path / "out.csv")])
    assert (tmp_path / "out.csv").read_text().splitlines() == ['"cell_id","prediction","probability","risk_level"']


CSV_HEADER = "cell_id,a,b,c\n"


@pytest.mark.parametrize("body, message", [
    ("1,0.5,1,2\n2,0.5,abc,2\n", "row 1 (CSV line 3): feature 'b' must be a number, got 'abc'"),
    ("1,0.5,1,2\n2,,1,2\n", "row 1 (CSV line 3): feature 'a' is missing (null/NaN)"),
    ("1,0.5,1,2\n2,0.5,1,inf\n", "row 1 (CSV line 3): feature 'c' is infinite"),
    ("1,0.5,1,2\n2,0.5,1,2\n3,1.01,1,2\n", "row 2 (CSV line 4): feature 'a' is 1.01, above the valid maximum 1.0"),
    ("1,0.5,1,-3\n", "row 0 (CSV line 2): feature 'c' is -3.0, below the valid minimum 0.0"),
])
def test_bad_csv_cell_names_row_and_feature(predictor, bundle: Path, tmp_path: Path, body: str, message: str):
    (tmp_path / "in.csv").write_text(CSV_HEADER + body)
    with pytest.raises(predictor.BundleInputError) as err:
        run(predictor, bundle, ["--input", str(tmp_path / "in.csv"), "--output", str(tmp_path / "out.csv")])
    assert message in str(err.value)
    assert list(tmp_path.iterdir()) == [tmp_path / "in.csv"]  # nothing half-written


@pytest.mark.parametrize("column, message", [
    (pd.Series(["0.5", "x"] * 3), "row 1: feature 'a' must be a number, got 'x'"),
    (pd.Series([0.5, 0.6, None, 0.7, 0.8, 0.9]), "row 2: feature 'a' is missing (null/NaN)"),
    (pd.Series([True, False] * 3), "row 0: feature 'a' must be a number, got True"),
    (pd.Series(["0.5", "0.6"] * 3), "feature 'a' is stored as large_string, not as numbers"),
])
def test_bad_parquet_column_names_row_and_feature(predictor, bundle: Path, tmp_path: Path, column, message: str):
    frame = rows(6).copy()
    frame["a"] = column.to_numpy()
    frame.to_parquet(tmp_path / "in.parquet", index=False)
    with pytest.raises(predictor.BundleInputError) as err:
        run(predictor, bundle, ["--input", str(tmp_path / "in.parquet"), "--output", str(tmp_path / "out.parquet")])
    assert message in str(err.value)
    assert not (tmp_path / "out.parquet").exists()


def test_integer_and_float32_columns_are_numbers(predictor, bundle: Path, loaded, tmp_path: Path):
    frame = rows(6).copy()
    frame["c"] = np.arange(6)  # int64
    frame["b"] = frame["b"].astype("float32")
    frame.to_parquet(tmp_path / "in.parquet", index=False)
    run(predictor, bundle, ["--input", str(tmp_path / "in.parquet"), "--output", str(tmp_path / "out.parquet")])
    expected = expected_probabilities(loaded, frame.astype({"c": "float64", "b": "float64"}))
    same(pd.read_parquet(tmp_path / "out.parquet")["probability"], expected)


@pytest.mark.parametrize("make, argv_out, message", [
    (lambda p: rows(3).drop(columns=["b", "c"]).to_parquet(p, index=False), "out.parquet",
     "missing feature column(s) ['b', 'c']"),
    (lambda p: rows(3).assign(probability=1.0).to_parquet(p, index=False), "out.parquet",
     "column(s) ['probability'] would be overwritten"),
    (lambda p: rows(3).to_parquet(p, index=False), "out.json", "expected a .parquet or .csv file, got '.json'"),
    (lambda p: None, "out.parquet", "input file not found"),
])
def test_batch_file_problems(predictor, bundle: Path, tmp_path: Path, make, argv_out: str, message: str):
    make(tmp_path / "in.parquet")
    with pytest.raises(predictor.BundleInputError) as err:
        run(predictor, bundle, ["--input", str(tmp_path / "in.parquet"), "--output", str(tmp_path / argv_out)])
    assert message in str(err.value)


def test_csv_without_a_header_is_an_error(predictor, bundle: Path, tmp_path: Path):
    (tmp_path / "in.csv").write_text("")
    with pytest.raises(predictor.BundleInputError, match="cannot be read"):
        run(predictor, bundle, ["--input", str(tmp_path / "in.csv"), "--output", str(tmp_path / "out.csv")])


# ---- risk levels and threshold ----------------------------------------------------------------------

def test_risk_levels_at_each_threshold_match_the_domain_rule(predictor, bundle: Path):
    edges = [p for t in PROBABILITY_THRESHOLDS for p in (np.nextafter(t, 0), t, np.nextafter(t, 1))]
    probabilities = np.array([0.0, *edges, 1.0])
    meta = info(bundle)
    ours = predictor.risk_levels(probabilities, meta["risk_thresholds"], meta["risk_levels"])
    assert list(ours) == list(probability_level(probabilities))
    assert [ours[2], ours[5], ours[8]] == ["médio", "alto", "crítico"]  # exactly at a threshold: the upper level
    recs = [{"a": float(p), "b": None, "c": 1.0} for p in probabilities]
    out = predictor.predict(recs, ColumnModel(), meta)
    assert [o["probability"] for o in out] == probabilities.tolist()
    assert [o["risk_level"] for o in out] == list(probability_level(probabilities))
    assert [o["prediction"] for o in out] == [int(p >= 0.5) for p in probabilities]  # p == threshold → 1


def test_scorer_gives_a_plain_matrix_only_to_models_that_take_one(predictor, bundle: Path, loaded):
    model, meta = loaded
    assert predictor.Scorer(ColumnModel(), meta).plain is True
    assert predictor.Scorer(model, meta).plain is False  # sklearn warns about missing feature names
    matrix = rows(5)[FEATURES].to_numpy(dtype="float64")
    same(predictor.Scorer(model, meta)(matrix)[0], expected_probabilities(loaded, rows(5)))


def test_set_threads_reaches_estimators_inside_a_pipeline(predictor):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import Pipeline

    train = tables()[0]
    model = Pipeline([("model", RandomForestClassifier(n_estimators=3, n_jobs=2))]).fit(train[FEATURES].fillna(0),
                                                                                         train["label"])
    predictor.set_threads(model, 1)
    assert model.named_steps["model"].n_jobs == 1


# ---- integrity ---------------------------------------------------------------------------------------

def tampered_copy(bundle: Path, dest: Path, marker: Path) -> Path:
    import shutil

    shutil.copytree(bundle, dest)
    joblib.dump(EvilPayload(marker), dest / "model.joblib")
    return dest


def test_tampered_model_is_refused_before_unpickling(predictor, bundle: Path, tmp_path: Path, capsys, monkeypatch):
    marker = tmp_path / "unpickled"
    evil = tampered_copy(bundle, tmp_path / "evil", marker)
    with pytest.raises(predictor.BundleIntegrityError, match="checksum does not match"):
        predictor.load_bundle(evil)
    assert not marker.exists()
    evil_module = load_predictor(evil)
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(records(rows(1)))))
    monkeypatch.setattr(evil_module, "HERE", evil)
    assert evil_module.main([]) == 2
    assert "checksum does not match" in capsys.readouterr().err and not marker.exists()
    # the same file with a matching checksum would be unpickled: the side effect is real
    meta = info(evil)
    meta["model_sha256"] = hashlib.sha256((evil / "model.joblib").read_bytes()).hexdigest()
    (evil / "model_info.json").write_text(json.dumps(meta))
    predictor.load_bundle(evil)
    assert marker.exists()


def test_bundle_without_checksum_or_model_is_refused(predictor, bundle: Path, tmp_path: Path):
    import shutil

    shutil.copytree(bundle, tmp_path / "b")
    meta = info(tmp_path / "b")
    del meta["model_sha256"]
    (tmp_path / "b" / "model_info.json").write_text(json.dumps(meta))
    with pytest.raises(predictor.BundleIntegrityError, match="no model_sha256"):
        predictor.load_bundle(tmp_path / "b")
    shutil.copytree(bundle, tmp_path / "c")
    (tmp_path / "c" / "model.joblib").unlink()
    with pytest.raises(predictor.BundleIntegrityError, match="model file .* missing"):
        predictor.load_bundle(tmp_path / "c")


# ---- geih predict --------------------------------------------------------------------------------------

def test_geih_predict_runs_the_bundles_logic(bundle: Path, loaded, tmp_path: Path, capsys):
    from geih.cli import main

    frame = rows(4)
    frame.to_parquet(tmp_path / "in.parquet", index=False)
    main(["predict", "--bundle", str(bundle), "--input", str(tmp_path / "in.parquet"), "--output",
          str(tmp_path / "out.csv")])
    out = pd.read_csv(tmp_path / "out.csv", engine="pyarrow")
    same(out["probability"], expected_probabilities(loaded, frame))
    (tmp_path / "in.json").write_text(json.dumps(records(frame)))
    main(["predict", "--bundle", str(bundle), str(tmp_path / "in.json")])
    same([p["probability"] for p in json.loads(capsys.readouterr().out)], out["probability"])
    (tmp_path / "bad.json").write_text(json.dumps([{"a": 0.5}]))
    with pytest.raises(GeihError, match=r"record 0: missing feature\(s\) \['b', 'c'\]"):
        main(["predict", "--bundle", str(bundle), str(tmp_path / "bad.json")])
