"""Popularity-aware under-sampling: drop majority rows of head items first."""

from __future__ import annotations

from numbers import Integral

import numpy as np
import pandas as pd
from imblearn.under_sampling.base import BaseUnderSampler
from scipy import sparse
from sklearn.utils import _safe_indexing, check_random_state

from ..utils import frame_input_tags
from ._columns import check_sampler_X_y, column_values, resolve_ids

__all__ = ["PopularityUnderSampler"]


def item_quotas(counts, n_keep, rng):
    """Rows to keep per item so that ``n_keep`` rows remain, cutting the largest items first.

    Returns the quotas and the cap ``t``.

    The cap ``t`` is the largest integer with ``sum(min(counts, t)) <= n_keep`` (water-filling):
    items with at most ``t`` rows keep them all; larger items keep ``t`` rows, and the remaining
    ``n_keep - sum(min(counts, t))`` rows go, one each, to the least popular of them.
    """
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if n_keep >= total:
        return counts.copy(), int(counts.max(initial=0))
    s = np.sort(counts)
    cums = np.concatenate([[0], np.cumsum(s)])

    def kept(t):
        k = np.searchsorted(s, t, side="right")
        return cums[k] + t * (s.size - k)

    lo, hi = 0, int(s[-1])  # kept(lo) <= n_keep < kept(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if kept(mid) <= n_keep:
            lo = mid
        else:
            hi = mid
    quota = np.minimum(counts, lo)
    extra = int(n_keep - kept(lo))
    over = np.flatnonzero(counts > lo)
    order = np.lexsort((rng.random(over.size), counts[over]))
    quota[over[order[:extra]]] += 1
    return quota, lo


class PopularityUnderSampler(BaseUnderSampler):
    """Under-sample the majority class by dropping rows of head (popular) items first.

    For each class to under-sample, the rows are capped per item (water-filling): every item
    keeps at most ``t`` rows, with ``t`` as large as the target size allows, so the rows of the
    long tail (items with at most ``t`` rows of that class) are all kept and only head items lose
    rows (the seeds' "context / retain sampling"). Which rows of a capped item are kept is
    random. The kept rows come back in their original order.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable, default="auto"
        As in :class:`imblearn.under_sampling.RandomUnderSampler`: rows each class keeps
        (``"auto"``: every class but the minority down to the minority's size).
    item_col : str or int, default="item_id"
        The item id column: a column name of a DataFrame ``X``, or a column position (the only
        way to address a column of an array).
    random_state : int, RandomState instance or None, default=None
        Seed of the choice of rows within capped items (and of ties).

    Attributes
    ----------
    sampling_strategy_ : dict
        Rows kept for each under-sampled class.
    sample_indices_ : ndarray of shape (n_new_samples,)
        Positions of the kept rows in X.
    item_caps_ : dict
        Class -> the per-item cap ``t`` (rows of an item above it were dropped).
    n_features_in_, feature_names_in_ : int, ndarray of shape (n_features_in_,)
        Number of columns of X, and their names when they are strings.

    See Also
    --------
    imblearn.under_sampling.RandomUnderSampler : Drops rows uniformly at random.
    NegativeSampler : Adds unobserved pairs as negatives.

    Notes
    -----
    With :math:`n_i` rows of item :math:`i` in the class and a target of :math:`N` rows, the cap
    is :math:`t = \\max\\{t : \\sum_i \\min(n_i, t) \\le N\\}`; the
    :math:`N - \\sum_i \\min(n_i, t)` remaining rows go to the least popular items above
    the cap, one each.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_recsys.sampling import PopularityUnderSampler
    >>> X = pd.DataFrame({"item_id": ["head"] * 6 + ["mid"] * 3 + ["tail"] * 1 + ["x"] * 2,
    ...                   "price": range(12)})
    >>> y = [0] * 10 + [1] * 2
    >>> sampler = PopularityUnderSampler(sampling_strategy={0: 6}, random_state=0)
    >>> X_res, y_res = sampler.fit_resample(X, y)
    >>> X_res["item_id"].value_counts().to_dict()
    {'mid': 3, 'head': 2, 'x': 2, 'tail': 1}
    >>> sampler.item_caps_
    {0: 2}
    """

    _parameter_constraints: dict = {
        **BaseUnderSampler._parameter_constraints,
        "item_col": [str, Integral],
        "random_state": ["random_state"],
    }

    def __init__(self, *, sampling_strategy="auto", item_col="item_id", random_state=None):
        super().__init__(sampling_strategy=sampling_strategy)
        self.item_col = item_col
        self.random_state = random_state

    def _check_X_y(self, X, y, accept_sparse=None):
        X, y, binarize_y = check_sampler_X_y(self, X, y, accept_sparse=["csr", "csc"], dtype=None)
        self._item = resolve_ids(X, required=True, item_col=self.item_col)["item_col"]
        return X, y, binarize_y

    def _fit_resample(self, X, y):
        rng = check_random_state(self.random_state)
        items = column_values(X, self._item)
        if sparse.issparse(items):
            items = items.toarray().ravel()
        item_codes, _ = pd.factorize(items)
        keep = np.ones(y.shape[0], dtype=bool)
        self.item_caps_ = {}
        for klass, n_keep in self.sampling_strategy_.items():
            rows = np.flatnonzero(y == klass)
            codes, inverse = np.unique(item_codes[rows], return_inverse=True)
            counts = np.bincount(inverse, minlength=codes.size)
            quota, cap = item_quotas(counts, int(n_keep), rng)
            self.item_caps_[klass.item() if hasattr(klass, "item") else klass] = cap
            # rank the rows of each item in a random order; keep the first quota[item] of them
            order = np.lexsort((rng.random(rows.size), inverse))
            sorted_items = inverse[order]
            group_start = np.searchsorted(sorted_items, sorted_items, side="left")
            rank = np.arange(rows.size) - group_start
            keep[rows[order]] = rank < quota[sorted_items]
        self.sample_indices_ = np.flatnonzero(keep)
        return _safe_indexing(X, self.sample_indices_), _safe_indexing(y, self.sample_indices_)

    def __sklearn_tags__(self):
        tags = frame_input_tags(super().__sklearn_tags__())
        tags.sampler_tags.sample_indices = True
        return tags
