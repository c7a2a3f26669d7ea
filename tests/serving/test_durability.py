"""The server as its own process: kill -9 loses nothing acknowledged; SIGHUP reloads."""

import os
import signal
import subprocess
import sys
import time

import pytest

from sklearn_recsys.serving import PredictionLog


def _start(path, log, port):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sklearn_recsys.cli",
            "serve",
            str(path),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log",
            str(log),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    return proc


def _wait_healthy(proc, tools, port, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            c = tools.Client(port)
            status, body = c.call("GET", "/health")
            if status == 200:
                return c
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not become healthy")


@pytest.mark.slow
def test_kill_9_loses_no_acknowledged_request_and_sighup_reloads(
    saved_models, tmp_path, tools, interactions
):
    X, _, _ = interactions
    first, second = saved_models
    model = tmp_path / "served.skops"
    for suffix in ("", ".json"):
        (tmp_path / f"served.skops{suffix}").write_bytes(open(f"{first}{suffix}", "rb").read())
    log = tmp_path / "log.db"
    port = tools.free_port()
    proc = _start(model, log, port)
    try:
        c = _wait_healthy(proc, tools, port)
        rows = X.drop(columns="timestamp").head(200).to_dict(orient="records")
        acknowledged, feedback = [], []
        for j in range(150):
            status, body = c.call("POST", "/score", {"rows": rows[j % 200 : j % 200 + 1]})
            assert status == 200
            acknowledged.append(body["request_id"])
            if j % 10 == 0:
                status, _ = c.call(
                    "POST",
                    "/feedback",
                    {"request_id": body["request_id"], "item_id": rows[j]["item_id"], "label": 1},
                )
                assert status == 200
                feedback.append(body["request_id"])
        old_version = c.call("GET", "/health")[1]["model_version"]
        # SIGHUP swaps to whatever file is at the path now
        for suffix in (".json", ""):  # a torn pair is retried by the loader
            (tmp_path / f"served.skops{suffix}").write_bytes(open(f"{second}{suffix}", "rb").read())
        proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 60
        version = old_version
        while version == old_version and time.monotonic() < deadline:
            time.sleep(0.1)
            version = c.call("GET", "/health")[1]["model_version"]
        assert version != old_version
        status, body = c.call("POST", "/score", {"rows": rows[:1]})
        assert status == 200 and body["model_version"] == version
        acknowledged.append(body["request_id"])
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    logged = PredictionLog(log)
    assert set(acknowledged) <= set(logged.request_ids())
    assert sorted(logged.labelled()["request_id"]) == sorted(feedback)
