"""Stage featurize@<task>: panel → model features, split into train and test (temporal by default)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import pandas as pd

from geih import io
from geih.lifecycle import tracking
from geih.modelling.feature_schema import build_schema
from geih.modelling.splits import check_split_params, is_test_row
from geih.params import group, load_params
from geih.stage import run_main
from geih.tasks import TIME_COLUMN, task_module

log = logging.getLogger("geih.stages.featurize")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--task", required=True)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--prepared", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path, help="features folder (train/test Parquet, schema)")
    args = ap.parse_args(argv)
    module = task_module(args.task)
    all_params = load_params(args.params)
    split = group(all_params, "featurize")
    check_split_params(split)
    prepare_params = group(all_params, f"prepare.{args.task}")
    resolution = float(prepare_params["grid_resolution_deg"])
    with tracking.stage_run("featurize", args.task, split, data_deps=[args.prepared]):
        frame = module.featurize(pd.read_parquet(args.prepared), resolution)
        is_test = is_test_row(frame, TIME_COLUMN[args.task], split)
        train, test = frame[~is_test].reset_index(drop=True), frame[is_test].reset_index(drop=True)
        schema = build_schema(args.task, train, test, module.FEATURES, module.VALID_RANGES, label="label",
                              time_column=TIME_COLUMN[args.task], id_columns=module.ID_COLUMNS,
                              grid_resolution_deg=resolution, baseline_column=module.BASELINE_COLUMN,
                              baseline_name=module.BASELINE_NAME, prepare=prepare_params, split=split,
                              seed=int(split["seed"]))
        with io.atomic_path(args.out) as tmp:
            tmp.mkdir()
            train.to_parquet(tmp / "train.parquet", index=False, compression="zstd")
            test.to_parquet(tmp / "test.parquet", index=False, compression="zstd")
            schema.save(tmp / "schema.json")
        tracking.log_metrics({"rows_train": len(train), "rows_test": len(test),
                              "positive_rate_train": schema.positive_rate["train"],
                              "positive_rate_test": schema.positive_rate["test"]})
    log.info("featurize@%s: %d train rows, %d test rows, %d features", args.task, len(train), len(test),
             len(module.FEATURES))


if __name__ == "__main__":
    sys.exit(run_main(main))
