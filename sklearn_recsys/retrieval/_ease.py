"""EASE: the closed-form item-item model of Steck (2019)."""

from __future__ import annotations

import numbers

import numpy as np
import scipy.linalg
from sklearn.utils._param_validation import Interval

from ._base import BaseRetriever

__all__ = ["EASERecommender"]


class EASERecommender(BaseRetriever):
    """Embarrassingly shallow autoencoder (EASE, Steck 2019): a closed-form item-item model.

    Learns the item x item weights :math:`B` that reconstruct each user's interaction row from
    the other items, with a zero diagonal and an L2 penalty. The score of (user, item) is
    :math:`(X B)_{ui}`. One matrix inverse of size ``n_items``: fast up to a few 10k items
    (memory ``8 n_items^2`` bytes, twice).

    Parameters
    ----------
    l2 : float, default=300.0
        L2 penalty :math:`\\lambda` (the paper's ``lambda``; 300 suits MovieLens-100k).
    user_col, item_col : str or int, default="user_id", "item_id"
        Id columns of ``X`` (positions when ``X`` is an array).
    positive_only : bool, default=True
        When ``y`` is given, learn only from the rows with ``y > 0``.

    Attributes
    ----------
    coef_ : ndarray of shape (n_items, n_items)
        :math:`B`, zero diagonal; rows and columns follow ``item_index_``.
    user_index_, item_index_ : pandas.Index
        The known user and item ids, in matrix order.
    interactions_ : scipy.sparse.csr_matrix of shape (n_users, n_items)
        Training interactions (summed weights).
    item_popularity_ : ndarray of shape (n_items,)
        Share of the training interactions of each item (the cold-user scores).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when ``X`` has string column names.

    See Also
    --------
    ItemKNNRecommender : sparse item-item neighbourhoods.

    Notes
    -----
    With :math:`G = X^\\top X` and :math:`P = (G + \\lambda I)^{-1}`, the solution of
    :math:`\\min_B \\|X - XB\\|_F^2 + \\lambda \\|B\\|_F^2` s.t. :math:`\\mathrm{diag}(B) = 0` is
    :math:`B = I - P \\,\\mathrm{diag}(1 / \\mathrm{diag}(P))`.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_recsys.retrieval import EASERecommender
    >>> X = pd.DataFrame({"user_id": [1, 1, 2, 2, 3], "item_id": ["a", "b", "a", "b", "a"]})
    >>> ease = EASERecommender(l2=1.0).fit(X)
    >>> ease.predict(pd.DataFrame({"user_id": [3, 3], "item_id": ["a", "b"]})).round(3)
    array([0. , 0.5])
    """

    _parameter_constraints = {
        "l2": [Interval(numbers.Real, 0, None, closed="neither")],
        **BaseRetriever._common_constraints,
    }

    def __init__(self, l2=300.0, *, user_col="user_id", item_col="item_id", positive_only=True):
        self.l2 = l2
        self.user_col = user_col
        self.item_col = item_col
        self.positive_only = positive_only

    def _fit_matrix(self, R):
        G = (R.T @ R).toarray()
        G[np.diag_indices_from(G)] += self.l2
        P = scipy.linalg.inv(G, overwrite_a=True, check_finite=False)
        B = P / (-np.diag(P))
        B[np.diag_indices_from(B)] = 0.0
        self.coef_ = B

    def _user_scores(self, codes):
        return np.asarray(self.interactions_[codes] @ self.coef_)
