"""Benchmark: chosen stages of an older commit against HEAD, side by side in one run, on the same inputs.

Each tree (`git archive` of `--ref` and of HEAD, into a temporary folder) gets a copy of this checkout's stage
inputs (data/features, data/truth, data/raw/states, models/), then each chosen stage's `cmd` from its own
`dvc.yaml` runs in its own tree, old and new alternately (`--repeats` rounds), each with a throwaway MLflow store
created beforehand. Wall and CPU time (user + system, with the stage's children) come from `os.wait4`; CPU
time moves little with the load of a shared machine, wall time a lot. Prints JSON. Usage:
    python benchmarks/stages_before_after.py --ref a1ce33e \
        --stages evaluate@fire_risk,evaluate@deforestation,alerts@fire_risk,alerts@deforestation,package@fire_risk
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline_cost import clone_env, measure, stage_commands  # noqa: E402
from servers import REPO, machine  # noqa: E402

INPUTS = ("data/features", "data/truth", "data/raw/states", "models")


def make_tree(ref: str, root: Path) -> Path:
    """`ref`'s files under `root`, with a copy of this checkout's stage inputs."""
    root.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", ref], cwd=REPO, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(root)], input=archive, check=True)
    for rel in INPUTS:
        shutil.copytree(REPO / rel, root / rel, symlinks=False, dirs_exist_ok=True)
    return root


def tree_env(root: Path) -> dict[str, str]:
    """The tree's code importable, its own MLflow store under the tree."""
    env = clone_env(root)
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{root / 'mlflow.db'}"
    return env


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ref", required=True, help="the older commit")
    ap.add_argument("--stages", required=True, help="comma-separated stage names, e.g. evaluate@fire_risk")
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args()
    names = [s.strip() for s in args.stages.split(",") if s.strip()]
    work = Path(tempfile.mkdtemp(prefix="geih-before-after-"))
    result: dict[str, object] = {"command": " ".join(["python", "benchmarks/stages_before_after.py", *sys.argv[1:]]),
                                 "ref": args.ref, "machine": machine()}
    try:
        trees = {"before": make_tree(args.ref, work / "before"), "after": make_tree("HEAD", work / "after")}
        commands = {label: dict(stage_commands(yaml.safe_load((root / "dvc.yaml").read_text())))
                    for label, root in trees.items()}
        for root in trees.values():  # create and migrate each MLflow store before any timing
            env = tree_env(root)
            code = "from geih.lifecycle import tracking; tracking.open_store()"
            subprocess.run([sys.executable, "-c", code], cwd=root, env=env, check=True, capture_output=True)
        runs: dict[str, dict[str, list[dict[str, float]]]] = {n: {"before": [], "after": []} for n in names}
        for round_ in range(args.repeats):
            for name in names:
                order = ("before", "after") if round_ % 2 == 0 else ("after", "before")
                for label in order:
                    m = measure(commands[label][name], trees[label], tree_env(trees[label]))
                    if m.returncode != 0:
                        raise SystemExit(f"{label} {name} failed ({m.returncode}):\n{m.output[-3000:]}")
                    runs[name][label].append({"wall_s": m.wall_s, "cpu_s": m.cpu_s})
                    print(json.dumps({name: {label: runs[name][label][-1]}}), file=sys.stderr, flush=True)
        result["stages"] = {name: {label: {key: min(r[key] for r in rs) for key in ("wall_s", "cpu_s")}
                                   for label, rs in by.items()} for name, by in runs.items()}
        result["machine_after"] = machine()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
