"""acquire from a directory of real downloads, `geih data validate`, and stage error contracts."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from geih import cli
from geih.ingest.acquire import import_directory
from geih.io import read_json
from geih.stage import run_main
from tests.conftest import REPO_ROOT

# Stage processes that import MLflow take 6–25 s each: the pipeline tier (the unit tier stays under a minute).
SUBPROCESS_STAGE = pytest.mark.pipeline


def geih(*args: str, cwd: Path = REPO_ROOT, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "geih.cli", *args], capture_output=True, text=True, cwd=cwd,
                          input=stdin)


def stage(script: str, *args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO_ROOT / "stages" / script), *args], capture_output=True,
                          text=True, cwd=cwd)


def test_validate_summarises_a_raw_folder(tiny_world: Path):
    result = geih("data", "validate", str(tiny_world))
    assert result.returncode == 0, result.stderr
    assert "inpe_current" in result.stdout and "prodes_current" in result.stdout
    assert "inpe_annual" in result.stdout and "mapbiomas_geotiff" in result.stdout
    assert "prodes_increments_state" in result.stdout and "decimal commas" in result.stdout
    assert "reprojected from EPSG:4674" in result.stdout  # IBGE's states mesh, saved as .json
    assert "duplicate_rows" in result.stdout  # published oddities are counted, not hidden
    import re

    assert len(set(re.findall(r"focos_mensal_br_\d{6}\.csv", result.stdout))) == 24
    assert "focos_br_todos-sats_2019.csv" in result.stdout


def test_validate_names_file_and_column_and_exits_nonzero(tiny_world: Path, tmp_path: Path):
    bad = tmp_path / "hotspots"
    bad.mkdir()
    src = sorted((tiny_world / "hotspots").glob("*.csv"))[5]
    frame = pd.read_csv(src, dtype=str)
    frame.drop(columns=["data_hora_gmt"]).to_csv(bad / src.name, index=False)
    result = geih("data", "validate", str(bad / src.name))
    assert result.returncode != 0
    assert src.name in result.stderr and "data_hora_gmt" in result.stderr
    assert "Traceback" not in result.stderr


def world_plot_names() -> list[str]:
    """The plots/world PNGs dvc.yaml declares."""
    plots = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["plots"]
    return sorted(Path(p).name for p in plots if isinstance(p, str) and p.startswith("plots/world/"))


def test_import_directory_copies_draws_the_maps_and_marks_no_truth(tiny_world: Path, tmp_path: Path):
    summary = import_directory(tiny_world, tmp_path / "raw", tmp_path / "truth", tmp_path / "plots", 1.5)
    assert summary["files"] > 30 and summary["folders"] == 10
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == sorted(p.name for p in tiny_world.iterdir())
    assert read_json(tmp_path / "truth" / "manifest.json")["available"] is False
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == world_plot_names()
    for png in (tmp_path / "plots").iterdir():
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


@SUBPROCESS_STAGE
def test_acquire_stage_rejects_a_bad_source_and_writes_nothing(tmp_path: Path):
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    params["acquire"]["source"] = str(tmp_path / "does-not-exist")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    result = stage("acquire.py", "--params", "params.yaml", "--raw", "raw", "--truth", "truth", "--plots", "plots",
                   cwd=tmp_path)
    assert result.returncode == 2
    assert "acquire.source" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(("mlflow", "params"))) == []


def test_acquire_stage_imports_a_real_layout_directory(tiny_world: Path, tmp_path: Path):
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    params["acquire"]["source"] = str(tiny_world)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    result = stage("acquire.py", "--params", "params.yaml", "--raw", "raw", "--truth", "truth", "--plots", "plots",
                   cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(list((tmp_path / "raw" / "hotspots").glob("*.csv"))) == 1 + 24
    assert json.loads((tmp_path / "truth" / "manifest.json").read_text())["available"] is False
    # the committed world maps stay: drawn from the imported files, one per plot dvc.yaml declares
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == world_plot_names()


def test_prepare_with_bad_params_names_the_key_and_writes_nothing(tiny_world: Path, tmp_path: Path):
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    params["prepare"]["fire_risk"]["dedup"] = "fuzzy"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    result = stage("prepare.py", "--task", "fire_risk", "--params", "params.yaml", "--raw", str(tiny_world),
                   "--out", "prepared.parquet", "--report", "report.json", cwd=tmp_path)
    assert result.returncode == 2
    assert "prepare.fire_risk.dedup" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "prepared.parquet").exists() and not (tmp_path / "report.json").exists()


@SUBPROCESS_STAGE
def test_train_with_unknown_model_names_the_key(tmp_path: Path):
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    params["train"]["fire_risk"]["model"] = "svm"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    result = stage("train.py", "--task", "fire_risk", "--params", "params.yaml", "--features", "f",
                   "--model", "m.joblib", "--metrics", "m.json", cwd=tmp_path)
    assert result.returncode == 2
    assert "train.fire_risk.model" in result.stderr and "svm" in result.stderr
    assert not (tmp_path / "m.joblib").exists()


@SUBPROCESS_STAGE
def test_geih_predict_reads_stdin_and_rejects_bad_records(tmp_path: Path):
    import joblib

    from tests.serving.bundle_support import make_bundle

    bundle = make_bundle(tmp_path / "bundle")
    ok = geih("predict", "--bundle", str(bundle), stdin=json.dumps({"instances": [{"a": 0.7, "b": None, "c": 2}]}))
    assert ok.returncode == 0, ok.stderr
    out = json.loads(ok.stdout)
    model = joblib.load(bundle / "model.joblib")
    expected = float(model.predict_proba(pd.DataFrame({"a": [0.7], "b": [float("nan")], "c": [2.0]}))[0, 1])
    assert abs(out[0]["probability"] - expected) < 1e-12
    assert out[0]["prediction"] == int(expected >= 0.5)
    assert out[0]["risk_level"] == ["baixo", "médio", "alto", "crítico"][sum(expected >= t for t in (0.25, 0.5, 0.75))]
    bad = geih("predict", "--bundle", str(bundle), stdin='[{"a": "hot", "b": 1, "c": 1}]')
    assert bad.returncode == 2 and "record 0: feature 'a' must be a number" in bad.stderr


def _bad_raster(path: Path) -> None:
    import numpy as np
    import rasterio
    from rasterio.transform import Affine

    codes = np.full((4, 4), 3, dtype=np.uint8)
    codes[2, 1] = 2  # not a MapBiomas code
    with rasterio.open(path, "w", driver="GTiff", width=4, height=4, count=1, dtype="uint8", crs="EPSG:4326",
                       nodata=0, transform=Affine(0.1, 0.0, -60.0, 0.0, -0.1, -5.0)) as dst:
        dst.write(codes, 1)
        dst.set_band_description(1, "classification_2020")


BAD_FILES = {
    # file name: (content or writer, row, column)
    "increments.csv": ("year;areakm;uf\n2019;1,0;Acre\n20x0;2,0;Pará", 3, "year"),
    "focos_brasil_ontem_hoje.csv": (
        "FID,longitude,latitude,data_hora_gmt,satelite,municipio,estado,pais,geom\r\n"
        "focos.1,-52.2,-3.2,2021-07-13T16:10:00,AQUA_M-T,ALTAMIRA,PARÁ,Brasil,POINT (-3.2 -52.2)\r\n"
        "focos.2,-52.3,-3.3,2021-07-13T25:10:00,AQUA_M-T,ALTAMIRA,PARÁ,Brasil,POINT (-3.3 -52.3)\r\n", 3,
        "data_hora_gmt"),
    "firms.csv": ("latitude,longitude,brightness,scan,track,acq_date,acq_time,satellite,instrument,confidence,"
                  "version,bright_t31,frp,daynight\n-7.1,-60.2,340.5,0.4,0.4,2022-08-20,1722,N,VIIRS,n,2,295.4,7.7,D\n"
                  "-7.2,-60.3,340.5,0.4,0.4,2022-08-20,1722,N,OLI,n,2,295.4,7.7,D\n", 3, "instrument"),
    "focos_br_todos-sats_2024.csv": (
        "latitude,longitude,data_pas,satelite,pais,estado,municipio,bioma,numero_dias_sem_chuva,precipitacao,"
        "risco_fogo,id_area_industrial,frp\n  -6.5 ,  -58.8 ,2024-08-04 17:30:00,NOAA-21,Brasil,AMAZONAS,MAUÉS,"
        "Amazônia, 24.0 , 0.0 , 0.8 , 0 , 12.5 \n  -6.5 ,  -58.8 ,2024-08-04 17:30:00,NOAA-21,Brasil,AMAZONAS,"
        "MAUÉS,Amazônia, 24.0 , 0.0 , 0.8 , x , 12.5 \n", 3, "id_area_industrial"),
    "lulc.tif": (_bad_raster, 3, "classification_2020"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_refused_files_of_the_new_layouts_name_file_row_and_column(name: str, tmp_path: Path, caplog):
    """`geih data validate` in-process (its exit-status contract as a process: the tests above)."""
    content, row, column = BAD_FILES[name]
    path = tmp_path / name
    if callable(content):
        content(path)
    else:
        path.write_text(content, encoding="utf-8")
    with caplog.at_level(logging.ERROR, logger="geih"):
        assert run_main(cli.main, ["data", "validate", str(path)]) == 2
    (message,) = [r.getMessage() for r in caplog.records if r.name == "geih" and r.levelno == logging.ERROR]
    assert str(path) in message and f"row {row}" in message, message
    assert f"column '{column}'" in message, message
