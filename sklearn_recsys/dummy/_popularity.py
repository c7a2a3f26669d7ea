"""The popularity baseline: every user gets the most popular training items."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils.validation import check_is_fitted

from .._contract import interaction_ids, positive_weights
from ..utils import frame_input_tags

__all__ = ["PopularityRecommender"]


class PopularityRecommender(BaseEstimator):
    """Score every (user, item) row by the item's share of the training interactions.

    The non-personalised floor of top-k recommendation: the same ranking for every user, the
    most popular items first. Items never seen in training score 0.

    Parameters
    ----------
    item_col : str or int, default="item_id"
        Item column of ``X``: a column name of a DataFrame, or a position when ``X`` is an
        array.
    positive_only : bool, default=True
        When ``y`` is given, count only the rows with ``y > 0`` (e.g. purchases, not views).
        Without ``y`` every row counts.

    Attributes
    ----------
    item_popularity_ : pandas.Series
        Item id -> share of the (weighted, positive) training interactions; sums to 1.
    n_features_in_ : int
        Number of columns of the training ``X``.
    feature_names_in_ : ndarray of str
        Defined when ``X`` has string column names.

    See Also
    --------
    sklearn.dummy.DummyClassifier : the same idea for classification.
    sklearn_recsys.recommend.recommend : top-k lists from any scorer, this one included.
    sklearn_recsys.recommend.evaluate_topk : the full-ranking evaluation it is the floor of.

    Notes
    -----
    Only ``item_col`` is read. A DataFrame to score may therefore have other columns than the
    training frame, e.g. only the ids of the candidate rows built by
    :func:`~sklearn_recsys.recommend.recommend`. An array has no column names: its item column
    is found by position, which means the same column only in the training layout, so
    ``predict`` then checks that the array has the ``n_features_in_`` columns of ``fit``.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_recsys.dummy import PopularityRecommender
    >>> X = pd.DataFrame({"user_id": [1, 1, 2, 3], "item_id": ["a", "b", "a", "a"]})
    >>> pop = PopularityRecommender().fit(X)
    >>> pop.predict(pd.DataFrame({"item_id": ["a", "b", "zz"]}))
    array([0.75, 0.25, 0.  ])
    """

    _parameter_constraints = {
        "item_col": [str, numbers.Integral],
        "positive_only": ["boolean"],
    }

    def __init__(self, item_col="item_id", positive_only=True):
        self.item_col = item_col
        self.positive_only = positive_only

    def _items(self, X, reset):
        """The validated item ids of ``X`` (categoricals as their values)."""
        return interaction_ids(self, X, reset=reset, cols=("item_col",))[1][0]

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Count the training interactions of every item.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Interaction frame with ``item_col``.
        y : array-like of shape (n_samples,), default=None
            Label; with ``positive_only`` only rows with ``y > 0`` count.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row.

        Returns
        -------
        self : PopularityRecommender
            The fitted baseline.
        """
        items = self._items(X, reset=True)
        w = positive_weights(items, y, sample_weight, positive_only=self.positive_only)
        total = w.sum()
        if total <= 0:
            raise ValueError(
                "No positive interaction to count: y has one class (every y <= 0) or all the "
                "weights are 0, so the popularity is undefined. Pass positive_only=False to "
                "count every row."
            )
        counts = pd.Series(w, index=items).groupby(level=0, sort=True).sum()
        self.item_popularity_ = counts / total
        return self

    def predict(self, X):
        """Popularity of each row's item (0 for items unseen in training).

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Rows to score: a DataFrame with ``item_col`` (other columns are not read), or an
            array in the training layout.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            The item's share of the training interactions.
        """
        check_is_fitted(self)
        items = self._items(X, reset=False)
        pos = self.item_popularity_.index.get_indexer(items)
        return np.where(pos >= 0, self.item_popularity_.to_numpy()[np.maximum(pos, 0)], 0.0)

    def __sklearn_tags__(self):
        return frame_input_tags(super().__sklearn_tags__(), target_required=False)
