"""Speed and memory of BehaviorHistoryFeaturizer on the multi-behaviour synthetic log.

Each size runs in fresh processes: one generates the log
(``make_interactions(multi_behavior=True)``)
and writes it to Parquet, the next reads it, featurizes the non-purchase rows against the whole
log (fit + transform, after a tiny warm-up call that compiles the numba kernel) and reports wall
time, CPU time (user / system) and peak RSS. The peak counts the loaded log, not the generator.

    python benchmarks/bench_behavior.py [--sizes 1000000 10000000]

Writes ``benchmarks/results/bench_behavior.json`` and ``.md``. Goal (issue 13): 10 M events in
under 60 s and 6 GiB.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pandas as pd

RESULTS = Path(__file__).resolve().parent / "results"

GENERATE_CHILD = """
import sys
from sklearn_recsys.datasets import make_interactions
n = int(sys.argv[1])
log = make_interactions(n_users=max(1000, n // 100), n_items=max(5000, n // 20),
                        n_categories=max(50, n // 2000), n_days=9, n_interactions=n,
                        multi_behavior=True, random_state=0).interactions
log.to_parquet(sys.argv[2])
"""

SPEED_CHILD = """
import json, resource, sys, time
import pandas as pd
from sklearn_recsys.features import BehaviorHistoryFeaturizer
log = pd.read_parquet(sys.argv[1])
rows = log[log.behavior_type != "buy"]
BehaviorHistoryFeaturizer(log.head(1000)).fit(rows.head(100)).transform(rows.head(100))  # JIT
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
r0 = resource.getrusage(resource.RUSAGE_SELF)
t0 = time.perf_counter()
feat = BehaviorHistoryFeaturizer(log).fit(rows)
t1 = time.perf_counter()
out = feat.transform(rows)
t2 = time.perf_counter()
r1 = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"n_events": len(log), "n_rows": len(rows),
                  "n_features": len(feat.history_names_),
                  "fit_s": t1 - t0, "transform_s": t2 - t1, "total_s": t2 - t0,
                  "cpu_user_s": r1.ru_utime - r0.ru_utime, "cpu_sys_s": r1.ru_stime - r0.ru_stime,
                  "peak_rss_gib": r1.ru_maxrss / 2**20, "rss_before_gib": base / 2**20,
                  "output_gib": out.memory_usage(index=False).sum() / 2**30}))
"""


def speed(sizes):
    """Featurizer time and memory, each size in fresh processes: one writes the log to Parquet,
    the next reads it and featurizes (its peak RSS counts the log, not the generator)."""
    import tempfile

    rows = []
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            path = f"{tmp}/log.parquet"
            subprocess.run([sys.executable, "-c", GENERATE_CHILD, str(n), path], check=True)
            out = subprocess.run(
                [sys.executable, "-c", SPEED_CHILD, path],
                check=True,
                capture_output=True,
                text=True,
            )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(
            f"  {n:>11,} events: {rows[-1]['total_s']:.1f} s, "
            f"peak {rows[-1]['peak_rss_gib']:.2f} GiB "
            f"(log loaded: {rows[-1]['rss_before_gib']:.2f} GiB)",
            flush=True,
        )
    return pd.DataFrame(rows)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="*", default=[1_000_000, 10_000_000])
    p.add_argument("--output", default="bench_behavior")
    args = p.parse_args(argv)
    table = speed(args.sizes)
    payload = {
        "runs": table.to_dict(orient="records"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}",
        "load_average_1min": os.getloadavg()[0],
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.output}.json").write_text(json.dumps(payload, indent=2, allow_nan=False))
    md = [
        "# BehaviorHistoryFeaturizer speed (synthetic multi-behaviour log)",
        "",
        f"Machine: {payload['machine']}; 1-minute load average at the end "
        f"{payload['load_average_1min']:.1f}.",
        "",
        table.to_markdown(index=False, floatfmt=".2f"),
        "",
    ]
    (RESULTS / f"{args.output}.md").write_text("\n".join(md))
    print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))


if __name__ == "__main__":
    main()
