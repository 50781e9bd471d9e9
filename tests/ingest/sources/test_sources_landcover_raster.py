"""MapBiomas land cover as a GeoTIFF: read in windows per grid cell, the same class fractions as the
pixel table of the same pixels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from rasterio.transform import Affine

from geih.domain.grid import LAT_MAX, LON_MIN, Grid, cells_in_boundary
from geih.errors import DataError
from geih.ingest.sources import landcover
from geih.ingest.sources.folder import load_folder
from geih.ingest.sources.landcover import dominant_class, read_landcover
from geih.ingest.sources.validate import validate_path
from geih.tasks.common import landcover_fractions

PIXEL = 0.1  # degrees; 0.5° cells hold 5 × 5 pixels
CODES = np.array([3, 4, 12, 15, 39, 21, 24, 33, 9, 1])  # legend codes, synthetic and not


def _codes(shape: tuple[int, int], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    codes = rng.choice(CODES, size=shape).astype(np.uint8)
    codes[rng.random(shape) < 0.1] = 0  # no data
    return codes


def write_tif(path: Path, bands: dict[str, np.ndarray], west: float = LON_MIN + 10.0, north: float = LAT_MAX - 5.0,
              pixel: float = PIXEL, crs: str | None = "EPSG:4326", nodata: float | None = 0) -> Path:
    first = next(iter(bands.values()))
    with rasterio.open(path, "w", driver="GTiff", width=first.shape[1], height=first.shape[0], count=len(bands),
                       dtype="uint8", crs=crs, nodata=nodata,
                       transform=Affine(pixel, 0.0, west, 0.0, -pixel, north)) as dst:
        for i, (name, array) in enumerate(bands.items(), start=1):
            dst.write(array, i)
            if name:
                dst.set_band_description(i, name)
    return path


def pixel_table(path: Path) -> pd.DataFrame:
    """The same raster as MapBiomas pixel table (lat, lon, classification_YYYY) of every pixel."""
    with rasterio.open(path) as src:
        data, names, t = src.read(), src.descriptions, src.transform
    rows, cols = np.indices(data.shape[1:]).reshape(2, -1)
    table = {"lat": t.f + (rows + 0.5) * t.e, "lon": t.c + (cols + 0.5) * t.a}
    table.update({name: data[i, rows, cols].astype(np.int32) for i, name in enumerate(names)})
    return pd.DataFrame(table)


@pytest.fixture()
def tif(tmp_path: Path) -> Path:
    # 23 × 37 pixels from a corner that is not a cell corner: cells are cut through and partly covered
    shape = (23, 37)
    return write_tif(tmp_path / "lulc.tif", {f"classification_{y}": _codes(shape, y) for y in (2019, 2020, 2021)},
                     west=LON_MIN + 10.03, north=LAT_MAX - 5.07)


@pytest.mark.parametrize("resolution", [0.5, 0.25, 1.0])
def test_raster_and_pixel_table_give_the_same_fractions(tif, tmp_path, resolution):
    grid = Grid(resolution)
    raster, report = read_landcover(tif, grid)
    pixel_table(tif).to_parquet(tmp_path / "pixels.parquet")
    table, table_report = read_landcover(tmp_path / "pixels.parquet")
    assert report.format == "mapbiomas_geotiff" and list(raster.columns) == list(table.columns)
    assert report.rows_read == table_report.rows_read == 23 * 37 * 3
    assert report.rows_kept == table_report.rows_kept == raster["pixels"].sum() == len(table)
    assert report.counts["dropped_nodata"] == table_report.counts["dropped_nodata"]
    cells = cells_in_boundary(grid, shapely.box(LON_MIN, LAT_MAX - 10, LON_MIN + 15, LAT_MAX))
    by_raster = landcover_fractions(grid, cells, raster)
    by_table = landcover_fractions(grid, cells, table)
    pd.testing.assert_frame_equal(by_raster, by_table, check_exact=True)
    assert by_raster.drop(columns=["cell_id", "year"]).notna().any(axis=None)
    for year in (2019, 2021):
        np.testing.assert_array_equal(dominant_class(grid, cells, raster, year), dominant_class(grid, cells, table, year))


def test_windows_bound_the_reads_and_change_nothing(tif, monkeypatch):
    grid = Grid(0.5)
    whole, _ = read_landcover(tif, grid)
    reads = []
    original = rasterio.io.DatasetReader.read

    def counting_read(self, *args, **kwargs):
        out = original(self, *args, **kwargs)
        reads.append(out.size)
        return out

    monkeypatch.setattr(landcover, "WINDOW_VALUES", 200)
    monkeypatch.setattr(rasterio.io.DatasetReader, "read", counting_read)
    small, _ = read_landcover(tif, grid)
    pd.testing.assert_frame_equal(small.sort_values(["lat", "lon", "year", "class_code"]).reset_index(drop=True),
                                  whole.sort_values(["lat", "lon", "year", "class_code"]).reset_index(drop=True))
    assert len(reads) > 10 and max(reads) <= 6 * 3 * 11  # one cell row (≤ 6 pixel rows) × ≤ 11 columns × 3 bands


def test_pixels_outside_the_grid_box_are_counted_not_read(tmp_path):
    codes = np.full((4, 6), 3, dtype=np.uint8)
    path = write_tif(tmp_path / "edge.tif", {"classification_2020": codes}, west=LON_MIN - 0.3, north=LAT_MAX + 0.2)
    df, report = read_landcover(path, Grid(0.5))
    assert report.counts == {"dropped_outside_grid": 4 * 6 - 2 * 3}   # 2 rows and 3 columns are inside
    assert df["pixels"].sum() == 6 and report.rows_read - report.rows_kept == 18


def test_single_band_year_from_the_file_name_and_sirgas(tmp_path):
    path = write_tif(tmp_path / "brasil_coverage_2022.tif", {"": _codes((5, 5), 1)}, crs="EPSG:4674")
    df, report = read_landcover(path)
    assert set(df["year"]) == {2022}
    assert any("year 2022 taken from the file name" in n for n in report.notes)
    assert any("EPSG:4674" in n for n in report.notes)


@pytest.mark.parametrize("kwargs, message, column", [
    ({"bands": {"b1": np.full((3, 3), 3, np.uint8)}}, "band 1 is named 'b1'", "band 1"),
    ({"bands": {"classification_2020": np.full((3, 3), 3, np.uint8),
                "classification_2020 ": np.full((3, 3), 3, np.uint8)}}, "several bands for year 2020",
     "classification_2020"),
    ({"bands": {"classification_2020": np.full((3, 3), 3, np.uint8)}, "crs": "EPSG:5880"}, "reproject", None),
])
def test_refused_rasters_are_named(tmp_path, kwargs, message, column):
    bands = kwargs.pop("bands")
    path = write_tif(tmp_path / "lc.tif", bands, **kwargs)
    with pytest.raises(DataError, match=message) as err:
        read_landcover(path, Grid(0.5))
    assert err.value.file == str(path) and err.value.column == column


def test_unknown_class_code_names_pixel_row_and_band(tmp_path):
    codes = np.full((6, 6), 3, dtype=np.uint8)
    codes[4, 2] = 2  # not in the legend
    path = write_tif(tmp_path / "lc.tif", {"classification_2019": np.full((6, 6), 3, np.uint8),
                                           "classification_2020": codes})
    with pytest.raises(DataError, match="unknown MapBiomas class code 2 at pixel row 5, column 3") as err:
        read_landcover(path, Grid(0.5))
    assert (err.value.row, err.value.column) == (5, "classification_2020")
    (tmp_path / "empty.tif").write_bytes(b"")
    with pytest.raises(DataError, match="empty"):
        read_landcover(tmp_path / "empty.tif")
    (tmp_path / "junk.tif").write_bytes(b"not a tiff at all")
    with pytest.raises(DataError, match="cannot read GeoTIFF") as err:
        read_landcover(tmp_path / "junk.tif")
    assert err.value.file.endswith("junk.tif")


def test_folder_and_validate_take_geotiffs(tif, tmp_path):
    folder = tmp_path / "landcover"
    folder.mkdir()
    tif.rename(folder / "lulc.tif")
    (folder / "lulc.tif.aux.xml").write_text("<PAMDataset/>")  # a GDAL side-car: skipped
    df, reports = load_folder(folder, "landcover", Grid(0.5))
    assert reports[0].format == "mapbiomas_geotiff" and set(df["year"]) == {2019, 2020, 2021}
    summary, = validate_path(folder / "lulc.tif")
    assert summary.kind == "landcover" and (summary.date_min, summary.date_max) == ("2019", "2021")
