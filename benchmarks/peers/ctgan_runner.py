"""Run CTGAN (the ``ctgan`` package) as a peer of GANOverSampler, in the peers' environment.

CTGAN is under the Business Source License and pins pandas < 3, so it never enters the package:
``make bench`` creates ``.venv-bench`` (``python -m venv .venv-bench && .venv-bench/bin/pip
install -c constraints.txt ctgan``) and ``benchmarks/bench_oversampling.py`` runs this script
there, handing it the training rows through files.

Usage: ``.venv-bench/bin/python benchmarks/peers/ctgan_runner.py JOBS.json``

``JOBS.json`` holds ``{"threads": 1, "jobs": [job, ...]}``; each job is a dict with ``train``
(CSV path: the training rows with the label column), ``label``, ``discrete_columns``,
``epochs``, ``batch_size``, ``seed``, ``n_samples`` (label value -> rows wanted) and ``out``
(path prefix). For each job it writes ``<out>.csv`` (the synthetic rows, with their label) and
``<out>.json``: ``fit_s``, ``sample_s``, ``requested``, ``returned`` and ``accepted`` per label
(CTGAN's conditional sampling is approximate: rows whose generated label differs from the one
asked for are dropped and more are drawn, at most ``max_rounds`` times).
"""

import json
import sys
import time

import numpy as np
import pandas as pd
import torch
from ctgan import CTGAN


def run_job(job):
    train = pd.read_csv(job["train"])
    label = job["label"]
    model = CTGAN(
        epochs=job["epochs"], batch_size=job.get("batch_size", 500), verbose=False, enable_gpu=False
    )
    model.set_random_state(int(job["seed"]))
    t0 = time.perf_counter()
    model.fit(train, discrete_columns=list(job["discrete_columns"]))
    fit_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    pieces, stats = [], {}
    for value, wanted in job["n_samples"].items():
        value = type(train[label].iloc[0].item())(value)
        got, requested, returned = [], 0, 0
        need = int(wanted)
        for _ in range(int(job.get("max_rounds", 20))):
            if need <= 0:
                break
            ask = max(2 * need, 100)
            rows = model.sample(ask, condition_column=label, condition_value=value)
            requested += ask
            returned += len(rows)
            keep = rows[rows[label] == value].iloc[:need]
            got.append(keep)
            need -= len(keep)
        kept = pd.concat(got, ignore_index=True) if got else train.iloc[:0]
        pieces.append(kept)
        stats[str(value)] = {
            "wanted": int(wanted),
            "kept": int(len(kept)),
            "requested": requested,
            "accepted_fraction": float(len(kept)) / max(returned, 1),
        }
    sample_s = time.perf_counter() - t0
    out = pd.concat(pieces, ignore_index=True)
    out.to_csv(job["out"] + ".csv", index=False)
    with open(job["out"] + ".json", "w") as fh:
        json.dump(
            {
                "fit_s": fit_s,
                "sample_s": sample_s,
                "labels": stats,
                "n_rows": int(len(train)),
                "n_columns": int(train.shape[1]),
            },
            fh,
        )


def main(path):
    with open(path) as fh:
        spec = json.load(fh)
    torch.set_num_threads(int(spec.get("threads", 1)))
    np.random.seed(0)  # noqa: NPY002 (CTGAN draws from the global numpy state)
    for job in spec["jobs"]:
        run_job(job)


if __name__ == "__main__":
    main(sys.argv[1])
