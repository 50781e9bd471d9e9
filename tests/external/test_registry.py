"""The external model registry: register/get/list, validation, concurrent writers, loading an adapter
from an entry, and the `geih external` command."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import subprocess
import sys
import time

import numpy as np
import pytest

from geih.cli import main as cli_main
from geih.errors import GeihError
from geih.external.adapter import ContractError, GridInput, ModelFileMissingError
from geih.external.onnx_adapter import OnnxAdapter
from geih.external.registry import ExternalModelRegistry, RegistryError, load_adapter
from tests.conftest import REPO_ROOT
from tests.external.support import tiny_metadata, write_affine_onnx


@pytest.fixture
def artefact(tmp_path):
    (tmp_path / "models").mkdir()
    return write_affine_onnx(tmp_path / "models" / "tiny.onnx", [2.0, 0.5], [1.0, -1.0])


@pytest.fixture
def registry(tmp_path):
    return ExternalModelRegistry(tmp_path / "models" / "registry.json")


def test_register_get_and_list(registry, artefact):
    first = registry.register("tiny", "1", "onnx", artefact, tiny_metadata().to_dict())
    time.sleep(0.002)
    second = registry.register("tiny", "0.9", "onnx", artefact)
    assert first.path == artefact.resolve() and len(first.sha256) == 64
    assert registry.get_model_info("tiny").version == "0.9"  # latest by registration date, not by name
    assert registry.get_model_info("tiny", "1").metadata["grid"]["n_lat"] == 19
    assert [(i.name, i.version) for i in registry.list()] == [("tiny", "1"), ("tiny", "0.9")]
    stored = json.loads(registry.path.read_text())["models"]["tiny"]["1"]
    assert stored["path"] == "tiny.onnx"  # relative to the registry's folder
    assert stored["registered_at"] < second.registered_at


@pytest.mark.parametrize("bad", ["../evil", "a/b", "a\\b", "..", ".hidden", "", "x..y", "name with space"])
def test_names_and_versions_are_validated(registry, artefact, bad):
    with pytest.raises(RegistryError, match="invalid model name"):
        registry.register(bad, "1", "onnx", artefact)
    with pytest.raises(RegistryError, match="invalid version"):
        registry.register("ok", bad, "onnx", artefact)
    assert not registry.path.exists()


def test_register_errors(registry, artefact, tmp_path):
    with pytest.raises(RegistryError, match="model type 'pt'"):
        registry.register("m", "1", "pt", artefact)
    with pytest.raises(ModelFileMissingError, match="absent.onnx"):
        registry.register("m", "1", "onnx", tmp_path / "absent.onnx")
    with pytest.raises(ContractError, match="metadata of m 1: missing field 'outputs'"):
        registry.register("m", "1", "onnx", artefact, {"name": "m", "inputs": []})
    registry.register("m", "1", "onnx", artefact)
    with pytest.raises(RegistryError, match="already registered"):
        registry.register("m", "1", "onnx", artefact)


def test_unknown_names_and_versions(registry, artefact):
    with pytest.raises(RegistryError, match="no external model 'm'"):
        registry.get_model_info("m")
    registry.register("m", "1", "onnx", artefact)
    with pytest.raises(RegistryError, match=r"no version '2'; known: \['1'\]"):
        registry.get_model_info("m", "2")


def test_unreadable_registry(registry):
    registry.path.parent.mkdir(parents=True, exist_ok=True)
    registry.path.write_text("{half")
    with pytest.raises(RegistryError, match="not readable JSON"):
        registry.list()


def _register_many(path: str, artefact: str, worker: int, count: int) -> None:
    registry = ExternalModelRegistry(path)
    for i in range(count):
        registry.register(f"model-{worker}", f"{i}", "onnx", artefact)
        registry.list()  # a reader without the lock, while others write: never a missing or partial file


@pytest.mark.pipeline  # spawns six Python processes
def test_concurrent_processes_lose_no_entry(registry, artefact):
    workers, count = 6, 8
    context = multiprocessing.get_context("spawn")
    procs = [context.Process(target=_register_many, args=(str(registry.path), str(artefact), w, count))
             for w in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    infos = registry.list()
    assert len(infos) == workers * count
    assert {(i.name, i.version) for i in infos} == {(f"model-{w}", f"{i}") for w in range(workers) for i in range(count)}


def test_concurrent_threads_lose_no_entry(registry, artefact):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda w: _register_many(str(registry.path), str(artefact), w, 5), range(4)))
    assert len(registry.list()) == 20
    assert not [p for p in registry.path.parent.iterdir() if ".tmp-" in p.name]  # no temporary file left


def test_load_adapter_from_an_entry(registry, artefact):
    info = registry.register("tiny", "1", "onnx", artefact, tiny_metadata().to_dict())
    model = load_adapter(info)
    assert isinstance(model, OnnxAdapter)
    out = asyncio.run(model.predict(GridInput(np.full((2, 19, 36), 280.0), ("t2m", "tcwv"),
                                              {"t2m": "K", "tcwv": "kg m-2"})))
    assert out.shape == (2, 19, 36)
    artefact.write_bytes(artefact.read_bytes() + b"\0")
    with pytest.raises(RegistryError, match="changed since registration"):
        load_adapter(info)


def test_load_adapter_of_a_python_entry(registry, tmp_path):
    source = tmp_path / "models" / "modulus_model.py"
    source.parent.mkdir(exist_ok=True)
    source.write_text("def predict(x):\n    return x\n")
    info = registry.register("physics", "1", "python", source, tiny_metadata(type="python").to_dict())
    model = load_adapter(info)
    assert model.get_metadata().type == "python"


def test_cli_register_list_show(registry, artefact, tmp_path, capsys, monkeypatch):
    meta_file = tmp_path / "meta.json"
    meta_file.write_text(json.dumps(tiny_metadata().to_dict()))
    cli_main(["external", "register", "--registry", str(registry.path), "--name", "tiny", "--version", "1",
              "--type", "onnx", "--path", str(artefact), "--metadata", f"@{meta_file}"])
    assert "registered tiny version 1 (onnx" in capsys.readouterr().out
    monkeypatch.setenv("GEIH_EXTERNAL_REGISTRY", str(registry.path))  # the default registry, overridden
    cli_main(["external", "list"])
    assert capsys.readouterr().out.splitlines()[1].split()[:3] == ["tiny", "1", "onnx"]
    cli_main(["external", "list", "--json"])
    assert json.loads(capsys.readouterr().out)[0]["name"] == "tiny"
    cli_main(["external", "show", "--name", "tiny", "--json"])
    assert json.loads(capsys.readouterr().out)["metadata"]["name"] == "tiny"
    cli_main(["external", "show", "--name", "tiny"])
    assert "inputs      t2m, tcwv" in capsys.readouterr().out
    with pytest.raises(GeihError, match="not valid JSON"):
        cli_main(["external", "register", "--name", "x", "--version", "1", "--type", "onnx",
                  "--path", str(artefact), "--metadata", "{oops"])


@pytest.mark.pipeline  # a subprocess
def test_cli_errors_exit_2_with_a_message(registry):
    run = subprocess.run([sys.executable, "-m", "geih.cli", "external", "show", "--name", "nope",
                          "--registry", str(registry.path)], capture_output=True, text=True, cwd=REPO_ROOT)
    assert run.returncode == 2 and "no external model 'nope'" in run.stderr and "Traceback" not in run.stderr
