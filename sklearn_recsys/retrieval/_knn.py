"""Item-based k-nearest-neighbours on the interaction matrix (cosine with shrinkage)."""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import Interval

from ._base import BaseRetriever

__all__ = ["ItemKNNRecommender"]

_CHUNK = 2048  # item columns of the similarity computed at once


class ItemKNNRecommender(BaseRetriever):
    """Item-based collaborative filtering: score an item by its similarity to the user's items.

    The similarity of two items is the cosine of their user columns in the interaction matrix,
    shrunk towards 0 for items with few common users; each item keeps its ``n_neighbors`` most
    similar items. The score of (user, item) is the sum of the similarities between the item
    and the user's training items.

    Parameters
    ----------
    n_neighbors : int, default=100
        Neighbours kept per item.
    shrinkage : float, default=10.0
        Added to the cosine's denominator: :math:`s_{ij} = g_{ij} / (\\|x_i\\| \\|x_j\\| + h)`.
    user_col, item_col : str or int, default="user_id", "item_id"
        Id columns of ``X`` (positions when ``X`` is an array).
    positive_only : bool, default=True
        When ``y`` is given, learn only from the rows with ``y > 0``.

    Attributes
    ----------
    similarity_ : scipy.sparse.csr_matrix of shape (n_items, n_items)
        Column ``j`` holds the neighbours of item ``j``; zero diagonal.
    user_index_, item_index_ : pandas.Index
    interactions_ : scipy.sparse.csr_matrix of shape (n_users, n_items)
    item_popularity_ : ndarray of shape (n_items,)
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when ``X`` has string column names.

    See Also
    --------
    EASERecommender : the dense, learned item-item model.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_recsys.retrieval import ItemKNNRecommender
    >>> X = pd.DataFrame({"user_id": [1, 1, 2, 2, 3], "item_id": ["a", "b", "a", "b", "c"]})
    >>> knn = ItemKNNRecommender(shrinkage=0.0).fit(X)
    >>> knn.predict(pd.DataFrame({"user_id": [1, 1], "item_id": ["b", "c"]}))
    array([1., 0.])
    """

    _parameter_constraints = {
        "n_neighbors": [Interval(numbers.Integral, 1, None, closed="left")],
        "shrinkage": [Interval(numbers.Real, 0, None, closed="left")],
        **BaseRetriever._common_constraints,
    }

    def __init__(
        self,
        n_neighbors=100,
        shrinkage=10.0,
        *,
        user_col="user_id",
        item_col="item_id",
        positive_only=True,
    ):
        self.n_neighbors = n_neighbors
        self.shrinkage = shrinkage
        self.user_col = user_col
        self.item_col = item_col
        self.positive_only = positive_only

    def _fit_matrix(self, R):
        n = R.shape[1]
        Rc = R.tocsc()
        norms = np.sqrt(np.asarray(Rc.multiply(Rc).sum(axis=0)).ravel())
        k = min(self.n_neighbors, max(n - 1, 1))
        rows, cols, vals = [], [], []
        for c0 in range(0, n, _CHUNK):
            c1 = min(n, c0 + _CHUNK)
            g = (Rc.T @ Rc[:, c0:c1]).toarray()  # (n, chunk)
            s = g / (norms[:, None] * norms[None, c0:c1] + self.shrinkage + 1e-12)
            s[np.arange(c0, c1), np.arange(c1 - c0)] = 0.0
            top = (
                np.argpartition(-s, k - 1, axis=0)[:k]
                if k < n
                else np.tile(np.arange(n)[:, None], (1, c1 - c0))
            )
            v = np.take_along_axis(s, top, axis=0)
            nz = v > 0
            rows.append(top[nz])
            cols.append(np.broadcast_to(np.arange(c0, c1), top.shape)[nz])
            vals.append(v[nz])
        self.similarity_ = sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
        )

    def _user_scores(self, codes):
        return (self.interactions_[codes] @ self.similarity_).toarray()
