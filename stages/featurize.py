"""Stage featurize@<task>: panel → model features, split into train and test (temporal by default)."""

from __future__ import annotations

from geih.warm.client import run_on_warm_server

if __name__ == "__main__":
    run_on_warm_server(__file__)  # under `geih warm`: runs in a fork of the warm stage server and exits here

import argparse
import logging
import sys
from pathlib import Path

import pandas as pd

from geih.compute.cluster import compute_config, dask_client
from geih.compute.partitions import featurize
from geih.lifecycle import tracking
from geih.modelling.feature_schema import task_schema
from geih.modelling.feature_tables import write_feature_tables
from geih.modelling.splits import check_split_params, is_test_row
from geih.params import group, load_params
from geih.stage import run_main
from geih.tasks import get_task

log = logging.getLogger("geih.stages.featurize")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--task", required=True)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--prepared", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path, help="features folder (train/test Parquet, schema)")
    args = ap.parse_args(argv)
    task = get_task(args.task)
    all_params = load_params(args.params)
    split = group(all_params, "featurize")
    check_split_params(split)
    prepare_params = group(all_params, task.params_group)
    resolution = float(prepare_params["grid_resolution_deg"])
    compute = compute_config(group(all_params, "compute"))
    with dask_client(compute) as client, tracking.stage_run("featurize", args.task, split,
                                                           data_deps=[args.prepared]):
        frame = featurize(client, task, pd.read_parquet(args.prepared), resolution, compute.band_deg)
        is_test = is_test_row(frame, task.time_column, split)
        train, test = frame[~is_test].reset_index(drop=True), frame[is_test].reset_index(drop=True)
        schema = task_schema(task, train, test, grid_resolution_deg=resolution, prepare=prepare_params,
                             split=split, seed=int(split["seed"]))
        write_feature_tables(args.out, train, test, schema)
        tracking.log_metrics({"rows_train": len(train), "rows_test": len(test),
                              "positive_rate_train": schema.positive_rate["train"],
                              "positive_rate_test": schema.positive_rate["test"]})
    log.info("featurize@%s: %d train rows, %d test rows, %d features", args.task, len(train), len(test),
             len(schema.features))


if __name__ == "__main__":
    sys.exit(run_main(main))
