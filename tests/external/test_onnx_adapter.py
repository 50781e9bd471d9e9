"""The ONNX adapter end to end on a tiny ONNX graph with a FourCastNet-like contract (global regular
grid, stacked normalised variables), from the project's cells and from a model-grid field."""

from __future__ import annotations

import asyncio

import numpy as np
import pandas as pd
import pytest

from geih.external.adapter import (
    CellInput,
    ContractError,
    ExternalModel,
    GridInput,
    ModelFileMissingError,
    ModelNotLoadedError,
)
from geih.external.onnx_adapter import FOURCASTNET_METADATA, OnnxAdapter
from tests.external.support import GLOBAL_10_DEG, tiny_metadata, write_affine_onnx

UNITS = {"t2m": "K", "tcwv": "kg m-2"}


@pytest.fixture
def adapter(tmp_path) -> OnnxAdapter:
    path = write_affine_onnx(tmp_path / "tiny.onnx", scale=[2.0, 0.5], shift=[1.0, -1.0])
    model = OnnxAdapter(path, tiny_metadata())
    model.load_model()
    return model


def expected(x: np.ndarray, i: int) -> np.ndarray:
    """What the affine model returns in physical units for input channel i."""
    meta = tiny_metadata()
    scale, shift = [2.0, 0.5][i], [1.0, -1.0][i]
    z = (x - meta.inputs[i].mean) / meta.inputs[i].std
    return (z * scale + shift) * meta.outputs[i].std + meta.outputs[i].mean


def test_fourcastnet_contract_is_declared():
    meta = FOURCASTNET_METADATA
    assert meta.grid.shape == (721, 1440)
    assert meta.spatial_resolution_deg == (0.25, 0.25)
    assert meta.grid.lats[[0, -1]].tolist() == [90.0, -90.0] and meta.grid.wraps
    assert meta.temporal_resolution_hours == 6 and meta.forecast_horizon_hours == 240 and meta.forecast_steps == 40
    names = [v.name for v in meta.inputs]
    assert len(names) == 20 and {"u10", "v10", "t2m", "sp", "msl", "z500", "t850", "r850", "tcwv"} <= set(names)
    assert dict((v.name, v.units) for v in meta.inputs)["z500"] == "m2 s-2"


def test_adapter_satisfies_the_interface(adapter):
    assert isinstance(adapter, ExternalModel)
    assert adapter.get_metadata().name == "tiny"


def test_grid_input_end_to_end(adapter):
    rng = np.random.default_rng(0)
    field = np.stack([280 + 10 * rng.standard_normal(GLOBAL_10_DEG.shape),
                      20 + 5 * rng.standard_normal(GLOBAL_10_DEG.shape)])
    out = asyncio.run(adapter.predict(GridInput(field, ("t2m", "tcwv"), UNITS)))
    assert out.shape == (2, 19, 36)
    np.testing.assert_allclose(out[0], expected(field[0], 0), rtol=1e-5)
    np.testing.assert_allclose(out[1], expected(field[1], 1), rtol=1e-5)


def test_cell_input_end_to_end_maps_back_to_cells(adapter):
    # cells centred on grid points (one across the dateline, lon −60 = 300°E): exact both ways
    cells = pd.DataFrame({"cell_id": [1, 2, 3], "lat": [-10.0, 0.0, 20.0], "lon": [-60.0, 10.0, 350.0],
                          "t2m": [300.0, 290.0, 270.0], "tcwv": [40.0, 25.0, 10.0]})
    out = asyncio.run(adapter.predict(CellInput(cells, UNITS, resolution_deg=10.0)))
    assert list(out.columns) == ["cell_id", "lat", "lon", "t2m", "tcwv"]
    np.testing.assert_allclose(out["t2m"], expected(cells["t2m"].to_numpy(), 0), rtol=1e-5)
    np.testing.assert_allclose(out["tcwv"], expected(cells["tcwv"].to_numpy(), 1), rtol=1e-5)


def test_grid_points_outside_the_cells_get_the_stored_mean(adapter):
    cells = pd.DataFrame({"lat": [0.0], "lon": [0.0], "t2m": [300.0], "tcwv": [40.0]})
    tensor = adapter.prepare(CellInput(cells, UNITS, resolution_deg=10.0))
    assert tensor.shape == (1, 2, 19, 36) and tensor.dtype == np.float32
    assert tensor[0, 0, 9, 0] == pytest.approx(2.0)  # (300 − 280) / 10 at (0°, 0°)
    assert np.count_nonzero(tensor) == 2  # everywhere else the mean → 0


def test_predict_before_load(tmp_path):
    model = OnnxAdapter(write_affine_onnx(tmp_path / "m.onnx", [1, 1], [0, 0]), tiny_metadata())
    with pytest.raises(ModelNotLoadedError, match="load_model"):
        asyncio.run(model.predict(GridInput(np.zeros((2, 19, 36)), ("t2m", "tcwv"), UNITS)))


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileMissingError, match="nothere.onnx"):
        OnnxAdapter(tmp_path / "nothere.onnx", tiny_metadata()).load_model()


def test_not_an_onnx_file(tmp_path):
    (tmp_path / "junk.onnx").write_bytes(b"not a graph")
    with pytest.raises(ContractError, match="not a loadable ONNX model"):
        OnnxAdapter(tmp_path / "junk.onnx", tiny_metadata()).load_model()


def test_graph_that_does_not_match_the_metadata(tmp_path):
    three = write_affine_onnx(tmp_path / "three.onnx", [1, 1, 1], [0, 0, 0])
    with pytest.raises(ContractError, match=r"input tensor 'input' has shape \[1, 3, 19, 36\]"):
        OnnxAdapter(three, tiny_metadata()).load_model()
    renamed = write_affine_onnx(tmp_path / "renamed.onnx", [1, 1], [0, 0], input_name="x")
    with pytest.raises(ContractError, match="no input tensor 'input'"):
        OnnxAdapter(renamed, tiny_metadata()).load_model()


@pytest.mark.parametrize(("change", "message"), [
    (lambda c, u: (c.drop(columns="tcwv"), u), r"lack column\(s\) \['tcwv'\]"),
    (lambda c, u: (c, {**u, "t2m": "degC"}), "t2m in 'degC', expected 'K'"),
    (lambda c, u: (c, {"t2m": "K"}), "tcwv in None"),
    (lambda c, u: (c.assign(t2m=[np.nan]), u), r"non-finite values in \['t2m'\]"),
])
def test_cell_input_violating_the_contract(adapter, change, message):
    cells = pd.DataFrame({"lat": [0.0], "lon": [0.0], "t2m": [300.0], "tcwv": [40.0]})
    cells, units = change(cells, UNITS)
    with pytest.raises(ContractError, match=message):
        asyncio.run(adapter.predict(CellInput(cells, units, resolution_deg=10.0)))


def test_grid_input_violating_the_contract(adapter):
    with pytest.raises(ContractError, match=r"input shape \(2, 18, 36\), expected \(2, 19, 36\)"):
        asyncio.run(adapter.predict(GridInput(np.zeros((2, 18, 36)), ("t2m", "tcwv"), UNITS)))
    with pytest.raises(ContractError, match=r"stacks \['t2m', 'tcwv'\] in this order"):
        asyncio.run(adapter.predict(GridInput(np.zeros((2, 19, 36)), ("tcwv", "t2m"), UNITS)))
    with pytest.raises(ContractError, match="CellInput or a GridInput"):
        asyncio.run(adapter.predict(np.zeros((2, 19, 36))))
