"""Switching a new SQLite store to WAL while other processes create it: retried while 'database is locked'."""

from __future__ import annotations

import sqlite3

import pytest

from geih.monitoring.store import _set_wal


class FlakyCursor:
    def __init__(self, failures: int, message: str = "database is locked") -> None:
        self.failures, self.message, self.calls = failures, message, 0

    def execute(self, sql: str) -> None:
        assert sql == "PRAGMA journal_mode=WAL"
        self.calls += 1
        if self.calls <= self.failures:
            raise sqlite3.OperationalError(self.message)


def test_a_locked_switch_is_retried_until_it_succeeds():
    cursor = FlakyCursor(failures=3)
    _set_wal(cursor, timeout_s=5.0)
    assert cursor.calls == 4


def test_another_error_is_not_retried():
    cursor = FlakyCursor(failures=1, message="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        _set_wal(cursor, timeout_s=5.0)
    assert cursor.calls == 1


def test_a_lock_that_outlasts_the_timeout_is_raised():
    cursor = FlakyCursor(failures=10**6)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        _set_wal(cursor, timeout_s=0.2)
    assert cursor.calls >= 2
