"""The pure helpers of benchmarks/pipeline_cost.py: stage list from dvc.yaml, dvc output and importtime
parsing, per-stage summary, the grid override."""

from __future__ import annotations

import os
import sys

import pytest
import yaml

from tests.conftest import REPO_ROOT, load_benchmark


@pytest.fixture(scope="module")
def cost():
    return load_benchmark("pipeline_cost")


def test_stage_commands_expand_foreach_in_file_order(cost):
    dvc_yaml = {"stages": {"acquire": {"cmd": "python stages/acquire.py --raw data/raw"},
                           "train": {"foreach": ["a", "b"],
                                     "do": {"cmd": "python stages/train.py --task ${item} --out m/${item}"}}}}
    assert cost.stage_commands(dvc_yaml) == [
        ("acquire", "python stages/acquire.py --raw data/raw"),
        ("train@a", "python stages/train.py --task a --out m/a"),
        ("train@b", "python stages/train.py --task b --out m/b")]


def test_stage_commands_of_the_repository_cover_every_stage_with_a_script(cost):
    dvc_yaml = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())
    commands = cost.stage_commands(dvc_yaml)
    names = [name for name, _ in commands]
    assert names[0] == "acquire" and "train@fire_risk" in names
    assert names.index("prepare@fire_risk") < names.index("train@fire_risk") < names.index("package@fire_risk")
    assert all("${item}" not in cmd for _, cmd in commands)
    assert {cost.script_of(cmd) for _, cmd in commands} >= {"stages/acquire.py", "stages/train.py"}


def test_a_dict_foreach_is_refused(cost):
    with pytest.raises(ValueError, match="stage train"):
        cost.stage_commands({"stages": {"train": {"foreach": {"a": 1}, "do": {"cmd": "x"}}}})


def test_script_of_refuses_a_command_without_a_stage_script(cost):
    assert cost.script_of("python stages/evaluate.py --task x") == "stages/evaluate.py"
    with pytest.raises(ValueError, match="no stages"):
        cost.script_of("echo hi")


def test_stages_run_ignores_skipped_stages(cost):
    output = ("Stage 'acquire' didn't change, skipping\nRunning stage 'train@fire_risk':\n> python ...\n"
              "Running stage 'evaluate@fire_risk':\n")
    assert cost.stages_run(output) == ["train@fire_risk", "evaluate@fire_risk"]
    assert cost.stages_run("Data and pipelines are up to date.\n") == []


def test_top_imports_keeps_direct_imports_by_cumulative_time(cost):
    stderr = ("import time: self [us] | cumulative | imported package\n"
              "import time:       100 |        200 |   numpy.core\n"
              "import time:       300 |    1500000 | pandas\n"
              "import time:        50 |     250000 | geih.io\n"
              "import time:        10 |         20 |     deep.module\n")
    assert cost.top_imports(stderr, n=2) == [("pandas", 1.5), ("geih.io", 0.25)]


def test_summarise_groups_stage_kinds(cost):
    per_stage = {"train@a": {"wall_s": 2.0, "peak_rss_mb": 300.0},
                 "train@b": {"wall_s": 3.0, "peak_rss_mb": 500.0},
                 "acquire": {"wall_s": 1.0, "peak_rss_mb": 900.0}}
    summary = cost.summarise(per_stage)
    assert summary["total_wall_s"] == 6.0
    assert summary["by_kind"]["train"] == {"wall_s": 5.0, "peak_rss_mb": 500.0}
    assert summary["slowest"][0] == ("train@b", 3.0)
    assert summary["largest_rss"] == "acquire"


def test_with_grid_sets_the_world_and_every_task_grid(cost):
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    changed = cost.with_grid(params, 0.25)
    assert changed["acquire"]["grid_resolution_deg"] == 0.25
    grids = [t["grid_resolution_deg"] for t in changed["prepare"].values() if "grid_resolution_deg" in t]
    assert grids and set(grids) == {0.25}


def test_fastest_takes_the_least_wall_and_the_least_cpu_of_repeated_runs(cost):
    runs = [cost.Measured(2.0, 100.0, 0, "", 1.5), cost.Measured(1.2, 90.0, 0, "", 1.7),
            cost.Measured(3.0, 95.0, 0, "", 1.1)]
    assert cost.fastest(runs) == {"wall_s": 1.2, "cpu_s": 1.1}


def test_measure_records_the_cpu_time_of_the_process_and_its_children(cost, tmp_path):
    busy = "import subprocess, sys; subprocess.run([sys.executable, '-c', 'sum(range(3_000_000))'])"
    m = cost.measure([sys.executable, "-c", busy], tmp_path, dict(os.environ))
    assert m.returncode == 0 and m.cpu_s > 0.0 and m.wall_s > 0.0


def test_share_is_the_fraction_of_wall_and_cpu_the_named_stages_take(cost):
    per_stage = {"a": {"wall_s": 1.0, "cpu_s": 2.0}, "b@x": {"wall_s": 3.0, "cpu_s": 2.0}}
    assert cost.share(per_stage, ["b@x", "not run alone"]) == {"wall_s": 0.75, "cpu_s": 0.5}
    assert cost.share({}, ["a"]) == {"wall_s": 0.0, "cpu_s": 0.0}


def test_before_after_trees_each_get_their_own_mlflow_store_and_code(cost, tmp_path):
    module = load_benchmark("stages_before_after")
    env = module.tree_env(tmp_path)
    assert env["MLFLOW_TRACKING_URI"] == f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert env["PYTHONPATH"] == str(tmp_path) and env["DVC_NO_ANALYTICS"] == "1" and "DVC_ROOT" not in env


def test_dvc_runs_under_geih_warm_when_asked(cost):
    assert cost.dvc(["repro", "-f"], warm=False) == ["dvc", "repro", "-f"]
    warm = cost.dvc(["exp", "run", "-S", "a=1"], warm=True)
    assert warm[1:] == ["-m", "geih.cli", "warm", "--", "dvc", "exp", "run", "-S", "a=1"]


def test_ran_cold_counts_the_stages_the_server_declined(cost):
    out = ("geih warm: the stage server declined: x; running stages/train.py in its own process\n"
           "Running stage 'train@a'\ngeih warm: no stage server answers at /s; running stages/x.py in its own process\n")
    assert cost.ran_cold(out) == 2 and cost.ran_cold("Running stage 'train@a'\n") == 0


def test_time_commands_times_each_command_and_stops_at_a_failure(cost, tmp_path):
    times = cost.time_commands([("a", "true"), ("b", "sleep 0.2")], tmp_path)
    assert list(times) == ["a", "b"] and times["b"] >= 0.2
    with pytest.raises(SystemExit, match="b failed"):
        cost.time_commands([("a", "true"), ("b", "echo oops >&2; exit 3")], tmp_path)


def test_parse_times_reads_the_last_times_line(cost):
    out = "log line\nSTAGE-TIMES {\"a\": 1.0}\nmore\nSTAGE-TIMES {\"a\": 2.5}\n"
    assert cost.parse_times(out) == {"a": 2.5}
    with pytest.raises(ValueError, match="no STAGE-TIMES"):
        cost.parse_times("nothing\n")
