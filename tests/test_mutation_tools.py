"""The mutation-testing tools: tests/mutation_fast.py (in-process runner over mutmut's mutants) and
tests/mutation_summary.py (per-module table, equivalent mutants counted apart)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from tests import mutation_fast, mutation_summary

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.unit
def test_mutant_names_map_to_their_function_in_number_order():
    names = ["geih.domain.grid.xǁGridǁcell_of__mutmut_12", "geih.domain.grid.xǁGridǁcell_of__mutmut_3",
             "geih.domain.grid.x_cell_positions__mutmut_2"]
    assert mutation_fast.function_of(names[0]) == "geih.domain.grid.xǁGridǁcell_of"
    assert sorted(names, key=mutation_fast.mutant_order) == [names[2], names[1], names[0]]
    with pytest.raises(ValueError, match="not a mutmut mutant name: 'geih.domain.grid.x_cell_positions'"):
        mutation_fast.function_of("geih.domain.grid.x_cell_positions")
    assert mutation_fast.in_scope(names[2], ["geih.domain.grid.x_cell_positions__*"])
    assert not mutation_fast.in_scope(names[0], ["geih.domain.grid.x_cell_positions__*"])


def _meta(path: Path, codes: dict[str, int | None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"exit_code_by_key": codes, "hash_by_function_name": {}}))


@pytest.mark.unit
def test_results_are_written_as_mutmut_exit_codes_into_the_meta_that_lists_each_mutant(tmp_path):
    _meta(tmp_path / "pkg" / "a.py.meta", {"pkg.a.x_f__mutmut_1": None, "pkg.a.x_f__mutmut_2": None,
                                           "pkg.a.x_g__mutmut_1": 0})
    _meta(tmp_path / "pkg" / "b.py.meta", {"pkg.b.x_h__mutmut_1": None})
    written = mutation_fast.write_results(tmp_path, {"pkg.a.x_f__mutmut_1": "killed", "pkg.a.x_f__mutmut_2": "timeout",
                                                     "pkg.b.x_h__mutmut_1": "no tests"})
    assert written == 3
    a = json.loads((tmp_path / "pkg" / "a.py.meta").read_text())
    assert a["exit_code_by_key"] == {"pkg.a.x_f__mutmut_1": 1, "pkg.a.x_f__mutmut_2": 36, "pkg.a.x_g__mutmut_1": 0}
    assert a["hash_by_function_name"] == {}  # the rest of mutmut's record is kept
    assert json.loads((tmp_path / "pkg" / "b.py.meta").read_text())["exit_code_by_key"] == {"pkg.b.x_h__mutmut_1": 33}
    assert mutation_fast.mutants_in_scope(tmp_path, ["pkg.a.x_f__*", "pkg.b.*"]) == [
        "pkg.a.x_f__mutmut_1", "pkg.a.x_f__mutmut_2", "pkg.b.x_h__mutmut_1"]
    # the exit codes read back as the statuses mutmut and the summary use
    assert {mutation_summary.STATUS[c] for c in (1, 36, 33, 0)} == {"killed", "timeout", "no tests", "survived"}


@pytest.mark.unit
def test_the_test_map_runs_the_tests_reaching_a_function_fastest_first():
    test_map = mutation_fast.TestMap()
    for test, seconds in (("t_slow", 2.0), ("t_fast", 0.1), ("t_other", 0.5)):
        test_map.current = test
        test_map.hit("pkg.a.x_f")
        test_map.duration[test] = seconds
    test_map.current = None
    test_map.hit("pkg.a.x_g")  # a hit outside a test (collection, a session fixture) maps to no test
    assert test_map.tests_for("pkg.a.x_f__mutmut_7") == ["t_fast", "t_other", "t_slow"]
    assert test_map.tests_for("pkg.a.x_g__mutmut_1") == []


@pytest.mark.unit
def test_the_equivalent_list_is_read_with_its_reasons_and_bad_lines_are_named(tmp_path):
    good = tmp_path / "eq.tsv"
    good.write_text("# triaged survivors\n\npkg.a.x_f__mutmut_2\tastype(None) is float64\n")
    assert mutation_summary.read_equivalent(good) == {"pkg.a.x_f__mutmut_2": "astype(None) is float64"}
    bad = tmp_path / "bad.tsv"
    bad.write_text("pkg.a.x_f__mutmut_2\tok\npkg.a.x_f__mutmut_3 no tab here\n")
    with pytest.raises(ValueError, match=r"bad.tsv:2: expected '<mutant name><TAB><reason>'"):
        mutation_summary.read_equivalent(bad)
    twice = tmp_path / "twice.tsv"
    twice.write_text("pkg.a.x_f__mutmut_2\tone\npkg.a.x_f__mutmut_2\ttwo\n")
    with pytest.raises(ValueError, match="twice.tsv:2: pkg.a.x_f__mutmut_2 is listed twice"):
        mutation_summary.read_equivalent(twice)


@pytest.mark.unit
def test_equivalent_survivors_are_counted_apart_and_the_rates_use_the_rest(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.mutmut]\nonly_mutate = ["pkg/a.py"]\n')
    codes = {f"pkg.a.x_f__mutmut_{i}": 1 for i in range(1, 8)}  # 7 killed
    codes |= {"pkg.a.x_f__mutmut_8": 36, "pkg.a.x_f__mutmut_9": 0, "pkg.a.x_f__mutmut_10": 0,
              "pkg.a.x_g__mutmut_1": 33, "pkg.a.x_h__mutmut_1": 0}
    _meta(tmp_path / "mutants" / "pkg" / "a.py.meta", codes)
    counts = mutation_summary.module_counts(tmp_path, frozenset({"pkg.a.x_f__mutmut_10"}), ("pkg.a.x_f__*",
                                                                                          "pkg.a.x_g__*"))
    c, survivors = counts["pkg/a.py"]
    assert (c["killed"], c["timeout"], c["survived"], c["equivalent"], c["no tests"]) == (7, 1, 1, 1, 1)
    assert survivors == ["pkg.a.x_f__mutmut_9"]  # x_h is outside the scope
    raw, non_equivalent = mutation_summary.kill_rates(c)
    assert raw == pytest.approx(100 * 8 / 10) and non_equivalent == pytest.approx(100 * 8 / 9)
    assert all(r != r for r in mutation_summary.kill_rates(Counter()))  # nothing reached: NaN, not 0 or 100


@pytest.mark.unit
def test_the_summary_refuses_a_malformed_equivalent_list_naming_the_line(tmp_path, capsys):
    bad = tmp_path / "eq.tsv"
    bad.write_text("just a name\n")
    assert mutation_summary.main(["--root", str(tmp_path), "--equivalent", str(bad)]) == 2
    assert "eq.tsv:1: expected" in capsys.readouterr().err


@pytest.mark.pipeline
def test_a_fast_run_kills_survives_and_skips_untested_mutants_of_a_small_project(tmp_path):
    """End to end on a three-function package: mutmut generates the mutants, the runner kills the ones its tests
    see, leaves the `>` → `>=` mutant of `bonus` alive (no test at 0) and marks the untested function's
    mutants "no tests"; the summary then counts that survivor as equivalent when it is listed."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "tests").mkdir()
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent("""\
        [tool.mutmut]
        source_paths = ["pkg"]
        only_mutate = ["pkg/arith.py"]
        pytest_add_cli_args_test_selection = ["tests"]
        pytest_add_cli_args = ["-p", "no:cacheprovider"]

        [tool.pytest.ini_options]
        pythonpath = ["."]
        """))
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "arith.py").write_text(textwrap.dedent("""\
        def add(a, b):
            return a + b


        def bonus(x):
            return x + 1 if x > 0 else 0


        def untested(x):
            return x * 3
        """))
    (tmp_path / "tests" / "test_arith.py").write_text(textwrap.dedent("""\
        from pkg.arith import add, bonus


        def test_add():
            assert add(2, 3) == 5


        def test_bonus():
            assert bonus(1) == 2 and bonus(3) == 4 and bonus(-2) == 0
        """))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MUTANT_UNDER_TEST")}
    run = subprocess.run([sys.executable, str(REPO / "tests" / "mutation_fast.py"), "--generate", "pkg.arith.*"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    codes = json.loads((tmp_path / "mutants" / "pkg" / "arith.py.meta").read_text())["exit_code_by_key"]
    status = {k: mutation_summary.STATUS[v] for k, v in codes.items()}
    untested = {k for k in status if ".x_untested__" in k}
    assert untested and {status[k] for k in untested} == {"no tests"}
    survivors = sorted(k for k, s in status.items() if s == "survived")
    assert len(survivors) == 1 and ".x_bonus__" in survivors[0]
    assert ">= 0" in (tmp_path / "mutants" / "pkg" / "arith.py").read_text().split(
        f"def {survivors[0].rpartition('.')[2]}(")[1].split("def ")[0]
    assert {s for k, s in status.items() if k not in untested and k not in survivors} == {"killed"}
    eq = tmp_path / "eq.tsv"
    eq.write_text(f"{survivors[0]}\tno test at x = 0 (kept as the example)\n")
    summary = subprocess.run([sys.executable, str(REPO / "tests" / "mutation_summary.py"), "--equivalent", str(eq),
                              "--json", "summary.json"], cwd=tmp_path, env=env, capture_output=True, text=True,
                             timeout=60)
    assert summary.returncode == 0, summary.stderr
    total = json.loads((tmp_path / "summary.json").read_text())["total"]
    assert (total["survived"], total["equivalent"], total["killed_non_equivalent_pct"]) == (0, 1, 100.0)

    # a test added for the survivor: --skip-killed copies tests/ again and runs only what is not killed yet
    with (tmp_path / "tests" / "test_arith.py").open("a") as f:
        f.write("\n\ndef test_bonus_at_zero():\n    assert bonus(0) == 0\n")
    rerun = subprocess.run([sys.executable, str(REPO / "tests" / "mutation_fast.py"), "--skip-killed", "pkg.arith.*"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert f"{len(untested) + 1} mutants to run" in rerun.stderr
    codes = json.loads((tmp_path / "mutants" / "pkg" / "arith.py.meta").read_text())["exit_code_by_key"]
    assert mutation_summary.STATUS[codes[survivors[0]]] == "killed"


@pytest.mark.unit
def test_the_test_selection_is_mutmuts_unless_a_tier_or_paths_are_given(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.mutmut]\npytest_add_cli_args = ["-p", "no:cacheprovider", "-m", "unit", "--ignore=x"]\n'
                         'pytest_add_cli_args_test_selection = ["tests/a", "tests/b"]\n')
    assert mutation_fast.pytest_selection(pyproject) == ["tests/a", "tests/b", "-p", "no:cacheprovider", "-m", "unit",
                                                         "--ignore=x"]
    assert mutation_fast.pytest_selection(pyproject, "unit or data", ["tests/c"]) == [
        "tests/c", "-p", "no:cacheprovider", "-m", "unit or data", "--ignore=x"]
    pyproject.write_text('[tool.mutmut]\npytest_add_cli_args_test_selection = ["tests"]\n')
    assert mutation_fast.pytest_selection(pyproject, "data") == ["tests", "-m", "data"]
