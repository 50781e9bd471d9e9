"""User-facing errors: they name the file, row, column or params key at fault."""

from __future__ import annotations


class GeihError(Exception):
    """An error meant for a person: printed without a traceback, exit status non-zero."""


class DataError(GeihError):
    """Bad input data, located by file, row (1-based, header = row 1) and column when known."""

    def __init__(self, message: str, file: str | None = None, row: int | None = None,
                 column: str | None = None) -> None:
        self.file, self.row, self.column, self.detail = file, row, column, message
        where = ", ".join(p for p in (
            f"file {file}" if file else "",
            f"row {row}" if row is not None else "",
            f"column {column!r}" if column else "",
        ) if p)
        super().__init__(f"{where}: {message}" if where else message)


class ParamsError(GeihError):
    """A params.yaml key with a missing or invalid value."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(f"params key {key!r}: {message}")
