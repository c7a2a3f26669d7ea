"""Over-sampling benchmark: GANOverSampler against SMOTE & co. and CTGAN, downstream and speed.

For each data set, under stratified k-fold CV (5 folds by default), every resampler is fitted on
the training fold and LightGBM and logistic regression are trained on the resampled rows; the
test fold gives PR-AUC (average precision), minority-class F1 and G-mean at threshold 0.5. The
interaction data sets are featurized inside each fold (``InteractionFeaturizer``, out-of-fold
target rates), and every resampler sees the same featurized rows.

Resamplers: none, random over-sampling, SMOTE, ADASYN, Borderline-SMOTE (imbalanced-learn),
CTGAN (the ``ctgan`` package, conditioned on the label, run in the peers' environment
``.venv-bench`` through ``benchmarks/peers/ctgan_runner.py``; "not run" when that environment is
absent) and GANOverSampler, with CTGAN and GANOverSampler at the same number of epochs. A speed
section times CTGAN and GANOverSampler on the same 20,000 x 20 table at 10 epochs, whole fit and
sampling included. Everything runs on one CPU thread (``OMP_NUM_THREADS=1``, torch threads 1)
so that the timings do not depend on what else the machine runs.

Usage::

    python benchmarks/bench_oversampling.py [--folds 5] [--quick] [--no-ctgan]

Writes ``benchmarks/results/bench_oversampling.json`` and ``.md``, and the plot
``docs/img/bench_oversampling.png``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from imblearn.metrics import geometric_mean_score  # noqa: E402
from imblearn.over_sampling import (  # noqa: E402
    ADASYN,
    SMOTE,
    BorderlineSMOTE,
    RandomOverSampler,
)
from lightgbm import LGBMClassifier  # noqa: E402
from sklearn.datasets import (  # noqa: E402
    load_breast_cancer,
    load_diabetes,
    load_digits,
    make_classification,
)
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import average_precision_score, f1_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sklearn_recsys.sampling import GANOverSampler, synthetic_quality  # noqa: E402

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
PEERS_PYTHON = ROOT / ".venv-bench" / "bin" / "python"
RUNNER = ROOT / "benchmarks" / "peers" / "ctgan_runner.py"
METHODS = ["none", "random_over", "smote", "adasyn", "borderline_smote", "ctgan", "gan"]
TARGET_UPDATES = 300  # generator updates per fit: epochs = TARGET_UPDATES / steps per epoch
BATCH = 500


# ---------------------------------------------------------------------------- data sets
def _thin(X, y, rate, seed):
    """Keep every majority row and enough minority rows for a ``rate`` minority share."""
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    n_pos = max(10, round(rate / (1 - rate) * len(neg)))
    keep = np.sort(np.r_[neg, rng.choice(pos, size=min(n_pos, len(pos)), replace=False)])
    return X[keep], y[keep]


def load_datasets(quick, ml_rows, synthetic_rows):
    sets = []
    X, y = load_breast_cancer(return_X_y=True)
    sets.append(("breast_cancer_5pct", *_thin(X, 1 - y, 0.05, 0), "table"))  # malignant = 1
    X, y = load_digits(return_X_y=True)
    sets.append(("digits_9_vs_rest_5pct", *_thin(X, (y == 9).astype(int), 0.05, 0), "table"))
    if not quick:
        X, target = load_diabetes(return_X_y=True)
        sets.append(
            ("diabetes_top10pct", X, (target >= np.quantile(target, 0.9)).astype(int), "table")
        )
        X, y = make_classification(
            n_samples=5000,
            n_features=20,
            n_informative=6,
            weights=[0.95],
            flip_y=0.01,
            class_sep=0.8,
            random_state=0,
        )
        sets.append(("make_classification_5pct", X, y, "table"))
    from sklearn_recsys.datasets import make_interactions

    data = make_interactions(
        n_users=1000, n_items=500, n_interactions=synthetic_rows, random_state=0
    )
    inter = data.interactions
    sets.append(
        (
            "synthetic_purchase",
            inter.drop(columns="purchase"),
            inter["purchase"].to_numpy(),
            "interactions",
        )
    )
    home = os.environ.get("SKLEARN_RECSYS_DATA")
    if home and (Path(home) / "ml-100k" / "u.data").is_file():
        from sklearn_recsys.datasets import label_loved, load_movielens

        ml = load_movielens("100k", data_home=home, download_if_missing=False).interactions
        ml = ml.sample(n=min(ml_rows, len(ml)), random_state=0).sort_values("timestamp")
        sets.append(
            (
                "movielens100k_loved",
                ml.drop(columns="rating"),
                np.asarray(label_loved(ml)),
                "interactions",
            )
        )
    else:
        print("SKLEARN_RECSYS_DATA is not set: MovieLens-100k skipped", file=sys.stderr)
    return sets


def featurize(kind, X, y, train, test):
    if kind == "table":
        return np.asarray(X[train], dtype=float), np.asarray(X[test], dtype=float)
    from sklearn_recsys.features import InteractionFeaturizer

    feat = InteractionFeaturizer(keep_id_columns=False, random_state=0)
    X_train = np.asarray(feat.fit_transform(X.iloc[train], y[train]), dtype=float)
    X_test = np.asarray(feat.transform(X.iloc[test]), dtype=float)
    keep = X_train.std(axis=0) > 0  # constant columns carry nothing and upset CTGAN's GMMs
    return X_train[:, keep], X_test[:, keep]


# ---------------------------------------------------------------------------- resamplers
def epochs_for(n_train, updates=TARGET_UPDATES):
    return max(1, math.ceil(updates / max(1, n_train // BATCH)))


def make_sampler(method, y_train, epochs):
    k = int(max(1, min(5, np.bincount(y_train).min() - 1)))
    return {
        "random_over": lambda: RandomOverSampler(random_state=0),
        "smote": lambda: SMOTE(k_neighbors=k, random_state=0),
        "adasyn": lambda: ADASYN(n_neighbors=k, random_state=0),
        "borderline_smote": lambda: BorderlineSMOTE(
            k_neighbors=k, m_neighbors=max(k, 5), random_state=0
        ),
        "gan": lambda: GANOverSampler(max_epochs=epochs, batch_size=BATCH, random_state=0),
    }[method]()


def discrete_columns(X_train):
    return [j for j in range(X_train.shape[1]) if np.isin(X_train[:, j], (0.0, 1.0)).all()]


def start_ctgan(folds, epochs, workdir):
    """Start CTGAN on every training fold in one peers' process (in the background, on its own
    CPU thread, so that the other resamplers run meanwhile); ``collect_ctgan`` waits for it."""
    jobs = []
    for f, (X_train, y_train) in enumerate(folds):
        frame = pd.DataFrame(X_train, columns=[f"f{j}" for j in range(X_train.shape[1])])
        frame["label"] = y_train
        path = Path(workdir) / f"fold{f}"
        frame.to_csv(f"{path}_train.csv", index=False)
        need = int(np.bincount(y_train).max() - np.bincount(y_train).min())
        jobs.append(
            {
                "train": f"{path}_train.csv",
                "label": "label",
                "epochs": epochs[f],
                "batch_size": BATCH,
                "seed": 0,
                "n_samples": {"1": need},
                "discrete_columns": [f"f{j}" for j in discrete_columns(X_train)] + ["label"],
                "out": str(path),
            }
        )
    spec = Path(workdir) / "jobs.json"
    spec.write_text(json.dumps({"threads": 1, "jobs": jobs}))
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return subprocess.Popen([str(PEERS_PYTHON), str(RUNNER), str(spec)], env=env), jobs


def collect_ctgan(started, folds):
    """Wait for ``start_ctgan``'s process; return (X_res, y_res, seconds, stats) per fold."""
    proc, jobs = started
    if proc.wait():
        raise RuntimeError(f"the CTGAN peer failed with exit code {proc.returncode}")
    out = []
    for job, (X_train, y_train) in zip(jobs, folds):
        stats = json.loads(Path(job["out"] + ".json").read_text())
        rows = pd.read_csv(job["out"] + ".csv")
        X_new = rows.drop(columns="label").to_numpy(dtype=float)
        y_new = rows["label"].to_numpy(dtype=int)
        out.append(
            (
                np.vstack([X_train, X_new]),
                np.r_[y_train, y_new],
                stats["fit_s"] + stats["sample_s"],
                stats,
            )
        )
    return out


def run_ctgan(folds, epochs, workdir):
    """Fit CTGAN on every training fold and wait for it."""
    return collect_ctgan(start_ctgan(folds, epochs, workdir), folds)


# ---------------------------------------------------------------------------- evaluation
def models():
    return {
        "lightgbm": lambda: LGBMClassifier(
            n_estimators=200,
            learning_rate=0.05,
            num_leaves=15,
            n_jobs=1,
            verbose=-1,
            random_state=0,
        ),
        "logreg": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
    }


def evaluate(X_res, y_res, X_test, y_test):
    scores = {}
    for name, build in models().items():
        model = build().fit(X_res, y_res)
        proba = model.predict_proba(X_test)[:, 1]
        pred = (proba >= 0.5).astype(int)
        scores[name] = {
            "pr_auc": average_precision_score(y_test, proba),
            "f1": f1_score(y_test, pred, zero_division=0),
            "g_mean": geometric_mean_score(y_test, pred),
        }
    return scores


def bench_dataset(name, X, y, kind, n_folds, use_ctgan, updates):
    cv = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=0)
    folds, rows, quality = [], [], {}
    for train, test in cv.split(np.zeros(len(y)), y):
        X_train, X_test = featurize(kind, X, y, train, test)
        folds.append((X_train, y[train], X_test, y[test]))
    epochs = [epochs_for(len(fold[1]), updates) for fold in folds]
    train_folds = [(a, b) for a, b, _, _ in folds]
    with tempfile.TemporaryDirectory() as tmp:
        started = start_ctgan(train_folds, epochs, tmp) if use_ctgan else None
        # CTGAN runs in its own process meanwhile; it is evaluated last
        for method in [m for m in METHODS if m != "ctgan"] + (["ctgan"] if use_ctgan else []):
            if method == "ctgan":
                ctgan = collect_ctgan(started, train_folds)  # one result per fold
            for f, (X_train, y_train, X_test, y_test) in enumerate(folds):
                info = {}
                if method == "none":
                    X_res, y_res, seconds = X_train, y_train, 0.0
                elif method == "ctgan":
                    X_res, y_res, seconds, info = ctgan[f]
                else:
                    sampler = make_sampler(method, y_train, epochs[f])
                    t0 = time.perf_counter()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        X_res, y_res = sampler.fit_resample(X_train, y_train)
                    seconds = time.perf_counter() - t0
                if f == 0 and method in ("smote", "ctgan", "gan"):
                    real = X_train[y_train == 1]
                    syn = X_res[len(X_train) :][y_res[len(X_train) :] == 1]
                    if len(syn) >= 10:
                        q = synthetic_quality(real, syn, cv=3, max_rows=2000, random_state=0)
                        quality[method] = {
                            "ks_mean": q.ks_mean,
                            "correlation_distance": q.correlation_distance,
                            "detection_auc": q.detection_auc,
                        }
                for model, sc in evaluate(X_res, y_res, X_test, y_test).items():
                    rows.append(
                        {
                            "dataset": name,
                            "method": method,
                            "model": model,
                            "fold": f,
                            "seconds": seconds,
                            "epochs": epochs[f],
                            **sc,
                            "ctgan_accepted": (
                                info.get("labels", {}).get("1", {}).get("accepted_fraction")
                            ),
                        }
                    )
            print(f"  {name:26s} {method:17s} done", file=sys.stderr, flush=True)
    rows.sort(key=lambda r: METHODS.index(r["method"]))  # stable: the table's method order
    meta = {
        "n_rows": int(len(y)),
        "n_features": int(folds[0][0].shape[1]),
        "minority_rate": float(np.mean(y)),
        "epochs": epochs,
    }
    return rows, quality, meta


def bench_speed(use_ctgan, epochs=10):
    X, y = make_classification(n_samples=20_000, n_features=19, weights=[0.95], random_state=0)
    need = int(np.bincount(y).max() - np.bincount(y).min())
    t0 = time.perf_counter()
    GANOverSampler(max_epochs=epochs, batch_size=BATCH, random_state=0).fit_resample(X, y)
    ours = time.perf_counter() - t0
    result = {
        "table": "make_classification 20,000 x 20 (19 features + label), 5 % minority",
        "epochs": epochs,
        "rows_generated": need,
        "gan_seconds": ours,
        "load_average_1min": os.getloadavg()[0],
    }
    if use_ctgan:
        with tempfile.TemporaryDirectory() as tmp:
            ((_, _, seconds, info),) = run_ctgan([(X, y)], [epochs], tmp)
        result.update(
            ctgan_seconds=seconds,
            ctgan_fit_seconds=info["fit_s"],
            ctgan_sample_seconds=info["sample_s"],
            ctgan_accepted_fraction=info["labels"]["1"]["accepted_fraction"],
            speedup=seconds / ours,
        )
    return result


# ---------------------------------------------------------------------------- report
def summarise(rows):
    df = pd.DataFrame(rows)
    return (
        df.groupby(["dataset", "model", "method"], sort=False)[
            ["pr_auc", "f1", "g_mean", "seconds"]
        ]
        .mean()
        .reset_index()
    )


def head_to_head(summary, method="gan", others=("ctgan", "smote", "none")):
    """Per (data set, model) pair: how often ``method`` is at least as good as each other one."""
    wide = summary.pivot_table(
        index=["dataset", "model"], columns="method", values=["pr_auc", "f1", "g_mean"]
    )
    out = []
    for other in others:
        if other not in wide["pr_auc"].columns:
            continue
        row = {"vs": other, "pairs": int(len(wide))}
        for metric in ("pr_auc", "f1", "g_mean"):
            a, b = wide[metric][method], wide[metric][other]
            row[f"{metric}_at_least"] = int((a >= b - 1e-12).sum())
            row[f"{metric}_mean_diff"] = float((a - b).mean())
        out.append(row)
    return out


def markdown(summary, speed, quality, meta, n_folds):
    lines = [
        "### GANOverSampler head to head",
        "",
        "Per data set x downstream model pair (means over folds): in how many pairs "
        "GANOverSampler is at least as good, and its mean difference.",
        "",
        "| vs | pairs | PR-AUC >= | PR-AUC diff | F1 >= | F1 diff | G-mean >= | G-mean diff |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in head_to_head(summary):
        lines.append(
            f"| {r['vs']} | {r['pairs']} | {r['pr_auc_at_least']} | "
            f"{r['pr_auc_mean_diff']:+.3f} | {r['f1_at_least']} | "
            f"{r['f1_mean_diff']:+.3f} | {r['g_mean_at_least']} | "
            f"{r['g_mean_mean_diff']:+.3f} |"
        )
    lines += ["", f"### Downstream ({n_folds}-fold stratified CV, means over folds)", ""]
    lines.append("| data set | model | method | PR-AUC | minority F1 | G-mean | fit+sample s |")
    lines.append("|---|---|---|---|---|---|---|")
    for r in summary.itertuples():
        lines.append(
            f"| {r.dataset} | {r.model} | {r.method} | {r.pr_auc:.3f} | {r.f1:.3f} | "
            f"{r.g_mean:.3f} | {r.seconds:.2f} |"
        )
    lines += [
        "",
        "### Data sets",
        "",
        "| data set | rows | features | minority rate | epochs |",
        "|---|---|---|---|---|",
    ]
    for name, m in meta.items():
        lines.append(
            f"| {name} | {m['n_rows']} | {m['n_features']} | "
            f"{m['minority_rate']:.3f} | {m['epochs'][0]} |"
        )
    lines += [
        "",
        "### Synthetic minority rows vs real ones (fold 0)",
        "",
        "| data set | method | mean KS | correlation distance | detection ROC-AUC |",
        "|---|---|---|---|---|",
    ]
    for name, per in quality.items():
        for method, q in per.items():
            lines.append(
                f"| {name} | {method} | {q['ks_mean']:.3f} | "
                f"{q['correlation_distance']:.2f} | {q['detection_auc']:.3f} |"
            )
    lines += ["", "### Speed (one CPU thread)", ""]
    lines.append(
        f"{speed['table']}, {speed['epochs']} epochs, {speed['rows_generated']} "
        "minority rows generated; wall-clock seconds, measured back to back (machine "
        f"load average {speed['load_average_1min']:.1f} when it started)."
    )
    lines += [
        "",
        "| method | fit + sample s |",
        "|---|---|",
        f"| GANOverSampler | {speed['gan_seconds']:.1f} |",
    ]
    if "ctgan_seconds" in speed:
        lines.append(
            f"| CTGAN 0.12.1 | {speed['ctgan_seconds']:.1f} (fit "
            f"{speed['ctgan_fit_seconds']:.1f}, sample "
            f"{speed['ctgan_sample_seconds']:.1f}) |"
        )
        lines += [
            "",
            f"Speed-up: {speed['speedup']:.1f}x. CTGAN's conditional sampling "
            f"returned the asked-for class on {100 * speed['ctgan_accepted_fraction']:.1f} "
            "% of its rows (the rest were dropped and redrawn); GANOverSampler's is exact.",
        ]
    else:
        lines.append("| CTGAN | not run (no .venv-bench) |")
    return "\n".join(lines) + "\n"


def plot(summary, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = summary[summary["model"] == "lightgbm"]
    datasets = list(dict.fromkeys(data["dataset"]))
    methods = list(dict.fromkeys(data["method"]))
    fig, ax = plt.subplots(figsize=(10, 4))
    width = 0.8 / len(methods)
    for k, method in enumerate(methods):
        vals = [
            data[(data.dataset == d) & (data.method == method)]["pr_auc"].mean() for d in datasets
        ]
        ax.bar(np.arange(len(datasets)) + k * width, vals, width, label=method)
    ax.set_xticks(np.arange(len(datasets)) + 0.4 - width / 2)
    ax.set_xticklabels(datasets, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("PR-AUC (LightGBM)")
    ax.legend(fontsize=7, ncol=4)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="fewer data sets")
    parser.add_argument("--no-ctgan", action="store_true", help="skip the CTGAN peer")
    parser.add_argument("--ml-rows", type=int, default=10_000)
    parser.add_argument("--synthetic-rows", type=int, default=10_000)
    parser.add_argument(
        "--updates",
        type=int,
        default=TARGET_UPDATES,
        help="generator updates per GAN fit (sets the equal epochs)",
    )
    parser.add_argument("--speed-epochs", type=int, default=10)
    args = parser.parse_args(argv)
    use_ctgan = not args.no_ctgan and PEERS_PYTHON.is_file()
    if not use_ctgan:
        print("CTGAN not run: no peers' environment at .venv-bench", file=sys.stderr)
    t_start = time.perf_counter()
    speed = bench_speed(use_ctgan, args.speed_epochs)
    print(f"speed: {speed}", file=sys.stderr, flush=True)
    rows, quality, meta = [], {}, {}
    for name, X, y, kind in load_datasets(args.quick, args.ml_rows, args.synthetic_rows):
        r, q, m = bench_dataset(name, X, y, kind, args.folds, use_ctgan, args.updates)
        rows += r
        quality[name], meta[name] = q, m
    summary = summarise(rows)
    RESULTS.mkdir(parents=True, exist_ok=True)
    md = markdown(summary, speed, quality, meta, args.folds)
    (RESULTS / "bench_oversampling.md").write_text(md)
    (RESULTS / "bench_oversampling.json").write_text(
        json.dumps(
            {
                "folds": args.folds,
                "speed": speed,
                "datasets": meta,
                "quality": quality,
                "summary": summary.to_dict(orient="records"),
                "rows": rows,
                "head_to_head": head_to_head(summary),
                "ctgan": "run" if use_ctgan else "not run",
                "updates": args.updates,
                "total_seconds": time.perf_counter() - t_start,
            },
            indent=1,
            default=float,
        )
    )
    plot(summary, ROOT / "docs" / "img" / "bench_oversampling.png")
    print(md)


if __name__ == "__main__":
    main()
