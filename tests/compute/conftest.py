"""A Dask client on an in-process cluster (threads) for the tests of the Dask executors. Its dashboard takes a free
loopback port: `dashboard_address=None` still means distributed's default 8787, which another cluster (the other
pytest-xdist worker's, a user's) may hold: distributed then warns and moves."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def dask_client():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address="127.0.0.1:0") as cluster, \
            Client(cluster) as client:
        yield client
