"""Benchmark: what the pipeline costs, side by side in one run, in a temporary clone of this repository.

In a fresh `git clone` of HEAD (its own throwaway DVC cache and MLflow store; nothing of this checkout is
touched) it measures, in this order:
  1. `dvc repro -f` (the whole pipeline from nothing), wall time and the peak RSS of its largest process, then
     the same under `geih warm` (every stage forked from the warm stage server), right after;
  2. a no-op `dvc repro` right after, then what DVC alone needs (fastest of 3 each): `dvc --version` (importing
     DVC), `dvc stage list` (loading dvc.yaml and dvc.lock), the no-op `dvc repro` again;
  3. `dvc exp run -S train.n_estimators=300` (a shared key: every task re-trains), then, from the committed
     results again, `dvc exp run -S train.deforestation.num_leaves=8` (one task's key): each with its ratio
     to the full run and the stages it re-ran, each plain and then under `geih warm` (ratio to the warm full run),
     each with an empty DVC run-cache (it would otherwise restore the second run's register/package);
  4. each stage alone: its `cmd` from `dvc.yaml` run by this script in pipeline order, wall time and peak
     RSS from `os.wait4` (the stage process and anything it waited for); then every stage again, in the same
     order, under one `geih warm` server (wall time of each, `warm_per_stage`);
  5. start-up cost per stage script: wall time of a process that only imports the script (runpy, not as
     `__main__`, so `main()` does not run) minus a bare `python -c pass`, and the heaviest top-level imports
     from `python -X importtime`.
Every dvc command's CPU time (user + system, its own and its stages') is recorded beside the wall time: on a
shared machine the CPU ratio moves less with the load than the wall ratio.
Prints JSON (machine and load average included). Usage:
    python benchmarks/pipeline_cost.py [--grid-deg 0.25] [--stages-only] [--no-stages] [--keep]
`--grid-deg` sets acquire.grid_resolution_deg and every prepare.<task>.grid_resolution_deg in the clone.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import REPO, bench_env, machine  # noqa: E402

EXP_PARAM = "train.n_estimators=300"  # shared by every task: all three models re-train
TASK_EXP_PARAM = "train.deforestation.num_leaves=8"  # one task's own key: only that task's stages re-run


def dvc(args: list[str], warm: bool) -> list[str]:
    """The `dvc` command line, or the same under `geih warm` (a warm stage server beside it)."""
    return [sys.executable, "-m", "geih.cli", "warm", "--", "dvc", *args] if warm else ["dvc", *args]


def ran_cold(output: str) -> int:
    """How many stages of a `geih warm` run said they ran in their own process (the server declined them)."""
    return output.count("in its own process")


@dataclass(frozen=True)
class Measured:
    """One measured process: wall seconds, peak RSS (MiB) and CPU seconds (user + system) of it and the
    processes it waited for, exit status."""

    wall_s: float
    peak_rss_mb: float
    returncode: int
    output: str
    cpu_s: float = 0.0


def fastest(runs: list[Measured]) -> dict[str, float]:
    """The least wall and the least CPU time of repeated runs of one command (the load only adds to either)."""
    return {"wall_s": min(m.wall_s for m in runs), "cpu_s": min(m.cpu_s for m in runs)}


def stage_commands(dvc_yaml: dict) -> list[tuple[str, str]]:
    """(stage name, shell command) of every stage of a parsed `dvc.yaml`, `foreach` stages expanded to
    `name@item` with `${item}` substituted, in file order (which is pipeline order here)."""
    commands = []
    for name, stage in dvc_yaml.get("stages", {}).items():
        if "foreach" in stage:
            items = stage["foreach"]
            if not isinstance(items, list):
                raise ValueError(f"stage {name}: only a list foreach is supported, got {type(items).__name__}")
            for item in items:
                commands.append((f"{name}@{item}", stage["do"]["cmd"].replace("${item}", str(item))))
        else:
            commands.append((name, stage["cmd"]))
    return commands


def script_of(cmd: str) -> str:
    """The `stages/<x>.py` script a stage command runs."""
    match = re.search(r"\bstages/\w+\.py\b", cmd)
    if not match:
        raise ValueError(f"no stages/<script>.py in command: {cmd}")
    return match.group(0)


def stages_run(dvc_output: str) -> list[str]:
    """Names of the stages `dvc repro`/`dvc exp run` output says it ran (not skipped)."""
    return re.findall(r"Running stage '([^']+)'", dvc_output)


def top_imports(importtime_stderr: str, n: int = 5) -> list[tuple[str, float]]:
    """The `n` top-level modules with the highest cumulative import time (s) in `python -X importtime` output."""
    tops = []
    for line in importtime_stderr.splitlines():
        match = re.match(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( +)(\S+)", line)
        if match and len(match.group(3)) == 1:  # one space: imported directly by the script
            tops.append((match.group(4), int(match.group(2)) / 1e6))
    return sorted(tops, key=lambda t: -t[1])[:n]


def summarise(per_stage: dict[str, dict[str, float]]) -> dict[str, object]:
    """Per stage kind (`train` for `train@fire_risk`…): total wall, max peak RSS, and the stages that
    dominate time and memory."""
    kinds: dict[str, dict[str, float]] = {}
    for name, m in per_stage.items():
        kind = kinds.setdefault(name.split("@")[0], {"wall_s": 0.0, "peak_rss_mb": 0.0})
        kind["wall_s"] = round(kind["wall_s"] + m["wall_s"], 2)
        kind["peak_rss_mb"] = max(kind["peak_rss_mb"], m["peak_rss_mb"])
    total = sum(m["wall_s"] for m in per_stage.values())
    by_time = sorted(per_stage, key=lambda s: -per_stage[s]["wall_s"])
    return {"total_wall_s": round(total, 2), "by_kind": kinds,
            "slowest": [(s, per_stage[s]["wall_s"]) for s in by_time[:5]],
            "largest_rss": max(per_stage, key=lambda s: per_stage[s]["peak_rss_mb"]) if per_stage else None}


def share(per_stage: dict[str, dict[str, float]], names: list[str]) -> dict[str, float]:
    """The fraction of all stages' wall and CPU time (each stage run alone) that the stages `names` take."""
    out = {}
    for key in ("wall_s", "cpu_s"):
        total = sum(m[key] for m in per_stage.values())
        out[key] = round(sum(per_stage[n][key] for n in names if n in per_stage) / total, 3) if total else 0.0
    return out


def with_grid(params: dict, grid_deg: float) -> dict:
    """`params` with acquire.grid_resolution_deg and every prepare.<task>.grid_resolution_deg set to `grid_deg`."""
    params["acquire"]["grid_resolution_deg"] = grid_deg
    for task in params["prepare"].values():
        if isinstance(task, dict) and "grid_resolution_deg" in task:
            task["grid_resolution_deg"] = grid_deg
    return params


def measure(cmd: list[str] | str, cwd: Path, env: dict[str, str], timeout: float = 3600) -> Measured:
    """Run `cmd` (a list, or a shell string) and measure it with `os.wait4` (Linux: ru_maxrss in KiB)."""
    with tempfile.TemporaryFile(mode="w+") as log:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                shell=isinstance(cmd, str), start_new_session=True)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                os.killpg(proc.pid, 9)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        output = log.read()
    return Measured(round(wall, 2), round(usage.ru_maxrss / 1024, 1), proc.returncode, output,
                    round(usage.ru_utime + usage.ru_stime, 2))


def checked(m: Measured, what: str) -> Measured:
    if m.returncode != 0:
        raise SystemExit(f"{what} failed ({m.returncode}):\n{m.output[-4000:]}")
    return m


def clone_env(root: Path) -> dict[str, str]:
    """The benchmarks' environment for the clone: its code importable, its own MLflow store (no inherited
    MLFLOW_TRACKING_*/DVC_*), fixed hash seed, a git identity for its commits."""
    env = {k: v for k, v in bench_env(PYTHONPATH=str(root)).items() if not k.startswith(("MLFLOW_TRACKING", "DVC_"))}
    env.update({"DVC_NO_ANALYTICS": "1", "PYTHONHASHSEED": "0", "GIT_AUTHOR_NAME": "bench",
                "GIT_AUTHOR_EMAIL": "bench@localhost", "GIT_COMMITTER_NAME": "bench",
                "GIT_COMMITTER_EMAIL": "bench@localhost"})
    return env


def make_clone(work: Path, grid_deg: float | None) -> Path:
    """A clone of HEAD with its own DVC cache under `work`, params changed to `grid_deg` (committed)."""
    root = work / "repo"
    subprocess.run(["git", "clone", "-q", str(REPO), str(root)], check=True)
    env = clone_env(root)
    subprocess.run(["dvc", "config", "--local", "cache.dir", str(work / "cache")], cwd=root, env=env, check=True)
    build = REPO / "build"
    if build.is_dir():  # the offline plots template named in .dvc/config
        shutil.copytree(build, root / "build")
    if grid_deg is not None:
        params = with_grid(yaml.safe_load((root / "params.yaml").read_text()), grid_deg)
        (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False, allow_unicode=True))
        subprocess.run(["git", "commit", "-qam", f"grid {grid_deg}"], cwd=root, env=env, check=True)
    return root


def start_up(root: Path, env: dict[str, str], scripts: list[str]) -> dict[str, object]:
    """Import-only wall time per stage script (minus a bare interpreter) and its heaviest imports."""
    bare = min(measure([sys.executable, "-c", "pass"], root, env).wall_s for _ in range(3))
    out: dict[str, object] = {"bare_python_s": bare}
    for script in scripts:
        code = f"import runpy; runpy.run_path({script!r}, run_name='bench_import')"
        wall = min(checked(measure([sys.executable, "-c", code], root, env), script).wall_s for _ in range(2))
        timed = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=root, env=env,
                               capture_output=True, text=True)
        out[script] = {"import_s": round(wall - bare, 2),
                       "top_imports_s": [(m, round(s, 2)) for m, s in top_imports(timed.stderr)]}
    return out


TIMES_PREFIX = "STAGE-TIMES "


def time_commands(commands: list[tuple[str, str]], cwd: Path) -> dict[str, float]:
    """Wall seconds of each (name, shell command), run one after the other; a failing command stops it."""
    times = {}
    for name, cmd in commands:
        start = time.perf_counter()
        done = subprocess.run(cmd, shell=True, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{name} failed ({done.returncode}):\n{done.stderr[-4000:]}")
        times[name] = round(time.perf_counter() - start, 2)
    return times


def parse_times(output: str) -> dict[str, float]:
    """The `time_commands` result a `--time-commands` run printed (the last STAGE-TIMES line)."""
    lines = [line for line in output.splitlines() if line.startswith(TIMES_PREFIX)]
    if not lines:
        raise ValueError("no STAGE-TIMES line in the output")
    return json.loads(lines[-1][len(TIMES_PREFIX):])


def progress(result: dict[str, object], key: str, value: object) -> None:
    """Record `value` under `key` and print it to stderr at once (one JSON line), so that a run stopped
    part-way still leaves what it measured."""
    result[key] = value
    print(json.dumps({key: value}), file=sys.stderr, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grid-deg", type=float, default=None, help="world and task grids (default: params.yaml)")
    ap.add_argument("--stages-only", action="store_true", help="per-stage and start-up figures only (no dvc)")
    ap.add_argument("--no-stages", action="store_true", help="skip the per-stage runs")
    ap.add_argument("--keep", action="store_true", help="keep the temporary clone (its path is printed)")
    ap.add_argument("--time-commands", type=Path, help=argparse.SUPPRESS)  # internal: the warm per-stage series
    args = ap.parse_args()
    if args.time_commands:
        print(TIMES_PREFIX + json.dumps(time_commands(json.loads(args.time_commands.read_text()), Path.cwd())))
        return
    work = Path(tempfile.mkdtemp(prefix="geih-pipeline-cost-"))
    result: dict[str, object] = {"command": " ".join(["python", "benchmarks/pipeline_cost.py", *sys.argv[1:]]),
                                 "machine": machine(), "grid_deg": args.grid_deg}
    try:
        root = make_clone(work, args.grid_deg)
        env = clone_env(root)
        commands = stage_commands(yaml.safe_load((root / "dvc.yaml").read_text()))
        if not args.stages_only:
            full = checked(measure(["dvc", "repro", "-f"], root, env), "dvc repro -f")
            progress(result, "full_repro", {"wall_s": full.wall_s, "cpu_s": full.cpu_s, "peak_rss_mb": full.peak_rss_mb})
            warm_full = checked(measure(dvc(["repro", "-f"], warm=True), root, env), "geih warm -- dvc repro -f")
            progress(result, "full_repro_warm", {"wall_s": warm_full.wall_s, "cpu_s": warm_full.cpu_s,
                                                 "peak_rss_mb": warm_full.peak_rss_mb,
                                                 "ratio_to_cold": round(warm_full.wall_s / full.wall_s, 3),
                                                 "stages_run_cold": ran_cold(warm_full.output)})
            subprocess.run(["git", "add", "-A"], cwd=root, env=env, check=True)
            subprocess.run(["git", "commit", "-qm", "pipeline results"], cwd=root, env=env, check=True)
            noop = checked(measure(["dvc", "repro"], root, env), "dvc repro (no-op)")
            progress(result, "noop_repro", {"wall_s": noop.wall_s, "cpu_s": noop.cpu_s,
                                            "stages_run": stages_run(noop.output)})
            progress(result, "noop_floor", {" ".join(cmd): fastest([checked(measure(cmd, root, env), " ".join(cmd))
                                                                    for _ in range(3)])
                                            for cmd in (["dvc", "--version"], ["dvc", "stage", "list"],
                                                        ["dvc", "repro"])})
            for key, param, warm in (("exp_run", EXP_PARAM, False), ("exp_run_warm", EXP_PARAM, True),
                                     ("task_exp_run", TASK_EXP_PARAM, False),
                                     ("task_exp_run_warm", TASK_EXP_PARAM, True)):
                base = warm_full if warm else full
                # DVC's run-cache would restore register/package (all outputs cached) from the previous run of
                # the same params: each experiment starts without it, as a new param value would
                shutil.rmtree(work / "cache" / "runs", ignore_errors=True)
                exp = checked(measure(dvc(["exp", "run", "-S", param], warm), root, env), f"{key} -S {param}")
                progress(result, key, {"param": param, "wall_s": exp.wall_s, "cpu_s": exp.cpu_s,
                                       "peak_rss_mb": exp.peak_rss_mb,
                                       "ratio_to_full": round(exp.wall_s / base.wall_s, 3),
                                       "cpu_ratio_to_full": round(exp.cpu_s / max(base.cpu_s, 1e-9), 3),
                                       "stages_run": stages_run(exp.output),
                                       **({"stages_run_cold": ran_cold(exp.output)} if warm else {})})
                # back to the committed results, so that the next experiment starts from the same baseline
                subprocess.run(["git", "checkout", "-q", "HEAD", "--", "."], cwd=root, env=env, check=True)
                subprocess.run(["dvc", "checkout", "-q"], cwd=root, env=env, check=True)
        if not args.no_stages:
            per_stage = {}
            for name, cmd in commands:
                m = checked(measure(cmd, root, env), name)
                per_stage[name] = {"wall_s": m.wall_s, "cpu_s": m.cpu_s, "peak_rss_mb": m.peak_rss_mb}
                print(json.dumps({name: per_stage[name]}), file=sys.stderr, flush=True)
            result["per_stage"] = per_stage
            listed = work / "stage-commands.json"
            listed.write_text(json.dumps(commands))
            warm = checked(measure([sys.executable, "-m", "geih.cli", "warm", "--", sys.executable,
                                    str(Path(__file__).resolve()), "--time-commands", str(listed)], root, env),
                           "the stages under geih warm")
            warm_times = parse_times(warm.output)
            progress(result, "warm_per_stage", {
                "wall_s": warm_times, "total_wall_s": round(sum(warm_times.values()), 2),
                "ratio_to_cold": round(sum(warm_times.values()) / sum(m["wall_s"] for m in per_stage.values()), 3),
                "stages_run_cold": ran_cold(warm.output)})
            result["per_stage_summary"] = summarise(per_stage)
            if "exp_run" in result:
                result["exp_stages_share"] = share(per_stage, result["exp_run"]["stages_run"])
            result["per_stage_method"] = "each dvc.yaml cmd run alone in pipeline order; os.wait4 ru_maxrss"
        result["start_up"] = start_up(root, env, sorted({script_of(cmd) for _, cmd in commands}))
        result["machine_after"] = machine()
    finally:
        if args.keep:
            result["clone"] = str(work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
