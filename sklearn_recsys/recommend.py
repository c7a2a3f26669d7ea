"""Top-k recommendation and full-ranking evaluation from any fitted scorer of (user, item) rows.

The estimator is anything fitted on the interaction frame (DESIGN.md section 2) with
``predict_proba``, ``decision_function`` or ``predict``: a classifier, a ranker, a pipeline
whose first step featurizes the frame. :func:`recommend` builds the candidate rows (every
(user, item) pair, minus the excluded ones), joins side features, scores them in batches of at
most ``batch_size`` rows and keeps the ``k`` best items per user. :func:`evaluate_topk` ranks,
for every test user, all the catalog items the user has not interacted with in training (the
"full ranking" protocol of RecBole) and reports ranking and long-tail metrics.
:class:`sklearn_recsys.dummy.PopularityRecommender` is the floor every model must beat.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions, validate_params
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ._contract import check_columns, check_id_column, plain_ids
from .metrics import (
    long_tail_report,
    popularity_buckets,
    predict_scores,
    ranking_scores_from_lists,
)

__all__ = ["evaluate_topk", "recommend"]


def __getattr__(name):
    # deprecated in 0.1: the baseline moved to sklearn_recsys.dummy, as scikit-learn's
    if name == "PopularityRecommender":
        warnings.warn(
            "sklearn_recsys.recommend.PopularityRecommender is deprecated and will be removed "
            "in the next release; import it from sklearn_recsys.dummy instead.",
            FutureWarning,
            stacklevel=2,
        )
        from .dummy import PopularityRecommender

        return PopularityRecommender
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ----------------------------------------------------------------------------- candidates
def _unique_ids(values, name):
    ids = check_id_column(
        values if isinstance(values, pd.Series) else np.asarray(values), name=name
    )
    if len(ids) == 0:
        raise ValueError(f"{name} is empty.")
    return pd.Index(pd.unique(plain_ids(ids).to_numpy()))


def _pair_codes(frame, users, items, user_col, item_col, name):
    """Sorted codes ``u * n_items + i`` of the (user, item) pairs of ``frame`` in the grid."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(
            f"{name} must be a DataFrame with {user_col!r} and {item_col!r}; got "
            f"{type(frame).__name__}."
        )
    check_columns(frame, user_col=user_col, item_col=item_col)
    u = users.get_indexer(plain_ids(frame[user_col]).to_numpy())
    i = items.get_indexer(plain_ids(frame[item_col]).to_numpy())
    ok = (u >= 0) & (i >= 0)
    return np.unique(u[ok].astype(np.int64) * len(items) + i[ok]), u, i, ok


def _side_block(table, ids, name):
    if table is None:
        return None
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{name} must be a DataFrame indexed by id; got {type(table).__name__}.")
    if table.index.has_duplicates:
        raise ValueError(
            f"{name} has duplicate ids in its index, e.g. "
            f"{table.index[table.index.duplicated()][0]!r}."
        )
    return table.reindex(ids).reset_index(drop=True)


def _uses_score_matrix(estimator, item_features, user_features, make_rows, response_method):
    """Whether the estimator scores a users x items grid itself (the retrievers, two-stage)."""
    return (
        callable(getattr(estimator, "score_matrix", None))
        and item_features is None
        and user_features is None
        and make_rows is None
        and response_method == "auto"
    )


def _score_batches(
    estimator,
    users,
    items,
    *,
    excluded,
    user_col,
    item_col,
    item_features,
    user_features,
    make_rows,
    batch_size,
    response_method,
):
    """Yield (first user position, scores of shape (n_batch_users, n_items)); -inf = excluded.

    An estimator with ``score_matrix(users, items, exclude=...)`` (the models of
    :mod:`sklearn_recsys.retrieval`) scores the grid itself, without a frame per candidate,
    unless side tables or ``make_rows`` ask for candidate rows.
    """
    n_items = len(items)
    per_batch = max(1, batch_size // n_items)
    item_block = _side_block(item_features, items, "item_features")
    user_block = _side_block(user_features, users, "user_features")
    item_arr = items.to_numpy()
    grid = _uses_score_matrix(estimator, item_features, user_features, make_rows, response_method)
    for u0 in range(0, len(users), per_batch):
        u1 = min(u0 + per_batch, len(users))
        nb = u1 - u0
        keep = np.ones(nb * n_items, dtype=bool)
        lo, hi = np.searchsorted(excluded, [u0 * n_items, u1 * n_items])
        keep[excluded[lo:hi] - u0 * n_items] = False
        if grid:
            mask = ~keep.reshape(nb, n_items)
            scores = np.array(
                estimator.score_matrix(users.to_numpy()[u0:u1], item_arr, exclude=mask), dtype=float
            )
            if scores.shape != (nb, n_items):
                raise ValueError(
                    f"score_matrix returned shape {scores.shape}; expected {(nb, n_items)}."
                )
            if np.isnan(scores).any():
                raise ValueError("The estimator returned NaN scores for some candidate rows.")
            scores[mask] = -np.inf
            yield u0, scores
            continue
        flat = np.flatnonzero(keep)
        upos, ipos = u0 + flat // n_items, flat % n_items
        scores = np.full(nb * n_items, -np.inf)
        if len(flat):
            frame = pd.DataFrame({user_col: users.to_numpy()[upos], item_col: item_arr[ipos]})
            blocks = [frame]
            if user_block is not None:
                blocks.append(user_block.iloc[upos].reset_index(drop=True))
            if item_block is not None:
                blocks.append(item_block.iloc[ipos].reset_index(drop=True))
            if len(blocks) > 1:
                frame = pd.concat(blocks, axis=1)
            if make_rows is not None:
                frame = make_rows(frame)
                if not isinstance(frame, pd.DataFrame) or len(frame) != len(flat):
                    raise ValueError(
                        "make_rows must return a DataFrame with one row per candidate, in the "
                        f"same order ({len(flat)} rows)."
                    )
            s = predict_scores(estimator, frame, response_method)
            if len(s) != len(flat):
                raise ValueError(f"The estimator returned {len(s)} scores for {len(flat)} rows.")
            if np.isnan(s).any():
                raise ValueError("The estimator returned NaN scores for some candidate rows.")
            scores[flat] = s
        yield u0, scores.reshape(nb, n_items)


def _top_k(scores, k):
    """(row, col, rank) of the k best finite entries per row; ties by column (candidate order)."""
    nb, n = scores.shape
    kk = min(k, n)
    thr = -np.partition(-scores, kk - 1, axis=1)[:, kk - 1]
    cand = (scores >= thr[:, None]) & np.isfinite(scores)
    rows, cols = np.nonzero(cand)
    order = np.lexsort((cols, -scores[rows, cols], rows))
    rows, cols = rows[order], cols[order]
    starts = np.searchsorted(rows, np.arange(nb))
    rank = np.arange(len(rows)) - starts[rows]
    keep = rank < k
    return rows[keep], cols[keep], rank[keep]


def _ranking(scores, tiebreak=None):
    """(row, col, rank) of every finite entry, best first in each row. Equal scores are ordered
    by ``tiebreak`` (a matrix like ``scores``, ascending) if given, then by column."""
    # chained stable sorts of each row, least significant key first (-inf sorts last)
    order = None if tiebreak is None else np.argsort(tiebreak, axis=1, kind="stable")
    key = -scores if order is None else np.take_along_axis(-scores, order, axis=1)
    step = np.argsort(key, axis=1, kind="stable")
    order = step if order is None else np.take_along_axis(order, step, axis=1)
    ranked = np.arange(scores.shape[1]) < np.isfinite(scores).sum(axis=1)[:, None]
    rows, rank = np.nonzero(ranked)
    return rows, order[ranked], rank


def _tiebreak(truth, u0, scores, ties):
    """Order of equal scores for the metrics: the relevance grade ascending (pessimistic: the
    non-relevant candidates first), descending (optimistic), or None (stable: candidate order).
    ``truth`` holds the relevant (user, item) positions of the batch that starts at user u0."""
    if ties == "stable":
        return None
    key = np.zeros_like(scores)
    inside = truth["item"].to_numpy() < scores.shape[1]
    sign = 1.0 if ties == "pessimistic" else -1.0
    key[truth["user"].to_numpy()[inside] - u0, truth["item"].to_numpy()[inside]] = (
        sign * truth["rel"].to_numpy()[inside]
    )
    return key


def _check_reranker(reranker, X_train=None):
    """A fitted re-ranker: as given when fitted, else a clone fitted on ``X_train``."""
    if reranker is None:
        return None
    if not callable(getattr(reranker, "rerank_scores", None)):
        raise TypeError(
            f"reranker must be a re-ranker of sklearn_recsys.rerank (with "
            f"rerank_scores); got {type(reranker).__name__}."
        )
    try:
        check_is_fitted(reranker)
    except NotFittedError:
        if X_train is None:
            raise
        reranker = clone(reranker).fit(X_train)
    return reranker


def _reranked(reranker, users, items, scores, k):
    """Scores that order the re-ranked top ``k`` of each user first (None: unchanged)."""
    if reranker is None:
        return scores
    return reranker.rerank_scores(users, items, scores, k=k)


_COMMON = {
    "estimator": "no_validation",
    "k": [Interval(numbers.Integral, 1, None, closed="left")],
    "user_col": [str, numbers.Integral],
    "item_col": [str, numbers.Integral],
    "item_features": [pd.DataFrame, None],
    "user_features": [pd.DataFrame, None],
    "make_rows": [callable, None],
    "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
    "response_method": [StrOptions({"auto", "predict_proba", "decision_function", "predict"})],
    "reranker": [HasMethods(["rerank_scores"]), None],
}


@validate_params(
    {**_COMMON, "users": ["array-like"], "items": ["array-like"], "exclude": [pd.DataFrame, None]},
    prefer_skip_nested_validation=True,
)
def recommend(
    estimator,
    users,
    items,
    k=10,
    *,
    exclude=None,
    user_col="user_id",
    item_col="item_id",
    item_features=None,
    user_features=None,
    make_rows=None,
    batch_size=1_000_000,
    response_method="auto",
    reranker=None,
):
    """Top-``k`` items per user from a fitted estimator of (user, item) rows.

    For each user, every item of ``items`` (minus the pairs in ``exclude``) becomes a candidate
    row ``{user_col: user, item_col: item}``; ``user_features`` / ``item_features`` columns are
    joined by id and ``make_rows`` may add or change columns. Rows are scored in batches of at
    most ``batch_size`` rows (whole users; one user's candidates always fit in one batch), so
    the memory is bounded by the batch, not by ``users x items``.

    Parameters
    ----------
    estimator : fitted estimator or pipeline
        Has ``predict_proba``, ``decision_function`` or ``predict`` on the candidate frame.
    users : array-like
        User ids (duplicates are scored once).
    items : array-like
        Candidate item ids, the catalog (duplicates are scored once).
    k : int, default=10
        Number of items per user.
    exclude : DataFrame or None, default=None
        (user, item) pairs never to recommend, e.g. the training interactions.
    user_col, item_col : str, default="user_id", "item_id"
        Column names of the candidate frame (and of ``exclude``).
    item_features, user_features : DataFrame or None, default=None
        Side tables indexed by id; their columns are joined to the candidate rows (ids missing
        from a table get NaN).
    make_rows : callable or None, default=None
        ``make_rows(frame) -> frame`` applied to every batch of candidates, returning one row
        per candidate in the same order (e.g. to add a context column such as ``position``).
    batch_size : int, default=1_000_000
        Largest number of candidate rows scored at once.
    response_method : str, default="auto"
        See :func:`sklearn_recsys.metrics.predict_scores`.
    reranker : fitted re-ranker or None, default=None
        A re-ranker of :mod:`sklearn_recsys.rerank`, fitted on the training interactions:
        each user's list is its re-ranking of the user's best-scored candidates.

    Returns
    -------
    recommendations : DataFrame
        ``user_col``, ``item_col``, ``score`` and ``rank`` (1 = best), sorted by user (in the
        order of ``users``) then rank. Equal scores are ordered as in ``items``. A user has
        fewer than ``k`` rows only when fewer candidates are left after ``exclude``. With a
        ``reranker``, ``rank`` is the re-ranked order and ``score`` the estimator's score.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_recsys.dummy import PopularityRecommender
    >>> from sklearn_recsys.recommend import recommend
    >>> train = pd.DataFrame({"user_id": [1, 1, 2, 3], "item_id": [10, 11, 10, 12]})
    >>> pop = PopularityRecommender().fit(train)
    >>> recommend(pop, users=[1, 2], items=[10, 11, 12, 13], k=2, exclude=train)
       user_id  item_id  score  rank
    0        1       12   0.25     1
    1        1       13   0.00     2
    2        2       11   0.25     1
    3        2       12   0.25     2
    """
    users = _unique_ids(users, "users")
    items = _unique_ids(items, "items")
    reranker = _check_reranker(reranker)
    excluded = np.empty(0, dtype=np.int64)
    if exclude is not None:
        excluded = _pair_codes(exclude, users, items, user_col, item_col, "exclude")[0]
    out = []
    for u0, scores in _score_batches(
        estimator,
        users,
        items,
        excluded=excluded,
        user_col=user_col,
        item_col=item_col,
        item_features=item_features,
        user_features=user_features,
        make_rows=make_rows,
        batch_size=batch_size,
        response_method=response_method,
    ):
        order = _reranked(
            reranker, users.to_numpy()[u0 : u0 + len(scores)], items.to_numpy(), scores, k
        )
        rows, cols, rank = _top_k(order, k)
        out.append(
            pd.DataFrame(
                {
                    user_col: users.to_numpy()[u0 + rows],
                    item_col: items.to_numpy()[cols],
                    "score": scores[rows, cols],
                    "rank": rank + 1,
                }
            )
        )
    return pd.concat(out, ignore_index=True)


@validate_params(
    {
        **_COMMON,
        "X_train": [pd.DataFrame],
        "X_test": [pd.DataFrame],
        "y_test": ["array-like", None],
        "k": [Interval(numbers.Integral, 1, None, closed="left"), list, tuple],
        "items": ["array-like", None],
        "exclude_train": ["boolean"],
        "head_share": [Interval(numbers.Real, 0, 1, closed="neither")],
        "gain": [StrOptions({"linear", "exponential"})],
        "ties": [StrOptions({"pessimistic", "stable", "optimistic"})],
        "return_recommendations": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def evaluate_topk(
    estimator,
    X_train,
    X_test,
    y_test=None,
    *,
    k=10,
    items=None,
    exclude_train=True,
    user_col="user_id",
    item_col="item_id",
    item_features=None,
    user_features=None,
    make_rows=None,
    batch_size=1_000_000,
    response_method="auto",
    head_share=0.8,
    gain="linear",
    ties="pessimistic",
    return_recommendations=False,
    reranker=None,
):
    """Full-ranking top-k evaluation on a held-out split, with ranking and long-tail metrics.

    The protocol of RecBole's full ranking: for each test user, every catalog item the user did
    not interact with in ``X_train`` is a candidate; the estimator scores them all (in batches,
    see :func:`recommend`); the relevant items are the user's test interactions with
    ``y_test > 0`` (all test rows when ``y_test`` is None), graded by ``y_test``.

    Metrics (means over the test users with at least one relevant item):
    ``ndcg``, ``recall``, ``precision``, ``hit_rate``, ``map`` at each ``k`` and ``mrr``
    (full ranking, no cut-off): each user's candidates are ranked (equal scores ordered as
    ``ties`` says) and scored by :func:`sklearn_recsys.metrics.ranking_scores_from_lists`, which
    gives the values of :func:`sklearn_recsys.metrics.ranking_scores` on all the candidate
    rows; ``tail_recall`` at each ``k`` (users with a relevant tail item, on the same ranking);
    and on the top-``k`` lists (equal scores ordered as the catalog): ``coverage``, ``arp``,
    ``aplt``, ``gini``, ``entropy``, ``novelty`` (see
    :func:`sklearn_recsys.metrics.long_tail_report`; popularity from ``X_train``). A relevant
    test item that is not a candidate (seen in training, outside ``items``, or scored ``-inf``
    by an estimator that cannot rank it) counts as missed.

    Parameters
    ----------
    estimator : fitted estimator or pipeline
        Fitted on ``X_train`` (or anything earlier); scores candidate rows.
    X_train : DataFrame
        Training interactions: the seen pairs to exclude and the popularity of items.
    X_test : DataFrame
        Held-out interactions with ``user_col`` and ``item_col``.
    y_test : array-like or None, default=None
        Relevance of each test row (> 0 relevant; graded values are NDCG gains).
    k : int or list of int, default=10
        Cut-off(s).
    items : array-like or None, default=None
        The catalog; None means every item of ``X_train`` and ``X_test``.
    exclude_train : bool, default=True
        Remove each user's training items from the user's candidates.
    user_col, item_col, item_features, user_features, make_rows, batch_size, response_method
        See :func:`recommend`.
    head_share : float, default=0.8
        Head / tail rule of the long-tail metrics.
    gain : {"linear", "exponential"}, default="linear"
        NDCG gain.
    ties : {"pessimistic", "stable", "optimistic"}, default="pessimistic"
        Tie handling of the ranking metrics.
    return_recommendations : bool, default=False
        Also return the top-``max(k)`` lists.
    reranker : re-ranker or None, default=None
        A re-ranker of :mod:`sklearn_recsys.rerank` (fitted; an unfitted one is cloned and
        fitted on ``X_train``). It re-orders the top ``max(k)`` of each user's candidates;
        every metric is computed on that order (items it did not pick keep their order below).

    Returns
    -------
    results : DataFrame
        Tidy: one row per metric and cut-off, columns ``metric``, ``k`` (``<NA>`` for
        ``mrr``), ``value`` and ``n_users`` (the users the value averages over).
    recommendations : DataFrame
        Only if ``return_recommendations``; as returned by :func:`recommend`.

    Examples
    --------
    The popularity floor of a toy split:

    >>> import pandas as pd
    >>> from sklearn_recsys.dummy import PopularityRecommender
    >>> from sklearn_recsys.recommend import evaluate_topk
    >>> train = pd.DataFrame({"user_id": [1, 1, 2, 3], "item_id": [10, 11, 10, 12]})
    >>> test = pd.DataFrame({"user_id": [2, 3], "item_id": [11, 13]})
    >>> pop = PopularityRecommender().fit(train)
    >>> res = evaluate_topk(pop, train, test, k=2)
    >>> res.set_index("metric").loc[["recall", "mrr"], "value"].round(4).tolist()
    [0.5, 0.4167]
    """
    ks = sorted({int(v) for v in ([k] if isinstance(k, numbers.Integral) else k)})
    if not ks or ks[0] < 1:
        raise ValueError(f"k must be an int >= 1 or a non-empty list of them; got {k!r}.")
    for name, frame in [("X_train", X_train), ("X_test", X_test)]:
        if len(frame) == 0:
            raise ValueError(f"{name} is empty: 0 rows.")
        check_columns(frame, user_col=user_col, item_col=item_col)
    reranker = _check_reranker(reranker, X_train)
    if y_test is None:
        rel = np.ones(len(X_test))
    else:
        rel = np.asarray(column_or_1d(y_test), dtype=float)
        if len(rel) != len(X_test):
            raise ValueError(f"y_test has {len(rel)} rows but X_test has {len(X_test)}.")
        if not np.isfinite(rel).all() or (rel < 0).any():
            raise ValueError("y_test must be finite and >= 0 (0 = not relevant).")
    test_users = plain_ids(check_id_column(X_test[user_col], name=f"user_col={user_col!r}"))
    test_items = plain_ids(check_id_column(X_test[item_col], name=f"item_col={item_col!r}"))
    relevant = pd.DataFrame({"u": test_users.to_numpy(), "i": test_items.to_numpy(), "rel": rel})
    relevant = relevant[relevant["rel"] > 0].groupby(["u", "i"], sort=False)["rel"].max()
    relevant = relevant.reset_index()
    if len(relevant) == 0:
        raise ValueError("X_test has no relevant row (y_test > 0); nothing to evaluate.")
    users = pd.Index(pd.unique(relevant["u"].to_numpy()))
    if items is None:
        train_items = plain_ids(check_id_column(X_train[item_col], name=f"item_col={item_col!r}"))
        catalog = pd.Index(
            pd.unique(np.concatenate([train_items.to_numpy(), test_items.to_numpy()]))
        )
    else:
        catalog = _unique_ids(items, "items")
    n_items = len(catalog)
    excluded = np.empty(0, dtype=np.int64)
    if exclude_train:
        excluded = _pair_codes(X_train, users, catalog, user_col, item_col, "X_train")[0]
    # the relevant pairs by position (user in users, item in the catalog); an item outside the
    # catalog gets a position of its own after it: never a candidate, so always missed
    item_pos = catalog.get_indexer(relevant["i"].to_numpy())
    outside = item_pos < 0
    item_pos[outside] = n_items + pd.factorize(relevant["i"].to_numpy()[outside])[0]
    is_tail = (
        popularity_buckets(
            relevant["i"].to_numpy(), X_train, cutoffs=(head_share,), item_col=item_col
        )
        == "tail"
    )
    truth = pd.DataFrame(
        {
            "user": users.get_indexer(relevant["u"].to_numpy()),
            "item": item_pos,
            "rel": relevant["rel"].to_numpy(),
        }
    )
    order = np.argsort(truth["user"].to_numpy(), kind="stable")
    truth, is_tail = truth.iloc[order], is_tail[order]
    first_row = np.searchsorted(truth["user"].to_numpy(), np.arange(len(users) + 1))

    metrics = ["ndcg", "recall", "precision", "hit_rate", "map", "mrr"]
    kw = {
        "k": ks,
        "gain": gain,
        "relevance_col": "rel",
        "user_col": "user",
        "item_col": "item",
        "per_user": True,
    }
    parts, tail_parts, recs = [], [], []
    kmax = ks[-1]
    for u0, scores in _score_batches(
        estimator,
        users,
        catalog,
        excluded=excluded,
        user_col=user_col,
        item_col=item_col,
        item_features=item_features,
        user_features=user_features,
        make_rows=make_rows,
        batch_size=batch_size,
        response_method=response_method,
    ):
        nb = scores.shape[0]
        raw = scores
        scores = _reranked(
            reranker, users.to_numpy()[u0 : u0 + nb], catalog.to_numpy(), scores, kmax
        )
        lo, hi = first_row[u0], first_row[u0 + nb]
        batch, batch_tail = truth.iloc[lo:hi], is_tail[lo:hi]
        # every candidate of each user ranked, equal scores ordered as ``ties`` says
        rows, cols, rank = _ranking(scores, _tiebreak(batch, u0, scores, ties))
        lists = pd.DataFrame({"user": u0 + rows, "item": cols})
        parts.append(ranking_scores_from_lists(lists, batch, metrics=metrics, **kw))
        if batch_tail.any():  # recall of the relevant tail items, on the same ranking
            tail_parts.append(
                ranking_scores_from_lists(
                    lists[rank < kmax], batch[batch_tail], metrics=["recall"], **kw
                )
            )
        rows, cols, rank = _top_k(scores, kmax)
        recs.append(
            pd.DataFrame(
                {
                    user_col: users.to_numpy()[u0 + rows],
                    item_col: catalog.to_numpy()[cols],
                    "score": raw[rows, cols],
                    "rank": rank + 1,
                }
            )
        )
    recommendations = pd.concat(recs, ignore_index=True)

    per_user = pd.concat(parts).drop(columns="n_relevant")
    tail = (
        pd.concat(tail_parts).drop(columns="n_relevant")
        if tail_parts
        else pd.DataFrame(columns=[f"recall@{kk}" for kk in ks], dtype=float)
    )
    records = []
    for prefix, frame in (("", per_user), ("tail_", tail)):
        for name, values in frame.items():
            metric, _, cutoff = name.partition("@")
            records.append(
                {
                    "metric": prefix + metric,
                    "k": int(cutoff) if cutoff else None,
                    "value": float(values.mean()),
                    "n_users": int(values.count()),
                }
            )
    n_lists = recommendations[user_col].nunique()
    for kk in ks:
        report = long_tail_report(
            recommendations,
            X_train,
            catalog=catalog.to_numpy(),
            k=kk,
            head_share=head_share,
            user_col=user_col,
            item_col=item_col,
        )
        for name, value in report.items():
            records.append(
                {"metric": name.split("@")[0], "k": kk, "value": value, "n_users": n_lists}
            )
    results = pd.DataFrame(records)
    results["k"] = results["k"].astype("Int64")
    order = {
        m: j
        for j, m in enumerate(
            [*metrics, "tail_recall", "coverage", "arp", "aplt", "gini", "entropy", "novelty"]
        )
    }
    results = results.sort_values(
        ["k", "metric"],
        key=lambda s: s.map(order) if s.name == "metric" else s,
        na_position="last",
        kind="mergesort",
    )
    results = results.reset_index(drop=True)
    if return_recommendations:
        return results, recommendations
    return results
