"""MLflow model registry with aliases: each new version is registered; `champion` moves only when
the new version beats the current champion on `register.metric` by `register.min_improvement`
and passes the floors; otherwise the new version becomes `challenger`."""

from __future__ import annotations

import logging
from typing import Any

from geih.params import check_keys, number

log = logging.getLogger(__name__)

REGISTER_KEYS = {"metric", "min_improvement", "min_roc_auc", "higher_is_better"}
REGISTERED_NAMES = {"fire_risk": "geih-fire-risk", "deforestation": "geih-deforestation"}


def registered_name(task: str) -> str:
    return REGISTERED_NAMES.get(task, f"geih-{task.replace('_', '-')}")


def check_register_params(p: dict[str, Any]) -> None:
    """Validate the `register` group."""
    from geih.errors import ParamsError

    check_keys(p, REGISTER_KEYS, "register")
    if not isinstance(p.get("metric"), str):
        raise ParamsError("register.metric", "expected a metric name such as roc_auc")
    number(p, "min_improvement", "register", low=0.0)
    number(p, "min_roc_auc", "register", low=0.0, high=1.0)


def decide_alias(new: dict[str, Any], champion: dict[str, Any] | None, p: dict[str, Any]) -> tuple[str, str]:
    """('champion' or 'challenger', reason) for a new version with metrics `new`, given the current
    champion's metrics (None when there is none)."""
    metric = p["metric"]
    sign = 1.0 if p.get("higher_is_better", True) else -1.0
    value = new.get(metric)
    if value is None or value != value:
        return "challenger", f"{metric} missing from the new version's metrics"
    if float(new.get("roc_auc", 0.0)) < float(p["min_roc_auc"]):
        return "challenger", f"roc_auc {new.get('roc_auc'):.4f} below the floor register.min_roc_auc={p['min_roc_auc']}"
    if champion is None or champion.get(metric) is None:
        return "champion", "no current champion"
    gain = sign * (float(value) - float(champion[metric]))
    if gain >= float(p["min_improvement"]):
        return "champion", (f"{metric} {value:.4f} beats the champion's {float(champion[metric]):.4f} by "
                            f"{gain:.4f} ≥ register.min_improvement={p['min_improvement']}")
    return "challenger", (f"{metric} {value:.4f} does not beat the champion's {float(champion[metric]):.4f} "
                          f"by register.min_improvement={p['min_improvement']}")


def champion_metrics(client: Any, name: str) -> tuple[str | None, dict[str, float] | None]:
    """(version, metrics) of the current champion, read from its `metric.*` version tags."""
    try:
        mv = client.get_model_version_by_alias(name, "champion")
    except Exception:  # no registered model or no alias yet
        return None, None
    metrics = {k.removeprefix("metric."): float(v) for k, v in mv.tags.items() if k.startswith("metric.")}
    return mv.version, metrics


def find_train_run(client: Any, experiment_id: str, model_sha256: str) -> Any | None:
    """The newest train run whose logged model has this file hash."""
    runs = client.search_runs([experiment_id], filter_string=(
        f"tags.`geih.stage` = 'train' and tags.`geih.model_sha256` = '{model_sha256}'"),
        order_by=["attributes.start_time DESC"], max_results=1)
    return runs[0] if runs else None


def register_version(client: Any, name: str, model_uri: str, run_id: str, tags: dict[str, str]) -> Any:
    """Create the registered model if needed and a new version from `model_uri`, tagged."""
    from mlflow.exceptions import MlflowException

    try:
        client.create_registered_model(name, description=f"GEIH {name} (DVC pipeline)")
    except MlflowException:
        pass  # already exists
    mv = client.create_model_version(name, model_uri, run_id=run_id, tags=tags)
    return mv


def set_alias(client: Any, name: str, alias: str, version: str) -> None:
    client.set_registered_model_alias(name, alias, version)
