"""The `compute` params group: scheduler resolution, DASK_SCHEDULER_ADDRESS, errors, the client's life."""

from __future__ import annotations

import os
import socket

import pytest

from geih.compute.cluster import SCHEDULER_ENV, ComputeConfig, compute_config, dask_client
from geih.errors import ParamsError

BASE = {"scheduler": None, "workers": 2, "threads_per_worker": 1, "memory_limit": "4GiB", "connect_timeout_s": 10,
        "band_deg": 4.0}


def config(env: dict[str, str] | None = None, **changes) -> ComputeConfig:
    return compute_config({**BASE, **changes}, env or {})


@pytest.mark.parametrize("value", [None, ""])
def test_no_scheduler_is_the_single_machine_path(value):
    c = config(scheduler=value)
    assert c.scheduler is None and not c.distributed


@pytest.mark.parametrize("value, expected", [("local", "local"), ("tcp://127.0.0.1:8786", "tcp://127.0.0.1:8786"),
                                             (" tcp://dask-scheduler.internal:8786 ", "tcp://dask-scheduler.internal:8786")])
def test_local_and_addresses_are_accepted(value, expected):
    c = config(scheduler=value)
    assert c.scheduler == expected and c.distributed and c.source == "compute.scheduler"


@pytest.mark.parametrize("value", ["remote", "http://127.0.0.1:8786", "tcp://127.0.0.1", "tcp://host:0",
                                   "tcp://host:70000", 8786, True])
def test_a_bad_scheduler_names_the_param(value):
    with pytest.raises(ParamsError, match="compute.scheduler"):
        config(scheduler=value)


def test_the_environment_overrides_the_param():
    c = config({SCHEDULER_ENV: "tcp://10.0.0.5:8786"}, scheduler="local")
    assert c.scheduler == "tcp://10.0.0.5:8786" and c.source == SCHEDULER_ENV
    assert config({SCHEDULER_ENV: ""}, scheduler="local").scheduler == "local"  # empty: not set


def test_a_bad_environment_address_names_the_variable():
    with pytest.raises(ParamsError, match=SCHEDULER_ENV):
        config({SCHEDULER_ENV: "127.0.0.1:8786"})


@pytest.mark.parametrize("changes, key", [({"workers": 0}, "compute.workers"), ({"workers": 1.5}, "compute.workers"),
                                          ({"threads_per_worker": 0}, "compute.threads_per_worker"),
                                          ({"memory_limit": "lots"}, "compute.memory_limit"),
                                          ({"memory_limit": 4}, "compute.memory_limit"),
                                          ({"connect_timeout_s": 0}, "compute.connect_timeout_s"),
                                          ({"band_deg": 0}, "compute.band_deg"),
                                          ({"nodes": 3}, "compute.nodes")])
def test_bad_cluster_settings_name_their_key(changes, key):
    with pytest.raises(ParamsError, match=key.replace(".", r"\.")):
        config(**changes)


def test_without_a_scheduler_there_is_no_client():
    with dask_client(config()) as client:
        assert client is None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_scheduler_is_a_params_error_after_the_timeout():
    c = config(scheduler=f"tcp://127.0.0.1:{free_port()}", connect_timeout_s=0.2)
    with pytest.raises(ParamsError, match=r"compute.scheduler.*no Dask scheduler answered.*within 0.2 s"):
        with dask_client(c):
            pass


def test_an_unreachable_environment_scheduler_names_the_variable():
    c = config({SCHEDULER_ENV: f"tcp://127.0.0.1:{free_port()}"}, connect_timeout_s=0.2)
    with pytest.raises(ParamsError, match=SCHEDULER_ENV):
        with dask_client(c):
            pass


@pytest.mark.pipeline  # starts worker processes
def test_a_local_cluster_runs_on_loopback_and_stops_even_on_error():
    c = config(scheduler="local", workers=1, memory_limit="1GiB")
    seen, environ = {}, dict(os.environ)
    with pytest.raises(RuntimeError, match="boom"):
        with dask_client(c) as client:
            seen["client"], seen["cluster"] = client, client.cluster
            assert client.scheduler.address.startswith("tcp://127.0.0.1:")
            workers = client.scheduler_info()["workers"]
            assert len(workers) == 1 and all(w.startswith("tcp://127.0.0.1:") for w in workers)
            assert client.cluster.scheduler.http_server.address == "127.0.0.1"  # its HTTP endpoints too
            assert client.submit(sum, [1, 2, 3]).result() == 6
            raise RuntimeError("boom")
    assert seen["client"].status == "closed"
    assert seen["cluster"].status.name == "closed"
    # the nannies' OMP_NUM_THREADS=1 & co. do not outlive the cluster (later processes would inherit them)
    assert dict(os.environ) == environ
