"""The features folder featurize writes and train, evaluate and package read: `train.parquet`,
`test.parquet` and `schema.json` (the FeatureSchema, see geih.modelling.feature_schema)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geih.errors import DataError
from geih.io import atomic_path
from geih.modelling.feature_schema import FeatureSchema

PARTS = ("train", "test")
SCHEMA_FILE = "schema.json"


def write_feature_tables(folder: Path, train: pd.DataFrame, test: pd.DataFrame, schema: FeatureSchema) -> None:
    """Write the train/test tables (Parquet, zstd) and the schema into `folder`, atomically."""
    with atomic_path(folder) as tmp:
        tmp.mkdir()
        train.to_parquet(tmp / "train.parquet", index=False, compression="zstd")
        test.to_parquet(tmp / "test.parquet", index=False, compression="zstd")
        schema.save(tmp / SCHEMA_FILE)


def load_split(folder: Path, part: str) -> pd.DataFrame:
    """The `train` or `test` table of a features folder; missing, or without a column its schema.json
    names (ids, label, features) → DataError naming the file and column."""
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, got {part!r}")
    path = Path(folder) / f"{part}.parquet"
    if not path.exists():
        raise DataError("missing; run the featurize stage first", file=str(path))
    table = pd.read_parquet(path)
    if (Path(folder) / SCHEMA_FILE).exists():
        schema = FeatureSchema.load(folder)
        wanted = [*schema.id_columns, *schema.label_columns, *schema.feature_names]
        missing = [c for c in wanted if c not in table.columns]
        if missing:
            raise DataError(f"columns {missing} named by {SCHEMA_FILE} are missing; re-run the featurize stage",
                            file=str(path), column=missing[0])
    return table
