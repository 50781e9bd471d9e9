"""Cell-level building blocks both tasks share: the region and its cells, states, distances,
land-cover fractions, PRODES clearing per cell and year, and the daily weather cube.

All functions take canonical frames from `geih.ingest.sources` and a `Grid`, and return plain frames or
arrays aligned with the `cells` frame (one row per cell, sorted by cell_id).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geih.domain.grid import Grid, cell_positions, cells_in_boundary, distance_to_features_km
from geih.errors import DataError
from geih.ingest.sources.hotspot_rules import clip_to_region
from geih.ingest.sources.landcover import pixel_weights

log = logging.getLogger(__name__)

# MapBiomas codes grouped into the land-cover fractions used as features.
LANDCOVER_GROUPS: dict[str, tuple[int, ...]] = {
    "forest": (1, 3, 5, 6, 49),
    "savanna": (4,),
    "grassland": (10, 11, 12, 29, 32, 50),
    "pasture": (15,),
    "agriculture": (9, 14, 18, 19, 20, 35, 36, 39, 40, 41, 46, 47, 48, 62),
    "mosaic": (21,),
    "water": (26, 31, 33),
    "urban": (22, 23, 24, 25, 30, 75),
}
LANDCOVER_FEATURES = [f"lc_{name}" for name in LANDCOVER_GROUPS]


def load_raw(raw_dir: Path, kinds: list[str], grid: Grid, optional: tuple[str, ...] = (),
             cells: pd.DataFrame | None = None) -> dict[str, tuple[Any, list]]:
    """`load_folder(raw_dir / kind, kind, grid)` for each kind, read concurrently (the readers release
    the GIL); errors surface in the order of `kinds`, so the first bad folder listed is the one
    reported. Kinds in `optional` whose folder does not exist are left out of the result. 'weather' is read
    straight into the cells × days cube of `cells` (`load_weather_cube`, required then): (WeatherCube, reports)."""
    from concurrent.futures import ThreadPoolExecutor

    from geih.ingest.sources.folder import load_folder

    if "weather" in kinds and cells is None:
        raise ValueError("load_raw: the weather is read into a cube of the region's cells; pass `cells`")
    kinds = [k for k in kinds if k not in optional or (Path(raw_dir) / k).is_dir()]
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {kind: pool.submit(load_weather_cube, Path(raw_dir) / kind, grid, cells) if kind == "weather"
                   else pool.submit(load_folder, Path(raw_dir) / kind, kind, grid) for kind in kinds}
        return {kind: futures[kind].result() for kind in kinds}


def load_region(raw_dir: Path, grid: Grid) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The region's boundary (raw `boundary/`) and its cells on `grid` (`region_cells`)."""
    from geih.ingest.sources.folder import load_folder

    boundary, _ = load_folder(Path(raw_dir) / "boundary", "boundary", grid)
    return boundary, region_cells(grid, boundary)


# ---------------------------------------------------------------- coverage: no labels from missing files


def months_covered(reports: list) -> pd.DatetimeIndex:
    """Calendar months the files of a source cover: each file covers every month from the month of its
    first record to the month of its last (`CleaningReport.period`); files without records cover none."""
    months: set[pd.Timestamp] = set()
    for report in reports:
        if report.period:
            first, last = (pd.Timestamp(t).to_period("M").to_timestamp() for t in report.period)
            months.update(pd.date_range(first, last, freq="MS"))
    return pd.DatetimeIndex(sorted(months))


def runs(values) -> list[tuple[int, int]]:
    """Consecutive runs (first, last) of integers: [1, 2, 3, 5] -> [(1, 3), (5, 5)]."""
    out: list[tuple[int, int]] = []
    for v in sorted(int(v) for v in values):
        if out and v == out[-1][1] + 1:
            out[-1] = (out[-1][0], v)
        elif not out or v > out[-1][1]:
            out.append((v, v))
    return out


def missing_runs(values) -> list[tuple[int, int]]:
    """The runs missing between the runs of `values`: [1, 2, 3, 6, 7, 9] -> [(4, 5), (8, 8)]."""
    found = runs(values)
    return [(a[1] + 1, b[0] - 1) for a, b in zip(found, found[1:])]


def _month_index(months: pd.DatetimeIndex) -> list[int]:
    return [m.year * 12 + m.month - 1 for m in months]


def _month_text(index: int) -> str:
    return f"{index // 12}-{index % 12 + 1:02d}"


def _runs_text(found: list[tuple[int, int]], text=str) -> list[str]:
    return [text(a) if a == b else f"{text(a)}..{text(b)}" for a, b in found]


def month_runs(months: pd.DatetimeIndex) -> list[str]:
    """The runs of consecutive months as text: ['2019-01..2019-06', '2019-09..2024-12']."""
    return _runs_text(runs(_month_index(months)), _month_text)


def year_runs(years) -> list[str]:
    """The runs of consecutive years as text: ['2020..2021', '2023']."""
    return _runs_text(runs(years))


def require_months_without_gap(months: pd.DatetimeIndex, what: str, folder: Path, hint: str) -> None:
    """DataError naming the months missing between covered ones (they would silently become label 0):
    "`what` 2019-07..2019-08 (covered by both ...). ... `hint`"."""
    _require_no_gap(_month_index(months), _month_text, what, folder, hint)


def require_years_without_gap(years, what: str, folder: Path, hint: str) -> None:
    """DataError naming the years missing between covered ones (they would silently become label 0)."""
    _require_no_gap(years, str, what, folder, hint)


def _require_no_gap(values, text, what: str, folder: Path, hint: str) -> None:
    gaps = missing_runs(values)
    if gaps:
        raise DataError(f"{what} {', '.join(_runs_text(gaps, text))} (covered by both the weather and these files: "
                        f"{', '.join(_runs_text(runs(values), text))}). Those periods would be labelled as if "
                        f"nothing happened; {hint}", file=str(folder))


def region_cells(grid: Grid, boundary: pd.DataFrame) -> pd.DataFrame:
    """The grid cells inside the union of the boundary polygons."""
    region = boundary.geometry.union_all()
    cells = cells_in_boundary(grid, region)
    if cells.empty:
        raise DataError("no grid cell centre falls inside the boundary polygons", file="boundary/")
    return cells


def assign_states(cells: pd.DataFrame, states: pd.DataFrame) -> pd.Series:
    """The state (UF) containing each cell centre; 'NA' where none does."""
    import shapely

    out = np.full(len(cells), "NA", dtype=object)
    for state, geom in zip(states["state"], states.geometry):
        inside = shapely.contains_xy(geom, cells["lon"].to_numpy(), cells["lat"].to_numpy())
        out[inside & (out == "NA")] = state
    return pd.Series(out, index=cells.index, name="state")


@dataclass(frozen=True)
class SpatialJoins:
    """The point-in-polygon joins of prepare: cells to states, and points (hotspots) to the region.
    In this process by default (IN_PROCESS); `geih.compute.spatial.dask_joins` runs the same joins
    partitioned on a Dask cluster with dask-geopandas, with the same results."""

    assign_states: Callable[[pd.DataFrame, pd.DataFrame], pd.Series]
    clip_to_region: Callable[[pd.DataFrame, Any], tuple[pd.DataFrame, int]]


def distances_km(cells: pd.DataFrame, roads: pd.DataFrame, settlements: pd.DataFrame) -> pd.DataFrame:
    """Distance from each cell centre to the nearest road and settlement (km, EPSG:5880)."""
    lat, lon = cells["lat"].to_numpy(), cells["lon"].to_numpy()
    return pd.DataFrame({
        "dist_road_km": distance_to_features_km(lat, lon, roads.geometry),
        "dist_settlement_km": distance_to_features_km(lat, lon, settlements.geometry),
    }, index=cells.index)


def landcover_fractions(grid: Grid, cells: pd.DataFrame, landcover: pd.DataFrame) -> pd.DataFrame:
    """Fractions of each land-cover group per cell and year: cell_id, year, lc_<group>…"""
    pos = cell_positions(grid, cells, landcover["lat"].to_numpy(), landcover["lon"].to_numpy())
    keep = pos >= 0
    years = np.sort(landcover["year"].unique())
    year_idx = np.searchsorted(years, landcover["year"].to_numpy()[keep])
    codes = landcover["class_code"].to_numpy()[keep]
    weights = pixel_weights(landcover)[keep]
    n_cells, n_years = len(cells), len(years)
    flat = pos[keep] * n_years + year_idx
    total = np.bincount(flat, weights=weights, minlength=n_cells * n_years)
    frame = pd.DataFrame({
        "cell_id": np.repeat(cells["cell_id"].to_numpy(), n_years),
        "year": np.tile(years, n_cells).astype(np.int64),
    })
    with np.errstate(invalid="ignore", divide="ignore"):
        for name, group_codes in LANDCOVER_GROUPS.items():
            group = np.isin(codes, group_codes)
            hits = np.bincount(flat[group], weights=weights[group], minlength=n_cells * n_years)
            frame[f"lc_{name}"] = np.where(total > 0, hits / total, np.nan)
    return frame


def clearing_by_cell_year(grid: Grid, cells: pd.DataFrame, prodes: pd.DataFrame) -> pd.DataFrame:
    """PRODES cleared area (km²) per cell and PRODES year, each polygon assigned by its centroid:
    columns cell_id, year, cleared_km2 (only cell-years with clearing)."""
    if prodes.empty:
        return pd.DataFrame({"cell_id": pd.Series(dtype=np.int64), "year": pd.Series(dtype=np.int64),
                             "cleared_km2": pd.Series(dtype=float)})
    centroids = prodes.geometry.representative_point()
    pos = cell_positions(grid, cells, centroids.y.to_numpy(), centroids.x.to_numpy())
    keep = pos >= 0
    frame = pd.DataFrame({
        "cell_id": cells["cell_id"].to_numpy()[pos[keep]],
        "year": prodes["year"].to_numpy()[keep].astype(np.int64),
        "cleared_km2": prodes["area_km2"].to_numpy()[keep].astype(float),
    })
    return frame.groupby(["cell_id", "year"], as_index=False)["cleared_km2"].sum()


IN_PROCESS = SpatialJoins(assign_states=assign_states, clip_to_region=clip_to_region)


@dataclass(frozen=True)
class WeatherCube:
    """Daily weather as arrays shaped (n_cells, n_days), aligned with `cells` and `dates`."""

    dates: pd.DatetimeIndex
    precip_mm: np.ndarray
    tmax_c: np.ndarray
    rhmin_pct: np.ndarray
    wind_ms: np.ndarray
    elevation_m: np.ndarray  # per cell

    def of_cells(self, rows: slice) -> WeatherCube:
        """The cube of the cells `rows` (views, no copy)."""
        return WeatherCube(dates=self.dates, precip_mm=self.precip_mm[rows], tmax_c=self.tmax_c[rows],
                           rhmin_pct=self.rhmin_pct[rows], wind_ms=self.wind_ms[rows],
                           elevation_m=self.elevation_m[rows])


CELL_BLOCK = 4096  # cells whose daily intermediates (cells × days arrays) are computed at once


def by_cell_blocks(compute: Callable[[slice], dict[str, np.ndarray]], n_cells: int, block: int | None = None
                   ) -> dict[str, np.ndarray]:
    """`compute(rows)` for consecutive blocks of at most `block` cells, each result concatenated along the cells
    (axis 0): the same arrays as one call over all cells when `compute` treats each cell on its own, with its
    daily intermediates `block` (default CELL_BLOCK) cells at a time."""
    block = block or CELL_BLOCK
    parts = [compute(slice(start, min(start + block, n_cells))) for start in range(0, max(n_cells, 1), block)]
    if len(parts) == 1:
        return parts[0]
    return {key: np.concatenate([part[key] for part in parts], axis=0) for key in parts[0]}


WEATHER_VARIABLES = ("precip_mm", "tmax_c", "rhmin_pct", "wind_ms")


def weather_cube(grid: Grid, cells: pd.DataFrame, weather: pd.DataFrame) -> WeatherCube:
    """Average the daily weather rows (stations or cell centres) of one frame into a cells × days cube.

    Cells without a station get NaN. Dates span the first to the last day in the table.
    """
    sums = CubeSums.spanning(len(cells), *date_span(pd.to_datetime(weather["date"]).to_numpy()))
    sums.add(grid, cells, weather)
    return sums.cube()


def load_weather_cube(folder: Path, grid: Grid, cells: pd.DataFrame, piece_rows: int | None = None
                      ) -> tuple[WeatherCube, list]:
    """The cells × days weather cube of every file of a raw `weather/` folder, read one piece at a time
    (`geih.ingest.sources.tables.weather_pieces`): the rows are never in memory whole, only the cube's running
    sums are (what `weather_cube` gives for the same rows, concatenated). Two passes: the dates of every file
    (the cube's span), then the values. Returns the cube and one CleaningReport per file."""
    from tqdm import tqdm

    from geih.ingest.sources.cleaning import CleaningReport
    from geih.ingest.sources.folder import folder_files
    from geih.ingest.sources.tables import WEATHER_PIECE_ROWS, weather_pieces

    files = folder_files(Path(folder), "weather")
    piece_rows = piece_rows or WEATHER_PIECE_ROWS
    firsts, lasts = [], []
    for path in files:
        scratch = CleaningReport(file=str(path), format="weather")
        for piece in weather_pieces(path, scratch, piece_rows, dates_only=True):
            if len(piece):
                firsts.append(piece["date"].min())
                lasts.append(piece["date"].max())
    if not firsts:
        raise DataError("no weather row has a date", file=str(folder))
    sums = CubeSums.spanning(len(cells), min(firsts), max(lasts))
    reports = []
    with tqdm(desc="weather cube", unit="row", unit_scale=True, disable=not sys.stderr.isatty()) as bar:
        for path in files:
            report = CleaningReport(file=str(path), format="weather")
            for piece in weather_pieces(path, report, piece_rows):
                sums.add(grid, cells, piece)
                bar.update(len(piece))
            reports.append(report)
    return sums.cube(), reports


def date_span(dates: np.ndarray) -> tuple[np.datetime64, np.datetime64]:
    """The first and last date of `dates` (NaT ignored); DataError when there is none."""
    dates = dates[~np.isnat(dates)]
    if not len(dates):
        raise DataError("no weather row has a date", file="weather/")
    return dates.min(), dates.max()


MAX_ROWS_PER_CELL_DAY = np.iinfo(np.uint16).max


@dataclass
class CubeSums:
    """Running sums and counts of the daily weather values of each cell and day (day-major: the rows of a
    daily table come day after day, so a piece's writes stay close together), and of each cell's elevation;
    filled piece by piece by `add`, turned into the cube of means by `cube`. A cell-day's first value is stored
    as is, so that a cell-day with one row gets exactly its value."""

    dates: pd.DatetimeIndex
    n_cells: int
    sums: dict[str, np.ndarray]
    counts: dict[str, np.ndarray]  # uint16: at most MAX_ROWS_PER_CELL_DAY rows per cell and day
    elevation: dict[str, np.ndarray]  # per cell: min, max, sum, n of the rows' elevations
    marker: np.ndarray | None = None  # scratch for finding repeated cell-days in a piece (made when first needed)
    most_rows: int = 0  # an upper bound of the rows any cell-day has had
    inside: bool = False  # whether any row fell inside the region

    @classmethod
    def spanning(cls, n_cells: int, first: np.datetime64, last: np.datetime64) -> CubeSums:
        """Empty sums for `n_cells` cells and every day from `first` to `last`."""
        first, last = (pd.Timestamp(np.datetime64(day, "D")) for day in (first, last))  # the unit of whole days
        dates = pd.date_range(first, last, freq="D")
        size = n_cells * len(dates)
        return cls(dates=dates, n_cells=n_cells,
                   sums={var: np.zeros(size) for var in WEATHER_VARIABLES},
                   counts={var: np.zeros(size, dtype=np.uint16) for var in WEATHER_VARIABLES},
                   elevation={"min": np.full(n_cells, np.inf), "max": np.full(n_cells, -np.inf),
                              "sum": np.zeros(n_cells), "n": np.zeros(n_cells, dtype=np.int64)})

    def add(self, grid: Grid, cells: pd.DataFrame, weather: pd.DataFrame) -> None:
        """Add the rows of one piece of a daily weather table (rows outside the region are left out)."""
        pos = station_positions(grid, cells, weather["lat"].to_numpy(), weather["lon"].to_numpy())
        keep = pos >= 0
        if not keep.any():
            return
        self.inside = True
        day = (pd.to_datetime(weather["date"]).to_numpy().astype("datetime64[D]")[keep]
               - np.datetime64(self.dates[0].date(), "D")).astype(np.int64)
        if day.min() < 0 or day.max() >= len(self.dates):
            raise ValueError("a weather row's date lies outside the cube's span")  # spanning() was given less
        flat = day * self.n_cells + pos[keep]
        run = contiguous_run(flat)
        repeated = run is None and self._repeats(flat)
        self.most_rows += int(np.bincount(flat - flat.min()).max()) if repeated else 1
        if self.most_rows > MAX_ROWS_PER_CELL_DAY:
            raise DataError(f"more than {MAX_ROWS_PER_CELL_DAY} weather rows for one cell and day", file="weather/")
        for var in WEATHER_VARIABLES:
            values = weather[var].to_numpy(dtype=float)[keep]
            if run is not None:
                add_to_run(self.sums[var][run], self.counts[var][run], values)
            else:
                add_scattered(self.sums[var], self.counts[var], flat, values, repeated)
        if "elevation_m" in weather.columns:
            self._add_elevation(pos[keep], weather["elevation_m"].to_numpy(dtype=float)[keep])

    def _repeats(self, flat: np.ndarray) -> bool:
        """Whether a cell-day occurs more than once in `flat` (one scatter and one gather of the marker)."""
        if len(flat) > np.iinfo(np.int32).max:
            raise ValueError(f"a piece of {len(flat)} weather rows: give CubeSums.add at most 2**31 - 1 at once")
        if self.marker is None:
            self.marker = np.zeros(self.n_cells * len(self.dates), dtype=np.int32)
        order = np.arange(len(flat), dtype=np.int32)
        self.marker[flat] = order
        return not np.array_equal(self.marker[flat], order)

    def _add_elevation(self, pos: np.ndarray, elevation: np.ndarray) -> None:
        ok = ~np.isnan(elevation)
        at, elevation = pos[ok], elevation[ok]
        np.minimum.at(self.elevation["min"], at, elevation)
        np.maximum.at(self.elevation["max"], at, elevation)
        self.elevation["sum"] += np.bincount(at, weights=elevation, minlength=self.n_cells)
        self.elevation["n"] += np.bincount(at, minlength=self.n_cells)

    def cube(self) -> WeatherCube:
        """The cube: each cell-day's mean (NaN without a row); each cell's elevation (the value its rows give,
        their mean when they differ, 0 without one). The sums are used up."""
        if not self.inside:
            raise DataError("no weather row falls inside the region", file="weather/")
        self.marker = None
        arrays = {}
        for var in WEATHER_VARIABLES:
            sums, counts = self.sums.pop(var), self.counts.pop(var)
            np.divide(sums, counts, out=sums, where=counts > 1)
            sums[counts == 0] = np.nan
            del counts
            arrays[var] = sums.reshape(len(self.dates), self.n_cells).T.copy()
            del sums
        e = self.elevation
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = e["sum"] / np.maximum(e["n"], 1)
            elevation = np.where(e["n"] == 0, 0.0, np.where(e["min"] == e["max"], e["min"], mean))
        missing = np.isnan(arrays["precip_mm"]).all(axis=1).mean()
        if missing > 0:
            log.warning("%.1f%% of cells have no weather station; their weather features are NaN", 100 * missing)
        return WeatherCube(dates=self.dates, elevation_m=elevation, **arrays)


def contiguous_run(flat: np.ndarray) -> slice | None:
    """The slice `flat` covers when it is one run of consecutive positions in order (a day-major piece of every
    cell), else None."""
    run = slice(int(flat[0]), int(flat[-1]) + 1)
    return run if run.stop - run.start == len(flat) and bool((np.diff(flat) == 1).all()) else None


def add_to_run(sums: np.ndarray, counts: np.ndarray, values: np.ndarray) -> None:
    """Add `values` (NaN: no value) to the running `sums` and `counts` of one run of cell-days, in place; a first
    value is stored as is."""
    ok = ~np.isnan(values)
    if ok.all() and not counts.any():  # the usual case: a first value for every cell-day of the run
        sums[...] = values
        counts[...] = 1
    else:
        np.copyto(sums, np.where(counts == 0, values, sums + values), where=ok)
        counts += ok


def add_scattered(sums: np.ndarray, counts: np.ndarray, flat: np.ndarray, values: np.ndarray, repeated: bool) -> None:
    """Add `values` (NaN: no value) at positions `flat` of the running `sums` and `counts`, in place; `repeated`:
    a position occurs more than once (unbuffered additions then)."""
    ok = ~np.isnan(values)
    at, values = (flat, values) if ok.all() else (flat[ok], values[ok])
    if repeated:
        np.add.at(sums, at, values)
        np.add.at(counts, at, 1)
    else:
        sums[at] = np.where(counts[at] == 0, values, sums[at] + values)
        counts[at] += 1


def station_positions(grid: Grid, cells: pd.DataFrame, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """`cell_positions` of station rows; when the rows repeat one block of stations day after day
    (the usual layout of a daily table), only the first block is located."""
    repeats = np.flatnonzero((lat[1:] == lat[0]) & (lon[1:] == lon[0]))
    period = int(repeats[0]) + 1 if len(repeats) else len(lat)
    if period < len(lat) and len(lat) % period == 0:
        block_lat, block_lon = lat[:period], lon[:period]
        if (np.array_equal(lat.reshape(-1, period), np.broadcast_to(block_lat, (len(lat) // period, period)))
                and np.array_equal(lon.reshape(-1, period), np.broadcast_to(block_lon, (len(lon) // period, period)))):
            return np.tile(cell_positions(grid, cells, block_lat, block_lon), len(lat) // period)
    return cell_positions(grid, cells, lat, lon)


def days_since_rain(precip: np.ndarray, threshold_mm: float = 1.0) -> np.ndarray:
    """Consecutive days without rain ≥ `threshold_mm` up to each day (counting from the series start)."""
    n_days = precip.shape[1]
    day = np.arange(n_days)
    rained = np.nan_to_num(precip, nan=0.0) >= threshold_mm
    last = np.maximum.accumulate(np.where(rained, day, -1), axis=1)
    return (day - last).astype(float)


def prodes_year_of(month: pd.DatetimeIndex) -> np.ndarray:
    """The PRODES year (1 Aug – 31 Jul) each timestamp falls in."""
    return np.asarray(month.year + (month.month >= 8), dtype=np.int64)


def last_complete_prodes_year(month: pd.DatetimeIndex) -> np.ndarray:
    """The latest PRODES year that ended before each month starts."""
    return prodes_year_of(month) - 1


def clearing_lookup(cells: pd.DataFrame, clearing: pd.DataFrame, cell_id: np.ndarray,
                    year: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cleared km² of each (cell, PRODES year) and the cell's total cleared up to that year."""
    if clearing.empty:
        return np.zeros(len(cell_id)), np.zeros(len(cell_id))
    y0 = int(min(clearing["year"].min(), year.min()))
    n_years = int(max(clearing["year"].max(), year.max())) - y0 + 1
    index = pd.Index(cells["cell_id"])
    table = np.zeros((len(cells), n_years))
    np.add.at(table, (index.get_indexer(clearing["cell_id"].to_numpy()), clearing["year"].to_numpy() - y0),
              clearing["cleared_km2"].to_numpy())
    cum = table.cumsum(axis=1)
    rows, cols = index.get_indexer(cell_id), np.asarray(year) - y0
    return table[rows, cols], cum[rows, cols]


# ---------------------------------------------------------------- (cells, months) arrays over time


def shift_months(arr: np.ndarray, k: int) -> np.ndarray:
    """Each cell's value k months earlier (NaN for the first k months)."""
    out = np.full_like(arr, np.nan, dtype=float)
    out[:, k:] = arr[:, :-k]
    return out


def rolling_sum(arr: np.ndarray, window: int) -> np.ndarray:
    """Sum over the last `window` months including the current one (partial at the start)."""
    csum = np.nancumsum(arr, axis=1)
    out = csum.copy()
    out[:, window:] = csum[:, window:] - csum[:, :-window]
    return out


def expanding_mean(arr: np.ndarray) -> np.ndarray:
    """Mean of each cell's values from the first month up to and including the current one."""
    return np.nancumsum(arr, axis=1) / np.cumsum(~np.isnan(arr), axis=1).clip(min=1)


def same_calendar_month_mean(arr: np.ndarray) -> np.ndarray:
    """For each month t, the mean of the cell's values in the calendar month of t + 1 in earlier
    years (months t − 11, t − 23, …): what history says about the label month. NaN without history."""
    total = np.zeros_like(arr, dtype=float)
    count = np.zeros_like(arr, dtype=float)
    for j in range(arr.shape[1]):
        src = j - 11
        if src < 0:
            continue
        value = arr[:, src]
        ok = ~np.isnan(value)
        total[:, j] = np.where(ok, value, 0.0) + (total[:, j - 12] if j >= 12 else 0.0)
        count[:, j] = ok + (count[:, j - 12] if j >= 12 else 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)
