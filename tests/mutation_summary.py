"""Per-module summary of a `mutmut run` (the `make mutation` target): killed, survived, timeout, no tests
and the kill rate of each mutated module, from the `mutants/<path>.meta` files mutmut writes.

Usage: python tests/mutation_summary.py [--json OUT] [--survivors]   (run from the repo root, after mutmut run)
"No tests" mutants sit in code the fast tier does not reach (e.g. MLflow I/O, the raw-folder orchestration
of prepare, which the data tier covers); the kill rate is over the mutants some fast test runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections import Counter
from pathlib import Path

# mutmut's exit codes (mutmut.stats.status_by_exit_code); anything else is "suspicious"
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", 36: "timeout",
          -24: "timeout", 24: "timeout", 152: "timeout", 255: "timeout", -11: "segfault", -9: "segfault",
          37: "caught by type check", None: "not checked"}
COLUMNS = ("killed", "timeout", "survived", "no tests", "not checked", "suspicious")


def module_counts(root: Path) -> dict[str, tuple[Counter, list[str]]]:
    """{module path: (status counts, surviving mutant names)} for every file mutmut was told to mutate."""
    config = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["mutmut"]
    out = {}
    for rel in config["only_mutate"]:
        meta = root / "mutants" / f"{rel}.meta"
        if not meta.exists():
            continue
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        statuses = {key: STATUS.get(code, "suspicious") for key, code in codes.items()}
        out[rel] = (Counter(statuses.values()), sorted(k for k, s in statuses.items() if s == "survived"))
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--root", type=Path, default=Path("."))
    ap.add_argument("--json", type=Path, help="also write the counts here")
    ap.add_argument("--survivors", action="store_true", help="list the surviving mutants")
    args = ap.parse_args(argv)
    counts = module_counts(args.root)
    if not counts:
        print("no mutation results under mutants/: run `mutmut run` first", file=sys.stderr)
        return 2
    total: Counter = Counter()
    print(f"{'module':<42}" + "".join(f"{c:>12}" for c in COLUMNS) + f"{'killed %':>10}")
    table = {}
    for module, (c, survivors) in counts.items():
        total.update(c)
        tested = c["killed"] + c["timeout"] + c["survived"]
        rate = 100.0 * (c["killed"] + c["timeout"]) / tested if tested else float("nan")
        table[module] = {**{k: c[k] for k in COLUMNS}, "killed_pct": round(rate, 1), "survivors": survivors}
        print(f"{module:<42}" + "".join(f"{c[k]:>12}" for k in COLUMNS) + f"{rate:>10.1f}")
        if args.survivors:
            for name in survivors:
                print(f"    survived: {name}")
    tested = total["killed"] + total["timeout"] + total["survived"]
    rate = 100.0 * (total["killed"] + total["timeout"]) / tested if tested else float("nan")
    print(f"{'total':<42}" + "".join(f"{total[k]:>12}" for k in COLUMNS) + f"{rate:>10.1f}")
    if args.json:
        args.json.write_text(json.dumps({"modules": table, "total": {**{k: total[k] for k in COLUMNS},
                                                                     "killed_pct": round(rate, 1)}}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
