"""Tracking helpers without a store: the repo root inside a temporary experiment, flattened params."""

from __future__ import annotations

from pathlib import Path

from geih.lifecycle.tracking import flatten, repo_root


def test_repo_root_strips_temporary_experiment_folder(tmp_path: Path, monkeypatch):
    main = tmp_path / "repo"
    temp = main / ".dvc" / "tmp" / "exps" / "tmpabc123"
    temp.mkdir(parents=True)
    monkeypatch.setenv("DVC_ROOT", str(temp))
    assert repo_root() == main.resolve()
    assert flatten({"a": {"b": 1}, "c": 2}) == {"a.b": 1, "c": 2}
