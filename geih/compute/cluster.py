"""The `compute` params group and the Dask client it names.

`compute.scheduler`: null or "" runs everything in this process (the single-machine path);
`local` starts a `LocalCluster` on 127.0.0.1 (`workers` processes × `threads_per_worker` threads,
`memory_limit` each) for the stage and stops it afterwards, also on error; `tcp://host:port`
connects to a running scheduler within `connect_timeout_s`. The environment variable
DASK_SCHEDULER_ADDRESS, when set and not empty, overrides `compute.scheduler`.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from geih.errors import ParamsError
from geih.params import check_keys, number

log = logging.getLogger(__name__)

SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"
LOCAL = "local"
COMPUTE_KEYS = {"scheduler", "workers", "threads_per_worker", "memory_limit", "connect_timeout_s", "band_deg"}
_ADDRESS = re.compile(r"^tcp://(?P<host>[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:]+\]):(?P<port>\d{1,5})$")
_MEMORY = re.compile(r"^\d+(\.\d+)?\s*(B|kB|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")


@dataclass(frozen=True)
class ComputeConfig:
    """The checked `compute` group: the scheduler (None = this process, 'local' or 'tcp://host:port'),
    the key that named it (for errors), the LocalCluster's size, the connection timeout and the height
    of featurize's latitude bands (degrees)."""

    scheduler: str | None
    source: str
    workers: int
    threads_per_worker: int
    memory_limit: str
    connect_timeout_s: float
    band_deg: float

    @property
    def distributed(self) -> bool:
        return self.scheduler is not None


def check_scheduler(value: Any, key: str) -> str | None:
    """None for no scheduler (null or ""), 'local', or a 'tcp://host:port' address; else ParamsError(key)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ParamsError(key, f"expected null, 'local' or 'tcp://host:port', got {value!r}")
    value = value.strip()
    if value == LOCAL:
        return LOCAL
    match = _ADDRESS.match(value)
    if not match or not 0 < int(match["port"]) < 65536:
        raise ParamsError(key, f"expected null, 'local' or 'tcp://host:port' (port 1-65535), got {value!r}")
    return value


def compute_config(params: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> ComputeConfig:
    """The `compute` group checked; DASK_SCHEDULER_ADDRESS in `environ` (default os.environ) overrides
    `compute.scheduler`. Any bad value is a ParamsError naming `compute.<key>` or the variable."""
    environ = os.environ if environ is None else environ
    check_keys(dict(params), COMPUTE_KEYS, "compute")
    env_value = environ.get(SCHEDULER_ENV, "")
    if env_value:
        scheduler, source = check_scheduler(env_value, SCHEDULER_ENV), SCHEDULER_ENV
    else:
        scheduler, source = check_scheduler(params.get("scheduler"), "compute.scheduler"), "compute.scheduler"
    memory = params.get("memory_limit")
    if not isinstance(memory, str) or not _MEMORY.match(memory.strip()):
        raise ParamsError("compute.memory_limit", f"expected a size per worker such as '4GiB', got {memory!r}")
    return ComputeConfig(
        scheduler=scheduler, source=source,
        workers=int(number(dict(params), "workers", "compute", low=1, integer=True)),
        threads_per_worker=int(number(dict(params), "threads_per_worker", "compute", low=1, integer=True)),
        memory_limit=memory.strip(),
        connect_timeout_s=float(number(dict(params), "connect_timeout_s", "compute", low=0.1)),
        band_deg=float(number(dict(params), "band_deg", "compute", low=0.01)),
    )


@contextmanager
def _environ_restored() -> Iterator[None]:
    """os.environ as it was on entry, restored on exit: a LocalCluster's nannies write the
    `distributed.nanny.pre-spawn-environ` settings (OMP_NUM_THREADS=1, MKL_NUM_THREADS=1,
    MALLOC_TRIM_THRESHOLD_, …) into this process's environment and never take them back, so every
    process started afterwards (a later stage, a test's subprocess) would run with one OpenMP thread."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        for key in set(os.environ) - set(saved):
            del os.environ[key]
        os.environ.update(saved)


@contextmanager
def dask_client(config: ComputeConfig) -> Iterator[Any]:
    """A `distributed.Client` for the configured scheduler, or None without one.

    'local' starts a LocalCluster on 127.0.0.1 (its HTTP endpoints on a free loopback port, never a fixed
    8787 that another cluster may hold) and closes it on exit, error or not;
    an address is connected within `connect_timeout_s`, else ParamsError naming the key that gave it.
    """
    if config.scheduler is None:
        yield None
        return
    from distributed import Client, LocalCluster

    if config.scheduler == LOCAL:
        log.info("starting a LocalCluster on 127.0.0.1: %d workers × %d threads, %s each", config.workers,
                 config.threads_per_worker, config.memory_limit)
        with _environ_restored(), LocalCluster(
                n_workers=config.workers, threads_per_worker=config.threads_per_worker,
                memory_limit=config.memory_limit, processes=True, host="127.0.0.1",
                dashboard_address="127.0.0.1:0") as cluster, Client(cluster) as client:
            yield client
        return
    try:
        client = Client(config.scheduler, timeout=config.connect_timeout_s)
    except (OSError, TimeoutError) as exc:
        raise ParamsError(config.source, f"no Dask scheduler answered at {config.scheduler} within "
                                         f"{config.connect_timeout_s:g} s ({type(exc).__name__}: {exc}); start "
                                         f"one (`dask scheduler`) or set it to null for the single-machine path"
                          ) from exc
    log.info("connected to the Dask scheduler at %s (%d workers)", config.scheduler,
             len(client.scheduler_info().get("workers", {})))
    try:
        yield client
    finally:
        client.close()
