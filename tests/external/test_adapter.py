"""The interface's metadata, the regridding both ways, and the Python callable adapter."""

from __future__ import annotations

import asyncio

import numpy as np
import pandas as pd
import pytest

from geih.external.adapter import (
    CellInput,
    ContractError,
    ExternalModel,
    GridSpec,
    ModelFileMissingError,
    ModelMetadata,
    ModelNotLoadedError,
    Variable,
)
from geih.external.callable_adapter import CallableAdapter
from geih.external.onnx_adapter import FOURCASTNET_METADATA
from geih.external.regrid import cells_to_grid, grid_to_cells
from tests.external.support import GLOBAL_10_DEG, tiny_metadata

UNITS = {"t2m": "K", "tcwv": "kg m-2"}


def test_metadata_round_trips_through_json_form():
    for meta in (tiny_metadata(), FOURCASTNET_METADATA):
        assert ModelMetadata.from_dict(meta.to_dict()) == meta


@pytest.mark.parametrize(("drop", "message"), [("grid", "missing field 'grid'"), ("inputs", "missing field 'inputs'")])
def test_metadata_missing_field(drop, message):
    data = tiny_metadata().to_dict()
    del data[drop]
    with pytest.raises(ContractError, match=message):
        ModelMetadata.from_dict(data)


@pytest.mark.parametrize(("make", "message"), [
    (lambda: Variable("t", ""), "name and units"),
    (lambda: Variable("t", "K", mean=1.0), "both mean and std"),
    (lambda: Variable("t", "K", mean=1.0, std=0.0), "std must be > 0"),
    (lambda: GridSpec(10, 10, 95.0, -1.0, 0.0, 1.0), r"leave \[-90, 90\]"),
    (lambda: GridSpec(10, 10, 0.0, -1.0, 0.0, 0.0), "lon_step > 0"),
    (lambda: tiny_metadata(outputs=()), "outputs must be a non-empty"),
    (lambda: tiny_metadata(forecast_horizon_hours=1.0), "temporal_resolution_hours ≤ forecast_horizon_hours"),
])
def test_invalid_metadata_is_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_metadata_json_with_a_bad_value_is_a_contract_error():
    data = tiny_metadata().to_dict()
    data["inputs"][0]["std"] = -1
    with pytest.raises(ContractError, match="std must be > 0"):
        ModelMetadata.from_dict(data, where="m.json")


def test_bilinear_is_exact_on_a_linear_field_and_wraps_the_dateline():
    grid = GLOBAL_10_DEG
    lat2, lon2 = np.meshgrid(grid.lats, grid.lons, indexing="ij")
    field = np.stack([2 * lat2 + 1, np.cos(np.deg2rad(lon2))])
    lat, lon = np.array([-3.0, 44.0, 12.5]), np.array([-61.0, 123.0, 355.0])
    out = grid_to_cells(grid, field, lat, lon, "bilinear")
    np.testing.assert_allclose(out[0], 2 * lat + 1)
    # across 350°E → 0°E the weights fall on columns 35 and 0
    assert out[1, 2] == pytest.approx((np.cos(np.deg2rad(350)) + np.cos(0.0)) / 2)
    nearest = grid_to_cells(grid, field, lat, lon, "nearest")
    np.testing.assert_allclose(nearest[0], [1.0, 81.0, 21.0])  # lats 0, 40, 10 → 2·lat + 1


def test_regrid_refuses_cells_off_a_regional_grid_and_unknown_methods():
    regional = GridSpec(n_lat=5, n_lon=5, lat_first=0.0, lat_step=-1.0, lon_first=-60.0, lon_step=1.0)
    field = np.zeros((1, 5, 5))
    with pytest.raises(ContractError, match="1 cell\\(s\\) lie outside the model grid"):
        grid_to_cells(regional, field, np.array([-2.0, -2.0]), np.array([-58.0, -50.0]))
    with pytest.raises(ContractError, match="regrid method 'cubic'"):
        grid_to_cells(regional, field, np.array([-2.0]), np.array([-58.0]), "cubic")


def test_cells_to_grid_fills_each_grid_point_inside_a_cell():
    # a 20° cell centred at (0°, 0°) covers grid points lat −10, 0 and lon 350, 0 (half-open box)
    out = cells_to_grid(GLOBAL_10_DEG, np.array([0.0]), np.array([0.0]), np.array([[5.0]]), 20.0, np.array([-1.0]))
    rows, cols = np.nonzero(out[0] == 5.0)
    assert sorted(GLOBAL_10_DEG.lats[rows].tolist()) == [-10.0, -10.0, 0.0, 0.0]
    assert sorted(set(GLOBAL_10_DEG.lons[cols].tolist())) == [0.0, 350.0]
    assert (out[0] == -1.0).sum() == 19 * 36 - 4


def _identity(tensor: np.ndarray) -> np.ndarray:
    return tensor * 1.0


def test_callable_adapter_end_to_end():
    meta = tiny_metadata(type="python", outputs=tiny_metadata().inputs)  # identity in physical units
    model = CallableAdapter.of(_identity, meta, regrid="nearest")
    assert isinstance(model, ExternalModel)
    cells = pd.DataFrame({"lat": [-10.0, 30.0], "lon": [300.0, 20.0], "t2m": [290.0, 250.0], "tcwv": [30.0, 5.0]})
    with pytest.raises(ModelNotLoadedError):
        asyncio.run(model.predict(CellInput(cells, UNITS, 10.0)))
    model.load_model()
    out = asyncio.run(model.predict(CellInput(cells, UNITS, 10.0)))
    np.testing.assert_allclose(out[["t2m", "tcwv"]].to_numpy(), cells[["t2m", "tcwv"]].to_numpy(), rtol=1e-6)


def test_callable_adapter_from_a_python_file(tmp_path):
    source = tmp_path / "modulus_model.py"
    source.write_text("def predict(x):\n    return x * 0 + 1\n")
    model = CallableAdapter.from_file(source, tiny_metadata(type="python"))
    model.load_model()
    cells = pd.DataFrame({"lat": [0.0], "lon": [0.0], "t2m": [280.0], "tcwv": [20.0]})
    out = asyncio.run(model.predict(CellInput(cells, UNITS, 10.0)))
    assert out["t2m"].iloc[0] == pytest.approx(281.0 + 8.0) and out["tcwv"].iloc[0] == pytest.approx(21.0 + 4.0)


def test_callable_adapter_file_errors(tmp_path):
    with pytest.raises(ModelFileMissingError, match="absent.py"):
        CallableAdapter.from_file(tmp_path / "absent.py", tiny_metadata()).load_model()
    (tmp_path / "empty.py").write_text("x = 1\n")
    with pytest.raises(ContractError, match="defines no function 'predict'"):
        CallableAdapter.from_file(tmp_path / "empty.py", tiny_metadata()).load_model()


def test_callable_returning_the_wrong_shape():
    model = CallableAdapter.of(lambda x: x[:, :1], tiny_metadata())
    model.load_model()
    cells = pd.DataFrame({"lat": [0.0], "lon": [0.0], "t2m": [280.0], "tcwv": [20.0]})
    with pytest.raises(ContractError, match=r"returned shape \(1, 1, 19, 36\)"):
        asyncio.run(model.predict(CellInput(cells, UNITS, 10.0)))
