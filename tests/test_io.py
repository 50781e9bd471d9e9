"""Atomic writes: JSON with rounded floats and NaN → null; nothing half-written on failure."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from geih import io


def test_atomic_json_leaves_no_partial_file(tmp_path: Path):
    target = tmp_path / "out.json"
    io.write_json({"b": np.float64(0.1234567891), "a": float("nan")}, target)
    assert json.loads(target.read_text()) == {"a": None, "b": 0.123457}
    with pytest.raises(RuntimeError):
        with io.atomic_path(tmp_path / "dir") as tmp:
            tmp.mkdir()
            (tmp / "half").write_text("x")
            raise RuntimeError("killed")
    assert not (tmp_path / "dir").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
