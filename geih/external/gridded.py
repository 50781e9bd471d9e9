"""The part every gridded adapter shares: checking input against the contract, stacking and
normalising variables onto the model grid, and mapping the model's output back to the cells.

A concrete adapter implements `_open()` (load the artefact) and `_run(tensor)` (one model step on a
float32 tensor (1, inputs, n_lat, n_lon) of normalised values → (1, outputs, n_lat, n_lon)).
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import pandas as pd

from geih.external.adapter import (
    CellInput,
    ContractError,
    GridInput,
    ModelInput,
    ModelMetadata,
    ModelNotLoadedError,
    check_units,
)
from geih.external.regrid import REGRID_METHODS, cells_to_grid, grid_to_cells


class GriddedAdapter(ABC):
    """An external model on a regular lat/lon grid; `regrid` is how outputs return to the cells
    ('bilinear' or 'nearest', see geih.external.regrid)."""

    def __init__(self, metadata: ModelMetadata, regrid: str = "bilinear") -> None:
        if regrid not in REGRID_METHODS:
            raise ContractError(f"regrid method {regrid!r} is not one of {list(REGRID_METHODS)}")
        self.metadata = metadata
        self.regrid = regrid
        self._loaded = False

    def get_metadata(self) -> ModelMetadata:
        return self.metadata

    def load_model(self) -> None:
        self._open()
        self._loaded = True

    @abstractmethod
    def _open(self) -> None:
        """Load the artefact and check it against the metadata."""

    @abstractmethod
    def _run(self, tensor: np.ndarray) -> np.ndarray:
        """One model step on the prepared tensor."""

    async def predict(self, input: ModelInput) -> pd.DataFrame | np.ndarray:
        """One model step; see geih.external.adapter.ExternalModel.predict. The model runs in a worker
        thread so an event loop (the service) stays responsive."""
        if not self._loaded:
            raise ModelNotLoadedError(f"model {self.metadata.name!r}: call load_model() before predict()")
        tensor = self.prepare(input)
        raw = await asyncio.to_thread(self._run, tensor)
        field = self.finish(raw)
        if isinstance(input, GridInput):
            return field
        values = grid_to_cells(self.metadata.grid, field, input.cells["lat"].to_numpy(),
                               input.cells["lon"].to_numpy(), self.regrid)
        out = input.cells.drop(columns=[v.name for v in self.metadata.inputs]).copy()
        for i, variable in enumerate(self.metadata.outputs):
            out[variable.name] = values[i]
        return out

    def prepare(self, input: ModelInput) -> np.ndarray:
        """The model's input tensor (1, inputs, n_lat, n_lon), float32, normalised; ContractError for
        missing variables, wrong units, a wrong grid shape or non-finite values."""
        meta = self.metadata
        names = [v.name for v in meta.inputs]
        if isinstance(input, GridInput):
            field = self._grid_field(input, names)
        elif isinstance(input, CellInput):
            field = self._cell_field(input, names)
        else:
            raise ContractError(f"model {meta.name!r}: input must be a CellInput or a GridInput, "
                                f"got {type(input).__name__}")
        mean = np.array([v.mean if v.normalised else 0.0 for v in meta.inputs])[:, None, None]
        std = np.array([v.std if v.normalised else 1.0 for v in meta.inputs])[:, None, None]
        return ((field - mean) / std)[None].astype(np.float32)

    def finish(self, raw: np.ndarray) -> np.ndarray:
        """The model's output (1, outputs, n_lat, n_lon) denormalised to (outputs, n_lat, n_lon)."""
        meta = self.metadata
        expected = (1, len(meta.outputs), *meta.grid.shape)
        raw = np.asarray(raw)
        if raw.shape != expected:
            raise ContractError(f"model {meta.name!r} returned shape {raw.shape}, its contract says {expected}")
        mean = np.array([v.mean if v.normalised else 0.0 for v in meta.outputs])[:, None, None]
        std = np.array([v.std if v.normalised else 1.0 for v in meta.outputs])[:, None, None]
        return raw[0].astype(float) * std + mean

    def _grid_field(self, input: GridInput, names: list[str]) -> np.ndarray:
        meta = self.metadata
        if list(input.variables) != names:
            raise ContractError(f"model {meta.name!r}: input variables {list(input.variables)}, its contract "
                                f"stacks {names} in this order")
        check_units(meta, input.units)
        expected = (len(names), *meta.grid.shape)
        if input.values.shape != expected:
            raise ContractError(f"model {meta.name!r}: input shape {input.values.shape}, expected {expected} "
                                "(variables, lat, lon)")
        field = np.asarray(input.values, dtype=float)
        _require_finite(field, names, meta.name)
        return field

    def _cell_field(self, input: CellInput, names: list[str]) -> np.ndarray:
        meta = self.metadata
        missing = [c for c in ("lat", "lon", *names) if c not in input.cells.columns]
        if missing:
            raise ContractError(f"model {meta.name!r}: input cells lack column(s) {missing}", column=missing[0])
        check_units(meta, input.units)
        values = input.cells[names].to_numpy(dtype=float).T
        _require_finite(values, names, meta.name)
        fill = np.array([v.mean if v.normalised else float(values[i].mean()) for i, v in enumerate(meta.inputs)])
        return cells_to_grid(meta.grid, input.cells["lat"].to_numpy(), input.cells["lon"].to_numpy(),
                             values, input.resolution_deg, fill)


def _require_finite(values: np.ndarray, names: list[str], model: str) -> None:
    bad = ~np.isfinite(values).reshape(len(names), -1).all(axis=1)
    if bad.any():
        raise ContractError(f"model {model!r}: non-finite values in {[n for n, b in zip(names, bad) if b]}",
                            column=names[int(np.flatnonzero(bad)[0])])


def run_sync(model: Any, input: ModelInput) -> pd.DataFrame | np.ndarray:
    """`await model.predict(input)` from synchronous code (stages, evaluate)."""
    return asyncio.run(model.predict(input))
