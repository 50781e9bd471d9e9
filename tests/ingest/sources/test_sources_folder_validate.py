"""load_folder over the raw layout, and validate_path / format_summaries."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from geih.errors import DataError
from geih.ingest.sources.folder import load_folder
from geih.ingest.sources.validate import FileSummary, format_summaries, validate_path

FIX = Path(__file__).parents[2] / "fixtures" / "sources"


@pytest.fixture()
def raw(tmp_path: Path) -> Path:
    """A raw-data folder in the documented layout, built from the fixtures."""
    root = tmp_path / "raw"
    (root / "hotspots" / "2024").mkdir(parents=True)
    shutil.copy(FIX / "hotspots" / "inpe_current.csv", root / "hotspots" / "2024" / "b.csv")
    shutil.copy(FIX / "hotspots" / "firms_viirs_nrt.csv", root / "hotspots" / "a.csv")
    (root / "hotspots" / ".hidden.csv").write_text("junk")
    for kind, name in [("weather", "weather.csv"), ("vegetation_index", "vegetation_index.csv"),
                       ("landcover", "landcover.csv")]:
        (root / kind).mkdir()
        shutil.copy(FIX / "tables" / name, root / kind / name)
    for kind, name in [("deforestation", "prodes_older.geojson"), ("deforestation", "prodes_current.geojson"),
                       ("roads", "roads.geojson"), ("settlements", "settlements.geojson"),
                       ("boundary", "boundary.geojson"), ("states", "states.geojson")]:
        (root / kind).mkdir(exist_ok=True)
        shutil.copy(FIX / "vectors" / name, root / kind / name)
    (root / "truth").mkdir()
    pd.DataFrame({"cell_id": [1], "month": ["2024-08"], "probability": [0.5]}).to_parquet(
        root / "truth" / "fire_risk.parquet")
    return root


def test_load_folder_concatenates_in_sorted_order(raw):
    df, reports = load_folder(raw / "hotspots", "hotspots")
    # sorted by path: '2024/b.csv' < 'a.csv'
    assert [Path(r.file).name for r in reports] == ["b.csv", "a.csv"]
    assert len(df) == 5 + 3 and df["source_format"].tolist() == ["inpe_current"] * 5 + ["firms_viirs"] * 3
    assert df.index.tolist() == list(range(8))


def test_load_folder_vectors_stay_geodataframes(raw):
    gdf, reports = load_folder(raw / "deforestation", "deforestation")
    assert isinstance(gdf, gpd.GeoDataFrame) and gdf.crs.to_epsg() == 4326
    assert len(gdf) == 5 and len(reports) == 2 and set(gdf["year"]) == {2019, 2020, 2021, 2023, 2024}
    states, _ = load_folder(raw / "states", "states")
    assert set(states["state"]) == {"PA", "MT"}
    roads, _ = load_folder(raw / "roads", "roads")
    assert len(roads) == 2
    lc, _ = load_folder(raw / "landcover", "landcover")
    assert list(lc.columns) == ["lat", "lon", "year", "class_code", "pixels"]


def test_load_folder_missing_or_empty_folder(tmp_path):
    with pytest.raises(DataError, match="missing folder") as err:
        load_folder(tmp_path / "weather", "weather")
    assert err.value.file == str(tmp_path / "weather")
    (tmp_path / "weather").mkdir()
    (tmp_path / "weather" / "README.txt").write_text("nothing here")
    with pytest.raises(DataError, match="no weather files"):
        load_folder(tmp_path / "weather", "weather")


def test_load_folder_propagates_file_errors(raw):
    (raw / "hotspots" / "c.csv").write_text("a;b;c\n1;2;3\n")
    with pytest.raises(DataError, match="unrecognised hotspot CSV header") as err:
        load_folder(raw / "hotspots", "hotspots")
    assert err.value.file.endswith("c.csv")


def test_validate_raw_layout(raw):
    summaries = validate_path(raw)
    kinds = {Path(s.file).name: s.kind for s in summaries}
    assert "fire_risk.parquet" not in kinds and ".hidden.csv" not in kinds   # truth/ and hidden skipped
    assert kinds["b.csv"] == "hotspots" and kinds["prodes_older.geojson"] == "deforestation"
    assert kinds["states.geojson"] == "states" and kinds["boundary.geojson"] == "boundary"
    current = next(s for s in summaries if s.file.endswith("b.csv"))
    assert current.rows == 5 and current.rows_read == 6 and current.dropped == {"duplicate_rows": 1}
    assert current.date_min == "2024-08-04 17:30" and current.date_max == "2024-08-06 17:40"
    assert current.bbox == pytest.approx((-69.94, -17.8, -52.21033, -3.20451))
    lc = next(s for s in summaries if s.kind == "landcover")
    assert (lc.date_min, lc.date_max) == ("2019", "2021")


def test_validate_loose_files_detects_kind_from_content(tmp_path):
    shutil.copy(FIX / "hotspots" / "inpe_web.csv", tmp_path / "x.csv")
    shutil.copy(FIX / "tables" / "weather.csv", tmp_path / "y.csv")
    shutil.copy(FIX / "tables" / "landcover.csv", tmp_path / "z.csv")
    shutil.copy(FIX / "vectors" / "prodes_current.geojson", tmp_path / "p.geojson")
    shutil.copy(FIX / "vectors" / "roads.geojson", tmp_path / "r.geojson")
    shutil.copy(FIX / "vectors" / "settlements.geojson", tmp_path / "s.geojson")
    (tmp_path / "notes.txt").write_text("hello")
    kinds = {Path(s.file).name: s.kind for s in validate_path(tmp_path)}
    assert kinds == {"x.csv": "hotspots", "y.csv": "weather", "z.csv": "landcover",
                     "p.geojson": "deforestation", "r.geojson": "roads", "s.geojson": "settlements",
                     "notes.txt": "ignored"}
    single = validate_path(tmp_path / "x.csv")
    assert len(single) == 1 and single[0].format == "inpe_web"


def test_validate_raises_on_unknown_or_bad_files(tmp_path):
    (tmp_path / "mystery.csv").write_text("foo,bar\n1,2\n")
    with pytest.raises(DataError, match="cannot tell") as err:
        validate_path(tmp_path)
    assert err.value.file.endswith("mystery.csv")
    with pytest.raises(DataError, match="no such"):
        validate_path(tmp_path / "nope")
    (tmp_path / "mystery.csv").unlink()
    (tmp_path / "hotspots").mkdir()
    (tmp_path / "hotspots" / "empty.csv").write_bytes(b"")
    with pytest.raises(DataError, match="empty"):
        validate_path(tmp_path)


def test_format_summaries_table():
    summaries = [
        FileSummary(file="raw/hotspots/a.csv", kind="hotspots", format="inpe_current", rows=5, rows_read=6,
                    date_min="2024-08-04 17:30", date_max="2024-08-06 17:40", bbox=(-70.0, -18.0, -52.0, -3.0),
                    dropped={"duplicate_rows": 1}, counts={"dropped_duplicate_rows": 1, "nan_frp_negative": 2},
                    notes=["not valid UTF-8: decoded as Latin-1"]),
        FileSummary(file="raw/roads/r.geojson", kind="roads", format="vector:geojson", rows=2, rows_read=2),
    ]
    text = format_summaries(summaries)
    lines = text.splitlines()
    assert lines[0].split() == ["file", "kind", "format", "rows", "dates", "bbox", "(lon/lat)", "dropped"]
    assert "5/6" in lines[2] and "duplicate_rows 1" in lines[2] and "2024-08-04 17:30 .. 2024-08-06 17:40" in lines[2]
    assert "-70.00,-18.00 .. -52.00,-3.00" in lines[2]
    assert lines[3].startswith("raw/roads/r.geojson") and " 2 " in lines[3]
    assert "nan_frp_negative 2" in text and "Latin-1" in text


def test_boundary_from_folder_clips_hotspots(raw):
    from geih.ingest.sources.hotspot_rules import clip_to_region

    boundary, _ = load_folder(raw / "boundary", "boundary")
    hotspots, _ = load_folder(raw / "hotspots", "hotspots")
    kept, dropped = clip_to_region(hotspots, boundary)           # a GeoDataFrame is unioned
    assert dropped == 0 and len(kept) == len(hotspots)
    small, dropped = clip_to_region(hotspots, boundary.geometry.iloc[0].buffer(-10))
    assert dropped > 0 and len(small) + dropped == len(hotspots)


def test_package_exports_are_lazy():
    import subprocess
    import sys

    code = ("import sys, geih.ingest.sources as s; assert 'geopandas' not in sys.modules; "
            "from geih.ingest.sources import read_hotspots, load_folder, validate_path, CleaningReport; "
            "s.read_hotspots; assert 'geopandas' not in sys.modules; print(sorted(s.__all__)[:2])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "CleaningReport" in out.stdout
