"""Plots for imbalance and popularity bias (matplotlib; each function returns the Axes)."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import Interval, validate_params

from ._lists import _recommendation_lists
from ._longtail import _bucket_of_counts, _check_cutoffs, _item_counts

__all__ = ["plot_exposure", "plot_long_tail", "plot_precision_recall"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


@validate_params(
    {"y_true": ["array-like"], "scores": [dict], "ax": "no_validation"},
    prefer_skip_nested_validation=True,
)
def plot_precision_recall(y_true, scores, *, ax=None):
    """Precision-recall curves of several models on the same labels.

    Uses :class:`sklearn.metrics.PrecisionRecallDisplay`; the legend shows each model's
    average precision and the chance level (the positive rate) is drawn as a dashed line.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Binary labels.
    scores : dict of str -> array-like of shape (n_samples,)
        Model name -> its scores or probabilities.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure if None.

    Returns
    -------
    ax : matplotlib Axes
        The axes with one curve per model.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn_recsys.metrics import plot_precision_recall
    >>> ax = plot_precision_recall([0, 1, 0, 1], {"model": [0.1, 0.9, 0.4, 0.6]})
    >>> ax.get_xlabel()
    'Recall'
    """
    from sklearn.metrics import PrecisionRecallDisplay

    if not scores:
        raise ValueError("scores is empty: pass at least one model name -> scores.")
    ax = _axes(ax)
    y = np.asarray(y_true)
    for name, s in scores.items():
        PrecisionRecallDisplay.from_predictions(y, s, name=name, ax=ax)
    ax.axhline(float(np.mean(y == 1)), ls="--", color="grey", lw=1, label="chance")
    ax.set_xlabel("Recall")
    ax.set_ylabel("Precision")
    ax.legend(loc="upper right")
    return ax


@validate_params(
    {
        "train": ["array-like", pd.DataFrame],
        "head_share": [Interval(numbers.Real, 0, 1, closed="neither")],
        "item_col": [str, numbers.Integral],
        "log": ["boolean"],
        "ax": "no_validation",
    },
    prefer_skip_nested_validation=True,
)
def plot_long_tail(train, *, head_share=0.8, item_col="item_id", log=False, ax=None):
    """Popularity long-tail curve: interactions per item, items sorted by popularity.

    The head (most popular items that make up ``head_share`` of the interactions) is shaded
    and separated from the tail by a vertical line.

    Parameters
    ----------
    train : DataFrame or array-like
        Interactions (frame with ``item_col`` or the item of each interaction).
    head_share : float in (0, 1), default=0.8
    item_col : str, default="item_id"
    log : bool, default=False
        Logarithmic y axis.
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes
        The axes with the curve, the head shaded.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn_recsys.metrics import plot_long_tail
    >>> ax = plot_long_tail([1, 1, 1, 1, 2, 2, 3])
    >>> ax.get_ylabel()
    'interactions'
    """
    counts = _item_counts(train, item_col)
    head = _bucket_of_counts(counts, np.array([head_share])) == 0
    n_head = int(head.sum())
    ax = _axes(ax)
    x = np.arange(1, len(counts) + 1)
    y = counts.to_numpy(dtype=float)
    ax.plot(x, y, color="C0")
    ax.fill_between(
        x[:n_head],
        y[:n_head],
        color="C0",
        alpha=0.3,
        label=f"head: {n_head} items, {head_share:.0%} of interactions",
    )
    ax.fill_between(
        x[n_head - 1 :],
        y[n_head - 1 :],
        color="C1",
        alpha=0.3,
        label=f"tail: {len(counts) - n_head} items",
    )
    ax.axvline(n_head + 0.5, color="grey", ls="--", lw=1)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("items by popularity rank")
    ax.set_ylabel("interactions")
    ax.legend(loc="upper right")
    return ax


@validate_params(
    {
        "recommendations": ["array-like", pd.DataFrame],
        "train": ["array-like", pd.DataFrame],
        "k": [Interval(numbers.Integral, 1, None, closed="left")],
        "cutoffs": ["array-like"],
        "user_col": [str, numbers.Integral],
        "item_col": [str, numbers.Integral],
        "ax": "no_validation",
    },
    prefer_skip_nested_validation=True,
)
def plot_exposure(
    recommendations, train, *, k=10, cutoffs=(0.8,), user_col="user_id", item_col="item_id", ax=None
):
    """Share of head / (mid) / tail items in the data and in the top-``k`` recommendations.

    Grouped bars per popularity bucket (see
    :func:`~sklearn_recsys.metrics.popularity_buckets`): the bucket's share of the training
    interactions, its share of the catalog items, and its share of the recommended slots.

    Parameters
    ----------
    recommendations : DataFrame or array-like
        Top-k lists (see :mod:`sklearn_recsys.metrics`).
    train : DataFrame or array-like
        Training interactions.
    k : int, default=10
    cutoffs : sequence of float, default=(0.8,)
        Bucket cut-offs in cumulative interaction share.
    user_col, item_col : str
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes
        The axes with three bars per bucket.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn_recsys.metrics import plot_exposure
    >>> ax = plot_exposure([[1, 2], [1, 3]], [1, 1, 1, 1, 2, 3, 4], k=2)
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['head', 'tail']
    """
    cut = _check_cutoffs(cutoffs)
    counts = _item_counts(train, item_col)
    bucket = _bucket_of_counts(counts, cut)
    n_b = len(cut) + 1
    names = {2: ["head", "tail"], 3: ["head", "mid", "tail"]}.get(
        n_b, [f"bucket_{j}" for j in range(n_b)]
    )
    inter = np.bincount(bucket, weights=counts.to_numpy(dtype=float), minlength=n_b)
    items_share = np.bincount(bucket, minlength=n_b) / len(bucket)
    _, rec_items, _ = _recommendation_lists(recommendations, k, user_col, item_col)
    pos = counts.index.get_indexer(rec_items)
    rec_bucket = np.where(pos >= 0, bucket[np.maximum(pos, 0)], n_b - 1)
    rec_share = np.bincount(rec_bucket, minlength=n_b) / len(rec_bucket)
    ax = _axes(ax)
    x = np.arange(n_b)
    w = 0.27
    ax.bar(x - w, inter / inter.sum(), w, label="share of interactions (train)")
    ax.bar(x, items_share, w, label="share of items")
    ax.bar(x + w, rec_share, w, label=f"share of top-{k} slots")
    ax.set_xticks(x)
    ax.set_xticklabels(names)
    ax.set_ylim(0, 1)
    ax.set_ylabel("share")
    ax.legend(loc="upper right")
    return ax
