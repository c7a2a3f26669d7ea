"""Long-tail and popularity-bias metrics of top-k recommendation lists.

Recommendations are given either as a DataFrame in long format (one row per recommended
(user, item), the output of :func:`sklearn_recsys.recommend.recommend`: ``user_col``,
``item_col`` and optionally a ``rank`` column, 1 = best) or as a 2-d array with one row per user
and the items from best to worst, as for :func:`~sklearn_recsys.metrics.ranking_scores_from_lists`.
Only the first ``k`` items of each user are used.

Popularity is measured on the *training* interactions (``train``: the interaction frame, or a
1-d array with the item id of every training interaction). The head / tail rule: items are
sorted by training count (descending, ties by item id); the head is the smallest set of most
popular items that together make up ``head_share`` (default 80 %) of the training interactions,
the item that crosses the threshold included; every other item, including items never seen in
training, is in the tail.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from .._contract import check_columns, check_id_column
from ._lists import _recommendation_lists
from ._ranking import _check_ranking_input, _from_ranking, _mean_over_evaluated, _ranked

__all__ = [
    "average_percentage_long_tail",
    "average_recommendation_popularity",
    "gini_index",
    "item_coverage",
    "long_tail_report",
    "novelty",
    "popularity_buckets",
    "shannon_entropy",
    "tail_recall_at_k",
]

_K = [Interval(numbers.Integral, 1, None, closed="left")]
_SHARE = [Interval(numbers.Real, 0, 1, closed="neither")]


# ----------------------------------------------------------------------------- inputs
def _train_items(train, item_col):
    if isinstance(train, pd.DataFrame):
        if len(train) == 0:
            raise ValueError("train is empty: 0 rows.")
        check_columns(train, item_col=item_col)
        return check_id_column(train[item_col], name=f"item_col={item_col!r}")
    items = check_id_column(np.asarray(train).ravel(), name="train")
    if len(items) == 0:
        raise ValueError("train is empty.")
    return items


def _item_counts(train, item_col):
    """Training count of every item, sorted by (count desc, item id)."""
    items = _train_items(train, item_col)
    if isinstance(items.dtype, pd.CategoricalDtype):
        items = items.astype(object)
    counts = items.value_counts(sort=False)
    frame = pd.DataFrame({"item": counts.index, "count": counts.to_numpy()})
    try:
        frame = frame.sort_values(["count", "item"], ascending=[False, True], kind="mergesort")
    except TypeError:  # unsortable mixed ids: order of appearance among equal counts
        frame = frame.sort_values("count", ascending=False, kind="mergesort")
    return pd.Series(frame["count"].to_numpy(), index=pd.Index(frame["item"].to_numpy()))


def _check_cutoffs(cutoffs):
    c = np.asarray(cutoffs, dtype=float)
    if c.ndim != 1 or len(c) == 0 or (c <= 0).any() or (c >= 1).any() or (np.diff(c) <= 0).any():
        raise ValueError(
            f"cutoffs must be a non-empty increasing sequence of shares in (0, 1); got {cutoffs!r}."
        )
    return c


def _bucket_of_counts(counts, cutoffs):
    """Bucket index (0 = head) of every item of ``counts`` (sorted by count desc)."""
    values = counts.to_numpy(dtype=float)
    share_before = (np.cumsum(values) - values) / values.sum()
    return np.searchsorted(cutoffs, share_before, side="right")


def _tail_set(train, item_col, head_share, tail_items):
    """Boolean lookup: ``is_tail(items)``."""
    if tail_items is not None:
        tail = pd.Index(pd.unique(np.asarray(tail_items).ravel()))
        return lambda items: tail.get_indexer(np.asarray(items)) >= 0
    counts = _item_counts(train, item_col)
    head = counts.index[_bucket_of_counts(counts, np.array([head_share])) == 0]
    return lambda items: pd.Index(head).get_indexer(np.asarray(items)) < 0


@validate_params(
    {
        "items": ["array-like"],
        "train": ["array-like", pd.DataFrame],
        "cutoffs": ["array-like"],
        "labels": ["array-like", None],
        "item_col": [str, numbers.Integral],
    },
    prefer_skip_nested_validation=True,
)
def popularity_buckets(items, train, *, cutoffs=(0.8,), labels=None, item_col="item_id"):
    """Popularity bucket (head / mid / tail) of each item, from training interactions.

    Items are sorted by training count; bucket ``j`` holds the items whose preceding items
    make up a share of the interactions in ``[cutoffs[j-1], cutoffs[j])``. With the default
    ``cutoffs=(0.8,)`` the head is the most popular items that make up 80 % of the training
    interactions and the rest is the tail; ``cutoffs=(0.5, 0.8)`` gives head / mid / tail.
    Items absent from ``train`` are in the last bucket.

    Parameters
    ----------
    items : array-like of shape (n_samples,)
        Items to label, e.g. ``X["item_id"]``.
    train : DataFrame or array-like
        Training interactions (a frame with ``item_col`` or the item id of each interaction).
    cutoffs : sequence of float, default=(0.8,)
        Increasing cumulative interaction shares in (0, 1).
    labels : sequence of str or None, default=None
        One label per bucket (``len(cutoffs) + 1``); None gives ``["head", "tail"]`` or
        ``["head", "mid", "tail"]`` (else ``"bucket_<j>"``).
    item_col : str, default="item_id"
        Item column of ``train`` when it is a DataFrame.

    Returns
    -------
    buckets : ndarray of str, shape (n_samples,)

    Examples
    --------
    >>> from sklearn_recsys.metrics import popularity_buckets
    >>> train = [1] * 6 + [2] * 2 + [3] + [4]   # item 1: 60 %, item 2: 20 %, ...
    >>> popularity_buckets([1, 2, 3, 4, 5], train).tolist()
    ['head', 'head', 'tail', 'tail', 'tail']
    >>> popularity_buckets([1, 2, 3, 5], train, cutoffs=(0.5, 0.8)).tolist()
    ['head', 'mid', 'tail', 'tail']
    """
    cut = _check_cutoffs(cutoffs)
    n_buckets = len(cut) + 1
    if labels is None:
        labels = {2: ["head", "tail"], 3: ["head", "mid", "tail"]}.get(
            n_buckets, [f"bucket_{j}" for j in range(n_buckets)]
        )
    labels = np.asarray(labels, dtype=object)
    if len(labels) != n_buckets:
        raise ValueError(
            f"labels must have len(cutoffs) + 1 = {n_buckets} entries; got {len(labels)}."
        )
    counts = _item_counts(train, item_col)
    bucket = _bucket_of_counts(counts, cut)
    ids = check_id_column(
        items if isinstance(items, pd.Series) else np.asarray(items), name="items"
    )
    if isinstance(ids.dtype, pd.CategoricalDtype):
        ids = ids.astype(object)
    pos = counts.index.get_indexer(ids.to_numpy())
    out = np.where(pos >= 0, bucket[pos], n_buckets - 1)
    return labels[out].astype(str)


# ----------------------------------------------------------------------------- metrics
_REC = {
    "recommendations": ["array-like", pd.DataFrame],
    "k": _K,
    "user_col": [str, numbers.Integral],
    "item_col": [str, numbers.Integral],
}


def _catalog_index(catalog):
    if isinstance(catalog, numbers.Integral) and not isinstance(catalog, bool):
        if catalog < 1:
            raise ValueError(f"catalog must be >= 1 items; got {catalog}.")
        return None, int(catalog)
    ids = check_id_column(np.asarray(catalog).ravel(), name="catalog")
    index = pd.Index(pd.unique(ids.to_numpy()))
    if len(index) == 0:
        raise ValueError("catalog is empty.")
    return index, len(index)


def _exposure(items, catalog):
    """Recommendation count of every catalog item (zeros included)."""
    index, n = _catalog_index(catalog)
    counts = pd.Series(items).value_counts(sort=False)
    if index is not None:
        missing = counts.index[index.get_indexer(counts.index) < 0]
        if len(missing):
            raise ValueError(
                f"{len(missing)} recommended items are not in the catalog, e.g. "
                f"{missing[0]!r}; pass the full catalog."
            )
    elif len(counts) > n:
        raise ValueError(f"catalog={n} items, but {len(counts)} distinct items are recommended.")
    exposure = np.zeros(n)
    exposure[: len(counts)] = counts.to_numpy()
    return exposure


def _per_user_mean(codes, values, n_users):
    num = np.bincount(codes, weights=values, minlength=n_users)
    den = np.bincount(codes, minlength=n_users)
    return float(np.mean(num / den))


@validate_params(
    {**_REC, "catalog": ["array-like", numbers.Integral]}, prefer_skip_nested_validation=True
)
def item_coverage(recommendations, *, catalog, k=10, user_col="user_id", item_col="item_id"):
    r"""Share of the catalog that appears in at least one top-``k`` list.

    .. math:: \mathrm{Coverage}@k = \frac{|\bigcup_u \mathrm{top}_k(u)|}{|I|}

    Parameters
    ----------
    recommendations : DataFrame or array-like of shape (n_users, n_recommended)
        See the module docstring.
    catalog : array-like or int
        All recommendable item ids, or their number.
    k : int, default=10
    user_col, item_col : str, default="user_id", "item_id"
        Columns of a recommendations DataFrame.

    Returns
    -------
    coverage : float in [0, 1]

    Examples
    --------
    >>> from sklearn_recsys.metrics import item_coverage
    >>> item_coverage([[1, 2], [1, 3]], catalog=[1, 2, 3, 4, 5], k=2)
    0.6
    """
    _, items, _ = _recommendation_lists(recommendations, k, user_col, item_col)
    exposure = _exposure(items, catalog)
    return float((exposure > 0).sum() / len(exposure))


@validate_params(
    {**_REC, "train": ["array-like", pd.DataFrame]}, prefer_skip_nested_validation=True
)
def average_recommendation_popularity(
    recommendations, train, *, k=10, user_col="user_id", item_col="item_id"
):
    r"""Average recommendation popularity (ARP, Abdollahpouri et al., 2019).

    .. math:: \mathrm{ARP}@k = \frac{1}{|U|}\sum_u \frac{1}{|L_u|} \sum_{i \in L_u} \phi(i)

    where :math:`\phi(i)` is the number of training interactions of item ``i`` (0 if unseen).
    Lower is less popularity-biased. Same as RecBole's ``AveragePopularity``.

    Parameters
    ----------
    recommendations : DataFrame or array-like
        See the module docstring.
    train : DataFrame or array-like
        Training interactions (frame with ``item_col`` or the item of each interaction).
    k : int, default=10
    user_col, item_col : str

    Returns
    -------
    arp : float

    Examples
    --------
    >>> from sklearn_recsys.metrics import average_recommendation_popularity
    >>> train = [1, 1, 1, 2]
    >>> average_recommendation_popularity([[1, 2], [2, 3]], train, k=2)  # ((3+1)/2 + (1+0)/2)/2
    1.25
    """
    codes, items, n_users = _recommendation_lists(recommendations, k, user_col, item_col)
    counts = _item_counts(train, item_col)
    pos = counts.index.get_indexer(items)
    phi = np.where(pos >= 0, counts.to_numpy(dtype=float)[pos], 0.0)
    return _per_user_mean(codes, phi, n_users)


@validate_params(
    {
        **_REC,
        "train": ["array-like", pd.DataFrame, None],
        "head_share": _SHARE,
        "tail_items": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def average_percentage_long_tail(
    recommendations,
    train=None,
    *,
    k=10,
    head_share=0.8,
    tail_items=None,
    user_col="user_id",
    item_col="item_id",
):
    r"""Average percentage of long-tail items in the lists (APLT, Abdollahpouri et al., 2019).

    .. math:: \mathrm{APLT}@k = \frac{1}{|U|}\sum_u \frac{|L_u \cap T|}{|L_u|}

    ``T`` is the tail: every item outside the head (the most popular items that make up
    ``head_share`` of the training interactions), or ``tail_items`` when given. RecBole's
    ``TailPercentage`` instead takes the 10 % least popular *items* as the tail by default.

    Parameters
    ----------
    recommendations : DataFrame or array-like
        See the module docstring.
    train : DataFrame or array-like, default=None
        Training interactions; required unless ``tail_items`` is given.
    k : int, default=10
    head_share : float in (0, 1), default=0.8
    tail_items : array-like or None, default=None
        Explicit tail item ids, overriding the rule.
    user_col, item_col : str

    Returns
    -------
    aplt : float in [0, 1]

    Examples
    --------
    >>> from sklearn_recsys.metrics import average_percentage_long_tail
    >>> train = [1] * 8 + [2, 3]          # head = {1}: 80 % of the interactions
    >>> average_percentage_long_tail([[1, 2], [3, 4]], train, k=2)
    0.75
    """
    if train is None and tail_items is None:
        raise ValueError(
            "average_percentage_long_tail needs train (to find the tail) or tail_items."
        )
    codes, items, n_users = _recommendation_lists(recommendations, k, user_col, item_col)
    is_tail = _tail_set(train, item_col, head_share, tail_items)
    return _per_user_mean(codes, is_tail(items).astype(float), n_users)


@validate_params(
    {**_REC, "catalog": ["array-like", numbers.Integral]}, prefer_skip_nested_validation=True
)
def gini_index(recommendations, *, catalog, k=10, user_col="user_id", item_col="item_id"):
    r"""Gini index of item exposure in the top-``k`` lists (0 = equal exposure).

    With :math:`x_{(1)} \le \dots \le x_{(n)}` the number of times each of the ``n`` catalog
    items is recommended (zeros included),

    .. math:: G = \frac{\sum_{j=1}^{n} (2j - n - 1)\, x_{(j)}}{n \sum_j x_{(j)}}

    which ranges from 0 to :math:`1 - 1/n`. Same as RecBole's ``GiniIndex``. Lower is fairer.

    Parameters
    ----------
    recommendations : DataFrame or array-like
    catalog : array-like or int
        All recommendable items (their exposure counts as 0 when never recommended).
    k : int, default=10
    user_col, item_col : str

    Returns
    -------
    gini : float

    Examples
    --------
    >>> from sklearn_recsys.metrics import gini_index
    >>> gini_index([[1], [1], [1]], catalog=4, k=1)   # one item gets it all: 1 - 1/4
    0.75
    """
    _, items, _ = _recommendation_lists(recommendations, k, user_col, item_col)
    x = np.sort(_exposure(items, catalog))
    n = len(x)
    j = np.arange(1, n + 1)
    return float(np.sum((2 * j - n - 1) * x) / (n * x.sum()))


@validate_params(_REC, prefer_skip_nested_validation=True)
def shannon_entropy(recommendations, *, k=10, user_col="user_id", item_col="item_id"):
    r"""Shannon entropy (natural log) of item exposure in the top-``k`` lists.

    .. math:: H = -\sum_i p(i) \ln p(i), \qquad p(i) = \frac{\#\{u: i \in L_u\}}{\sum_u |L_u|}

    0 when one item fills every list, :math:`\ln n` when ``n`` items are recommended equally
    often. Higher is more diverse. RecBole's ``ShannonEntropy`` further divides this by the
    number of distinct recommended items; we do not.

    Parameters
    ----------
    recommendations : DataFrame or array-like
    k : int, default=10
    user_col, item_col : str

    Returns
    -------
    entropy : float

    Examples
    --------
    >>> import math
    >>> from sklearn_recsys.metrics import shannon_entropy
    >>> math.isclose(shannon_entropy([[1, 2], [3, 4]], k=2), math.log(4))
    True
    """
    _, items, _ = _recommendation_lists(recommendations, k, user_col, item_col)
    p = pd.Series(items).value_counts(sort=False).to_numpy(dtype=float)
    p /= p.sum()
    return float(-(p * np.log(p)).sum())


@validate_params({**_REC, "train": [pd.DataFrame]}, prefer_skip_nested_validation=True)
def novelty(recommendations, train, *, k=10, user_col="user_id", item_col="item_id"):
    r"""Mean self-information of the recommended items (Zhou et al., 2010).

    .. math:: \mathrm{Novelty}@k = \frac{1}{|U|}\sum_u \frac{1}{|L_u|}\sum_{i \in L_u}
        -\log_2 \frac{|U_i|}{|U|}

    where :math:`|U_i|` is the number of distinct training users who interacted with item
    ``i`` and :math:`|U|` the number of training users. Items never seen in training count as
    seen by one user (self-information :math:`\log_2 |U|`, the largest). Higher is more novel.

    Parameters
    ----------
    recommendations : DataFrame or array-like
    train : DataFrame
        Training interactions with ``user_col`` and ``item_col``.
    k : int, default=10
    user_col, item_col : str

    Returns
    -------
    novelty : float, in bits

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_recsys.metrics import novelty
    >>> train = pd.DataFrame({"user_id": [1, 2, 3, 4], "item_id": [10, 10, 10, 11]})
    >>> round(novelty([[10], [11]], train, k=1), 6)   # (log2(4/3) + log2(4/1)) / 2
    1.207519
    """
    if len(train) == 0:
        raise ValueError("train is empty: 0 rows.")
    check_columns(train, user_col=user_col, item_col=item_col)
    users = check_id_column(train[user_col], name=f"user_col={user_col!r}")
    titems = check_id_column(train[item_col], name=f"item_col={item_col!r}")
    pairs = pd.DataFrame({"u": users.to_numpy(), "i": titems.to_numpy()}).drop_duplicates()
    n_users = pairs["u"].nunique()
    degree = pairs["i"].value_counts(sort=False)
    codes, items, n_lists = _recommendation_lists(recommendations, k, user_col, item_col)
    pos = degree.index.get_indexer(items)
    d = np.where(pos >= 0, degree.to_numpy(dtype=float)[pos], 1.0)
    return _per_user_mean(codes, -np.log2(d / n_users), n_lists)


@validate_params(
    {
        "y_true": ["array-like"],
        "y_score": ["array-like"],
        "groups": ["array-like"],
        "items": ["array-like"],
        "train": ["array-like", pd.DataFrame, None],
        "k": _K,
        "head_share": _SHARE,
        "tail_items": ["array-like", None],
        "ties": [StrOptions({"pessimistic", "stable", "optimistic"})],
        "item_col": [str, numbers.Integral],
    },
    prefer_skip_nested_validation=True,
)
def tail_recall_at_k(
    y_true,
    y_score,
    *,
    groups,
    items,
    train=None,
    k=10,
    head_share=0.8,
    tail_items=None,
    ties="pessimistic",
    item_col="item_id",
):
    r"""Recall@k restricted to relevant long-tail items.

    .. math:: \mathrm{TailRecall}_u@k = \frac{|\mathrm{top}_k(u) \cap R_u \cap T|}
        {|R_u \cap T|}

    averaged over the users with at least one relevant tail item. The ranking is over all the
    user's rows (head items compete for the top ``k`` too) and is the same ranking as for
    :func:`~sklearn_recsys.metrics.recall_at_k`, ties broken by the full ``y_true``.

    Parameters
    ----------
    y_true, y_score, groups
        See :func:`~sklearn_recsys.metrics.recall_at_k`.
    items : array-like of shape (n_samples,)
        Item id of each row.
    train : DataFrame or array-like, default=None
        Training interactions that define the tail; required unless ``tail_items`` is given.
    k : int, default=10
    head_share : float in (0, 1), default=0.8
    tail_items : array-like or None, default=None
        Explicit tail item ids, overriding the rule.
    ties : {"pessimistic", "stable", "optimistic"}, default="pessimistic"
    item_col : str, default="item_id"

    Returns
    -------
    tail_recall : float (NaN when no user has a relevant tail item)

    Examples
    --------
    >>> from sklearn_recsys.metrics import tail_recall_at_k
    >>> train = [1] * 8 + [2, 3]   # head = {1}, tail = {2, 3, ...}
    >>> tail_recall_at_k([1, 1, 1], [0.9, 0.8, 0.1], groups=[0, 0, 0], items=[1, 2, 3],
    ...                  train=train, k=2)
    0.5
    """
    if train is None and tail_items is None:
        raise ValueError("tail_recall_at_k needs train (to find the tail) or tail_items.")
    y_true, y_score, codes, n_groups = _check_ranking_input(y_true, y_score, groups)
    item_ids = check_id_column(
        items if isinstance(items, pd.Series) else np.asarray(items), name="items"
    )
    if len(item_ids) != len(y_true):
        raise ValueError(
            f"items must have one id per row; got {len(item_ids)} for {len(y_true)} rows."
        )
    if isinstance(item_ids.dtype, pd.CategoricalDtype):
        item_ids = item_ids.astype(object)
    is_tail = _tail_set(train, item_col, head_share, tail_items)(item_ids.to_numpy())
    return _tail_recall(y_true, y_score, codes, n_groups, is_tail, k=k, ties=ties)


def _tail_recall(y_true, y_score, codes, n_groups, is_tail, *, k, ties):
    """Mean recall@k of the relevant tail rows, on the ranking of all the rows (validated)."""
    ranking = _ranked(y_true, y_score, codes, n_groups, ties)
    values, _ = _from_ranking(
        ranking, np.where(is_tail, y_true, 0.0), codes, n_groups, k=k, metrics=("recall",)
    )
    return _mean_over_evaluated(values["recall"])


@validate_params(
    {
        **_REC,
        "train": ["array-like", pd.DataFrame],
        "catalog": ["array-like", numbers.Integral, None],
        "head_share": _SHARE,
        "tail_items": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def long_tail_report(
    recommendations,
    train,
    *,
    catalog=None,
    k=10,
    head_share=0.8,
    tail_items=None,
    user_col="user_id",
    item_col="item_id",
):
    """All long-tail metrics of top-``k`` lists in one call.

    Parameters
    ----------
    recommendations : DataFrame or array-like
    train : DataFrame or array-like
        Training interactions. ``novelty`` needs a DataFrame with ``user_col`` (NaN otherwise).
    catalog : array-like, int or None, default=None
        All recommendable items; None means the items of ``train`` and of the lists.
    k, head_share, tail_items, user_col, item_col
        See the single metrics.

    Returns
    -------
    scores : dict
        ``coverage@k``, ``arp@k``, ``aplt@k``, ``gini@k``, ``entropy@k``, ``novelty@k``.

    Examples
    --------
    >>> from sklearn_recsys.metrics import long_tail_report
    >>> train = [1] * 7 + [2, 3, 4]        # head = {1, 2}, tail = {3, 4}
    >>> r = long_tail_report([[1, 2], [1, 3]], train, k=2)
    >>> r["coverage@2"], r["aplt@2"]
    (0.75, 0.25)
    """
    if catalog is None:
        _, items, _ = _recommendation_lists(recommendations, k, user_col, item_col)
        catalog = pd.unique(
            np.concatenate(
                [
                    _train_items(train, item_col).astype(object).to_numpy(),
                    np.asarray(items, dtype=object),
                ]
            )
        )
    kw = {"k": k, "user_col": user_col, "item_col": item_col}
    has_users = isinstance(train, pd.DataFrame) and user_col in train.columns
    return {
        f"coverage@{k}": item_coverage(recommendations, catalog=catalog, **kw),
        f"arp@{k}": average_recommendation_popularity(recommendations, train, **kw),
        f"aplt@{k}": average_percentage_long_tail(
            recommendations, train, head_share=head_share, tail_items=tail_items, **kw
        ),
        f"gini@{k}": gini_index(recommendations, catalog=catalog, **kw),
        f"entropy@{k}": shannon_entropy(recommendations, **kw),
        f"novelty@{k}": novelty(recommendations, train, **kw) if has_users else float("nan"),
    }
