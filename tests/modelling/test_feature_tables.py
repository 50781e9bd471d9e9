"""The features folder: written atomically, read back by part, missing parts named."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from geih.errors import DataError
from geih.modelling.feature_schema import FeatureSchema, FeatureSpec
from geih.modelling.feature_tables import load_split, write_feature_tables


def test_write_and_load_feature_tables(tmp_path: Path):
    train, test = pd.DataFrame({"a": [1.0, 2.0], "label": [0, 1]}), pd.DataFrame({"a": [3.0], "label": [1]})
    schema = FeatureSchema(task="demo", features=[FeatureSpec("a")], label="label", time_column="t",
                           id_columns=[], grid_resolution_deg=1.0, baseline_column="a", baseline_name="a")
    write_feature_tables(tmp_path / "features", train, test, schema)
    pd.testing.assert_frame_equal(load_split(tmp_path / "features", "train"), train)
    pd.testing.assert_frame_equal(load_split(tmp_path / "features", "test"), test)
    assert FeatureSchema.load(tmp_path / "features", "demo") == schema
    with pytest.raises(DataError, match="run the featurize stage first") as err:
        load_split(tmp_path / "elsewhere", "train")
    assert "train.parquet" in str(err.value)
    with pytest.raises(ValueError, match="part must be one of"):
        load_split(tmp_path / "features", "validation")
