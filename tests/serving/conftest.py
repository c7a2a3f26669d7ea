"""Shared fixtures of the serving tests: a tiny LightGBM pipeline, saved, and a live server."""

import http.client
import json
import socket
import threading
import time

import pytest
from lightgbm import LGBMClassifier
from sklearn.pipeline import make_pipeline

from sklearn_recsys.datasets import make_interactions
from sklearn_recsys.features import InteractionFeaturizer


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """A keep-alive HTTP client for 127.0.0.1 (one per thread)."""

    def __init__(self, port, token=None):
        self.port = port
        self.token = token
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, method, path, body=None, *, raw=None, token="default", headers=None):
        h = {"Content-Type": "application/json", **(headers or {})}
        token = self.token if token == "default" else token
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (None if body is None else json.dumps(body))
        self.conn.request(method, path, body=data, headers=h)
        resp = self.conn.getresponse()
        payload = resp.read()
        try:
            return resp.status, json.loads(payload)
        except ValueError:
            return resp.status, payload.decode()


class ThreadServer:
    """uvicorn serving an app in a daemon thread on a free 127.0.0.1 port."""

    def __init__(self, app):
        import uvicorn

        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)

    def stop(self):
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def interactions():
    d = make_interactions(n_users=300, n_items=150, n_interactions=5000, random_state=0)
    X = d.interactions.drop(columns=d.target_name)
    return X, d.interactions[d.target_name], d.item_info


def _pipeline(item_info=None, n_estimators=20, seed=0):
    return make_pipeline(
        InteractionFeaturizer(
            keep_id_columns=False, n_factors=4, item_info=item_info, random_state=seed
        ),
        LGBMClassifier(
            n_estimators=n_estimators, num_leaves=15, n_jobs=1, verbose=-1, random_state=seed
        ),
    ).set_output(transform="pandas")


@pytest.fixture(scope="session")
def lgbm_pipeline(interactions):
    X, y, _ = interactions
    return _pipeline().fit(X, y)


@pytest.fixture(scope="session")
def saved_models(tmp_path_factory, interactions, lgbm_pipeline):
    """Two saved pipelines (20 and 10 trees) with reference profiles."""
    from sklearn_recsys.serving import save_pipeline

    X, y, _ = interactions
    folder = tmp_path_factory.mktemp("models")
    first, second = folder / "a.skops", folder / "b.skops"
    save_pipeline(lgbm_pipeline, first, reference=X, reference_y=y)
    save_pipeline(_pipeline(n_estimators=10, seed=1).fit(X, y), second, reference=X, reference_y=y)
    return first, second


@pytest.fixture(scope="session")
def tools():
    """The helpers above, for test modules (importlib mode cannot import conftest)."""

    class Tools:
        pass

    t = Tools()
    t.Client, t.ThreadServer, t.free_port = Client, ThreadServer, free_port
    return t
