"""Matrix factorisation for implicit feedback through the ``implicit`` package (ALS, BPR).

``implicit`` is an optional dependency (the ``retrieval`` extra); it is imported when an
estimator is fitted, never at import time.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils._param_validation import Interval

from ..utils import derive_seed, doctests_require, effective_n_threads
from ._base import BaseRetriever

__all__ = ["ALSRecommender", "BPRRecommender"]


def _import_implicit(name):
    try:
        from implicit.cpu import als, bpr
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"{name} needs the 'implicit' package: pip install 'sklearn-recsys[retrieval]' "
            "(or pip install implicit)."
        ) from exc
    return {"als": als, "bpr": bpr}


class _ImplicitMF(BaseRetriever):
    """An ``implicit`` model on the interaction matrix.

    Subclasses name the model in ``_implicit_model``: (module of ``implicit.cpu``, class, the
    parameters passed to it as they are).
    """

    _implicit_model = None

    def __init__(
        self,
        factors,
        regularization,
        iterations,
        *,
        user_col,
        item_col,
        positive_only,
        n_jobs,
        random_state,
        verbose,
    ):
        self.factors = factors
        self.regularization = regularization
        self.iterations = iterations
        self.user_col = user_col
        self.item_col = item_col
        self.positive_only = positive_only
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _threads(self):
        """``implicit``'s ``num_threads``: ``n_jobs`` as scikit-learn reads it, and -1 as 0,
        implicit's "all cores"."""
        return 0 if self.n_jobs == -1 else effective_n_threads(self.n_jobs)

    def _fit_matrix(self, R):
        from threadpoolctl import threadpool_limits

        module, name, params = self._implicit_model
        model_class = getattr(_import_implicit(type(self).__name__)[module], name)
        with threadpool_limits(1, "blas"):  # implicit asks for single-threaded BLAS
            model = model_class(
                **{p: getattr(self, p) for p in params},
                num_threads=self._threads(),
                random_state=derive_seed(self.random_state),
            )
            model.fit(R.astype(np.float32), show_progress=bool(self.verbose))
        self.user_factors_ = np.asarray(model.user_factors)
        self.item_factors_ = np.asarray(model.item_factors)

    def _user_scores(self, codes):
        return self.user_factors_[codes].astype(float) @ self.item_factors_.T.astype(float)


_COMMON = {
    "factors": [Interval(numbers.Integral, 1, None, closed="left")],
    "regularization": [Interval(numbers.Real, 0, None, closed="left")],
    "iterations": [Interval(numbers.Integral, 1, None, closed="left")],
    "n_jobs": [numbers.Integral, None],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
    **BaseRetriever._common_constraints,
}

_PARAMS = """    user_col, item_col : str or int, default="user_id", "item_id"
        Id columns of ``X`` (positions when ``X`` is an array).
    positive_only : bool, default=True
        When ``y`` is given, learn only from the rows with ``y > 0``.
    n_jobs : int or None, default=None
        ``implicit``'s threads, as scikit-learn reads ``n_jobs`` (None: 1, deterministic;
        -1: all cores).
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0
        Show ``implicit``'s progress bar.
"""

_ATTRS = """
    Attributes
    ----------
    user_factors_ : ndarray of shape (n_users, n_factors)
    item_factors_ : ndarray of shape (n_items, n_factors)
        Scores are ``user_factors_ @ item_factors_.T``.
    user_index_, item_index_ : pandas.Index
        The known user and item ids, in matrix order.
    interactions_ : scipy.sparse.csr_matrix of shape (n_users, n_items)
    item_popularity_ : ndarray of shape (n_items,)
        Share of the training interactions of each item (the cold-user scores).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when ``X`` has string column names.
"""


@doctests_require("implicit")
class ALSRecommender(_ImplicitMF):
    __doc__ = (
        """Implicit-feedback ALS (Hu, Koren and Volinsky 2008) from the ``implicit`` package.

    Confidence :math:`c_{ui} = 1 + \\alpha r_{ui}` on the observed interactions, preference
    1 on them and 0 elsewhere; alternating least squares (conjugate gradient) as ``implicit``
    implements it. Needs the ``retrieval`` extra (``pip install 'sklearn-recsys[retrieval]'``).

    Parameters
    ----------
    factors : int, default=64
    regularization : float, default=0.05
    alpha : float, default=1.0
        Confidence scale of the interactions: :math:`r_{ui}` is the summed ``sample_weight``
        of the pair (1 per row by default).
    iterations : int, default=15
"""
        + _PARAMS
        + _ATTRS
        + """
    Examples
    --------
    >>> from sklearn_recsys.datasets import make_interactions
    >>> from sklearn_recsys.retrieval import ALSRecommender
    >>> X = make_interactions(n_interactions=2000, random_state=0).interactions
    >>> als = ALSRecommender(factors=8, random_state=0).fit(X)
    >>> als.predict(X.head(3)).shape
    (3,)
    """
    )

    _parameter_constraints = {
        **_COMMON,
        "alpha": [Interval(numbers.Real, 0, None, closed="neither")],
    }
    _implicit_model = (
        "als",
        "AlternatingLeastSquares",
        ("factors", "regularization", "alpha", "iterations"),
    )

    def __init__(
        self,
        factors=64,
        regularization=0.05,
        alpha=1.0,
        iterations=15,
        *,
        user_col="user_id",
        item_col="item_id",
        positive_only=True,
        n_jobs=None,
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            factors,
            regularization,
            iterations,
            user_col=user_col,
            item_col=item_col,
            positive_only=positive_only,
            n_jobs=n_jobs,
            random_state=random_state,
            verbose=verbose,
        )
        self.alpha = alpha


@doctests_require("implicit")
class BPRRecommender(_ImplicitMF):
    __doc__ = (
        """Bayesian personalised ranking (Rendle et al. 2009) from the ``implicit`` package.

    Pairwise SGD: for a positive (user, item) and a sampled unobserved item, push the positive
    above the negative, :math:`\\max \\sum \\ln \\sigma(x_{ui} - x_{uj})`. Needs the
    ``retrieval`` extra. A (user, item) pair with a positive ``sample_weight`` is a positive;
    the size of the weight is not used.

    Parameters
    ----------
    factors : int, default=64
    learning_rate : float, default=0.05
    regularization : float, default=0.01
    iterations : int, default=100
"""
        + _PARAMS
        + _ATTRS
        + """
    Examples
    --------
    >>> from sklearn_recsys.datasets import make_interactions
    >>> from sklearn_recsys.retrieval import BPRRecommender
    >>> X = make_interactions(n_interactions=2000, random_state=0).interactions
    >>> bpr = BPRRecommender(factors=8, iterations=10, random_state=0).fit(X)
    >>> bpr.item_factors_.shape[1]  # implicit appends an item-bias column
    9
    """
    )

    _parameter_constraints = {
        **_COMMON,
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
    }
    _implicit_model = (
        "bpr",
        "BayesianPersonalizedRanking",
        ("factors", "learning_rate", "regularization", "iterations"),
    )

    def __init__(
        self,
        factors=64,
        learning_rate=0.05,
        regularization=0.01,
        iterations=100,
        *,
        user_col="user_id",
        item_col="item_id",
        positive_only=True,
        n_jobs=None,
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            factors,
            regularization,
            iterations,
            user_col=user_col,
            item_col=item_col,
            positive_only=positive_only,
            n_jobs=n_jobs,
            random_state=random_state,
            verbose=verbose,
        )
        self.learning_rate = learning_rate
