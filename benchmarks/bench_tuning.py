"""OptunaSearchCV vs RandomizedSearchCV on MovieLens-100k: the full strategy space, same budget.

The pipeline is the ``strategies`` recipe of ``sklearn-recsys tune``: InteractionFeaturizer ->
sampler choice (none / SMOTE / ADASYN / under-sampling; GAN with ``--with-gan``) -> classifier
choice (LightGBM log loss / class-weighted / focal), each option with its registry sub-space. The
label is "loved" (rating 5), the split the per-user temporal one of every benchmark; both searches
use the same 3 stratified, user-grouped folds and cache the featurizer (it is not tuned, so each
fold's featurizer is fitted once per run).

Runs (each with its own empty cache):

1. ``optuna_tpe_median``: OptunaSearchCV, TPE sampler, median pruning, ``--n-trials`` trials;
2. ``random_search``: scikit-learn's RandomizedSearchCV, ``n_iter = --n-trials``, over the same
   space (one dict per sampler x loss combination, scipy distributions);
3. ``optuna_2_workers``: two processes x ``n_trials / 2`` trials on one study in a journal file;
4. ``optuna_tpe_nopruning``: run 1 without pruning (the pruning speed-up).

Each finished run is saved to ``results/bench_tuning.partial.json``; a re-started benchmark
skips the runs found there.

Prints a table and writes ``benchmarks/results/bench_tuning.{json,md}``.

    python benchmarks/bench_tuning.py [--n-trials 50] [--with-gan] [--quick]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"
SAMPLERS = ("none", "smote", "adasyn", "under")
LOSSES = ("logloss", "weighted", "focal")


def load(args):
    from sklearn_recsys.benchmark import load_benchmark_data

    if args.quick:
        return load_benchmark_data("synthetic", n_interactions=20_000, random_state=0)
    return load_benchmark_data("ml-100k", data_home=args.data_home, random_state=0)


def recipe(data, args, cache):
    from sklearn_recsys._tune_cli import make_recipe

    samplers = SAMPLERS + (("gan",) if args.with_gan else ())
    return make_recipe("strategies", data, samplers=samplers, losses=LOSSES, memory=cache)


def optuna_search(pipe, space, args, **kw):
    from sklearn_recsys.model_selection import OptunaSearchCV

    kw.setdefault("n_trials", args.n_trials)
    kw.setdefault("random_state", 0)
    return OptunaSearchCV(pipe, space, cv=args.cv, scoring="average_precision", **kw)


# ------------------------------------------------------------ the same space for scikit-learn
class _IntLogUniform:
    def __init__(self, low, high):
        from scipy.stats import loguniform

        self.dist = loguniform(low, high + 1)

    def rvs(self, random_state=None, size=None):
        return int(np.floor(self.dist.rvs(random_state=random_state)))


def _to_scipy(dist):
    from optuna.distributions import CategoricalDistribution, FloatDistribution
    from scipy.stats import loguniform, randint, uniform

    if isinstance(dist, CategoricalDistribution):
        return list(dist.choices)
    if isinstance(dist, FloatDistribution):
        return (
            loguniform(dist.low, dist.high) if dist.log else uniform(dist.low, dist.high - dist.low)
        )
    return _IntLogUniform(dist.low, dist.high) if dist.log else randint(dist.low, dist.high + 1)


def randomized_space(pipe, space):
    """One RandomizedSearchCV dict per combination of the StepChoice options."""
    from sklearn_recsys.model_selection._spaces import StepChoice, resolve_space

    space = resolve_space(pipe, space)
    choices = {k: v for k, v in space.items() if isinstance(v, StepChoice)}
    plain = {k: _to_scipy(v) for k, v in space.items() if not isinstance(v, StepChoice)}
    grids = []
    for combo in itertools.product(*[c.labels for c in choices.values()]):
        grid = dict(plain)
        for (step, choice), label in zip(choices.items(), combo):
            grid[step] = [choice.estimator_for(label)]
            for name, dist in choice.space_for(label).items():
                grid[f"{step}__{name}"] = _to_scipy(dist)
        grids.append(grid)
    return grids


# ------------------------------------------------------------------------------- runs
def test_pr_auc(estimator, data):
    from sklearn.metrics import average_precision_score

    estimator.set_params(features__memory=None)
    return float(average_precision_score(data.y_test, estimator.predict_proba(data.X_test)[:, 1]))


def run_optuna(name, data, args, **kw):
    with tempfile.TemporaryDirectory() as cache:
        pipe, space = recipe(data, args, cache)
        search = optuna_search(pipe, space, args, **kw)
        t0 = time.perf_counter()
        search.fit(data.X_train, data.y_train)
        total = time.perf_counter() - t0
    res = search.cv_results_
    return {
        "run": name,
        "trials": len(res),
        "complete": int(res["state"].eq("COMPLETE").sum()),
        "pruned": int(res["state"].eq("PRUNED").sum()),
        "failed": int(res["state"].eq("FAIL").sum()),
        "fold_fits": int(res["n_folds"].sum()),
        "fit_s": float((res["mean_fit_time"] * res["n_folds"]).sum()),
        "best_cv_pr_auc": search.best_score_,
        "search_s": total - search.refit_time_,
        "test_pr_auc": test_pr_auc(search.best_estimator_, data),
        "best": {k: v for k, v in search.best_trial_.params.items() if "[" not in k},
    }


def run_random(data, args):
    from sklearn.model_selection import RandomizedSearchCV

    from sklearn_recsys.model_selection import OptunaSearchCV

    with tempfile.TemporaryDirectory() as cache:
        pipe, space = recipe(data, args, cache)
        splits = OptunaSearchCV(pipe, cv=args.cv)._splits(data.X_train, data.y_train, None)
        search = RandomizedSearchCV(
            pipe,
            randomized_space(pipe, space),
            n_iter=args.n_trials,
            scoring="average_precision",
            cv=splits,
            random_state=0,
        )
        t0 = time.perf_counter()
        search.fit(data.X_train, data.y_train)
        total = time.perf_counter() - t0
    scores = search.cv_results_["mean_test_score"]
    best = search.best_params_
    return {
        "run": "random_search",
        "trials": len(scores),
        "complete": int(np.isfinite(scores).sum()),
        "pruned": 0,
        "failed": int((~np.isfinite(scores)).sum()),
        "fold_fits": len(scores) * args.cv,
        "fit_s": float(search.cv_results_["mean_fit_time"].sum() * args.cv),
        "best_cv_pr_auc": float(search.best_score_),
        "search_s": total - search.refit_time_,
        "test_pr_auc": test_pr_auc(search.best_estimator_, data),
        "best": {
            step: best[step] if isinstance(best[step], str) else type(best[step]).__name__
            for step in ("sampler", "clf")
        },
    }


def worker(args):
    """One of the processes of the ``optuna_2_workers`` run (hidden ``--worker SEED``)."""
    data = load(args)
    with tempfile.TemporaryDirectory() as cache:
        pipe, space = recipe(data, args, cache)
        optuna_search(
            pipe,
            space,
            args,
            n_trials=args.n_trials // 2,
            storage=args.storage,
            study_name="bench",
            refit=False,
            random_state=args.worker,
        ).fit(data.X_train, data.y_train)


def run_workers(data, args):
    import optuna

    from sklearn_recsys.model_selection._storage import make_storage

    with tempfile.TemporaryDirectory() as folder:
        storage = f"journal://{folder}/bench.log"
        cmd = (
            [
                sys.executable,
                __file__,
                "--storage",
                storage,
                "--n-trials",
                str(args.n_trials),
                "--cv",
                str(args.cv),
            ]
            + (["--with-gan"] if args.with_gan else [])
            + (["--quick"] if args.quick else [])
            + (["--data-home", args.data_home] if args.data_home else [])
        )
        t0 = time.perf_counter()
        procs = [subprocess.Popen([*cmd, "--worker", str(seed)]) for seed in (1, 2)]
        codes = [p.wait() for p in procs]
        total = time.perf_counter() - t0
        if any(codes):
            raise RuntimeError(f"a worker failed: exit codes {codes}")
        study = optuna.load_study(study_name="bench", storage=make_storage(storage))
        trials, best = study.trials, study.best_trial
    states = [t.state.name for t in trials]
    return {
        "run": "optuna_2_workers",
        "trials": len(states),
        "complete": states.count("COMPLETE"),
        "pruned": states.count("PRUNED"),
        "failed": states.count("FAIL"),
        "fold_fits": sum(len(t.user_attrs.get("fit_time", [])) for t in trials),
        "fit_s": float(
            sum(sum(x for x in t.user_attrs.get("fit_time", []) if x is not None) for t in trials)
        ),
        "best_cv_pr_auc": best.value,
        "search_s": total,
        "test_pr_auc": None,
        "best": {k: v for k, v in best.params.items() if "[" not in k},
    }


def _ratio(by, slow, fast):
    if slow in by and fast in by:
        return by[slow]["search_s"] / by[fast]["search_s"]
    return None


def _x(value):
    return "n/a" if value is None else f"{value:.2f}x"


def markdown(rows, meta):
    lines = [
        f"Data: {meta['dataset']}, {meta['n_train']} training rows, positive rate "
        f"{meta['pos_rate']:.3f}; {meta['cv']} stratified user-grouped folds; "
        f"{meta['n_trials']} trials per search; machine: {meta['machine']}.",
        "",
        "| run | trials (complete / pruned / failed) | fold fits | best CV PR-AUC | "
        "test PR-AUC of best | search s | fold-fit s | best sampler / loss |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        test = "–" if r["test_pr_auc"] is None else f"{r['test_pr_auc']:.4f}"
        lines.append(
            f"| {r['run']} | {r['trials']} ({r['complete']} / {r['pruned']} / "
            f"{r['failed']}) | {r['fold_fits']} | {r['best_cv_pr_auc']:.4f} | {test} | "
            f"{r['search_s']:.0f} | {r.get('fit_s', float('nan')):.0f} | "
            f"{r['best'].get('sampler')} / "
            f"{r['best'].get('clf')} |"
        )
    lines += [
        "",
        f"Speed-up from pruning: {_x(meta['pruning_speedup'])}; from 2 worker "
        f"processes: {_x(meta['workers_speedup'])} (vs the pruned single process).",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n-trials", type=int, default=50)
    parser.add_argument("--cv", type=int, default=3)
    parser.add_argument("--with-gan", action="store_true", help="add the GAN sampler option")
    parser.add_argument("--quick", action="store_true", help="small synthetic data (smoke run)")
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--storage", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if args.worker is not None:
        return worker(args)
    data = load(args)
    partial = RESULTS / "bench_tuning.partial.json"
    # an interrupted benchmark resumes: runs already in the partial file are not repeated
    rows = json.loads(partial.read_text()) if partial.exists() and not args.quick else []
    runs = {
        "optuna_tpe_median": lambda: run_optuna("optuna_tpe_median", data, args, pruner="median"),
        "random_search": lambda: run_random(data, args),
        "optuna_2_workers": lambda: run_workers(data, args),
        "optuna_tpe_nopruning": lambda: run_optuna(
            "optuna_tpe_nopruning", data, args, pruner="none"
        ),
    }
    done = {r["run"] for r in rows}
    for name, run in runs.items():
        if name in done:
            continue
        rows.append(run())
        r = rows[-1]
        print(
            f"{r['run']:22s} best CV PR-AUC {r['best_cv_pr_auc']:.4f}  "
            f"{r['search_s']:7.1f} s  {r['fold_fits']} fold fits",
            flush=True,
        )
        if not args.quick:
            RESULTS.mkdir(exist_ok=True)
            partial.write_text(json.dumps(rows, indent=2, default=str))
    rows.sort(key=lambda r: list(runs).index(r["run"]))
    by = {r["run"]: r for r in rows}
    meta = {
        "dataset": data.name,
        "n_train": len(data.X_train),
        "pos_rate": float(data.y_train.mean()),
        "cv": args.cv,
        "n_trials": args.n_trials,
        "with_gan": args.with_gan,
        "machine": f"{os.cpu_count()} CPU cores, otherwise idle",
        "pruning_speedup": _ratio(by, "optuna_tpe_nopruning", "optuna_tpe_median"),
        "workers_speedup": _ratio(by, "optuna_tpe_median", "optuna_2_workers"),
    }
    md = markdown(rows, meta)
    print("\n" + md)
    if not args.quick:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "bench_tuning.json").write_text(
            json.dumps({"meta": meta, "runs": rows}, indent=2, default=str)
        )
        (RESULTS / "bench_tuning.md").write_text(md)
        partial.unlink(missing_ok=True)
        print(f"wrote {RESULTS}/bench_tuning.json and .md")


if __name__ == "__main__":
    sys.exit(main())
