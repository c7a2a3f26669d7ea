"""What the implicit-feedback retrievers share: the interaction matrix, scoring of any rows.

A retriever is fitted on the interaction frame (DESIGN.md section 2): every row with
``y > 0`` (every row when ``y`` is None) is a positive (user, item) interaction, weighted by
``sample_weight``. Subclasses implement ``_fit_matrix(R)`` on the sparse user x item matrix and
``_user_scores(codes, R)``, the dense scores of known users over the known items. The base turns
that into ``predict`` on any (user, item) rows and into :meth:`BaseRetriever.score_matrix`, the
users x catalogue matrix that :func:`sklearn_recsys.recommend.recommend` and
:func:`~sklearn_recsys.recommend.evaluate_topk` use instead of building a frame per candidate.

Cold start: a user unseen in ``fit`` gets the items' training popularity as scores (the
popularity ranking); an item unseen in ``fit`` cannot be retrieved and scores ``-inf`` (in
:func:`~sklearn_recsys.recommend.recommend` that means "not a candidate").
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils.validation import (
    check_is_fitted,
)

from .._contract import (
    check_id_column,
    interaction_ids,
    plain_ids,
    positive_weights,
    sorted_id_index,
)
from ..utils import frame_input_tags

__all__ = ["BaseRetriever"]

#: largest dense block (rows x items) scored at once in predict / score_matrix
_BLOCK = 1 << 22


def _check_mask(exclude, shape):
    mask = np.asarray(exclude, dtype=bool)
    if mask.shape != shape:
        raise ValueError(
            f"exclude must be a boolean array of shape {shape} (users x items); "
            f"got shape {mask.shape}."
        )
    return mask


class BaseRetriever(BaseEstimator):
    """Base of the implicit-feedback retrievers (not public: subclass it).

    Subclasses declare ``user_col``, ``item_col`` and ``positive_only`` parameters (with
    ``_common_constraints``) and implement ``_fit_matrix(self, R)``, which sets the model's
    fitted attributes, and ``_user_scores(self, codes)``; :meth:`fit` is shared.
    """

    _common_constraints = {
        "user_col": [str, numbers.Integral],
        "item_col": [str, numbers.Integral],
        "positive_only": ["boolean"],
    }

    # ------------------------------------------------------------------ input
    def _ids(self, X, reset):
        _, (users, items) = interaction_ids(self, X, reset=reset)
        return users, items

    def _interactions(self, X, y, sample_weight):
        """Set the id indices and return the (n_users, n_items) CSR matrix of weights."""
        users, items = self._ids(X, reset=True)
        w = positive_weights(users, y, sample_weight, positive_only=self.positive_only)
        keep = w > 0
        if not keep.any():
            raise ValueError(
                "No positive interaction to learn from: y has one class (every y <= 0) or all "
                "the weights are 0. Pass positive_only=False to count every row."
            )
        users, items, w = users[keep], items[keep], w[keep]
        self.user_index_ = sorted_id_index(users)
        self.item_index_ = sorted_id_index(items)
        R = sp.csr_matrix(
            (w, (self.user_index_.get_indexer(users), self.item_index_.get_indexer(items))),
            shape=(len(self.user_index_), len(self.item_index_)),
        )
        R.sum_duplicates()
        counts = np.asarray(R.sum(axis=0)).ravel()
        self.item_popularity_ = counts / counts.sum()
        return R

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Fit the model on the interaction matrix of ``X``.

        The rows with ``y > 0`` (every row when ``y`` is None or ``positive_only=False``) are
        the positive (user, item) interactions; the model learns from the users x items matrix
        of their summed weights, :attr:`interactions_`.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            Interaction frame with ``user_col`` and ``item_col``.
        y : array-like of shape (n_samples,), default=None
            Label; with ``positive_only`` only rows with ``y > 0`` count.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each interaction: the entries of the interaction matrix (what each model
            makes of them is in its description).

        Returns
        -------
        self : object
            The fitted retriever.
        """
        R = self._interactions(X, y, sample_weight)
        self.interactions_ = R
        self._fit_matrix(R)
        return self

    def _fit_matrix(self, R):  # pragma: no cover - abstract
        raise NotImplementedError

    # ------------------------------------------------------------------ scoring
    def _user_scores(self, codes):  # pragma: no cover - abstract
        raise NotImplementedError

    def _known_scores(self, codes):
        """(len(codes), n_known_items) scores; code -1 (cold user) gets the popularity."""
        out = np.empty((len(codes), len(self.item_index_)))
        warm = codes >= 0
        if warm.any():
            out[warm] = self._user_scores(codes[warm])
        out[~warm] = self.item_popularity_
        return out

    def score_matrix(self, users, items=None, *, exclude=None):
        """Scores of every (user, item) pair, as a dense matrix.

        Parameters
        ----------
        users : array-like of shape (n_users,)
            User ids (cold users get the training popularity of the items).
        items : array-like of shape (n_items,) or None, default=None
            Item ids; None means the items seen in ``fit``. Items unseen in ``fit`` score
            ``-inf``.
        exclude : ndarray of bool of shape (n_users, n_items) or None, default=None
            Pairs that are not candidates: they score ``-inf``.

        Returns
        -------
        scores : ndarray of shape (n_users, n_items)
        """
        check_is_fitted(self)
        users = plain_ids(check_id_column(np.asarray(users), name="users")).to_numpy()
        ucodes = self.user_index_.get_indexer(users)
        if items is None:
            out = self._known_scores(ucodes)
        else:
            out = self._catalog_scores(ucodes, items)
        if exclude is not None:
            out[_check_mask(exclude, out.shape)] = -np.inf
        return out

    def _catalog_scores(self, ucodes, items):
        items = plain_ids(check_id_column(np.asarray(items), name="items")).to_numpy()
        icodes = self.item_index_.get_indexer(items)
        out = np.full((len(ucodes), len(items)), -np.inf)
        known = icodes >= 0
        step = max(1, _BLOCK // max(1, len(self.item_index_)))
        for s in range(0, len(ucodes), step):
            block = self._known_scores(ucodes[s : s + step])
            out[s : s + step, known] = block[:, icodes[known]]
        return out

    def predict(self, X):
        """Score of each (user, item) row (``-inf`` for items unseen in ``fit``).

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            Rows with ``user_col`` and ``item_col`` (other columns are ignored).

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        users, items = self._ids(X, reset=False)
        ucodes_all = self.user_index_.get_indexer(users)
        icodes = self.item_index_.get_indexer(items)
        # one dense row per distinct user (cold users share one row)
        uniq, row_of = np.unique(ucodes_all, return_inverse=True)
        out = np.full(len(users), -np.inf)
        step = max(1, _BLOCK // max(1, len(self.item_index_)))
        order = np.argsort(row_of, kind="stable")
        bounds = np.searchsorted(row_of[order], np.arange(0, len(uniq) + step, step))
        for b, s in enumerate(range(0, len(uniq), step)):
            block = self._known_scores(uniq[s : s + step])
            rows = order[bounds[b] : bounds[b + 1]]
            ok = icodes[rows] >= 0
            rows = rows[ok]
            out[rows] = block[row_of[rows] - s, icodes[rows]]
        return out

    def __sklearn_tags__(self):
        return frame_input_tags(super().__sklearn_tags__(), target_required=False)
