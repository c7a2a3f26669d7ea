"""Speed of the ranking metrics against ranx, and full-ranking evaluate_topk on MovieLens-100k.

1. NDCG@10 + Recall@10 on 1 M scored rows over 10 k users (graded relevance 0-3, ~10 % of
   rows relevant), ours (:func:`sklearn_recsys.metrics.ranking_scores`) against ranx, both from
   the same numpy arrays, ranx' conversion (``Qrels.from_df`` / ``Run.from_df``) included.
   ranx' numba functions are compiled on a small warm-up before the clock starts. Best of
   ``--repeat`` runs each; the values must agree to 1e-9.
2. :func:`sklearn_recsys.recommend.evaluate_topk` on MovieLens-100k, 75/25 per-user random
   split (the protocol of Microsoft Recommenders' published figures): every test user ranks
   all 1682 items minus their training items. Models: the popularity floor and a LightGBM
   pipeline (``InteractionFeaturizer`` + ``LGBMClassifier``) trained on the training ratings
   as positives and 4 sampled unseen items per positive as negatives.

Prints a table and writes ``benchmarks/results/bench_metrics.{json,md}``.

    SKLEARN_RECSYS_DATA=/path/to/data python benchmarks/bench_metrics.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).parent / "results"


def _timed(func, repeat):
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = func()
        best = min(best, time.perf_counter() - t0)
    return best, out


# ----------------------------------------------------------------------------- 1. vs ranx
def ranking_speed(n_users=10_000, rows_per_user=100, repeat=3, seed=0):
    from ranx import Qrels, Run, evaluate

    from sklearn_recsys.metrics import ranking_scores

    rng = np.random.default_rng(seed)
    n = n_users * rows_per_user
    groups = rng.permutation(np.repeat(np.arange(n_users), rows_per_user))
    y_true = np.where(rng.random(n) < 0.1, rng.integers(1, 4, n), 0).astype(np.int64)
    y_score = rng.random(n)
    doc = np.arange(n)

    def ours():
        return ranking_scores(y_true, y_score, groups=groups, k=10, metrics=["ndcg", "recall"])

    def ranx_run(q_ids, d_ids, rel, score):
        rel_mask = rel > 0
        ids = {"q_id": object, "doc_id": object}  # pandas 3 infers a str dtype ranx refuses
        qrels = Qrels.from_df(
            pd.DataFrame(
                {"q_id": q_ids[rel_mask], "doc_id": d_ids[rel_mask], "score": rel[rel_mask]}
            ).astype(ids)
        )
        run = Run.from_df(
            pd.DataFrame({"q_id": q_ids, "doc_id": d_ids, "score": score}).astype(ids)
        )
        return evaluate(qrels, run, ["ndcg@10", "recall@10"], make_comparable=True)

    def ranx_full():  # conversion from the numpy arrays included
        q_ids = groups.astype(str).astype(object)
        d_ids = doc.astype(str).astype(object)
        return ranx_run(q_ids, d_ids, y_true, y_score)

    small = slice(0, 2000)  # warm-up: numba compilation outside the clock
    ranx_run(
        groups[small].astype(str).astype(object),
        doc[small].astype(str).astype(object),
        y_true[small],
        y_score[small],
    )
    t_ours, r_ours = _timed(ours, repeat)
    t_ranx, r_ranx = _timed(ranx_full, repeat)
    t_conv, _ = _timed(
        lambda: (groups.astype(str).astype(object), doc.astype(str).astype(object)), 1
    )
    diff = max(
        abs(r_ours["ndcg@10"] - r_ranx["ndcg@10"]), abs(r_ours["recall@10"] - r_ranx["recall@10"])
    )
    return {
        "rows": n,
        "users": n_users,
        "ours_s": round(t_ours, 3),
        "ranx_s": round(t_ranx, 3),
        "ranx_id_to_str_s": round(t_conv, 3),
        "ranx_over_ours": round(t_ranx / t_ours, 1),
        "ndcg@10": round(r_ours["ndcg@10"], 6),
        "recall@10": round(r_ours["recall@10"], 6),
        "max_abs_diff": float(f"{diff:.1e}"),
    }


# ----------------------------------------------------------------------------- 2. ML-100k
def stratified_split(X, ratio=0.75, seed=0):
    """Per-user random split: ``round(ratio * n_u)`` of each user's rows go to training."""
    rng = np.random.default_rng(seed)
    key = rng.random(len(X))
    rank = pd.Series(key).groupby(X["user_id"].to_numpy()).rank(method="first").to_numpy()
    size = X.groupby("user_id")["item_id"].transform("size").to_numpy()
    train = rank <= np.round(ratio * size)
    return X[train].reset_index(drop=True), X[~train].reset_index(drop=True)


def sample_negatives(train, n_neg=4, seed=0):
    """Training frame: the observed pairs (y=1) plus ``n_neg`` unseen items per positive."""
    rng = np.random.default_rng(seed)
    items = np.sort(train["item_id"].unique())
    users = train["user_id"].to_numpy()
    u_neg = np.repeat(users, n_neg)
    i_neg = items[rng.integers(0, len(items), len(u_neg))]
    seen = pd.MultiIndex.from_frame(train[["user_id", "item_id"]])
    keep = ~pd.MultiIndex.from_arrays([u_neg, i_neg]).isin(seen)
    X = pd.concat(
        [
            train[["user_id", "item_id"]],
            pd.DataFrame({"user_id": u_neg[keep], "item_id": i_neg[keep]}),
        ],
        ignore_index=True,
    )
    y = np.r_[np.ones(len(train)), np.zeros(keep.sum())].astype(int)
    return X, y


def lightgbm_pipeline(item_info, user_info, seed=0):
    from lightgbm import LGBMClassifier
    from sklearn.pipeline import make_pipeline

    from sklearn_recsys.features import InteractionFeaturizer

    feat = InteractionFeaturizer(
        item_info=item_info,
        user_info=user_info,
        time_col=None,
        n_factors=16,
        keep_id_columns=False,
        random_state=seed,
    )
    # n_jobs=1: on a shared 2-core machine OpenMP threads of LightGBM spin against the other
    # processes and get several times slower
    lgbm = LGBMClassifier(
        n_estimators=100, learning_rate=0.1, num_leaves=31, n_jobs=1, random_state=seed, verbose=-1
    )
    return make_pipeline(feat, lgbm)


def movielens_topk(seed=0):
    from sklearn_recsys.datasets import load_movielens
    from sklearn_recsys.dummy import PopularityRecommender
    from sklearn_recsys.recommend import evaluate_topk

    ml = load_movielens("100k", download_if_missing=False)
    X = ml.interactions[["user_id", "item_id", "rating", "timestamp"]]
    train, test = stratified_split(X, seed=seed)
    item_info = ml.item_info.drop(columns=[c for c in ("title",) if c in ml.item_info])
    user_info = ml.user_info
    rows = []
    catalog = np.sort(X["item_id"].unique())

    def run(name, model, fit_X, fit_y):
        t0 = time.perf_counter()
        model.fit(fit_X, fit_y)
        fit_s = time.perf_counter() - t0
        t0, c0 = time.perf_counter(), time.process_time()
        res = evaluate_topk(model, train, test, k=10, items=catalog)
        eval_s, eval_cpu = time.perf_counter() - t0, time.process_time() - c0
        v = res.set_index("metric")["value"]
        rows.append(
            {
                "model": name,
                "users": int(res.set_index("metric").loc["ndcg", "n_users"]),
                "user_item_pairs": int(test["user_id"].nunique() * len(catalog)),
                "fit_s": round(fit_s, 1),
                "evaluate_topk_s": round(eval_s, 1),
                "evaluate_topk_cpu_s": round(eval_cpu, 1),
                **{
                    m: round(float(v[m]), 4)
                    for m in (
                        "ndcg",
                        "recall",
                        "precision",
                        "map",
                        "mrr",
                        "coverage",
                        "aplt",
                        "arp",
                        "gini",
                        "novelty",
                    )
                },
            }
        )

    run("popularity", PopularityRecommender(), train, None)
    X_fit, y_fit = sample_negatives(train, seed=seed)
    run("lightgbm (featurizer + LGBM)", lightgbm_pipeline(item_info, user_info, seed), X_fit, y_fit)
    return rows


def _md(rows):
    cols = list(rows[0])
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    out += [
        "| " + " | ".join(f"{r[c]:,}" if isinstance(r[c], int) else str(r[c]) for c in cols) + " |"
        for r in rows
    ]
    return "\n".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-movielens", action="store_true")
    args = parser.parse_args(argv)

    speed = ranking_speed(repeat=args.repeat)
    md = ["## NDCG@10 + Recall@10, 1 M rows / 10 k users: ours vs ranx", "", _md([speed])]
    print("\n".join(md))
    topk = None
    if not args.skip_movielens:
        topk = movielens_topk()
        part = [
            "",
            "## evaluate_topk, MovieLens-100k full ranking (75/25 per-user split), k=10",
            "",
            _md(topk),
        ]
        print("\n".join(part))
        md += part
    RESULTS.mkdir(exist_ok=True)
    meta = {
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    (RESULTS / "bench_metrics.json").write_text(
        json.dumps({"meta": meta, "ranking_vs_ranx": speed, "movielens_topk": topk}, indent=2)
    )
    (RESULTS / "bench_metrics.md").write_text("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
