"""Benchmark: what evaluate@<task> spends its time on, in one process after the imports: the whole
`geih.modelling.evaluate.evaluate` with params.yaml's `evaluate` group, then its two extras alone (the random-split
re-fit, whether or not evaluate.random_split is on; permutation importance as evaluate.permutation_* say)
and one `predict_proba` on the test rows. Prints JSON. Usage (paths as in dvc.yaml's evaluate cmd):
    python benchmarks/evaluate_parts.py --task fire_risk --features data/features/fire_risk \
        --model models/fire_risk/model.joblib --train-metrics metrics/fire_risk/train.json --truth data/truth
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

start = time.perf_counter()
import pandas as pd  # noqa: E402

from geih.modelling import metrics as ev  # noqa: E402
from geih.modelling.evaluate import evaluate, random_split_auc  # noqa: E402
from geih.modelling.feature_schema import FeatureSchema  # noqa: E402
from geih.modelling.feature_tables import load_split  # noqa: E402
from geih.modelling.training import load_model  # noqa: E402
from geih.modelling.truth import load_truth  # noqa: E402
from geih.params import group, load_params  # noqa: E402
from geih.tasks import get_task  # noqa: E402

IMPORT_S = time.perf_counter() - start
sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import machine  # noqa: E402


def timed(fn, *args) -> float:
    begin = time.perf_counter()
    fn(*args)
    return round(time.perf_counter() - begin, 2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", default="fire_risk")
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--features", type=Path, required=True)
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--train-metrics", type=Path, required=True)
    ap.add_argument("--truth", type=Path, required=True)
    args = ap.parse_args()
    task = get_task(args.task)
    p = group(load_params(args.params), "evaluate")
    schema, model = FeatureSchema.load(args.features, task.name), load_model(args.model)
    train, test = load_split(args.features, "train"), load_split(args.features, "test")
    truth = load_truth(args.truth, task, schema)
    threshold = json.loads(args.train_metrics.read_text()).get("threshold")
    X, y = schema.matrix(test), test[schema.label].to_numpy()
    seed = int(p["seed"])
    result = {"task": task.name, "machine": machine(), "imports_s": round(IMPORT_S, 2),
              "rows_train_test_features": [len(train), len(test), len(schema.feature_names)],
              "evaluate_s": timed(evaluate, model, train, test, schema, task, truth, p, threshold)}
    if task.kind != "regression":
        result["random_split_refit_s"] = timed(random_split_auc, model, pd.concat([train, test], ignore_index=True),
                                               schema, seed)
        result["permutation_importance_s"] = timed(ev.permutation_importance, model, X, y,
                                                   int(p["permutation_repeats"]), seed, int(p["permutation_rows"]))
        result["predict_test_s"] = timed(model.predict_proba, X)
    result["machine_after"] = machine()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
