"""The interaction pipeline on Dask vs in pandas: generate, featurize, train LightGBM, evaluate.

For each size, in fresh subprocesses (so that each peak is its own):

Columns: ``generate_s`` (the log: Parquet on disk / a frame in memory), ``featurize_s`` (pandas:
``fit_transform``; Dask: the two passes of ``fit``, its transform runs inside the next step),
``train_s`` (Dask: featurized and encoded partitions, down-sampled, then ``lightgbm.dask``),
``evaluate_s`` (transform + predict + ROC-AUC of the test rows).

- ``dask``: ``write_interactions`` (Parquet, chunk by chunk, on the driver) ->
  ``read_interactions`` -> ``dask.InteractionFeaturizer.fit_transform`` on the first 80 % of
  the time span -> ``DaskLGBMClassifier(ImbalancedLGBMClassifier(...))`` -> ROC-AUC of the last
  20 % by ``classification_scores``, on a ``LocalCluster`` of ``--workers`` worker processes
  (one thread each) with ``--worker-memory`` each;
- ``pandas`` (sizes up to ``--pandas-max``): ``make_interactions`` ->
  ``features.InteractionFeaturizer`` -> ``ImbalancedLGBMClassifier`` -> ROC-AUC on the same split,
  and the largest difference between its test features and those of the Dask-fitted featurizer
  (``transform``: the full-data rates, same definition on both paths).

Memory is the peak of the summed resident memory of the driver and every process it started
(the Dask workers), sampled every 0.2 s, and at least the driver's own ``ru_maxrss``.
Prints a table and writes ``benchmarks/results/bench_dask.{json,md}``.

    python benchmarks/bench_dask.py [--sizes 1000000 10000000 100000000] [--workers 2]
        [--worker-memory 6GiB] [--pandas-max 10000000] [--sampling-strategy auto]
        [--n-estimators 100] [--workdir DIR]

``--sampling-strategy auto`` down-samples the negatives (to 0.1 positives per negative, kept
negatives weighted by the inverse rate) from 20 M rows on, where the training matrix of all
rows would not fit in the workers' memory; ``none`` never does.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
SPLIT = 0.8  # share of the time span used for training
START = "2026-01-01"
N_DAYS = 90


def generator_params(n_rows):
    """The sizes of bench_featurizer: 50 rows per user, 200 per item."""
    return {
        "n_users": max(2000, n_rows // 50),
        "n_items": max(1000, n_rows // 200),
        "n_days": N_DAYS,
        "start": START,
        "random_state": 0,
    }


def split_time():
    import pandas as pd

    return int(pd.Timestamp(START).timestamp()) + int(SPLIT * N_DAYS * 86400)


class PeakMemory:
    """Peak of the summed RSS of this process and all its descendants (a sampling thread)."""

    def __init__(self, interval=0.2):
        import psutil

        self.process, self.interval, self.peak = psutil.Process(), interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self):
        import psutil

        total = 0
        for p in [self.process, *self.process.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except psutil.Error:  # a process that just ended
                pass
        self.peak = max(self.peak, total)

    def _run(self):
        while not self._stop.is_set():
            self._sample()
            time.sleep(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._sample()

    @property
    def gib(self):
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        return round(max(self.peak, own) / 2**30, 2)


def classifier(args, n_jobs=None):
    from sklearn_recsys.boosting import ImbalancedLGBMClassifier

    return ImbalancedLGBMClassifier(n_estimators=args.n_estimators, random_state=0, n_jobs=n_jobs)


def featurizer(cls):
    return cls(random_state=0, keep_id_columns=False)


def progress(message):
    """One line on stderr (the driver's log of a long run)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def sampling_strategy(args, n_rows):
    if args.sampling_strategy == "none":
        return None
    if args.sampling_strategy == "auto":
        # past 20 M rows: 1 positive to 4 negatives kept (the rest weighted back), so that the
        # training rows of 100 M fit two 6 GiB LightGBM workers
        return 0.25 if n_rows >= 20_000_000 else None
    return float(args.sampling_strategy)


def run_dask(n_rows, args, workdir):
    import pickle

    from distributed import Client, LocalCluster

    from sklearn_recsys.dask import (
        DaskLGBMClassifier,
        InteractionFeaturizer,
        classification_scores,
        read_interactions,
        write_interactions,
    )

    out = {"rows": n_rows, "path": "dask"}
    data_dir = Path(workdir) / f"interactions-{n_rows}"
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        if args.reuse_data and (data_dir / "dataset.json").is_file():
            progress(f"reusing the log in {data_dir} (generation not timed)")
        else:
            write_interactions(
                data_dir,
                n_rows,
                chunk_size=args.chunk_size,
                overwrite=True,
                **generator_params(n_rows),
            )
        out["generate_s"] = round(time.perf_counter() - t0, 1)
        progress(f"{n_rows:,} rows written in {out['generate_s']} s")
        with (
            LocalCluster(
                n_workers=args.workers,
                threads_per_worker=1,
                processes=True,
                memory_limit=args.worker_memory,
                dashboard_address=None,
                local_directory=str(workdir),
            ) as cluster,
            Client(cluster),
        ):
            ddf = read_interactions(data_dir)
            label = "purchase"
            train = ddf[ddf["timestamp"] < split_time()]
            test = ddf[ddf["timestamp"] >= split_time()]
            t0 = time.perf_counter()
            feat = featurizer(InteractionFeaturizer)
            Ft = feat.fit_transform(train.drop(columns=label), train[label])
            out["featurize_s"] = round(time.perf_counter() - t0, 1)
            progress(f"featurizer fitted in {out['featurize_s']} s, peak {mem.gib} GiB")
            t0 = time.perf_counter()
            clf = DaskLGBMClassifier(
                classifier(args), sampling_strategy=sampling_strategy(args, n_rows), random_state=0
            )
            clf.fit(Ft, train[label])
            out["train_s"] = round(time.perf_counter() - t0, 1)
            out["train_rows_kept"] = round(clf.sampling_rate_, 4)
            progress(f"LightGBM trained in {out['train_s']} s, peak {mem.gib} GiB")
            t0 = time.perf_counter()
            proba = clf.predict_proba(feat.transform(test.drop(columns=label)))
            scores = classification_scores(test[label], proba["1"])
            out["evaluate_s"] = round(time.perf_counter() - t0, 1)
            out["roc_auc"] = round(scores["roc_auc"], 5)
            out["average_precision"] = round(scores["average_precision"], 5)
            out["features_out"] = len(feat.feature_names_out_)
            with open(Path(workdir) / f"featurizer-{n_rows}.pkl", "wb") as f:
                pickle.dump(feat.to_pandas(), f)
    out["total_s"] = round(sum(v for k, v in out.items() if k.endswith("_s")), 1)
    out["peak_memory_gib"] = mem.gib
    if not (args.keep_data or args.reuse_data):
        shutil.rmtree(data_dir, ignore_errors=True)
    return out


def run_pandas(n_rows, args, workdir):
    import pickle

    import numpy as np
    from sklearn.metrics import average_precision_score, roc_auc_score

    from sklearn_recsys.datasets import make_interactions
    from sklearn_recsys.features import InteractionFeaturizer

    out = {"rows": n_rows, "path": "pandas"}
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        X, y = make_interactions(n_interactions=n_rows, return_X_y=True, **generator_params(n_rows))
        out["generate_s"] = round(time.perf_counter() - t0, 1)
        is_train = (X["timestamp"] < split_time()).to_numpy()
        t0 = time.perf_counter()
        feat = featurizer(InteractionFeaturizer)
        Ft = feat.fit_transform(X[is_train], y[is_train])
        out["featurize_s"] = round(time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        clf = classifier(args, n_jobs=args.workers).fit(Ft, y[is_train])
        del Ft
        out["train_s"] = round(time.perf_counter() - t0, 1)
        out["train_rows_kept"] = 1.0
        t0 = time.perf_counter()
        Fte = feat.transform(X[~is_train])
        p = clf.predict_proba(Fte)[:, 1]
        out["evaluate_s"] = round(time.perf_counter() - t0, 1)
        out["roc_auc"] = round(roc_auc_score(y[~is_train], p), 5)
        out["average_precision"] = round(average_precision_score(y[~is_train], p), 5)
        out["features_out"] = Fte.shape[1]
        dask_feat = Path(workdir) / f"featurizer-{n_rows}.pkl"
        if dask_feat.is_file():  # features of the Dask-fitted featurizer on the test rows
            with open(dask_feat, "rb") as f:
                other = pickle.load(f).transform(X[~is_train])
            out["max_feature_diff"] = float(np.abs(other - Fte).max())
    out["total_s"] = round(sum(v for k, v in out.items() if k.endswith("_s")), 1)
    out["peak_memory_gib"] = mem.gib
    return out


def table(rows):
    cols = [
        "rows",
        "path",
        "generate_s",
        "featurize_s",
        "train_s",
        "evaluate_s",
        "total_s",
        "peak_memory_gib",
        "train_rows_kept",
        "roc_auc",
        "roc_auc_minus_pandas",
        "average_precision",
        "max_feature_diff",
    ]
    md = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        md.append(
            "| "
            + " | ".join(
                f"{r[c]:,}" if isinstance(r.get(c), int) else str(r.get(c, "")) for c in cols
            )
            + " |"
        )
    return "\n".join(md)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-memory", default="6GiB")
    parser.add_argument("--pandas-max", type=int, default=10_000_000)
    parser.add_argument("--sampling-strategy", default="auto")
    parser.add_argument("--n-estimators", type=int, default=100)
    parser.add_argument("--chunk-size", type=int, default=1_000_000)
    parser.add_argument("--workdir", default=None, help="folder for the Parquet data sets")
    parser.add_argument("--keep-data", action="store_true")
    parser.add_argument(
        "--reuse-data",
        action="store_true",
        help="use the Parquet log of --workdir if it is there (its generation time is not "
        "re-measured; implies --keep-data)",
    )
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        path, n = args.one[0], int(args.one[1])
        run = run_dask if path == "dask" else run_pandas
        print(json.dumps(run(n, args, args.workdir)))
        return
    workdir = args.workdir or tempfile.mkdtemp(prefix="bench_dask-")
    rows = []
    for n in args.sizes:
        for path in ("dask", "pandas"):
            if path == "pandas" and n > args.pandas_max:
                continue
            cmd = [
                sys.executable,
                __file__,
                "--one",
                path,
                str(n),
                "--workdir",
                workdir,
                *_forwarded(args),
            ]
            # stderr passes through: the stages of a long run are logged as they end
            res = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
            if res.returncode:
                sys.exit(f"{path} at {n:,} rows failed (its log is above).")
            rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
            print(f"{n:>12,d} rows, {path}: {rows[-1]['total_s']} s", file=sys.stderr)
    for r in rows:  # the pandas row carries the comparison of the two featurizers
        if r["path"] == "dask":
            match = [p for p in rows if p["rows"] == r["rows"] and p["path"] == "pandas"]
            if match:
                r["max_feature_diff"] = match[0].get("max_feature_diff")
                r["roc_auc_minus_pandas"] = round(r["roc_auc"] - match[0]["roc_auc"], 5)
    RESULTS.mkdir(exist_ok=True)
    rows = _merged(rows)
    md = table(rows)
    print(md)
    meta = {
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "workers": args.workers,
        "worker_memory": args.worker_memory,
        "n_estimators": args.n_estimators,
        "sampling_strategy": args.sampling_strategy,
        "split": SPLIT,
    }
    (RESULTS / "bench_dask.json").write_text(json.dumps({"meta": meta, "results": rows}, indent=2))
    (RESULTS / "bench_dask.md").write_text(md + "\n")
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)


def _merged(rows):
    """The rows of this run added to those of earlier runs in the results file (a row of the
    same size, path and down-sampling replaced), by size."""
    path = RESULTS / "bench_dask.json"
    old = json.loads(path.read_text())["results"] if path.is_file() else []

    def key(r):
        return r["rows"], r["path"], r.get("train_rows_kept") == 1.0

    new = {key(r) for r in rows}
    return sorted([r for r in old if key(r) not in new] + rows, key=lambda r: r["rows"])


def _forwarded(args):
    return [
        "--workers",
        str(args.workers),
        "--worker-memory",
        args.worker_memory,
        "--sampling-strategy",
        args.sampling_strategy,
        "--n-estimators",
        str(args.n_estimators),
        "--chunk-size",
        str(args.chunk_size),
        *(["--keep-data"] if args.keep_data or args.reuse_data else []),
        *(["--reuse-data"] if args.reuse_data else []),
    ]


if __name__ == "__main__":
    main()
