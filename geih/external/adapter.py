"""The external-model interface: what every adapter (ONNX, a Python callable) offers and promises.

An adapter is built from a model artefact and its `ModelMetadata` — the I/O contract: input and output
variables with units and normalisation statistics, the model's regular lat/lon grid, its time step and
forecast horizon. `load_model()` opens the artefact, `await predict(input)` runs one forecast step,
`get_metadata()` returns the contract. Inputs come as the project's cells (`CellInput`) or already on the
model grid (`GridInput`); anything that breaks the contract is a `ContractError` naming what is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from geih.errors import DataError, GeihError


class ExternalModelError(GeihError):
    """An external model cannot be used as asked."""


class ModelNotLoadedError(ExternalModelError):
    """`predict` was called before `load_model()`."""


class ModelFileMissingError(DataError):
    """The model artefact named by the registry or the caller does not exist."""


class ContractError(DataError):
    """Input (or a model) that violates the declared I/O contract: variables, units or shape."""


@dataclass(frozen=True)
class Variable:
    """One input or output variable: its name, units and, when the model was trained on normalised
    data, the mean and standard deviation that normalise it ((x − mean) / std)."""

    name: str
    units: str
    description: str = ""
    mean: float | None = None
    std: float | None = None

    def __post_init__(self) -> None:
        if not self.name or not self.units:
            raise ValueError(f"variable {self.name!r}: a name and units are required")
        if (self.mean is None) != (self.std is None):
            raise ValueError(f"variable {self.name!r}: give both mean and std, or neither")
        if self.std is not None and not self.std > 0:
            raise ValueError(f"variable {self.name!r}: std must be > 0, got {self.std}")

    @property
    def normalised(self) -> bool:
        return self.mean is not None


@dataclass(frozen=True)
class GridSpec:
    """A regular lat/lon grid: `n_lat` latitudes from `lat_first` by `lat_step` (negative: north to
    south) and `n_lon` longitudes from `lon_first` by `lon_step` (degrees east; a grid spanning 360°
    wraps around)."""

    n_lat: int
    n_lon: int
    lat_first: float
    lat_step: float
    lon_first: float
    lon_step: float

    def __post_init__(self) -> None:
        if self.n_lat < 1 or self.n_lon < 1 or self.lat_step == 0 or self.lon_step <= 0:
            raise ValueError(f"grid {self}: sizes must be ≥ 1, lat_step ≠ 0 and lon_step > 0")
        lat_last = self.lat_first + (self.n_lat - 1) * self.lat_step
        if not (-90 <= min(self.lat_first, lat_last) and max(self.lat_first, lat_last) <= 90):
            raise ValueError(f"grid {self}: latitudes leave [-90, 90]")

    @property
    def shape(self) -> tuple[int, int]:
        return self.n_lat, self.n_lon

    @property
    def lats(self) -> np.ndarray:
        return self.lat_first + self.lat_step * np.arange(self.n_lat)

    @property
    def lons(self) -> np.ndarray:
        return self.lon_first + self.lon_step * np.arange(self.n_lon)

    @property
    def wraps(self) -> bool:
        """True when the longitudes cover the whole circle (the last column neighbours the first)."""
        return bool(np.isclose(self.n_lon * self.lon_step, 360.0))


@dataclass(frozen=True)
class ModelMetadata:
    """An external model's description and I/O contract.

    Tensors are (batch, variable, lat, lon) on `grid`, variables stacked in the order listed.
    `input_tensor`/`output_tensor` name the graph's input and output (ONNX; ignored by other types).
    """

    name: str
    type: str
    description: str
    inputs: tuple[Variable, ...]
    outputs: tuple[Variable, ...]
    grid: GridSpec
    temporal_resolution_hours: float  # one model step
    forecast_horizon_hours: float  # how far the model is meant to be rolled out
    input_tensor: str = "input"
    output_tensor: str = "output"
    extra: Mapping[str, Any] = field(default_factory=dict)  # anything else worth recording (source, licence)

    def __post_init__(self) -> None:
        for what, variables in (("inputs", self.inputs), ("outputs", self.outputs)):
            names = [v.name for v in variables]
            if not names or len(set(names)) != len(names):
                raise ValueError(f"model {self.name!r}: {what} must be a non-empty list of distinct variables")
        if self.temporal_resolution_hours <= 0 or self.forecast_horizon_hours < self.temporal_resolution_hours:
            raise ValueError(f"model {self.name!r}: need 0 < temporal_resolution_hours ≤ forecast_horizon_hours")

    @property
    def spatial_resolution_deg(self) -> tuple[float, float]:
        """(latitude, longitude) spacing of the grid in degrees."""
        return abs(self.grid.lat_step), self.grid.lon_step

    @property
    def forecast_steps(self) -> int:
        """Model steps in the forecast horizon."""
        return int(round(self.forecast_horizon_hours / self.temporal_resolution_hours))

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["extra"] = dict(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "metadata") -> ModelMetadata:
        """Metadata from its JSON form; a missing or malformed field → ContractError naming it."""
        try:
            fields = dict(data)
            fields["inputs"] = tuple(Variable(**v) for v in fields["inputs"])
            fields["outputs"] = tuple(Variable(**v) for v in fields["outputs"])
            fields["grid"] = GridSpec(**fields["grid"])
            return cls(**fields)
        except KeyError as exc:
            raise ContractError(f"{where}: missing field {exc.args[0]!r}") from exc
        except (TypeError, ValueError) as exc:
            raise ContractError(f"{where}: invalid model metadata: {exc}") from exc


@dataclass(frozen=True)
class CellInput:
    """Input as the project's cells: one row per cell with `lat`, `lon` (cell centres, degrees) and
    one column per input variable, in the `units` given (variable → units)."""

    cells: pd.DataFrame
    units: Mapping[str, str]
    resolution_deg: float  # the side of a project cell: a model grid point inside a cell takes its value


@dataclass(frozen=True)
class GridInput:
    """Input already on the model grid: `values` shaped (variables, n_lat, n_lon) in the order of
    `variables`, with their `units`."""

    values: np.ndarray
    variables: tuple[str, ...]
    units: Mapping[str, str]


ModelInput = CellInput | GridInput


@runtime_checkable
class ExternalModel(Protocol):
    """What the hub needs from any external model."""

    def load_model(self) -> None:
        """Open the artefact; ModelFileMissingError when it is missing, ContractError when the artefact
        does not match the metadata."""

    async def predict(self, input: ModelInput) -> pd.DataFrame | np.ndarray:
        """One model step: a CellInput gives a frame of the cells with one column per output variable;
        a GridInput gives an array (outputs, n_lat, n_lon). ModelNotLoadedError before load_model()."""

    def get_metadata(self) -> ModelMetadata:
        """The model's description and I/O contract."""


def check_units(metadata: ModelMetadata, units: Mapping[str, str]) -> None:
    """ContractError naming each input variable whose units are missing or differ from the contract."""
    wrong = [f"{v.name} in {units.get(v.name)!r}, expected {v.units!r}"
             for v in metadata.inputs if units.get(v.name) != v.units]
    if wrong:
        raise ContractError(f"model {metadata.name!r}: units violate its contract: {'; '.join(wrong)}")
