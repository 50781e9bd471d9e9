"""Choosing and promoting models outside the pipeline: list registry versions, find the best
evaluated run by a metric, promote it to `champion`."""

from __future__ import annotations

from typing import Any

from geih.errors import GeihError
from geih.registry import find_train_run, register_version, registered_name, set_alias
from geih.tracking import experiment_name, tracking_uri


def _client() -> Any:
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(tracking_uri())
    return MlflowClient()


def list_versions(task: str) -> list[dict[str, Any]]:
    """Every registered version of the task's model with its aliases and headline metrics."""
    client = _client()
    name = registered_name(task)
    versions = client.search_model_versions(f"name = '{name}'")
    out = []
    for mv in sorted(versions, key=lambda v: int(v.version)):
        out.append({"name": name, "version": mv.version, "aliases": list(mv.aliases), "run_id": mv.run_id,
                    "roc_auc": mv.tags.get("metric.roc_auc"), "pr_auc": mv.tags.get("metric.pr_auc"),
                    "dvc_exp": mv.tags.get("dvc.exp_name", "")})
    return out


def format_versions(rows: list[dict[str, Any]]) -> str:
    """A plain table of `list_versions` output."""
    if not rows:
        return "no registered versions"
    head = f"{'name':<22} {'version':>7}  {'aliases':<22} {'roc_auc':>8} {'pr_auc':>8}  run_id"
    lines = [head]
    for r in rows:
        roc = f"{float(r['roc_auc']):.4f}" if r["roc_auc"] else "-"
        pr = f"{float(r['pr_auc']):.4f}" if r["pr_auc"] else "-"
        lines.append(f"{r['name']:<22} {r['version']:>7}  {','.join(r['aliases']) or '-':<22} {roc:>8} {pr:>8}  {r['run_id']}")
    return "\n".join(lines)


def best_run(task: str, metric: str, higher_is_better: bool = True) -> dict[str, Any]:
    """The evaluate run of `task` with the best value of `metric`."""
    client = _client()
    exp = client.get_experiment_by_name(experiment_name(task))
    if exp is None:
        raise GeihError(f"no MLflow experiment {experiment_name(task)!r} in {tracking_uri()}; run the pipeline first")
    order = "DESC" if higher_is_better else "ASC"
    runs = client.search_runs([exp.experiment_id], filter_string="tags.`geih.stage` = 'evaluate'",
                              order_by=[f"metrics.`{metric}` {order}"], max_results=50)
    runs = [r for r in runs if metric in r.data.metrics]
    if not runs:
        raise GeihError(f"no evaluate run of task {task!r} has metric {metric!r}")
    best = runs[0]
    return {"run_id": best.info.run_id, "metric": metric, "value": best.data.metrics[metric],
            "model_sha256": best.data.tags.get("geih.model_sha256"),
            "dvc_exp_name": best.data.tags.get("dvc.exp_name", ""), "git_commit": best.data.tags.get("git.commit"),
            "experiment_id": exp.experiment_id}


def promote(task: str, evaluate_run_id: str) -> dict[str, Any]:
    """Set alias champion on the registered version of the model that evaluate run scored,
    registering it first when no version holds that model."""
    client = _client()
    run = client.get_run(evaluate_run_id)
    sha = run.data.tags.get("geih.model_sha256")
    if not sha:
        raise GeihError(f"run {evaluate_run_id} has no geih.model_sha256 tag: cannot tell which model it scored")
    name = registered_name(task)
    for mv in client.search_model_versions(f"name = '{name}'"):
        if mv.tags.get("geih.model_sha256") == sha:
            set_alias(client, name, "champion", mv.version)
            return {"name": name, "version": mv.version}
    train = find_train_run(client, run.info.experiment_id, sha)
    if train is None:
        raise GeihError(f"no train run logged the model {sha[:12]}… scored by run {evaluate_run_id}")
    model_id = train.data.tags.get("geih.model_id")
    uri = f"models:/{model_id}" if model_id else f"runs:/{train.info.run_id}/model"
    tags = {f"metric.{k}": str(v) for k, v in run.data.metrics.items()}
    tags.update({"geih.model_sha256": sha, "geih.decision": "promoted by geih models best --promote"})
    mv = register_version(client, name, uri, train.info.run_id, tags)
    set_alias(client, name, "champion", mv.version)
    return {"name": name, "version": mv.version}
