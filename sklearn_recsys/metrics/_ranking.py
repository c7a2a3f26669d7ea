"""Per-user (per-query) ranking metrics, fully vectorised.

Every metric takes the scored rows of many users at once: ``y_true`` (relevance, binary or
graded), ``y_score`` (the model's score) and ``groups`` (the user / query id of each row). All
users are ranked by one :func:`numpy.lexsort` over ``(group, -score[, relevance])``; the
metrics are then bincounts over the sorted rows. There is no Python loop over users.

Conventions (documented in ``docs/metrics.md``):

- an item is *relevant* when its ``y_true`` is > 0; graded NDCG uses ``y_true`` as the gain
  (``gain="linear"``, the Järvelin & Kekäläinen definition, ranx' ``ndcg``) or ``2**y_true - 1``
  (``gain="exponential"``, Burges et al., ranx' ``ndcg_burges``);
- metrics are averaged over the groups with at least one relevant item; the other groups are left
  out without a warning and counted in :func:`ranking_scores` (``n_groups_evaluated``);
- ties in ``y_score`` are broken *pessimistically* by default: among rows with equal scores the
  non-relevant (and less relevant) ones come first, so a model is never rewarded for a tie and
  the result does not depend on the order of the rows. ``ties="stable"`` keeps the input order
  among equal scores and ``ties="optimistic"`` puts relevant rows first.
"""

from __future__ import annotations

import inspect
import numbers

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from .._contract import group_codes

__all__ = [
    "RANKING_METRICS",
    "hit_rate_at_k",
    "map_at_k",
    "mrr",
    "ndcg_at_k",
    "precision_at_k",
    "ranking_scores",
    "recall_at_k",
]

#: Names of the ranking metrics computed by :func:`ranking_scores`.
RANKING_METRICS = ("ndcg", "recall", "precision", "hit_rate", "map", "mrr")

_COMMON = {
    "y_true": ["array-like"],
    "y_score": ["array-like"],
    "groups": ["array-like"],
    "k": [Interval(numbers.Integral, 1, None, closed="left")],
    "ties": [StrOptions({"pessimistic", "stable", "optimistic"})],
}


# ----------------------------------------------------------------------------- validation
def _as_1d_float(values, name):
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a 1-d array of numbers; {exc}") from None
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-d; got an array of shape {arr.shape}.")
    return arr


def _check_ranking_input(y_true, y_score, groups):
    """Validate and convert the three columns; return (y_true, y_score, codes, n_groups)."""
    y_true = _as_1d_float(y_true, "y_true")
    y_score = _as_1d_float(y_score, "y_score")
    n = len(y_true)
    if n == 0:
        raise ValueError("y_true is empty: 0 rows (expected at least one scored row).")
    groups_arr = groups if isinstance(groups, pd.Series) else np.asarray(groups)
    if len(y_score) != n or len(groups_arr) != n:
        raise ValueError(
            "y_true, y_score and groups must have the same length; got "
            f"{n}, {len(y_score)} and {len(groups_arr)}."
        )
    if not np.isfinite(y_true).all():
        raise ValueError("y_true contains NaN or inf; relevance labels must be finite.")
    if (y_true < 0).any():
        raise ValueError(
            f"y_true must be >= 0 (0 = not relevant, > 0 = relevance grade); got {y_true.min()!r}."
        )
    if not np.isfinite(y_score).all():
        bad = int(np.flatnonzero(~np.isfinite(y_score))[0])
        raise ValueError(f"y_score contains NaN or inf (e.g. at row {bad}); scores must be finite.")
    codes, n_groups = group_codes(groups_arr, name="groups")
    return y_true, y_score, codes, n_groups


# ----------------------------------------------------------------------------- core
def _ranked(y_true, y_score, codes, n_groups, ties):
    """Rank the rows of every group by score: one sort by (group, -score[, relevance]).

    Returns ``(order, c, rank, starts)``: the sorting permutation, the sorted group codes, the
    0-based rank of each sorted row within its group and the first sorted row of each group.
    """
    # chained stable argsorts (least significant key first) are lexsort(): small integer keys
    # use numpy's radix sort, which makes this ~2x faster than np.lexsort on 1 M rows
    order = None
    if ties != "stable":
        key = y_true if ties == "pessimistic" else -y_true
        if (np.abs(key) < 2**15).all() and (key == np.round(key)).all():
            key = key.astype(np.int16)
        order = np.argsort(key, kind="stable")
    key = -y_score if order is None else -y_score[order]
    step = np.argsort(key, kind="stable")
    order = step if order is None else order[step]
    small = codes.astype(np.int16 if n_groups < 2**15 else np.int32)
    order = order[np.argsort(small[order], kind="stable")]
    c = codes[order]
    starts, rank = _positions(c, n_groups)
    return order, c, rank, starts


def _positions(c, n_groups):
    """First row of each group and 0-based position of each row within its group, for rows
    sorted by their group code ``c``."""
    starts = np.searchsorted(c, np.arange(n_groups))
    return starts, np.arange(len(c), dtype=np.int64) - starts[c]


def _gain(rel, gain):
    return rel if gain == "linear" else np.exp2(rel) - 1.0


def _ideal_dcg(y_true, codes, n_groups, k, gain):
    """DCG@k of the ideal ranking: only the relevant rows are sorted."""
    pos = np.flatnonzero(y_true > 0)
    if len(pos) == 0:
        return np.zeros(n_groups)
    rel, c = y_true[pos], codes[pos]
    order = np.lexsort((-rel, c))
    c, rel = c[order], rel[order]
    _, rank = _positions(c, n_groups)
    top = rank < k
    return np.bincount(
        c[top], weights=_gain(rel[top], gain) / np.log2(rank[top] + 2.0), minlength=n_groups
    )


def _from_ranking(ranking, y_true, codes, n_groups, *, k, metrics, gain="linear"):
    """Per-group metrics of an existing ranking, with relevance ``y_true`` (unsorted rows).

    The ranking may come from another relevance (e.g. all items, when ``y_true`` keeps only the
    tail items): ties are then broken by that relevance, the metrics count ``y_true``. It may
    also hold only the relevant rows, at their ranks among all rows (``inf``: not ranked).
    """
    order, c, rank, starts = ranking
    rel = y_true[order]
    is_rel = y_true > 0
    n_rel = np.bincount(codes, weights=is_rel, minlength=n_groups)
    hit = rel > 0
    top = rank < k
    out = {}
    if {"recall", "precision", "hit_rate"} & set(metrics):
        hits = np.bincount(c[top], weights=hit[top], minlength=n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        for name in metrics:
            if name == "recall":
                value = hits / n_rel
            elif name == "precision":
                value = hits / k
            elif name == "hit_rate":
                value = (hits > 0).astype(float)
            elif name == "ndcg":
                dcg = np.bincount(
                    c[top],
                    weights=_gain(rel[top], gain) / np.log2(rank[top] + 2.0),
                    minlength=n_groups,
                )
                value = dcg / _ideal_dcg(y_true, codes, n_groups, k, gain)
            elif name == "map":
                # ranx / TREC definition: sum of precision@i at the relevant ranks i <= k,
                # divided by the number of relevant items of the group
                csum = np.cumsum(hit)
                before = csum - hit
                within = csum - before[starts[c]]
                prec = np.where(hit & top, within / (rank + 1.0), 0.0)
                value = np.bincount(c, weights=prec, minlength=n_groups) / n_rel
            elif name == "mrr":
                idx = np.flatnonzero(hit)
                first = idx[np.r_[True, c[idx][1:] != c[idx][:-1]]] if len(idx) else idx
                value = np.zeros(n_groups)
                value[c[first]] = 1.0 / (rank[first] + 1.0)
            else:  # pragma: no cover - guarded by the callers
                raise ValueError(f"unknown ranking metric {name!r}")
            value = np.asarray(value, dtype=float)
            value[n_rel == 0] = np.nan
            out[name] = value
    return out, n_rel


def _per_group(y_true, y_score, codes, n_groups, *, k, metrics, gain="linear", ties="pessimistic"):
    """Per-group values of ``metrics`` (NaN where a group has no relevant row) and n_relevant."""
    ranking = _ranked(y_true, y_score, codes, n_groups, ties)
    return _from_ranking(ranking, y_true, codes, n_groups, k=k, metrics=metrics, gain=gain)


def _check_metrics(metrics):
    """The list of ranking metric names (None: all), validated."""
    metrics = list(RANKING_METRICS if metrics is None else metrics)
    unknown = [m for m in metrics if m not in RANKING_METRICS]
    if unknown or not metrics:
        raise ValueError(
            f"metrics={metrics!r} must be a non-empty list of {list(RANKING_METRICS)}."
        )
    return metrics


def _mean_over_evaluated(values):
    ok = ~np.isnan(values)
    return float(values[ok].mean()) if ok.any() else float("nan")


def _single(name, y_true, y_score, groups, k, gain="linear", ties="pessimistic"):
    y_true, y_score, codes, n_groups = _check_ranking_input(y_true, y_score, groups)
    values, _ = _per_group(
        y_true, y_score, codes, n_groups, k=k, metrics=(name,), gain=gain, ties=ties
    )
    return _mean_over_evaluated(values[name])


_PARAMETERS = """Parameters
    ----------
    {names}
        See :func:`ndcg_at_k`; a row is relevant when ``y_true > 0``.

    Returns
    -------
    score : float
        Mean over the groups with at least one relevant row (NaN if there is none)."""


def _single_metric(func):
    """Validate the parameters of a one-metric function and write its Parameters / Returns
    (those of :func:`ndcg_at_k`) at ``{parameters}`` in its docstring."""
    names = [p for p in _COMMON if p in inspect.signature(func).parameters]
    func.__doc__ = func.__doc__.replace(
        "{parameters}", _PARAMETERS.replace("{names}", ", ".join(names))
    )
    return validate_params({p: _COMMON[p] for p in names}, prefer_skip_nested_validation=True)(func)


# ----------------------------------------------------------------------------- public API
@validate_params(
    {**_COMMON, "gain": [StrOptions({"linear", "exponential"})]}, prefer_skip_nested_validation=True
)
def ndcg_at_k(y_true, y_score, *, groups, k=10, gain="linear", ties="pessimistic"):
    r"""Normalised discounted cumulative gain at ``k``, averaged over groups.

    .. math::
        \mathrm{DCG}_u@k = \sum_{r=1}^{k} \frac{g(y_{u,(r)})}{\log_2(r + 1)}, \qquad
        \mathrm{NDCG}_u@k = \frac{\mathrm{DCG}_u@k}{\mathrm{IDCG}_u@k}

    where :math:`y_{u,(r)}` is the relevance of the item ranked ``r`` for user ``u`` and the
    ideal DCG ranks the user's items by relevance. :math:`g(y) = y` (linear gain) or
    :math:`2^y - 1` (exponential gain).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Relevance of each row, >= 0; 0 means not relevant, graded values are gains.
    y_score : array-like of shape (n_samples,)
        Scores; higher ranks first. Must be finite.
    groups : array-like of shape (n_samples,)
        User / query id of each row.
    k : int, default=10
        Cut-off, >= 1.
    gain : {"linear", "exponential"}, default="linear"
        Gain of a relevance grade: ``y`` (as ranx' ``ndcg``) or ``2**y - 1`` (``ndcg_burges``).
    ties : {"pessimistic", "stable", "optimistic"}, default="pessimistic"
        Order of rows with equal scores: non-relevant first (pessimistic), input order, or
        relevant first.

    Returns
    -------
    score : float
        Mean over the groups with at least one relevant row (NaN if there is none).

    Examples
    --------
    >>> from sklearn_recsys.metrics import ndcg_at_k
    >>> y_true = [1, 0, 0, 0, 1]
    >>> y_score = [0.9, 0.8, 0.1, 0.7, 0.2]
    >>> groups = ["a", "a", "a", "b", "b"]
    >>> round(ndcg_at_k(y_true, y_score, groups=groups, k=2), 4)  # a: 1, b: 1/log2(3)
    0.8155
    """
    return _single("ndcg", y_true, y_score, groups, k, gain, ties)


@_single_metric
def recall_at_k(y_true, y_score, *, groups, k=10, ties="pessimistic"):
    r"""Share of a user's relevant items found in the top ``k``, averaged over groups.

    .. math:: \mathrm{Recall}_u@k = \frac{|\mathrm{top}_k(u) \cap R_u|}{|R_u|}

    {parameters}

    Examples
    --------
    >>> from sklearn_recsys.metrics import recall_at_k
    >>> recall_at_k([1, 1, 0, 1], [0.9, 0.1, 0.5, 0.3], groups=[0, 0, 0, 1], k=2)
    0.75
    """
    return _single("recall", y_true, y_score, groups, k, ties=ties)


@_single_metric
def precision_at_k(y_true, y_score, *, groups, k=10, ties="pessimistic"):
    r"""Share of the top ``k`` that is relevant, averaged over groups.

    .. math:: \mathrm{Precision}_u@k = \frac{|\mathrm{top}_k(u) \cap R_u|}{k}

    The denominator is ``k`` even when a user has fewer than ``k`` candidates (as in ranx and
    RecBole).

    {parameters}

    Examples
    --------
    >>> from sklearn_recsys.metrics import precision_at_k
    >>> precision_at_k([1, 1, 0, 1], [0.9, 0.1, 0.5, 0.3], groups=[0, 0, 0, 1], k=2)
    0.5
    """
    return _single("precision", y_true, y_score, groups, k, ties=ties)


@_single_metric
def hit_rate_at_k(y_true, y_score, *, groups, k=10, ties="pessimistic"):
    r"""Share of users with at least one relevant item in their top ``k``.

    .. math:: \mathrm{HR}@k = \frac{1}{|U|}\sum_u \mathbb{1}[\mathrm{top}_k(u) \cap R_u \neq
        \emptyset]

    {parameters}

    Examples
    --------
    >>> from sklearn_recsys.metrics import hit_rate_at_k
    >>> hit_rate_at_k([0, 1, 1, 0], [0.9, 0.1, 0.5, 0.3], groups=[0, 0, 1, 1], k=1)
    0.5
    """
    return _single("hit_rate", y_true, y_score, groups, k, ties=ties)


@_single_metric
def map_at_k(y_true, y_score, *, groups, k=10, ties="pessimistic"):
    r"""Mean average precision at ``k`` (TREC / ranx definition).

    .. math:: \mathrm{AP}_u@k = \frac{1}{|R_u|} \sum_{r=1}^{k} \mathrm{Precision}_u@r \cdot
        \mathbb{1}[y_{u,(r)} > 0]

    The normaliser is the number of relevant items :math:`|R_u|`, as in ranx and trec_eval;
    RecBole divides by :math:`\min(|R_u|, k)` instead, which gives larger values when users have
    more than ``k`` relevant items.

    {parameters}

    Examples
    --------
    >>> from sklearn_recsys.metrics import map_at_k
    >>> map_at_k([1, 0, 1], [0.9, 0.8, 0.7], groups=[0, 0, 0], k=3)  # (1/1 + 2/3) / 2
    0.8333333333333333
    """
    return _single("map", y_true, y_score, groups, k, ties=ties)


@_single_metric
def mrr(y_true, y_score, *, groups, ties="pessimistic"):
    r"""Mean reciprocal rank of the first relevant item (no cut-off).

    .. math:: \mathrm{MRR} = \frac{1}{|U|}\sum_u \frac{1}{\mathrm{rank}_u^*}

    {parameters}

    Examples
    --------
    >>> from sklearn_recsys.metrics import mrr
    >>> mrr([0, 1, 0, 0, 1], [0.9, 0.5, 0.1, 0.8, 0.7], groups=[0, 0, 0, 1, 1])  # (1/2 + 1/2) / 2
    0.5
    """
    return _single("mrr", y_true, y_score, groups, np.iinfo(np.int64).max, ties=ties)


@validate_params(
    {
        **_COMMON,
        "metrics": [list, tuple, None],
        "gain": [StrOptions({"linear", "exponential"})],
        "per_group": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def ranking_scores(
    y_true,
    y_score,
    *,
    groups,
    k=10,
    metrics=None,
    gain="linear",
    ties="pessimistic",
    per_group=False,
):
    """Several ranking metrics from a single sort, plus the number of users they cover.

    Parameters
    ----------
    y_true, y_score, groups, k, gain, ties
        See :func:`ndcg_at_k`.
    metrics : list of str or None, default=None
        Among ``"ndcg", "recall", "precision", "hit_rate", "map", "mrr"``; None means all.
    per_group : bool, default=False
        Return one row per group instead of the means.

    Returns
    -------
    scores : dict or DataFrame
        If ``per_group`` is False, a dict ``{"ndcg@k": ..., ..., "mrr": ..., "n_groups": ...,
        "n_groups_evaluated": ...}`` where ``n_groups_evaluated`` counts the groups with at least
        one relevant row (the others are left out of the means). If True, a DataFrame indexed
        by group id with one column per metric (NaN for the groups without a relevant row) and
        ``n_relevant``.

    Examples
    --------
    >>> from sklearn_recsys.metrics import ranking_scores
    >>> s = ranking_scores([1, 0, 0, 0, 0], [0.2, 0.9, 0.1, 0.3, 0.4], groups=[0, 0, 0, 1, 1],
    ...                    k=2, metrics=["recall", "mrr"])
    >>> s
    {'recall@2': 1.0, 'mrr': 0.5, 'n_groups': 2, 'n_groups_evaluated': 1}
    """
    metrics = _check_metrics(metrics)
    groups_in = groups
    y_true, y_score, codes, n_groups = _check_ranking_input(y_true, y_score, groups)
    values, n_rel = _per_group(
        y_true, y_score, codes, n_groups, k=k, metrics=metrics, gain=gain, ties=ties
    )
    names = {m: (m if m == "mrr" else f"{m}@{k}") for m in metrics}
    if per_group:
        groups_s = (
            groups_in if isinstance(groups_in, pd.Series) else pd.Series(np.asarray(groups_in))
        )
        uniques = pd.factorize(groups_s, sort=False)[1]
        frame = pd.DataFrame(
            {names[m]: values[m] for m in metrics}, index=pd.Index(uniques, name="group")
        )
        frame["n_relevant"] = n_rel.astype(np.int64)
        return frame
    out = {names[m]: _mean_over_evaluated(values[m]) for m in metrics}
    out["n_groups"] = int(n_groups)
    out["n_groups_evaluated"] = int((n_rel > 0).sum())
    return out
