"""The ONNX adapter (onnxruntime, CPU): any ONNX graph whose I/O contract its `ModelMetadata` declares —
one input tensor (1, inputs, n_lat, n_lon) and one output tensor (1, outputs, n_lat, n_lon) of
normalised float32 values on the metadata's grid.

`FOURCASTNET_METADATA` declares FourCastNet's published contract (Pathak et al. 2022): 20 ERA5 variables
on the 0.25° global grid (721 × 1440, 90°N → 90°S, 0°E eastwards), a 6-hour step rolled out to 10 days.
Its normalisation statistics ship with the weights (global_means.npy / global_stds.npy): fill each
variable's `mean`/`std` from them when registering an exported model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from geih.external.adapter import ContractError, GridSpec, ModelFileMissingError, ModelMetadata, Variable
from geih.external.gridded import GriddedAdapter

GLOBAL_QUARTER_DEGREE = GridSpec(n_lat=721, n_lon=1440, lat_first=90.0, lat_step=-0.25,
                                 lon_first=0.0, lon_step=0.25)
_FCN_UNITS = {"u": "m s-1", "v": "m s-1", "t": "K", "z": "m2 s-2", "r": "%"}
_FCN_VARIABLES = (
    Variable("u10", "m s-1", "10 m eastward wind"), Variable("v10", "m s-1", "10 m northward wind"),
    Variable("t2m", "K", "2 m temperature"), Variable("sp", "Pa", "surface pressure"),
    Variable("msl", "Pa", "mean sea-level pressure"), Variable("t850", "K", "temperature at 850 hPa"),
    *(Variable(f"{q}{level}", _FCN_UNITS[q], f"{q} at {level} hPa")
      for q, level in (("u", 1000), ("v", 1000), ("z", 1000), ("u", 850), ("v", 850), ("z", 850),
                       ("u", 500), ("v", 500), ("z", 500), ("t", 500), ("z", 50), ("r", 500), ("r", 850))),
    Variable("tcwv", "kg m-2", "total column water vapour"),
)
FOURCASTNET_METADATA = ModelMetadata(
    name="fourcastnet", type="onnx",
    description="FourCastNet (AFNO) global data-driven weather forecast, ERA5-trained; one step = 6 h",
    inputs=_FCN_VARIABLES, outputs=_FCN_VARIABLES, grid=GLOBAL_QUARTER_DEGREE,
    temporal_resolution_hours=6.0, forecast_horizon_hours=240.0,
    extra={"reference": "Pathak et al. 2022, arXiv:2202.11214", "rollout": "autoregressive"},
)


class OnnxAdapter(GriddedAdapter):
    """An ONNX model run with onnxruntime on the CPU."""

    def __init__(self, path: str | Path, metadata: ModelMetadata, regrid: str = "bilinear",
                 threads: int = 1) -> None:
        super().__init__(metadata, regrid)
        self.path = Path(path)
        self.threads = threads
        self._session = None

    def _open(self) -> None:
        import onnxruntime as ort

        if not self.path.is_file():
            raise ModelFileMissingError("ONNX model file missing", file=str(self.path))
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        try:
            session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types for unreadable graphs
            raise ContractError(f"not a loadable ONNX model: {exc}", file=str(self.path)) from exc
        meta = self.metadata
        self._check_tensor(session.get_inputs(), meta.input_tensor, len(meta.inputs), "input")
        self._check_tensor(session.get_outputs(), meta.output_tensor, len(meta.outputs), "output")
        self._session = session

    def _check_tensor(self, args: list, name: str, n_variables: int, what: str) -> None:
        """The graph has a tensor `name` whose fixed dimensions match (1, n_variables, n_lat, n_lon)."""
        found = {a.name: a for a in args}
        if name not in found:
            raise ContractError(f"the graph has no {what} tensor {name!r} (it has {sorted(found)})",
                                file=str(self.path))
        shape = found[name].shape
        expected = (1, n_variables, *self.metadata.grid.shape)
        if len(shape) != 4 or any(isinstance(d, int) and d != e for d, e in zip(shape, expected)):
            raise ContractError(f"{what} tensor {name!r} has shape {shape}; the metadata declares {expected}",
                                file=str(self.path))

    def _run(self, tensor: np.ndarray) -> np.ndarray:
        return self._session.run([self.metadata.output_tensor], {self.metadata.input_tensor: tensor})[0]
