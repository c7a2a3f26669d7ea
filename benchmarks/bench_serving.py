"""Serving latency, throughput and drift detection of the MovieLens-100k LightGBM pipeline.

Trains the benchmark's "lightgbm" strategy (InteractionFeaturizer + 300-tree LightGBM) on the
first 80 % of each user's training rows of MovieLens-100k (per-user temporal split), saves it
with the held-out last 20 % as the reference frame of the drift monitor, starts
``sklearn-recsys serve`` (one uvicorn worker) on a free 127.0.0.1 port and runs bounded request
loops against it from this process:

- ``/score`` with 1 and 100 rows, ``/recommend`` k=10 over the whole catalogue (p50 / p99);
- single-row throughput with 1 and 4 client connections;
- the same rows scored in-process (``predict_proba`` and the fast path): the server overhead;
- drift: 1,000 single-row requests of the test split (labels sent as feedback) must raise no
  alert; 1,000 requests of tail items with twice the positive rate must raise alerts (the
  number of requests until the first alert is reported).

Prints a table and writes ``benchmarks/results/bench_serving.{json,md}``.

    python benchmarks/bench_serving.py [--data-home DIR]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"


class Client:
    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body)
        headers = {"Content-Type": "application/json"}
        try:
            self.conn.request(method, path, body=data, headers=headers)
            resp = self.conn.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # uvicorn closes keep-alive connections idle for 5 s: reconnect once
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request(method, path, body=data, headers=headers)
            resp = self.conn.getresponse()
        payload = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"{path}: {resp.status} {payload[:300]!r}")
        return json.loads(payload)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(fn, n):
    out = np.empty(n)
    for j in range(n):
        t0 = time.perf_counter()
        fn(j)
        out[j] = time.perf_counter() - t0
    return out * 1e3  # ms


def summary(ms):
    return {
        "n": len(ms),
        "p50_ms": float(np.percentile(ms, 50)),
        "p90_ms": float(np.percentile(ms, 90)),
        "p99_ms": float(np.percentile(ms, 99)),
        "mean_ms": float(ms.mean()),
    }


def throughput(port, rows, n_clients, n_per_client):
    def worker():
        c = Client(port)
        for j in range(n_per_client):
            c.call("POST", "/score", {"rows": [rows[j % len(rows)]]})

    threads = [threading.Thread(target=worker) for _ in range(n_clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return n_clients * n_per_client / (time.perf_counter() - t0)


def drift_run(c, model_path, rows, labels, n_requests, check_every=25):
    """Send rows one per request with their label as feedback; first request with an alert."""
    c.call("POST", "/reload", {"path": str(model_path)})  # a fresh monitor
    first_alert = None
    for j in range(n_requests):
        body = c.call("POST", "/score", {"rows": [rows[j]]})
        c.call(
            "POST",
            "/feedback",
            {
                "request_id": body["request_id"],
                "item_id": rows[j]["item_id"],
                "label": int(labels[j]),
            },
        )
        if (j + 1) % check_every == 0:
            rep = c.call("GET", "/monitor")
            if rep["alerts"] and first_alert is None:
                first_alert = j + 1
    rep = c.call("GET", "/monitor")
    return {
        "requests": n_requests,
        "first_alert_at": first_alert,
        "alerts_at_end": sorted({f"{a['kind']}:{a['name']}" for a in rep["alerts"]}),
        "feature_psi": {k: round(v["psi"], 4) for k, v in rep["features"].items() if v},
        "score_psi": round(rep["scores"]["psi"], 4),
        "feedback_positive_rate": rep["positive_rate"]["feedback"],
        "reference_positive_rate": rep["positive_rate"]["reference"],
        "estimated_roc_auc": rep["performance"]["estimated_roc_auc"],
        "measured_roc_auc": rep["performance"]["measured_roc_auc"],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-home", default=os.environ.get("SKLEARN_RECSYS_DATA"))
    parser.add_argument("--n-single", type=int, default=2000)
    parser.add_argument("--n-batch", type=int, default=500)
    args = parser.parse_args(argv)

    from sklearn_recsys.benchmark import STRATEGIES, load_benchmark_data
    from sklearn_recsys.model_selection import user_temporal_split
    from sklearn_recsys.serving import PipelineScorer, load_pipeline, save_pipeline

    load = os.getloadavg()
    data = load_benchmark_data("ml-100k", data_home=args.data_home)
    # the reference is a held-out window just before the test period (each user's last 20 %
    # of the training rows), as NannyML recommends: the model has not seen it, so its scores
    # and positive rate are what the traffic of an unchanged world looks like
    X_fit, X_ref, y_fit, y_ref = user_temporal_split(data.X_train, data.y_train, test_size=0.2)
    pipe = STRATEGIES["lightgbm"].factory(data)
    t0 = time.perf_counter()
    pipe.fit(X_fit, y_fit)
    fit_s = time.perf_counter() - t0
    tmp = Path(tempfile.mkdtemp(prefix="bench_serving_"))
    model = tmp / "ml100k.skops"
    t0 = time.perf_counter()
    save_pipeline(pipe, model, reference=X_ref, reference_y=y_ref)
    save_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    loaded = load_pipeline(model)
    load_s = time.perf_counter() - t0
    X_test = data.X_test.reset_index(drop=True)
    assert np.array_equal(loaded.predict_proba(X_test)[:, 1], pipe.predict_proba(X_test)[:, 1])

    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sklearn_recsys.cli",
            "serve",
            str(model),
            "--port",
            str(port),
            "--log",
            str(tmp / "log.db"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    results = {}
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                c = Client(port)
                c.call("GET", "/health")
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(proc.stderr.read().decode()[-2000:]) from None
                time.sleep(0.2)
        rng = np.random.default_rng(0)
        order = rng.permutation(len(X_test))
        cols = [c for c in X_test.columns if c != "timestamp"]
        rows = X_test.loc[order, cols].to_dict(orient="records")
        for j in range(200):  # warm-up
            c.call("POST", "/score", {"rows": [rows[j]]})
        n1, nb = args.n_single, args.n_batch
        results["score_1_row"] = summary(
            timed(lambda j: c.call("POST", "/score", {"rows": [rows[j % len(rows)]]}), n1)
        )
        batches = [rows[(j * 100) % (len(rows) - 100) :][:100] for j in range(nb)]
        results["score_100_rows"] = summary(
            timed(lambda j: c.call("POST", "/score", {"rows": batches[j]}), nb)
        )
        users = X_test["user_id"].to_numpy()[order]
        results["recommend_k10_catalogue"] = summary(
            timed(lambda j: c.call("POST", "/recommend", {"user_id": int(users[j]), "k": 10}), nb)
        )
        results["throughput_rps_1_client"] = throughput(port, rows, 1, 1000)
        results["throughput_rps_4_clients"] = throughput(port, rows, 4, 500)
        # in-process, same rows: predict_proba on a one-row frame, and the fast path
        frames = [X_test.loc[[i]] for i in order[:500]]
        results["inprocess_predict_proba_1_row"] = summary(
            timed(lambda j: pipe.predict_proba(frames[j]), 500)
        )
        scorer = PipelineScorer(loaded)
        results["inprocess_fastpath_1_row"] = summary(
            timed(lambda j: scorer.score({k: [v] for k, v in rows[j].items()}), 500)
        )
        results["overhead_vs_predict_proba_p50"] = (
            results["score_1_row"]["p50_ms"] / results["inprocess_predict_proba_1_row"]["p50_ms"]
        )
        results["overhead_vs_fastpath_p50"] = (
            results["score_1_row"]["p50_ms"] / results["inprocess_fastpath_1_row"]["p50_ms"]
        )

        # drift: unshifted test replay vs tail items with a doubled positive rate
        y_test = data.y_test.to_numpy()[order]
        results["drift_unshifted"] = drift_run(c, model, rows, y_test, 1000)
        counts = X_fit["item_id"].value_counts()
        tail = set(counts.index[counts.to_numpy() <= counts.quantile(0.5)])
        tail_rows = [r for r in rows if r["item_id"] in tail]
        train_rate = float(np.mean(y_ref))
        shifted_labels = rng.random(len(tail_rows)) < 2 * train_rate
        results["drift_shifted"] = drift_run(
            c, model, tail_rows, shifted_labels, min(1000, len(tail_rows))
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    meta = {
        "dataset": "ml-100k",
        "n_fit": len(X_fit),
        "n_reference": len(X_ref),
        "n_test": len(data.X_test),
        "catalogue": int(data.X_train["item_id"].nunique()),
        "fit_s": fit_s,
        "save_s": save_s,
        "load_s": load_s,
        "model_bytes": model.stat().st_size,
        "loadavg_before": load,
        "loadavg_after": os.getloadavg(),
        "cpus": os.cpu_count(),
        "server": "sklearn-recsys serve, 1 uvicorn worker; client in this process",
    }
    goals = [
        ("/score 1 row p50 (ms)", results["score_1_row"]["p50_ms"], "<= 5"),
        ("/score 1 row p99 (ms)", results["score_1_row"]["p99_ms"], "<= 20"),
        ("/score 100 rows p99 (ms)", results["score_100_rows"]["p99_ms"], "<= 30"),
        (
            "/recommend k=10, 1,682 items p99 (ms)",
            results["recommend_k10_catalogue"]["p99_ms"],
            "<= 50",
        ),
        ("single-row requests/s, 1 client", results["throughput_rps_1_client"], ">= 300"),
        ("single-row requests/s, 4 clients", results["throughput_rps_4_clients"], ">= 300"),
        (
            "in-process predict_proba 1 row p50 (ms)",
            results["inprocess_predict_proba_1_row"]["p50_ms"],
            "-",
        ),
        ("in-process fast path 1 row p50 (ms)", results["inprocess_fastpath_1_row"]["p50_ms"], "-"),
        (
            "server p50 / in-process predict_proba p50",
            results["overhead_vs_predict_proba_p50"],
            "ratio",
        ),
        ("server p50 / in-process fast path p50", results["overhead_vs_fastpath_p50"], "ratio"),
        (
            "unshifted test replay: alerts after 1,000 requests",
            len(results["drift_unshifted"]["alerts_at_end"]),
            "0",
        ),
        (
            "shifted traffic: requests until the first alert",
            results["drift_shifted"]["first_alert_at"],
            "<= 1,000",
        ),
    ]
    lines = ["| measure | value | goal |", "|---|---|---|"]
    for name, value, goal in goals:
        v = (
            "none"
            if value is None
            else (f"{value:,.2f}" if isinstance(value, float) else f"{value:,}")
        )
        lines.append(f"| {name} | {v} | {goal} |")
    lines.append("")
    lines.append(f"Shifted run alerts: {', '.join(results['drift_shifted']['alerts_at_end'])}")
    lines.append(
        f"Load average before / after: {load[0]:.2f} / {os.getloadavg()[0]:.2f} "
        f"({os.cpu_count()} CPUs)"
    )
    table = "\n".join(lines)
    print(table)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_serving.json").write_text(
        json.dumps({"meta": meta, "results": results}, indent=2, default=float)
    )
    (RESULTS / "bench_serving.md").write_text(table + "\n")
    print(f"\nwrote {RESULTS / 'bench_serving.json'} and bench_serving.md")


if __name__ == "__main__":
    main()
