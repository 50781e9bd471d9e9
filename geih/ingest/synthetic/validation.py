"""Checks of the synthetic world against its own truth (for tuning and tests; not used by the pipeline)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from geih.domain.grid import Grid


def reference_labels(raw_dir: Path, grid: Grid, satellite: str = "AQUA_M-T") -> pd.DataFrame:
    """Reference-satellite hotspot counts per (cell_id, month) read back from the hotspot CSVs with the
    pipeline's loader (whatever their layout; exact duplicate rows counted once)."""
    from geih.ingest.sources.folder import load_folder

    hot, _ = load_folder(Path(raw_dir) / "hotspots", "hotspots")
    hot = hot[hot["satellite"] == satellite]
    month = hot["datetime"].dt.to_period("M").dt.to_timestamp()
    out = pd.DataFrame({"cell_id": grid.cell_of(hot["lat"].to_numpy(), hot["lon"].to_numpy()), "month": month})
    return out.groupby(["cell_id", "month"]).size().rename("count").reset_index()


def oracle_auc_by_year(truth_dir: Path, raw_dir: Path) -> dict[int, float]:
    """ROC AUC per year of the truth fire probability against the realised reference-satellite labels."""
    from sklearn.metrics import roc_auc_score

    manifest = json.loads((Path(truth_dir) / "manifest.json").read_text(encoding="utf-8"))
    grid = Grid(float(manifest["grid_resolution_deg"]))
    truth = pd.read_parquet(Path(truth_dir) / "fire_risk.parquet")
    truth["month"] = pd.to_datetime(truth["month"])
    labels = reference_labels(raw_dir, grid, manifest.get("reference_satellite", "AQUA_M-T"))
    labels["month"] = pd.to_datetime(labels["month"]).astype(truth["month"].dtype)
    joined = truth.merge(labels, on=["cell_id", "month"], how="left")
    joined["label"] = joined["count"].fillna(0).to_numpy() > 0
    out = {}
    for year, g in joined.groupby(joined["month"].dt.year):
        if g["label"].nunique() == 2:
            out[int(year)] = float(roc_auc_score(g["label"], g["probability"]))
    return out


def positive_rate_by_month(truth_dir: Path, raw_dir: Path) -> pd.Series:
    """Share of cells with ≥ 1 reference hotspot, per month."""
    manifest = json.loads((Path(truth_dir) / "manifest.json").read_text(encoding="utf-8"))
    grid = Grid(float(manifest["grid_resolution_deg"]))
    truth = pd.read_parquet(Path(truth_dir) / "fire_risk.parquet")
    labels = reference_labels(raw_dir, grid)
    n_cells = truth["cell_id"].nunique()
    return labels.groupby("month").size() / n_cells if len(labels) else pd.Series(dtype=float)


__all__ = ["oracle_auc_by_year", "positive_rate_by_month", "reference_labels"]
