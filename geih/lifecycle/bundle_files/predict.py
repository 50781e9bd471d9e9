"""Predict with this GEIH model bundle. Needs only the packages in requirements.txt (no geih, MLflow or DVC).

Usage:
    python predict.py input.json                 # or:  cat input.json | python predict.py
    python predict.py --input rows.parquet --output scored.parquet     # columnar batch (.parquet or .csv)

JSON mode: one record (feature name → number; null = missing), a list of records, or {"instances": [...]}.
Output (stdout): a JSON list of {"prediction": 0/1, "probability": float, "risk_level": str}, one per
record, in order. A regression bundle (model_info.json `kind` "regression") gives instead one value per
target, e.g. {"precip": float, "tmax": float} (units in model_info.json `targets`).

Batch mode: a Parquet or CSV file with one column per feature (any order). The output file (Parquet or CSV,
by its extension) holds every input column that is not a feature, unchanged and in input order (ids such as
cell_id and month pass through), followed by `prediction`, `probability` and `risk_level` (regression: one
float64 column per target); one row per input
row, in order. The feature columns themselves are not repeated. Rows are read and scored in chunks, so the
input may be larger than memory; the output appears only when every row was scored.

Every value is checked against model_info.json's input schema before scoring: a missing feature, a value that
is not a number, NaN/null where the feature requires a value, an infinite value or one outside the feature's
valid range stops with a message on stderr naming the record/row and feature, exit status 2, and no output.
Probabilities are float64 at full precision; risk levels: a probability equal to a threshold takes the upper
level. The model file is checked against model_info.json's `model_sha256` before it is unpickled: a file that
does not match is refused (exit status 2) and never loaded.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUTPUT_COLUMNS = ("prediction", "probability", "risk_level")
BATCH_ROWS = 1 << 17  # rows read, checked and scored at a time in batch mode
BATCH_FORMATS = (".parquet", ".csv")


class BundleError(Exception):
    """A problem meant for a person: printed without a traceback, exit status 2."""


class BundleInputError(BundleError, ValueError):
    """Input that does not fit the model's input schema."""


class BundleIntegrityError(BundleError):
    """A bundle whose model file is missing or does not match model_info.json."""


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_info(folder: Path = HERE) -> dict[str, Any]:
    """The bundle's model_info.json."""
    path = Path(folder) / "model_info.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BundleIntegrityError(f"{path} missing: not a model bundle") from exc
    except json.JSONDecodeError as exc:
        raise BundleIntegrityError(f"{path} is not valid JSON ({exc})") from exc


def verify_model_file(folder: Path, info: dict[str, Any]) -> Path:
    """The model file's path once its SHA-256 matches model_info.json's `model_sha256` (nothing is
    unpickled here); a missing file, a missing checksum or a mismatch is a BundleIntegrityError."""
    path = Path(folder) / info.get("model_file", "model.joblib")
    expected = info.get("model_sha256")
    if not expected:
        raise BundleIntegrityError(f"{folder}/model_info.json has no model_sha256: refusing to load an "
                                   "unverified model file (rebuild the bundle)")
    if not path.is_file():
        raise BundleIntegrityError(f"model file {path} missing")
    actual = file_sha256(path)
    if actual != expected:
        raise BundleIntegrityError(f"{path}: checksum does not match model_info.json (sha256 {actual[:16]}…, "
                                   f"expected {expected[:16]}…); refusing to load it")
    return path


def load_bundle(folder: Path = HERE) -> tuple[Any, dict[str, Any]]:
    """(model, model_info) of the bundle in `folder`; the model file is verified before it is loaded."""
    info = read_info(folder)
    path = verify_model_file(Path(folder), info)
    import joblib

    return joblib.load(path), info


def feature_specs(info: dict[str, Any]) -> list[dict[str, Any]]:
    """The input schema's feature specs (name, dtype, minimum, maximum, nullable), in model order."""
    return info["input_schema"]["features"]


def records_from_json(payload: Any) -> list[dict[str, Any]]:
    """The list of records of a parsed JSON payload: one record, a list, or {"instances": [...]}."""
    if isinstance(payload, dict) and "instances" in payload:
        payload = payload["instances"]
    if isinstance(payload, dict):
        payload = [payload]
    if not isinstance(payload, list) or not all(isinstance(r, dict) for r in payload):
        raise BundleInputError("expected a JSON object (feature → value), a list of them or {\"instances\": [...]}")
    return payload


def records_matrix(records: list[dict[str, Any]], features: list[str]) -> Any:
    """Records as a float64 matrix (rows × features, model order; null → NaN). A missing feature or a
    value that is not a JSON number is a BundleInputError naming the record and feature."""
    import numpy as np

    wanted = set(features)
    for i, record in enumerate(records):
        if not wanted <= record.keys():
            missing = [f for f in features if f not in record]
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            raise BundleInputError(f"record {i}: missing feature(s) {missing[:5]}{more}")
    numbers = (int, float, type(None))
    rows = [[record[f] for f in features] for record in records]
    for i, row in enumerate(rows):
        for f, value in zip(features, row):
            if type(value) not in numbers:
                raise BundleInputError(f"record {i}: feature {f!r} must be a number or null, got {value!r}")
    try:
        return np.array(rows, dtype=np.float64).reshape(len(rows), len(features))
    except OverflowError:  # an integer beyond float64's range: find it
        for i, row in enumerate(rows):
            for f, value in zip(features, row):
                if type(value) is int and abs(value) > sys.float_info.max:
                    raise BundleInputError(f"record {i}: feature {f!r} is too large for a 64-bit float") from None
        raise


def check_matrix(matrix: Any, specs: list[dict[str, Any]], first_row: int = 0, unit: str = "record",
                 where: Any = None) -> None:
    """Check every value against its feature's spec, vectorised: NaN where not nullable, infinite values,
    values outside [minimum, maximum]. The first offending row (then feature) is a BundleInputError;
    rows are numbered from `first_row`; `where(row)` may add a location such as a CSV line."""
    import numpy as np

    problems = []  # (row, feature order, message, rows with this problem)
    for j, spec in enumerate(specs):
        column = matrix[:, j]
        checks = []
        if not spec.get("nullable", True):
            checks.append((np.isnan(column), "is missing (null/NaN) but this feature requires a value"))
        checks.append((np.isinf(column), "is infinite"))
        if spec.get("minimum") is not None:
            checks.append((column < spec["minimum"], f"below the valid minimum {spec['minimum']}"))
        if spec.get("maximum") is not None:
            checks.append((column > spec["maximum"], f"above the valid maximum {spec['maximum']}"))
        for k, (bad, message) in enumerate(checks):
            if bad.any():
                row = int(np.argmax(bad))
                text = message if message.startswith("is ") else f"is {float(column[row])!r}, {message}"
                problems.append((row, j, k, f"feature {spec['name']!r} {text}", int(bad.sum())))
    if problems:
        row, _, _, message, count = min(problems)
        place = f"{unit} {first_row + row}" + (f" ({where(first_row + row)})" if where else "")
        others = f" ({count - 1} more {unit}s with this problem)" if count > 1 else ""
        raise BundleInputError(f"{place}: {message}{others}")


def risk_levels(probabilities: Any, thresholds: list[float], levels: list[str]) -> Any:
    """The level of each probability (object array): a value equal to a threshold takes the upper level."""
    import numpy as np

    index = np.searchsorted(np.asarray(thresholds, dtype=np.float64), probabilities, side="right")
    return np.asarray(levels, dtype=object)[index]


class Scorer:
    """Scores checked feature matrices with a bundle's model: (probabilities float64, predictions int64 at the
    bundle's threshold, risk-level indices). A model that takes a plain float matrix exactly as it takes a
    DataFrame (no warning, same probabilities on a probe) is given the matrix: xgboost spends milliseconds
    per call reading a DataFrame. `threads` sets n_jobs of every estimator inside the model (the service
    uses 1: its parallelism is requests and workers; None keeps the trained setting)."""

    def __init__(self, model: Any, info: dict[str, Any], threads: int | None = None) -> None:
        import numpy as np

        self.model, self.info = model, info
        self.features = [s["name"] for s in feature_specs(info)]
        self.threshold = None if info.get("threshold") is None else float(info["threshold"])  # None: regression
        self.thresholds = np.asarray(info["risk_thresholds"], dtype=np.float64)
        self.levels = list(info["risk_levels"])
        self.targets = [t["name"] for t in info.get("targets", [])]  # a regression bundle's outputs
        if threads is not None:
            set_threads(model, threads)
        self.plain = takes_plain_matrix(model, self.features, "predict" if self.targets else "predict_proba")

    @property
    def output_columns(self) -> tuple[str, ...]:
        return tuple(self.targets) or OUTPUT_COLUMNS

    def values(self, matrix: Any) -> Any:
        """A regression bundle's forecasts: float64 (rows, targets)."""
        import numpy as np

        if len(matrix) == 0:
            return np.empty((0, len(self.targets)), dtype=np.float64)
        out = self.model.predict(matrix if self.plain else self.frame(matrix))
        return np.asarray(out, dtype=np.float64).reshape(len(matrix), len(self.targets))

    def __call__(self, matrix: Any) -> tuple[Any, Any, Any]:
        import numpy as np

        if len(matrix) == 0:
            return np.empty(0, dtype=np.float64), np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        probabilities = np.asarray(self.model.predict_proba(matrix if self.plain else self.frame(matrix))[:, 1],
                                   dtype=np.float64)
        predictions = (probabilities >= self.threshold).astype(np.int64)
        return probabilities, predictions, np.searchsorted(self.thresholds, probabilities, side="right")

    def frame(self, matrix: Any) -> Any:
        import pandas as pd

        return pd.DataFrame(matrix, columns=self.features, copy=False)


def takes_plain_matrix(model: Any, features: list[str], method: str = "predict_proba") -> bool:
    """True when `model` scores a float matrix without any warning and exactly as the same rows as a DataFrame."""
    import warnings

    import numpy as np
    import pandas as pd

    probe = np.linspace(0.0, 1.0, 2 * len(features)).reshape(2, len(features))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            plain = np.asarray(getattr(model, method)(probe))
    except Exception:  # any complaint about a plain matrix: give it DataFrames
        return False
    framed = np.asarray(getattr(model, method)(pd.DataFrame(probe, columns=features)))
    return bool(np.array_equal(plain, framed))


def set_threads(model: Any, threads: int) -> None:
    """Set n_jobs on every estimator inside `model` that has it (Pipeline steps, calibration wrappers)."""
    todo, seen = [model], set()
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        params = obj.get_params(deep=False) if hasattr(obj, "get_params") else {}
        if "n_jobs" in params:
            obj.set_params(n_jobs=threads)
        todo += [step for _, step in getattr(obj, "steps", [])]
        todo += [getattr(c, "estimator", None) for c in getattr(obj, "calibrated_classifiers_", [])]
        todo = [t for t in todo if t is not None]


def predict(records: list[dict[str, Any]], model: Any = None, info: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Predictions for `records` (JSON-like dicts) with this bundle's model (or `model`, `info`)."""
    if model is None or info is None:
        model, info = load_bundle()
    specs = feature_specs(info)
    matrix = records_matrix(records, [s["name"] for s in specs])
    check_matrix(matrix, specs)
    scorer = Scorer(model, info)
    if scorer.targets:
        return [dict(zip(scorer.targets, row)) for row in scorer.values(matrix).tolist()]
    probabilities, predictions, level_index = scorer(matrix)
    levels = scorer.levels
    return [{"prediction": int(c), "probability": float(p), "risk_level": levels[k]}
            for p, c, k in zip(probabilities.tolist(), predictions.tolist(), level_index.tolist())]


# ---- batch mode: Parquet/CSV in, Parquet/CSV out -------------------------------------------------------

def batch_format(path: Path, role: str) -> str:
    """'parquet' or 'csv' from a file's extension."""
    suffix = Path(path).suffix.lower()
    if suffix not in BATCH_FORMATS:
        raise BundleInputError(f"{role} {path}: expected a .parquet or .csv file, got {suffix or 'no extension'!r}")
    return suffix[1:]


def numeric_columns(batch: Any, features: list[str], first_row: int, where: Any) -> Any:
    """The feature columns of an Arrow record batch as a float64 matrix (null → NaN); a column that is not
    numeric is a BundleInputError naming the first row whose value is not a number."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    matrix = np.empty((batch.num_rows, len(features)), dtype=np.float64)
    for j, name in enumerate(features):
        column = batch.column(name)
        kind = column.type
        if pa.types.is_dictionary(kind):
            column, kind = column.dictionary_decode(), kind.value_type
        if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)
                or pa.types.is_null(kind)):
            raise not_a_number(column, name, first_row, where)
        matrix[:, j] = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
    return matrix


def not_a_number(column: Any, name: str, first_row: int, where: Any) -> BundleInputError:
    """The error for a non-numeric column: its first non-null value that does not read as a number (or
    the column's type when every value would)."""
    for row, value in enumerate(column.to_pylist()):
        if value is None:
            continue
        try:
            ok = not isinstance(value, bool) and float(value) == float(value)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            place = f"row {first_row + row}" + (f" ({where(first_row + row)})" if where else "")
            return BundleInputError(f"{place}: feature {name!r} must be a number, got {value!r}")
    return BundleInputError(f"feature {name!r} is stored as {column.type}, not as numbers; "
                            f"store it as a float or integer column")


def csv_line(row: int) -> str:
    return f"CSV line {row + 2}"


def read_batches(path: Path, features: list[str]) -> tuple[Any, Iterator[Any]]:
    """(Arrow schema, iterator of record batches) of a Parquet or CSV file; a feature missing from the
    file is a BundleInputError naming it. CSV feature columns are read as float64 (empty, NA, null,
    NaN → missing); a cell that is not a number is located by `csv_problem`."""
    import pyarrow as pa

    kind = batch_format(path, "input")
    if not Path(path).is_file():
        raise BundleInputError(f"input file not found: {path}")
    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            reader = pq.ParquetFile(path)
            schema = reader.schema_arrow
            check_columns(schema.names, features, path)
            return schema, reader.iter_batches(batch_size=BATCH_ROWS)
        import pyarrow.csv as pv

        check_columns(pv.open_csv(path).schema.names, features, path)
        try:
            reader = pv.open_csv(path, read_options=pv.ReadOptions(block_size=1 << 24),
                                 convert_options=pv.ConvertOptions(column_types={f: pa.float64() for f in features}))
        except pa.ArrowInvalid as exc:
            raise csv_problem(path, features) or BundleInputError(f"input {path} cannot be read: {exc}") from exc
        return reader.schema, csv_batches(reader, path, features)
    except pa.ArrowInvalid as exc:
        raise BundleInputError(f"input {path} cannot be read: {exc}") from exc


def csv_batches(reader: Any, path: Path, features: list[str]) -> Iterator[Any]:
    """The CSV reader's batches; a conversion error is turned into one naming the row and feature."""
    import pyarrow as pa

    try:
        yield from reader
    except pa.ArrowInvalid as exc:
        raise csv_problem(path, features) or BundleInputError(f"input {path} cannot be read: {exc}") from exc


def csv_problem(path: Path, features: list[str]) -> BundleInputError | None:
    """Re-read a CSV's feature columns as text to find the first cell that is not a number."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pv

    reader = pv.open_csv(path, convert_options=pv.ConvertOptions(
        include_columns=features, column_types={f: pa.string() for f in features}, strings_can_be_null=True))
    first = 0
    for batch in reader:
        for name in features:
            column = batch.column(name)
            try:
                pc.cast(column, pa.float64())
            except pa.ArrowInvalid:
                return not_a_number(column, name, first, csv_line)
        first += batch.num_rows
    return None


def check_columns(names: list[str], features: list[str], path: Path) -> None:
    """A feature missing from the input, or an input column the output would overwrite, is an error."""
    missing = [f for f in features if f not in names]
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise BundleInputError(f"input {path}: missing feature column(s) {missing[:5]}{more}")
    clash = [c for c in OUTPUT_COLUMNS if c in names]
    if clash:
        raise BundleInputError(f"input {path}: column(s) {clash} would be overwritten by the output; rename them")


def scored_batch(batch: Any, scorer: Scorer, first_row: int, where: Any) -> Any:
    """One output record batch: the batch's non-feature columns, then prediction, probability, risk level."""
    import pyarrow as pa

    specs = feature_specs(scorer.info)
    matrix = numeric_columns(batch, scorer.features, first_row, where)
    check_matrix(matrix, specs, first_row, "row", where)
    kept = [n for n in batch.schema.names if n not in set(scorer.features)]
    if scorer.targets:
        values = scorer.values(matrix)
        columns = [batch.column(n) for n in kept] + [pa.array(values[:, i], type=pa.float64())
                                                      for i in range(len(scorer.targets))]
        return pa.RecordBatch.from_arrays(columns, names=[*kept, *scorer.targets])
    probabilities, predictions, level_index = scorer(matrix)
    levels = pa.DictionaryArray.from_arrays(pa.array(level_index, type=pa.int8()), pa.array(scorer.levels))
    columns = [batch.column(n) for n in kept] + [pa.array(predictions, type=pa.int64()),
                                                  pa.array(probabilities, type=pa.float64()), levels]
    return pa.RecordBatch.from_arrays(columns, names=[*kept, *OUTPUT_COLUMNS])


def output_schema(schema: Any, features: list[str], targets: list[str] | None = None) -> Any:
    """The output's Arrow schema for an input schema (a regression bundle: one float64 column per target)."""
    import pyarrow as pa

    kept = [schema.field(n) for n in schema.names if n not in set(features)]
    if targets:
        return pa.schema([*kept, *(pa.field(t, pa.float64()) for t in targets)])
    return pa.schema([*kept, pa.field("prediction", pa.int64()), pa.field("probability", pa.float64()),
                      pa.field("risk_level", pa.dictionary(pa.int8(), pa.string()))])


def predict_file(source: Path, target: Path, model: Any = None, info: dict[str, Any] | None = None) -> int:
    """Score a Parquet/CSV file into a Parquet/CSV file (written atomically); returns the row count."""
    if model is None or info is None:
        model, info = load_bundle()
    scorer = Scorer(model, info)
    features = scorer.features
    out_kind = batch_format(target, "output")
    schema, batches = read_batches(Path(source), features)
    where = csv_line if batch_format(source, "input") == "csv" else None
    out_schema = output_schema(schema, features, scorer.targets)
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    rows = 0
    try:
        with open_writer(tmp, out_kind, out_schema) as write:
            for batch in batches:
                write(scored_batch(batch, scorer, rows, where))
                rows += batch.num_rows
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return rows


class open_writer:  # noqa: N801 (used like a function: `with open_writer(...) as write`)
    """A context manager yielding write(batch) for a Parquet or CSV file with `schema`."""

    def __init__(self, path: Path, kind: str, schema: Any) -> None:
        import pyarrow as pa

        self.kind = kind
        if kind == "parquet":
            import pyarrow.parquet as pq

            self.writer = pq.ParquetWriter(path, schema)
        else:
            import pyarrow.csv as pv

            self.fields = [f.with_type(pa.string()) if pa.types.is_dictionary(f.type) else f for f in schema]
            self.writer = pv.CSVWriter(path, pa.schema(self.fields))

    def __enter__(self) -> Any:
        return self.write

    def write(self, batch: Any) -> None:
        if self.kind == "csv":
            import pyarrow as pa

            batch = pa.RecordBatch.from_arrays(
                [c.cast(f.type) for c, f in zip(batch.columns, self.fields)], schema=pa.schema(self.fields))
        self.writer.write_batch(batch)

    def __exit__(self, *exc: Any) -> None:
        self.writer.close()


# ---- command line --------------------------------------------------------------------------------------

def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="predict.py", description="Predict with this GEIH model bundle.")
    ap.add_argument("json_input", nargs="?", default="-", help="JSON file (default: stdin)")
    ap.add_argument("--input", type=Path, help="batch mode: a .parquet or .csv file of feature rows")
    ap.add_argument("--output", type=Path, help="batch mode: the .parquet or .csv file to write")
    args = ap.parse_args(argv)
    if (args.input is None) != (args.output is None):
        ap.error("batch mode needs both --input and --output")
    if args.input is not None and args.json_input != "-":
        ap.error("give either a JSON input or --input/--output, not both")
    return args


def run(argv: list[str], folder: Path = HERE, stdin: Any = None) -> str | None:
    """Do what the command line asks with the bundle in `folder`; returns the JSON text to print (JSON
    mode) or None (batch mode). Problems are BundleErrors."""
    args = parse_args(argv)
    if args.input is not None:
        for role, path in (("input", args.input), ("output", args.output)):
            batch_format(path, role)
        model, info = load_bundle(folder)
        predict_file(args.input, args.output, model, info)
        return None
    try:
        text = (stdin or sys.stdin).read() if args.json_input == "-" else Path(args.json_input).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise BundleInputError(f"input file not found: {exc.filename}") from exc
    except UnicodeDecodeError as exc:
        raise BundleInputError(f"input is not UTF-8 text ({exc})") from exc
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BundleInputError(f"input is not valid JSON: {exc}") from exc
    records = records_from_json(payload)
    model, info = load_bundle(folder)
    return json.dumps(predict(records, model, info), ensure_ascii=False)


def main(argv: list[str]) -> int:
    try:
        out = run(argv)
    except BundleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if out is not None:
        sys.stdout.write(out + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
