"""What every stage script shares: logging set-up and turning GeihError into a clean exit."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from geih.errors import GeihError

log = logging.getLogger("geih")


def configure_logging(level: int = logging.INFO) -> None:
    """Log to stderr with a short format; quieten chatty libraries."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    for noisy in ("mlflow", "alembic", "urllib3", "git", "matplotlib", "botocore", "pyogrio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def run_main(main: Callable[[list[str] | None], None], argv: list[str] | None = None) -> int:
    """Run a stage/CLI entry point: GeihError → one clear message and exit status 2."""
    configure_logging()
    try:
        main(argv)
    except GeihError as exc:
        log.error("%s", exc)
        return 2
    except KeyboardInterrupt:
        log.error("interrupted")
        return 130
    return 0
