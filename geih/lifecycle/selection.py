"""Choosing and promoting models outside the pipeline: list registry versions, find the best
evaluated run by a metric among runs of one task definition, promote it to `champion`."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from geih.errors import GeihError
from geih.lifecycle.registry import (
    CHAMPION,
    ModelSource,
    alias_version,
    current_champion,
    find_model_source,
    metric_tags,
    register_and_alias,
    registered_name,
    version_with_model,
)
from geih.lifecycle.task_definition import FINGERPRINT_TAG, TaskDefinition
from geih.lifecycle.tracking import client as _client
from geih.lifecycle.tracking import experiment_name, tracking_uri

log = logging.getLogger(__name__)


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
    """Every registered version of the task's model with its aliases, headline metrics and task
    definition fingerprint."""
    client = _client()
    name = registered_name(task)
    aliases = aliases_by_version(client, name)
    versions = client.search_model_versions(f"name = '{name}'")
    out = []
    for mv in sorted(versions, key=lambda v: int(v.version)):
        out.append({"name": name, "version": str(mv.version), "aliases": aliases.get(str(mv.version), []),
                    "run_id": mv.run_id, "roc_auc": mv.tags.get("metric.roc_auc"),
                    "pr_auc": mv.tags.get("metric.pr_auc"), "dvc_exp": mv.tags.get("dvc.exp_name", ""),
                    "definition": mv.tags.get(FINGERPRINT_TAG, ""), "decision": mv.tags.get("geih.decision", "")})
    return out


def format_versions(rows: list[dict[str, Any]]) -> str:
    """A plain table of `list_versions` output."""
    if not rows:
        return "no registered versions"
    head = (f"{'name':<20} {'version':>7}  {'aliases':<20} {'roc_auc':>8} {'pr_auc':>8}  {'dvc_exp':<16} "
            f"{'definition':<16} run_id")
    lines = [head]
    for r in rows:
        roc = f"{float(r['roc_auc']):.4f}" if r["roc_auc"] else "-"
        pr = f"{float(r['pr_auc']):.4f}" if r["pr_auc"] else "-"
        lines.append(f"{r['name']:<20} {r['version']:>7}  {','.join(r['aliases']) or '-':<20} {roc:>8} {pr:>8}  "
                     f"{r['dvc_exp'] or '-':<16} {r['definition'] or '-':<16} {r['run_id']}")
    return "\n".join(lines)


def reference_definition(client: Any, task: str, runs: list[Any]) -> tuple[str | None, str]:
    """(fingerprint, where it comes from) of the task definition `geih models best` ranks within by
    default: the champion's, else the newest evaluate run's (None = runs recording none)."""
    champion = current_champion(client, registered_name(task))
    if champion is not None and champion.definition is not None:
        return champion.definition.fingerprint, f"the champion's (version {champion.version})"
    newest = max(runs, key=lambda r: r.info.start_time)
    return newest.data.tags.get(FINGERPRINT_TAG), f"the newest evaluate run's ({newest.info.run_id})"


def best_run(task: str, metric: str, higher_is_better: bool = True, definition: str | None = None) -> dict[str, Any]:
    """The finished evaluate run of `task` with the best value of `metric` among the runs of one task
    definition: `definition` (a fingerprint, as `geih models list` shows), else the champion's, else
    the newest evaluate run's. Runs of other definitions are counted, not ranked."""
    client = _client()
    exp = client.get_experiment_by_name(experiment_name(task))
    if exp is None:
        raise GeihError(f"no MLflow experiment {experiment_name(task)!r} in {tracking_uri()}; run the pipeline first")
    order = "DESC" if higher_is_better else "ASC"
    runs = client.search_runs([exp.experiment_id],
                              filter_string="tags.`geih.stage` = 'evaluate' and attributes.status = 'FINISHED'",
                              order_by=[f"metrics.`{metric}` {order}", "attributes.start_time DESC"],
                              max_results=5000)
    runs = [r for r in runs if metric in r.data.metrics]
    if not runs:
        raise GeihError(f"no evaluate run of task {task!r} has metric {metric!r}")
    source = "given (--definition)"
    if definition is None:
        definition, source = reference_definition(client, task, runs)
    same = [r for r in runs if r.data.tags.get(FINGERPRINT_TAG) == definition]
    others = Counter(r.data.tags.get(FINGERPRINT_TAG) or "none" for r in runs
                     if r.data.tags.get(FINGERPRINT_TAG) != definition)
    if not same:
        raise GeihError(f"no evaluate run of task {task!r} for task definition {definition} has metric {metric!r}; "
                        f"definitions with runs: {dict(others)}")
    if others:
        log.warning("%d evaluate run(s) trained for other task definitions were not ranked: %s (pick one with "
                    "--definition)", sum(others.values()), dict(others))
    best = same[0]
    return {"run_id": best.info.run_id, "metric": metric, "value": best.data.metrics[metric],
            "model_sha256": best.data.tags.get("geih.model_sha256"),
            "dvc_exp_name": best.data.tags.get("dvc.exp_name", ""), "git_commit": best.data.tags.get("git.commit"),
            "pipeline_run": best.data.tags.get("geih.pipeline_run", ""), "experiment_id": exp.experiment_id,
            "task_definition": definition, "task_definition_source": source,
            "other_definitions": dict(others)}


PROVENANCE_PREFIXES = ("dvc.", "git.", "geih.pipeline_run")


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
    definition = TaskDefinition.from_tags(run.data.tags)
    reason = (f"promoted by `geih models best --promote` (evaluate run {evaluate_run_id}, task definition "
              f"{definition.fingerprint if definition else 'not recorded'})")
    tags = {**metric_tags({k: v for k, v in run.data.metrics.items() if "." not in k}), "geih.task": task,
            "geih.decision": reason, **(definition.tags() if definition else {})}
    existing = version_with_model(client, name, sha)
    if existing is None:  # provenance of a new version: the evaluated pipeline run
        tags.update({k: v for k, v in run.data.tags.items() if k.startswith(PROVENANCE_PREFIXES)})

    def source() -> ModelSource:
        found = find_model_source(client, run.info.experiment_id, sha)
        if found is None:
            raise GeihError(f"no run logged the model {sha[:12]}… scored by run {evaluate_run_id}")
        return found

    mv, registered = register_and_alias(client, name, sha, source, tags, CHAMPION, existing=existing)
    log.info("%s version %s → champion (%s)", name, mv.version, reason)
    return {"name": name, "version": str(mv.version), "registered": registered,
            "previous_champion_version": str(previous.version) if previous is not None else None}
