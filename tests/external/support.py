"""Tiny external models for the tests: a global 10° grid (19 × 36, FourCastNet's layout at coarse
resolution) and a regional 0.5° grid whose points are the project's cell centres."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from geih.external.adapter import GridSpec, ModelMetadata, Variable

GLOBAL_10_DEG = GridSpec(n_lat=19, n_lon=36, lat_first=90.0, lat_step=-10.0, lon_first=0.0, lon_step=10.0)


def tiny_metadata(grid: GridSpec = GLOBAL_10_DEG, **changes) -> ModelMetadata:
    """Two normalised inputs, two outputs, a 6-hour step out to 10 days."""
    fields = dict(
        name="tiny", type="onnx", description="y = scale · x + shift in normalised units",
        inputs=(Variable("t2m", "K", mean=280.0, std=10.0), Variable("tcwv", "kg m-2", mean=20.0, std=5.0)),
        outputs=(Variable("t2m", "K", mean=281.0, std=8.0), Variable("tcwv", "kg m-2", mean=21.0, std=4.0)),
        grid=grid, temporal_resolution_hours=6.0, forecast_horizon_hours=240.0)
    fields.update(changes)
    return ModelMetadata(**fields)


def write_affine_onnx(path: Path, scale: list[float], shift: list[float], grid: GridSpec = GLOBAL_10_DEG,
                      input_name: str = "input", output_name: str = "output") -> Path:
    """An ONNX graph (opset 17) computing output = input · scale + shift per channel, on `grid`."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    channels = len(scale)
    shape = [1, channels, *grid.shape]
    nodes = [helper.make_node("Mul", [input_name, "scale"], ["scaled"]),
             helper.make_node("Add", ["scaled", "shift"], [output_name])]
    inits = [numpy_helper.from_array(np.array(scale, dtype=np.float32).reshape(1, channels, 1, 1), "scale"),
             numpy_helper.from_array(np.array(shift, dtype=np.float32).reshape(1, channels, 1, 1), "shift")]
    graph = helper.make_graph(nodes, "affine", [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, shape)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path
