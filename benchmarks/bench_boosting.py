"""LightGBM boosters and imbalance ensembles on MovieLens-100k ("loved") and synthetic purchases.

Protocol (the package's benchmark protocol, ``sklearn_recsys.benchmark.load_benchmark_data``):
per-user temporal split (last 20 % of each user's rows are the test set), features from one
:class:`~sklearn_recsys.features.InteractionFeaturizer` fitted on the training rows (out-of-fold
target rates, popularity, activity, SVD factors, side tables) with the id columns kept, so
that the LightGBM wrappers see them as categorical features. Every strategy is fitted on the
same training frame and scored on the same test frame:

- PR-AUC (average precision), minority-class F1 and G-mean of ``predict`` (the model's own
  threshold), NDCG@10 per user and tail recall@10 (relevant items outside the head that make
  80 % of training interactions) over each user's test rows, fit seconds;
- the wrappers' fit-time overhead against ``lightgbm.train`` with the same parameters on the
  same (already encoded) matrix: fastest wrapper fit / fastest raw fit over interleaved repeats
  (target <= 1.05).

Prints the tables and writes ``benchmarks/results/bench_boosting.{json,md}``.

    SKLEARN_RECSYS_DATA=../shared/data python benchmarks/bench_boosting.py \
        [--datasets ml-100k synthetic] [--n-interactions 100000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import time
from pathlib import Path

import lightgbm
import numpy as np
import pandas as pd
from imblearn.metrics import geometric_mean_score
from sklearn.metrics import average_precision_score, f1_score

from sklearn_recsys.benchmark import featurizer, load_benchmark_data
from sklearn_recsys.boosting import (
    FocalLGBMClassifier,
    GroupedLGBMRanker,
    ImbalancedLGBMClassifier,
)
from sklearn_recsys.ensemble import (
    SelfPacedEnsembleClassifier,
    make_balanced_bagging,
    make_balanced_random_forest,
    make_easy_ensemble,
    make_rusboost,
    make_stacking,
)
from sklearn_recsys.metrics import ndcg_at_k, tail_recall_at_k

RESULTS = Path(__file__).parent / "results"
SEED = 0
# one LightGBM thread: on a shared 2-core machine OpenMP threads that wait on each other make a
# 2-thread fit 20-30x slower than a 1-thread one (measured here under load)
THREADS = 1
# the settings of the published tables: 200 trees at learning rate 0.05, L2 penalty 1, row and
# feature fractions 0.8 (the wrappers' defaults are LightGBM's own since they became drop-in)
LGBM = {
    "n_estimators": 200,
    "learning_rate": 0.05,
    "reg_lambda": 1.0,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
    "n_jobs": THREADS,
    "random_state": SEED,
}
OVERHEAD_TREES = 100


def strategies(stack_cv):
    """name -> (estimator, is_ranker)."""
    return {
        "lightgbm": (ImbalancedLGBMClassifier(class_weight=None, **LGBM), False),
        "lightgbm (ids numeric)": (
            ImbalancedLGBMClassifier(
                class_weight=None, user_col=None, item_col=None, categorical_features=None, **LGBM
            ),
            False,
        ),
        "lightgbm balanced": (ImbalancedLGBMClassifier(class_weight="balanced", **LGBM), False),
        "lightgbm sqrt": (ImbalancedLGBMClassifier(class_weight="sqrt", **LGBM), False),
        "focal (a=.25, g=2)": (
            FocalLGBMClassifier(focal_alpha=0.25, focal_gamma=2.0, **LGBM),
            False,
        ),
        "focal (g=1) balanced": (
            FocalLGBMClassifier(focal_gamma=1.0, class_weight="balanced", **LGBM),
            False,
        ),
        "lambdarank": (GroupedLGBMRanker(**LGBM), True),
        "balanced bagging": (make_balanced_bagging(n_jobs=1, random_state=SEED), False),
        "EasyEnsemble": (make_easy_ensemble(n_jobs=1, random_state=SEED), False),
        "RUSBoost": (make_rusboost(random_state=SEED), False),
        "balanced RF": (make_balanced_random_forest(n_jobs=THREADS, random_state=SEED), False),
        "self-paced ensemble": (SelfPacedEnsembleClassifier(random_state=SEED), False),
        "stacking": (_stacking(stack_cv), False),
    }


def _stacking(cv):
    model = make_stacking(cv=cv, random_state=SEED)
    names = [name for name, _ in model.estimators]
    if "neural" in names:  # fewer epochs than the recipe's 10 to keep the benchmark short
        model.set_params(neural__max_epochs=5)
    return model


def featurize(data):
    feat = featurizer(data, keep_id_columns=True).set_output(transform="pandas")
    X_train = feat.fit_transform(data.X_train, data.y_train)
    X_test = feat.transform(data.X_test)
    return X_train, X_test


def score(name, est, is_ranker, X_train, y_train, X_test, y_test, data):
    t0 = time.perf_counter()
    est.fit(X_train, y_train)
    fit_s = time.perf_counter() - t0
    if is_ranker:
        s = est.predict(X_test)
        f1 = gmean = float("nan")
    else:
        s = est.predict_proba(X_test)[:, 1]
        pred = est.predict(X_test)
        f1 = f1_score(y_test, pred, zero_division=0)
        gmean = geometric_mean_score(y_test, pred, average="binary")
    users, items = data.X_test["user_id"].to_numpy(), data.X_test["item_id"].to_numpy()
    return {
        "strategy": name,
        "pr_auc": average_precision_score(y_test, s),
        "f1_minority": f1,
        "g_mean": gmean,
        "ndcg@10": ndcg_at_k(y_test, s, groups=users, k=10),
        "tail_recall@10": tail_recall_at_k(
            y_test, s, groups=users, items=items, train=data.X_train, k=10
        ),
        "fit_s": fit_s,
    }


def _raw_params(est):
    """The parameters our wrapper passes to LightGBM, for lightgbm.train."""
    p = est.booster_.params.copy()
    for key in ("num_iterations", "n_estimators", "num_class", "metric"):
        p.pop(key, None)
    return p


@contextlib.contextmanager
def _lgbm_fit_timer():
    """Accumulate the CPU seconds spent inside LightGBM's scikit-learn ``fit`` calls."""
    spent = [0.0]
    originals = {cls: cls.fit for cls in (lightgbm.LGBMClassifier, lightgbm.LGBMRanker)}

    def timed(original):
        def fit(self, *args, **kwargs):
            t0 = time.process_time()
            try:
                return original(self, *args, **kwargs)
            finally:
                spent[0] += time.process_time() - t0

        return fit

    for cls, original in originals.items():
        cls.fit = timed(original)
    try:
        yield spent
    finally:
        for cls, original in originals.items():
            cls.fit = original


def overhead(X_train, y_train, repeats):
    """Fit-time ratios wrapper / raw ``lightgbm.train`` and wrapper / LightGBM's own
    scikit-learn class, on the same encoded matrix and parameters (medians of paired runs)."""
    rows = []
    y = np.asarray(y_train)
    # classifier: the wrapper takes the frame (ids mapped to codes, categoricals marked)
    kw = {**LGBM, "n_estimators": OVERHEAD_TREES}
    clf = ImbalancedLGBMClassifier(class_weight=None, **kw).fit(X_train, y)
    Xe, cats, params = (
        clf._encoder.transform(X_train),
        clf._encoder.categorical_index_,
        _raw_params(clf),
    )
    # ranker: the wrapper also sorts the rows by user and derives the group sizes
    rk = GroupedLGBMRanker(**kw).fit(X_train, y)
    codes = pd.factorize(X_train["user_id"])[0]
    order = np.argsort(codes, kind="stable")
    Xr = rk._encoder.transform(X_train, order)
    sizes = np.bincount(codes)
    rk_params, rk_cats = _raw_params(rk), rk._encoder.categorical_index_
    cases = {
        "ImbalancedLGBMClassifier": (
            lambda: ImbalancedLGBMClassifier(class_weight=None, **kw).fit(X_train, y),
            lambda: lightgbm.train(
                params,
                lightgbm.Dataset(Xe, y, categorical_feature=cats),
                num_boost_round=OVERHEAD_TREES,
            ),
            lambda: lightgbm.LGBMClassifier(**clf.estimator_.get_params()).fit(
                Xe, y, categorical_feature=cats
            ),
        ),
        "GroupedLGBMRanker": (
            lambda: GroupedLGBMRanker(**kw).fit(X_train, y),
            lambda: lightgbm.train(
                rk_params,
                lightgbm.Dataset(Xr, y[order], group=sizes, categorical_feature=rk_cats),
                num_boost_round=OVERHEAD_TREES,
            ),
            lambda: lightgbm.LGBMRanker(**rk.estimator_.get_params()).fit(
                Xr, y[order], group=sizes, categorical_feature=rk_cats
            ),
        ),
    }
    for name, fits in cases.items():
        times = np.zeros((repeats, 3))
        for i in range(repeats):  # interleave, so that machine load hits all three alike
            for j, fit in enumerate(fits):
                # CPU time of this process: LightGBM runs on one thread here, so it is the work
                # done, and time stolen by other jobs on a shared machine does not count
                t0 = time.process_time()
                fit()
                times[i, j] = time.process_time() - t0
        wrapper, raw, sk = times.T
        # the wrapper's own work, measured inside the same call: its fit time minus the time
        # spent in LightGBM's fit. Immune to the run-to-run noise of a shared machine (10 %
        # between identical fits here), which swamps a few-percent difference of two timings.
        own = []
        for _ in range(repeats):
            with _lgbm_fit_timer() as inner:
                t0 = time.process_time()
                fits[0]()
                total = time.process_time() - t0
            own.append(total - inner[0])
        own_s = float(np.median(own))
        rows.append(
            {
                "model": name,
                "trees": OVERHEAD_TREES,
                "repeats": repeats,
                "raw_cpu_s": float(np.median(raw)),
                "lgbm_sklearn_cpu_s": float(np.median(sk)),
                "wrapper_cpu_s": float(np.median(wrapper)),
                "ratio": float(np.median(wrapper / raw)),
                "ratio_vs_lgbm_sklearn": float(np.median(wrapper / sk)),
                "own_cpu_s": own_s,
                "own_ratio": float((np.median(sk) + own_s) / np.median(raw)),
            }
        )
    return rows


def markdown(table, columns, floatfmt=".3f"):
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in table:
        cells = []
        for c in columns:
            v = row[c]
            cells.append(
                f"{v:{floatfmt}}"
                if isinstance(v, float) and not np.isnan(v)
                else ("–" if isinstance(v, float) else str(v))
            )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--datasets", nargs="+", default=["ml-100k", "synthetic"])
    parser.add_argument("--n-interactions", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--stack-cv", type=int, default=3)
    parser.add_argument(
        "--only",
        nargs="*",
        default=None,
        help="strategy names to run (others keep their previous results)",
    )
    args = parser.parse_args(argv)

    out = {
        "machine": {
            "python": platform.python_version(),
            "lightgbm": lightgbm.__version__,
            "cpus": os.cpu_count(),
            "threads": THREADS,
        },
        "datasets": {},
    }
    md = ["# bench_boosting", ""]
    previous = {}
    if args.only is not None and (RESULTS / "bench_boosting.json").exists():
        previous = json.loads((RESULTS / "bench_boosting.json").read_text())["datasets"]
    for dataset in args.datasets:
        data = load_benchmark_data(dataset, n_interactions=args.n_interactions, random_state=SEED)
        y_train, y_test = data.y_train.to_numpy(), data.y_test.to_numpy()
        X_train, X_test = featurize(data)
        info = {
            "train_rows": len(X_train),
            "test_rows": len(X_test),
            "features": X_train.shape[1],
            "positive_rate_train": float(y_train.mean()),
            "positive_rate_test": float(y_test.mean()),
        }
        print(f"\n== {dataset}: {info}", flush=True)
        rows = []
        for name, (est, is_ranker) in strategies(args.stack_cv).items():
            if args.only is not None and name not in args.only:
                continue
            row = score(name, est, is_ranker, X_train, y_train, X_test, y_test, data)
            rows.append(row)
            print(
                "  ".join(
                    f"{k}={v:.3f}" if isinstance(v, float) else f"{v:<22}" for k, v in row.items()
                ),
                flush=True,
            )
        over = overhead(X_train, y_train, args.repeats) if args.repeats else []
        if args.only is not None:  # partial run: keep the other rows of the previous run
            prev = previous.get(dataset, {})
            done = {r["strategy"] for r in rows}
            rows = [r for r in prev.get("results", []) if r["strategy"] not in done] + rows
            order = list(strategies(args.stack_cv))
            rows.sort(key=lambda r: order.index(r["strategy"]))
            over = over or prev.get("overhead", [])
        for r in over:
            print(
                f"overhead {r['model']}: raw {r['raw_cpu_s']:.2f}s, LightGBM sklearn "
                f"{r['lgbm_sklearn_cpu_s']:.2f}s, wrapper {r['wrapper_cpu_s']:.2f}s CPU, ratio "
                f"{r['ratio']:.3f} (vs LightGBM sklearn {r['ratio_vs_lgbm_sklearn']:.3f}); own "
                f"work {r['own_cpu_s']:.3f}s -> ratio {r['own_ratio']:.3f}",
                flush=True,
            )
        out["datasets"][dataset] = {"info": info, "results": rows, "overhead": over}
        md += [
            f"## {dataset}",
            "",
            f"{info['train_rows']} training / {info['test_rows']} test rows, "
            f"{info['features']} features, positive rate {info['positive_rate_test']:.3f} "
            "(test).",
            "",
            markdown(
                rows,
                [
                    "strategy",
                    "pr_auc",
                    "f1_minority",
                    "g_mean",
                    "ndcg@10",
                    "tail_recall@10",
                    "fit_s",
                ],
            ),
            "",
        ]
        if over:
            md += [
                "Wrapper overhead against `lightgbm.train` and LightGBM's own scikit-learn "
                "class on the same encoded matrix and parameters (CPU seconds of one fit, "
                "one thread, median of the repeats; ratios are medians of interleaved "
                "pairs; the wrapper's time includes validating and encoding the frame and, "
                "for the ranker, sorting the rows by user):",
                "",
                markdown(
                    over,
                    [
                        "model",
                        "trees",
                        "repeats",
                        "raw_cpu_s",
                        "lgbm_sklearn_cpu_s",
                        "wrapper_cpu_s",
                        "ratio",
                        "ratio_vs_lgbm_sklearn",
                        "own_cpu_s",
                        "own_ratio",
                    ],
                ),
                "",
                "`own_cpu_s` is the wrapper's own work (its fit minus the time inside "
                "LightGBM's `fit`, measured in the same call); `own_ratio` = (LightGBM "
                "sklearn + own work) / raw, the overhead without the run-to-run noise.",
                "",
            ]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_boosting.json").write_text(json.dumps(out, indent=2, default=float))
    (RESULTS / "bench_boosting.md").write_text("\n".join(md) + "\n")
    print("\n" + "\n".join(md))


if __name__ == "__main__":
    main()
