"""The Python callable adapter: a model that is a function — e.g. an NVIDIA Modulus network wrapped
in a few lines of Python — behind the same interface as the ONNX adapter.

The callable takes the prepared float32 tensor (1, inputs, n_lat, n_lon) of normalised values and
returns (1, outputs, n_lat, n_lon); the adapter does the checking, stacking, normalisation and
regridding. Give it in-process (`CallableAdapter(fn, metadata)`) or as a Python file defining a function
(`CallableAdapter.from_file(path, metadata, attr="predict")`, how the registry's type 'python' loads).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import numpy as np

from geih.external.adapter import ContractError, ModelFileMissingError, ModelMetadata
from geih.external.gridded import GriddedAdapter

ModelFunction = Callable[[np.ndarray], np.ndarray]


class CallableAdapter(GriddedAdapter):
    """An external model given as a Python function (or a loader returning one)."""

    def __init__(self, loader: Callable[[], ModelFunction], metadata: ModelMetadata,
                 regrid: str = "bilinear") -> None:
        super().__init__(metadata, regrid)
        self._loader = loader
        self._function: ModelFunction | None = None

    @classmethod
    def of(cls, function: ModelFunction, metadata: ModelMetadata, regrid: str = "bilinear") -> CallableAdapter:
        """An adapter around a function already in memory."""
        return cls(lambda: function, metadata, regrid)

    @classmethod
    def from_file(cls, path: str | Path, metadata: ModelMetadata, attr: str = "predict",
                  regrid: str = "bilinear") -> CallableAdapter:
        """An adapter around the function `attr` of the Python file `path` (imported at load_model())."""
        return cls(lambda: _function_from_file(Path(path), attr), metadata, regrid)

    def _open(self) -> None:
        function = self._loader()
        if not callable(function):
            raise ContractError(f"model {self.metadata.name!r}: the loader returned {type(function).__name__}, "
                                "not a callable")
        self._function = function

    def _run(self, tensor: np.ndarray) -> np.ndarray:
        return np.asarray(self._function(tensor))


def _function_from_file(path: Path, attr: str) -> ModelFunction:
    if not path.is_file():
        raise ModelFileMissingError("Python model file missing", file=str(path))
    spec = importlib.util.spec_from_file_location(f"geih_external_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    function = getattr(module, attr, None)
    if not callable(function):
        raise ContractError(f"defines no function {attr!r}", file=str(path))
    return function
