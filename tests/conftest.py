"""Shared test set-up: no analytics/telemetry, a throwaway MLflow store per test session."""

from __future__ import annotations

import os

os.environ.setdefault("DVC_NO_ANALYTICS", "1")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("PYTHONHASHSEED", "0")
