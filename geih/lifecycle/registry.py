"""MLflow model registry with aliases: each new version is registered; `champion` moves only when
the new version beats the current champion on `register.metric` by `register.min_improvement`
and passes the floors; otherwise the new version becomes `challenger`.

Like is compared with like: a champion trained for another task definition (other prepare/label
params or other labelled rows, see geih.lifecycle.task_definition) is not ranked against — the new
version becomes `challenger` and the reason says why; `geih models best --promote` switches
definitions deliberately. The decision and its reason go to the version's tags, the register run's
tags and the stage's registry.json.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geih.errors import GeihError, ParamsError
from geih.lifecycle import tracking
from geih.lifecycle.task_definition import TaskDefinition
from geih.params import check_keys, number
from geih.tasks import get_task

log = logging.getLogger(__name__)

REGISTER_KEYS = {"metric", "min_improvement", "min_roc_auc", "higher_is_better"}
CHAMPION, CHALLENGER = "champion", "challenger"


def registered_name(task: str) -> str:
    """The registry name of the task's model (the Task declares it); unknown task → GeihError."""
    return get_task(task).registered_name


def check_register_params(p: dict[str, Any]) -> None:
    """Validate the `register` group."""
    check_keys(p, REGISTER_KEYS, "register")
    if not isinstance(p.get("metric"), str):
        raise ParamsError("register.metric", "expected a metric name such as roc_auc")
    if not isinstance(p.get("higher_is_better", True), bool):
        raise ParamsError("register.higher_is_better", f"expected true or false, got {p['higher_is_better']!r}")
    number(p, "min_improvement", "register", low=0.0)
    number(p, "min_roc_auc", "register", low=0.0, high=1.0)


def _finite(value: Any) -> float | None:
    """`value` as a float, or None when missing/NaN/not a number."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


@dataclass(frozen=True)
class Champion:
    """The version holding alias `champion`: its number, metrics and task definition (None when the
    version records none)."""

    version: str
    metrics: dict[str, float]
    definition: TaskDefinition | None


def decide_alias(new: dict[str, Any], champion: Champion | None, p: dict[str, Any],
                 definition: TaskDefinition | None = None) -> tuple[str, str]:
    """('champion' or 'challenger', reason) for a new version with metrics `new` trained for
    `definition`, given the current champion (None when there is none).

    A champion of another task definition — or one that records none — is not compared with: the
    new version becomes challenger and the reason names the differences.
    """
    metric = p["metric"]
    sign = 1.0 if p.get("higher_is_better", True) else -1.0
    value = _finite(new.get(metric))
    if value is None:
        return CHALLENGER, f"{metric} missing from the new version's metrics"
    # The floor: register.min_roc_auc on roc_auc, or the task's own (Task.register_params: "floor").
    floor_metric, floor = p.get("floor") or ("roc_auc", float(p["min_roc_auc"]))
    floor_name = "register.min_roc_auc" if "floor" not in p else "the task's floor"
    reached = _finite(new.get(floor_metric))
    if reached is None or reached < floor:
        shown = "missing" if reached is None else f"{reached:.4f}"
        return CHALLENGER, f"{floor_metric} {shown} below the floor {floor_name}={floor}"
    if champion is None:
        return CHAMPION, "no current champion"
    if definition is not None:
        if champion.definition is None:
            return CHALLENGER, (f"champion version {champion.version} records no task definition: not compared; "
                                "this version becomes challenger (`geih models best --promote` moves champion)")
        if champion.definition.fingerprint != definition.fingerprint:
            differences = ", ".join(champion.definition.differences(definition))
            return CHALLENGER, (f"champion version {champion.version} was trained for another task definition "
                                f"({differences}): not compared; this version becomes challenger "
                                "(`geih models best --promote` moves champion)")
    best = _finite(champion.metrics.get(metric))
    if best is None:
        return CHAMPION, f"champion version {champion.version} has no {metric} to compare with"
    gain = sign * (value - best)
    if gain >= float(p["min_improvement"]) - 1e-12:
        return CHAMPION, (f"{metric} {value:.4f} beats the champion's {best:.4f} by "
                          f"{gain:.4f} ≥ register.min_improvement={p['min_improvement']}")
    return CHALLENGER, (f"{metric} {value:.4f} does not beat the champion's {best:.4f} "
                        f"by register.min_improvement={p['min_improvement']}")


def alias_version(client: Any, name: str, alias: str) -> Any | None:
    """The model version holding `alias`, or None (no registered model or no such alias)."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def current_champion(client: Any, name: str) -> Champion | None:
    """The current champion with the metrics and task definition recorded in its version tags."""
    mv = alias_version(client, name, CHAMPION)
    if mv is None:
        return None
    metrics = {k.removeprefix("metric."): float(v) for k, v in mv.tags.items()
               if k.startswith("metric.") and _finite(v) is not None}
    return Champion(str(mv.version), metrics, TaskDefinition.from_tags(mv.tags))


@dataclass(frozen=True)
class ModelSource:
    """A logged model to register: its URI, the run that logged it and MLflow's logged-model id."""

    uri: str
    run_id: str
    model_id: str | None


def find_model_source(client: Any, experiment_id: str, model_sha256: str) -> ModelSource | None:
    """The model logged by the newest finished run (train, or a register run that logged it
    itself) whose DVC model file has this hash, or None."""
    runs = client.search_runs([experiment_id], filter_string=(
        f"tags.`geih.model_sha256` = '{model_sha256}' and attributes.status = 'FINISHED'"),
        order_by=["attributes.start_time DESC"], max_results=100)
    run = next((r for r in runs if r.data.tags.get("geih.model_id")), None)
    if run is None:
        return None
    model_id = run.data.tags["geih.model_id"]
    return ModelSource(f"models:/{model_id}", run.info.run_id, model_id)


def version_with_model(client: Any, name: str, model_sha256: str) -> Any | None:
    """The newest registered version of `name` whose model file has this hash, or None."""
    found = [mv for mv in client.search_model_versions(f"name = '{name}'")
             if mv.tags.get("geih.model_sha256") == model_sha256]
    return max(found, key=lambda mv: int(mv.version)) if found else None


def register_version(client: Any, name: str, source: ModelSource, tags: dict[str, str]) -> Any:
    """Create the registered model if needed and a new version from `source`, tagged. A
    `models:/<model id>` source also passes the id (a tracking server requires it)."""
    from mlflow.exceptions import MlflowException

    try:
        client.create_registered_model(name, description=f"GEIH {name} (DVC pipeline)")
    except MlflowException:
        pass  # already exists
    return client.create_model_version(name, source.uri, run_id=source.run_id, tags=tags, model_id=source.model_id)


def register_and_alias(client: Any, name: str, model_sha256: str, source: Callable[[], ModelSource],
                       tags: dict[str, str], alias: str, existing: Any | None = None) -> tuple[Any, bool]:
    """The one register-and-alias path: register the model (`source()` is asked only when no
    version of `name` holds a model with this hash — `existing` when the caller looked already),
    tag the version, set `alias` on it. Returns (model version, whether it was registered now)."""
    mv = existing if existing is not None else version_with_model(client, name, model_sha256)
    registered = mv is None
    tags = {**tags, "geih.model_sha256": model_sha256, "geih.alias": alias}
    if mv is None:
        mv = register_version(client, name, source(), tags)
    else:
        for key, value in tags.items():
            client.set_model_version_tag(name, str(mv.version), key, value)
    client.set_registered_model_alias(name, alias, str(mv.version))
    return mv, registered


def metric_tags(metrics: dict[str, Any]) -> dict[str, str]:
    """`metric.<key>` tags of the finite top-level numbers of an evaluate metrics dict."""
    return {f"metric.{k}": str(v) for k, v in metrics.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and _finite(v) is not None}


def register_model(client: Any, task: str, experiment_id: str, model_sha256: str, metrics: dict[str, Any],
                   p: dict[str, Any], extra_tags: dict[str, str], root: Path | None = None,
                   definition: TaskDefinition | None = None,
                   log_model: Callable[[], ModelSource] | None = None) -> dict[str, Any]:
    """Register the model with this file hash, decide its alias against the current champion (of the
    same task definition) and set it. The model is the one a run of this store logged (train); when
    no run did (e.g. DVC restored train's outputs from its run cache against a new store),
    `log_model()` logs it now. The same model registered before keeps its version (it is
    re-decided unless it already is the champion). Returns the registry.json record."""
    name = registered_name(task)

    def source() -> ModelSource:
        found = find_model_source(client, experiment_id, model_sha256)
        if found is not None:
            return found
        if log_model is None:
            raise GeihError(f"no run in this MLflow store logged the model with sha256 {model_sha256[:12]}…; "
                            "re-run `dvc repro -f -s train@<task>` against this store")
        log.info("%s: no run in this store logged the model %s…: logging it now", name, model_sha256[:12])
        return log_model()

    with tracking.store_lock(root):  # parallel queue workers: read champion → decide → set alias, one at a time
        champion = current_champion(client, name)
        mv = version_with_model(client, name, model_sha256)
        if mv is not None and champion is not None and champion.version == str(mv.version):
            alias, reason = CHAMPION, f"this model already is the champion (version {mv.version})"
        else:
            alias, reason = decide_alias(metrics, champion, p, definition)
        tags = {**metric_tags(metrics), **extra_tags, "geih.task": task, "geih.decision": reason,
                **(definition.tags() if definition is not None else {})}
        mv, _ = register_and_alias(client, name, model_sha256, source, tags, alias, existing=mv)
    log.info("%s version %s → %s (%s)", name, mv.version, alias, reason)
    version = int(mv.version)
    previous = int(champion.version) if champion is not None else None
    model_id = getattr(mv, "model_id", None) or (mv.source.removeprefix("models:/")
                                                 if str(mv.source).startswith("models:/m-") else None)
    return {"name": name, "version": version, "run_id": mv.run_id, "model_id": model_id,
            "model_uri": f"models:/{name}/{version}", "alias": alias, "reason": reason, "metric": p["metric"],
            "value": metrics.get(p["metric"]), "previous_champion_version": previous,
            "champion_version": version if alias == CHAMPION else previous,
            "task_definition": definition.fingerprint if definition is not None else None}


def log_model_from_file(model_path: Path, features_dir: Path) -> ModelSource:
    """Log the DVC model file to the active run (the register stage's), exactly as the train stage
    logs it — input example and signature from the first training rows — and return its source."""
    import mlflow
    import pandas as pd

    from geih.modelling.feature_schema import FeatureSchema
    from geih.modelling.training import load_model, log_trained_model

    model = load_model(model_path)
    schema = FeatureSchema.load(features_dir)
    train_path = Path(features_dir) / "train.parquet"
    if not train_path.exists():
        raise GeihError(f"{train_path} missing: run the featurize stage first")
    X = schema.matrix(pd.read_parquet(train_path, columns=schema.feature_names).head(5))
    info = log_trained_model(model, X, tracking.file_sha256(model_path))
    tracking.log_artifact(Path(features_dir) / "schema.json", "features")  # what `geih bundle` reads
    run_id = mlflow.active_run().info.run_id
    return ModelSource(f"models:/{info.model_id}", run_id, info.model_id)


def register_stage_model(task: str, run: Any, model_path: Path, features_dir: Path, metrics: dict[str, Any],
                         p: dict[str, Any], definition: TaskDefinition | None) -> dict[str, Any]:
    """What the register stage does inside its run: register the model file (logging it first when no
    run of this store did), decide and set its alias, tag the run with the decision. Returns the
    registry.json record."""
    root = tracking.repo_root()
    sha = tracking.file_sha256(model_path)
    extra = {"git.commit": tracking.code_commit(root), "geih.pipeline_run": tracking.pipeline_run_id(),
             "geih.register_run_id": run.info.run_id, **tracking.dvc_tags()}
    record = register_model(tracking.client(root), task, run.info.experiment_id, sha, metrics, p, extra, root,
                            definition, log_model=lambda: log_model_from_file(model_path, features_dir))
    tracking.set_tags({"geih.registered_model": record["name"], "geih.registered_version": str(record["version"]),
                       "geih.alias": record["alias"], "geih.decision": record["reason"],
                       "geih.model_sha256": sha})
    return record
