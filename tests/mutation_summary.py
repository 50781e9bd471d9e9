"""Per-module summary of a `mutmut run` (the `make mutation` target): killed, survived, timeout, no tests
and the kill rate of each mutated module, from the `mutants/<path>.meta` files mutmut writes.

Usage: python tests/mutation_summary.py [--json OUT] [--survivors] [--equivalent docs/mutation-equivalent.tsv]
(run from the repo root, after `make mutation` or `make mutation-fast`).
With --equivalent, survivors listed there (one `mutant name<TAB>reason` per line, triaged by hand as not changing
behaviour) are counted apart, and "non-eq killed %" is the kill rate over the other mutants tests reach.
"No tests" mutants sit in code the fast tier does not reach (e.g. MLflow I/O, the raw-folder orchestration
of prepare, which the data tier covers); the kill rate is over the mutants some fast test runs.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys
import tomllib
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code as STATUS  # mutmut's exit code → status; unknown codes: "suspicious"

COLUMNS = ("killed", "timeout", "survived", "equivalent", "no tests", "not checked", "suspicious")


def read_equivalent(path: Path) -> dict[str, str]:
    """{mutant name: reason} from a tab-separated triage list; '#' lines and blank lines are skipped."""
    out = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, reason = line.partition("\t")
        if not sep or "__mutmut_" not in name or not reason.strip():
            raise ValueError(f"{path}:{number}: expected '<mutant name><TAB><reason>', got {line!r}")
        if name in out:
            raise ValueError(f"{path}:{number}: {name} is listed twice")
        out[name] = reason.strip()
    return out


def module_counts(root: Path, equivalent: frozenset[str] = frozenset(),
                  scope: tuple[str, ...] = ()) -> dict[str, tuple[Counter, list[str]]]:
    """{module path: (status counts, surviving mutant names)} for every file mutmut was told to mutate; a survivor
    named in `equivalent` counts as "equivalent", not "survived"; with `scope` globs, only matching mutants count."""
    config = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["mutmut"]
    out = {}
    for rel in config["only_mutate"]:
        meta = root / "mutants" / f"{rel}.meta"
        if not meta.exists():
            continue
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        statuses = {key: STATUS.get(code, "suspicious") for key, code in codes.items()
                    if not scope or any(fnmatch.fnmatchcase(key, g) for g in scope)}
        statuses.update({k: "equivalent" for k, s in statuses.items() if s == "survived" and k in equivalent})
        if not statuses:
            continue
        out[rel] = (Counter(statuses.values()), sorted(k for k, s in statuses.items() if s == "survived"))
    return out


def kill_rates(c: Counter) -> tuple[float, float]:
    """(killed % of the mutants tests reach, killed % of those not triaged as equivalent); timeouts count as killed."""
    killed = c["killed"] + c["timeout"]
    reached = killed + c["survived"] + c["equivalent"]
    real = killed + c["survived"]
    return (100.0 * killed / reached if reached else float("nan"), 100.0 * killed / real if real else float("nan"))


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--root", type=Path, default=Path("."))
    ap.add_argument("--json", type=Path, help="also write the counts here")
    ap.add_argument("--survivors", action="store_true", help="list the surviving mutants")
    ap.add_argument("--equivalent", type=Path, help="tab-separated list of survivors triaged as equivalent")
    ap.add_argument("--scope", nargs="*", default=(), help="count only mutants matching these globs "
                    "(the Makefile's MUTATION_SCOPE)")
    args = ap.parse_args(argv)
    try:
        equivalent = read_equivalent(args.equivalent) if args.equivalent else {}
    except (OSError, ValueError) as exc:
        print(f"mutation_summary: {exc}", file=sys.stderr)
        return 2
    counts = module_counts(args.root, frozenset(equivalent), tuple(args.scope))
    if not counts:
        print("no mutation results under mutants/: run `make mutation` or `make mutation-fast` first", file=sys.stderr)
        return 2
    total: Counter = Counter()
    print(f"{'module':<42}" + "".join(f"{c:>12}" for c in COLUMNS) + f"{'killed %':>10}{'non-eq %':>10}")
    table = {}
    for module, (c, survivors) in counts.items():
        total.update(c)
        rate, real_rate = kill_rates(c)
        table[module] = {**{k: c[k] for k in COLUMNS}, "killed_pct": round(rate, 1),
                         "killed_non_equivalent_pct": round(real_rate, 1), "survivors": survivors}
        print(f"{module:<42}" + "".join(f"{c[k]:>12}" for k in COLUMNS) + f"{rate:>10.1f}{real_rate:>10.1f}")
        if args.survivors:
            for name in survivors:
                print(f"    survived: {name}")
    rate, real_rate = kill_rates(total)
    print(f"{'total':<42}" + "".join(f"{total[k]:>12}" for k in COLUMNS) + f"{rate:>10.1f}{real_rate:>10.1f}")
    if args.json:
        args.json.write_text(json.dumps({"modules": table, "total": {
            **{k: total[k] for k in COLUMNS}, "killed_pct": round(rate, 1),
            "killed_non_equivalent_pct": round(real_rate, 1)}}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
