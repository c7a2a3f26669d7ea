"""``sklearn-recsys topk``: full-ranking top-k comparison of recommenders and re-rankers.

The protocol of :func:`sklearn_recsys.benchmark.load_benchmark_data` (per-user temporal split),
then :func:`sklearn_recsys.recommend.evaluate_topk` over the whole catalogue, with two
relevance definitions: every test interaction (``all``) and the positive label (``pos``:
"loved" on MovieLens, purchases on the synthetic log). Wired into :mod:`sklearn_recsys.cli`
through :func:`add_topk_parser`; ``benchmarks/bench_topk.py`` uses :func:`run_topk`.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "TOPK_MODELS",
    "add_topk_parser",
    "make_topk_model",
    "run_topk",
    "side_tables",
    "topk_main",
]

logger = logging.getLogger(__name__)

#: model name -> description
TOPK_MODELS = {
    "popularity": "item popularity among the training interactions (the floor)",
    "lightgbm": "the benchmark's baseline: featurizer + LightGBM on the rated rows",
    "itemknn": "ItemKNNRecommender (cosine, 100 neighbours)",
    "ease": "EASERecommender (lambda = 300)",
    "als": "ALSRecommender (implicit, 64 factors)",
    "bpr": "BPRRecommender (implicit, 64 factors)",
    "two-tower": "TwoTowerRetriever (sampled softmax + logQ, 10 epochs)",
    "two-stage": "TwoStageRecommender: EASE top-100 re-scored by lambdarank (graded labels, "
    "side features)",
}
DEFAULT_MODELS = ("popularity", "itemknn", "ease", "als", "two-stage")


def side_tables(data):
    """Numeric item / user side tables of a benchmark data set (for the two-stage ranker)."""
    items = users = None
    if data.item_info is not None:
        info = data.item_info
        parts = [info.select_dtypes("number")]
        if "genres" in info.columns:
            parts.append(info["genres"].fillna("").str.get_dummies("|").add_prefix("g_"))
        items = pd.concat(parts, axis=1).astype(float)
    if data.user_info is not None:
        info = data.user_info
        parts = [info.select_dtypes("number")]
        if "gender" in info.columns:
            parts.append((info["gender"] == "M").astype(float).rename("male"))
        users = pd.concat(parts, axis=1).astype(float)
    return items, users


def make_topk_model(name, data):
    """A fresh, unfitted model of :data:`TOPK_MODELS` for ``data``."""
    from .dummy import PopularityRecommender
    from .retrieval import (
        ALSRecommender,
        BPRRecommender,
        EASERecommender,
        ItemKNNRecommender,
        TwoStageRecommender,
        TwoTowerRetriever,
    )

    seed = data.random_state
    if name == "popularity":
        return PopularityRecommender(positive_only=False)
    if name == "lightgbm":
        from .benchmark import STRATEGIES

        return STRATEGIES["lightgbm"].factory(data)
    if name == "itemknn":
        return ItemKNNRecommender()
    if name == "ease":
        return EASERecommender(l2=300.0)
    if name == "als":
        return ALSRecommender(factors=64, regularization=0.05, iterations=15, random_state=seed)
    if name == "bpr":
        return BPRRecommender(factors=64, learning_rate=0.01, iterations=200, random_state=seed)
    if name == "two-tower":
        return TwoTowerRetriever(
            embedding_dim=64, max_epochs=10, batch_size=1024, lr=0.01, random_state=seed
        )
    if name == "two-stage":
        items, users = side_tables(data)
        return TwoStageRecommender(
            EASERecommender(l2=300.0),
            n_candidates=100,
            item_features=items,
            user_features=users,
            random_state=seed,
        )
    raise ValueError(f"unknown top-k model {name!r}; available: {list(TOPK_MODELS)}")


def _fit(name, model, data):
    """Fit as each model expects: implicit models on the interactions, graded for two-stage."""
    y = np.asarray(data.y_train)
    if name == "lightgbm":
        return model.fit(data.X_train, y)
    if name == "two-stage":
        return model.fit(data.X_train, 1 + (y > 0))  # grade 2 = positive label, 1 = seen
    return model.fit(data.X_train)


def _eval_kwargs(name, data):
    """Candidate rows of the row classifier carry every training column: item attributes
    (one value per item) from the item's last training row, the time at the end of the
    training log, other context columns at their most frequent value."""
    if name != "lightgbm":
        return {}
    X = data.X_train
    cols = list(X.columns)
    last = X.drop_duplicates("item_id", keep="last").set_index("item_id")
    item_attrs, context = [], {}
    for c in cols:
        if c in ("user_id", "item_id"):
            continue
        if X.groupby("item_id", observed=True)[c].nunique().max() <= 1:
            item_attrs.append(c)
        elif c == "timestamp":
            context[c] = X[c].max()
        else:
            context[c] = X[c].mode().iloc[0]

    def make_rows(f):
        f = f.assign(**context)
        for c in item_attrs:  # items unseen in training: the most frequent value
            v = last[c].reindex(f["item_id"])
            f[c] = v.fillna(X[c].mode().iloc[0]).to_numpy()
            if isinstance(X[c].dtype, pd.CategoricalDtype):
                f[c] = pd.Categorical(f[c], categories=X[c].cat.categories)
        return f[cols]

    return {"make_rows": make_rows}


def _metrics(res, prefix):
    v = res[res["k"].eq(10) | res["k"].isna()].set_index("metric")["value"]
    return {
        f"{prefix}_{m}": float(v[m])
        for m in ("ndcg", "recall", "tail_recall", "aplt", "coverage")
        if m in v
    }


def run_topk(data, models=DEFAULT_MODELS, *, rerankers=(), verbose=1):
    """Fit and evaluate each model (and each re-ranker on each model), full ranking, k = 10.

    Parameters
    ----------
    data : sklearn_recsys.benchmark.BenchmarkData
    models : sequence of str
        Names of :data:`TOPK_MODELS`.
    rerankers : sequence of (label, re-ranker)
        Applied to every model (fitted on the training split).
    verbose : int, default=1

    Returns
    -------
    table : DataFrame
        One row per model (and re-ranked model): NDCG@10, recall@10, tail recall@10, APLT@10,
        coverage@10 with every test interaction relevant (``all_*``) and with the positive
        label (``pos_*``), fit and evaluation seconds.
    fitted : dict
        Name -> fitted model.
    """
    from .recommend import evaluate_topk

    rows, fitted = [], {}
    y_test = np.asarray(data.y_test)
    for name in models:
        model = make_topk_model(name, data)
        t0 = time.perf_counter()
        _fit(name, model, data)
        fit_s = time.perf_counter() - t0
        fitted[name] = model
        kw = _eval_kwargs(name, data)
        for label, rr in [("", None), *rerankers]:
            t0 = time.perf_counter()
            res_all = evaluate_topk(model, data.X_train, data.X_test, k=10, reranker=rr, **kw)
            eval_s = time.perf_counter() - t0
            res_pos = evaluate_topk(
                model, data.X_train, data.X_test, y_test, k=10, reranker=rr, **kw
            )
            row = {
                "model": name + (f" + {label}" if label else ""),
                **_metrics(res_all, "all"),
                **_metrics(res_pos, "pos"),
                "fit_s": fit_s,
                "eval_s": eval_s,
            }
            rows.append(row)
            if verbose:
                logger.info(
                    "%s: NDCG@10 all %.4f, pos %.4f (%.1f s)",
                    row["model"],
                    row["all_ndcg"],
                    row["pos_ndcg"],
                    eval_s,
                )
    return pd.DataFrame(rows).set_index("model"), fitted


def topk_main(args):
    """Run the ``topk`` sub-command."""
    from .benchmark import load_benchmark_data
    from .rerank import XQuADReranker

    if args.list:
        for name, desc in TOPK_MODELS.items():
            flag = "*" if name in DEFAULT_MODELS else " "
            print(f"{flag} {name:12s} {desc}")
        print("\n* run when --models is not given")
        return 0
    data = load_benchmark_data(
        args.dataset,
        data_home=args.data_home,
        n_interactions=args.n_interactions,
        test_size=args.test_size,
        random_state=args.random_state,
    )
    models = args.models.split(",") if args.models else DEFAULT_MODELS
    unknown = [m for m in models if m not in TOPK_MODELS]
    if unknown:
        raise SystemExit(f"unknown models {unknown}; available: {list(TOPK_MODELS)}")
    rerankers = [(f"xquad({w:g})", XQuADReranker(w)) for w in args.xquad]
    table, _ = run_topk(data, models, rerankers=rerankers, verbose=args.verbose)
    print(
        f"\n{data.name}: per-user temporal split, {len(data.X_train)} train / "
        f"{len(data.X_test)} test rows; full ranking over the catalogue, k = 10\n"
    )
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))
    if args.output:
        out = Path(args.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(
            json.dumps(
                {
                    "dataset": data.name,
                    "random_state": args.random_state,
                    "results": table.reset_index().to_dict(orient="records"),
                },
                indent=2,
            )
        )
        print(f"\nwrote {out}")
    return 0


def add_topk_parser(subparsers):
    """Add the ``topk`` sub-command to an ``argparse`` sub-parser collection.

    Examples
    --------
    >>> import argparse
    >>> from sklearn_recsys._topk_cli import add_topk_parser
    >>> parser = argparse.ArgumentParser(prog="sklearn-recsys")
    >>> _ = add_topk_parser(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["topk", "--models", "ease,two-stage", "--xquad", "0.3"])
    >>> args.models, args.xquad
    ('ease,two-stage', [0.3])
    """
    t = subparsers.add_parser(
        "topk",
        help="full-ranking top-k comparison of recommenders (and long-tail re-rankers)",
        description="Fit top-k recommenders on the benchmark split and rank the whole catalogue "
        "for every test user (NDCG / recall / tail recall / APLT @10, with every "
        "test interaction relevant and with the positive label).",
    )
    t.add_argument("--dataset", default="ml-100k", choices=["synthetic", "ml-100k"])
    t.add_argument("--models", default=None, help="comma-separated names (see --list)")
    t.add_argument("--list", action="store_true", help="list the models and exit")
    t.add_argument(
        "--xquad",
        type=float,
        nargs="*",
        default=[],
        help="also re-rank every model with XQuADReranker at these weights",
    )
    t.add_argument("--data-home", default=None)
    t.add_argument(
        "--n-interactions", type=int, default=100_000, help="rows of the synthetic data set"
    )
    t.add_argument("--test-size", type=float, default=0.2)
    t.add_argument("--random-state", type=int, default=0)
    t.add_argument("--output", default=None, help="write the table as JSON here")
    t.add_argument("--verbose", type=int, default=0)
    t.set_defaults(func=topk_main)
    return t
