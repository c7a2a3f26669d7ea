"""Ranking metrics of top-k recommendation lists, against held-out relevant items.

Recommendations are given either as a DataFrame in long format (one row per recommended
(user, item), the output of :func:`sklearn_recsys.recommend.recommend`: ``user_col``,
``item_col`` and optionally a ``rank`` column, 1 = best) or as a 2-d array with one row per user
and the items from best to worst. The long-tail metrics of :mod:`sklearn_recsys.metrics` read
the same two formats.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from .._contract import check_columns, check_id_column, plain_ids
from ._ranking import _check_metrics, _from_ranking, _mean_over_evaluated

__all__ = ["ranking_scores_from_lists"]


# ----------------------------------------------------------------------------- inputs
def _parse_lists(recommendations, user_col, item_col, rank_col="rank", allow_empty=False):
    """Every recommendation as long arrays, sorted by user then position.

    Returns ``(codes, items, users, pos)``: the user code and item id of each row, the user ids
    (a :class:`pandas.Index`, in order of appearance; row numbers for a 2-d array) and the
    0-based position of each row in its user's list.
    """
    if isinstance(recommendations, pd.DataFrame):
        if len(recommendations) == 0 and not allow_empty:
            raise ValueError("recommendations is empty: 0 rows.")
        check_columns(
            recommendations, frame="recommendations", user_col=user_col, item_col=item_col
        )
        ids = check_id_column(recommendations[user_col], name=f"user_col={user_col!r}")
        items = check_id_column(recommendations[item_col], name=f"item_col={item_col!r}")
        codes, users = pd.factorize(plain_ids(ids), sort=False)
        if rank_col in recommendations.columns:
            rank = pd.to_numeric(recommendations[rank_col]).to_numpy()
            order = np.lexsort((rank, codes))
        else:  # order of the rows within each user
            order = np.argsort(codes, kind="stable")
        codes, items = codes[order], plain_ids(items).to_numpy()[order]
        starts = np.searchsorted(codes, np.arange(len(users)))
        return codes, items, pd.Index(users), np.arange(len(codes)) - starts[codes]
    arr = np.asarray(recommendations)
    if arr.ndim != 2:
        raise ValueError(
            "recommendations must be a DataFrame (user_col, item_col[, rank]) or a 2-d array "
            f"with one row of items per user; got an array of shape {arr.shape}."
        )
    if arr.size == 0 and not allow_empty:
        raise ValueError("recommendations is empty.")
    check_id_column(arr.ravel(), name="recommendations")
    n_users, length = arr.shape
    return (
        np.repeat(np.arange(n_users), length),
        arr.ravel(),
        pd.RangeIndex(n_users),
        np.tile(np.arange(length), n_users),
    )


def _recommendation_lists(recommendations, k, user_col, item_col):
    """Long arrays (user codes, items) of the first ``k`` recommendations of every user."""
    codes, items, users, pos = _parse_lists(recommendations, user_col, item_col)
    keep = pos < k
    return codes[keep], items[keep], len(users)


def _parse_relevant(relevant, n_lists, user_col, item_col, relevance_col):
    """(user ids, item ids, grades) of the relevant rows (grade > 0) of ``relevant``;
    ``n_lists``: the number of rows of a 2-d array of lists (None for a DataFrame)."""
    if isinstance(relevant, pd.DataFrame):
        if len(relevant) == 0:
            raise ValueError("relevant is empty: 0 rows (expected the held-out interactions).")
        check_columns(
            relevant,
            frame="relevant",
            user_col=user_col,
            item_col=item_col,
            relevance_col=relevance_col,
        )
        u = plain_ids(check_id_column(relevant[user_col], name=f"user_col={user_col!r}"))
        i = plain_ids(check_id_column(relevant[item_col], name=f"item_col={item_col!r}"))
        u, i = u.to_numpy(), i.to_numpy()
        grade = (
            np.ones(len(u))
            if relevance_col is None
            else pd.to_numeric(relevant[relevance_col]).to_numpy(dtype=float)
        )
    elif n_lists is not None and relevance_col is None and not isinstance(relevant, str):
        per_user = list(relevant)
        if len(per_user) != n_lists:
            raise ValueError(
                f"relevant must give the relevant items of each of the {n_lists} rows of "
                f"recommendations; got {len(per_user)} entries."
            )
        grades = [r if isinstance(r, Mapping) else dict.fromkeys(r, 1.0) for r in per_user]
        u = np.repeat(np.arange(len(grades)), [len(g) for g in grades])
        i = np.array([item for g in grades for item in g], dtype=object)
        grade = np.array([v for g in grades for v in g.values()], dtype=float)
        check_id_column(i, name="relevant items")
    else:
        raise TypeError(
            "relevant must be a DataFrame with user_col and item_col (the held-out "
            "interactions) or, with a 2-d array of recommendations and no relevance_col, one "
            f"collection of relevant items per row; got {type(relevant).__name__}."
        )
    if not np.isfinite(grade).all() or (grade < 0).any():
        what = (
            "the grades of relevant"
            if relevance_col is None
            else (f"relevance_col={relevance_col!r}")
        )
        raise ValueError(f"{what} must be finite and >= 0 (0 = not relevant).")
    keep = grade > 0
    return u[keep], i[keep], grade[keep]


def _cutoffs(k):
    """Sorted distinct cut-offs of an int or a sequence of ints >= 1."""
    values = [k] if isinstance(k, numbers.Integral) else list(k)
    if not values or not all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1 for v in values
    ):
        raise ValueError(f"k must be an int >= 1 or a non-empty list of them; got {k!r}.")
    return sorted({int(v) for v in values})


# ----------------------------------------------------------------------------- public API
@validate_params(
    {
        "recommendations": ["array-like", pd.DataFrame],
        "relevant": ["array-like", pd.DataFrame],
        "k": [Interval(numbers.Integral, 1, None, closed="left"), list, tuple],
        "metrics": [list, tuple, None],
        "gain": [StrOptions({"linear", "exponential"})],
        "relevance_col": [str, numbers.Integral, None],
        "user_col": [str, numbers.Integral],
        "item_col": [str, numbers.Integral],
        "per_user": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def ranking_scores_from_lists(
    recommendations,
    relevant,
    *,
    k=10,
    metrics=None,
    gain="linear",
    relevance_col=None,
    user_col="user_id",
    item_col="item_id",
    per_user=False,
):
    """Ranking metrics of recommendation lists against each user's relevant items.

    The list counterpart of :func:`ranking_scores`: where that function ranks scored rows, this
    one takes the lists as they were served, e.g. the output of
    :func:`sklearn_recsys.recommend.recommend`, and the held-out interactions, and computes the
    same metrics (same definitions, see :func:`ndcg_at_k` ... :func:`mrr`). A relevant item
    that is not in the user's list, or beyond position ``k``, is missed; a user with relevant
    items but no list counts with every metric 0.

    Parameters
    ----------
    recommendations : DataFrame or array-like of shape (n_users, n_recommended)
        Each user's list, best first: a DataFrame with ``user_col``, ``item_col`` and
        optionally ``rank`` (1 = best; without it, the order of the rows), or a 2-d array with
        one row of item ids per user. An item may appear once per list; an empty frame means
        that nothing was recommended.
    relevant : DataFrame or sequence
        The relevant items: a DataFrame with ``user_col``, ``item_col`` and optionally
        ``relevance_col`` (e.g. the test interactions; duplicated pairs keep their largest
        grade). With a 2-d array of recommendations, the users are its row numbers, and
        ``relevant`` may also be one collection of relevant item ids per row (or a dict item
        id -> grade).
    k : int or list of int, default=10
        Cut-off(s): ``<metric>@k`` reads the first ``k`` items of each list.
    metrics : list of str or None, default=None
        Among ``"ndcg", "recall", "precision", "hit_rate", "map", "mrr"``; None means all.
        ``"mrr"`` has no cut-off: it reads the whole list.
    gain : {"linear", "exponential"}, default="linear"
        NDCG gain of a relevance grade, see :func:`ndcg_at_k`.
    relevance_col : str or None, default=None
        Column of ``relevant`` with the relevance grade (> 0 relevant, 0 not); None: every
        row is relevant with grade 1.
    user_col, item_col : str, default="user_id", "item_id"
        Id columns of the DataFrames.
    per_user : bool, default=False
        Return one row per user instead of the means.

    Returns
    -------
    scores : dict or DataFrame
        If ``per_user`` is False, ``{"ndcg@k": ..., ..., "mrr": ..., "n_users": ...,
        "n_users_evaluated": ...}``: the means over the users with at least one relevant item
        (``n_users_evaluated``; ``n_users`` also counts the users of the lists without one).
        If True, a DataFrame indexed by user id with one column per metric (NaN for users
        without a relevant item) and ``n_relevant``.

    See Also
    --------
    ranking_scores : the same metrics from scored rows.
    long_tail_report : popularity-bias metrics of the same lists.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_recsys.metrics import ranking_scores_from_lists
    >>> recs = pd.DataFrame({"user_id": [1, 1, 2, 2], "item_id": ["a", "b", "a", "c"],
    ...                      "rank": [1, 2, 1, 2]})
    >>> test = pd.DataFrame({"user_id": [1, 2, 2], "item_id": ["b", "c", "d"]})
    >>> ranking_scores_from_lists(recs, test, k=2, metrics=["recall", "mrr"])
    {'recall@2': 0.75, 'mrr': 0.5, 'n_users': 2, 'n_users_evaluated': 2}

    A 2-d array of lists takes one collection of relevant items per row:

    >>> ranking_scores_from_lists([["a", "b"], ["a", "c"]], [{"b"}, {"c", "d"}], k=[1, 2],
    ...                           metrics=["hit_rate"])
    {'hit_rate@1': 0.0, 'hit_rate@2': 1.0, 'n_users': 2, 'n_users_evaluated': 2}
    """
    metrics = _check_metrics(metrics)
    ks = _cutoffs(k)
    codes, items, users, pos = _parse_lists(recommendations, user_col, item_col, allow_empty=True)
    rows = None if isinstance(recommendations, pd.DataFrame) else len(users)
    rel_users, rel_items, grade = _parse_relevant(relevant, rows, user_col, item_col, relevance_col)
    # users of the lists first, then the users with relevant items but no list
    extra = pd.unique(rel_users[users.get_indexer(rel_users) < 0])
    users = users.append(pd.Index(extra)) if len(extra) else users
    rel_codes = users.get_indexer(rel_users)
    # (user, item) pair codes; relevant items in no list get item codes of their own
    item_codes, item_ids = pd.factorize(items)
    rel_item_codes = pd.Index(item_ids).get_indexer(rel_items)
    unlisted = rel_item_codes < 0
    extra_codes, extra_items = pd.factorize(rel_items[unlisted])
    rel_item_codes[unlisted] = len(item_ids) + extra_codes
    n_codes = len(item_ids) + len(extra_items)
    pairs = codes.astype(np.int64) * n_codes + item_codes
    by_pair = np.argsort(pairs, kind="stable")
    sorted_pairs = pairs[by_pair]
    twice = np.flatnonzero(sorted_pairs[1:] == sorted_pairs[:-1])
    if len(twice):
        row = by_pair[twice[0]]
        item, user = items[[row]].tolist()[0], users[[codes[row]]].tolist()[0]
        raise ValueError(
            f"recommendations lists item {item!r} twice for user {user!r}; an "
            "item may appear once per list."
        )
    # one row per relevant (user, item) with its largest grade and its list position
    rel_pairs = rel_codes.astype(np.int64) * n_codes + rel_item_codes
    order = np.lexsort((-grade, rel_pairs))
    first = np.diff(rel_pairs[order], prepend=-1) != 0
    rel_pairs, rel_codes, grade = (a[order[first]] for a in (rel_pairs, rel_codes, grade))
    rank = np.full(len(rel_pairs), np.inf)  # inf: not in the list, never retrieved
    if len(sorted_pairs):
        at = np.minimum(np.searchsorted(sorted_pairs, rel_pairs), len(sorted_pairs) - 1)
        found = sorted_pairs[at] == rel_pairs
        rank[found] = pos[by_pair[at[found]]]
    # the ranking of the relevant rows: enough for every metric (other rows have no gain)
    order = np.lexsort((rank, rel_codes))
    c = rel_codes[order]
    ranking = (order, c, rank[order], np.searchsorted(c, np.arange(len(users))))
    values = {}
    for kk in ks:
        now = [m for m in metrics if m != "mrr" or kk == ks[0]]  # mrr has no cut-off
        vals, n_rel = _from_ranking(
            ranking, grade, rel_codes, len(users), k=kk, metrics=now, gain=gain
        )
        values.update({("mrr" if m == "mrr" else f"{m}@{kk}"): vals[m] for m in now})
    names = [
        ("mrr" if m == "mrr" else f"{m}@{kk}")
        for m in metrics
        for kk in (ks[:1] if m == "mrr" else ks)
    ]
    if per_user:
        frame = pd.DataFrame({n: values[n] for n in names}, index=pd.Index(users, name=user_col))
        frame["n_relevant"] = n_rel.astype(np.int64)
        return frame
    out = {n: _mean_over_evaluated(values[n]) for n in names}
    out["n_users"] = len(users)
    out["n_users_evaluated"] = int((n_rel > 0).sum())
    return out
