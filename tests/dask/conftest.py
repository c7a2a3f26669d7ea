"""Fixtures of the Dask tests: a small local cluster and a small interaction log.

Every test here is marked ``dask`` (deselect them with ``-m "not dask"``); the cluster tests
start a 2-worker ``LocalCluster`` (worker processes, so that a worker can be killed and
LightGBM's per-worker network runs as on real hosts) once per module.
"""

import pytest

pytest.importorskip("distributed")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "dask: needs dask / distributed and may start a LocalCluster (tests/dask)"
    )


@pytest.fixture(scope="module")
def client():
    """A 2-worker LocalCluster (one thread each, 1 GiB per worker) and its client."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            memory_limit="1GiB",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def log():
    """8 000 interactions with ids, a category, numeric columns and a rare label."""
    from sklearn_recsys.datasets import make_interactions

    return make_interactions(n_users=300, n_items=150, n_interactions=8000, random_state=1)


@pytest.fixture(scope="module")
def Xy(log):
    return log.interactions.drop(columns="purchase"), log.interactions["purchase"]


def _to_dask(X, y=None, npartitions=4):
    import dask
    import dask.dataframe as dd

    with dask.config.set({"dataframe.convert-string": False}):
        Xd = dd.from_pandas(X, npartitions=npartitions, sort=False)
        if y is None:
            return Xd
        return Xd, dd.from_pandas(y, npartitions=npartitions, sort=False)


@pytest.fixture(scope="session")
def to_dask():
    """``to_dask(X, y=None, npartitions=4)``: pandas objects as Dask collections split alike."""
    return _to_dask
