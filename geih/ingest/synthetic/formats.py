"""Writers for the published file formats, byte-for-byte deterministic and atomic (temp file + rename)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

BDQ_COLUMNS = ("id", "lat", "lon", "data_hora_gmt", "satelite", "municipio", "estado", "pais", "municipio_id",
               "estado_id", "pais_id", "numero_dias_sem_chuva", "precipitacao", "risco_fogo", "bioma", "frp")
# INPE's yearly all-satellites file (focos_br_todos-sats_YYYY.csv)
ANNUAL_COLUMNS = ("latitude", "longitude", "data_pas", "satelite", "pais", "estado", "municipio", "bioma",
                  "numero_dias_sem_chuva", "precipitacao", "risco_fogo", "id_area_industrial", "frp")
NO_FRP_SATELLITES = ("GOES-16",)  # rows of the yearly file with an empty FRP (as INPE publishes 2019)
INVALID = -999


def atomic_path(path: Path) -> Path:
    """Temporary sibling path used while `path` is being written."""
    return path.with_name(f".{path.name}.tmp")


def _commit(tmp: Path, path: Path) -> None:
    os.replace(tmp, path)


def write_text(path: Path, text: str) -> None:
    """Write UTF-8 text with LF line endings, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = atomic_path(path)
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    _commit(tmp, path)


def write_json(path: Path, obj: Any) -> None:
    """JSON with sorted keys and a trailing newline."""
    write_text(path, json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=False) + "\n")


PARQUET_ROW_GROUP = 1_000_000


def _arrow_table(frame: pd.DataFrame, types: dict[str, pa.DataType]) -> pa.Table:
    """`frame`'s columns as an Arrow table (no pandas index or metadata), `types` where given."""
    return pa.Table.from_arrays([pa.array(frame[name].to_numpy(), type=types.get(name)) for name in frame.columns],
                                names=list(frame.columns))


def write_parquet(path: Path, frame: pd.DataFrame, types: dict[str, pa.DataType] | None = None) -> None:
    """Parquet via pyarrow: no pandas index or metadata, fixed row groups, zstd."""
    write_parquet_chunks(path, [frame], types)


def write_parquet_chunks(path: Path, chunks: Iterable[pd.DataFrame],
                         types: dict[str, pa.DataType] | None = None) -> None:
    """One Parquet file from consecutive frames of the same columns, one frame in memory at a time.

    The bytes are those of `write_parquet` on the concatenated frame when every chunk but the last holds a
    multiple of PARQUET_ROW_GROUP rows (row groups then fall where they would); other sizes give smaller row
    groups at the chunk ends, the same rows. An empty iterable is a ValueError (no schema to write)."""
    types = types or {}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = atomic_path(path)
    writer = None
    try:
        for frame in chunks:
            table = _arrow_table(frame, types)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema, compression="zstd", write_statistics=True)
            writer.write_table(table, row_group_size=PARQUET_ROW_GROUP)
    except BaseException:
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)
        raise
    if writer is None:
        raise ValueError(f"no chunks to write to {path}")
    writer.close()
    _commit(tmp, path)


def _json_value(v: Any) -> Any:
    """Plain-Python value for JSON (numpy scalars, NaN -> null)."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def write_geojson(path: Path, properties: pd.DataFrame, geometries: Iterable, name: str,
                  crs_epsg: int | None = None, minified: bool = False) -> None:
    """A GeoJSON FeatureCollection (lon/lat, 6 decimals), one feature per line.

    `crs_epsg` declares a CRS the old way (a ``crs`` member, as IBGE's mesh API does for EPSG:4674);
    `minified` writes everything on one line without a final newline (IBGE's ``.json`` output).
    """
    geoms = np.asarray(list(geometries), dtype=object)
    geo_json = shapely.to_geojson(shapely.set_precision(geoms, 1e-6, mode="pointwise"))
    records = properties.to_dict(orient="records")
    sep = (",", ":") if minified else (", ", ": ")
    features = []
    for props, g in zip(records, geo_json):
        props_json = json.dumps({k: _json_value(v) for k, v in props.items()}, ensure_ascii=False, separators=sep)
        if minified:
            g = json.dumps(json.loads(g), separators=sep)
        features.append(f'{{"type"{sep[1]}"Feature"{sep[0]}"properties"{sep[1]}{props_json}{sep[0]}'
                        f'"geometry"{sep[1]}{g}}}')
    crs = "" if crs_epsg is None else (f'"crs"{sep[1]}{{"type"{sep[1]}"name"{sep[0]}"properties"{sep[1]}'
                                       f'{{"name"{sep[1]}"urn:ogc:def:crs:EPSG::{crs_epsg}"}}}}{sep[0]}')
    head = f'{{"type"{sep[1]}"FeatureCollection"{sep[0]}"name"{sep[1]}{json.dumps(name)}{sep[0]}{crs}"features"{sep[1]}['
    if minified:
        write_text(path, head + ",".join(features) + "]}")
    else:
        write_text(path, head + "\n" + ",\n".join(features) + "\n]}\n")


def uuid4_strings(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` random version-4 UUID strings drawn from `rng` (deterministic), vectorised."""
    b = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    b[:, 6] = (b[:, 6] & 0x0F) | 0x40
    b[:, 8] = (b[:, 8] & 0x3F) | 0x80
    hexd = np.frombuffer(b.tobytes().hex().encode("ascii"), dtype="S1").reshape(n, 32)
    dash = np.full((n, 1), b"-", dtype="S1")
    parts = [hexd[:, 0:8], dash, hexd[:, 8:12], dash, hexd[:, 12:16], dash, hexd[:, 16:20], dash, hexd[:, 20:32]]
    joined = np.ascontiguousarray(np.concatenate(parts, axis=1)).view("S36").ravel()
    return joined.astype(str)


def printf(template: str, values: np.ndarray) -> np.ndarray:
    """`template % v` of every value, as an object array of str: the text `np.char.mod(template, values)` gives, in
    about a third of its time (Python formats the plain floats and ints of `tolist`, as np.char.mod formats numpy's;
    no copy into a fixed-width str array)."""
    return _object_array([template % v for v in np.asarray(values).tolist()])


def _object_array(texts: list[str]) -> np.ndarray:
    """`texts` as a 1-D object array (np.array would copy them into a fixed-width str array)."""
    out = np.empty(len(texts), dtype=object)
    out[:] = texts
    return out


def _fmt_risk(x: np.ndarray) -> np.ndarray:
    """0.8 / 0.85 / 1.0 style: two decimals, a trailing zero dropped; -999 kept as is."""
    two = printf("%.2f", np.asarray(x, dtype=float))
    return np.where(x == INVALID, str(INVALID), _object_array([t[:-1] if t.endswith("0") else t for t in two]))


def bdqueimadas_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """Format hotspot records as the INPE BDQueimadas current-layout string columns."""
    if len(rows) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in BDQ_COLUMNS})
    t = rows["time"].to_numpy().astype("datetime64[s]")
    out = pd.DataFrame(dtype=object, data={
        "id": rows["id"].to_numpy(),
        "lat": printf("%11.6f", rows["lat"].to_numpy()),
        "lon": printf("%11.6f", rows["lon"].to_numpy()),
        "data_hora_gmt": np.char.replace(np.datetime_as_string(t, unit="s"), "T", " "),
        "satelite": rows["satellite"].to_numpy(),
        "municipio": rows["municipio"].to_numpy(),
        "estado": rows["estado"].to_numpy(),
        "pais": "Brasil",
        "municipio_id": rows["municipio_id"].to_numpy().astype(str),
        "estado_id": rows["estado_id"].to_numpy().astype(str),
        "pais_id": "33",
        "numero_dias_sem_chuva": rows["dsr"].to_numpy().astype(np.int64).astype(str),
        "precipitacao": np.where(rows["precip"].to_numpy() == INVALID, str(INVALID),
                                 printf("%.1f", rows["precip"].to_numpy())),
        "risco_fogo": _fmt_risk(rows["risk"].to_numpy()),
        "bioma": rows["bioma"].to_numpy(),
        "frp": printf("%.1f", rows["frp"].to_numpy()),
    })
    return out[list(BDQ_COLUMNS)]


def annual_all_satellites_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """Format hotspot records as INPE's yearly all-satellites file: numbers padded by spaces on both
    sides, no id, ``id_area_industrial`` 0, FRP empty for `NO_FRP_SATELLITES`."""
    if len(rows) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ANNUAL_COLUMNS})
    t = rows["time"].to_numpy().astype("datetime64[s]")
    precip, frp = rows["precip"].to_numpy(), rows["frp"].to_numpy()
    out = pd.DataFrame(dtype=object, data={
        "latitude": printf("%12.6f ", rows["lat"].to_numpy()),
        "longitude": printf("%12.6f ", rows["lon"].to_numpy()),
        "data_pas": np.char.replace(np.datetime_as_string(t, unit="s"), "T", " "),
        "satelite": rows["satellite"].to_numpy(),
        "pais": "Brasil",
        "estado": rows["estado"].to_numpy(),
        "municipio": rows["municipio"].to_numpy(),
        "bioma": rows["bioma"].to_numpy(),
        "numero_dias_sem_chuva": printf(" %d ", rows["dsr"].to_numpy().astype(np.int64)),
        "precipitacao": np.where(precip == INVALID, f" {INVALID} ", printf(" %.1f ", precip)),
        "risco_fogo": np.char.add(np.char.add(" ", _fmt_risk(rows["risk"].to_numpy()).astype(str)), " "),
        "id_area_industrial": " 0 ",
        "frp": np.where(np.isin(rows["satellite"].to_numpy(), NO_FRP_SATELLITES), "", printf(" %.1f ", frp)),
    })
    return out[list(ANNUAL_COLUMNS)]


def write_delimited(path: Path, formatted: pd.DataFrame, columns: Iterable[str], sep: str = ",",
                    final_newline: bool = True) -> None:
    """Write string columns as delimited text (no quoting needed, UTF-8, LF)."""
    columns = list(columns)
    lines = [sep.join(columns)]
    if len(formatted):
        cols = [_text(formatted[c].to_numpy()) for c in columns]
        lines.extend(map(sep.join, zip(*cols)))
    write_text(path, "\n".join(lines) + ("\n" if final_newline else ""))


def _text(values: np.ndarray) -> list[str]:
    """The values as text, as `values.astype(str)` writes them (objects through `str`, which keeps a str as is)."""
    return list(map(str, values.tolist())) if values.dtype == object else values.astype(str).tolist()


def write_bdqueimadas(path: Path, formatted: pd.DataFrame) -> None:
    """Write one BDQueimadas CSV of the current layout (comma, no quoting needed, UTF-8, LF)."""
    write_delimited(path, formatted, BDQ_COLUMNS)


def decimal_comma(values: np.ndarray) -> np.ndarray:
    """Numbers as Brazilian spreadsheets write them: full precision, a comma for the decimal point."""
    return np.array([repr(float(v)).replace(".", ",") for v in values], dtype=object)


def write_geotiff(path: Path, bands: dict[str, np.ndarray], west: float, north: float, pixel_deg: float) -> None:
    """A north-up EPSG:4326 GeoTIFF of uint8 class codes, one named band per entry of `bands`
    (0 = no data), deflate-compressed, written atomically; GDAL adds no timestamp."""
    import rasterio
    from rasterio.transform import Affine

    arrays = list(bands.values())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = atomic_path(path)
    profile = {"driver": "GTiff", "width": arrays[0].shape[1], "height": arrays[0].shape[0],
               "count": len(arrays), "dtype": "uint8", "nodata": 0, "crs": "EPSG:4326",
               "transform": Affine(pixel_deg, 0.0, west, 0.0, -pixel_deg, north), "compress": "deflate",
               "tiled": True, "blockxsize": 256, "blockysize": 256}
    with rasterio.open(tmp, "w", **profile) as dst:
        for i, (name, array) in enumerate(bands.items(), start=1):
            dst.write(array.astype(np.uint8), i)
            dst.set_band_description(i, name)
    _commit(tmp, path)
