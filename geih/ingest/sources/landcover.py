"""MapBiomas land cover as a pixel table (Parquet or CSV): ``lat, lon, classification_YYYY, ...``.

MapBiomas distributes yearly GeoTIFF rasters (bands ``classification_YYYY``). No raster reader is
shipped: export the rasters to this pixel table first (one row per pixel centre, one column per year,
e.g. from Google Earth Engine or ``rasterio`` sampling) and put it in ``landcover/``.

`read_landcover` returns the long frame ``lat, lon`` (float64), ``year`` (int32), ``class_code`` (int16).
Rules: codes must be in the MapBiomas legend of collections 8-10 (`MAPBIOMAS_CLASSES`); an unknown or
non-integer code raises DataError naming the column and the first offending row. ``0`` and empty
values are MapBiomas "no data" (outside the mapped area): those pixel-years are dropped and counted
(``dropped_nodata``, counted in pixel-years; ``rows_read``/``rows_kept`` count pixel-years too). Pixels
with missing or out-of-range lat/lon raise DataError. Other columns (e.g. ``system:index``,
``.geo`` from Earth Engine) are ignored with a note.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

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
_YEAR_COLUMN = re.compile(r"^classification_(\d{4})$")


def year_columns(columns) -> dict[str, int]:
    """``classification_YYYY`` columns (lower-case) -> year, in year order."""
    found = {c: int(m.group(1)) for c in columns if (m := _YEAR_COLUMN.match(c))}
    return dict(sorted(found.items(), key=lambda kv: kv[1]))


def read_landcover(path: str | Path) -> tuple[pd.DataFrame, CleaningReport]:
    """Read one MapBiomas pixel table into the long frame lat, lon, year, class_code."""
    path = Path(path)
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
    })
    report.rows_kept = len(out)
    log.debug("%s: %d pixels x %d years", report.file, n_pixels, len(years))
    return out, report


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
