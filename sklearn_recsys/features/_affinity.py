"""Content affinity: how close a candidate item's content vector is to what the user liked.

The features that let a gradient-boosted model rank an item nobody has interacted with yet: the
cosine between the item's vector (e.g. the text embedding of :class:`PretrainedTextEncoder`) and
the user's profile, and the distance to the nearest item the user liked.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._contract import (
    IdIndexer,
    check_columns,
    check_id_column,
    check_interactions,
    resolve_id_columns,
)
from ..utils import frame_input_tags
from ._text import _AppendColumnsMixin, _numeric_labels

__all__ = ["ContentAffinity"]

_OUTPUTS = ("affinity", "nearest_distance", "n_liked", "neighbor_rate")


def _unit_rows(V):
    """Rows scaled to unit norm; zero rows stay zero. Returns (unit, has_norm)."""
    norms = np.linalg.norm(V, axis=1)
    ok = norms > 0
    unit = np.zeros_like(V)
    unit[ok] = V[ok] / norms[ok, None]
    return unit, ok


def _max_similarity(
    row_users, row_vecs, row_folds, liked_users, liked_vecs, liked_folds, block=1 << 22
):
    """For each row, the largest cosine with the liked vectors of its user (NaN if none).

    Rows and liked vectors are unit-norm; with folds, a liked vector of the row's own fold is
    left out (out-of-fold). One matrix product per user, never a loop over rows.
    """
    out = np.full(len(row_users), np.nan)
    r_order = np.argsort(row_users, kind="stable")
    l_order = np.argsort(liked_users, kind="stable")
    r_sorted, l_sorted = row_users[r_order], liked_users[l_order]
    users = np.intersect1d(r_sorted, l_sorted)
    r_lo, r_hi = np.searchsorted(r_sorted, users), np.searchsorted(r_sorted, users, "right")
    l_lo, l_hi = np.searchsorted(l_sorted, users), np.searchsorted(l_sorted, users, "right")
    for a, b, c, d in zip(r_lo, r_hi, l_lo, l_hi):
        L = liked_vecs[l_order[c:d]]
        lf = None if liked_folds is None else liked_folds[l_order[c:d]]
        step = max(1, block // max(1, d - c))
        for s in range(a, b, step):  # bounded memory for heavy users
            rows = r_order[s : min(b, s + step)]
            sims = row_vecs[rows] @ L.T
            if lf is not None:
                sims[row_folds[rows][:, None] == lf[None, :]] = -np.inf
            best = sims.max(axis=1)
            out[rows] = np.where(np.isfinite(best), best, np.nan)
    return out


class ContentAffinity(_AppendColumnsMixin, TransformerMixin, BaseEstimator):
    """Cosine between a candidate item's content vector and the user's liked items.

    For each row (user ``u``, item ``i`` with content vector ``v_i``, read from the
    ``vector_cols`` of ``X``) four columns are appended:

    - ``{prefix}affinity``: ``cos(v_i, p_u)``, where the profile ``p_u`` is the mean of the unit
      vectors of the items in ``u``'s positive training rows (``y >= positive_threshold``);
    - ``{prefix}nearest_distance``: ``1 - max_j cos(v_i, v_j)`` over those liked items ``j``;
    - ``{prefix}n_liked``: the number of positive rows behind the profile;
    - ``{prefix}neighbor_rate``: the smoothed positive rate of the ``n_neighbors`` training
      items whose vectors are closest to ``v_i`` (the item itself left out): what the content
      says about an item's appeal when its own rate is unknown (a cold item).

    :meth:`fit_transform` computes them out-of-fold (each training row sees a profile built
    from the positives of the other ``cv`` folds, so its own label never leaks into its
    features), like the target rates of the interaction featurizer; :meth:`transform` uses the
    profile of all training positives. Users without a liked item, unknown users and rows whose
    vector is zero (an item without text) have no affinity: see ``missing``.

    Parameters
    ----------
    vector_cols : str or list of str, default="text_"
        The vector columns of ``X``: a list of names, or a prefix ``p`` selecting the columns
        named ``p0, p1, ...`` (the output of :class:`PretrainedTextEncoder`).
    user_col : str, default="user_id"
        User id column.
    item_col : str, default="item_id"
        Item id column (checked to be present and valid; the vectors come from the rows).
    positive_threshold : float, default=1
        A row is a positive (a "liked" item) when ``y >= positive_threshold``; e.g. 4 for
        ratings, 1 for a 0/1 label.
    cv : int, default=5
        Number of folds of the out-of-fold :meth:`fit_transform`.
    random_state : int, RandomState instance or None, default=None
        Seed of the random fold assignment.
    prefix : str, default="content_"
        Prefix of the output column names.
    missing : {"neutral", "nan"}, default="neutral"
        Value of the features when there is no profile or no vector: ``"neutral"`` gives
        affinity 0 and distance 1 (those of an orthogonal profile; ``{prefix}n_liked`` is 0 or
        the vector is zero, so a model can still tell them apart), which later steps that
        refuse NaN (such as ``InteractionFeaturizer``) accept; ``"nan"`` gives NaN, for models
        that handle missing values (LightGBM). The neighbour rate falls back to the training
        positive rate (``"neutral"``) or NaN.
    n_neighbors : int, default=20
        Number of nearest items behind ``{prefix}neighbor_rate``.

    Attributes
    ----------
    users_ : sklearn_recsys._contract.IdIndexer
        Users with at least one liked item (index ``0`` is the unknown user).
    profiles_ : ndarray of shape (n_users + 1, n_dims)
        Mean unit vector of each user's liked items (row 0: zeros).
    n_liked_ : ndarray of shape (n_users + 1,)
        Positive rows behind each profile.
    liked_vectors_ : ndarray of shape (n_positives, n_dims)
        Unit vectors of the liked items, for the nearest-item distance.
    liked_users_ : ndarray of shape (n_positives,)
        User index of each row of ``liked_vectors_``.
    item_ids_ : pandas.Index
        Training items with a non-zero vector.
    item_vectors_ : ndarray of shape (n_items, n_dims)
        Their unit vectors.
    item_positives_, item_counts_ : ndarray of shape (n_items,)
        Their positive and total training rows.
    prior_ : float
        Training positive rate.
    vector_cols_ : list of str
        The vector columns used.
    n_features_in_ : int
        Number of columns of ``X`` seen in :meth:`fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Columns of ``X`` seen in :meth:`fit`.

    See Also
    --------
    PretrainedTextEncoder : the item text vectors this transformer reads.

    Notes
    -----
    With unit vectors ``\\hat v = v / \\|v\\|`` and ``L_u`` the liked rows of user ``u``:
    ``p_u = \\frac{1}{|L_u|} \\sum_{j \\in L_u} \\hat v_j``, affinity
    ``= \\hat v_i \\cdot p_u / \\|p_u\\|`` and nearest distance
    ``= 1 - \\max_{j \\in L_u} \\hat v_i \\cdot \\hat v_j``, in ``[-1, 1]`` and ``[0, 2]``.
    With ``N_i`` the ``n_neighbors`` training items ``j != i`` of largest cosine
    ``s_{ij}``, ``w_{ij} = \\max(s_{ij}, 0)``, ``P_j`` / ``C_j`` the positive / total rows of
    ``j`` and ``\\pi`` the training positive rate, the neighbour rate is
    ``(\\pi + \\sum_{j \\in N_i} w_{ij} P_j) / (1 + \\sum_{j \\in N_i} w_{ij} C_j)``. It never
    reads the row's own item, so it needs no out-of-fold scheme.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_recsys.features._affinity import ContentAffinity
    >>> X = pd.DataFrame({"user_id": [1, 1, 1, 2], "item_id": [10, 11, 12, 10],
    ...                   "text_0": [1.0, 0.0, 0.8, 1.0], "text_1": [0.0, 1.0, 0.6, 0.0]})
    >>> y = [1, 0, 0, 0]
    >>> ca = ContentAffinity(missing="nan").fit(X, y)
    >>> new = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [13, 14, 13],
    ...                     "text_0": [0.6, 0.0, 0.6], "text_1": [0.8, 1.0, 0.8]})
    >>> ca.transform(new)[["content_affinity", "content_nearest_distance"]].round(2)
       content_affinity  content_nearest_distance
    0               0.6                       0.4
    1               0.0                       1.0
    2               NaN                       NaN
    """

    _parameter_constraints = {
        "vector_cols": [str, list],
        "user_col": [str],
        "item_col": [str],
        "positive_threshold": [Real],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
        "prefix": [str],
        "missing": [StrOptions({"neutral", "nan"})],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        vector_cols="text_",
        *,
        user_col="user_id",
        item_col="item_id",
        positive_threshold=1,
        cv=5,
        random_state=None,
        prefix="content_",
        missing="neutral",
        n_neighbors=20,
    ):
        self.vector_cols = vector_cols
        self.user_col = user_col
        self.item_col = item_col
        self.positive_threshold = positive_threshold
        self.cv = cv
        self.random_state = random_state
        self.prefix = prefix
        self.missing = missing
        self.n_neighbors = n_neighbors

    # ------------------------------------------------------------------ helpers
    def _resolve_vector_cols(self, X):
        if isinstance(self.vector_cols, str):
            p = self.vector_cols
            cols = [
                c
                for c in X.columns
                if isinstance(c, str) and c.startswith(p) and c[len(p) :].isdigit()
            ]
            cols.sort(key=lambda c: int(c[len(p) :]))
            if not cols:
                raise ValueError(
                    f"vector_cols={p!r} selects no column of X (expected columns named "
                    f"{p}0, {p}1, ...); columns are {list(map(str, X.columns))[:12]}."
                )
            return cols
        cols = list(self.vector_cols)
        if not cols:
            raise ValueError("vector_cols must name at least one column; got [].")
        check_columns(X, **{f"vector_cols[{k}]": c for k, c in enumerate(cols)})
        return cols

    def _vectors(self, X, cols):
        try:
            V = X[cols].to_numpy(dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"vector_cols={self.vector_cols!r} must be numeric columns.") from exc
        if not np.isfinite(V).all():
            raise ValueError(
                f"vector_cols={self.vector_cols!r} hold NaN or infinite values; "
                "expected finite vectors (a zero vector marks a missing one)."
            )
        return V

    def _check_X(self, X, reset):
        check_interactions(X)
        validate_data(self, X, skip_check_array=True, reset=reset)
        ids = resolve_id_columns(X, [("user_col", self.user_col), ("item_col", self.item_col)])
        return ids[self.user_col]

    def _new_columns(self):
        check_is_fitted(self, "profiles_")
        return [f"{self.prefix}{name}" for name in _OUTPUTS]

    def _check_y(self, X, y):
        y = _numeric_labels(
            y,
            len(X),
            owner="ContentAffinity",
            purpose="the labels that say which items a user liked",
        )
        return y >= self.positive_threshold

    def _output(self, X, affinity, distance, n_liked, unit, ok):
        rate = self._neighbor_rate(X, unit, ok)
        if self.missing == "neutral":
            affinity = np.where(np.isnan(affinity), 0.0, affinity)
            distance = np.where(np.isnan(distance), 1.0, distance)
            rate = np.where(np.isnan(rate), self.prior_, rate)
        values = (affinity, distance, n_liked.astype(np.int64), rate)
        names = self._check_new_columns(X)
        out = pd.DataFrame(dict(zip(names, values)), index=X.index)
        return pd.concat([X, out], axis=1)

    # ------------------------------------------------------------------ API
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Build each user's profile from the positive rows.

        Parameters
        ----------
        X : pandas.DataFrame
            Interactions with ``user_col``, ``item_col`` and the vector columns.
        y : array-like of shape (n_samples,)
            Labels; rows with ``y >= positive_threshold`` are the liked items.

        Returns
        -------
        self : ContentAffinity
        """
        self._fit(X, y)
        return self

    def _fit(self, X, y):
        users = self._check_X(X, reset=True)
        pos = self._check_y(X, y)
        self.vector_cols_ = self._resolve_vector_cols(X)
        unit, ok = _unit_rows(self._vectors(X, self.vector_cols_))
        liked = pos & ok
        self.users_ = IdIndexer(name=f"user_col={self.user_col!r}")
        self.users_.fit(users[liked])  # may be empty: then every user is unknown
        u = self.users_.transform(users[liked])
        n_users = self.users_.n_indices_
        d = unit.shape[1]
        sums = np.zeros((n_users, d))
        np.add.at(sums, u, unit[liked])
        self.n_liked_ = np.bincount(u, minlength=n_users)
        self.profiles_ = np.divide(sums, np.maximum(self.n_liked_, 1)[:, None])
        self.liked_vectors_ = unit[liked]
        self.liked_users_ = u
        # item table for the neighbour rate: one unit vector, positives and rows per item
        self.prior_ = float(pos.mean())
        codes, ids = self._item_codes(X, ok)
        first = np.unique(codes, return_index=True)[1]
        self.item_ids_ = ids
        self.item_vectors_ = unit[ok][first]
        self.item_positives_ = np.bincount(codes, weights=pos[ok], minlength=len(ids))
        self.item_counts_ = np.bincount(codes, minlength=len(ids)).astype(float)
        return users, unit, ok, liked, u, sums

    def _item_codes(self, X, ok):
        items = check_id_column(X[self.item_col], name=f"item_col={self.item_col!r}")[ok]
        if isinstance(items.dtype, pd.CategoricalDtype):
            items = items.astype(object)
        codes, ids = pd.factorize(items, sort=False)
        return codes, pd.Index(ids)

    def _neighbor_rate(self, X, unit, ok, block=1 << 22):
        """Smoothed positive rate of each row item's ``n_neighbors`` nearest other items."""
        rate = np.full(len(X), np.nan)
        m = len(self.item_ids_)
        if m == 0 or not ok.any():
            return rate
        codes, ids = self._item_codes(X, ok)
        first = np.unique(codes, return_index=True)[1]
        queries = unit[ok][first]
        own = self.item_ids_.get_indexer(ids.to_numpy())  # the item itself is never a neighbour
        k = min(self.n_neighbors, m)
        out = np.empty(len(ids))
        step = max(1, block // m)
        for s in range(0, len(ids), step):
            e = min(len(ids), s + step)
            sims = queries[s:e] @ self.item_vectors_.T
            mine = own[s:e] >= 0
            sims[np.flatnonzero(mine), own[s:e][mine]] = -np.inf
            idx = (
                np.argpartition(-sims, k - 1, axis=1)[:, :k]
                if k < m
                else np.broadcast_to(np.arange(m), (e - s, m))
            )
            w = np.clip(np.take_along_axis(sims, idx, axis=1), 0, None)
            num = (w * self.item_positives_[idx]).sum(axis=1) + self.prior_
            den = (w * self.item_counts_[idx]).sum(axis=1) + 1.0
            out[s:e] = num / den
        rate[ok] = out[codes]
        return rate

    def _features(self, u_rows, unit_rows, ok_rows, profiles, n_liked, max_sim):
        norms = np.linalg.norm(profiles, axis=1)
        valid = ok_rows & (n_liked > 0) & (norms > 0)
        affinity = np.full(len(u_rows), np.nan)
        affinity[valid] = np.einsum("ij,ij->i", unit_rows[valid], profiles[valid]) / norms[valid]
        distance = np.where(valid, 1.0 - max_sim, np.nan)
        return np.clip(affinity, -1, 1), np.clip(distance, 0, 2)

    def transform(self, X):
        """Append the affinity, nearest distance, profile size and neighbour rate to ``X``.

        Parameters
        ----------
        X : pandas.DataFrame
            Interactions with ``user_col``, ``item_col`` and the vector columns.

        Returns
        -------
        Xt : pandas.DataFrame of shape (n_samples, n_features_in_ + 4)
        """
        check_is_fitted(self, "profiles_")
        users = self._check_X(X, reset=False)
        unit, ok = _unit_rows(self._vectors(X, self.vector_cols_))
        u = self.users_.transform(users)
        max_sim = _max_similarity(u, unit, None, self.liked_users_, self.liked_vectors_, None)
        n_liked = self.n_liked_[u]
        affinity, distance = self._features(u, unit, ok, self.profiles_[u], n_liked, max_sim)
        return self._output(X, affinity, distance, n_liked, unit, ok)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Fit on all rows, and return the out-of-fold features of the training rows.

        Parameters
        ----------
        X : pandas.DataFrame
            Interactions with ``user_col``, ``item_col`` and the vector columns.
        y : array-like of shape (n_samples,)
            Labels.

        Returns
        -------
        Xt : pandas.DataFrame of shape (n_samples, n_features_in_ + 4)
            The row's own fold never contributes to its features.
        """
        users, unit, ok, liked, u_liked, sums = self._fit(X, y)
        rng = check_random_state(self.random_state)
        folds = rng.permutation(len(X)) % self.cv
        u = self.users_.transform(users)
        liked_folds = folds[liked]
        max_sim = _max_similarity(u, unit, folds, u_liked, self.liked_vectors_, liked_folds)
        affinity = np.full(len(X), np.nan)
        distance = np.full(len(X), np.nan)
        n_liked = np.zeros(len(X), dtype=np.int64)
        d = unit.shape[1]
        for k in range(self.cv):
            rows = np.flatnonzero(folds == k)
            in_k = liked_folds == k
            sums_k = np.zeros_like(sums)
            np.add.at(sums_k, u_liked[in_k], self.liked_vectors_[in_k])
            count_k = self.n_liked_ - np.bincount(u_liked[in_k], minlength=len(sums))
            profiles_k = (sums - sums_k) / np.maximum(count_k, 1)[:, None]
            ur = u[rows]
            a, b = self._features(
                ur, unit[rows], ok[rows], profiles_k[ur].reshape(-1, d), count_k[ur], max_sim[rows]
            )
            affinity[rows], distance[rows], n_liked[rows] = a, b, count_k[ur]
        return self._output(X, affinity, distance, n_liked, unit, ok)

    def __sklearn_tags__(self):
        return frame_input_tags(super().__sklearn_tags__(), target_required=True)
