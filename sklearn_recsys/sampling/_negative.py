"""Negative sampling for implicit feedback: unobserved (user, item) pairs as negatives."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import pandas as pd
from imblearn.base import BaseSampler
from imblearn.utils._validation import ArraysTransformer
from sklearn.base import _fit_context
from sklearn.preprocessing import label_binarize
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets

from ..utils import frame_input_tags
from ._columns import _as_column_list, as_frame, check_sampler_X_y, like_input, resolve_ids
from ._deprecation import DEPRECATED, DEPRECATED_OPTION, renamed_attribute, renamed_param

__all__ = ["NegativeSampler"]


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
        Id columns: column names of a DataFrame ``X``, or column positions (the only way to
        address the columns of an array).
    item_attribute_cols : "auto", list or None, default="auto"
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
    item_columns : deprecated
        Old name of ``item_attribute_cols`` (removed in 0.2).

    Attributes
    ----------
    sampling_strategy_ : dict
        ``{neg_label: rows added}`` (imbalanced-learn's "rows to generate per class").
    n_negatives_added_ : int
        Number of rows added by the last ``fit_resample``.
    item_attribute_cols_ : list
        The item attribute columns used.
    n_features_in_, feature_names_in_ : int, ndarray of shape (n_features_in_,)
        Number of columns of X, and their names when they are strings.

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
        "item_attribute_cols": [StrOptions({"auto"}), list, tuple, None],
        "pos_label": [Real, str, "boolean"],
        "neg_label": [Real, str, "boolean"],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "random_state": ["random_state"],
        "item_columns": [StrOptions({"auto"}), list, tuple, None, DEPRECATED_OPTION],
    }

    def __init__(
        self,
        *,
        n_negatives=4,
        strategy="uniform",
        popularity_exponent=0.75,
        user_col="user_id",
        item_col="item_id",
        item_attribute_cols="auto",
        pos_label=1,
        neg_label=0,
        max_iter=20,
        random_state=None,
        item_columns=DEPRECATED,
    ):
        self.n_negatives = n_negatives
        self.strategy = strategy
        self.popularity_exponent = popularity_exponent
        self.user_col = user_col
        self.item_col = item_col
        self.item_attribute_cols = item_attribute_cols
        self.pos_label = pos_label
        self.neg_label = neg_label
        self.max_iter = max_iter
        self.random_state = random_state
        self.item_columns = item_columns

    def __sklearn_tags__(self):
        return frame_input_tags(super().__sklearn_tags__(), sparse=False)

    item_columns_ = renamed_attribute("item_columns_", "item_attribute_cols_")

    def _check_X_y(self, X, y, accept_sparse=None):
        X, y, binarize_y = check_sampler_X_y(
            self, X, y, accept_sparse=False, dtype=None, ensure_min_features=2
        )
        ids = resolve_ids(X, required=True, user_col=self.user_col, item_col=self.item_col)
        self._users, self._items = ids["user_col"], ids["item_col"]
        self._attribute_cols = renamed_param(self, "item_columns", "item_attribute_cols")
        n_pos = int(np.sum(y == self.pos_label))
        if n_pos == 0:
            seen = np.unique(y)
            raise ValueError(
                f"y has no row of the positive class pos_label={self.pos_label!r}; it holds "
                f"{seen.size} class(es): {seen[:10].tolist()}."
            )
        self.sampling_strategy_ = {self.neg_label: n_pos * self.n_negatives}
        return X, y, binarize_y

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Check the input and set ``sampling_strategy_``; :meth:`fit_resample` samples.

        Parameters
        ----------
        X : DataFrame or array of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : NegativeSampler
        """
        self._check_X_y(X, y)
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
        # imbalanced-learn's BaseSampler.fit_resample without its check that y holds two
        # classes: implicit feedback, what this sampler is for, often has positives only.
        check_classification_targets(y)
        arrays = ArraysTransformer(X, y)
        X, y, binarize_y = self._check_X_y(X, y)
        X_res, y_res = self._fit_resample(X, y)
        if binarize_y:
            y_res = label_binarize(y_res, classes=np.unique(y))
        return arrays.transform(X_res, y_res)

    def _fit_resample(self, X, y):
        frame = as_frame(X)
        positives = np.flatnonzero(y == self.pos_label)
        users, items = frame[self._users], frame[self._items]
        user_codes, _ = pd.factorize(users)
        item_codes, item_uniques = pd.factorize(items)
        n_items = len(item_uniques)
        rng = check_random_state(self.random_state)

        counts = np.bincount(item_codes, minlength=n_items).astype(np.float64)
        if self.strategy == "popularity":
            weights = counts**self.popularity_exponent
            p = weights / weights.sum()
        else:
            p = None
        seen = np.unique(user_codes.astype(np.int64) * n_items + item_codes)

        source = np.repeat(positives, self.n_negatives)
        draw_users = user_codes[source].astype(np.int64)
        drawn = self._draw(rng, draw_users, seen, n_items, p, user_codes, users)

        self.item_attribute_cols_ = self._item_attributes(frame, item_codes)
        _, first_row = np.unique(item_codes, return_index=True)  # codes are 0 .. n_items - 1

        new = frame.iloc[source].reset_index(drop=True)
        for c in [self._items, *self.item_attribute_cols_]:
            new[c] = frame[c].iloc[first_row[drawn]].to_numpy()
        new = new.astype(frame.dtypes.to_dict())

        X_res = pd.concat([frame.reset_index(drop=True), new], ignore_index=True)
        neg = np.full(len(new), self.neg_label).astype(y.dtype)
        self.n_negatives_added_ = int(len(new))
        return like_input(X_res, X), np.concatenate([y, neg])

    def _item_attributes(self, frame, item_codes):
        ids = (self._users, self._items)
        cols = self._attribute_cols
        if cols is None:
            return []
        if isinstance(cols, str):
            others = [c for c in frame.columns if c not in ids]
            return _item_attribute_columns(frame, item_codes, others)
        cols = _as_column_list(cols, frame, param="item_attribute_cols")
        if any(c in ids for c in cols):
            raise ValueError(
                f"item_attribute_cols={cols!r} lists an id column; it lists the columns taken "
                "from the drawn item besides its id."
            )
        return cols

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
