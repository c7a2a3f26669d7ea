"""Lambdarank whose query groups are a column of the interaction frame."""

from __future__ import annotations

from numbers import Integral

import lightgbm
import numpy as np
import pandas as pd
from sklearn.base import _fit_context
from sklearn.model_selection import GroupShuffleSplit
from sklearn.utils import check_array
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
from ._base import BaseLGBM, _is_position
from ._docs import LGBM_DIFFERENCES, LGBM_PARAMETERS, fill_doc


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


@fill_doc(lgbm_parameters=LGBM_PARAMETERS, lgbm_differences=LGBM_DIFFERENCES)
class GroupedLGBMRanker(BaseLGBM):
    """LightGBM lambdarank whose query groups come from a column of ``X``.

    LightGBM's ranker needs the rows sorted by query and the group sizes passed to ``fit``; this
    wrapper reads the query id from ``X[group_col]`` (the user by default, a query or session id
    for search), sorts the rows internally (stable, so the order inside a query is kept) and
    predicts one score per row in the caller's order. It therefore fits in a
    :class:`~sklearn.pipeline.Pipeline` and :class:`~sklearn.model_selection.GridSearchCV` with a
    group-aware splitter and ranking scorers that read the same column. Every other parameter is
    :class:`lightgbm.LGBMRanker`'s, with LightGBM's name, default and meaning: given the same
    rows and groups, it predicts what ``LGBMRanker`` predicts.

    Parameters
    ----------
    group_col : str, int or None, default="user_id"
        Column of ``X`` holding the query id (a name, or a position), the user column by
        default. It defines the queries and is not used as a feature (a constant within a query
        carries no ranking signal). None: all rows form one query.
    objective : str, callable or None, default=None
        LightGBM's ranking objective; None is ``"lambdarank"`` (``"rank_xendcg"`` is the other
        built-in one).
    class_weight : dict, "balanced" or None, default=None
        LightGBM's weights per relevance grade (rarely useful for ranking).
    eval_at : int, default=10
        Cut-off of the NDCG used for early stopping and by :meth:`score`.
    label_gain : list of float or None, default=None
        Gain of each relevance grade; None is LightGBM's ``2^i - 1`` for ``i = 0 .. 30``.
    {lgbm_parameters}

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
        Importance of each LightGBM feature (``group_col`` excluded).
    n_features_in_ : int
        Number of columns of ``X`` seen in ``fit`` (``group_col`` included).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` is a DataFrame.

    See Also
    --------
    lightgbm.LGBMRanker : the model underneath.

    Notes
    -----
    Differences from :class:`lightgbm.LGBMRanker`:

    | | LightGBM | here |
    |---|---|---|
    | queries | rows sorted by query, ``fit(group=sizes)`` | ``X[group_col]``, any row order |
    | ``eval_at`` | ``fit`` argument, default ``(1, 2, 3, 4, 5)`` | an int: early stopping |
    | ``score`` | none | NDCG@``eval_at`` |
    {lgbm_differences}

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
        "group_col": [str, Integral, None],
        "objective": [str, callable, None],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "eval_at": [Interval(Integral, 1, None, closed="left")],
        "label_gain": ["array-like", None],
    }

    def __init__(
        self,
        group_col="user_id",
        *,
        objective=None,
        class_weight=None,
        eval_at=10,
        label_gain=None,
        **kwargs,
    ):
        self.group_col = group_col
        self.objective = objective
        self.class_weight = class_weight
        self.eval_at = eval_at
        self.label_gain = label_gain
        super().__init__(**kwargs)

    def _groups(self, X):
        """Integer query codes of the rows of ``X`` (order of first appearance)."""
        if self.group_col is None:
            return np.zeros(_num_samples(X), dtype=np.int64), 1
        if not isinstance(X, pd.DataFrame):
            if not _is_position(self.group_col):
                raise TypeError(
                    f"group_col={self.group_col!r} needs X to be a DataFrame with that column; "
                    f"got {type(X).__name__} (give a position, or use group_col=None to treat "
                    "all rows as one query)."
                )
            X = pd.DataFrame(check_array(X, dtype=None, ensure_all_finite=False))
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
        params = self._lgbm_params()
        X = self._validate_fit(X, positions=(self.group_col,))
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

        val_idx = None
        if self.early_stopping_rounds is not None:
            if self.n_groups_ < 2:
                raise ValueError(
                    "early_stopping_rounds needs at least 2 queries to hold some out; "
                    f"X has {self.n_groups_}."
                )
            split = GroupShuffleSplit(
                1, test_size=self.validation_fraction, random_state=params["random_state"]
            )
            _, val_idx = next(split.split(Xe, y, groups=codes))
        if gains is not None:
            params["label_gain"] = list(gains)
        model = lightgbm.LGBMRanker(
            objective=self.objective, class_weight=self.class_weight, **params
        )
        self._fit_lgbm(
            model,
            Xe,
            y,
            sample_weight=sample_weight,
            categorical=categorical,
            val_idx=val_idx,
            groups=codes,
            extra_fit={"eval_at": [self.eval_at]},
        )
        return self

    def _features(self, X):
        if self.group_col is not None and isinstance(X, pd.DataFrame) and not self._from_array:
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
        return ndcg_at_k(y, score, groups=codes, k=self.eval_at, gain="exponential", ties="stable")
