"""Lambdarank whose query groups are a column of the interaction frame."""

from __future__ import annotations

from numbers import Integral

import lightgbm
import numpy as np
import pandas as pd
from sklearn.base import _fit_context
from sklearn.model_selection import GroupShuffleSplit
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    _num_samples,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
)

from .._contract import check_columns, check_interactions, group_codes
from ..metrics import ndcg_at_k
from ._base import BaseLGBM


def _check_relevance(y, max_label):
    """Graded relevance labels: non-negative whole numbers up to ``max_label``."""
    y = column_or_1d(y, warn=True)
    try:
        yf = y.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            "y must hold graded relevance labels (non-negative integers, 0 = not relevant); "
            f"got dtype {y.dtype}."
        ) from None
    bad = ~np.isfinite(yf) | (yf < 0) | (yf != np.round(yf)) | (yf > max_label)
    if bad.any():
        raise ValueError(
            "y must hold graded relevance labels: integers in [0, "
            f"{max_label}] (0 = not relevant); got {y[bad][0]!r}."
        )
    return yf.astype(np.int64)


class GroupedLGBMRanker(BaseLGBM):
    """LightGBM lambdarank whose query groups come from a column of ``X``.

    LightGBM's ranker needs the rows sorted by query and the group sizes passed to ``fit``; this
    wrapper reads the query id from ``X[group_col]`` (the user by default, a query or session id
    for search), sorts the rows internally (stable, so the order inside a query is kept) and
    predicts one score per row in the caller's order. It therefore fits in a
    :class:`~sklearn.pipeline.Pipeline` and :class:`~sklearn.model_selection.GridSearchCV` with a
    group-aware splitter and ranking scorers that read the same column.

    Parameters
    ----------
    group_col : str or None, default="user_id"
        Column of ``X`` holding the query id. It defines the queries and is not used as a
        feature (a constant within a query carries no ranking signal). None: all rows form one
        query (for arrays).
    objective : {"lambdarank", "rank_xendcg"}, default="lambdarank"
        LightGBM ranking objective.
    eval_at : int, default=10
        Cut-off of the NDCG used for early stopping and by :meth:`score`.
    label_gain : list of float or None, default=None
        Gain of each relevance grade; None is LightGBM's ``2^i - 1`` for ``i = 0 .. 30``.
    n_estimators : int, default=200
        Maximum number of boosting rounds (fewer with early stopping).
    learning_rate : float, default=0.05
        Shrinkage of every tree.
    num_leaves : int, default=31
        Maximum number of leaves per tree.
    max_depth : int, default=-1
        Maximum tree depth; -1 for no limit.
    min_child_samples : int, default=20
        Minimum number of rows in a leaf.
    min_child_weight : float, default=1e-3
        Minimum sum of Hessians in a leaf.
    min_split_gain : float, default=0.0
        Minimum loss reduction to make a split.
    reg_alpha : float, default=0.0
        L1 penalty on leaf values.
    reg_lambda : float, default=1.0
        L2 penalty on leaf values.
    subsample : float, default=0.8
        Fraction of rows drawn for each tree.
    subsample_freq : int, default=1
        Draw a new row sample every ``subsample_freq`` trees; 0 disables row sampling.
    colsample_bytree : float, default=0.8
        Fraction of features drawn for each tree.
    categorical_features : "auto", list or None, default="auto"
        Columns given to LightGBM as categorical features (``"auto"``: ``user_id`` / ``item_id``
        when present and every ``category`` / object / string column, ``group_col`` excluded).
    early_stopping_rounds : int or None, default=None
        If set, hold out a ``validation_fraction`` of the queries (whole queries) and stop when
        their NDCG@``eval_at`` has not improved for this many rounds.
    validation_fraction : float, default=0.1
        Fraction of queries held out for early stopping.
    lgbm_params : dict or None, default=None
        Further LightGBM parameters (e.g. ``{"lambdarank_truncation_level": 20}``).
    n_jobs : int or None, default=None
        LightGBM threads; None uses LightGBM's default.
    random_state : int, RandomState instance or None, default=None
        Seeds row / feature sampling and the validation split.
    verbose : int, default=0
        LightGBM verbosity; 0 keeps LightGBM silent.

    Attributes
    ----------
    estimator_ : lightgbm.LGBMRanker
        The fitted LightGBM ranker.
    booster_ : lightgbm.Booster
        Its booster.
    n_groups_ : int
        Number of queries seen in ``fit``.
    n_estimators_ : int
        Number of boosting rounds kept.
    categorical_features_ : list
        Columns passed to LightGBM as categorical.
    feature_importances_ : ndarray
        Split counts per LightGBM feature (``group_col`` excluded).
    n_features_in_ : int
        Number of columns of ``X`` seen in ``fit`` (``group_col`` included).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` is a DataFrame.

    See Also
    --------
    lightgbm.LGBMRanker : the model underneath.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_recsys.datasets import make_interactions
    >>> from sklearn_recsys.boosting import GroupedLGBMRanker
    >>> data = make_interactions(100, 80, 3000, random_state=0)
    >>> X = data.interactions.drop(columns="purchase")
    >>> y = data.interactions["purchase"]
    >>> ranker = GroupedLGBMRanker(n_estimators=20, n_jobs=1, random_state=0).fit(X, y)
    >>> ranker.n_groups_ == X["user_id"].nunique()
    True
    >>> scores = ranker.predict(X)
    >>> bool(np.allclose(ranker.predict(X.iloc[::-1]), scores[::-1]))
    True
    >>> 0.0 <= ranker.score(X, y) <= 1.0
    True
    """

    _parameter_constraints: dict = {
        **BaseLGBM._parameter_constraints,
        "group_col": [str, None],
        "objective": [StrOptions({"lambdarank", "rank_xendcg"})],
        "eval_at": [Interval(Integral, 1, None, closed="left")],
        "label_gain": ["array-like", None],
    }

    def __init__(
        self,
        group_col="user_id",
        *,
        objective="lambdarank",
        eval_at=10,
        label_gain=None,
        n_estimators=200,
        learning_rate=0.05,
        num_leaves=31,
        max_depth=-1,
        min_child_samples=20,
        min_child_weight=1e-3,
        min_split_gain=0.0,
        reg_alpha=0.0,
        reg_lambda=1.0,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        categorical_features="auto",
        early_stopping_rounds=None,
        validation_fraction=0.1,
        lgbm_params=None,
        n_jobs=None,
        random_state=None,
        verbose=0,
    ):
        self.group_col = group_col
        self.objective = objective
        self.eval_at = eval_at
        self.label_gain = label_gain
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.max_depth = max_depth
        self.min_child_samples = min_child_samples
        self.min_child_weight = min_child_weight
        self.min_split_gain = min_split_gain
        self.reg_alpha = reg_alpha
        self.reg_lambda = reg_lambda
        self.subsample = subsample
        self.subsample_freq = subsample_freq
        self.colsample_bytree = colsample_bytree
        self.categorical_features = categorical_features
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.lgbm_params = lgbm_params
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _groups(self, X):
        """Integer query codes of the rows of ``X`` (order of first appearance)."""
        if self.group_col is None:
            return np.zeros(_num_samples(X), dtype=np.int64), 1
        if not isinstance(X, pd.DataFrame):
            raise TypeError(
                f"group_col={self.group_col!r} needs X to be a DataFrame with that column; got "
                f"{type(X).__name__} (use group_col=None to treat all rows as one query)."
            )
        check_interactions(X)
        check_columns(X, group_col=self.group_col)
        return group_codes(X[self.group_col], name=f"group_col={self.group_col!r}")

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the ranker.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            Interaction frame with the ``group_col`` column (any row order).
        y : array-like of shape (n_samples,)
            Graded relevance: non-negative integers (0 = not relevant).
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.

        Returns
        -------
        self : GroupedLGBMRanker
        """
        codes, self.n_groups_ = self._groups(X)
        exclude = () if self.group_col is None else (self.group_col,)
        gains = self.label_gain
        max_label = 30 if gains is None else len(gains) - 1
        y = _check_relevance(y, max_label)
        check_consistent_length(codes, y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, y, dtype=np.float64)

        # rows sorted by query (stable: the order inside a query is kept), encoded in that order
        order = np.argsort(codes, kind="stable")
        Xe, categorical = self._encode_fit(X, exclude=exclude, rows=order)
        codes, y = codes[order], y[order]
        if sample_weight is not None:
            sample_weight = sample_weight[order]

        seed = self._seed()
        val_idx = None
        if self.early_stopping_rounds is not None:
            if self.n_groups_ < 2:
                raise ValueError(
                    "early_stopping_rounds needs at least 2 queries to hold some out; "
                    f"X has {self.n_groups_}."
                )
            split = GroupShuffleSplit(1, test_size=self.validation_fraction, random_state=seed)
            _, val_idx = next(split.split(Xe, y, groups=codes))
        kwargs = self._lgbm_kwargs(seed)
        kwargs["objective"] = self.objective
        if gains is not None:
            kwargs["label_gain"] = list(gains)
        self._fit_lgbm(
            lightgbm.LGBMRanker(**kwargs), Xe, y, sample_weight=sample_weight,
            categorical=categorical, val_idx=val_idx, eval_weight=sample_weight, groups=codes,
            extra_fit={"eval_at": [self.eval_at]},
        )
        return self

    def _features(self, X):
        if self.group_col is not None and isinstance(X, pd.DataFrame):
            check_columns(X, group_col=self.group_col)
        return self._encode(X)

    def predict(self, X):
        """Ranking score of every row, in the order of ``X`` (higher ranks first).

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            Interaction frame (any row order; queries need not be contiguous).

        Returns
        -------
        score : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self.booster_.predict(self._features(X), num_iteration=self.n_estimators_)

    def score(self, X, y, sample_weight=None):
        """Mean NDCG@``eval_at`` over the queries of ``X`` with at least one relevant row.

        Computed by :func:`sklearn_recsys.metrics.ndcg_at_k` with exponential gains
        ``2^rel - 1`` (LightGBM's default label gain) and discounts ``1 / log2(rank + 1)``;
        queries without a relevant row are left out of the mean (NaN if none has one).

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Graded relevance.
        sample_weight : None
            Not supported (kept for the scikit-learn signature).

        Returns
        -------
        score : float
        """
        if sample_weight is not None:
            raise ValueError("sample_weight is not supported by GroupedLGBMRanker.score.")
        score = self.predict(X)
        codes, _ = self._groups(X)
        y = _check_relevance(y, np.inf)
        check_consistent_length(score, y)
        return ndcg_at_k(y, score, groups=codes, k=self.eval_at, gain="exponential",
                         ties="stable")
