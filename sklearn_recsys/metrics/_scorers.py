"""Scorers: every metric of the package as ``scoring=`` for GridSearchCV, cross_validate, Optuna.

Ranking and long-tail scorers read the user / query column from ``X`` itself (``group_col``,
default ``"user_id"``), so they work inside cross-validation without metadata routing: the
estimator scores the rows of the test fold, the rows are ranked per user, and the metric is
computed on that ranking.
"""

from __future__ import annotations

import numbers
import re

import numpy as np
import pandas as pd
from imblearn.metrics import geometric_mean_score
from sklearn.metrics import get_scorer as _sklearn_get_scorer
from sklearn.metrics import make_scorer
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from .._contract import check_columns, group_codes
from ._classification import (
    best_f1_threshold,
    expected_calibration_error,
    precision_at_top_q,
    recall_at_top_q,
)
from ._longtail import (
    _tail_recall,
    _tail_set,
    _train_items,
    average_percentage_long_tail,
    average_recommendation_popularity,
    gini_index,
    item_coverage,
    long_tail_report,
    novelty,
    shannon_entropy,
)
from ._ranking import (
    RANKING_METRICS,
    _check_ranking_input,
    _mean_over_evaluated,
    _per_group,
    ranking_scores,
)

__all__ = [
    "RankingScorer",
    "get_scorer",
    "make_ranking_scorer",
    "predict_scores",
    "ranking_report",
]

#: long-tail metrics usable in a RankingScorer -> greater is better?
_LONG_TAIL = {
    "coverage": True,
    "arp": False,
    "aplt": True,
    "gini": False,
    "entropy": True,
    "novelty": True,
    "tail_recall": True,
}
_NEEDS_TRAIN = {"arp", "aplt", "novelty", "tail_recall"}
_RESPONSE_METHODS = ("predict_proba", "decision_function", "predict")


def predict_scores(estimator, X, response_method="auto"):
    """Scores of a fitted estimator: one float per row, higher = more relevant.

    Parameters
    ----------
    estimator : fitted estimator or pipeline
    X : DataFrame
        Rows to score.
    response_method : {"auto", "predict_proba", "decision_function", "predict"}, default="auto"
        ``"auto"`` takes the first of ``predict_proba``, ``decision_function``, ``predict``
        that the estimator has. With ``predict_proba``, binary classifiers give the probability
        of the positive class (``classes_[1]``); multiclass classifiers with numeric classes
        (relevance grades) give the expected grade.

    Returns
    -------
    scores : ndarray of shape (n_samples,), float

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_recsys.metrics import predict_scores
    >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
    >>> clf = LogisticRegression().fit(X, y)
    >>> s = predict_scores(clf, X)
    >>> bool(np.all(np.diff(s) > 0))
    True
    """
    if response_method == "auto":
        methods = [m for m in _RESPONSE_METHODS if hasattr(estimator, m)]
        if not methods:
            raise TypeError(
                f"{type(estimator).__name__} has none of {list(_RESPONSE_METHODS)}; it cannot "
                "score rows."
            )
        response_method = methods[0]
    elif response_method not in _RESPONSE_METHODS:
        raise ValueError(
            f"response_method must be 'auto' or one of {list(_RESPONSE_METHODS)}; got "
            f"{response_method!r}."
        )
    out = np.asarray(getattr(estimator, response_method)(X))
    if response_method == "predict_proba":
        if out.ndim == 2 and out.shape[1] == 2:
            out = out[:, 1]
        elif out.ndim == 2:
            classes = np.asarray(getattr(estimator, "classes_", np.arange(out.shape[1])))
            if classes.dtype.kind not in "iuf":
                raise ValueError(
                    "predict_proba returns several non-numeric classes; scores need a binary "
                    "or a graded (numeric classes) classifier."
                )
            out = out @ classes.astype(float)
    out = np.asarray(out, dtype=float)
    if out.ndim == 2 and out.shape[1] == 1:
        out = out.ravel()
    if out.ndim != 1:
        raise ValueError(
            f"{response_method} returned an array of shape {out.shape}; expected one score per row."
        )
    return out


class RankingScorer:
    """Scorer ``scorer(estimator, X, y)`` for a ranking or long-tail metric.

    Build it with :func:`make_ranking_scorer`. The estimator scores the rows of ``X``; the
    rows are ranked within each ``X[group_col]`` (pessimistic ties by default) and the metric is
    computed on that ranking. For long-tail metrics the top-``k`` rows of each group form the
    recommendation lists, and the catalog is the set of items in ``X``. Metrics where lower is
    better (``arp``, ``gini``) are negated, as sklearn's ``neg_*`` scorers.

    Parameters
    ----------
    metric : str
        One of ``ndcg, recall, precision, hit_rate, map, mrr`` or ``coverage, arp, aplt,
        gini, entropy, novelty, tail_recall``.
    k : int
    group_col, item_col : str
    gain, ties : str
    train : DataFrame or None
    head_share : float
    tail_items : array-like or None
    response_method : str

    Attributes
    ----------
    greater_is_better : bool
        Whether the raw metric grows with quality (the scorer output always does).

    Examples
    --------
    >>> from sklearn_recsys.metrics import make_ranking_scorer
    >>> make_ranking_scorer("ndcg", k=5)
    make_ranking_scorer('ndcg', k=5, group_col='user_id')
    """

    def __init__(
        self,
        metric,
        *,
        k=10,
        group_col="user_id",
        item_col="item_id",
        gain="linear",
        ties="pessimistic",
        train=None,
        head_share=0.8,
        tail_items=None,
        response_method="auto",
    ):
        self.metric = metric
        self.k = k
        self.group_col = group_col
        self.item_col = item_col
        self.gain = gain
        self.ties = ties
        self.train = train
        self.head_share = head_share
        self.tail_items = tail_items
        self.response_method = response_method
        self.greater_is_better = _LONG_TAIL.get(metric, True)

    def __repr__(self):
        extra = "" if self.metric == "mrr" else f", k={self.k}"
        return f"make_ranking_scorer({self.metric!r}{extra}, group_col={self.group_col!r})"

    def __call__(self, estimator, X, y_true, sample_weight=None, **kwargs):
        if sample_weight is not None:
            raise TypeError("Ranking scorers do not support sample_weight.")
        if not isinstance(X, pd.DataFrame):
            raise TypeError(
                f"A ranking scorer reads the groups from X[{self.group_col!r}]; X must be a "
                f"DataFrame, got {type(X).__name__}."
            )
        check_columns(X, group_col=self.group_col)
        y_score = predict_scores(estimator, X, self.response_method)
        value = self._score(X, y_true, y_score)
        return value if self.greater_is_better else -value

    def _score(self, X, y_true, y_score):
        groups = X[self.group_col]
        if self.metric in RANKING_METRICS:
            y, s, codes, n_groups = _check_ranking_input(y_true, y_score, groups)
            k = np.iinfo(np.int64).max if self.metric == "mrr" else self.k
            values, _ = _per_group(
                y, s, codes, n_groups, k=k, metrics=(self.metric,), gain=self.gain, ties=self.ties
            )
            return _mean_over_evaluated(values[self.metric])
        check_columns(X, item_col=self.item_col)
        items = X[self.item_col]
        if self.metric == "tail_recall":
            y, s, codes, n_groups = _check_ranking_input(y_true, y_score, groups)
            tail = _tail_set(self.train, self.item_col, self.head_share, self.tail_items)
            is_tail = tail(
                np.asarray(
                    items.astype(object) if isinstance(items.dtype, pd.CategoricalDtype) else items
                )
            )
            return _tail_recall(y, s, codes, n_groups, is_tail, k=self.k, ties=self.ties)
        recs = _top_rows(groups, items, y_score, self.k, self.group_col, self.item_col)
        kw = {"k": self.k, "user_col": self.group_col, "item_col": self.item_col}
        if self.metric == "coverage":
            return item_coverage(recs, catalog=pd.unique(items.to_numpy()), **kw)
        if self.metric == "gini":
            return gini_index(recs, catalog=pd.unique(items.to_numpy()), **kw)
        if self.metric == "entropy":
            return shannon_entropy(recs, **kw)
        if self.metric == "arp":
            return average_recommendation_popularity(recs, self.train, **kw)
        if self.metric == "aplt":
            return average_percentage_long_tail(
                recs, self.train, head_share=self.head_share, tail_items=self.tail_items, **kw
            )
        return novelty(recs, self.train, **kw)


def _top_rows(groups, items, y_score, k, group_col, item_col):
    """Top-k rows per group (ties: input order) as a recommendations frame."""
    codes, _ = group_codes(groups, name=f"group_col={group_col!r}")
    order = np.lexsort((-y_score, codes))
    c = codes[order]
    starts = np.searchsorted(c, np.arange(c.max() + 1))
    rank = np.arange(len(c)) - starts[c]
    keep = order[rank < k]
    return pd.DataFrame(
        {
            group_col: np.asarray(groups)[keep],
            item_col: np.asarray(items)[keep],
            "rank": rank[rank < k] + 1,
        }
    )


@validate_params(
    {
        "metric": [StrOptions(set(RANKING_METRICS) | set(_LONG_TAIL))],
        "k": [Interval(numbers.Integral, 1, None, closed="left")],
        "group_col": [str, numbers.Integral],
        "item_col": [str, numbers.Integral],
        "gain": [StrOptions({"linear", "exponential"})],
        "ties": [StrOptions({"pessimistic", "stable", "optimistic"})],
        "train": [pd.DataFrame, "array-like", None],
        "head_share": [Interval(numbers.Real, 0, 1, closed="neither")],
        "tail_items": ["array-like", None],
        "response_method": [StrOptions({"auto", *_RESPONSE_METHODS})],
    },
    prefer_skip_nested_validation=True,
)
def make_ranking_scorer(
    metric,
    *,
    k=10,
    group_col="user_id",
    item_col="item_id",
    gain="linear",
    ties="pessimistic",
    train=None,
    head_share=0.8,
    tail_items=None,
    response_method="auto",
):
    """Make a scorer for a per-user ranking or long-tail metric.

    Parameters
    ----------
    metric : str
        Ranking: ``"ndcg"``, ``"recall"``, ``"precision"``, ``"hit_rate"``, ``"map"``,
        ``"mrr"``. Long tail: ``"coverage"``, ``"arp"`` (negated), ``"aplt"``, ``"gini"``
        (negated), ``"entropy"``, ``"novelty"``, ``"tail_recall"``.
    k : int, default=10
        Cut-off (ignored by ``"mrr"``).
    group_col : str, default="user_id"
        Column of ``X`` holding the user / query id.
    item_col : str, default="item_id"
        Column of ``X`` holding the item id (long-tail metrics).
    gain : {"linear", "exponential"}, default="linear"
        NDCG gain.
    ties : {"pessimistic", "stable", "optimistic"}, default="pessimistic"
        Tie handling of the ranking metrics.
    train : DataFrame or array-like, default=None
        Training interactions that define item popularity; required by ``"arp"``, ``"aplt"``,
        ``"novelty"`` (a DataFrame with ``group_col``) and ``"tail_recall"`` unless
        ``tail_items`` is given.
    head_share : float, default=0.8
        Head / tail rule (see :func:`~sklearn_recsys.metrics.popularity_buckets`).
    tail_items : array-like or None, default=None
        Explicit tail items.
    response_method : str, default="auto"
        See :func:`predict_scores`.

    Returns
    -------
    scorer : RankingScorer
        Callable ``scorer(estimator, X, y)``, greater is better.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import cross_val_score, GroupKFold
    >>> from sklearn_recsys.datasets import make_interactions
    >>> from sklearn_recsys.metrics import make_ranking_scorer
    >>> X, y = make_interactions(n_users=100, n_items=50, n_interactions=3000, random_state=0,
    ...                          return_X_y=True)
    >>> X = X[["user_id", "item_id", "price", "position"]]
    >>> scorer = make_ranking_scorer("ndcg", k=10)
    >>> cv = GroupKFold(n_splits=3)
    >>> scores = cross_val_score(LogisticRegression(), X, y, scoring=scorer, cv=cv,
    ...                          groups=X["user_id"])
    >>> bool(((scores >= 0) & (scores <= 1)).all())
    True
    """
    if (
        metric in _NEEDS_TRAIN
        and train is None
        and not (metric in {"aplt", "tail_recall"} and tail_items is not None)
    ):
        raise ValueError(
            f"metric={metric!r} needs train= (the training interactions that define item "
            "popularity)."
        )
    if metric == "novelty" and not isinstance(train, pd.DataFrame):
        raise TypeError("metric='novelty' needs train= as a DataFrame with user and item columns.")
    return RankingScorer(
        metric,
        k=k,
        group_col=group_col,
        item_col=item_col,
        gain=gain,
        ties=ties,
        train=train,
        head_share=head_share,
        tail_items=tail_items,
        response_method=response_method,
    )


@validate_params(
    {
        "y_true": ["array-like"],
        "y_score": ["array-like"],
        "groups": ["array-like"],
        "items": ["array-like", None],
        "train": [pd.DataFrame, "array-like", None],
        "k": [Interval(numbers.Integral, 1, None, closed="left")],
        "catalog": ["array-like", numbers.Integral, None],
        "head_share": [Interval(numbers.Real, 0, 1, closed="neither")],
        "user_col": [str, numbers.Integral],
        "item_col": [str, numbers.Integral],
    },
    prefer_skip_nested_validation=True,
)
def ranking_report(
    y_true,
    y_score,
    *,
    groups,
    items=None,
    train=None,
    k=10,
    catalog=None,
    head_share=0.8,
    user_col="user_id",
    item_col="item_id",
):
    """Ranking and long-tail metrics of scored rows, re-ranked within each group.

    What a benchmark table needs from one set of predictions on a test split: the rows of each
    user are ranked by score (as the ranking scorers do), giving the ranking metrics of
    :func:`~sklearn_recsys.metrics.ranking_scores`; the ``k`` best rows of each user form the
    recommendation lists of the long-tail metrics (equal scores in input order). This is a
    re-ranking of the given rows, not the full-ranking protocol of
    :func:`sklearn_recsys.recommend.evaluate_topk`.

    Parameters
    ----------
    y_true, y_score, groups
        See :func:`~sklearn_recsys.metrics.ndcg_at_k`.
    items : array-like or None, default=None
        Item of each row; needed for the long-tail metrics.
    train : DataFrame, array-like or None, default=None
        Training interactions; needed for ``arp``, ``aplt``, ``tail_recall`` and (as a
        DataFrame with ``user_col``) ``novelty``.
    k : int, default=10
    catalog : array-like, int or None, default=None
        Items for coverage and Gini; None means the items of ``items`` and ``train``.
    head_share : float, default=0.8
    user_col, item_col : str, default="user_id", "item_id"
        Columns of ``train``.

    Returns
    -------
    scores : dict
        ``ndcg@k``, ``recall@k``, ``precision@k``, ``hit_rate@k``, ``map@k``, ``mrr``,
        ``n_groups``, ``n_groups_evaluated``; with ``items``: ``coverage@k``, ``gini@k``,
        ``entropy@k``; with ``train`` too: ``arp@k``, ``aplt@k``, ``novelty@k``,
        ``tail_recall@k``.

    Examples
    --------
    >>> from sklearn_recsys.metrics import ranking_report
    >>> r = ranking_report([1, 0, 0, 1], [0.9, 0.2, 0.8, 0.1], groups=[0, 0, 1, 1],
    ...                    items=[5, 6, 5, 6], train=[5, 5, 5, 5, 6], k=1)
    >>> r["recall@1"], r["coverage@1"], r["aplt@1"]
    (0.5, 0.5, 0.0)
    """
    out = ranking_scores(y_true, y_score, groups=groups, k=k)
    if items is None:
        return out
    y, s, codes, n_groups = _check_ranking_input(y_true, y_score, groups)
    items_arr = np.asarray(
        items.astype(object)
        if isinstance(items, pd.Series) and isinstance(items.dtype, pd.CategoricalDtype)
        else items
    )
    if len(items_arr) != len(s):
        raise ValueError(f"items must have one id per row; got {len(items_arr)} for {len(s)} rows.")
    recs = _top_rows(np.asarray(groups), items_arr, s, k, user_col, item_col)
    kw = {"k": k, "user_col": user_col, "item_col": item_col}
    if catalog is None:
        parts = [items_arr.astype(object)]
        if train is not None:
            parts.append(_train_items(train, item_col).astype(object).to_numpy())
        catalog = pd.unique(np.concatenate(parts))
    out[f"coverage@{k}"] = item_coverage(recs, catalog=catalog, **kw)
    out[f"gini@{k}"] = gini_index(recs, catalog=catalog, **kw)
    out[f"entropy@{k}"] = shannon_entropy(recs, **kw)
    if train is not None:
        lt = long_tail_report(recs, train, catalog=catalog, head_share=head_share, **kw)
        for name in ("arp", "aplt", "novelty"):
            out[f"{name}@{k}"] = lt[f"{name}@{k}"]
        is_tail = _tail_set(train, item_col, head_share, None)(items_arr)
        out[f"tail_recall@{k}"] = _tail_recall(
            y, s, codes, n_groups, is_tail, k=k, ties="pessimistic"
        )
    return out


def _best_f1(y_true, y_score):
    return best_f1_threshold(y_true, y_score)[1]


_PROBA_OR_DECISION = ("predict_proba", "decision_function")
_NAME = re.compile(r"^(neg_)?([a-z_]+)@(\d+)$")


def get_scorer(scoring):
    """Scorer from a name: ours first, then scikit-learn's.

    Names:

    - ranking: ``"ndcg@10"``, ``"recall@10"``, ``"precision@10"``, ``"hit_rate@10"``,
      ``"map@10"`` (any ``k``), ``"mrr"``; long tail without popularity: ``"coverage@10"``,
      ``"neg_gini@10"``, ``"entropy@10"`` (ARP, APLT, novelty and tail recall need the training
      data: use :func:`make_ranking_scorer`);
    - classification: ``"precision@top0.01"``, ``"recall@top0.05"`` (any share),
      ``"best_f1"``, ``"geometric_mean"``, ``"neg_expected_calibration_error"``;
    - anything :func:`sklearn.metrics.get_scorer` knows: ``"average_precision"``,
      ``"roc_auc"``, ``"balanced_accuracy"``, ``"f1"``, ``"neg_brier_score"``, ...

    Parameters
    ----------
    scoring : str or callable
        A name, or a callable returned unchanged.

    Returns
    -------
    scorer : callable ``scorer(estimator, X, y)``

    Examples
    --------
    >>> from sklearn_recsys.metrics import get_scorer
    >>> get_scorer("ndcg@10")
    make_ranking_scorer('ndcg', k=10, group_col='user_id')
    >>> get_scorer("average_precision")
    make_scorer(average_precision_score, ...)
    """
    if callable(scoring):
        return scoring
    if not isinstance(scoring, str):
        raise TypeError(f"scoring must be a str or a callable; got {type(scoring).__name__}.")
    if scoring == "mrr":
        return make_ranking_scorer("mrr")
    m = _NAME.match(scoring)
    if m:
        neg, metric, k = m.group(1) is not None, m.group(2), int(m.group(3))
        lower_better = metric in _LONG_TAIL and not _LONG_TAIL[metric]
        if metric in _NEEDS_TRAIN:
            raise ValueError(
                f"scoring={scoring!r} needs the training interactions; use "
                f"make_ranking_scorer({metric!r}, k={k}, train=X_train)."
            )
        if (metric in RANKING_METRICS or metric in _LONG_TAIL) and neg == lower_better:
            return make_ranking_scorer(metric, k=k)
        if metric in _LONG_TAIL and lower_better and not neg:
            raise ValueError(f"{metric} is lower-is-better; use 'neg_{metric}@{k}'.")
    m = re.match(r"^(precision|recall)@top([0-9.]+)$", scoring)
    if m:
        q = float(m.group(2))
        if not 0 < q <= 1:
            raise ValueError(f"{scoring!r}: the top share must be in (0, 1]; got {q}.")
        func = precision_at_top_q if m.group(1) == "precision" else recall_at_top_q
        return make_scorer(func, response_method=_PROBA_OR_DECISION, q=q)
    if scoring == "best_f1":
        return make_scorer(_best_f1, response_method=_PROBA_OR_DECISION)
    if scoring == "geometric_mean":
        return make_scorer(geometric_mean_score)
    if scoring == "neg_expected_calibration_error":
        return make_scorer(
            expected_calibration_error, response_method="predict_proba", greater_is_better=False
        )
    try:
        return _sklearn_get_scorer(scoring)
    except ValueError:
        raise ValueError(
            f"{scoring!r} is not a known scorer: use e.g. 'ndcg@10', 'recall@10', 'mrr', "
            "'coverage@10', 'precision@top0.01', 'best_f1', 'geometric_mean', "
            "'neg_expected_calibration_error' or a scikit-learn scorer name."
        ) from None
