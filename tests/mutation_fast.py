"""Fast mutation run (`make mutation-fast`): mutmut's mutants, run in one process instead of one per mutant.

`mutmut run` forks a test process per mutant; on a 2-core machine the ~4,800 mutants of the scope take hours.
This runner uses mutmut to generate `mutants/` (the same mutants, the same trampolines), then

1. runs the selected tests once with mutmut's "stats" trampoline mode, recording which tests reach which mutated
   function and how long each test takes;
2. activates each mutant in turn (`MUTANT_UNDER_TEST`, read by the trampoline at every call) and runs only the
   tests that reach its function, fastest first, stopping at the first failure (`pytest.main` in-process);
3. writes the outcome into mutmut's `mutants/<file>.meta` files, so `tests/mutation_summary.py` and
   `mutmut results` read it as if `mutmut run` had produced it.

Killed = a test fails (or errors) with the mutant active; a mutant running past --timeout seconds counts as a
timeout (killed, as mutmut counts it); "no tests" = no selected test reaches the function. Limits: tests share
one process, so a test that leaks state between runs could mask a mutant (each mutant's tests are re-collected,
module fixtures rebuilt); RuntimeWarnings are errors, as in `make test`.

Usage (repo root): python tests/mutation_fast.py [--generate] [--timeout S] [--skip-killed]
       [--marker 'unit or data'] [--tests PATH]... SCOPE_GLOB...
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import fnmatch
import io
import json
import logging
import os
import shutil
import signal
import sys
import time
import tomllib
from collections.abc import Iterable
from pathlib import Path

import pytest

log = logging.getLogger("mutation_fast")

# exit codes mutmut stores per mutant (mutmut.stats.status_by_exit_code)
EXIT_CODE = {"killed": 1, "survived": 0, "no tests": 33, "timeout": 36}
PYTEST_BASE = ["-q", "--tb=no", "--no-header", "-p", "no:cacheprovider", "-W", "error::RuntimeWarning"]


def in_scope(name: str, patterns: Iterable[str]) -> bool:
    """Whether a mutant name (`geih.tasks.common.x_days_since_rain__mutmut_3`) matches one of the scope globs."""
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def function_of(mutant: str) -> str:
    """The mutated function a mutant belongs to (`….x_days_since_rain__mutmut_3` → `….x_days_since_rain`)."""
    head, sep, number = mutant.rpartition("__mutmut_")
    if not sep or not number.isdigit():
        raise ValueError(f"not a mutmut mutant name: {mutant!r}")
    return head


def mutant_order(mutant: str) -> tuple[str, int]:
    """Sort key: by function, then by mutant number (3 before 12)."""
    return function_of(mutant), int(mutant.rpartition("_")[2])


def meta_files(mutants_dir: Path) -> list[Path]:
    """mutmut's per-file result files under mutants/."""
    return sorted(mutants_dir.rglob("*.py.meta"))


def stored_codes(mutants_dir: Path) -> dict[str, int | None]:
    """Every generated mutant with the exit code its .meta records (None: not run yet)."""
    return {key: code for meta in meta_files(mutants_dir)
            for key, code in json.loads(meta.read_text())["exit_code_by_key"].items()}


def mutants_in_scope(mutants_dir: Path, patterns: Iterable[str]) -> list[str]:
    """Every generated mutant whose name matches the scope, in mutant order."""
    patterns = list(patterns)
    return sorted((key for key in stored_codes(mutants_dir) if in_scope(key, patterns)), key=mutant_order)


def write_results(mutants_dir: Path, results: dict[str, str]) -> int:
    """Store each mutant's status as mutmut's exit code in the .meta file that lists it; returns how many."""
    written = 0
    for meta in meta_files(mutants_dir):
        data = json.loads(meta.read_text())
        codes = data["exit_code_by_key"]
        hits = {k: EXIT_CODE[results[k]] for k in codes if k in results}
        if hits:
            codes.update(hits)
            tmp = meta.with_suffix(".meta.tmp")
            tmp.write_text(json.dumps(data, indent=4))
            tmp.replace(meta)
            written += len(hits)
    return written


def pytest_selection(pyproject: Path, marker: str | None = None, paths: list[str] | None = None) -> list[str]:
    """The test paths and flags `mutmut run` uses ([tool.mutmut] pytest_add_cli_args and the test selection);
    `marker` replaces its `-m` tier expression, `paths` its test paths."""
    cfg = tomllib.loads(pyproject.read_text())["tool"]["mutmut"]
    flags = list(cfg.get("pytest_add_cli_args", []))
    if marker is not None:
        if "-m" not in flags:
            flags += ["-m", marker]
        else:
            flags[flags.index("-m") + 1] = marker
    return list(paths or cfg.get("pytest_add_cli_args_test_selection", [])) + flags


class TestMap:
    """pytest plugin for the stats run: the tests that reach each mutated function, and each test's duration."""

    def __init__(self) -> None:
        self.current: str | None = None
        self.tests_by_function: dict[str, set[str]] = collections.defaultdict(set)
        self.duration: dict[str, float] = collections.defaultdict(float)

    def hit(self, function: str, caller: str | None = None) -> None:
        """Replaces mutmut's record_trampoline_hit during the stats run."""
        if self.current is not None:
            self.tests_by_function[function].add(self.current)

    def pytest_runtest_protocol(self, item, nextitem):
        self.current = item.nodeid

    def pytest_runtest_logfinish(self, nodeid, location):
        self.current = None

    def pytest_runtest_logreport(self, report):
        self.duration[report.nodeid] += report.duration

    def tests_for(self, mutant: str) -> list[str]:
        """The tests reaching the mutant's function, fastest first."""
        return sorted(self.tests_by_function.get(function_of(mutant), ()), key=lambda t: (self.duration[t], t))


class _Timeout(BaseException):
    """Raised by SIGALRM inside a mutant's tests (BaseException: pytest does not swallow it as a failure)."""


def _on_alarm(signum, frame):
    raise _Timeout


def run_mutant(mutant: str, tests: list[str], timeout_s: int) -> str:
    """killed / survived / timeout for one mutant over its tests."""
    os.environ["MUTANT_UNDER_TEST"] = mutant
    signal.alarm(timeout_s)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            code = pytest.main(["-x", *tests, *PYTEST_BASE])
        return "survived" if code == 0 else "killed"
    except _Timeout:
        return "timeout"
    finally:
        signal.alarm(0)
        os.environ["MUTANT_UNDER_TEST"] = ""


def generate_mutants() -> None:
    """mutmut's own generation step (copy the sources, write the mutated files and .meta), without any test run."""
    import mutmut.__main__ as mm

    mm.set_mutant_under_test("mutant_generation")
    Path("mutants").mkdir(exist_ok=True)
    mm.copy_src_dir()
    mm.copy_also_copy_files()
    mm.setup_source_paths()
    mm.store_lines_covered_by_tests()
    stats = mm.create_mutants(max_children=os.cpu_count() or 2)
    log.info("mutants generated: %d files mutated, %d ignored", stats.mutated, stats.ignored)


def mutated_modules(pyproject: Path) -> list[str]:
    """Module names of the files [tool.mutmut] only_mutate lists (`geih/tasks/common.py` → `geih.tasks.common`)."""
    cfg = tomllib.loads(pyproject.read_text())["tool"]["mutmut"]
    return [str(Path(f).with_suffix("")).replace(os.sep, ".") for f in cfg.get("only_mutate", [])]


def imported_outside(modules: Iterable[str], root: Path) -> list[str]:
    """The modules among those imported whose file is not under root (they would run unmutated code)."""
    root = root.resolve()
    return [m for m in modules if m in sys.modules
            and not Path(sys.modules[m].__file__ or "").resolve().is_relative_to(root)]


def map_tests(selection: list[str], mutated_modules: list[str]) -> TestMap:
    """The stats run: the clean suite once, recording which tests reach which mutated function."""
    import mutmut.mutation.trampoline as trampoline

    test_map = TestMap()
    original = trampoline.record_trampoline_hit
    trampoline.record_trampoline_hit = test_map.hit
    os.environ["MUTANT_UNDER_TEST"] = "stats"
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            code = pytest.main([*selection, *PYTEST_BASE], plugins=[test_map])
    finally:
        trampoline.record_trampoline_hit = original
        os.environ["MUTANT_UNDER_TEST"] = ""
    for module in imported_outside(mutated_modules, Path.cwd()):
        raise SystemExit(f"{module} is imported from {sys.modules[module].__file__}, not from mutants/: "
                         "the mutants would not run (is the package installed non-editable?)")
    if code != 0:
        raise SystemExit(f"the clean test run fails in mutants/ (pytest exit {code}): fix the tests first")
    return test_map


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scope", nargs="+", help="mutant-name globs (the Makefile's MUTATION_SCOPE)")
    ap.add_argument("--generate", action="store_true", help="(re)generate mutants/ with mutmut first")
    ap.add_argument("--timeout", type=int, default=60, help="seconds per mutant before it counts as a timeout")
    ap.add_argument("--marker", help="pytest -m tier expression instead of [tool.mutmut]'s (e.g. 'unit or data')")
    ap.add_argument("--tests", action="append", help="a test path instead of [tool.mutmut]'s test selection "
                    "(repeat for several)")
    ap.add_argument("--skip-killed", action="store_true",
                    help="after adding tests: copy tests/ into mutants/ again and leave out the mutants mutants/*.meta "
                         "already records as killed or timed out")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if args.generate:
        generate_mutants()
    mutants_dir = Path("mutants")
    if not meta_files(mutants_dir):
        log.error("no mutants/ here: run with --generate (from the repository root)")
        return 2
    names = mutants_in_scope(mutants_dir, args.scope)
    if args.skip_killed:
        from mutmut.stats import status_by_exit_code

        shutil.copytree("tests", mutants_dir / "tests", dirs_exist_ok=True)
        previous = stored_codes(mutants_dir)  # `make mutation` records other killed/timeout codes than this runner
        names = [n for n in names if status_by_exit_code.get(previous[n]) not in ("killed", "timeout")]
    selection = pytest_selection(Path("pyproject.toml"), args.marker, args.tests)
    modules = mutated_modules(Path("pyproject.toml"))
    os.chdir(mutants_dir)
    sys.path.insert(0, str(Path.cwd()))  # the mutated geih/ and the copied tests/ come first
    signal.signal(signal.SIGALRM, _on_alarm)
    start = time.monotonic()
    test_map = map_tests(selection, modules)
    log.info("stats run %.0f s: %d mutated functions reached; %d mutants to run",
             time.monotonic() - start, len(test_map.tests_by_function), len(names))
    results: dict[str, str] = {}
    from tqdm import tqdm

    for name in tqdm(names, desc="mutants", unit="mutant", mininterval=10):
        tests = test_map.tests_for(name)
        results[name] = run_mutant(name, tests, args.timeout) if tests else "no tests"
        if len(results) % 200 == 0:
            write_results(Path("."), results)
    write_results(Path("."), results)
    counts = collections.Counter(results.values())
    log.info("%d mutants in %.0f s: %s", len(results), time.monotonic() - start, dict(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
