"""BehaviorHistoryFeaturizer on Dask vs pandas: time, peak memory and equality of the features.

For each size the synthetic multi-behaviour log (``make_interactions(multi_behavior=True)``,
the parameters of ``bench_behavior.py``) is generated in a child process and written as a
Parquet data set of several parts. Then:

- **pandas**: a fresh process reads the log, featurizes the non-buy rows against the whole log
  (fit + transform, after a tiny warm-up call that compiles the numba kernel) and writes the
  history columns; wall time and peak RSS of that process;
- **dask**: a 2-worker ``LocalCluster`` (one thread and ``--worker-memory`` each, kernel
  warmed up on the workers) reads the Parquet parts, fits and transforms the non-buy rows
  (``dask.BehaviorHistoryFeaturizer``) and writes the history columns as Parquet; wall time
  and peak of the summed RSS of the driver and the workers (sampled every 0.2 s).

The two outputs are then compared column by column (largest absolute difference).

    python benchmarks/bench_dask_behavior.py [--sizes 1000000 10000000]

Writes ``benchmarks/results/bench_dask_behavior.json`` and ``.md``.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_dask import PeakMemory

RESULTS = Path(__file__).resolve().parent / "results"

GENERATE_CHILD = """
import sys
import dask.dataframe as dd
from sklearn_recsys.datasets import make_interactions
n, path, parts = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
log = make_interactions(n_users=max(1000, n // 100), n_items=max(5000, n // 20),
                        n_categories=max(50, n // 2000), n_days=9, n_interactions=n,
                        multi_behavior=True, random_state=0).interactions
dd.from_pandas(log, npartitions=parts, sort=False).to_parquet(path, write_index=False)
"""

PANDAS_CHILD = """
import json, resource, sys, time
import pandas as pd
from sklearn_recsys.features import BehaviorHistoryFeaturizer
log = pd.read_parquet(sys.argv[1])
rows = log[log.behavior_type != "buy"]
BehaviorHistoryFeaturizer(log.head(1000)).fit(rows.head(100)).transform(rows.head(100))  # JIT
t0 = time.perf_counter()
feat = BehaviorHistoryFeaturizer(log).fit(rows)
out = feat.transform(rows)
seconds = time.perf_counter() - t0
out[feat.history_names_].reset_index(drop=True).to_parquet(sys.argv[2])
print(json.dumps({"n_events": len(log), "n_rows": len(rows),
                  "n_features": len(feat.history_names_), "seconds": seconds,
                  "peak_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}))
"""


def _warm_up():
    """Compile (or load) the numba kernel in a worker."""
    from sklearn_recsys.datasets import make_interactions
    from sklearn_recsys.features import BehaviorHistoryFeaturizer

    log = make_interactions(n_interactions=500, multi_behavior=True, random_state=0).interactions
    BehaviorHistoryFeaturizer(log).fit(log).transform(log)


def run_dask(log_path, out_path, worker_memory):
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    from sklearn_recsys.dask import BehaviorHistoryFeaturizer

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            memory_limit=worker_memory,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(_warm_up)
        with PeakMemory() as peak:
            t0 = time.perf_counter()
            events = dd.read_parquet(log_path)
            rows = events[events.behavior_type != "buy"]
            feat = BehaviorHistoryFeaturizer(events).fit(rows)
            out = feat.transform(rows)
            out[feat.history_names_].to_parquet(out_path, write_index=False)
            seconds = time.perf_counter() - t0
        return {
            "partitions": events.npartitions,
            "seconds": seconds,
            "peak_gib": peak.gib,
            "names": feat.history_names_,
        }


def run(n, parts, worker_memory):
    with tempfile.TemporaryDirectory() as tmp:
        log_path, pandas_out, dask_out = f"{tmp}/log", f"{tmp}/pandas.parquet", f"{tmp}/dask"
        subprocess.run(
            [sys.executable, "-c", GENERATE_CHILD, str(n), log_path, str(parts)], check=True
        )
        child = subprocess.run(
            [sys.executable, "-c", PANDAS_CHILD, log_path, pandas_out],
            check=True,
            capture_output=True,
            text=True,
        )
        ref = json.loads(child.stdout.strip().splitlines()[-1])
        got = run_dask(log_path, dask_out, worker_memory)
        a = pd.read_parquet(pandas_out)
        b = pd.read_parquet(dask_out)[got["names"]]
        per_column = (a.astype(np.float64) - b.astype(np.float64)).abs().max()
        diff = float(per_column.max())
        if diff > 1e-3:
            print("  columns that differ:", per_column[per_column > 1e-3].to_dict())
            bad = (a != b).any(axis=1).to_numpy()
            print(f"  rows that differ: {bad.sum()} of {len(a)}: {np.flatnonzero(bad)[:5]}")
        same_nan = bool((a.isna().to_numpy() == b.isna().to_numpy()).all())
    common = {"n_events": ref["n_events"], "n_rows": ref["n_rows"]}
    return [
        {**common, "path": "pandas", "partitions": 1, "seconds": ref["seconds"],
         "peak_gib": ref["peak_gib"], "max_abs_diff": None},
        {**common, "path": "dask (2 workers)", "partitions": got["partitions"],
         "seconds": got["seconds"], "peak_gib": got["peak_gib"],
         "max_abs_diff": diff if same_nan else float("inf")},
    ]  # fmt: skip


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="*", default=[1_000_000])
    p.add_argument("--rows-per-part", type=int, default=250_000)
    p.add_argument("--worker-memory", default="4GiB")
    p.add_argument("--output", default="bench_dask_behavior")
    args = p.parse_args(argv)
    runs = []
    for n in args.sizes:
        parts = max(2, n // args.rows_per_part)
        runs += run(n, parts, args.worker_memory)
        for r in runs[-2:]:
            print(f"  {n:>11,} events, {r['path']}: {r['seconds']:.1f} s, {r['peak_gib']:.2f} GiB")
    table = pd.DataFrame(runs)
    payload = {
        "runs": runs,
        "worker_memory": args.worker_memory,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}",
        "load_average_1min": os.getloadavg()[0],
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.output}.json").write_text(json.dumps(payload, indent=2))
    md = [
        "# BehaviorHistoryFeaturizer: Dask vs pandas (synthetic multi-behaviour log)",
        "",
        f"Machine: {payload['machine']}; 1-minute load average at the end "
        f"{payload['load_average_1min']:.1f} (shared machine: times are upper bounds). "
        f"Dask: 2-worker LocalCluster, 1 thread and {args.worker_memory} per worker; peak = "
        "summed RSS of the driver and the workers. Rows: the non-buy events; max_abs_diff: "
        "largest difference of any history column between the two paths.",
        "",
        table.to_markdown(index=False, floatfmt=".3g"),
        "",
    ]
    (RESULTS / f"{args.output}.md").write_text("\n".join(md))
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
