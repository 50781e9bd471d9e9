"""The monitoring store: prediction log, ground truth, metrics over time and resource samples, in one
SQL database through SQLAlchemy Core.

Where: `GEIH_MONITOR_DB` (a SQLAlchemy URL such as `postgresql+psycopg://…`, or a file path meaning SQLite),
else `<repo root>/monitoring/monitor.db` (git-ignored). Tested with SQLite; the SQL is plain Core (no
SQLite-only statements outside the connection set-up), so a server database works through its URL.

SQLite set-up: WAL journal (readers see a snapshot and never wait for the writer), a busy timeout (writers
of several processes queue instead of failing), `synchronous=NORMAL` (a killed process loses nothing
committed; a power cut may lose the last transactions, never corrupts), and writes start with
`BEGIN IMMEDIATE` so two writers never deadlock upgrading a read lock.

Tables (schema version in `schema_info`; a store written by a newer version is refused):
  requests        one row per answered request: model, task, time, latency, rows, error
  predictions     one row per scored row: model, task, time, latency, features (JSON), probability, class,
                  request id, row index, cell_id/period keys (from the event's ids) and the other ids (JSON)
  ground_truth    observed outcome per task, cell and period (`geih monitor log-truth`), unique
  metrics         performance (and drift) metrics per model version and window, over time
  resources       samples of the service process: CPU, RSS memory, store size, writer counters
  daily_rollup    per day and model version: counts, errors, latency percentiles, mean probability — what
                  retention keeps of the rows it deletes
"""

from __future__ import annotations

import json
import logging
import math
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from geih.errors import GeihError
from geih.monitoring.windows import canonical_period, window_labels
from geih.serving.events import PredictionEvent

log = logging.getLogger(__name__)

ENV_VAR = "GEIH_MONITOR_DB"
DEFAULT_RELATIVE_PATH = Path("monitoring") / "monitor.db"
SCHEMA_VERSION = 1
SCHEMA_LOCK_ID = 0x6765_6968  # PostgreSQL advisory lock key held while creating the schema ('geih')
BUSY_TIMEOUT_S = 30.0

metadata = MetaData()

schema_info = Table("schema_info", metadata, Column("key", String(64), primary_key=True),
                    Column("value", String(256), nullable=False))

requests = Table(
    "requests", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(128), nullable=False),
    Column("task", String(64), nullable=False),
    Column("model_name", String(256), nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("ts", Float, nullable=False),
    Column("latency_ms", Float, nullable=False),
    Column("n_rows", Integer, nullable=False),
    Column("error", Text),
    Index("ix_requests_task_ts", "task", "ts"),
)

predictions = Table(
    "predictions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(128), nullable=False),
    Column("row_index", Integer, nullable=False),
    Column("task", String(64), nullable=False),
    Column("model_name", String(256), nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("ts", Float, nullable=False),
    Column("latency_ms", Float, nullable=False),
    Column("features", Text, nullable=False),
    Column("probability", Float),
    Column("predicted_class", Integer),
    Column("cell_id", String(64)),
    Column("period", String(32)),
    Column("ids", Text),
    Index("ix_predictions_task_ts", "task", "ts"),
    Index("ix_predictions_key", "task", "cell_id", "period"),
)

ground_truth = Table(
    "ground_truth", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("task", String(64), nullable=False),
    Column("cell_id", String(64), nullable=False),
    Column("period", String(32), nullable=False),
    Column("observed", Integer, nullable=False),
    Column("logged_at", Float, nullable=False),
    UniqueConstraint("task", "cell_id", "period", name="uq_truth_key"),
)

metrics = Table(
    "metrics", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("task", String(64), nullable=False),
    Column("model_name", String(256), nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("window_kind", String(16), nullable=False),
    Column("window", String(32), nullable=False),
    Column("metric", String(128), nullable=False),
    Column("value", Float),
    Column("n", Integer, nullable=False),
    Column("computed_at", Float, nullable=False),
    UniqueConstraint("task", "model_name", "model_version", "window_kind", "window", "metric", name="uq_metric"),
)

resources = Table(
    "resources", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts", Float, nullable=False, index=True),
    Column("process", String(128), nullable=False),
    Column("cpu_percent", Float),
    Column("rss_bytes", Integer),
    Column("store_bytes", Integer),
    Column("queued", Integer),
    Column("written", Integer),
    Column("dropped", Integer),
    Column("failed", Integer),
)

daily_rollup = Table(
    "daily_rollup", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("task", String(64), nullable=False),
    Column("model_name", String(256), nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("day", String(10), nullable=False),
    Column("requests", Integer, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("errors", Integer, nullable=False),
    Column("latency_p50_ms", Float),
    Column("latency_p95_ms", Float),
    Column("latency_max_ms", Float),
    Column("mean_probability", Float),
    Column("positive_rate", Float),
    UniqueConstraint("task", "model_name", "model_version", "day", name="uq_rollup_day"),
)


def database_url(value: str | None = None, root: Path | None = None) -> str:
    """The store's SQLAlchemy URL: `value`, else `GEIH_MONITOR_DB`, else the default file under the repo
    root. A value with '://' is a URL; anything else is a SQLite file path (made absolute)."""
    value = value or os.environ.get(ENV_VAR)
    if value and "://" in value:
        return value
    if value:
        return f"sqlite:///{Path(value).expanduser().resolve()}"
    from geih.lifecycle.tracking import repo_root

    return f"sqlite:///{(root or repo_root()) / DEFAULT_RELATIVE_PATH}"


def _json_row(values: dict[str, Any]) -> str:
    """A row's features as compact JSON, NaN/inf written as null."""
    try:
        return json.dumps(values, separators=(",", ":"), allow_nan=False)
    except ValueError:  # a NaN or infinity: the slower cleaning pass
        clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in values.items()}
        return json.dumps(clean, separators=(",", ":"))


def event_rows(event: PredictionEvent) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The requests row and the predictions rows of one event."""
    n = len(event.probabilities)
    request = {"request_id": event.request_id, "task": event.task, "model_name": event.model_name,
               "model_version": str(event.model_version), "ts": float(event.timestamp),
               "latency_ms": float(event.latency_ms), "n_rows": n, "error": event.error}
    rows = []
    for i in range(n):
        ids = dict(event.ids[i]) if i < len(event.ids) and event.ids[i] else {}
        cell = ids.pop("cell_id", None)
        period = canonical_period(ids.pop("period", None))
        rows.append({"request_id": event.request_id, "row_index": i, "task": event.task,
                     "model_name": event.model_name, "model_version": str(event.model_version),
                     "ts": float(event.timestamp), "latency_ms": float(event.latency_ms),
                     "features": _json_row(event.features[i]) if i < len(event.features) else "{}",
                     "probability": float(event.probabilities[i]),
                     "predicted_class": int(event.predictions[i]) if i < len(event.predictions) else None,
                     "cell_id": None if cell is None else str(cell), "period": period,
                     "ids": json.dumps(ids, separators=(",", ":"), default=str) if ids else None})
    return request, rows


def _frame(conn: Connection, statement: Any) -> pd.DataFrame:
    result = conn.execute(statement)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _set_wal(cursor: Any, timeout_s: float) -> None:
    """Switch a SQLite connection to WAL. On a store that other processes are creating at the same moment the
    switch can fail at once with 'database is locked' (SQLite does not wait on the busy handler for it), so it
    is retried for up to `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class MonitorStore:
    """One monitoring database. Safe to share between threads; open one per process."""

    def __init__(self, url: str | None = None, *, busy_timeout_s: float = BUSY_TIMEOUT_S) -> None:
        self.url = database_url(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self.path: Path | None = None
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            self.path = Path(parsed.database)
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.engine = self._engine(busy_timeout_s)
            self._writer = self.engine.execution_options(geih_write=True)
            self._create_schema()
        except SQLAlchemyError as exc:
            raise GeihError(f"monitoring store {self._where()}: cannot open ({exc.__class__.__name__}: "
                            f"{str(exc).splitlines()[0]})") from exc

    def _where(self) -> str:
        return str(self.path) if self.path else make_url(self.url).render_as_string(hide_password=True)

    def _engine(self, busy_timeout_s: float) -> Engine:
        if not self.is_sqlite:
            return create_engine(self.url, pool_pre_ping=True)
        engine = create_engine(self.url, connect_args={"timeout": busy_timeout_s, "check_same_thread": False})
        busy_ms = int(busy_timeout_s * 1000)

        @event.listens_for(engine, "connect")
        def _configure(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # transactions are begun explicitly below
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
            _set_wal(cursor, busy_timeout_s)
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            immediate = conn.get_execution_options().get("geih_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction (BEGIN IMMEDIATE on SQLite), committed on success."""
        with self._writer.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction: one consistent snapshot."""
        with self.engine.begin() as conn:
            yield conn

    def _create_schema(self) -> None:
        """Create the tables when missing (under the write lock: SQLite's, or a PostgreSQL advisory lock, so
        processes racing to create a new store take turns), check the schema version. Opening an existing
        store only reads, so it never waits for a writer."""
        with self.read() as conn:
            if inspect(conn).has_table("schema_info"):
                found = conn.execute(select(schema_info.c.value)
                                     .where(schema_info.c.key == "schema_version")).scalar()
                if found is not None:
                    self._check_version(found)
                    return
        with self.write() as conn:
            if conn.dialect.name == "postgresql":  # SQLite's BEGIN IMMEDIATE serialises creators; here a lock does
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK_ID})")
            metadata.create_all(conn)
            found = conn.execute(select(schema_info.c.value).where(schema_info.c.key == "schema_version")).scalar()
            if found is None:
                conn.execute(insert(schema_info).values(key="schema_version", value=str(SCHEMA_VERSION)))
            else:
                self._check_version(found)

    def _check_version(self, found: str) -> None:
        if int(found) != SCHEMA_VERSION:
            raise GeihError(f"monitoring store {self._where()} has schema version {found}; this code reads "
                            f"version {SCHEMA_VERSION} (upgrade geih, or point {ENV_VAR} at a new store)")

    def close(self) -> None:
        self.engine.dispose()

    # ---- writes -------------------------------------------------------------------------------------------
    def insert_events(self, events: Sequence[PredictionEvent]) -> int:
        """Insert events (requests and their rows) in one transaction; returns the rows written."""
        request_rows, prediction_rows = [], []
        for e in events:
            request, rows = event_rows(e)
            request_rows.append(request)
            prediction_rows.extend(rows)
        with self.write() as conn:
            if request_rows:
                conn.execute(insert(requests), request_rows)
            if prediction_rows:
                conn.execute(insert(predictions), prediction_rows)
        return len(prediction_rows)

    def upsert_truth(self, task: str, truth: pd.DataFrame, now: float | None = None) -> int:
        """Store observed outcomes (columns cell_id, period, observed); a key already there is replaced."""
        now = time.time() if now is None else now
        rows = [{"task": task, "cell_id": str(c), "period": str(p), "observed": int(o), "logged_at": now}
                for c, p, o in zip(truth["cell_id"], truth["period"], truth["observed"])]
        with self.write() as conn:
            for start in range(0, len(rows), 5000):
                chunk = rows[start:start + 5000]
                keys = {(r["cell_id"], r["period"]) for r in chunk}
                cells = sorted({c for c, _ in keys})
                existing = conn.execute(select(ground_truth.c.id, ground_truth.c.cell_id, ground_truth.c.period)
                                        .where(ground_truth.c.task == task, ground_truth.c.cell_id.in_(cells)))
                stale = [i for i, c, p in existing if (c, p) in keys]
                if stale:
                    conn.execute(delete(ground_truth).where(ground_truth.c.id.in_(stale)))
                conn.execute(insert(ground_truth), chunk)
        return len(rows)

    def replace_metrics(self, rows: Sequence[dict[str, Any]], now: float | None = None) -> int:
        """Store metric rows (task, model_name, model_version, window_kind, window, metric, value, n),
        replacing a stored value with the same key."""
        now = time.time() if now is None else now
        key_cols = ("task", "model_name", "model_version", "window_kind", "window", "metric")
        with self.write() as conn:
            for r in rows:
                conn.execute(delete(metrics).where(*(metrics.c[k] == r[k] for k in key_cols)))
            if rows:
                conn.execute(insert(metrics), [{**r, "value": _finite(r["value"]), "computed_at": now} for r in rows])
        return len(rows)

    def insert_resource_samples(self, samples: Sequence[dict[str, Any]]) -> None:
        with self.write() as conn:
            conn.execute(insert(resources), list(samples))

    def apply_retention(self, days: float, now: float | None = None) -> dict[str, int]:
        """Roll up, then delete, requests and prediction rows of whole UTC days older than `days`; delete
        resource samples and ground truth logged before that day too (metrics and rollups are kept).
        A day rolled up before gets the new rows added to its counts (its latency percentiles become
        request-weighted means of the parts)."""
        now = time.time() if now is None else now
        cutoff = float(pd.Timestamp(now - days * 86400, unit="s").floor("D").timestamp())
        with self.write() as conn:
            old_requests = _frame(conn, select(requests).where(requests.c.ts < cutoff))
            old_rows = _frame(conn, select(predictions.c.task, predictions.c.model_name, predictions.c.model_version,
                                           predictions.c.ts, predictions.c.probability, predictions.c.predicted_class)
                              .where(predictions.c.ts < cutoff))
            rolled = rollup_days(old_requests, old_rows)
            for r in rolled:
                _merge_rollup(conn, r)
            deleted = {
                "predictions": conn.execute(delete(predictions).where(predictions.c.ts < cutoff)).rowcount,
                "requests": conn.execute(delete(requests).where(requests.c.ts < cutoff)).rowcount,
                "resources": conn.execute(delete(resources).where(resources.c.ts < cutoff)).rowcount,
                "ground_truth": conn.execute(delete(ground_truth).where(ground_truth.c.logged_at < cutoff)).rowcount,
            }
        return {**deleted, "rolled_up_days": len(rolled), "cutoff": int(cutoff)}

    # ---- reads --------------------------------------------------------------------------------------------
    def requests_frame(self, task: str | None = None, since: float | None = None,
                       until: float | None = None) -> pd.DataFrame:
        return self._select(requests, task, since, until)

    def predictions_frame(self, task: str | None = None, since: float | None = None, until: float | None = None,
                          limit: int | None = None, features: bool = True) -> pd.DataFrame:
        """Prediction rows, newest first when `limit` is set; `features` adds the parsed feature columns."""
        table = predictions
        cols = [c for c in table.c if features or c.name != "features"]
        stmt = select(*cols).where(*self._where_clauses(table, task, since, until))
        stmt = stmt.order_by(table.c.ts.desc(), table.c.id.desc()).limit(limit) if limit else stmt.order_by(table.c.id)
        with self.read() as conn:
            frame = _frame(conn, stmt)
        if features and len(frame):
            parsed = pd.DataFrame([json.loads(t) for t in frame.pop("features")], index=frame.index)
            frame = frame.join(parsed.add_prefix("feature:"))
        elif features:
            frame = frame.drop(columns="features")
        return frame

    def labelled_predictions(self, task: str, since: float | None = None) -> pd.DataFrame:
        """Prediction rows joined with their observed outcome (rows with no truth are left out)."""
        p, t = predictions, ground_truth
        stmt = (select(p.c.ts, p.c.model_name, p.c.model_version, p.c.cell_id, p.c.period, p.c.probability,
                       p.c.predicted_class, t.c.observed)
                .join(t, (t.c.task == p.c.task) & (t.c.cell_id == p.c.cell_id) & (t.c.period == p.c.period))
                .where(p.c.task == task, *([p.c.ts >= since] if since is not None else []))
                .order_by(p.c.id))
        with self.read() as conn:
            return _frame(conn, stmt)

    def resources_frame(self, since: float | None = None, until: float | None = None) -> pd.DataFrame:
        return self._select(resources, None, since, until)

    def metrics_frame(self, task: str, window_kind: str | None = None) -> pd.DataFrame:
        stmt = select(metrics).where(metrics.c.task == task)
        if window_kind:
            stmt = stmt.where(metrics.c.window_kind == window_kind)
        with self.read() as conn:
            return _frame(conn, stmt.order_by(metrics.c.window, metrics.c.model_version, metrics.c.metric))

    def rollup_frame(self, task: str | None = None) -> pd.DataFrame:
        stmt = select(daily_rollup)
        if task:
            stmt = stmt.where(daily_rollup.c.task == task)
        with self.read() as conn:
            return _frame(conn, stmt.order_by(daily_rollup.c.day))

    def truth_count(self, task: str) -> int:
        with self.read() as conn:
            return int(conn.execute(select(func.count()).select_from(ground_truth)
                                    .where(ground_truth.c.task == task)).scalar())

    def count(self, table: str, task: str | None = None) -> int:
        t = metadata.tables[table]
        stmt = select(func.count()).select_from(t)
        if task is not None and "task" in t.c:
            stmt = stmt.where(t.c.task == task)
        with self.read() as conn:
            return int(conn.execute(stmt).scalar())

    def size_bytes(self) -> int | None:
        """Bytes on disk of a SQLite store (database, WAL and shared-memory files); None for a server."""
        if self.path is None:
            return None
        return sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm"))
                   if p.exists())

    def integrity_check(self) -> str:
        """SQLite's `PRAGMA integrity_check` result ('ok' when sound); 'n/a' for other databases."""
        if not self.is_sqlite:
            return "n/a"
        with self.read() as conn:
            return ";".join(r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check"))

    def _where_clauses(self, table: Table, task: str | None, since: float | None, until: float | None) -> list:
        clauses = []
        if task is not None:
            clauses.append(table.c.task == task)
        if since is not None:
            clauses.append(table.c.ts >= since)
        if until is not None:
            clauses.append(table.c.ts < until)
        return clauses

    def _select(self, table: Table, task: str | None, since: float | None, until: float | None) -> pd.DataFrame:
        with self.read() as conn:
            return _frame(conn, select(table).where(*self._where_clauses(table, task, since, until))
                          .order_by(table.c.id))


def _finite(value: Any) -> float | None:
    return None if value is None or not math.isfinite(float(value)) else float(value)


def rollup_days(request_frame: pd.DataFrame, row_frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Per task, model version and UTC day: request, row and error counts, latency percentiles, mean
    probability and the share of rows predicted positive."""
    if request_frame.empty:
        return []
    keys = ["task", "model_name", "model_version", "day"]
    req = request_frame.assign(day=window_labels(request_frame["ts"], "day"))
    rows = row_frame.assign(day=window_labels(row_frame["ts"], "day")) if len(row_frame) else None
    out = []
    for key, sub in req.groupby(keys, sort=True):
        latency = sub["latency_ms"].to_numpy(dtype=np.float64)
        entry = dict(zip(keys, key))
        if rows is not None:
            mask = np.logical_and.reduce([rows[k].to_numpy() == v for k, v in entry.items()])
            part = rows[mask]
        else:
            part = pd.DataFrame({"probability": [], "predicted_class": []})
        out.append({**entry, "requests": len(sub), "rows": len(part), "errors": int(sub["error"].notna().sum()),
                    "latency_p50_ms": float(np.percentile(latency, 50)),
                    "latency_p95_ms": float(np.percentile(latency, 95)), "latency_max_ms": float(latency.max()),
                    "mean_probability": _finite(part["probability"].mean()) if len(part) else None,
                    "positive_rate": _finite(part["predicted_class"].mean()) if len(part) else None})
    return out


def _merge_rollup(conn: Connection, r: dict[str, Any]) -> None:
    """Insert a day's rollup, or add it to the one stored for that day."""
    key = [daily_rollup.c[k] == r[k] for k in ("task", "model_name", "model_version", "day")]
    old = conn.execute(select(daily_rollup).where(*key)).mappings().first()
    if old is not None:
        n_old, n_new = old["requests"], r["requests"]
        rows_old, rows_new = old["rows"], r["rows"]

        def mean(a: float | None, wa: int, b: float | None, wb: int) -> float | None:
            parts = [(v, w) for v, w in ((a, wa), (b, wb)) if v is not None and w]
            return sum(v * w for v, w in parts) / sum(w for _, w in parts) if parts else None

        r = {**r, "requests": n_old + n_new, "rows": rows_old + rows_new, "errors": old["errors"] + r["errors"],
             "latency_p50_ms": mean(old["latency_p50_ms"], n_old, r["latency_p50_ms"], n_new),
             "latency_p95_ms": mean(old["latency_p95_ms"], n_old, r["latency_p95_ms"], n_new),
             "latency_max_ms": max(v for v in (old["latency_max_ms"], r["latency_max_ms"]) if v is not None),
             "mean_probability": mean(old["mean_probability"], rows_old, r["mean_probability"], rows_new),
             "positive_rate": mean(old["positive_rate"], rows_old, r["positive_rate"], rows_new)}
        conn.execute(delete(daily_rollup).where(*key))
    conn.execute(insert(daily_rollup).values(**r))
