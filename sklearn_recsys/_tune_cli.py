"""``sklearn-recsys tune``: an Optuna study over a pipeline recipe on a benchmark data set.

Wired into :mod:`sklearn_recsys.cli` through :func:`add_tune_parser`; :func:`tune_main` runs it.
The trials are kept in a journal file in the output folder (``study.log``): a killed run loses
only its running trials and ``--resume`` continues it. Several workers share one study when
they get the same ``--storage`` and ``--study-name`` (give each its own ``--worker-seed``;
``--no-refit`` for pure workers).
"""

from __future__ import annotations

import logging
import tempfile
import time
import warnings
from pathlib import Path

from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils.validation import check_memory

__all__ = ["RECIPES", "add_tune_parser", "make_recipe", "tune_main"]

logger = logging.getLogger(__name__)

#: recipe name -> description
#: trials of a default run, and its time limit in seconds (no new trial starts after it): 20
#: trials take about 3 CPU-minutes on the 100 k-row demo data (docs/cli.md)
DEFAULT_TRIALS = 20
DEFAULT_TIMEOUT = 600.0

RECIPES = {
    "lightgbm": "InteractionFeaturizer + LightGBM; LightGBM's default space",
    "strategies": "InteractionFeaturizer + sampler choice (none / SMOTE / ADASYN / GAN / "
    "under-sampling) + loss choice (log loss / class-weighted / focal LightGBM)",
    "logistic": "InteractionFeaturizer + standardised logistic regression",
}
SAMPLERS = ("none", "smote", "adasyn", "gan", "under")
LOSSES = ("logloss", "weighted", "focal")
#: the samplers tried by default: GAN and ADASYN cost minutes per trial on 100 k rows
DEFAULT_SAMPLERS = ("none", "smote", "under")
#: the journal file of a run's trials, in its output folder
JOURNAL = "study.log"
#: the study name of the journal in the output folder
STUDY_NAME = "sklearn-recsys-tune"


def _fit_transform(transformer, X, y):
    return transformer.fit_transform(X, y), transformer


class _CachedTransformer(TransformerMixin, BaseEstimator):
    """Fit ``transformer`` through a joblib cache: the same parameters on the same rows load.

    imbalanced-learn's ``Pipeline(memory=...)`` would also cache every re-sampled training set
    (tens of MB each), and refuses a nested pipeline; this caches the one step that needs it.
    """

    def __init__(self, transformer, memory=None):
        self.transformer = transformer
        self.memory = memory

    def fit_transform(self, X, y=None):
        fit = check_memory(self.memory).cache(_fit_transform)
        Xt, self.transformer_ = fit(clone(self.transformer), X, y)
        return Xt

    def fit(self, X, y=None):
        self.fit_transform(X, y)
        return self

    def transform(self, X):
        return self.transformer_.transform(X)

    def get_feature_names_out(self, input_features=None):
        return self.transformer_.get_feature_names_out(input_features)

    def set_output(self, *, transform=None):
        self.transformer.set_output(transform=transform)
        return self


def make_recipe(name, data, *, samplers=SAMPLERS, losses=LOSSES, memory=None, n_jobs=1):
    """Pipeline and search space of a tuning recipe.

    Parameters
    ----------
    name : {"lightgbm", "strategies", "logistic"}
    data : sklearn_recsys.benchmark.BenchmarkData
        Gives the side tables and the seed.
    samplers, losses : sequence of str
        Options of the ``"strategies"`` recipe's sampler and loss choices.
    memory : str, joblib.Memory or None, default=None
        Cache of the featurizer: the search fixes the folds once, so the featurizer (not tuned)
        is fitted once per fold and reused by every trial. Only the featurizer is cached (in
        a one-step pipeline): caching the samplers too would write every re-sampled training
        set to disk.
    n_jobs : int, default=1
        Threads of LightGBM.

    Returns
    -------
    pipeline : imblearn.pipeline.Pipeline
    space : dict
        ``param_distributions`` for :class:`~sklearn_recsys.model_selection.OptunaSearchCV`.

    Examples
    --------
    >>> from sklearn_recsys.benchmark import load_benchmark_data
    >>> from sklearn_recsys._tune_cli import make_recipe
    >>> data = load_benchmark_data("synthetic", n_interactions=2000)
    >>> pipe, space = make_recipe("strategies", data, samplers=("none", "smote"))
    >>> [name for name, _ in pipe.steps], sorted(space)
    (['features', 'sampler', 'clf'], ['clf', 'sampler'])
    """
    from imblearn.pipeline import Pipeline
    from lightgbm import LGBMClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from .benchmark import featurizer
    from .model_selection import classifier_choice, sampler_choice

    rs = data.random_state
    feat = featurizer(data)
    if memory is not None:
        feat = _CachedTransformer(feat, memory=memory)
    features = ("features", feat)
    if name == "lightgbm":
        pipe = Pipeline(
            [features, ("clf", LGBMClassifier(random_state=rs, n_jobs=n_jobs, verbose=-1))]
        )
        space = {"clf": "default"}
    elif name == "strategies":
        pipe = Pipeline(
            [
                features,
                ("sampler", "passthrough"),
                ("clf", LGBMClassifier(random_state=rs, n_jobs=n_jobs, verbose=-1)),
            ]
        )
        space = {
            "sampler": sampler_choice(samplers, random_state=rs),
            "clf": classifier_choice(losses, random_state=rs, n_jobs=n_jobs),
        }
    elif name == "logistic":
        pipe = Pipeline(
            [features, ("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=1000))]
        )
        space = {"clf": "default"}
    else:
        raise ValueError(f"recipe must be one of {list(RECIPES)}; got {name!r}.")
    return pipe.set_output(transform="pandas"), space


def add_tune_parser(subparsers):
    """Add the ``tune`` sub-command to an ``argparse`` sub-parser collection.

    Examples
    --------
    >>> import argparse
    >>> from sklearn_recsys._tune_cli import add_tune_parser
    >>> parser = argparse.ArgumentParser(prog="sklearn-recsys")
    >>> _ = add_tune_parser(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["tune", "--recipe", "lightgbm", "--n-trials", "5"])
    >>> args.recipe, args.n_trials, args.scoring
    ('lightgbm', 5, 'average_precision')
    """
    from .cli import add_data_arguments

    t = subparsers.add_parser(
        "tune",
        help="tune a pipeline recipe with Optuna under stratified, user-grouped CV",
        description="Run (or resume with --resume, or join with --storage and --study-name) "
        "an Optuna study over a pipeline recipe on a data set or your own log "
        "(--data); writes the trials' journal, the study summary, the trials, the "
        "best pipeline (joblib) and plots to --output-dir.",
    )
    t.add_argument(
        "--recipe",
        default="strategies",
        choices=list(RECIPES),
        help="pipeline and search space: " + "; ".join(f"{k}: {v}" for k, v in RECIPES.items()),
    )
    t.add_argument(
        "--samplers",
        default=",".join(DEFAULT_SAMPLERS),
        help="sampler options of the 'strategies' recipe (comma-separated; of "
        f"{','.join(SAMPLERS)})",
    )
    t.add_argument(
        "--losses",
        default=",".join(LOSSES),
        help="loss options of the 'strategies' recipe (comma-separated)",
    )
    t.add_argument(
        "--n-trials",
        type=int,
        default=DEFAULT_TRIALS,
        help="trials this process runs (with --resume: until the study has this "
        "many finished trials)",
    )
    t.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help="seconds; stop starting trials after this (0: no limit)",
    )
    t.add_argument("--cv", type=int, default=3, help="folds (stratified, grouped by user)")
    t.add_argument("--scoring", default="average_precision", help="scikit-learn scorer")
    t.add_argument(
        "--pruner",
        default="median",
        choices=["median", "halving", "hyperband", "none"],
        help="stops unpromising trials after their first folds",
    )
    t.add_argument(
        "--storage",
        default=None,
        help="Optuna storage shared by several workers: sqlite:///tune.db, "
        "journal:///abs/tune.log, postgresql://user:pw@host/db (default: the "
        f"journal file {JOURNAL} in --output-dir)",
    )
    t.add_argument(
        "--study-name",
        default=None,
        help=f"join / resume this study (default with the journal: {STUDY_NAME})",
    )
    t.add_argument(
        "--resume",
        action="store_true",
        help=f"continue the study of --output-dir/{JOURNAL} (e.g. after a killed "
        "run) instead of refusing to overwrite it",
    )
    t.add_argument(
        "--no-refit", action="store_true", help="worker mode: run trials only, write no pipeline"
    )
    add_data_arguments(t)
    t.add_argument(
        "--worker-seed",
        type=int,
        default=None,
        help="seed of this worker's Optuna sampler (default: --random-state); give "
        "each worker of a shared study its own",
    )
    t.add_argument("--n-jobs", type=int, default=1, help="folds fitted in parallel")
    t.add_argument("--output-dir", default="tune-output", help="folder of the results")
    t.add_argument("--verbose", type=int, default=1, help="progress bar when > 0")
    t.set_defaults(func=tune_main)
    return t


def _plots(study, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as ovm

    written = []
    for name, plot in (
        ("optimization_history", ovm.plot_optimization_history),
        ("param_importances", ovm.plot_param_importances),
    ):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ax = plot(study)
            fig = getattr(ax, "figure", None) or plt.gcf()
            fig.set_size_inches(8, 5)
            fig.tight_layout()
            path = out / f"{name}.png"
            fig.savefig(path, dpi=110, bbox_inches="tight")
            plt.close(fig)
            written.append(str(path))
        except Exception as exc:  # e.g. importances need two complete trials
            logger.warning("could not draw %s: %s", name, exc)
    return written


def _journal_storage(args, out):
    """Storage URL, study name and trials to run: the output folder's journal by default."""
    if args.storage is not None:
        return args.storage, args.study_name, args.n_trials
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend
    from optuna.trial import TrialState

    from .cli import UsageError

    journal = (out / JOURNAL).resolve()
    name = args.study_name or STUDY_NAME
    if not journal.exists():
        if args.resume:
            raise UsageError(f"--resume: there is no study to continue in {journal}")
        return f"journal://{journal}", name, args.n_trials
    if not args.resume:
        raise UsageError(
            f"{journal} already holds a study; --resume continues it, or give another --output-dir"
        )
    import optuna

    storage = JournalStorage(JournalFileBackend(str(journal)))
    try:
        study = optuna.load_study(study_name=name, storage=storage)
    except KeyError as exc:
        raise UsageError(f"--resume: {journal} has no study named {name!r}") from exc
    trials = study.get_trials(deepcopy=False)
    for t in trials:  # left running by the killed run: they will never finish
        if t.state == TrialState.RUNNING:
            storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
    done = sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
    logger.info("resuming %s: %d finished trials", name, done)
    return f"journal://{journal}", name, max(args.n_trials - done, 0)


def tune_main(args):
    """Run the ``tune`` sub-command; returns the exit status."""
    import joblib

    from .benchmark import classification_table
    from .cli import UsageError, load_data, write_json
    from .model_selection import OptunaSearchCV

    data = load_data(args)
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    storage, study_name, n_trials = _journal_storage(args, out)
    bad = [s for s in args.samplers.split(",") if s not in SAMPLERS] + [
        loss for loss in args.losses.split(",") if loss not in LOSSES
    ]
    if bad:
        raise UsageError(
            f"unknown --samplers / --losses options {bad}; samplers are "
            f"{list(SAMPLERS)}, losses {list(LOSSES)}"
        )
    with tempfile.TemporaryDirectory(prefix="recsys-tune-cache-") as cache:
        pipe, space = make_recipe(
            args.recipe,
            data,
            samplers=args.samplers.split(","),
            losses=args.losses.split(","),
            memory=cache,
        )
        search = OptunaSearchCV(
            pipe,
            space,
            n_trials=max(n_trials, 1),
            timeout=args.timeout or None,
            scoring=args.scoring,
            cv=args.cv,
            storage=storage,
            study_name=study_name,
            pruner=args.pruner,
            n_jobs=args.n_jobs,
            refit=not args.no_refit,
            random_state=(args.random_state if args.worker_seed is None else args.worker_seed),
            verbose=args.verbose,
        )
        if n_trials == 0:  # a finished study: refit its best trial, run nothing new
            search.set_params(timeout=1e-9)
        t0 = time.perf_counter()
        try:
            search.fit(data.X_train, data.y_train)
        except ValueError as exc:
            if "was run on other data" in str(exc):
                raise UsageError(" ".join(str(exc).split())) from exc
            raise
        wall = time.perf_counter() - t0
        if not args.no_refit:
            search.best_estimator_.set_params(features__memory=None)
    res = search.cv_results_
    summary = {
        "dataset": data.name,
        "recipe": args.recipe,
        "scoring": args.scoring,
        "cv": args.cv,
        "storage": storage,
        "study_name": search.study_.study_name,
        "n_trials_this_run": search.n_trials_,
        "n_trials_in_study": len(res),
        "states": res["state"].value_counts().to_dict(),
        "best_trial": int(search.best_trial_.number),
        "best_cv_score": search.best_score_,
        "best_params": search.best_trial_.params,
        "wall_s": wall,
    }
    cols = ["number", "state", "n_folds", "mean_test_score"] + [
        c for c in ("param_sampler", "param_clf") if c in res
    ]
    print(
        res.sort_values("mean_test_score", ascending=False)[cols]
        .head(10)
        .to_string(index=False, float_format=lambda v: f"{v:.4f}")
    )
    print(
        f"\nbest trial {summary['best_trial']}: CV {args.scoring} "
        f"{search.best_score_:.4f}; {search.n_trials_} trials in {wall:.0f} s"
    )
    res.drop(columns=["params"]).to_csv(out / "cv_results.csv", index=False)
    if not args.no_refit:
        est = search.best_estimator_
        scores = est.predict_proba(data.X_test)[:, 1]
        summary["test"] = classification_table(data.y_test, scores, est.predict(data.X_test))
        print("test split: " + ", ".join(f"{k} {v:.4f}" for k, v in summary["test"].items()))
        joblib.dump(est, out / "best_pipeline.joblib")
        summary["plots"] = _plots(search.study_, out)
    write_json(out / "summary.json", summary)
    print(
        f"wrote {out}/summary.json, cv_results.csv"
        + ("" if args.no_refit else ", best_pipeline.joblib and plots")
    )
    return 0
