"""The external model registry: a JSON file of models MLflow does not manage.

    {"models": {NAME: {VERSION: {"type", "path", "sha256", "registered_at", "metadata"}}}}

`path` is stored relative to the registry file's folder when it lies below it (else absolute), so a
registry committed with its artefacts stays valid in another checkout. Every change happens under an
exclusive lock (`fcntl.flock` on `<registry>.lock`) around read → change → atomic replace (a temporary
sibling renamed over the file), so concurrent writers — processes or threads — lose no entry, and readers, who
take no lock, see the old or the new registry, never a half-written or missing one.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from geih.errors import GeihError
from geih.external.adapter import ExternalModel, ModelFileMissingError, ModelMetadata
from geih.lifecycle.tracking import file_sha256

DEFAULT_REGISTRY = Path("models/external/registry.json")
REGISTRY_ENV = "GEIH_EXTERNAL_REGISTRY"
MODEL_TYPES = ("onnx", "python")  # how `load_adapter` opens an artefact
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class RegistryError(GeihError):
    """An unknown model or version, an invalid name, or an unreadable registry file."""


@dataclass(frozen=True)
class ExternalModelInfo:
    """One registered version."""

    name: str
    version: str
    type: str
    path: Path  # absolute
    sha256: str
    registered_at: str  # ISO 8601, UTC
    metadata: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "type": self.type, "path": str(self.path),
                "sha256": self.sha256, "registered_at": self.registered_at, "metadata": self.metadata}


def check_identifier(value: str, what: str) -> str:
    """A model name or version: letters, digits, '.', '_', '-', not starting with '.'; so no path
    separator and no '..'. RegistryError otherwise."""
    if not isinstance(value, str) or not _NAME.match(value) or ".." in value:
        raise RegistryError(f"invalid {what} {value!r}: use letters, digits, '.', '_' or '-' (no path separators, "
                            "no '..', not starting with '.')")
    return value


def default_registry_path() -> Path:
    """GEIH_EXTERNAL_REGISTRY if set, else models/external/registry.json."""
    return Path(os.environ.get(REGISTRY_ENV) or DEFAULT_REGISTRY)


class ExternalModelRegistry:
    """The registry file at `path` (created on the first registration)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_registry_path()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _read(self) -> dict[str, Any]:
        if not self.path.exists():
            return {"models": {}}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise RegistryError(f"registry {self.path} is not readable JSON: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
            raise RegistryError(f"registry {self.path}: expected an object with a 'models' object")
        return data

    def register(self, name: str, version: str, type: str, path: str | Path,
                 metadata: dict[str, Any] | None = None) -> ExternalModelInfo:
        """Add a version: checks the name, version and type, hashes the artefact; an existing
        name+version is refused (versions are immutable). `metadata` in the ModelMetadata form is
        validated (adapters need it); other metadata is stored as given."""
        check_identifier(name, "model name")
        check_identifier(version, "version")
        if type not in MODEL_TYPES:
            raise RegistryError(f"model type {type!r} is not one of {list(MODEL_TYPES)}")
        artefact = Path(path).resolve()
        if not artefact.is_file():
            raise ModelFileMissingError("model artefact missing", file=str(path))
        metadata = dict(metadata or {})
        if metadata:
            ModelMetadata.from_dict(metadata, where=f"metadata of {name} {version}")
        digest = file_sha256(artefact)
        with self._locked():
            data = self._read()
            versions = data["models"].setdefault(name, {})
            if version in versions:
                raise RegistryError(f"{name} version {version} is already registered (versions are immutable)")
            versions[version] = {"type": type, "path": self._stored_path(artefact), "sha256": digest,
                                 "registered_at": datetime.now(UTC).isoformat(timespec="microseconds"),
                                 "metadata": metadata}
            self._replace(data)
        return self._info(name, version, versions[version])

    def _replace(self, data: dict[str, Any]) -> None:
        """Write the registry to a temporary sibling and rename it over the file: a reader sees the old
        or the new registry, never none (geih.io.atomic_path removes the old file first)."""
        tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=2, sort_keys=True, ensure_ascii=False)
                fh.write("\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)

    def _stored_path(self, artefact: Path) -> str:
        base = self.path.parent.resolve()
        return str(artefact.relative_to(base)) if artefact.is_relative_to(base) else str(artefact)

    def get_model_info(self, name: str, version: str | None = None) -> ExternalModelInfo:
        """One version; the latest by registration date when `version` is None. RegistryError for an
        unknown name or version, naming the known ones."""
        check_identifier(name, "model name")
        models = self._read()["models"]
        if name not in models or not models[name]:
            raise RegistryError(f"no external model {name!r} in {self.path}; known: {sorted(models)}")
        versions = models[name]
        if version is None:
            version = max(versions, key=lambda v: (versions[v]["registered_at"], v))
        elif version not in versions:
            raise RegistryError(f"{name} has no version {version!r}; known: {sorted(versions)}")
        return self._info(name, version, versions[version])

    def _info(self, name: str, version: str, entry: dict[str, Any]) -> ExternalModelInfo:
        path = Path(entry["path"])
        return ExternalModelInfo(name, version, entry["type"], path if path.is_absolute() else
                                 (self.path.parent / path).resolve(), entry["sha256"], entry["registered_at"],
                                 entry.get("metadata", {}))

    def list(self) -> list[ExternalModelInfo]:
        """Every registered version, by name then registration date."""
        models = self._read()["models"]
        infos = [self.get_model_info(name, version) for name in models for version in models[name]]
        return sorted(infos, key=lambda i: (i.name, i.registered_at))


def load_adapter(info: ExternalModelInfo, verify: bool = True, regrid: str = "bilinear") -> ExternalModel:
    """A loaded adapter for a registered version: 'onnx' → OnnxAdapter, 'python' → CallableAdapter of
    the file's `predict`. With `verify`, an artefact whose sha256 differs from the registered one is refused."""
    from geih.external.callable_adapter import CallableAdapter
    from geih.external.onnx_adapter import OnnxAdapter

    if not info.path.is_file():
        raise ModelFileMissingError("registered model artefact missing", file=str(info.path))
    if verify and file_sha256(info.path) != info.sha256:
        raise RegistryError(f"{info.name} {info.version}: {info.path} changed since registration (sha256 differs)")
    metadata = ModelMetadata.from_dict(info.metadata, where=f"metadata of {info.name} {info.version}")
    adapter: ExternalModel = (OnnxAdapter(info.path, metadata, regrid) if info.type == "onnx"
                              else CallableAdapter.from_file(info.path, metadata, regrid=regrid))
    adapter.load_model()
    return adapter


def format_table(infos: list[ExternalModelInfo]) -> str:
    """The `geih external list` table."""
    if not infos:
        return "no external models registered"
    rows = [("NAME", "VERSION", "TYPE", "REGISTERED", "SHA256")]
    rows += [(i.name, i.version, i.type, i.registered_at[:19], i.sha256[:12]) for i in infos]
    widths = [max(len(r[k]) for r in rows) for k in range(5)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)
