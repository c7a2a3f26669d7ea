"""Binary classification metrics for rare positives.

The standard metrics come from scikit-learn and imbalanced-learn (average precision, ROC-AUC,
F1, balanced accuracy, :func:`imblearn.metrics.geometric_mean_score`,
:func:`imblearn.metrics.classification_report_imbalanced`). This module adds what they lack:
precision / recall in the top ``q`` share of scores, the F1-optimal threshold, the expected
calibration error, a one-call report and a per-group breakdown.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np
import pandas as pd
from imblearn.metrics import geometric_mean_score
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import (
    average_precision_score,
    balanced_accuracy_score,
    brier_score_loss,
    f1_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from .._contract import check_id_column
from ._ranking import _as_1d_float

__all__ = [
    "best_f1_threshold",
    "expected_calibration_error",
    "imbalanced_classification_scores",
    "per_group_scores",
    "precision_at_top_q",
    "recall_at_top_q",
]

_Q = Interval(numbers.Real, 0, 1, closed="right")
#: the parameters of the metrics of the top ``q`` share of scores
_TOP_Q = {"y_true": ["array-like"], "y_score": ["array-like"], "q": [_Q]}


def _check_binary(y_true, y_score, *, score_name="y_score"):
    """Validate a binary label and a finite score of the same length."""
    y_true = np.asarray(y_true)
    if y_true.ndim == 2 and y_true.shape[1] == 1:
        y_true = y_true.ravel()
    if y_true.ndim != 1:
        raise ValueError(f"y_true must be 1-d; got an array of shape {y_true.shape}.")
    y_score = _as_1d_float(y_score, score_name)
    if len(y_true) == 0:
        raise ValueError("y_true is empty: 0 rows (expected at least one labelled row).")
    if len(y_true) != len(y_score):
        raise ValueError(
            f"y_true and {score_name} must have the same length; got {len(y_true)} and "
            f"{len(y_score)}."
        )
    if not np.isfinite(y_score).all():
        raise ValueError(f"{score_name} contains NaN or inf; scores must be finite.")
    if y_true.dtype.kind == "f" and not np.isfinite(y_true).all():
        raise ValueError("y_true contains NaN or inf.")
    labels = np.unique(y_true)
    if not set(labels.tolist()) <= {0, 1}:
        raise ValueError(
            f"y_true must be binary with labels 0 and 1 (1 = the rare positive class); got "
            f"labels {labels[:5].tolist()}."
        )
    return y_true.astype(np.int8), y_score


def _n_top(n, q):
    return max(1, math.ceil(q * n - 1e-9))


def _top_hits(y_true, y_score, q):
    """Positives among the ``ceil(q * n)`` highest scores, ties broken pessimistically."""
    m = _n_top(len(y_true), q)
    order = np.lexsort((y_true, -y_score))  # among equal scores, negatives first
    return int(y_true[order[:m]].sum()), m


@validate_params(_TOP_Q, prefer_skip_nested_validation=True)
def precision_at_top_q(y_true, y_score, *, q=0.01):
    r"""Precision among the ``q`` share of rows with the highest scores.

    The top holds :math:`m = \lceil q n \rceil` rows (at least one); among equal scores the
    negatives are taken first (pessimistic ties), so constant scores earn nothing.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Binary labels, 1 = positive.
    y_score : array-like of shape (n_samples,)
        Scores or probabilities of the positive class.
    q : float in (0, 1], default=0.01
        Share of rows in the top.

    Returns
    -------
    precision : float
        Positives among the top rows, over the number of top rows.

    Examples
    --------
    >>> from sklearn_recsys.metrics import precision_at_top_q
    >>> precision_at_top_q([0, 1, 0, 1], [0.1, 0.9, 0.8, 0.3], q=0.5)
    0.5
    """
    y_true, y_score = _check_binary(y_true, y_score)
    hits, m = _top_hits(y_true, y_score, q)
    return hits / m


@validate_params(_TOP_Q, prefer_skip_nested_validation=True)
def recall_at_top_q(y_true, y_score, *, q=0.01):
    r"""Share of all positives found among the ``q`` share of rows with the highest scores.

    Parameters
    ----------
    y_true, y_score, q
        See :func:`precision_at_top_q`.

    Returns
    -------
    recall : float

    Raises
    ------
    ValueError
        If ``y_true`` has no positive.

    Examples
    --------
    >>> from sklearn_recsys.metrics import recall_at_top_q
    >>> recall_at_top_q([0, 1, 0, 1], [0.1, 0.9, 0.8, 0.3], q=0.5)
    0.5
    """
    y_true, y_score = _check_binary(y_true, y_score)
    n_pos = int(y_true.sum())
    if n_pos == 0:
        raise ValueError("y_true has no positive row; recall at the top is undefined.")
    hits, _ = _top_hits(y_true, y_score, q)
    return hits / n_pos


@validate_params(
    {"y_true": ["array-like"], "y_score": ["array-like"]}, prefer_skip_nested_validation=True
)
def best_f1_threshold(y_true, y_score):
    """Threshold that maximises the F1 score of the positive class.

    Computed from :func:`sklearn.metrics.precision_recall_curve`: every distinct score is a
    candidate; rows with ``y_score >= threshold`` are predicted positive.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Binary labels, 1 = positive.
    y_score : array-like of shape (n_samples,)
        Scores or probabilities.

    Returns
    -------
    threshold : float
    f1 : float
        The F1 score at that threshold.

    Examples
    --------
    >>> from sklearn_recsys.metrics import best_f1_threshold
    >>> best_f1_threshold([0, 0, 1, 1, 0], [0.1, 0.4, 0.35, 0.8, 0.2])
    (0.35, 0.8)
    """
    y_true, y_score = _check_binary(y_true, y_score)
    if y_true.sum() == 0:
        raise ValueError("y_true has no positive row; the F1 score is undefined.")
    precision, recall, thresholds = precision_recall_curve(y_true, y_score)
    p, r = precision[:-1], recall[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.where(p + r > 0, 2 * p * r / (p + r), 0.0)
    best = int(np.argmax(f1))
    return float(thresholds[best]), float(f1[best])


@validate_params(
    {
        "y_true": ["array-like"],
        "y_prob": ["array-like"],
        "n_bins": [Interval(numbers.Integral, 1, None, closed="left")],
        "strategy": [StrOptions({"uniform", "quantile"})],
    },
    prefer_skip_nested_validation=True,
)
def expected_calibration_error(y_true, y_prob, *, n_bins=10, strategy="uniform"):
    r"""Expected calibration error of predicted probabilities.

    .. math:: \mathrm{ECE} = \sum_{b=1}^{B} \frac{n_b}{n}\,\left|\bar y_b - \bar p_b\right|

    with the bins of :func:`sklearn.calibration.calibration_curve` (same edges, same
    assignment), so the ECE is the count-weighted gap of that curve.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Binary labels.
    y_prob : array-like of shape (n_samples,)
        Predicted probabilities of the positive class, in [0, 1].
    n_bins : int, default=10
        Number of bins.
    strategy : {"uniform", "quantile"}, default="uniform"
        Equal-width bins on [0, 1] or bins with equal numbers of rows.

    Returns
    -------
    ece : float
        In [0, 1]; 0 for perfect calibration.

    Examples
    --------
    >>> from sklearn_recsys.metrics import expected_calibration_error
    >>> round(expected_calibration_error([0, 0, 1, 1], [0.1, 0.3, 0.7, 0.9], n_bins=2), 3)
    0.2
    """
    y_true, y_prob = _check_binary(y_true, y_prob, score_name="y_prob")
    if y_prob.min() < 0 or y_prob.max() > 1:
        raise ValueError(
            f"y_prob must hold probabilities in [0, 1]; got values in "
            f"[{y_prob.min()!r}, {y_prob.max()!r}]."
        )
    if strategy == "quantile":
        bins = np.percentile(y_prob, np.linspace(0, 100, n_bins + 1))
    else:
        bins = np.linspace(0.0, 1.0, n_bins + 1)
    ids = np.searchsorted(bins[1:-1], y_prob)
    gap = np.bincount(ids, weights=y_true - y_prob, minlength=n_bins)
    return float(np.abs(gap).sum() / len(y_true))


def _scores_table(q):
    """name -> (function of (y_true, y_score, threshold), needs probabilities, needs both
    classes)."""
    return {
        "average_precision": (lambda y, s, t: average_precision_score(y, s), False, True),
        "roc_auc": (lambda y, s, t: roc_auc_score(y, s), False, True),
        "precision": (lambda y, s, t: precision_score(y, s >= t, zero_division=0.0), False, False),
        "recall": (lambda y, s, t: recall_score(y, s >= t, zero_division=0.0), False, True),
        "f1": (lambda y, s, t: f1_score(y, s >= t, zero_division=0.0), False, True),
        "balanced_accuracy": (lambda y, s, t: balanced_accuracy_score(y, s >= t), False, True),
        "geometric_mean": (
            lambda y, s, t: geometric_mean_score(y, (s >= t).astype(int)),
            False,
            True,
        ),
        f"precision@top{q:g}": (lambda y, s, t: precision_at_top_q(y, s, q=q), False, False),
        f"recall@top{q:g}": (lambda y, s, t: recall_at_top_q(y, s, q=q), False, True),
        "best_f1": (lambda y, s, t: best_f1_threshold(y, s)[1], False, True),
        "ece": (lambda y, s, t: expected_calibration_error(y, s), True, False),
        "brier": (lambda y, s, t: brier_score_loss(y, s), True, False),
    }


def _compute(table, names, y_true, y_score, threshold):
    is_prob = bool(y_score.min() >= 0 and y_score.max() <= 1)
    both = 0 < y_true.sum() < len(y_true)
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        for name in names:
            func, needs_prob, needs_both = table[name]
            if (needs_prob and not is_prob) or (needs_both and not both):
                out[name] = float("nan")
                continue
            try:
                out[name] = float(func(y_true, y_score, threshold))
            except ValueError:  # a user metric undefined on this subset
                out[name] = float("nan")
    return out


@validate_params(
    {
        "y_true": ["array-like"],
        "y_score": ["array-like"],
        "threshold": [numbers.Real],
        "q": [_Q],
        "metrics": [list, tuple, None],
    },
    prefer_skip_nested_validation=True,
)
def imbalanced_classification_scores(y_true, y_score, *, threshold=0.5, q=0.01, metrics=None):
    """The imbalance-aware classification metrics in one call.

    Threshold-free: ``average_precision`` (PR-AUC), ``roc_auc``, ``precision@top<q>``,
    ``recall@top<q>``, ``best_f1``; at ``threshold`` (``y_score >= threshold`` is positive):
    ``precision``, ``recall``, ``f1`` of the positive class, ``balanced_accuracy``,
    ``geometric_mean`` (imbalanced-learn); calibration: ``ece`` and ``brier`` (only when the
    scores are probabilities in [0, 1], NaN otherwise). Metrics that need both classes are NaN
    when ``y_true`` holds one class only.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Binary labels, 1 = positive.
    y_score : array-like of shape (n_samples,)
        Probabilities or scores of the positive class.
    threshold : float, default=0.5
        Decision threshold for the thresholded metrics.
    q : float in (0, 1], default=0.01
        Share of rows for precision / recall at the top.
    metrics : list of str or None, default=None
        Subset of the names above; None means all.

    Returns
    -------
    scores : dict
        Metric name -> value, plus ``n_samples`` and ``positive_rate``.

    See Also
    --------
    imblearn.metrics.classification_report_imbalanced : the per-class text report.

    Examples
    --------
    >>> from sklearn_recsys.metrics import imbalanced_classification_scores
    >>> s = imbalanced_classification_scores([0, 0, 0, 1], [0.1, 0.2, 0.6, 0.7])
    >>> s["average_precision"], s["precision"], s["recall"]
    (1.0, 0.5, 1.0)
    """
    y_true, y_score = _check_binary(y_true, y_score)
    table = _scores_table(q)
    names = list(table) if metrics is None else list(metrics)
    unknown = [m for m in names if m not in table]
    if unknown:
        raise ValueError(f"Unknown metrics {unknown}; choose among {list(table)}.")
    out = _compute(table, names, y_true, y_score, threshold)
    out["n_samples"] = len(y_true)
    out["positive_rate"] = float(y_true.mean())
    return out


@validate_params(
    {
        "y_true": ["array-like"],
        "y_score": ["array-like"],
        "groups": ["array-like"],
        "metrics": [list, tuple, dict, None],
        "threshold": [numbers.Real],
        "q": [_Q],
        "min_samples": [Interval(numbers.Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def per_group_scores(
    y_true, y_score, *, groups, metrics=None, threshold=0.5, q=0.01, min_samples=1
):
    """Classification metrics per group: category, popularity bucket, user segment.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Binary labels.
    y_score : array-like of shape (n_samples,)
        Scores or probabilities of the positive class.
    groups : array-like of shape (n_samples,)
        Group of each row, e.g. ``X["category"]`` or the output of
        :func:`~sklearn_recsys.metrics.popularity_buckets`.
    metrics : list of str, dict or None, default=None
        Names known to :func:`imbalanced_classification_scores`, or a dict ``name ->
        callable(y_true, y_score)``. None means ``["average_precision", "roc_auc",
        "recall@top<q>", "ece"]``.
    threshold, q
        See :func:`imbalanced_classification_scores`.
    min_samples : int, default=1
        Groups with fewer rows get NaN metrics (their counts are still reported).

    Returns
    -------
    scores : DataFrame
        One row per group (sorted when the groups are sortable): ``n_samples``, ``n_positives``,
        ``positive_rate`` and one column per metric. A metric that is undefined in a group
        (e.g. ROC-AUC with one class) is NaN there.

    Examples
    --------
    >>> from sklearn_recsys.metrics import per_group_scores
    >>> df = per_group_scores([0, 1, 0, 1, 0, 0], [.2, .9, .1, .3, .4, .5],
    ...                       groups=["a", "a", "a", "b", "b", "b"], metrics=["roc_auc"])
    >>> df["roc_auc"].tolist()
    [1.0, 0.0]
    """
    y_true, y_score = _check_binary(y_true, y_score)
    g = check_id_column(
        groups if isinstance(groups, pd.Series) else np.asarray(groups), name="groups"
    )
    if len(g) != len(y_true):
        raise ValueError(
            f"groups must have one value per row; got {len(g)} for {len(y_true)} rows."
        )
    if isinstance(metrics, dict):
        table = {name: (lambda y, s, t, f=f: f(y, s), False, False) for name, f in metrics.items()}
        names = list(metrics)
    else:
        table = _scores_table(q)
        names = (
            ["average_precision", "roc_auc", f"recall@top{q:g}", "ece"]
            if metrics is None
            else list(metrics)
        )
        unknown = [m for m in names if m not in table]
        if unknown:
            raise ValueError(f"Unknown metrics {unknown}; choose among {list(table)}.")
    codes, uniques = pd.factorize(g, sort=True)
    rows = []
    for j in range(len(uniques)):
        mask = codes == j
        yt, ys = y_true[mask], y_score[mask]
        row = {
            "n_samples": int(mask.sum()),
            "n_positives": int(yt.sum()),
            "positive_rate": float(yt.mean()),
        }
        if row["n_samples"] >= min_samples:
            row.update(_compute(table, names, yt, ys, threshold))
        else:
            row.update(dict.fromkeys(names, float("nan")))
        rows.append(row)
    index = pd.Index(uniques, name=getattr(groups, "name", None) or "group")
    return pd.DataFrame(rows, index=index)
