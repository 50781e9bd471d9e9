"""GEIH MLOps library: everything the DVC stages and the `geih` CLI call."""

__version__ = "0.1.0"
