"""The Taobao case study: 72 h purchase conversion on a real e-commerce log, leakage-free.

Protocol (``load_benchmark_data("taobao")``): one row per non-buy event of the shared Taobao
extract, label = the user buys the item within 72 h (``label_conversion``), per-user temporal
split (each user's last 20 % of rows are the test set) with the training rows whose label is
known only after the user's split time purged; the behaviour features are computed from the
whole log, each row from the events strictly before it (``BehaviorHistoryFeaturizer``).

Measured:

1. references on the test split: the one-line heuristic (the user's earlier events on the item),
   the old default pipeline (InteractionFeaturizer + LightGBM, no history), the same without the
   purge (leakage), LightGBM on the history columns with the general LightGBM settings;
2. every registered strategy on the split and on ``--folds`` rolling-origin folds (one day of
   test each, purged): mean and standard deviation, the best strategy named;
3. the LightGBM settings of the conversion logs against the general ones, on the folds only
   (how they were chosen);
4. speed and memory of ``BehaviorHistoryFeaturizer`` on the multi-behaviour synthetic log
   (``--speed-rows``, 10 M by default; the same as ``bench_behavior.py``, which runs it alone).

    python benchmarks/bench_taobao.py [--strategies all] [--folds 3] [--speed-rows 10000000]

Prints tables and writes ``benchmarks/results/bench_taobao.{json,md}`` and
``docs/img/bench_taobao.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pandas as pd
from bench_behavior import speed
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.pipeline import make_pipeline

from sklearn_recsys.benchmark import (
    LGBM_PARAMS,
    LGBM_PARAMS_EVENTS,
    STRATEGIES,
    featurizer_steps,
    load_benchmark_data,
    load_benchmark_folds,
    run_benchmark,
    run_benchmark_folds,
)
from sklearn_recsys.datasets import label_conversion
from sklearn_recsys.features import BehaviorHistoryFeaturizer, InteractionFeaturizer
from sklearn_recsys.model_selection import user_temporal_split

RESULTS = Path(__file__).parent / "results"
IMG = Path(__file__).parent.parent / "docs" / "img"


def _scores(y, s):
    return {"roc_auc": roc_auc_score(y, s), "pr_auc": average_precision_score(y, s)}


def _lgbm():
    """LightGBM with the general settings of the benchmark."""
    from lightgbm import LGBMClassifier

    return LGBMClassifier(**LGBM_PARAMS, random_state=0)


def references(data):
    """The issue's reference points, on the purged split of ``data``."""
    rows = {}
    hist = BehaviorHistoryFeaturizer(data.events).fit(data.X_train)
    H_test = hist.transform(data.X_test)
    rows["heuristic: user's earlier events on the item"] = _scores(
        data.y_test, H_test["user_item_events"]
    )
    H_train = hist.transform(data.X_train)
    cols = hist.history_names_
    model = _lgbm().fit(H_train[cols], data.y_train)
    rows["LightGBM on the history columns, general settings"] = _scores(
        data.y_test, model.predict_proba(H_test[cols])[:, 1]
    )
    old = make_pipeline(
        InteractionFeaturizer(keep_id_columns=False, random_state=0), _lgbm()
    ).set_output(transform="pandas")
    old.fit(data.X_train, data.y_train)
    rows["old default: InteractionFeaturizer + LightGBM"] = _scores(
        data.y_test, old.predict_proba(data.X_test)[:, 1]
    )
    # the same protocol without the purge: labels that mature in the test period leak in
    X, y = label_conversion(data.events, target="buy", window="72h")  # the log already loaded
    X_tr, X_te, y_tr, y_te = user_temporal_split(X.drop(columns="label_time"), y)
    old.fit(X_tr, y_tr)
    rows["old default, NOT purged (leakage)"] = _scores(y_te, old.predict_proba(X_te)[:, 1])
    new = STRATEGIES["lightgbm"].factory(data)
    new.fit(X_tr, y_tr)
    rows["lightgbm (history), NOT purged (leakage)"] = _scores(y_te, new.predict_proba(X_te)[:, 1])
    return pd.DataFrame(rows).T


def settings_on_folds(folds, summary):
    """The ``lightgbm`` strategy (already in ``summary``) against LightGBM alone with the
    general settings and with the conversion logs' boosted settings, fitted here on the same
    folds: how the strategy's model was chosen."""
    from lightgbm import LGBMClassifier

    rows = {}
    for name, make in [
        ("general (LGBM_PARAMS)", _lgbm),
        (
            "conversion logs, boosted trees alone (LGBM_PARAMS_EVENTS)",
            lambda: LGBMClassifier(**LGBM_PARAMS_EVENTS, random_state=0),
        ),
    ]:
        res = []
        for data in folds:
            model = make_pipeline(*featurizer_steps(data), make()).set_output(transform="pandas")
            model.fit(data.X_train, data.y_train)
            res.append(_scores(data.y_test, model.predict_proba(data.X_test)[:, 1]))
        res = pd.DataFrame(res)
        rows[name] = [res.roc_auc.mean(), res.roc_auc.std(), res.pr_auc.mean(), res.pr_auc.std()]
    cols = ["roc_auc_mean", "roc_auc_std", "pr_auc_mean", "pr_auc_std"]
    if "lightgbm" in summary.index:
        rows["lightgbm strategy: LGBM_BOOSTED_EVENTS + LGBM_FOREST_EVENTS, soft vote"] = (
            summary.loc["lightgbm", cols].to_numpy(dtype=float)
        )
    return pd.DataFrame(rows, index=cols).T


def _updated(path, split, summary, per_fold):
    """The tables of an earlier run (``path``, its JSON) with the strategies run now replaced:
    one strategy re-measured without re-running every other."""
    old = json.loads(path.read_text())
    old_split = pd.DataFrame(old["split"]).set_index("strategy")
    old_summary = pd.DataFrame(old["folds_summary"]).set_index("strategy")
    old_per_fold = pd.DataFrame(old["per_fold"]).set_index("strategy")
    split = pd.concat([old_split.drop(index=split.index, errors="ignore"), split])
    summary = pd.concat([old_summary.drop(index=summary.index, errors="ignore"), summary])
    per_fold = pd.concat(
        [old_per_fold.drop(index=per_fold.index.unique(), errors="ignore"), per_fold]
    )
    return split, summary.sort_values("pr_auc_mean", ascending=False), per_fold


def plot(summary, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = summary.dropna(subset=["pr_auc_mean"]).sort_values("pr_auc_mean")
    fig, axes = plt.subplots(1, 2, figsize=(11, 0.32 * len(s) + 1.5), sharey=True)
    for ax, metric, label in [(axes[0], "roc_auc", "ROC-AUC"), (axes[1], "pr_auc", "PR-AUC")]:
        ax.barh(
            s.index,
            s[f"{metric}_mean"],
            xerr=s[f"{metric}_std"],
            color="#4c72b0",
            ecolor="#333333",
            capsize=2,
        )
        ax.set_xlabel(f"{label}, mean ± sd over the rolling-origin folds")
        if metric == "roc_auc":
            ax.axvline(0.5, color="grey", lw=0.8, ls="--")
            ax.set_xlim(0.4, None)
    base_rate = summary.attrs.get("base_rate")
    if base_rate:
        axes[1].axvline(base_rate, color="grey", lw=0.8, ls="--", label="no skill")
        axes[1].legend(loc="lower right")
    fig.suptitle("Taobao, 72 h purchase conversion: every strategy on purged folds")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown(payload, split, summary, refs, settings, speed_table):
    lines = [
        "# Taobao case study (bench_taobao.py)",
        "",
        f"{payload['protocol']}: {payload['n_train']} train / {payload['n_test']} test rows,"
        f" {payload['n_purged']} immature training rows purged; positive rate "
        f"{payload['pos_rate_train']:.4f} (train) / {payload['pos_rate_test']:.4f} (test).",
        "",
        "## References (test split)",
        "",
        refs.to_markdown(floatfmt=".4f"),
        "",
        "## Every strategy: the split, and the rolling-origin folds",
        "",
        summary.to_markdown(floatfmt=".4f"),
        "",
        "Split only:",
        "",
        split[["roc_auc", "pr_auc", "f1_pos", "ndcg@10", "fit_s", "note"]].to_markdown(
            floatfmt=".4f"
        ),
        "",
    ]
    if settings is not None:
        lines += ["## LightGBM settings on the folds", "", settings.to_markdown(floatfmt=".4f"), ""]
    if speed_table is not None:
        lines += [
            "## BehaviorHistoryFeaturizer speed (synthetic multi-behaviour log)",
            "",
            speed_table.to_markdown(index=False, floatfmt=".2f"),
            "",
        ]
    lines += [f"Machine: {payload['machine']}; {time.strftime('%Y-%m-%d')}."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--strategies", default="all")
    p.add_argument("--folds", type=int, default=3)
    p.add_argument("--speed-rows", type=int, nargs="*", default=[1_000_000, 10_000_000])
    p.add_argument("--output", default="bench_taobao")
    p.add_argument(
        "--update",
        action="store_true",
        help="keep the other strategies' rows of the existing --output results (re-measure "
        "only --strategies)",
    )
    args = p.parse_args(argv)
    strategies = None if args.strategies == "default" else args.strategies.split(",")
    warnings.simplefilter("ignore")
    t_start = time.time()

    data = load_benchmark_data("taobao")
    print(
        f"taobao: {len(data.X_train)} train / {len(data.X_test)} test, {data.n_purged} purged",
        flush=True,
    )
    refs = references(data)
    print(refs.to_string(float_format=lambda v: f"{v:.4f}"), flush=True)
    split, _ = run_benchmark(data, strategies, verbose=1)
    folds = load_benchmark_folds("taobao", n_splits=args.folds)
    summary, per_fold = run_benchmark_folds(folds, strategies, verbose=1)
    summary = summary.join(split[["roc_auc", "pr_auc"]].add_prefix("split_"))
    summary = summary.sort_values("pr_auc_mean", ascending=False)
    if args.update and (RESULTS / f"{args.output}.json").is_file():
        split, summary, per_fold = _updated(
            RESULTS / f"{args.output}.json", split, summary, per_fold
        )
    summary.attrs["base_rate"] = float(np.mean([f.y_test.mean() for f in folds]))
    print(summary.to_string(float_format=lambda v: f"{v:.4f}"), flush=True)
    settings = settings_on_folds(folds, summary)
    print(settings.to_string(float_format=lambda v: f"{v:.4f}"), flush=True)
    speed_table = speed(args.speed_rows) if args.speed_rows else None
    if speed_table is None and args.update and (RESULTS / f"{args.output}.json").is_file():
        kept = json.loads((RESULTS / f"{args.output}.json").read_text()).get("speed")
        speed_table = None if kept is None else pd.DataFrame(kept)  # not re-measured

    best = summary["pr_auc_mean"].idxmax()
    payload = {
        "protocol": data.protocol,
        "n_train": len(data.X_train),
        "n_test": len(data.X_test),
        "n_purged": data.n_purged,
        "pos_rate_train": float(data.y_train.mean()),
        "pos_rate_test": float(data.y_test.mean()),
        "fold_sizes": [
            {
                "n_train": len(f.X_train),
                "n_test": len(f.X_test),
                "n_purged": f.n_purged,
                "pos_rate_test": float(f.y_test.mean()),
            }
            for f in folds
        ],
        "references": refs.reset_index(names="reference").to_dict(orient="records"),
        "split": split.reset_index()
        .astype(object)
        .where(split.reset_index().notna(), None)
        .to_dict(orient="records"),
        "folds_summary": summary.reset_index()
        .astype(object)
        .where(summary.reset_index().notna(), None)
        .to_dict(orient="records"),
        "per_fold": per_fold.reset_index()
        .astype(object)
        .where(per_fold.reset_index().notna(), None)
        .to_dict(orient="records"),
        "lightgbm_settings": settings.reset_index(names="settings").to_dict(orient="records"),
        "speed": None if speed_table is None else speed_table.to_dict(orient="records"),
        "best_by_fold_pr_auc": best,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}",
        "wall_s": time.time() - t_start,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.output}.json").write_text(json.dumps(payload, indent=2, allow_nan=False))
    (RESULTS / f"{args.output}.md").write_text(
        markdown(payload, split, summary, refs, settings, speed_table)
    )
    IMG.mkdir(parents=True, exist_ok=True)
    plot(summary, IMG / f"{args.output}.png")
    print(f"best strategy by mean fold PR-AUC: {best}")
    print(
        f"wrote {RESULTS / args.output}.json / .md and {IMG / args.output}.png "
        f"({payload['wall_s']:.0f} s)"
    )


if __name__ == "__main__":
    main()
