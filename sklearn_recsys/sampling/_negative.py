"""Negative sampling for implicit feedback: unobserved (user, item) pairs as negatives."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import pandas as pd
from imblearn.base import BaseSampler
from imblearn.utils import check_target_type
from sklearn.base import _fit_context
from sklearn.preprocessing import label_binarize
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length, validate_data

from .._contract import check_columns, check_id_column, check_interactions
from ._columns import restore_containers

__all__ = ["NegativeSampler"]


def _as_frame(X, *, user_col, item_col):
    """The interaction table as a DataFrame; an array's columns are addressed by position."""
    if isinstance(X, pd.DataFrame):
        check_interactions(X)
        check_columns(X, user_col=user_col, item_col=item_col)
        return X
    arr = check_array(X, dtype=None, accept_sparse=False, ensure_min_features=2)
    frame = pd.DataFrame(arr)
    for param, col in (("user_col", user_col), ("item_col", item_col)):
        if isinstance(col, bool) or not isinstance(col, (int, np.integer)) or not (
            0 <= col < arr.shape[1]
        ):
            raise ValueError(
                f"{param}={col!r}: when X is an array, {param} must be a column position in "
                f"[0, {arr.shape[1]})."
            )
    return frame


def _item_attribute_columns(X, item_codes, columns):
    """Columns whose value is the same on every row of each item (item attributes)."""
    attrs = []
    order = np.argsort(item_codes, kind="stable")
    sorted_items = item_codes[order]
    boundary = np.flatnonzero(np.diff(sorted_items)) + 1
    for c in columns:
        codes, _ = pd.factorize(X[c], use_na_sentinel=False)
        sorted_codes = codes[order]
        same = sorted_codes[1:] == sorted_codes[:-1]
        same[boundary - 1] = True  # changes across items do not count
        if same.all():
            attrs.append(c)
    return attrs


class NegativeSampler(BaseSampler):
    """Add ``n_negatives`` unobserved (user, item) pairs per positive row, labelled negative.

    For implicit feedback (clicks, purchases) the unobserved pairs are the negatives. For every
    positive row the sampler draws ``n_negatives`` items the user never interacted with in ``X``
    (any row of ``X`` counts as an interaction), uniformly or in proportion to
    ``popularity ** popularity_exponent``, and appends one row per draw. It never emits a pair
    that appears in ``X``. Draws are vectorised with rejection; users whose draws keep being
    rejected (they saw most items) get exact draws from their unseen items.

    The new rows copy the positive row they were drawn for (its context: time, position, user
    columns), with the item id replaced and the item's attribute columns (columns constant per
    item in ``X``, e.g. category or price) taken from the drawn item. Works in
    :class:`imblearn.pipeline.Pipeline` (it runs at fit time only).

    Parameters
    ----------
    n_negatives : int, default=4
        Negatives drawn per positive row.
    strategy : {"uniform", "popularity"}, default="uniform"
        Draw items uniformly, or in proportion to ``count ** popularity_exponent`` where
        ``count`` is the item's number of rows in ``X``.
    popularity_exponent : float, default=0.75
        Exponent of the popularity weighting (0.75 as in word2vec).
    user_col, item_col : str or int, default="user_id", "item_id"
        Id columns (column positions when X is an array).
    item_columns : "auto", list or None, default="auto"
        Columns taken from the drawn item. ``"auto"``: the columns that have one value per item
        in ``X``. ``None``: every other column is copied from the positive row.
    pos_label : int, float, bool or str, default=1
        Label of the positive rows in ``y``.
    neg_label : int, float, bool or str, default=0
        Label given to the new rows.
    max_iter : int, default=20
        Rejection rounds before the exact per-user fallback.
    random_state : int, RandomState instance or None, default=None
        Seed of the draws.

    Attributes
    ----------
    sampling_strategy_ : dict
        ``{neg_label: rows added}`` (imbalanced-learn's "rows to generate per class").
    n_negatives_added_ : int
        Number of rows added by the last ``fit_resample``.
    item_columns_ : list
        The item attribute columns used.
    n_features_in_ : int
        Number of columns of X.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when X is a DataFrame with string column names.

    See Also
    --------
    PopularityUnderSampler : Drops majority rows of head items first.

    Notes
    -----
    With item counts :math:`n_i` and exponent :math:`\\alpha`, the popularity strategy draws item
    :math:`i` with probability :math:`n_i^{\\alpha} / \\sum_j n_j^{\\alpha}` among the items the
    user has not seen. Draws are with replacement: a user may get the same negative item twice.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_recsys.sampling import NegativeSampler
    >>> X = pd.DataFrame({"user_id": [1, 1, 2], "item_id": ["a", "b", "c"]})
    >>> y = pd.Series([1, 1, 1], name="click")
    >>> X_res, y_res = NegativeSampler(n_negatives=1, random_state=0).fit_resample(X, y)
    >>> X_res
       user_id item_id
    0        1       a
    1        1       b
    2        2       c
    3        1       c
    4        1       c
    5        2       a
    >>> y_res.tolist()
    [1, 1, 1, 0, 0, 0]
    """

    _sampling_type = "bypass"

    _parameter_constraints: dict = {
        "n_negatives": [Interval(Integral, 1, None, closed="left")],
        "strategy": [StrOptions({"uniform", "popularity"})],
        "popularity_exponent": [Interval(Real, 0, None, closed="left")],
        "user_col": [str, Integral],
        "item_col": [str, Integral],
        "item_columns": [StrOptions({"auto"}), list, tuple, None],
        "pos_label": [Real, str, "boolean"],
        "neg_label": [Real, str, "boolean"],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        n_negatives=4,
        strategy="uniform",
        popularity_exponent=0.75,
        user_col="user_id",
        item_col="item_id",
        item_columns="auto",
        pos_label=1,
        neg_label=0,
        max_iter=20,
        random_state=None,
    ):
        self.n_negatives = n_negatives
        self.strategy = strategy
        self.popularity_exponent = popularity_exponent
        self.user_col = user_col
        self.item_col = item_col
        self.item_columns = item_columns
        self.pos_label = pos_label
        self.neg_label = neg_label
        self.max_iter = max_iter
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags

    def _check_inputs(self, X, y):
        if self.user_col == self.item_col:
            raise ValueError(
                f"user_col and item_col must differ; both are {self.user_col!r}."
            )
        frame = _as_frame(X, user_col=self.user_col, item_col=self.item_col)
        if y is None:
            raise ValueError(
                "NegativeSampler requires y to be passed, but the target y is None: y holds the "
                "labels of the rows (positives = pos_label)."
            )
        check_classification_targets(y)
        y_arr, self._binarized = check_target_type(y, indicate_one_vs_all=True)
        check_consistent_length(frame, y_arr)
        validate_data(self, X=X, y=y_arr, reset=True, skip_check_array=True)
        n_pos = int(np.sum(y_arr == self.pos_label))
        if n_pos == 0:
            seen = np.unique(y_arr)
            raise ValueError(
                f"y has no row of the positive class pos_label={self.pos_label!r}; it holds "
                f"{seen.size} class(es): {seen[:10].tolist()}."
            )
        self.sampling_strategy_ = {self.neg_label: n_pos * self.n_negatives}
        return frame, y_arr

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Validate the input; the sampling itself happens in :meth:`fit_resample`.

        Parameters
        ----------
        X : DataFrame or array of shape (n_samples, n_features)
            Interactions with the user and item id columns.
        y : array-like of shape (n_samples,)
            Labels.

        Returns
        -------
        self : NegativeSampler
        """
        self._check_inputs(X, y)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_resample(self, X, y):
        """Append the negative rows.

        Parameters
        ----------
        X : DataFrame or array of shape (n_samples, n_features)
            Interactions with the user and item id columns.
        y : array-like of shape (n_samples,)
            Labels; rows equal to ``pos_label`` get negatives.

        Returns
        -------
        X_resampled : DataFrame or array
            ``X`` (fresh RangeIndex) followed by the new rows, in ``X``'s container and dtypes.
        y_resampled : array-like
            ``y`` followed by ``neg_label`` for every new row, in ``y``'s container.
        """
        frame, y_arr = self._check_inputs(X, y)
        classes = np.unique(y_arr)
        X_res, y_res = self._fit_resample(frame, y_arr)
        if self._binarized:
            y_res = label_binarize(y_res, classes=classes)
        if not isinstance(X, pd.DataFrame):
            X_res = X_res.to_numpy(dtype=np.asarray(X).dtype)
        return restore_containers(X_res, y_res, X, y)

    def _fit_resample(self, frame, y_arr):
        positives = np.flatnonzero(y_arr == self.pos_label)
        users = check_id_column(frame[self.user_col], name=f"user_col={self.user_col!r}")
        items = check_id_column(frame[self.item_col], name=f"item_col={self.item_col!r}")
        user_codes, _ = pd.factorize(users)
        item_codes, item_uniques = pd.factorize(items)
        n_items = len(item_uniques)
        rng = check_random_state(self.random_state)

        counts = np.bincount(item_codes, minlength=n_items).astype(np.float64)
        if self.strategy == "popularity":
            weights = counts ** self.popularity_exponent
            p = weights / weights.sum()
        else:
            p = None
        seen = np.unique(user_codes.astype(np.int64) * n_items + item_codes)

        source = np.repeat(positives, self.n_negatives)
        draw_users = user_codes[source].astype(np.int64)
        drawn = self._draw(rng, draw_users, seen, n_items, p, user_codes, users)

        others = [c for c in frame.columns if c not in (self.user_col, self.item_col)]
        if self.item_columns is None:
            item_attrs = []
        elif isinstance(self.item_columns, str):
            item_attrs = _item_attribute_columns(frame, item_codes, others)
        else:
            item_attrs = list(self.item_columns)
            check_columns(frame, **{f"item_columns[{k}]": c for k, c in enumerate(item_attrs)})
        self.item_columns_ = item_attrs
        _, first_row = np.unique(item_codes, return_index=True)  # codes are 0 .. n_items - 1

        new = frame.iloc[source].reset_index(drop=True)
        new[self.item_col] = frame[self.item_col].iloc[first_row[drawn]].to_numpy()
        for c in item_attrs:
            new[c] = frame[c].iloc[first_row[drawn]].to_numpy()
        new = new.astype(frame.dtypes.to_dict())

        X_res = pd.concat([frame.reset_index(drop=True), new], ignore_index=True)
        neg = np.full(len(new), self.neg_label).astype(y_arr.dtype)
        y_res = np.concatenate([y_arr, neg])
        self.n_negatives_added_ = int(len(new))
        return X_res, y_res

    def _draw(self, rng, draw_users, seen, n_items, p, user_codes, users):
        """Item codes for every draw, none of them a seen (user, item) pair."""
        m = draw_users.size
        drawn = np.empty(m, dtype=np.int64)
        todo = np.arange(m)
        for _ in range(self.max_iter + 1):
            if todo.size == 0:
                break
            cand = rng.choice(n_items, size=todo.size, p=p)
            keys = draw_users[todo] * n_items + cand
            pos = np.searchsorted(seen, keys)
            hit = (pos < seen.size) & (seen[np.minimum(pos, seen.size - 1)] == keys)
            drawn[todo[~hit]] = cand[~hit]
            todo = todo[hit]
        if todo.size:  # exact draws for the users who saw (almost) everything
            for u in np.unique(draw_users[todo]):
                rows = todo[draw_users[todo] == u]
                user_seen = seen[(seen >= u * n_items) & (seen < (u + 1) * n_items)] - u * n_items
                unseen = np.setdiff1d(np.arange(n_items), user_seen)
                if unseen.size == 0:
                    user_id = users.iloc[int(np.flatnonzero(user_codes == u)[0])]
                    user_id = user_id.item() if hasattr(user_id, "item") else user_id
                    raise ValueError(
                        f"user {user_id!r} ({self.user_col}) interacted with all {n_items} "
                        "items of X: there is no unobserved item to draw as a negative."
                    )
                q = None if p is None else p[unseen] / p[unseen].sum()
                drawn[rows] = unseen[rng.choice(unseen.size, size=rows.size, p=q)]
        return drawn
