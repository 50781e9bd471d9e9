"""Benchmark: a fire-risk panel of more than 20 million rows through the Dask path on a LocalCluster.

The default world's prepared fire-risk panel (data/prepared/fire_risk.parquet, 0.5°) is tiled onto a fine
grid (default 0.034°, ~358 k cells in the region): each fine cell gets the months of the coarse cell it lies
in, under its own cell id, latitude and longitude. The workers build that panel latitude band by band and
featurize it with the project's own code (`geih.compute.partitions.featurize_band`: fire_risk.featurize on
the band plus its one-cell halo); xgboost.dask then trains on the featurized rows (DaskQuantileDMatrix,
hist). Nothing of the panel passes through the driver.

Prints JSON: rows (panel and featurized), wall seconds of featurize and training, and the peak memory of
the driver plus all its child processes (the workers), summed and sampled every 0.25 s with psutil.

    python benchmarks/dask_panel.py --prepared data/prepared/fire_risk.parquet
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

from geih.compute.partitions import Band, featurize_band, latitude_bands, rows_per_band
from geih.domain.grid import Grid
from geih.tasks import get_task

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import machine  # noqa: E402

TASK = "fire_risk"


def fine_cells(coarse: Grid, coarse_ids: np.ndarray, fine: Grid) -> tuple[np.ndarray, np.ndarray]:
    """(fine cell ids, position of their coarse cell in `coarse_ids`) of every fine cell whose centre lies in
    one of the coarse cells, in cell-id order."""
    ids = np.arange(fine.nrows * fine.ncols, dtype=np.int64)
    lat, lon = fine.center(ids)
    pos = pd.Index(coarse_ids).get_indexer(coarse.cell_of(lat, lon))
    keep = pos >= 0
    return ids[keep], pos[keep]


def tiled_panel(template: pd.DataFrame, n_months: int, fine: Grid, cell_ids: np.ndarray, source: np.ndarray
                ) -> pd.DataFrame:
    """The panel of the fine cells `cell_ids`: the `n_months` rows of each one's source (coarse) cell of the
    template (sorted by cell, month), with the fine cell's id, latitude and longitude."""
    rows = (source[:, None] * n_months + np.arange(n_months)).reshape(-1)
    panel = template.iloc[rows].reset_index(drop=True)
    lat, lon = fine.center(cell_ids)
    panel["cell_id"] = np.repeat(cell_ids, n_months)
    panel["lat"] = np.repeat(lat, n_months)
    panel["lon"] = np.repeat(lon, n_months)
    return panel


def band_features(template: pd.DataFrame, n_months: int, coarse_res: float, coarse_ids: np.ndarray, fine_res: float,
                  band: Band, columns: list[str]) -> pd.DataFrame:
    """One band of the tiled panel, featurized (float32 features and the label)."""
    fine, coarse = Grid(fine_res), Grid(coarse_res)
    first_row, stop_row = band.read_first // fine.ncols, band.read_stop // fine.ncols
    ids = np.arange(first_row * fine.ncols, stop_row * fine.ncols, dtype=np.int64)
    lat, lon = fine.center(ids)
    pos = pd.Index(coarse_ids).get_indexer(coarse.cell_of(lat, lon))
    panel = tiled_panel(template, n_months, fine, ids[pos >= 0], pos[pos >= 0])
    frame = featurize_band(get_task(TASK), panel, fine_res, band)
    return frame[columns].astype(np.float32)


class PeakMemory:
    """Peak of (this process + all its child processes) resident memory, sampled in a thread."""

    def __init__(self, interval_s: float = 0.25) -> None:
        import psutil

        self.process, self.interval_s, self.peak, self._stop = psutil.Process(), interval_s, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> int:
        import psutil

        total = 0
        for proc in [self.process, *self.process.children(recursive=True)]:
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                pass
        self.peak = max(self.peak, total)
        return total

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prepared", type=Path, default=Path("data/prepared/fire_risk.parquet"))
    ap.add_argument("--coarse-resolution", type=float, default=0.5, help="grid of the prepared panel")
    ap.add_argument("--fine-resolution", type=float, default=0.034)
    ap.add_argument("--band-deg", type=float, default=1.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--memory-limit", default="8GiB", help="per worker")
    ap.add_argument("--rounds", type=int, default=50)
    args = ap.parse_args()

    import dask.dataframe as dd
    from distributed import Client, LocalCluster, wait
    from xgboost import dask as dxgb

    task = get_task(TASK)
    template = pd.read_parquet(args.prepared).sort_values(["cell_id", "month"], kind="stable").reset_index(drop=True)
    coarse_ids = template["cell_id"].unique()
    n_months = template["month"].nunique()
    fine = Grid(args.fine_resolution)
    cell_ids, _ = fine_cells(Grid(args.coarse_resolution), coarse_ids, fine)
    bands = latitude_bands(fine, cell_ids, rows_per_band(fine, args.band_deg), task.featurize_halo_cells)
    features = list(task.features)
    columns = [*features, "label"]
    result: dict[str, object] = {"task": TASK, "fine_resolution_deg": args.fine_resolution, "cells": int(len(cell_ids)),
                                 "months": int(n_months), "panel_rows": int(len(cell_ids) * n_months),
                                 "bands": len(bands), "workers": args.workers, "threads_per_worker": 1,
                                 "memory_limit_per_worker": args.memory_limit, "rounds": args.rounds}
    start = time.perf_counter()
    with PeakMemory() as peak, LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                                            memory_limit=args.memory_limit, host="127.0.0.1",
                                            dashboard_address="127.0.0.1:0") as cluster, Client(cluster) as client:
        result["cluster_start_s"] = round(time.perf_counter() - start, 2)
        shared = client.scatter(template, broadcast=True)
        t0 = time.perf_counter()
        parts = [client.submit(band_features, shared, n_months, args.coarse_resolution, coarse_ids,
                               args.fine_resolution, band, columns, pure=False) for band in bands]
        wait(parts)
        result["featurize_s"] = round(time.perf_counter() - t0, 2)
        meta = pd.DataFrame({c: pd.Series(dtype=np.float32) for c in columns})
        frame = dd.from_delayed(parts, meta=meta, verify_meta=False)
        result["featurized_rows"] = int(sum(client.gather(client.map(len, parts))))
        t0 = time.perf_counter()
        dtrain = dxgb.DaskQuantileDMatrix(client, frame[features], frame["label"], max_bin=256)
        booster = dxgb.train(client, {"objective": "binary:logistic", "tree_method": "hist", "max_depth": 5,
                                      "eta": 0.1, "subsample": 0.8, "colsample_bytree": 0.6, "nthread": 1,
                                      "eval_metric": "logloss", "seed": 42}, dtrain, num_boost_round=args.rounds,
                             evals=[(dtrain, "train")])
        result["train_s"] = round(time.perf_counter() - t0, 2)
        result["train_logloss_last"] = round(float(booster["history"]["train"]["logloss"][-1]), 5)
        result["rows_per_s_featurize"] = round(result["featurized_rows"] / max(result["featurize_s"], 1e-9))
    result["wall_s"] = round(time.perf_counter() - start, 2)
    result["peak_rss_gib"] = round(peak.peak / 2**30, 2)
    result["machine"] = {**machine(), "total_memory_gib": round(os.sysconf("SC_PAGE_SIZE")
                                                               * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
