"""Self-paced ensemble: under-sampling the majority class by classification hardness."""

from __future__ import annotations

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context, clone
from sklearn.ensemble._base import _set_random_states
from sklearn.utils import _safe_indexing, check_random_state, get_tags
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_consistent_length, check_is_fitted, validate_data

from .._contract import check_interactions
from ..boosting._classifier import ArgmaxPredictMixin
from ..utils import derive_seed
from ._recipes import small_lgbm

_HARDNESS = {
    # hardness of a majority row from the ensemble's probability p of the minority class
    "absolute": lambda p: p,
    "squared": lambda p: p * p,
    "cross_entropy": lambda p: -np.log(np.clip(1.0 - p, 1e-12, None)),
}


class SelfPacedEnsembleClassifier(ArgmaxPredictMixin, ClassifierMixin, BaseEstimator):
    """Self-paced ensemble (Liu et al., ICDE 2020): hardness-harmonised under-sampling.

    Every member is trained on all minority rows and as many majority rows. The first member
    sees a random majority subset; afterwards the majority rows are put into ``k_bins`` bins of
    equal width by their *hardness* under the current ensemble (by default the ensemble's
    probability of the minority class, i.e. ``|F(x) - y|``), and bin ``l`` contributes rows in
    proportion to ``1 / (h_l + alpha_i)``, where ``h_l`` is its mean hardness and the self-paced
    factor ``alpha_i = tan(pi i / (2 (n - 1)))`` grows from 0 to infinity. Early members thus
    see a majority whose total hardness is spread evenly over the bins (many easy rows are
    dropped, the few hard ones kept); late members sample the bins evenly, which concentrates on
    the hard, informative rows near the boundary while never discarding the easy ones
    entirely (robust to noise, unlike pure hard-example mining). The prediction is the mean of
    the members' probabilities.

    Parameters
    ----------
    estimator : estimator object or None, default=None
        Base classifier with ``predict_proba``, cloned for each member. None:
        :class:`~sklearn_recsys.boosting.ImbalancedLGBMClassifier` with 50 trees of 15 leaves,
        ``reg_lambda=1`` and row / feature fractions 0.8 (which takes the interaction frame
        directly, with the id columns ``user_col`` / ``item_col``).
    n_estimators : int, default=10
        Number of members.
    k_bins : int, default=5
        Number of hardness bins.
    hardness : {"absolute", "squared", "cross_entropy"} or callable, default="absolute"
        Hardness of a majority row from ``p``, the ensemble's probability of the minority class:
        ``p``, ``p^2`` or ``-log(1 - p)``; a callable ``f(p) -> array`` for your own.
    random_state : int, RandomState instance or None, default=None
        Seeds the under-sampling and the members' own ``random_state``.
    user_col, item_col : str, int or None, default="user_id", "item_id"
        Id columns of ``X`` for the default estimator (see
        :class:`~sklearn_recsys.boosting.ImbalancedLGBMClassifier`); a given ``estimator``
        keeps its own.

    Attributes
    ----------
    estimators_ : list of estimators
        The fitted members.
    classes_ : ndarray of shape (2,)
        Class labels.
    minority_class_ : object
        The label of the minority class.
    alphas_ : ndarray of shape (n_estimators,)
        Self-paced factor of each round (NaN for the first, random round).
    sampled_hardness_ : ndarray of shape (n_estimators,)
        Mean hardness (under the ensemble of the previous members) of the majority rows each
        member was trained on; ``population_hardness_`` is that mean over all majority rows.
    population_hardness_ : ndarray of shape (n_estimators,)
        Mean hardness of all majority rows at each round.
    n_features_in_ : int
        Number of columns of ``X`` seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` is a DataFrame.

    See Also
    --------
    imblearn.ensemble.EasyEnsembleClassifier : random (not self-paced) under-sampling.

    Notes
    -----
    Binary targets only, as in the paper. The majority rows are predicted by every new member
    once (``n_estimators`` passes over the majority class in all).

    References
    ----------
    Z. Liu, W. Cao, Z. Gao, J. Bian, H. Chen, Y. Chang, T.-Y. Liu. "Self-paced Ensemble for
    Highly Imbalanced Massive Data Classification", ICDE 2020, pp. 841-852.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from sklearn_recsys.ensemble import SelfPacedEnsembleClassifier
    >>> X, y = make_classification(n_samples=2000, weights=[0.95], flip_y=0.02, random_state=0)
    >>> spe = SelfPacedEnsembleClassifier(DecisionTreeClassifier(max_depth=4), n_estimators=5,
    ...                                   random_state=0).fit(X, y)
    >>> spe.minority_class_
    np.int64(1)
    >>> spe.predict_proba(X[:3]).shape
    (3, 2)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict_proba"]), None],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "k_bins": [Interval(Integral, 1, None, closed="left")],
        "hardness": [StrOptions(set(_HARDNESS)), callable],
        "random_state": ["random_state"],
        "user_col": [str, Integral, None],
        "item_col": [str, Integral, None],
    }

    def __init__(
        self,
        estimator=None,
        n_estimators=10,
        *,
        k_bins=5,
        hardness="absolute",
        random_state=None,
        user_col="user_id",
        item_col="item_id",
    ):
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.k_bins = k_bins
        self.hardness = hardness
        self.random_state = random_state
        self.user_col = user_col
        self.item_col = item_col

    def _base_estimator(self):
        if self.estimator is not None:
            return self.estimator
        return small_lgbm(n_estimators=50, user_col=self.user_col, item_col=self.item_col)

    def _hardness(self, p):
        fn = _HARDNESS[self.hardness] if isinstance(self.hardness, str) else self.hardness
        h = np.asarray(fn(p), dtype=np.float64)
        if h.shape != p.shape:
            raise ValueError(
                f"hardness must return one value per row; got shape {h.shape} for {p.shape}."
            )
        return h

    def _minority_proba(self, est, X):
        proba = est.predict_proba(X)
        return proba[:, np.flatnonzero(est.classes_ == self.minority_class_)[0]]

    def _bin_sample(self, hardness, n_min, alpha, rng):
        """Indices (into the majority rows) drawn by self-paced under-sampling."""
        h_min, h_max = hardness.min(), hardness.max()
        if h_max == h_min:  # indistinguishable: random under-sampling
            return rng.choice(hardness.shape[0], size=n_min, replace=False)
        step = (h_max - h_min) / self.k_bins
        bins = np.minimum(((hardness - h_min) / step).astype(np.int64), self.k_bins - 1)
        counts = np.bincount(bins, minlength=self.k_bins)
        sums = np.bincount(bins, weights=hardness, minlength=self.k_bins)
        filled = counts > 0
        weights = np.zeros(self.k_bins)
        weights[filled] = 1.0 / (sums[filled] / counts[filled] + alpha)
        if not np.isfinite(alpha):
            weights[filled] = 1.0
        n_draw = np.minimum((n_min * weights / weights.sum()).astype(np.int64) + 1, counts)
        n_draw[~filled] = 0
        order = np.argsort(bins, kind="stable")
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        picked = [
            order[starts[b] + rng.choice(counts[b], size=n_draw[b], replace=False)]
            for b in np.flatnonzero(n_draw)
        ]
        return np.concatenate(picked)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Fit the ensemble.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Training data, passed to the members as it is (rows selected).
        y : array-like of shape (n_samples,)
            Binary labels.

        Returns
        -------
        self : SelfPacedEnsembleClassifier
        """
        if isinstance(X, pd.DataFrame):
            check_interactions(X)
            validate_data(self, X, skip_check_array=True, reset=True)
            y = np.asarray(y)
            check_consistent_length(X, y)
        else:
            X, y = validate_data(
                self, X, y, dtype=None, ensure_all_finite=False, accept_sparse=["csr", "csc"]
            )
        y_type = type_of_target(y, input_name="y", raise_unknown=True)
        if y_type != "binary":
            raise ValueError(
                f"Only binary classification is supported. The type of the target is {y_type}."
            )
        self.classes_, y_codes, counts = np.unique(y, return_inverse=True, return_counts=True)
        if self.classes_.shape[0] < 2:
            raise ValueError(
                f"y contains 1 class ({self.classes_[0]!r}); a classifier needs 2 classes."
            )
        minority = int(np.argmin(counts))
        self.minority_class_ = self.classes_[minority]
        rng = check_random_state(self.random_state)
        maj_idx = np.flatnonzero(y_codes != minority)
        min_idx = np.flatnonzero(y_codes == minority)
        X_maj = _safe_indexing(X, maj_idx)
        n_min = min_idx.shape[0]
        base = self._base_estimator()

        self.estimators_ = []
        alphas, sampled_h, pop_h = [], [], []
        p_maj = np.zeros(maj_idx.shape[0])
        for i in range(self.n_estimators):
            if i == 0:
                alpha = np.nan
                hardness = np.zeros(maj_idx.shape[0])
                pick = rng.choice(maj_idx.shape[0], size=n_min, replace=False)
            else:
                alpha = np.tan(np.pi * 0.5 * i / (self.n_estimators - 1))
                if i == self.n_estimators - 1:
                    alpha = np.inf
                hardness = self._hardness(p_maj)
                pick = self._bin_sample(hardness, n_min, alpha, rng)
            alphas.append(alpha)
            sampled_h.append(float(hardness[pick].mean()))
            pop_h.append(float(hardness.mean()))
            rows = np.concatenate([maj_idx[pick], min_idx])
            est = clone(base)
            _set_random_states(est, derive_seed(rng))
            est.fit(_safe_indexing(X, rows), y[rows])
            self.estimators_.append(est)
            p_maj += (self._minority_proba(est, X_maj) - p_maj) / (i + 1)  # running mean
        self.alphas_ = np.asarray(alphas)
        self.sampled_hardness_ = np.asarray(sampled_h)
        self.population_hardness_ = np.asarray(pop_h)
        return self

    def predict_proba(self, X):
        """Mean of the members' class probabilities.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, 2)
        """
        check_is_fitted(self)
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, skip_check_array=True, reset=False)
        else:
            X = validate_data(
                self,
                X,
                dtype=None,
                ensure_all_finite=False,
                accept_sparse=["csr", "csc"],
                reset=False,
            )
        proba = np.zeros((X.shape[0], 2))
        for est in self.estimators_:
            p = est.predict_proba(X)
            cols = np.searchsorted(self.classes_, est.classes_)
            proba[:, cols] += p
        return proba / len(self.estimators_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        base = get_tags(self._base_estimator()).input_tags  # the members read X as it is
        for name in ("allow_nan", "sparse", "categorical", "string"):
            setattr(tags.input_tags, name, getattr(base, name))
        return tags
