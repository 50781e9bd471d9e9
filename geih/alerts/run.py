"""`geih alerts` end to end: read a features file, build the alerts with a bundle, write them (atomically),
then deliver them to a webhook when one is given. A failed delivery is a GeihError raised *after* the file
is written (the command exits 2 and the file stays)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from geih.alerts.formats import feature_collection, level_counts, output_format, write_alerts
from geih.alerts.levels import parse_levels
from geih.alerts.table import AlertModel, build_alerts, load_alert_model
from geih.alerts.webhook import Delivery, Webhook, deliver
from geih.errors import DataError, GeihError

log = logging.getLogger(__name__)


def read_features(path: Path) -> pd.DataFrame:
    """A Parquet or CSV features file; in a CSV, a text column holding ISO dates only is read as dates."""
    path = Path(path)
    if not path.is_file():
        raise DataError("input file not found", file=str(path))
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path)
        if suffix == ".csv":
            frame = pd.read_csv(path)
            for column in frame.columns:
                if pd.api.types.is_string_dtype(frame[column]):
                    parsed = pd.to_datetime(frame[column], format="ISO8601", errors="coerce")
                    if parsed.notna().all() and len(parsed):
                        frame[column] = parsed
            return frame
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot be read ({exc})", file=str(path)) from exc
    raise DataError(f"expected a .parquet or .csv features file, got {suffix or 'no extension'!r}", file=str(path))


def make_alerts(model: AlertModel, input_path: Path, levels: str, period: str) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """(alerts, the alerting levels) of a features file."""
    chosen = parse_levels(levels, model.levels)
    return build_alerts(read_features(input_path), model, chosen, period, source=str(input_path)), chosen


def run_alerts(bundle: Path, input_path: Path, out: Path, levels: str = "alto,crítico", period: str = "latest",
               fmt: str | None = None, webhook: Webhook | None = None) -> tuple[pd.DataFrame, Delivery | None]:
    """Write the alerts of `input_path` to `out`, then deliver them (GeoJSON) to `webhook` if given."""
    output_format(out, fmt)  # a bad --out or --format stops before any work
    model = load_alert_model(bundle)
    alerts, chosen = make_alerts(model, input_path, levels, period)
    write_alerts(alerts, out, model.grid_resolution_deg, chosen, fmt)
    log.info("%d alert(s) %s written to %s", len(alerts), level_counts(alerts, chosen), out)
    if webhook is None:
        return alerts, None
    body = json.dumps(feature_collection(alerts, model.grid_resolution_deg, chosen), ensure_ascii=False).encode()
    delivery = deliver(webhook, body)
    if not delivery.ok:
        raise GeihError(f"alerts written to {out}, but the webhook {webhook.url} did not take them after "
                        f"{delivery.attempts} attempt(s): {delivery.error}")
    log.info("webhook %s took the alerts (HTTP %s, %d attempt(s))", webhook.url, delivery.status, delivery.attempts)
    return alerts, delivery
