"""Choosing and promoting models outside the pipeline: list registry versions, find the best
evaluated run by a metric, promote it to `champion`."""

from __future__ import annotations

import logging
from typing import Any

from geih.errors import GeihError
from geih.lifecycle.registry import (
    CHAMPION,
    alias_version,
    find_train_run,
    metric_tags,
    register_version,
    registered_name,
    set_alias,
    train_model_uri,
    version_with_model,
)
from geih.lifecycle.tracking import connect, experiment_name, tracking_uri

log = logging.getLogger(__name__)


def _client() -> Any:
    from mlflow import MlflowClient

    connect()
    return MlflowClient()


def aliases_by_version(client: Any, name: str) -> dict[str, list[str]]:
    """{version: [aliases]} of a registered model (search results do not carry aliases)."""
    from mlflow.exceptions import MlflowException

    try:
        aliases = client.get_registered_model(name).aliases
    except MlflowException:
        return {}
    out: dict[str, list[str]] = {}
    for alias, version in sorted(aliases.items()):
        out.setdefault(str(version), []).append(alias)
    return out


def list_versions(task: str) -> list[dict[str, Any]]:
    """Every registered version of the task's model with its aliases and headline metrics."""
    client = _client()
    name = registered_name(task)
    aliases = aliases_by_version(client, name)
    versions = client.search_model_versions(f"name = '{name}'")
    out = []
    for mv in sorted(versions, key=lambda v: int(v.version)):
        out.append({"name": name, "version": str(mv.version), "aliases": aliases.get(str(mv.version), []),
                    "run_id": mv.run_id, "roc_auc": mv.tags.get("metric.roc_auc"),
                    "pr_auc": mv.tags.get("metric.pr_auc"), "dvc_exp": mv.tags.get("dvc.exp_name", ""),
                    "decision": mv.tags.get("geih.decision", "")})
    return out


def format_versions(rows: list[dict[str, Any]]) -> str:
    """A plain table of `list_versions` output."""
    if not rows:
        return "no registered versions"
    head = f"{'name':<20} {'version':>7}  {'aliases':<20} {'roc_auc':>8} {'pr_auc':>8}  {'dvc_exp':<16} run_id"
    lines = [head]
    for r in rows:
        roc = f"{float(r['roc_auc']):.4f}" if r["roc_auc"] else "-"
        pr = f"{float(r['pr_auc']):.4f}" if r["pr_auc"] else "-"
        lines.append(f"{r['name']:<20} {r['version']:>7}  {','.join(r['aliases']) or '-':<20} {roc:>8} {pr:>8}  "
                     f"{r['dvc_exp'] or '-':<16} {r['run_id']}")
    return "\n".join(lines)


def best_run(task: str, metric: str, higher_is_better: bool = True) -> dict[str, Any]:
    """The finished evaluate run of `task` with the best value of `metric`."""
    client = _client()
    exp = client.get_experiment_by_name(experiment_name(task))
    if exp is None:
        raise GeihError(f"no MLflow experiment {experiment_name(task)!r} in {tracking_uri()}; run the pipeline first")
    order = "DESC" if higher_is_better else "ASC"
    runs = client.search_runs([exp.experiment_id],
                              filter_string="tags.`geih.stage` = 'evaluate' and attributes.status = 'FINISHED'",
                              order_by=[f"metrics.`{metric}` {order}", "attributes.start_time DESC"],
                              max_results=50)
    runs = [r for r in runs if metric in r.data.metrics]
    if not runs:
        raise GeihError(f"no evaluate run of task {task!r} has metric {metric!r}")
    best = runs[0]
    return {"run_id": best.info.run_id, "metric": metric, "value": best.data.metrics[metric],
            "model_sha256": best.data.tags.get("geih.model_sha256"),
            "dvc_exp_name": best.data.tags.get("dvc.exp_name", ""), "git_commit": best.data.tags.get("git.commit"),
            "pipeline_run": best.data.tags.get("geih.pipeline_run", ""), "experiment_id": exp.experiment_id}


def promote(task: str, evaluate_run_id: str) -> dict[str, Any]:
    """Set alias champion on the registered version of the model that evaluate run scored,
    registering it first when no version holds that model. Returns name, version, previous."""
    client = _client()
    run = client.get_run(evaluate_run_id)
    sha = run.data.tags.get("geih.model_sha256")
    if not sha:
        raise GeihError(f"run {evaluate_run_id} has no geih.model_sha256 tag: cannot tell which model it scored")
    name = registered_name(task)
    previous = alias_version(client, name, CHAMPION)
    reason = f"promoted by `geih models best --promote` (evaluate run {evaluate_run_id})"
    headline = metric_tags({k: v for k, v in run.data.metrics.items() if "." not in k})
    mv = version_with_model(client, name, sha)
    registered = mv is None
    if mv is None:
        train = find_train_run(client, run.info.experiment_id, sha)
        if train is None:
            raise GeihError(f"no train run logged the model {sha[:12]}… scored by run {evaluate_run_id}")
        tags = {**headline, "geih.model_sha256": sha, "geih.task": task}
        tags.update({k: v for k, v in run.data.tags.items() if k.startswith(("dvc.", "git.", "geih.pipeline_run"))})
        mv = register_version(client, name, train_model_uri(train), train.info.run_id, tags)
    else:
        for key, value in headline.items():
            client.set_model_version_tag(name, str(mv.version), key, value)
    for key, value in (("geih.alias", CHAMPION), ("geih.decision", reason)):
        client.set_model_version_tag(name, str(mv.version), key, value)
    set_alias(client, name, CHAMPION, mv.version)
    log.info("%s version %s → champion (%s)", name, mv.version, reason)
    return {"name": name, "version": str(mv.version), "registered": registered,
            "previous_champion_version": str(previous.version) if previous is not None else None}
