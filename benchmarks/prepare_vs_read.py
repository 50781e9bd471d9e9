"""Benchmark: prepare@<task> wall time against the time pyarrow takes just to read the same raw files.

Both are measured in this one process, alternating, `--repeats` times each; the ratio of the medians is
the figure of merit (target ≤ 3). Prints JSON. Usage:
    python benchmarks/prepare_vs_read.py [--raw data/raw] [--params params.yaml] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pyogrio

from geih.params import group, load_params
from geih.tasks import get_task, task_names


def read_with_pyarrow(raw: Path, folders: tuple[str, ...]) -> int:
    """Read every file of the folders with pyarrow (CSV, Parquet), pyogrio's Arrow reader (vectors) or
    rasterio (GeoTIFF, every band whole); CSVs with their own separator."""
    import rasterio

    rows = 0
    for folder in folders:
        for f in sorted((raw / folder).rglob("*")):
            if f.suffix == ".csv":
                first = f.open("rb").readline()
                delimiter = ";" if first.count(b";") > first.count(b",") else ","
                rows += pacsv.read_csv(f, parse_options=pacsv.ParseOptions(delimiter=delimiter)).num_rows
            elif f.suffix == ".parquet":
                rows += pq.read_table(f).num_rows
            elif f.suffix in (".geojson", ".json", ".gpkg", ".shp"):
                _, table = pyogrio.read_arrow(f)
                rows += table.num_rows
            elif f.suffix == ".tif":
                with rasterio.open(f) as src:
                    rows += src.read().shape[0]
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--raw", type=Path, default=Path("data/raw"))
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--task", choices=task_names(), default="fire_risk")
    args = ap.parse_args()
    task = get_task(args.task)
    params = group(load_params(args.params), task.params_group)
    read_times, prepare_times = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        rows = read_with_pyarrow(args.raw, task.raw_kinds)
        read_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        panel, _ = task.prepare(args.raw, params)
        prepare_times.append(time.perf_counter() - start)
    read_s, prepare_s = statistics.median(read_times), statistics.median(prepare_times)
    print(json.dumps({"task": args.task, "raw_rows_read": rows, "panel_rows": len(panel),
                      "pyarrow_read_s": round(read_s, 3), "prepare_s": round(prepare_s, 3),
                      "ratio": round(prepare_s / read_s, 2), "target_ratio": 3.0,
                      "repeats": args.repeats}, indent=2))


if __name__ == "__main__":
    main()
