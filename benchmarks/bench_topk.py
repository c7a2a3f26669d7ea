"""Top-k recommendation over the whole catalogue, then long-tail re-ranking.

Protocol (the ``evaluate_topk`` one): per-user temporal split of the benchmark data set (80 / 20),
each test user ranks every catalogue item not seen in training, k = 10. Two relevance
definitions: every test interaction (``all``) and the positive label (``pos``: "loved" =
rating 5 on MovieLens-100k, purchase on the synthetic log).

1. Models: the popularity floor, the benchmark's LightGBM baseline, ItemKNN, EASE, ALS / BPR
   (through ``implicit``), the two-tower retriever and the two-stage recommender; the peers:
   ``implicit``'s own ALS / BPR driven through its own API (``model.recommend``), and RecBole
   when ``--recbole-python`` points at an interpreter that has it.
2. Re-ranking: XQuAD (head / tail), popularity penalty and calibration (head / tail) on the
   best model and on EASE, weights 0 .. 0.9.
3. The trade-off as a two-objective study: ``TopKParetoSearch`` over the XQuAD weight on an
   inner hold-out of the training split (NDCG@10 vs tail recall@10), and its Pareto plot.
4. The synthetic log: the same, plus the true quality of the re-ranked tail items.

Prints the tables and writes ``benchmarks/results/bench_topk.{json,md}`` and
``docs/img/topk_pareto.png``.

    python benchmarks/bench_topk.py [--quick] [--skip-slow]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).parent / "results"
IMG = Path(__file__).parent.parent / "docs" / "img"
WEIGHTS = (0.1, 0.2, 0.3, 0.5, 0.7, 0.9)


# ----------------------------------------------------------------------------- peers
class _ListScorer:
    """Scores of a peer's full ranking: -rank of each item in the user's list (-inf if absent)."""

    def __init__(self, lists, items):
        self.lists, self.items = lists, pd.Index(items)

    def score_matrix(self, users, items, exclude=None):
        out = np.full((len(users), len(items)), -np.inf)
        col = pd.Index(items).get_indexer(self.items)
        for r, u in enumerate(users):
            ranked = self.lists.get(u)
            if ranked is None:
                continue
            ok = col[ranked] >= 0
            out[r, col[ranked][ok]] = -np.arange(len(ranked))[ok]
        if exclude is not None:
            out[exclude] = -np.inf
        return out


def implicit_peer(name, data):
    """implicit's ALS / BPR through its own API, with the hyper-parameters of our wrappers."""
    import scipy.sparse as sp
    from implicit.cpu.als import AlternatingLeastSquares
    from implicit.cpu.bpr import BayesianPersonalizedRanking
    from threadpoolctl import threadpool_limits

    users = pd.Index(np.sort(data.X_train["user_id"].unique()))
    items = pd.Index(np.sort(data.X_train["item_id"].unique()))
    R = sp.csr_matrix(
        (
            np.ones(len(data.X_train), dtype=np.float32),
            (
                users.get_indexer(data.X_train["user_id"]),
                items.get_indexer(data.X_train["item_id"]),
            ),
        ),
        shape=(len(users), len(items)),
    )
    R.data[:] = 1.0
    t0 = time.perf_counter()
    with threadpool_limits(1, "blas"):
        if name == "als":
            model = AlternatingLeastSquares(
                factors=64, regularization=0.05, iterations=15, num_threads=1, random_state=0
            )
        else:
            model = BayesianPersonalizedRanking(
                factors=64, learning_rate=0.01, iterations=200, num_threads=1, random_state=0
            )
        model.fit(R, show_progress=False)
    fit_s = time.perf_counter() - t0
    test_users = data.X_test["user_id"].unique()
    known = users.get_indexer(test_users)
    ids, _ = model.recommend(
        known[known >= 0], R[known[known >= 0]], N=len(items), filter_already_liked_items=True
    )
    lists = dict(zip(test_users[known >= 0], ids))
    return _ListScorer(lists, items), fit_s


def recbole_peers(data, python, models, epochs):
    """RecBole's models on the same split, in the benchmark environment (a subprocess)."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        cols = ["user_id", "item_id", "timestamp"]
        data.X_train[cols].to_csv(f"{tmp}/train.csv", index=False)
        data.X_test[cols].to_csv(f"{tmp}/test.csv", index=False)
        runner = Path(__file__).parent / "peers" / "recbole_runner.py"
        subprocess.run(
            [
                python,
                str(runner),
                "--split-dir",
                tmp,
                "--out",
                f"{tmp}/lists.json",
                "--models",
                models,
                "--epochs",
                str(epochs),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        out = json.loads(Path(f"{tmp}/lists.json").read_text())
    items = pd.Index(np.sort(data.X_train["item_id"].unique()))
    to_user = {str(u): u for u in data.X_test["user_id"].unique()}
    to_item = {str(i): k for k, i in enumerate(items)}
    rows = []
    for name, r in out.items():
        lists = {
            to_user[u]: np.array([to_item[i] for i in lst], dtype=np.int64)
            for u, lst in r["lists"].items()
        }
        rows.append(
            evaluate_peer(f"peer: RecBole {name}", _ListScorer(lists, items), r["fit_s"], data)
        )
    return rows


def evaluate_peer(name, scorer, fit_s, data):
    from sklearn_recsys._topk_cli import _metrics
    from sklearn_recsys.recommend import evaluate_topk

    t0 = time.perf_counter()
    res_all = evaluate_topk(scorer, data.X_train, data.X_test, k=10)
    eval_s = time.perf_counter() - t0
    res_pos = evaluate_topk(scorer, data.X_train, data.X_test, np.asarray(data.y_test), k=10)
    return {
        "model": name,
        **_metrics(res_all, "all"),
        **_metrics(res_pos, "pos"),
        "fit_s": fit_s,
        "eval_s": eval_s,
    }


# ----------------------------------------------------------------------------- re-ranking
def rerank_sweep(model, name, data, quality=None):
    from sklearn_recsys._topk_cli import _metrics
    from sklearn_recsys.recommend import evaluate_topk
    from sklearn_recsys.rerank import (
        CalibratedReranker,
        PopularityPenaltyReranker,
        XQuADReranker,
    )

    rows = []
    y = np.asarray(data.y_test)
    for label, cls in [
        ("xquad", XQuADReranker),
        ("pop-penalty", PopularityPenaltyReranker),
        ("calibrated", CalibratedReranker),
    ]:
        for w in (0.0, *WEIGHTS):
            if w == 0.0 and label != "xquad":
                continue
            rr = cls(w).fit(data.X_train)
            res_all, recs = evaluate_topk(
                model, data.X_train, data.X_test, k=10, reranker=rr, return_recommendations=True
            )
            res_pos = evaluate_topk(model, data.X_train, data.X_test, y, k=10, reranker=rr)
            row = {
                "model": name,
                "reranker": label if w else "none",
                "weight": w,
                **_metrics(res_all, "all"),
                **_metrics(res_pos, "pos"),
            }
            if quality is not None:
                tail = rr._is_tail(recs["item_id"].to_numpy())
                q = quality.reindex(recs["item_id"]).to_numpy()
                row["quality_tail_items"] = float(q[tail].mean()) if tail.any() else np.nan
                row["quality_all_items"] = float(q.mean())
            rows.append(row)
    df = pd.DataFrame(rows)
    for p in ("all", "pos"):
        base = df.iloc[0]
        df[f"{p}_ndcg_change"] = df[f"{p}_ndcg"] / base[f"{p}_ndcg"] - 1
        for m in ("tail_recall", "aplt"):  # multiplier of the input order's value (n/a from 0)
            b = base[f"{p}_{m}"]
            df[f"{p}_{m.split('_')[0]}_x"] = df[f"{p}_{m}"] / b if b > 0 else np.nan
    return df


def best_point(sweep, p="all", max_loss=0.05):
    ok = sweep[(sweep[f"{p}_ndcg_change"] >= -max_loss) & (sweep["weight"] > 0)]
    if ok.empty:
        return None
    return ok.sort_values(f"{p}_tail_x", ascending=False).iloc[0].to_dict()


def pareto_study(model, data, n_trials):
    from optuna.distributions import FloatDistribution

    from sklearn_recsys.model_selection import TopKParetoSearch
    from sklearn_recsys.rerank import XQuADReranker

    search = TopKParetoSearch(
        model,
        {"reranker__weight": FloatDistribution(0.0, 1.0)},
        reranker=XQuADReranker(),
        n_trials=n_trials,
        refit="none",
        random_state=0,
    )
    t0 = time.perf_counter()
    search.fit(data.X_train)
    return search, time.perf_counter() - t0


def plot(search, sweeps, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4))
    search.plot_pareto_front(ax=axes[0], annotate="param_reranker__weight")
    axes[0].set_title("TopKParetoSearch: XQuAD weight\n(inner hold-out of the training split)")
    ax = axes[1]
    for (name, label), marker in zip(sweeps, "os^v"):
        for rr, g in name.groupby("reranker"):
            g = pd.concat([name[name["reranker"] == "none"], g]) if rr != "none" else g
            ax.plot(
                g["all_ndcg"],
                g["all_tail_recall"],
                marker=marker,
                ms=4,
                label=f"{label} + {rr}" if rr != "none" else None,
            )
    ax.set_xlabel("NDCG@10 (test, every interaction relevant)")
    ax.set_ylabel("tail recall@10")
    ax.set_title("Re-ranking sweeps on the test split (weights 0 .. 0.9)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


# ----------------------------------------------------------------------------- main
def run_dataset(data, models, args, quality=None):
    from sklearn_recsys._topk_cli import run_topk

    t0 = time.perf_counter()
    table, fitted = run_topk(data, models, verbose=0)
    peers = []
    if "ease" in models and not args.skip_peers and data.name == "ml-100k":
        for name in ("als", "bpr"):
            scorer, fit_s = implicit_peer(name, data)
            peers.append(evaluate_peer(f"peer: implicit {name.upper()}", scorer, fit_s, data))
    if "ease" in models and args.recbole_python and data.name == "ml-100k":
        import subprocess

        try:
            peers += recbole_peers(
                data, args.recbole_python, args.recbole_models, args.recbole_epochs
            )
        except (subprocess.CalledProcessError, OSError) as exc:
            print(
                f"RecBole peers failed ({exc}); is RecBole installed for "
                f"{args.recbole_python}? See docs/topk.md."
            )
    if peers:
        table = pd.concat([table, pd.DataFrame(peers).set_index("model")])
    print(
        f"\n{data.name}: {len(data.X_train)} train / {len(data.X_test)} test rows "
        f"({time.perf_counter() - t0:.0f} s)\n"
    )
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))
    ours = table.loc[[m for m in table.index if not m.startswith("peer")]]
    best = ours["all_ndcg"].idxmax()
    sweeps = [(rerank_sweep(fitted[best], best, data, quality), best)]
    if best != "ease" and "ease" in fitted:
        sweeps.append((rerank_sweep(fitted["ease"], "ease", data, quality), "ease"))
    for sw, name in sweeps:
        print(f"\nre-ranking {name}:")
        print(sw.drop(columns="model").to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    return table, fitted, best, sweeps


def markdown(results):
    lines = [
        "# Top-k recommendation and long-tail re-ranking",
        "",
        "Per-user temporal split (80 / 20), full ranking over the catalogue, k = 10. "
        "`all`: every test interaction relevant; `pos`: the positive label (loved / "
        "purchase). Tail: items outside the head that makes 80 % of the training "
        "interactions.",
        "",
    ]
    cols = [
        "all_ndcg",
        "all_recall",
        "all_tail_recall",
        "all_aplt",
        "pos_ndcg",
        "pos_recall",
        "pos_tail_recall",
        "pos_aplt",
        "fit_s",
        "eval_s",
    ]
    for ds, r in results["datasets"].items():
        lines += [
            f"## {ds}",
            "",
            pd.DataFrame(r["models"]).set_index("model")[cols].to_markdown(floatfmt=".4f"),
            "",
        ]
        for sw in r["sweeps"]:
            df = pd.DataFrame(sw)
            keep = [
                "reranker",
                "weight",
                "all_ndcg",
                "all_ndcg_change",
                "all_tail_recall",
                "all_tail_x",
                "all_aplt",
                "all_aplt_x",
                "pos_ndcg",
                "pos_ndcg_change",
                "pos_tail_x",
                "pos_aplt_x",
            ]
            keep += [c for c in ("quality_tail_items", "quality_all_items") if c in df]
            lines += [
                f"### re-ranking {df['model'].iloc[0]}",
                "",
                df[keep].to_markdown(index=False, floatfmt=".4f"),
                "",
            ]
        for p, pt in r["best_points"].items():
            if pt:
                lines.append(
                    f"- best point with <= 5 % NDCG@10 loss ({p}): {pt['model']} + "
                    f"{pt['reranker']}({pt['weight']:g}): NDCG {pt[p + '_ndcg']:.4f} "
                    f"({100 * pt[p + '_ndcg_change']:+.1f} %), tail recall x"
                    f"{pt[p + '_tail_x']:.2f}, APLT x{pt[p + '_aplt_x']:.2f}"
                )
        lines.append("")
        if "pareto" in r:
            lines += [
                "### Pareto front (TopKParetoSearch, XQuAD weight, inner hold-out)",
                "",
                pd.DataFrame(r["pareto"]).to_markdown(index=False, floatfmt=".4f"),
                "",
            ]
    lines += ["## Notes", "", *[f"- {n}" for n in results["notes"]], ""]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small synthetic data only")
    ap.add_argument(
        "--skip-slow",
        action="store_true",
        help="leave out the LightGBM baseline and the two-tower model",
    )
    ap.add_argument("--skip-peers", action="store_true")
    ap.add_argument("--n-trials", type=int, default=20)
    bench_python = Path(__file__).parent.parent / ".venv-bench" / "bin" / "python"
    ap.add_argument(
        "--recbole-python",
        default=str(bench_python) if bench_python.exists() else None,
        help="interpreter with RecBole (default: .venv-bench's)",
    )
    ap.add_argument("--recbole-models", default="BPR,LightGCN,EASE")
    ap.add_argument("--recbole-epochs", type=int, default=100)
    ap.add_argument("--data-home", default=None)
    args = ap.parse_args()

    from sklearn_recsys.benchmark import load_benchmark_data
    from sklearn_recsys.datasets import make_interactions

    slow = () if args.skip_slow else ("lightgbm", "two-tower")
    models = ("popularity", *slow[:1], "itemknn", "ease", "als", "bpr", *slow[1:], "two-stage")
    results = {"datasets": {}, "notes": []}
    sets = [("synthetic", 20_000)] if args.quick else [("ml-100k", None), ("synthetic", 100_000)]
    for name, n in sets:
        data = load_benchmark_data(
            name, data_home=args.data_home, n_interactions=n or 100_000, random_state=0
        )
        quality = None
        if name == "synthetic":
            quality = make_interactions(n_interactions=n, random_state=0).item_info["quality"]
        table, fitted, best, sweeps = run_dataset(data, models, args, quality)
        r = {
            "models": table.reset_index().to_dict(orient="records"),
            "sweeps": [sw.to_dict(orient="records") for sw, _ in sweeps],
            "best_points": {p: best_point(sweeps[0][0], p) for p in ("all", "pos")},
        }
        if name == sets[0][0]:
            search, secs = pareto_study(fitted[best], data, args.n_trials)
            front = search.pareto_front_
            r["pareto"] = front[
                ["number", "param_reranker__weight", "ndcg", "tail_recall"]
            ].to_dict(orient="records")
            r["pareto_seconds"] = secs
            print(f"\nPareto front ({args.n_trials} trials, {secs:.0f} s):")
            print(front.to_string(index=False))
            plot(search, [(sw, lab) for sw, lab in sweeps], IMG / "topk_pareto.png")
        results["datasets"][name] = r
    results["notes"].append(
        "RecBole peers: "
        + (
            f"run with {args.recbole_python} (numpy < 2, pandas < 2.3: "
            "RecBole 1.2 fails to import with numpy 2)"
            if args.recbole_python
            else "not run (no --recbole-python)"
        )
        + "."
    )
    results["notes"].append(
        "implicit peers: implicit's own ALS / BPR through its own API "
        "(model.recommend), same hyper-parameters as our wrappers."
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_topk.json").write_text(json.dumps(results, indent=2, default=float))
    (RESULTS / "bench_topk.md").write_text(markdown(results))
    print(f"\nwrote {RESULTS / 'bench_topk.json'} and .md")


if __name__ == "__main__":
    main()
