"""Speed and memory of make_interactions and InteractionFeaturizer at 1 M and 10 M rows.

Each size runs in a fresh subprocess so that its peak resident memory (ru_maxrss) is its own.
Prints a table and writes ``benchmarks/results/bench_featurizer.{json,md}``.

    python benchmarks/bench_featurizer.py [--sizes 1000000 10000000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def measure(n_rows):
    import numpy as np

    from sklearn_recsys.datasets import make_interactions
    from sklearn_recsys.features import InteractionFeaturizer

    n_users, n_items = max(2000, n_rows // 50), max(1000, n_rows // 200)
    t0 = time.perf_counter()
    X, y = make_interactions(
        n_users=n_users, n_items=n_items, n_interactions=n_rows, random_state=0, return_X_y=True
    )
    gen_s = time.perf_counter() - t0
    feat = InteractionFeaturizer(random_state=0)
    t0 = time.perf_counter()
    Xt = feat.fit_transform(X, y)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    Xt2 = feat.transform(X)
    transform_s = time.perf_counter() - t0
    assert Xt.shape == Xt2.shape and np.isfinite(Xt2).all()
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return {
        "rows": n_rows,
        "users": n_users,
        "items": n_items,
        "features_out": Xt.shape[1],
        "generate_s": round(gen_s, 2),
        "fit_transform_s": round(fit_s, 2),
        "transform_s": round(transform_s, 2),
        "fit_transform_rows_per_s": round(n_rows / fit_s),
        "transform_rows_per_s": round(n_rows / transform_s),
        "peak_rss_gib": round(peak_gib, 2),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.one)))
        return
    rows = []
    for n in args.sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(n)], check=True, capture_output=True, text=True
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"{n:>11,d} rows done", file=sys.stderr)
    cols = list(rows[0])
    md = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    md += [
        "| " + " | ".join(f"{r[c]:,}" if isinstance(r[c], int) else str(r[c]) for c in cols) + " |"
        for r in rows
    ]
    print("\n".join(md))
    RESULTS.mkdir(exist_ok=True)
    import platform

    meta = {
        "machine": platform.processor() or platform.machine(),
        "cpus": __import__("os").cpu_count(),
        "python": platform.python_version(),
    }
    (RESULTS / "bench_featurizer.json").write_text(
        json.dumps({"meta": meta, "results": rows}, indent=2)
    )
    (RESULTS / "bench_featurizer.md").write_text("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
