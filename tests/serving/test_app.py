"""The live server: every endpoint, every 4xx, the token, hot reload under load."""

import threading

import numpy as np
import pytest

from sklearn_recsys.serving import PredictionLog, create_app

TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def server(saved_models, tmp_path_factory, tools):
    first, _ = saved_models
    log = tmp_path_factory.mktemp("log") / "log.db"
    app = create_app(
        first,
        log=log,
        token=TOKEN,
        max_rows=500,
        max_body_bytes=200_000,
        monitor_params={"min_samples": 50, "min_feedback": 20},
    )
    srv = tools.ThreadServer(app)
    srv.app, srv.log_path = app, log
    yield srv
    srv.stop()


@pytest.fixture
def client(server, tools):
    c = tools.Client(server.port, token=TOKEN)
    yield c
    c.conn.close()


def _rows(X, n, start=0):
    return X.drop(columns="timestamp").iloc[start : start + n].to_dict(orient="records")


def test_score_returns_the_pipelines_scores_and_logs_them(
    client, interactions, lgbm_pipeline, server
):
    X, _, _ = interactions
    status, body = client.call("POST", "/score", {"rows": _rows(X, 25)})
    assert status == 200
    np.testing.assert_array_equal(body["scores"], lgbm_pipeline.predict_proba(X.iloc[:25])[:, 1])
    logged = PredictionLog(server.log_path).get_request(body["request_id"])
    assert logged["items"] == X["item_id"].iloc[:25].tolist()
    assert logged["scores"] == body["scores"]
    assert logged["model_version"] == body["model_version"]


def test_recommend_whole_catalogue_candidates_and_cold_start(client, interactions):
    X, _, _ = interactions
    user = int(X["user_id"].iloc[0])
    status, body = client.call("POST", "/recommend", {"user_id": user, "k": 7})
    assert status == 200 and len(body["items"]) == 7 and body["cold_start"] is False
    assert body["scores"] == sorted(body["scores"], reverse=True)
    status, body = client.call(
        "POST", "/recommend", {"user_id": "someone-new", "k": 2, "candidates": [1, 2, 3]}
    )
    assert status == 200 and body["cold_start"] is True and len(body["items"]) == 2
    assert set(body["items"]) <= {1, 2, 3}


def test_feedback_joins_the_log(client, interactions, server):
    X, _, _ = interactions
    _, body = client.call("POST", "/score", {"rows": _rows(X, 3)})
    item = int(X["item_id"].iloc[1])
    status, fb = client.call(
        "POST", "/feedback", {"request_id": body["request_id"], "item_id": item, "label": 1}
    )
    assert status == 200 and fb["status"] == "recorded"
    frame = PredictionLog(server.log_path).labelled()
    row = frame[frame["request_id"] == body["request_id"]].iloc[0]
    assert row["item_id"] == item and row["label"] == 1
    assert row["score"] == body["scores"][1]


@pytest.mark.parametrize(
    "payload, status, loc, text",
    [
        (
            {"rows": [{"user_id": 1, "price": 1.0, "position": 1, "category": "mug"}]},
            422,
            ["body", "rows", 0, "item_id"],
            "missing column 'item_id'",
        ),
        (
            {
                "rows": [
                    {
                        "user_id": float("nan"),
                        "item_id": 1,
                        "price": 1.0,
                        "position": 1,
                        "category": "mug",
                    }
                ]
            },
            422,
            ["body", "rows", 0, "user_id"],
            "got NaN",
        ),
        (
            {
                "rows": [
                    {"user_id": None, "item_id": 1, "price": 1.0, "position": 1, "category": "mug"}
                ]
            },
            422,
            ["body", "rows", 0, "user_id"],
            "got None",
        ),
        (
            {
                "rows": [
                    {"user_id": 1, "item_id": 1, "price": "cheap", "position": 1, "category": "mug"}
                ]
            },
            422,
            ["body", "rows", 0, "price"],
            "finite number",
        ),
        (
            {
                "rows": [
                    {"user_id": 1, "item_id": [1], "price": 1.0, "position": 1, "category": "mug"}
                ]
            },
            422,
            ["body", "rows", 0, "item_id"],
            "valid",
        ),
        ({"rows": []}, 422, ["body", "rows"], "at least 1"),
        ({"rowz": []}, 422, ["body", "rows"], "Field required"),
    ],
)
def test_score_rejects_bad_input_with_the_field_named(client, payload, status, loc, text):
    got, body = client.call("POST", "/score", payload)
    assert got == status
    detail = body["detail"]
    assert any(d["loc"][: len(loc)] == loc and text in d["msg"] for d in detail), detail


def test_other_4xx(client, interactions):
    X, _, _ = interactions
    # too many rows, too large a body, malformed JSON
    status, body = client.call("POST", "/score", {"rows": _rows(X, 1) * 501})
    assert status == 413 and "max_rows=500" in body["detail"][0]["msg"]
    status, body = client.call("POST", "/score", {"rows": _rows(X, 1) * 3000})
    assert status == 413 and "max_body_bytes=200000" in body["detail"]
    status, body = client.call("POST", "/score", raw="{not json")
    assert status == 422 and body["detail"][0]["type"] == "json_invalid"
    # recommend / feedback validation
    status, body = client.call("POST", "/recommend", {"user_id": 1, "k": 0})
    assert status == 422 and body["detail"][0]["loc"] == ["body", "k"]
    status, body = client.call("POST", "/recommend", {"user_id": 1.5})
    assert status == 422 and body["detail"][0]["loc"][:2] == ["body", "user_id"]
    status, body = client.call(
        "POST", "/feedback", {"request_id": "missing", "item_id": 1, "label": 1}
    )
    assert status == 404 and "not in the prediction log" in body["detail"][0]["msg"]
    _, scored = client.call("POST", "/score", {"rows": _rows(X, 1)})
    status, body = client.call(
        "POST", "/feedback", {"request_id": scored["request_id"], "item_id": -5, "label": 1}
    )
    assert status == 422 and body["detail"][0]["loc"] == ["body", "item_id"]
    status, body = client.call(
        "POST", "/feedback", {"request_id": scored["request_id"], "item_id": 1, "label": 2}
    )
    assert status == 422 and body["detail"][0]["loc"] == ["body", "label"]
    status, body = client.call("POST", "/reload", {"path": "/no/such/model.skops"})
    assert status == 422 and body["detail"][0]["loc"] == ["body", "path"]
    # the server still answers
    assert client.call("GET", "/health")[0] == 200


def test_token_is_required_except_for_health(client):
    for method, path in [
        ("POST", "/score"),
        ("POST", "/recommend"),
        ("POST", "/feedback"),
        ("GET", "/metrics"),
        ("GET", "/monitor"),
        ("POST", "/reload"),
    ]:
        status, body = client.call(method, path, {}, token=None)
        assert status == 401, path
        status, _ = client.call(method, path, {}, token="wrong")
        assert status == 401, path
    status, body = client.call("GET", "/health", token=None)
    assert status == 200 and body["status"] == "ok"


def test_metrics_and_monitor(client, interactions):
    X, _, _ = interactions
    for start in range(0, 200, 50):
        assert client.call("POST", "/score", {"rows": _rows(X, 50, start)})[0] == 200
    status, text = client.call("GET", "/metrics")
    assert status == 200
    for name in (
        'sklearn_recsys_request_duration_seconds_bucket{endpoint="/score"',
        "sklearn_recsys_rows_scored_total",
        "sklearn_recsys_predicted_positive_rate",
        'sklearn_recsys_feature_psi{feature="price"}',
        "sklearn_recsys_alerts",
        "sklearn_recsys_model_info{version=",
    ):
        assert name in text, name
    status, rep = client.call("GET", "/monitor")
    assert status == 200 and rep["n_rows"] >= 200
    assert set(rep["features"]) >= {"price", "position", "item_popularity", "category"}
    assert rep["alerts"] == []  # training rows replayed: no drift
    assert rep["long_tail"]["n_lists"] >= 1


def test_drifted_traffic_raises_alerts_in_monitor_and_metrics(server, tools, interactions):
    X, _, _ = interactions
    # a server of its own: the shifted traffic must not disturb the other tests' window
    c = tools.Client(server.port, token=TOKEN)
    rows = X.drop(columns="timestamp").iloc[:200].assign(price=lambda d: d["price"] * 20)
    app = server.app
    before = app.state.model.monitor.report()["n_rows"]
    status, _ = c.call("POST", "/score", {"rows": rows.to_dict(orient="records")})
    assert status == 200
    status, rep = c.call("GET", "/monitor")
    assert rep["n_rows"] == before + 200
    assert "price" in {a["name"] for a in rep["alerts"]}
    _, text = c.call("GET", "/metrics")
    assert 'sklearn_recsys_alert{kind="feature_drift",name="price"} 1.0' in text


def test_hot_reload_under_concurrent_requests(server, saved_models, tools, interactions):
    X, _, _ = interactions
    first, second = saved_models
    rows = _rows(X, 5)
    results, errors = [], []
    stop = threading.Event()

    def hammer():
        c = tools.Client(server.port, token=TOKEN)
        for _ in range(300):  # bounded
            if stop.is_set():
                break
            try:
                status, body = c.call("POST", "/score", {"rows": rows})
                results.append((status, body.get("model_version")))
            except Exception as exc:  # a failed request is what this test looks for
                errors.append(repr(exc))
        c.conn.close()

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    c = tools.Client(server.port, token=TOKEN)
    versions = []
    for path in (second, first, second):
        status, body = c.call("POST", "/reload", {"path": str(path)})
        assert status == 200, body
        versions.append(body["model_version"])
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert results and all(s == 200 for s, _ in results)
    assert {v for _, v in results} <= set(versions)
    assert c.call("GET", "/health")[1]["model_version"] == versions[-1]
    # back to the first model for the other tests
    assert c.call("POST", "/reload", {"path": str(first)})[0] == 200
