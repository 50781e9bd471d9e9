"""MapBiomas land cover: the yearly GeoTIFF as MapBiomas distributes it, or a pixel table.

- GeoTIFF (``.tif``/``.tiff``): one band per year, each band named ``classification_YYYY`` (a
  single-band file without a name takes the year from a 4-digit year in its file name, noted), in
  EPSG:4326 (EPSG:4674, SIRGAS 2000, is read as such and noted; any other CRS or a rotated raster is
  refused). Read with rasterio, windowed: one row of analysis-grid cells at a time, at most
  `WINDOW_VALUES` values per read, so memory stays bounded whatever the raster's size. Each pixel
  belongs to the grid cell containing its centre — the same rule as the pixel table — and the classes
  are counted per cell and year.
- Pixel table (Parquet or CSV): ``lat, lon, classification_YYYY, ...`` (one row per pixel centre, one
  column per year, e.g. exported from Google Earth Engine).

`read_landcover` returns the long frame ``lat, lon`` (float64), ``year`` (int32), ``class_code`` (int16),
``pixels`` (int64): one row per pixel-year for a table (``pixels`` = 1); one row per grid cell, year and
class for a raster (``lat``/``lon`` the cell centre, ``pixels`` the count), so that class fractions per
cell are the same either way. The raster's grid is the analysis grid passed in (prepare passes its
own); without one (``geih data validate``) it is summarised on a `SUMMARY_RESOLUTION_DEG` grid.

Rules: codes must be in the MapBiomas legend of collections 8-10 (`MAPBIOMAS_CLASSES`); an unknown or
non-integer code raises DataError naming the column (the band) and the first offending row (for a
raster: the pixel row and column). ``0``, the raster's nodata value and empty values are MapBiomas "no
data" (outside the mapped area): those pixel-years are dropped and counted (``dropped_nodata``);
raster pixels whose centre lies outside the analysis grid's bounding box are not read and are counted
as ``dropped_outside_grid``. ``rows_read``/``rows_kept`` count pixel-years. Pixels with missing or
out-of-range lat/lon raise DataError. Other table columns (e.g. ``system:index``, ``.geo`` from Earth
Engine) are ignored with a note.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from geih.domain.grid import LAT_MAX, LON_MIN, Grid, cell_positions
from geih.errors import DataError
from geih.ingest.sources import tabular as tab
from geih.ingest.sources.cleaning import CleaningReport

log = logging.getLogger(__name__)

# MapBiomas Brazil legend, collections 8-10 (code 13 is in the published legend of collections 8-9).
MAPBIOMAS_CLASSES: dict[int, str] = {
    1: "Forest", 3: "Forest Formation", 4: "Savanna Formation", 5: "Mangrove", 6: "Floodable Forest",
    49: "Wooded Sandbank Vegetation", 10: "Herbaceous and Shrubby Vegetation", 11: "Wetland",
    12: "Grassland", 32: "Hypersaline Tidal Flat", 29: "Rocky Outcrop",
    50: "Herbaceous Sandbank Vegetation", 13: "Other non Forest Formations", 14: "Farming",
    15: "Pasture", 18: "Agriculture", 19: "Temporary Crop", 39: "Soybean", 20: "Sugar cane",
    40: "Rice", 62: "Cotton", 41: "Other Temporary Crops", 36: "Perennial Crop", 46: "Coffee",
    47: "Citrus", 35: "Palm Oil", 48: "Other Perennial Crops", 9: "Forest Plantation",
    21: "Mosaic of Uses", 22: "Non vegetated area", 23: "Beach, Dune and Sand Spot",
    24: "Urban Area", 30: "Mining", 75: "Photovoltaic Power Plant", 25: "Other non Vegetated Areas",
    26: "Water", 33: "River, Lake and Ocean", 31: "Aquaculture", 27: "Not Observed",
}
NODATA = 0
RASTER_SUFFIXES = (".tif", ".tiff")
SUMMARY_RESOLUTION_DEG = 0.5  # the grid a raster is summarised on when no analysis grid is given
WINDOW_VALUES = 1 << 24  # values (pixels × bands) read at once from a raster
_YEAR_COLUMN = re.compile(r"^classification_(\d{4})$")
_YEAR_IN_NAME = re.compile(r"(?<!\d)(19[89]\d|20\d\d)(?!\d)")
_GEOGRAPHIC_EPSG = {4326: "WGS 84", 4674: "SIRGAS 2000"}


def year_columns(columns) -> dict[str, int]:
    """``classification_YYYY`` columns (lower-case) -> year, in year order."""
    found = {c: int(m.group(1)) for c in columns if (m := _YEAR_COLUMN.match(c))}
    return dict(sorted(found.items(), key=lambda kv: kv[1]))


def pixel_weights(landcover: pd.DataFrame) -> np.ndarray:
    """Pixels each land-cover row stands for (its ``pixels`` column; 1 per row without one)."""
    if "pixels" in landcover.columns:
        return landcover["pixels"].to_numpy(dtype=float)
    return np.ones(len(landcover))


def dominant_class(grid: Grid, cells: pd.DataFrame, landcover: pd.DataFrame, year: int) -> np.ndarray:
    """The most frequent MapBiomas code per cell in `year` (pixels counted; ties: the smallest code;
    0 where the cell has no pixel)."""
    sub = landcover[landcover["year"] == year]
    pos = cell_positions(grid, cells, sub["lat"].to_numpy(), sub["lon"].to_numpy())
    keep = pos >= 0
    codes, code_idx = np.unique(sub["class_code"].to_numpy()[keep], return_inverse=True)
    table = np.bincount(pos[keep] * len(codes) + code_idx, weights=pixel_weights(sub)[keep],
                        minlength=len(cells) * len(codes)).reshape(len(cells), len(codes))
    out = np.zeros(len(cells), dtype=np.int64)
    present = table.sum(axis=1) > 0
    out[present] = codes[table[present].argmax(axis=1)]
    return out


def read_landcover(path: str | Path, grid: Grid | None = None) -> tuple[pd.DataFrame, CleaningReport]:
    """Read one MapBiomas GeoTIFF (counted per cell of `grid`) or pixel table into the long frame
    lat, lon, year, class_code, pixels (see the module docstring)."""
    path = Path(path)
    if path.suffix.lower() in RASTER_SUFFIXES:
        return read_landcover_raster(path, grid or Grid(SUMMARY_RESOLUTION_DEG))
    report = CleaningReport(file=str(path), format="mapbiomas_pixels")
    if path.suffix.lower() == ".parquet":
        names = tab.parquet_columns(path)
        years = year_columns(names)
        _check_columns(names, years, report)
        frame, rows = tab.read_parquet(path, report, ["lat", "lon", *years])
    else:
        frame, rows = tab.read_csv(path, report, as_strings=False)
        years = year_columns(frame.columns)
        _check_columns(list(frame.columns), years, report)
    n_pixels = len(frame)
    lat = tab.to_float(frame["lat"], "lat", report.file, rows)
    lon = tab.to_float(frame["lon"], "lon", report.file, rows)
    bad = ~(np.abs(lat) <= 90) | ~(np.abs(lon) <= 180)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        column = "lat" if not abs(lat[pos]) <= 90 else "lon"
        raise DataError(f"missing or out-of-range coordinate ({lat[pos]}, {lon[pos]})",
                        file=report.file, row=rows(pos), column=column)
    codes = np.column_stack([_codes(frame[c], c, report.file, rows) for c in years]) \
        if n_pixels else np.empty((0, len(years)))
    # long layout, pixel-major: pixel 0 all years, pixel 1 all years, ...
    flat = codes.reshape(-1)
    keep = ~np.isnan(flat) & (flat != NODATA)
    report.rows_read = flat.size
    report.add("dropped_nodata", int((~keep).sum()))
    out = pd.DataFrame({
        "lat": np.repeat(lat, len(years))[keep],
        "lon": np.repeat(lon, len(years))[keep],
        "year": np.tile(np.array(list(years.values()), dtype=np.int32), n_pixels)[keep],
        "class_code": flat[keep].astype(np.int16),
        "pixels": np.ones(int(keep.sum()), dtype=np.int64),
    })
    report.rows_kept = len(out)
    log.debug("%s: %d pixels x %d years", report.file, n_pixels, len(years))
    return out, report


def read_landcover_raster(path: Path, grid: Grid) -> tuple[pd.DataFrame, CleaningReport]:
    """Class counts per cell of `grid` and year of a MapBiomas GeoTIFF, read one cell row at a time."""
    import rasterio
    from rasterio.errors import RasterioError

    report = CleaningReport(file=str(path), format="mapbiomas_geotiff")
    if path.stat().st_size == 0:
        raise DataError("file is empty (0 bytes)", file=report.file)
    try:
        with rasterio.open(path) as src:
            years = _band_years(src, path, report)
            cell_row, cell_col = _pixel_cells(src, grid, report)
            frames = list(_count_cell_rows(src, years, cell_row, cell_col, grid, report))
    except RasterioError as exc:
        raise DataError(f"cannot read GeoTIFF: {exc}", file=report.file) from None
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        {"lat": [], "lon": [], "year": np.array([], np.int32), "class_code": np.array([], np.int16),
         "pixels": np.array([], np.int64)})
    report.rows_kept = int(out["pixels"].sum())
    log.debug("%s: %d bands, %d cell-year-class rows", report.file, len(years), len(out))
    return out, report


def _band_years(src, path: Path, report: CleaningReport) -> list[int]:
    """The year of each band: its name ``classification_YYYY``, or for a single unnamed band a year in
    the file name (noted); DataError naming the band otherwise or when a year repeats."""
    years = []
    for i, name in enumerate(src.descriptions, start=1):
        match = _YEAR_COLUMN.match((name or "").strip().lower())
        if match:
            years.append(int(match.group(1)))
            continue
        in_name = _YEAR_IN_NAME.findall(path.stem)
        if src.count == 1 and not name and len(in_name) == 1:
            years.append(int(in_name[0]))
            report.note(f"band 1 has no name: year {in_name[0]} taken from the file name")
            continue
        raise DataError(f"band {i} is named {name!r}: expected classification_YYYY (one band per year)",
                        file=report.file, column=f"band {i}")
    repeated = sorted({y for y in years if years.count(y) > 1})
    if repeated:
        raise DataError(f"several bands for year {repeated[0]}", file=report.file,
                        column=f"classification_{repeated[0]}")
    return years


def _pixel_cells(src, grid: Grid, report: CleaningReport) -> tuple[np.ndarray, np.ndarray]:
    """Grid row of each pixel row and grid column of each pixel column (by pixel centre; -1 outside
    the grid's bounding box), after checking the raster is north-up in geographic degrees."""
    epsg = src.crs.to_epsg() if src.crs is not None else None
    if src.crs is None:
        report.note("no CRS in file: assumed EPSG:4326")
    elif epsg not in _GEOGRAPHIC_EPSG:
        raise DataError(f"CRS {src.crs.to_string()} is not supported: reproject the raster to EPSG:4326 "
                        "(MapBiomas publishes it so)", file=report.file)
    elif epsg != 4326:
        report.note(f"CRS EPSG:{epsg} ({_GEOGRAPHIC_EPSG[epsg]}) read as EPSG:4326 (they differ by < 1 m)")
    t = src.transform
    if t.b != 0 or t.d != 0 or t.a <= 0 or t.e >= 0:
        raise DataError(f"raster is rotated or not north-up (transform {tuple(t)[:6]}): warp it first",
                        file=report.file)
    lon = t.c + (np.arange(src.width) + 0.5) * t.a
    lat = t.f + (np.arange(src.height) + 0.5) * t.e
    if src.crs is None and not (-180 <= lon.min() and lon.max() <= 180 and -90 <= lat.min() and lat.max() <= 90):
        raise DataError("file has no CRS and its coordinates are not degrees", file=report.file)
    col = np.floor((lon - LON_MIN) / grid.resolution).astype(np.int64)
    row = np.floor((LAT_MAX - lat) / grid.resolution).astype(np.int64)
    col[(col < 0) | (col >= grid.ncols)] = -1
    row[(row < 0) | (row >= grid.nrows)] = -1
    return row, col


def _count_cell_rows(src, years: list[int], cell_row: np.ndarray, cell_col: np.ndarray, grid: Grid,
                     report: CleaningReport):
    """Per grid row: a frame of class counts per cell, year and class (nonzero only); reports the
    pixel-years read, outside the grid and without data."""
    from rasterio.windows import Window

    legend = np.fromiter(MAPBIOMAS_CLASSES, dtype=np.int64)
    codes_sorted = np.sort(legend)
    nodata = {NODATA} | ({int(src.nodata)} if src.nodata is not None and float(src.nodata).is_integer() else set())
    n_bands = len(years)
    report.rows_read = src.width * src.height * n_bands
    inside_cols = np.flatnonzero(cell_col >= 0)
    inside_rows = cell_row >= 0
    outside = (src.width * src.height - int(inside_rows.sum()) * inside_cols.size) * n_bands
    report.add("dropped_outside_grid", outside)
    if not inside_cols.size:
        return
    c0, c1 = int(inside_cols[0]), int(inside_cols[-1]) + 1
    for r in np.unique(cell_row[inside_rows]):
        pixel_rows = np.flatnonzero(cell_row == r)
        r0, height = int(pixel_rows[0]), int(pixel_rows.size)
        step = max(1, WINDOW_VALUES // max(1, height * n_bands))
        counts = np.zeros((grid.ncols, n_bands, codes_sorted.size), dtype=np.int64)
        for start in range(c0, c1, step):
            width = min(step, c1 - start)
            data = src.read(window=Window(start, r0, width, height))  # (bands, rows, cols)
            cols = cell_col[start:start + width]
            for b in range(n_bands):
                values = data[b].astype(np.int64, copy=False)
                empty = np.isin(values, list(nodata))
                known = np.isin(values, legend) | empty
                if not known.all():
                    i, j = (int(k[0]) for k in np.nonzero(~known))
                    raise DataError(f"unknown MapBiomas class code {int(values[i, j])} at pixel row {r0 + i + 1}, "
                                    f"column {start + j + 1} (collections 8-10 legend)", file=report.file,
                                    row=r0 + i + 1, column=f"classification_{years[b]}")
                report.add("dropped_nodata", int(empty.sum()))
                use = ~empty & (cols >= 0)[None, :]
                index = np.searchsorted(codes_sorted, values[use])
                per_cell = np.broadcast_to(cols, values.shape)[use]
                counts[:, b, :] += np.bincount(per_cell * codes_sorted.size + index,
                                               minlength=grid.ncols * codes_sorted.size
                                               ).reshape(grid.ncols, codes_sorted.size)
        col, band, code = np.nonzero(counts)
        if col.size:
            lat, lon = grid.center(int(r) * grid.ncols + col)
            yield pd.DataFrame({"lat": lat, "lon": lon, "year": np.asarray(years, dtype=np.int32)[band],
                                "class_code": codes_sorted[code].astype(np.int16),
                                "pixels": counts[col, band, code]})


def _check_columns(names: list[str], years: dict[str, int], report: CleaningReport) -> None:
    tab.require_columns(names, ["lat", "lon"], report.file)
    if not years:
        raise DataError("no classification_YYYY column (one column per year, e.g. classification_2020)",
                        file=report.file, column="classification_YYYY")
    extra = sorted(set(names) - {"lat", "lon", *years})
    if extra:
        report.note(f"ignored columns: {', '.join(extra)}")


def _codes(values: pd.Series, column: str, file: str, rows: tab.RowNumbers) -> np.ndarray:
    """Class codes as float (NaN = empty); DataError for a code outside the legend."""
    num = tab.to_float(values, column, file, rows)
    known = np.isin(num, np.fromiter(MAPBIOMAS_CLASSES, dtype=float)) | (num == NODATA) | np.isnan(num)
    if not known.all():
        pos = int(np.flatnonzero(~known)[0])
        raise DataError(f"unknown MapBiomas class code {values.iloc[pos]!r} (collections 8-10 legend)",
                        file=file, row=rows(pos), column=column)
    return num
