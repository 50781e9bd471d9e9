"""MLflow model registry with aliases: each new version is registered; `champion` moves only when
the new version beats the current champion on `register.metric` by `register.min_improvement`
and passes the floors; otherwise the new version becomes `challenger`. The decision and its
reason go to the version's tags, the register run's tags and the stage's registry.json."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from geih.errors import GeihError
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
    from geih.errors import ParamsError

    check_keys(p, REGISTER_KEYS, "register")
    if not isinstance(p.get("metric"), str):
        raise ParamsError("register.metric", "expected a metric name such as roc_auc")
    number(p, "min_improvement", "register", low=0.0)
    number(p, "min_roc_auc", "register", low=0.0, high=1.0)


def _finite(value: Any) -> float | None:
    """`value` as a float, or None when missing/NaN/not a number."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def decide_alias(new: dict[str, Any], champion: dict[str, Any] | None, p: dict[str, Any]) -> tuple[str, str]:
    """('champion' or 'challenger', reason) for a new version with metrics `new`, given the current
    champion's metrics (None when there is none)."""
    metric = p["metric"]
    sign = 1.0 if p.get("higher_is_better", True) else -1.0
    value = _finite(new.get(metric))
    if value is None:
        return CHALLENGER, f"{metric} missing from the new version's metrics"
    roc = _finite(new.get("roc_auc"))
    if roc is None or roc < float(p["min_roc_auc"]):
        shown = "missing" if roc is None else f"{roc:.4f}"
        return CHALLENGER, f"roc_auc {shown} below the floor register.min_roc_auc={p['min_roc_auc']}"
    best = _finite((champion or {}).get(metric))
    if best is None:
        return CHAMPION, "no current champion"
    gain = sign * (value - best)
    if gain >= float(p["min_improvement"]) - 1e-12:
        return CHAMPION, (f"{metric} {value:.4f} beats the champion's {best:.4f} by "
                          f"{gain:.4f} ≥ register.min_improvement={p['min_improvement']}")
    return CHALLENGER, (f"{metric} {value:.4f} does not beat the champion's {best:.4f} "
                        f"by register.min_improvement={p['min_improvement']}")


def champion_metrics(client: Any, name: str) -> tuple[str | None, dict[str, float] | None]:
    """(version, metrics) of the current champion, read from its `metric.*` version tags."""
    mv = alias_version(client, name, CHAMPION)
    if mv is None:
        return None, None
    metrics = {k.removeprefix("metric."): float(v) for k, v in mv.tags.items() if k.startswith("metric.")}
    return str(mv.version), metrics


def alias_version(client: Any, name: str, alias: str) -> Any | None:
    """The model version holding `alias`, or None (no registered model or no such alias)."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def find_train_run(client: Any, experiment_id: str, model_sha256: str) -> Any | None:
    """The newest finished train run whose logged model has this file hash."""
    runs = client.search_runs([experiment_id], filter_string=(
        f"tags.`geih.stage` = 'train' and tags.`geih.model_sha256` = '{model_sha256}' "
        "and attributes.status = 'FINISHED'"),
        order_by=["attributes.start_time DESC"], max_results=1)
    return runs[0] if runs else None


def train_model_uri(train_run: Any) -> str:
    """The URI of the model a train run logged (MLflow 3 logged-model id when tagged)."""
    model_id = train_run.data.tags.get("geih.model_id")
    return f"models:/{model_id}" if model_id else f"runs:/{train_run.info.run_id}/model"


def version_with_model(client: Any, name: str, model_sha256: str) -> Any | None:
    """The newest registered version of `name` whose model file has this hash, or None."""
    found = [mv for mv in client.search_model_versions(f"name = '{name}'")
             if mv.tags.get("geih.model_sha256") == model_sha256]
    return max(found, key=lambda mv: int(mv.version)) if found else None


def register_version(client: Any, name: str, model_uri: str, run_id: str, tags: dict[str, str]) -> Any:
    """Create the registered model if needed and a new version from `model_uri`, tagged. A
    `models:/<model id>` source also passes the id (a tracking server requires it)."""
    from mlflow.exceptions import MlflowException

    try:
        client.create_registered_model(name, description=f"GEIH {name} (DVC pipeline)")
    except MlflowException:
        pass  # already exists
    model_id = model_uri.removeprefix("models:/") if model_uri.startswith("models:/m-") else None
    return client.create_model_version(name, model_uri, run_id=run_id, tags=tags, model_id=model_id)


def set_alias(client: Any, name: str, alias: str, version: str) -> None:
    client.set_registered_model_alias(name, alias, str(version))


def metric_tags(metrics: dict[str, Any]) -> dict[str, str]:
    """`metric.<key>` tags of the finite top-level numbers of an evaluate metrics dict."""
    return {f"metric.{k}": str(v) for k, v in metrics.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and _finite(v) is not None}


def register_model(client: Any, task: str, experiment_id: str, model_sha256: str, metrics: dict[str, Any],
                   p: dict[str, Any], extra_tags: dict[str, str], root: Path | None = None) -> dict[str, Any]:
    """Register the model a train run logged (found by its file hash), decide its alias against the
    current champion and set it. The same model registered before keeps its version (it is
    re-decided unless it already is the champion). Returns the registry.json record."""
    from geih.lifecycle.tracking import store_lock

    name = registered_name(task)
    train_run = find_train_run(client, experiment_id, model_sha256)
    if train_run is None:
        raise GeihError(f"no train run in this MLflow store logged the model with sha256 {model_sha256[:12]}…; "
                        "re-run `dvc repro -f -s train@<task>` against this store")
    with store_lock(root):  # parallel queue workers: read champion → decide → set alias, one at a time
        before, champ = champion_metrics(client, name)
        mv = version_with_model(client, name, model_sha256)
        if mv is not None and before == str(mv.version):
            alias, reason = CHAMPION, f"this model already is the champion (version {mv.version})"
        else:
            alias, reason = decide_alias(metrics, champ, p)
        tags = {**metric_tags(metrics), **extra_tags, "geih.model_sha256": model_sha256, "geih.task": task,
                "geih.alias": alias, "geih.decision": reason}
        if mv is None:
            mv = register_version(client, name, train_model_uri(train_run), train_run.info.run_id, tags)
        else:
            for key, value in tags.items():
                client.set_model_version_tag(name, str(mv.version), key, value)
        set_alias(client, name, alias, mv.version)
    log.info("%s version %s → %s (%s)", name, mv.version, alias, reason)
    version = int(mv.version)
    previous = int(before) if before is not None else None
    return {"name": name, "version": version, "run_id": train_run.info.run_id,
            "model_id": train_run.data.tags.get("geih.model_id"), "model_uri": f"models:/{name}/{version}",
            "alias": alias, "reason": reason, "metric": p["metric"], "value": metrics.get(p["metric"]),
            "previous_champion_version": previous,
            "champion_version": version if alias == CHAMPION else previous}
