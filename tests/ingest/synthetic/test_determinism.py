"""Same config → byte-identical files; another seed → different files."""

from __future__ import annotations

from pathlib import Path

from geih.ingest.synthetic import geography


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_two_runs_write_identical_bytes(world, world_again) -> None:
    a, b = _files(world.root), _files(world_again.root)
    assert set(a) == set(b)
    assert len(a) == 9 + 1 + 24 + 3 + 4  # vectors/tables/raster, yearly + 24 monthly CSVs, truth, maps
    differing = [name for name in a if a[name] != b[name]]
    assert differing == []
    assert not any(name.endswith(".tmp") for name in a)


def test_another_seed_changes_the_world(world, world_factory, small_params, tmp_path: Path) -> None:
    other = world_factory(tmp_path, {**small_params, "seed": 7})
    a, b = _files(world.root), _files(other.root)
    assert a["raw/hotspots/focos_mensal_br_202008.csv"] != b["raw/hotspots/focos_mensal_br_202008.csv"]
    assert a["raw/weather/weather_daily.parquet"] != b["raw/weather/weather_daily.parquet"]
    # the geography is hand-drawn, so the outline does not depend on the seed
    assert a["raw/boundary/legal_amazon.geojson"] == b["raw/boundary/legal_amazon.geojson"]


def test_rerun_into_the_same_folder_replaces_stale_hotspot_files(world_factory, small_params,
                                                                 tmp_path: Path) -> None:
    world_factory(tmp_path, {**small_params, "years": 3, "grid_resolution_deg": 2.0, "hotspot_scale": 0.01})
    world_factory(tmp_path, {**small_params, "years": 2, "grid_resolution_deg": 2.0, "hotspot_scale": 0.01,
                             "start_year": 2018})
    files = sorted(p.name for p in (tmp_path / "raw" / "hotspots").glob("*.csv"))
    assert files[0] == "focos_br_todos-sats_2018.csv" and files[1] == "focos_mensal_br_201901.csv"
    assert len(files) == 13 and files[-1] == "focos_mensal_br_201912.csv"


def test_outline_is_valid_and_covers_the_legal_amazon() -> None:
    b = geography.legal_amazon_boundary()
    assert b.is_valid
    lon_min, lat_min, lon_max, lat_max = b.bounds
    assert -74.5 < lon_min < -73.5 and -44.5 < lon_max <= -44.0
    assert -18.5 < lat_min < -17.5 and 5.0 < lat_max < 5.5
    assert 35 <= len(b.exterior.coords) <= 90


def test_a_world_without_fires_still_writes_every_file(world_factory, small_params, tmp_path: Path) -> None:
    w = world_factory(tmp_path, {**small_params, "grid_resolution_deg": 2.5, "years": 2, "hotspot_scale": 1e-9})
    assert w.summary["hotspot_rows"] == 0
    csvs = sorted((w.raw / "hotspots").glob("*.csv"))
    assert len(csvs) == 1 + 12
    assert all(p.read_text(encoding="utf-8").count("\n") == 1 for p in csvs)  # header only
    assert (w.plots / "hotspot_density.png").exists()
