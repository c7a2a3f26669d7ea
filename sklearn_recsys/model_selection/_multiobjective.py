"""Two-objective tuning of a recommender and its re-ranker: accuracy against the long tail."""

from __future__ import annotations

import copy
import numbers
import time

import joblib
import numpy as np
import optuna
import pandas as pd
from optuna.samplers import BaseSampler
from optuna.storages import BaseStorage
from optuna.trial import FixedTrial
from sklearn.base import BaseEstimator, _fit_context, clone
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..utils import derive_seed
from ._optuna import _optuna_verbosity, _pareto_mask
from ._spaces import resolve_space, suggest_params
from ._split import user_temporal_split
from ._storage import make_storage, open_study

__all__ = ["TopKParetoSearch"]

#: metrics of :func:`sklearn_recsys.recommend.evaluate_topk` that can be objectives
TOPK_OBJECTIVES = (
    "ndcg",
    "recall",
    "precision",
    "hit_rate",
    "map",
    "mrr",
    "tail_recall",
    "coverage",
    "aplt",
    "entropy",
    "novelty",
)


class _Pair(BaseEstimator):
    """The tuned pair: its parameters are ``estimator__*`` and ``reranker__*``."""

    def __init__(self, estimator=None, reranker=None):
        self.estimator = estimator
        self.reranker = reranker


class TopKParetoSearch(BaseEstimator):
    """Optuna search of a recommender (and re-ranker) on two or more top-k objectives.

    ``fit`` holds out the last ``test_size`` share of each user's interactions (per-user
    temporal split), and for each trial fits the recommender on the rest with the sampled
    parameters, evaluates it with :func:`sklearn_recsys.recommend.evaluate_topk` (full ranking,
    cut-off ``k``, through the sampled re-ranker) and reports ``objectives`` (all maximised,
    e.g. NDCG@10 and tail recall@10) to a multi-objective Optuna study. The non-dominated
    trials form ``pareto_front_``; :meth:`plot_pareto_front` draws it. A fitted recommender is
    reused across trials that only change the re-ranker. Parameters are named ``estimator__*``
    and ``reranker__*``.

    Parameters
    ----------
    estimator : estimator
        Recommender fitted on the interaction frame (e.g. a :mod:`sklearn_recsys.retrieval`
        model).
    param_distributions : dict
        ``"estimator__l2"`` / ``"reranker__weight"`` -> Optuna distribution or list of choices.
    reranker : re-ranker or None, default=None
        A :mod:`sklearn_recsys.rerank` re-ranker (fitted on the training part).
    objectives : sequence of str, default=("ndcg", "tail_recall")
        Metrics of ``evaluate_topk`` at cut-off ``k`` (``"mrr"`` has none).
    k : int, default=10
    test_size : float, default=0.2
    n_trials : int, default=20
    sampler : optuna sampler or None, default=None
        None: NSGA-II seeded from ``random_state``.
    storage : str, optuna storage or None, default=None
    study_name : str or None, default=None
    refit : {"first", "none"} or callable, default="first"
        ``"first"``: refit on all of ``X`` the Pareto trial best on the first objective;
        a callable ``f(pareto_front_) -> row`` picks another point; ``"none"``: no refit.
    user_col, item_col, time_col : str, default="user_id", "item_id", "timestamp"
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0

    Attributes
    ----------
    study_ : optuna.study.Study
    results_ : DataFrame
        One row per complete trial: ``number``, ``param_*``, the objectives, ``fit_s``.
    pareto_front_ : DataFrame
        The non-dominated rows of ``results_``, sorted by the first objective.
    best_params_ : dict
        Parameters of the refit point.
    best_estimator_ : estimator
        Refit on all of ``X`` (when ``refit``).
    best_reranker_ : re-ranker or None
        Its re-ranker, fitted on all of ``X``.

    Examples
    --------
    >>> from optuna.distributions import FloatDistribution
    >>> from sklearn_recsys.datasets import make_interactions
    >>> from sklearn_recsys.model_selection import TopKParetoSearch
    >>> from sklearn_recsys.rerank import XQuADReranker
    >>> from sklearn_recsys.retrieval import EASERecommender
    >>> X = make_interactions(n_users=150, n_items=80, n_interactions=4000,
    ...                       random_state=0).interactions
    >>> search = TopKParetoSearch(EASERecommender(), {"reranker__weight": FloatDistribution(0, 1)},
    ...                           reranker=XQuADReranker(), n_trials=6, random_state=0).fit(X)
    >>> list(search.pareto_front_.columns[-3:])
    ['ndcg', 'tail_recall', 'fit_s']
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit"])],
        "param_distributions": [dict],
        "reranker": [HasMethods(["rerank_scores"]), None],
        "objectives": [list, tuple],
        "k": [Interval(numbers.Integral, 1, None, closed="left")],
        "test_size": [Interval(numbers.Real, 0, 1, closed="neither")],
        "n_trials": [Interval(numbers.Integral, 1, None, closed="left")],
        "sampler": [BaseSampler, None],
        "storage": [str, BaseStorage, None],
        "study_name": [str, None],
        "refit": [StrOptions({"first", "none"}), callable],
        "user_col": [str],
        "item_col": [str],
        "time_col": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        estimator,
        param_distributions,
        *,
        reranker=None,
        objectives=("ndcg", "tail_recall"),
        k=10,
        test_size=0.2,
        n_trials=20,
        sampler=None,
        storage=None,
        study_name=None,
        refit="first",
        user_col="user_id",
        item_col="item_id",
        time_col="timestamp",
        random_state=None,
        verbose=0,
    ):
        self.estimator = estimator
        self.param_distributions = param_distributions
        self.reranker = reranker
        self.objectives = objectives
        self.k = k
        self.test_size = test_size
        self.n_trials = n_trials
        self.sampler = sampler
        self.storage = storage
        self.study_name = study_name
        self.refit = refit
        self.user_col = user_col
        self.item_col = item_col
        self.time_col = time_col
        self.random_state = random_state
        self.verbose = verbose

    def _check_objectives(self):
        objs = list(self.objectives)
        bad = [o for o in objs if o not in TOPK_OBJECTIVES]
        if len(objs) < 2 or bad or len(set(objs)) != len(objs):
            raise ValueError(
                f"objectives must be 2+ distinct names of {list(TOPK_OBJECTIVES)}; "
                f"got {self.objectives!r}."
            )
        return objs

    def _make_sampler(self):
        if self.sampler is not None:
            return copy.deepcopy(self.sampler)
        seed = derive_seed(self.random_state)
        return optuna.samplers.NSGAIISampler(seed=seed)

    def _evaluate(self, pair, X_tr, X_te, y_tr, y_te, cache):
        from ..recommend import evaluate_topk

        key = joblib.hash(pair.estimator.get_params(deep=True))
        t0 = time.perf_counter()
        if key not in cache:
            cache.clear()  # keep one fitted recommender: the space is usually re-ranker-only
            cache[key] = clone(pair.estimator).fit(X_tr, y_tr)
        est = cache[key]
        fit_s = time.perf_counter() - t0
        reranker = None if pair.reranker is None else clone(pair.reranker).fit(X_tr)
        res = evaluate_topk(
            est,
            X_tr,
            X_te,
            y_te,
            k=self.k,
            reranker=reranker,
            user_col=self.user_col,
            item_col=self.item_col,
        )
        values = {}
        for name in self._check_objectives():
            row = res[
                (res["metric"] == name)
                & ((res["k"] == self.k) if name != "mrr" else res["k"].isna())
            ]
            values[name] = float(row["value"].iloc[0])
        return values, fit_s

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Run the study on a per-user temporal hold-out of ``X``, then refit.

        Parameters
        ----------
        X : DataFrame
            Interaction frame with ``user_col``, ``item_col`` and ``time_col``.
        y : array-like of shape (n_samples,), default=None
            Relevance of each row (> 0 relevant) for the hold-out metrics, also passed to the
            recommender's ``fit``. None: every interaction is relevant.

        Returns
        -------
        self : TopKParetoSearch
        """
        objectives = self._check_objectives()
        template = _Pair(self.estimator, self.reranker)
        space = resolve_space(template, self.param_distributions)
        arrays = [X] if y is None else [X, pd.Series(np.asarray(y), index=X.index)]
        parts = user_temporal_split(
            *arrays, test_size=self.test_size, user_col=self.user_col, time_col=self.time_col
        )
        X_tr, X_te = parts[0], parts[1]
        y_tr, y_te = (None, None) if y is None else (parts[2], parts[3])
        cache, rows = {}, []

        def objective(trial):
            params = suggest_params(trial, space)
            pair = clone(template).set_params(**params)
            values, fit_s = self._evaluate(pair, X_tr, X_te, y_tr, y_te, cache)
            rows.append(
                {
                    "number": trial.number,
                    **{f"param_{k}": v for k, v in trial.params.items()},
                    **values,
                    "fit_s": fit_s,
                }
            )
            return [values[o] for o in objectives]

        with _optuna_verbosity(self.verbose):
            study = open_study(
                make_storage(self.storage),
                self.study_name,
                directions=["maximize"] * len(objectives),
                sampler=self._make_sampler(),
                pruner=None,
            )
            study.optimize(objective, n_trials=self.n_trials, show_progress_bar=bool(self.verbose))
        self.study_ = study
        self.results_ = pd.DataFrame(rows)
        mask = _pareto_mask(self.results_[objectives].to_numpy())
        self.pareto_front_ = (
            self.results_[mask]
            .sort_values(objectives[0], ascending=False, kind="stable")
            .reset_index(drop=True)
        )
        if self.refit == "none":
            return self
        if callable(self.refit):
            best = self.pareto_front_.loc[int(self.refit(self.pareto_front_))]
        else:
            best = self.pareto_front_.iloc[0]
        trial = next(t for t in study.trials if t.number == int(best["number"]))
        self.best_params_ = suggest_params(FixedTrial(trial.params), space)
        pair = clone(template).set_params(**self.best_params_)
        self.best_estimator_ = clone(pair.estimator).fit(X, y)
        self.best_reranker_ = None if pair.reranker is None else clone(pair.reranker).fit(X)
        return self

    def plot_pareto_front(self, *, ax=None, annotate=None):
        """Scatter of the trials on the first two objectives, the Pareto front as a line.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        annotate : str or None, default=None
            A ``results_`` column whose value labels each Pareto point (e.g.
            ``"param_reranker__weight"``).

        Returns
        -------
        ax : matplotlib Axes
        """
        check_is_fitted(self, "pareto_front_")
        import matplotlib.pyplot as plt

        x, y = list(self.objectives)[:2]
        if ax is None:
            _, ax = plt.subplots(figsize=(5.5, 4.5))
        ax.scatter(self.results_[x], self.results_[y], s=18, c="0.7", label="trials")
        front = self.pareto_front_.sort_values(x)
        ax.plot(front[x], front[y], "o-", c="C3", label="Pareto front")
        if annotate is not None:
            for _, r in front.iterrows():
                ax.annotate(
                    f"{r[annotate]:.2g}",
                    (r[x], r[y]),
                    fontsize=7,
                    textcoords="offset points",
                    xytext=(3, 3),
                )
        ax.set_xlabel(f"{x}@{self.k}")
        ax.set_ylabel(f"{y}@{self.k}")
        ax.legend(loc="best")
        return ax
