"""No silent labels from missing files: panels cover only the periods their inputs cover, or prepare
refuses naming the gap; coverage per source and the official PRODES increments are reported."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from geih.errors import DataError
from geih.ingest.sources.cleaning import CleaningReport
from geih.tasks import common
from geih.tasks.deforestation import compare_with_official, panel_years
from geih.tasks.fire_risk import panel_months
from geih.tasks.fire_risk import prepare as prepare_fire_risk
from tests.conftest import REPO_ROOT

FIRE = {"grid_resolution_deg": 1.5, "dedup": "reference", "reference_satellite": "AQUA_M-T"}


def _report(first: str | None, last: str | None = None) -> CleaningReport:
    return CleaningReport(file="f.csv", format="x", period=None if first is None else (first, last or first))


def _months(first: str, last: str) -> pd.DatetimeIndex:
    return pd.date_range(first, last, freq="MS")


def test_months_covered_from_each_files_first_and_last_record():
    reports = [_report("2019-01-01 00:10:00", "2019-12-31 23:00:00"), _report("2020-02-03 10:00:00"),
               _report(None), _report("2020-03-31 23:59:59", "2020-04-01 00:00:01")]
    covered = common.months_covered(reports)
    assert list(covered) == list(_months("2019-01-01", "2019-12-01")) + list(_months("2020-02-01", "2020-04-01"))
    assert common.month_runs(covered) == ["2019-01..2019-12", "2020-02..2020-04"]
    assert common.year_runs([2021, 2019, 2020, 2023]) == ["2019..2021", "2023"]
    assert common.missing_runs([1, 2, 3, 6, 7, 9]) == [(4, 5), (8, 8)]


def test_panel_months_keep_what_both_sources_cover(tmp_path):
    weather = _months("2019-01-01", "2021-12-01")
    hotspots = _months("2019-04-01", "2022-06-01")
    assert list(panel_months(weather, hotspots, tmp_path)) == list(_months("2019-04-01", "2021-12-01"))


def test_panel_months_refuse_a_gap_naming_it(tmp_path):
    weather = _months("2019-01-01", "2021-12-01")
    hotspots = _months("2019-01-01", "2019-06-01").append(_months("2019-09-01", "2021-12-01"))
    with pytest.raises(DataError, match=r"no hotspot file covers 2019-07\.\.2019-08") as err:
        panel_months(weather, hotspots, tmp_path)
    assert err.value.file == str(tmp_path / "hotspots")
    with pytest.raises(DataError, match=r"hotspot files cover 2019-01\.\.2019-06.*needs at least 14"):
        panel_months(weather, _months("2019-01-01", "2019-06-01"), tmp_path)


def test_panel_years_keep_what_both_sources_cover(tmp_path):
    assert panel_years([2020, 2021, 2022, 2023], [2018, 2019, 2020, 2021, 2022], tmp_path) == [2020, 2021, 2022]
    assert panel_years([2020, 2021], [2019, 2020, 2021], tmp_path) == [2020, 2021]  # two years are enough
    with pytest.raises(DataError, match="no PRODES polygon covers 2022") as err:
        panel_years([2020, 2021, 2022, 2023], [2020, 2021, 2023], tmp_path)
    assert err.value.file == str(tmp_path / "deforestation")
    assert str(err.value).endswith("; add the PRODES increments of those years.")
    with pytest.raises(DataError, match="at least two PRODES years") as err:
        panel_years([2020, 2021], [2021, 2022], tmp_path)
    assert err.value.file == str(tmp_path / "deforestation")
    with pytest.raises(DataError, match=r"weather covers PRODES years 2020\.\.2021 and PRODES polygons none: "):
        panel_years([2020, 2021], [], tmp_path)
    with pytest.raises(DataError, match=r"weather covers PRODES years none and PRODES polygons 2020\.\.2021: "):
        panel_years([], [2020, 2021], tmp_path)


def test_compare_with_official_per_state_and_year():
    panel = pd.DataFrame({"state": ["PA", "PA", "PA", "MT", "MT", "AM"], "year": [2020, 2020, 2021, 2020, 2021, 2021],
                          "cleared_km2": [10.0, 5.0, 7.0, 3.0, 4.0, 1.0]})
    official = pd.DataFrame({
        "year": [2020, 2021, 2020, 2020, 2021, 2021, 2021, 2020],
        "area_km2": [14.0, 8.0, 99.0, 2.0, 1.5, 1.0, 0.5, 50.0],
        "state": ["PA", "PA", "PA", "MT", "MT", "MT", "AM", None],
        "level": ["state", "state", "municipality", "municipality", "municipality", "municipality", "municipality",
                  "conservation_unit"],
    })
    out = compare_with_official(panel, official, n_files=3)
    # PA from the state rows (its municipality row is not added); MT and AM from municipality rows
    assert out["state_years"] == 5 and out["conservation_unit_rows_not_compared"] == 1
    assert out["prepared_km2"] == 30.0 and out["official_km2"] == 27.0 and out["difference_km2"] == 3.0
    assert out["difference_km2_by_year"] == {"2020": 2.0, "2021": 1.0}
    assert out["max_abs_difference_km2"] == 1.5 and out["max_abs_difference_at"] == "MT 2021"
    assert out["relative_difference"] == pytest.approx(3 / 27, abs=1e-5)
    assert compare_with_official(panel, official.iloc[7:], n_files=1) == {
        "files": 1, "state_years": 0, "conservation_unit_rows_not_compared": 1}


@pytest.fixture()
def raw_copy(tiny_world: Path, tmp_path: Path) -> Path:
    shutil.copytree(tiny_world, tmp_path / "raw")
    return tmp_path / "raw"


def test_missing_monthly_files_stop_prepare_naming_the_months(raw_copy: Path, tmp_path: Path):
    for month in ("202006", "202007"):
        (raw_copy / "hotspots" / f"focos_mensal_br_{month}.csv").unlink()
    with pytest.raises(DataError, match=r"no hotspot file covers 2020-06\.\.2020-07"):
        prepare_fire_risk(raw_copy, FIRE)
    params = tmp_path / "params.yaml"
    params.write_text((REPO_ROOT / "params.yaml").read_text().replace("grid_resolution_deg: 0.5", "grid_resolution_deg: 1.5"))
    result = subprocess.run([sys.executable, str(REPO_ROOT / "stages" / "prepare.py"), "--task", "fire_risk",
                             "--params", str(params), "--raw", str(raw_copy), "--out", "p.parquet",
                             "--report", "r.json"], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2 and "2020-06..2020-07" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "p.parquet").exists() and not (tmp_path / "r.json").exists()


def test_a_missing_first_year_shortens_the_panel(raw_copy: Path):
    (raw_copy / "hotspots" / "focos_br_todos-sats_2019.csv").unlink()
    panel, report = prepare_fire_risk(raw_copy, FIRE)
    assert panel["month"].min() == pd.Timestamp("2020-01-01") and panel["month"].max() == pd.Timestamp("2021-11-01")
    assert report["months"] == 24 and report["rows"] == report["cells"] * 23
    assert report["coverage"]["hotspots"]["runs"] == ["2020-01..2021-12"]
    assert report["coverage"]["panel"] == {"months": 23, "first": "2020-01", "last": "2021-11",
                                           "last_label_month": "2021-12"}
    assert report["coverage"]["weather"] == {"first_day": "2019-01-01", "last_day": "2021-12-31"}


def test_deforestation_reports_coverage_and_the_official_increments(tiny_world: Path):
    from geih.tasks.deforestation import prepare

    panel, report = prepare(tiny_world, {"grid_resolution_deg": 1.5, "threshold_km2": 1.0})
    assert report["coverage"]["panel_years"] == ["2020..2021"] and report["years"] == [2020, 2021]
    official = report["official_increments"]
    assert official["files"] == 1 and official["state_years"] > 10
    # the synthetic table holds the polygons' areas per state: prepared clearing per state matches it
    assert official["prepared_km2"] == pytest.approx(official["official_km2"], rel=1e-6)
    assert official["prepared_km2"] == pytest.approx(panel["cleared_km2"].sum(), rel=1e-6)
