"""OptunaSearchCV: hyper-parameter search with Optuna under (stratified, user-grouped) CV.

Built on :mod:`optuna` directly rather than on ``optuna_integration.OptunaSearchCV``, which
prunes only through ``partial_fit`` iterations (not per fold), takes a mutable ``Study`` object
as a parameter (shared by clones and reused across ``fit`` calls on other data), re-splits the
data on every trial (shuffled folds differ between trials), has a single objective and only
plain-value distributions (no estimator choices). See ``docs/tuning.md``.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import numbers
import time
import warnings
from numbers import Integral, Real

import joblib
import numpy as np
import optuna
import pandas as pd
from optuna.pruners import BasePruner
from optuna.samplers import BaseSampler
from optuna.storages import BaseStorage
from optuna.trial import FixedTrial
from sklearn.base import BaseEstimator, MetaEstimatorMixin, _fit_context, clone, is_classifier
from sklearn.exceptions import FitFailedWarning
from sklearn.metrics import check_scoring
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold, check_cv
from sklearn.utils import _safe_indexing, get_tags, indexable
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import _num_samples, check_is_fitted

from .._contract import check_id_column
from ..metrics import get_scorer
from ..utils import derive_seed
from ._spaces import resolve_space, suggest_params
from ._split import StratifiedUserKFold
from ._storage import make_storage, open_study

__all__ = ["OptunaSearch", "OptunaSearchCV"]

logger = logging.getLogger(__name__)

_FP = "sklearn_recsys:fingerprint"


# ----------------------------------------------------------------------------- helpers
def _get_scorer(estimator, scoring):
    if scoring is None or callable(scoring):
        return check_scoring(estimator, scoring=scoring)
    # the toolkit's names first ("ndcg@10", "precision@top0.01"), then scikit-learn's
    return get_scorer(scoring)


def _scorer_key(scorer):
    """A description of a scorer that is the same in every worker process."""
    if hasattr(scorer, "_score_func"):  # make_scorer(...): its repr names function and options
        return repr(scorer)
    func = getattr(scorer, "__func__", scorer)
    return f"{getattr(func, '__module__', '')}.{getattr(func, '__qualname__', type(func).__name__)}"


def _index_params(params, indices, n_samples):
    """Row-subset the sample-aligned fit parameters (``sample_weight``, ...)."""
    out = {}
    for key, value in params.items():
        if (
            value is not None
            and hasattr(value, "__len__")
            and not isinstance(value, str)
            and _num_samples(value) == n_samples
        ):
            out[key] = _safe_indexing(value, indices)
        else:
            out[key] = value
    return out


def _fit_and_score(
    estimator, X, y, train, test, scorers, fit_params, error_score, return_train_score
):
    """Fit on one fold and score; returns plain floats (picklable for joblib backends)."""
    n = _num_samples(X)
    X_tr, X_te = _safe_indexing(X, train), _safe_indexing(X, test)
    y_tr = None if y is None else _safe_indexing(y, train)
    y_te = None if y is None else _safe_indexing(y, test)
    out = {"test": {}, "train": {}, "fit_time": math.nan, "score_time": math.nan, "error": None}
    t0 = time.perf_counter()
    try:
        estimator.fit(X_tr, y_tr, **_index_params(fit_params, train, n))
    except Exception as exc:
        if error_score == "raise":
            raise
        out["error"] = f"{type(exc).__name__}: {exc}"
        out["test"] = dict.fromkeys(scorers, float(error_score))
        out["train"] = dict.fromkeys(scorers, float(error_score))
        return out
    out["fit_time"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for name, scorer in scorers.items():
        out["test"][name] = float(scorer(estimator, X_te, y_te))
        if return_train_score:
            out["train"][name] = float(scorer(estimator, X_tr, y_tr))
    out["score_time"] = time.perf_counter() - t0
    return out


def _nan_to_none(values):
    return [None if (v is None or math.isnan(v)) else float(v) for v in values]


def _none_to_nan(values):
    return np.array([math.nan if v is None else v for v in values], dtype=float)


def _pareto_mask(points):
    """Non-dominated rows of ``points`` (all objectives maximised)."""
    points = np.asarray(points, dtype=float)
    ge = (points[None, :, :] >= points[:, None, :]).all(axis=2)  # ge[i, j]: j >= i everywhere
    gt = (points[None, :, :] > points[:, None, :]).any(axis=2)
    return ~(ge & gt).any(axis=1)


@contextlib.contextmanager
def _optuna_verbosity(verbose):
    old = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.INFO if verbose >= 2 else optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(old)


def _search_estimator_has(attr):
    def check(self):
        if hasattr(self, "best_estimator_"):
            getattr(self.best_estimator_, attr)
            return True
        if not self.refit:
            raise AttributeError(f"{attr} is not available when refit=False.")
        getattr(self.estimator, attr)
        return True

    return check


def _delegate(method, summary):
    """A method of the search that calls ``method`` of ``best_estimator_`` on ``X``; it exists
    only when the estimator has it (as scikit-learn's searches)."""

    def call(self, X):
        check_is_fitted(self)
        return getattr(self.best_estimator_, method)(X)

    call.__name__ = call.__qualname__ = method
    call.__doc__ = f"""{summary}

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        result : ndarray
            What ``best_estimator_.{method}(X)`` returns.
        """
    return available_if(_search_estimator_has(method))(call)


class _Objective:
    """One trial: sample the space, cross-validate fold by fold, report, prune."""

    def __init__(self, search, space, X, y, splits, scorers, fit_params, fingerprint, prune):
        self.search = search
        self.space = space
        self.X, self.y, self.splits = X, y, splits
        self.scorers = scorers
        self.fit_params = fit_params
        self.fingerprint = fingerprint
        self.prune = prune
        self.numbers = []

    def __call__(self, trial):
        s = self.search
        self.numbers.append(trial.number)
        trial.set_user_attr(_FP, self.fingerprint)
        params = suggest_params(trial, self.space)
        estimator = clone(s.estimator).set_params(**params)
        n_jobs = joblib.effective_n_jobs(s.n_jobs)
        wave = n_jobs if self.prune else len(self.splits)
        results = []
        pruned = False
        with joblib.Parallel(n_jobs=s.n_jobs) as parallel:
            for start in range(0, len(self.splits), wave):
                chunk = self.splits[start : start + wave]
                results += parallel(
                    joblib.delayed(_fit_and_score)(
                        clone(estimator),
                        self.X,
                        self.y,
                        train,
                        test,
                        self.scorers,
                        self.fit_params,
                        s.error_score,
                        s.return_train_score,
                    )
                    for train, test in chunk
                )
                if self.prune:
                    first = next(iter(self.scorers))
                    for k in range(start, len(results)):
                        running = np.mean([r["test"][first] for r in results[: k + 1]])
                        if not math.isnan(running):
                            trial.report(float(running), k)
                        # a trial with every fold done is complete, never pruned
                        if k < len(self.splits) - 1 and trial.should_prune():
                            pruned = True
                            break
                if pruned:
                    break
        self._record(trial, results)
        if pruned:
            raise optuna.TrialPruned(f"pruned after {len(results)} of {len(self.splits)} folds")
        means = [float(np.mean([r["test"][name] for r in results])) for name in self.scorers]
        return means[0] if len(means) == 1 else means

    def _record(self, trial, results):
        for name in self.scorers:
            trial.set_user_attr(
                f"split_test_{name}", _nan_to_none([r["test"][name] for r in results])
            )
            if self.search.return_train_score:
                trial.set_user_attr(
                    f"split_train_{name}",
                    _nan_to_none([r["train"].get(name, math.nan) for r in results]),
                )
        trial.set_user_attr("fit_time", _nan_to_none([r["fit_time"] for r in results]))
        trial.set_user_attr("score_time", _nan_to_none([r["score_time"] for r in results]))
        errors = [r["error"] for r in results if r["error"]]
        if errors:
            trial.set_user_attr("error", errors[0][:2000])
            warnings.warn(
                f"trial {trial.number}: {len(errors)} of {len(results)} folds failed and got "
                f"error_score={self.search.error_score}; first error: {errors[0]}",
                FitFailedWarning,
                stacklevel=2,
            )


# -------------------------------------------------------------------------- estimator
class OptunaSearchCV(MetaEstimatorMixin, BaseEstimator):
    """Hyper-parameter search with Optuna under cross-validation, pruned fold by fold.

    ``fit`` runs ``n_trials`` trials of an Optuna study over the parameters of ``estimator``
    (usually a pipeline). Each trial samples the space, cross-validates fold after fold on folds
    fixed once per ``fit`` (every trial sees the same folds, even with a shuffling ``cv``),
    reports the running mean score after each fold to the pruner, and records the fold scores in
    the trial. The best parameters are then refit on the whole data, and ``predict``,
    ``predict_proba``, ``score`` ... delegate to that ``best_estimator_``.

    Parameters
    ----------
    estimator : estimator
        The estimator or pipeline to tune.
    param_distributions : dict or None, default=None
        Parameter name -> Optuna distribution (``FloatDistribution``, ``IntDistribution``,
        ``CategoricalDistribution``), a list of values (categorical), a
        :class:`StepChoice` (the estimator of a step as a categorical choice with conditional
        sub-spaces), a dict (a sub-space relative to the step of that name) or ``"default"``
        (the registry's space of that step). ``None``: the registry's default space for every
        step (:func:`get_search_space`).
    n_trials : int or None, default=10
        Trials *this call* runs (as ``study.optimize``): N workers on one study run N x n_trials.
        ``None`` runs until ``timeout``.
    timeout : float or None, default=None
        Stop starting new trials after this many seconds.
    scoring : str, callable, list, tuple, dict or None, default=None
        One scorer (``"average_precision"``, ``"ndcg@10"``, any name of
        :func:`sklearn_recsys.metrics.get_scorer`; None: the estimator's ``score``), or several
        (list of names / dict name -> scorer) for a multi-objective study whose Pareto front is
        ``pareto_front_``. Every objective is maximised.
    cv : int, cross-validation generator, iterable or None, default=None
        None / int (number of folds, default 5): :class:`StratifiedUserKFold` when ``X`` is a
        DataFrame with ``user_col`` and ``y`` is a class label (a user's rows never straddle
        train and validation), a user-grouped K-fold for other targets, and scikit-learn's
        default (``StratifiedKFold`` for classifiers) otherwise.
    user_col : str or None, default="user_id"
        User column that the default ``cv`` groups by.
    storage : str, optuna storage or None, default=None
        Where trials live: None (in memory), ``"sqlite:///tune.db"`` (several processes of one
        machine; safe under concurrency), ``"journal:///path/tune.log"`` (journal file),
        ``"postgresql://user:pw@host/db"`` (workers on many hosts), or a storage object.
    study_name : str or None, default=None
        Name of the study in ``storage``. With a name, ``fit`` resumes the study when it exists
        (several workers share it); None creates a new study with a unique name each ``fit``.
        A resumed study must have been run on the same data, folds and scorers: otherwise
        ``fit`` raises, since its best trial would have been selected with other folds.
    sampler : optuna sampler or None, default=None
        None: ``TPESampler`` seeded from ``random_state``. Give each worker of a shared study
        its own ``random_state`` (or sampler seed) so they do not propose the same points.
    pruner : {"median", "halving", "hyperband", "none"}, optuna pruner or None, \
            default="median"
        Pruning on the running mean of the fold scores (``"median"``: ``MedianPruner(
        n_startup_trials=5, n_warmup_steps=1)``; ``"halving"``: successive halving over folds).
        Ignored for several objectives, which Optuna cannot prune.
    n_jobs : int or None, default=None
        Folds fitted in parallel through joblib (any backend: ``with
        joblib.parallel_config(backend="dask"): search.fit(...)``); with a pruner the folds run
        in waves of ``n_jobs`` so that pruning still saves the later waves.
    refit : bool, str or callable, default=True
        Refit the best parameters on the whole data. With several scorers: the name of the one
        that picks the best trial, or a callable ``cv_results_ -> row index``.
    error_score : "raise" or float, default=np.nan
        Score of a fold whose fit fails (a NaN mean marks the trial FAILED and the study goes on);
        "raise" stops the search.
    return_train_score : bool, default=False
        Also score the training folds.
    random_state : int, RandomState instance or None, default=None
        Seeds the default sampler.
    verbose : int, default=0
        0: quiet; 1: progress bar; 2: Optuna's log line per trial too.

    Attributes
    ----------
    study_ : optuna.study.Study
        The study (it also holds trials of other workers and earlier ``fit`` calls).
    cv_results_ : pandas.DataFrame
        One row per trial of this study run on the same data: ``number``, ``state``,
        ``param_<name>``, ``split<k>_test_<score>``, ``mean_test_<score>``,
        ``std_test_<score>``, ``rank_test_<score>`` (complete trials only), ``n_folds``,
        ``mean_fit_time`` ... (``<score>`` is ``score`` for a single scorer).
    best_trial_ : optuna.trial.FrozenTrial
    best_index_ : int
        Row of ``cv_results_`` of the best trial.
    best_params_ : dict
        ``set_params`` arguments of the best trial (estimators for :class:`StepChoice` steps).
    best_score_ : float
        Mean CV score of the best trial (refit metric).
    best_estimator_ : estimator
        Refit on the whole data (when ``refit``).
    pareto_front_ : pandas.DataFrame
        With several scorers: the rows of ``cv_results_`` on the Pareto front.
    scorer_ : dict
        Scorer name -> scorer.
    multimetric_ : bool
    n_splits_ : int
    n_trials_ : int
        Trials run by this ``fit`` call.
    refit_time_ : float

    See Also
    --------
    sklearn_recsys.model_selection.StratifiedUserKFold : the default cross-validator.
    sklearn.model_selection.RandomizedSearchCV : the same budget without a model of the space.

    Examples
    --------
    >>> from optuna.distributions import FloatDistribution
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_recsys.model_selection import OptunaSearchCV
    >>> X, y = make_classification(n_samples=300, weights=[0.9], random_state=0)
    >>> space = {"C": FloatDistribution(1e-3, 10, log=True)}
    >>> search = OptunaSearchCV(LogisticRegression(), space, n_trials=5,
    ...                         scoring="average_precision", cv=3, random_state=0)
    >>> search.fit(X, y).best_params_
    {'C': ...}
    >>> search.cv_results_[["number", "state", "mean_test_score"]].shape
    (5, 3)
    >>> search.predict_proba(X[:2]).shape
    (2, 2)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit"])],
        "param_distributions": [dict, None],
        "n_trials": [Interval(Integral, 1, None, closed="left"), None],
        "timeout": [Interval(Real, 0, None, closed="neither"), None],
        "scoring": [str, callable, list, tuple, dict, None],
        "cv": ["cv_object"],
        "user_col": [str, None],
        "storage": [str, BaseStorage, None],
        "study_name": [str, None],
        "sampler": [BaseSampler, None],
        "pruner": [StrOptions({"median", "halving", "hyperband", "none"}), BasePruner, None],
        "n_jobs": [Integral, None],
        "refit": ["boolean", str, callable],
        "error_score": [StrOptions({"raise"}), Real],
        "return_train_score": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        estimator,
        param_distributions=None,
        *,
        n_trials=10,
        timeout=None,
        scoring=None,
        cv=None,
        user_col="user_id",
        storage=None,
        study_name=None,
        sampler=None,
        pruner="median",
        n_jobs=None,
        refit=True,
        error_score=np.nan,
        return_train_score=False,
        random_state=None,
        verbose=0,
    ):
        self.estimator = estimator
        self.param_distributions = param_distributions
        self.n_trials = n_trials
        self.timeout = timeout
        self.scoring = scoring
        self.cv = cv
        self.user_col = user_col
        self.storage = storage
        self.study_name = study_name
        self.sampler = sampler
        self.pruner = pruner
        self.n_jobs = n_jobs
        self.refit = refit
        self.error_score = error_score
        self.return_train_score = return_train_score
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        sub = get_tags(self.estimator)
        tags.estimator_type = sub.estimator_type
        tags.classifier_tags = copy.deepcopy(sub.classifier_tags)
        tags.regressor_tags = copy.deepcopy(sub.regressor_tags)
        tags.input_tags.pairwise = sub.input_tags.pairwise
        tags.input_tags.sparse = sub.input_tags.sparse
        tags.input_tags.allow_nan = sub.input_tags.allow_nan
        tags.input_tags.string = sub.input_tags.string
        tags.input_tags.categorical = sub.input_tags.categorical
        tags.target_tags = copy.deepcopy(sub.target_tags)
        return tags

    # ------------------------------------------------------------------ set-up
    def _scorers(self):
        s = self.scoring
        if s is None or isinstance(s, str) or callable(s):
            return {"score": _get_scorer(self.estimator, s)}, False
        if isinstance(s, dict):
            items = list(s.items())
        else:
            items = [(name, name) for name in s]
        if not items:
            raise ValueError("scoring is an empty list / dict; give at least one scorer.")
        names = [n for n, _ in items]
        if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
            raise ValueError(f"scoring must name each scorer once with a str; got {s!r}.")
        return {n: _get_scorer(self.estimator, v) for n, v in items}, len(items) > 1

    def _refit_metric(self, scorers, multimetric):
        if not multimetric:
            if isinstance(self.refit, str) and self.refit not in scorers:
                raise ValueError(
                    f"refit={self.refit!r} names no scorer; with a single scorer "
                    f"use refit=True or False."
                )
            return "score" if "score" in scorers else next(iter(scorers))
        if callable(self.refit) or self.refit is False:
            return next(iter(scorers))
        if self.refit is True or self.refit not in scorers:
            raise ValueError(
                f"with several scorers {list(scorers)}, refit must be the name of "
                f"the one that picks the best trial, a callable or False; got "
                f"refit={self.refit!r}."
            )
        return self.refit

    def _splits(self, X, y, groups):
        classification = y is not None and type_of_target(y) in ("binary", "multiclass")
        cv = self.cv
        if cv is None or isinstance(cv, numbers.Integral):
            n_splits = 5 if cv is None else int(cv)
            if (
                groups is None
                and isinstance(X, pd.DataFrame)
                and self.user_col is not None
                and self.user_col in X.columns
            ):
                if classification:
                    cv = StratifiedUserKFold(n_splits=n_splits, user_col=self.user_col)
                else:
                    users = check_id_column(X[self.user_col], name=f"user_col={self.user_col!r}")
                    groups, cv = pd.factorize(users)[0], GroupKFold(n_splits=n_splits)
            elif groups is not None:
                cv = StratifiedGroupKFold(n_splits) if classification else GroupKFold(n_splits)
            else:
                cv = check_cv(n_splits, y, classifier=is_classifier(self.estimator))
        else:
            cv = check_cv(cv, y, classifier=is_classifier(self.estimator))
        # fixed once: every trial (and the pruner) sees the same folds, even if cv shuffles
        return [(np.asarray(tr), np.asarray(te)) for tr, te in cv.split(X, y, groups)]

    def _make_sampler(self):
        if self.sampler is not None:
            return copy.deepcopy(self.sampler)
        seed = None
        if self.random_state is not None:
            seed = derive_seed(self.random_state)
        return optuna.samplers.TPESampler(seed=seed)

    def _make_pruner(self, n_splits):
        p = self.pruner
        if isinstance(p, BasePruner):
            return copy.deepcopy(p)
        if p == "median":
            return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)
        if p == "halving":
            return optuna.pruners.SuccessiveHalvingPruner(min_resource=1)
        if p == "hyperband":
            return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=n_splits)
        return optuna.pruners.NopPruner()

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, groups=None, **fit_params):
        """Run the study, then refit the best parameters on the whole data.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), default=None
        groups : array-like of shape (n_samples,), default=None
            Groups for a group-aware ``cv`` (default: the user column, see ``cv``).
        **fit_params : dict
            Passed to ``estimator.fit``; sample-aligned values (``sample_weight``) are split
            with the folds.

        Returns
        -------
        self : OptunaSearchCV
            The fitted search.
        """
        if self.n_trials is None and self.timeout is None:
            raise ValueError("n_trials=None needs a timeout; set n_trials, timeout or both.")
        space = resolve_space(self.estimator, self.param_distributions)
        X, y, groups = indexable(X, y, groups)
        scorers, multimetric = self._scorers()
        refit_metric = self._refit_metric(scorers, multimetric)
        splits = self._splits(X, y, groups)
        fingerprint = joblib.hash(
            (
                joblib.hash(X),
                joblib.hash(y),
                joblib.hash(splits),
                sorted((n, _scorer_key(v)) for n, v in scorers.items()),
            )
        )
        pruner = self._make_pruner(len(splits))
        prune = not multimetric and not isinstance(pruner, optuna.pruners.NopPruner)
        with _optuna_verbosity(self.verbose):
            study = open_study(
                make_storage(self.storage),
                self.study_name,
                directions=["maximize"] * len(scorers),
                sampler=self._make_sampler(),
                pruner=pruner,
            )
            self._check_resumed(study, fingerprint, len(scorers))
            objective = _Objective(
                self, space, X, y, splits, scorers, fit_params, fingerprint, prune
            )
            study.optimize(
                objective,
                n_trials=self.n_trials,
                timeout=self.timeout,
                show_progress_bar=bool(self.verbose),
            )
        self.study_ = study
        self.n_trials_ = len(objective.numbers)
        self.n_splits_ = len(splits)
        self.scorer_ = scorers
        self.multimetric_ = multimetric
        trials = [
            t for t in study.get_trials(deepcopy=False) if t.user_attrs.get(_FP) == fingerprint
        ]
        self.cv_results_ = self._cv_results(trials, list(scorers))
        self._select_best(space, trials, list(scorers), refit_metric)
        if self.refit:
            self.best_estimator_ = clone(self.estimator).set_params(**self.best_params_)
            t0 = time.perf_counter()
            self.best_estimator_.fit(X, y, **fit_params)
            self.refit_time_ = time.perf_counter() - t0
        return self

    def _check_resumed(self, study, fingerprint, n_objectives):
        if len(study.directions) != n_objectives:
            raise ValueError(
                f"study {study.study_name!r} has {len(study.directions)} "
                f"objective(s) but scoring gives {n_objectives}."
            )
        stored = study.user_attrs.get(_FP)
        if stored is None:
            study.set_user_attr(_FP, fingerprint)
        elif stored != fingerprint:
            raise ValueError(
                f"study {study.study_name!r} in this storage was run on other data, folds or "
                f"scorers (fingerprint {stored[:8]} != {fingerprint[:8]}). Resuming it would pick "
                f"hyper-parameters that saw other validation folds (a test-fold leak). Use "
                f"another study_name (or study_name=None for a fresh study per fit); shuffled "
                f"folds need a fixed random_state in every worker."
            )

    def _cv_results(self, trials, names):
        n_splits = self.n_splits_
        rows = []
        for t in trials:
            a = t.user_attrs
            row = {"number": t.number, "state": t.state.name}
            for key, value in t.params.items():
                row[f"param_{key}"] = value
            fit_t = _none_to_nan(a.get("fit_time", []))
            score_t = _none_to_nan(a.get("score_time", []))
            row["n_folds"] = len(fit_t)
            for kind in ("test", "train") if self.return_train_score else ("test",):
                for name in names:
                    vals = _none_to_nan(a.get(f"split_{kind}_{name}", []))
                    for k in range(n_splits):
                        row[f"split{k}_{kind}_{name}"] = vals[k] if k < len(vals) else math.nan
                    ok = vals[~np.isnan(vals)]
                    row[f"mean_{kind}_{name}"] = float(ok.mean()) if ok.size else math.nan
                    row[f"std_{kind}_{name}"] = float(ok.std()) if ok.size else math.nan
            for label, v in (("fit", fit_t), ("score", score_t)):
                ok = v[~np.isnan(v)]
                row[f"mean_{label}_time"] = float(ok.mean()) if ok.size else math.nan
                row[f"std_{label}_time"] = float(ok.std()) if ok.size else math.nan
            row["params"] = dict(t.params)
            row["datetime_start"] = t.datetime_start
            row["duration_s"] = t.duration.total_seconds() if t.duration else math.nan
            rows.append(row)
        df = pd.DataFrame(rows)
        if df.empty:
            return df
        df = df.sort_values("number", kind="stable").reset_index(drop=True)
        complete = df["state"].eq("COMPLETE").to_numpy()
        for name in names:
            rank = np.full(len(df), complete.sum() + 1, dtype=np.int64)
            scores = df[f"mean_test_{name}"].to_numpy()
            rank[complete] = (
                pd.Series(scores[complete])
                .rank(method="min", ascending=False)
                .to_numpy()
                .astype(np.int64)
            )
            df[f"rank_test_{name}"] = rank
        return df

    def _select_best(self, space, trials, names, refit_metric):
        res = self.cv_results_
        complete = np.flatnonzero(res["state"].eq("COMPLETE").to_numpy()) if len(res) else []
        if len(complete) == 0:
            states = res["state"].value_counts().to_dict() if len(res) else {}
            errors = [t.user_attrs.get("error") for t in trials if t.user_attrs.get("error")]
            hint = f"; first error: {errors[0]}" if errors else ""
            raise ValueError(
                f"no trial completed ({states}){hint}. Check the space, "
                f"error_score='raise' shows the failing fit."
            )
        if self.multimetric_:
            pts = res.loc[complete, [f"mean_test_{n}" for n in names]].to_numpy()
            self.pareto_front_ = res.loc[complete[_pareto_mask(pts)]].reset_index(drop=True)
            if self.refit is False:
                return
        if callable(self.refit):
            best = int(self.refit(res))
            if best not in set(complete.tolist()):
                raise ValueError(
                    f"refit callable returned {best}, not the row of a complete "
                    f"trial of cv_results_."
                )
        else:
            scores = res.loc[complete, f"mean_test_{refit_metric}"].to_numpy()
            best = int(complete[int(np.argmax(scores))])  # ties: the earliest trial
        number = int(res.loc[best, "number"])
        self.best_index_ = best
        self.best_trial_ = next(t for t in trials if t.number == number)
        self.best_score_ = float(res.loc[best, f"mean_test_{refit_metric}"])
        self.best_params_ = suggest_params(FixedTrial(self.best_trial_.params), space)

    # ------------------------------------------------------------------ delegation
    predict = _delegate("predict", "Predict with the best estimator.")
    predict_proba = _delegate("predict_proba", "Class probabilities from the best estimator.")
    predict_log_proba = _delegate(
        "predict_log_proba", "Log class probabilities from the best estimator."
    )
    decision_function = _delegate("decision_function", "Decision function of the best estimator.")
    transform = _delegate("transform", "Transform with the best estimator.")
    score_samples = _delegate("score_samples", "``score_samples`` of the best estimator.")

    def score(self, X, y=None):
        """Score of the best estimator with the refit scorer.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        if not self.refit:
            raise AttributeError("score is not available when refit=False.")
        name = self._refit_metric(self.scorer_, self.multimetric_)
        return self.scorer_[name](self.best_estimator_, X, y)

    @property
    def classes_(self):
        """Class labels of the best estimator."""
        _search_estimator_has("classes_")(self)
        return self.best_estimator_.classes_

    @property
    def n_features_in_(self):
        """Number of features seen by the best estimator."""
        if not hasattr(self, "best_estimator_"):
            raise AttributeError(
                f"{type(self).__name__} object has no n_features_in_ "
                f"attribute before fit with refit=True."
            )
        return self.best_estimator_.n_features_in_

    @property
    def feature_names_in_(self):
        """Feature names seen by the best estimator."""
        if not hasattr(self, "best_estimator_"):
            raise AttributeError("feature_names_in_ needs a fitted search with refit=True.")
        return self.best_estimator_.feature_names_in_

    # ------------------------------------------------------------------ plots
    def plot_pareto_front(self, objectives=None, *, ax=None):
        """Scatter of the complete trials on two objectives, the Pareto front highlighted.

        Parameters
        ----------
        objectives : pair of str, default=None
            Scorer names (default: the first two).
        ax : matplotlib Axes, default=None

        Returns
        -------
        ax : matplotlib Axes
        """
        check_is_fitted(self, "pareto_front_")
        import matplotlib.pyplot as plt

        names = list(objectives or list(self.scorer_)[:2])
        if len(names) != 2 or any(n not in self.scorer_ for n in names):
            raise ValueError(f"objectives must be two of {list(self.scorer_)}; got {objectives!r}.")
        cx, cy = (f"mean_test_{n}" for n in names)
        if ax is None:
            _, ax = plt.subplots(figsize=(5.5, 4.5))
        done = self.cv_results_[self.cv_results_["state"].eq("COMPLETE")]
        ax.scatter(done[cx], done[cy], s=18, c="0.7", label="trials")
        front = self.pareto_front_.sort_values(cx)
        ax.plot(front[cx], front[cy], "o-", c="C3", drawstyle="steps-pre", label="Pareto front")
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
        ax.legend(loc="best")
        return ax


class OptunaSearch(OptunaSearchCV):
    """Deprecated alias of :class:`OptunaSearchCV`, removed in the next release.

    The search was renamed to follow scikit-learn's ``*SearchCV`` convention; the parameters,
    attributes and methods are those of :class:`OptunaSearchCV`.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_recsys.model_selection import OptunaSearch, OptunaSearchCV
    >>> isinstance(OptunaSearch(LogisticRegression()), OptunaSearchCV)
    True
    """

    def fit(self, X, y=None, groups=None, **fit_params):
        """Warn that the class was renamed, then fit as :meth:`OptunaSearchCV.fit`.

        Parameters
        ----------
        X, y, groups, **fit_params
            See :meth:`OptunaSearchCV.fit`.

        Returns
        -------
        self : OptunaSearch
        """
        warnings.warn(
            "OptunaSearch is deprecated and will be removed in the next release; use "
            "OptunaSearchCV (same parameters).",
            FutureWarning,
            stacklevel=2,
        )
        return super().fit(X, y, groups, **fit_params)
