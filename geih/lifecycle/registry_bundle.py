"""A bundle from any registered model version (`geih bundle --model NAME@ALIAS | --model NAME --version N`):
the registered model, its evaluate metrics (the version's `metric.*` tags), its training params and the
feature schema its train run logged, written by the same `write_bundle` as the `package` stage.

The model file is the registered MLflow model (skops-checked when it was logged with skops) re-saved with
joblib, so its bytes, and `model_sha256`, differ from the pipeline's `model.joblib`; its predictions do not.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import joblib

from geih.errors import GeihError
from geih.lifecycle.bundle import SCHEMA_ARTIFACT, BundleSource, bundle_requirements, write_bundle
from geih.lifecycle.registry import registered_name
from geih.lifecycle.tracking import connect
from geih.modelling.feature_schema import FeatureSchema
from geih.modelling.metrics import operating_threshold
from geih.tasks import task_names

log = logging.getLogger(__name__)

SPEC = re.compile(r"^(?:models:/)?(?P<name>[\w.-]+)(?:@(?P<alias>[\w-]+)|/(?P<version>\d+))?$")
NOT_HYPERPARAMETERS = {"seed", "n_jobs"}


def parse_model_spec(spec: str, version: str | None = None) -> tuple[str, str | None, str | None]:
    """(name, alias, version) of `NAME@ALIAS`, `NAME/VERSION`, `models:/…` or `NAME` with `version`."""
    match = SPEC.match(spec.strip())
    if not match:
        raise GeihError(f"--model {spec!r}: expected NAME@ALIAS (e.g. geih-fire-risk@champion) or NAME with --version N")
    name, alias, own_version = match.group("name"), match.group("alias"), match.group("version")
    if version is not None and (alias or own_version):
        raise GeihError(f"--model {spec!r} already names a version or alias; drop --version")
    version = own_version or version
    if version is not None and not str(version).isdigit():
        raise GeihError(f"--version {version!r}: expected a version number")
    if alias is None and version is None:
        raise GeihError(f"--model {spec!r}: name an alias (NAME@champion) or a version (--version N)")
    return name, alias, version


def tag_value(text: str) -> Any:
    """A tag or param string as the number it holds (int when integral in form), else the string."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return {"True": True, "False": False, "None": None}.get(text, text)


def model_version(client: Any, name: str, alias: str | None, version: str | None) -> Any:
    """The registered version named by alias or number; a missing one is a GeihError saying what exists."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(name, alias) if alias else client.get_model_version(name, version)
    except MlflowException as exc:
        try:
            known = sorted(int(mv.version) for mv in client.search_model_versions(f"name = '{name}'"))
        except MlflowException:
            known = []
        which = f"alias {alias!r}" if alias else f"version {version}"
        found = f"its versions: {known}" if known else "no such registered model in this store"
        raise GeihError(f"registered model {name!r} has no {which} ({found})") from exc


def find_train_run(client: Any, experiment_id: str, model_sha256: str) -> Any | None:
    """The newest finished train run whose model file has this hash, or None."""
    runs = client.search_runs([experiment_id], filter_string=(
        f"tags.`geih.stage` = 'train' and tags.`geih.model_sha256` = '{model_sha256}' "
        "and attributes.status = 'FINISHED'"), order_by=["attributes.start_time DESC"], max_results=1)
    return runs[0] if runs else None


def train_run_of(client: Any, mv: Any) -> Any:
    """The train run behind a version: its own run when that is a train run, else the newest train run
    that logged the same model file (tag geih.model_sha256)."""
    run = client.get_run(mv.run_id)
    if run.data.tags.get("geih.stage") == "train":
        return run
    sha = mv.tags.get("geih.model_sha256") or run.data.tags.get("geih.model_sha256")
    found = find_train_run(client, run.info.experiment_id, sha) if sha else None
    if found is None:
        raise GeihError(f"{mv.name} version {mv.version}: no train run in this store logged its model, so its "
                        "training params and feature schema are unknown")
    return found


def registry_source(client: Any, name: str, alias: str | None, version: str | None, workdir: Path) -> BundleSource:
    """Gather a BundleSource for a registered version; the model is saved as joblib under `workdir`."""
    import mlflow

    mv = model_version(client, name, alias, version)
    train = train_run_of(client, mv)
    metrics = {k.removeprefix("metric."): tag_value(v) for k, v in mv.tags.items() if k.startswith("metric.")}
    if "threshold" not in metrics:
        raise GeihError(f"{name} version {mv.version} has no metric.threshold tag (the operating threshold "
                        "evaluate used): register it through the pipeline or `geih models best --promote`")
    params = {k: tag_value(v) for k, v in train.data.params.items() if k not in NOT_HYPERPARAMETERS}
    model_name = params.get("model") or train.data.tags.get("geih.model_type")
    if not model_name:
        raise GeihError(f"train run {train.info.run_id} logged no model name (param `model`)")
    try:
        schema_file = mlflow.artifacts.download_artifacts(run_id=train.info.run_id, artifact_path=SCHEMA_ARTIFACT,
                                                          dst_path=str(workdir))
    except Exception as exc:  # MlflowException or OSError, depending on the artifact store
        raise GeihError(f"train run {train.info.run_id} of {name} version {mv.version} logged no feature schema "
                        f"({SCHEMA_ARTIFACT}); re-run its train stage with this version of the pipeline") from exc
    schema = FeatureSchema.load(schema_file)
    uri = f"models:/{name}/{mv.version}"
    log.info("loading %s (run %s)", uri, mv.run_id)
    model_path = Path(workdir) / "model.joblib"
    joblib.dump(mlflow.sklearn.load_model(uri), model_path, compress=3)
    task = mv.tags.get("geih.task") or next((t for t in task_names() if registered_name(t) == name), schema.task)
    aliases = list(getattr(mv, "aliases", []) or [])
    model_id = getattr(mv, "model_id", None) or train.data.tags.get("geih.model_id")
    registry = {"name": name, "version": int(mv.version), "run_id": mv.run_id, "model_id": model_id,
                "alias": alias or (aliases[0] if aliases else None)}
    return BundleSource(task=task, model_path=model_path, schema=schema, registry=registry, metrics=metrics,
                        train_params=params,
                        threshold=operating_threshold(metrics, f"{uri} metrics", bool(schema.targets)),
                        requirements=bundle_requirements(model_name), origin=uri)


def bundle_from_registry(spec: str, version: str | None, out_dir: Path) -> dict[str, Any]:
    """Build the bundle of a registered version into `out_dir`; returns its model_info."""
    from mlflow import MlflowClient

    name, alias, number = parse_model_spec(spec, version)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # one small file: no progress bar
    connect()
    with tempfile.TemporaryDirectory(prefix="geih-bundle-") as workdir:
        source = registry_source(MlflowClient(), name, alias, number, Path(workdir))
        created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return write_bundle(out_dir, source, created)
