"""The main job: fit strategies on a split, score them, and summarise folds."""

from __future__ import annotations

import logging
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    balanced_accuracy_score,
    f1_score,
    recall_score,
    roc_auc_score,
)
from tqdm.auto import tqdm

from ..features import check_label_leakage
from ..metrics import ranking_report
from ._registry import STRATEGIES, NotApplicable, get_strategy_names

__all__ = [
    "RANKING_K",
    "FewTestRowsWarning",
    "check_benchmark_labels",
    "classification_table",
    "ranking_table",
    "run_benchmark",
    "run_benchmark_folds",
    "share_of_short_users",
]

logger = logging.getLogger(__name__)

#: cut-off of the per-user ranking metrics
RANKING_K = 10

#: ranking and long-tail columns of the table (re-ranking of each user's test rows, k = 10)
RANKING_COLUMNS = {
    f"{m}@{RANKING_K}": f"{m}@{RANKING_K}" for m in ("ndcg", "recall", "coverage", "aplt", "arp")
}


class FewTestRowsWarning(UserWarning):
    """Most users have fewer test rows than the cut-off ``k`` of the per-user metrics: every
    row of such a user is in its top-k, so ``recall@k`` reads 1 whatever the scores."""


def check_benchmark_labels(y, name="y"):
    """Check that a benchmark label is binary 0/1 with both classes.

    Parameters
    ----------
    y : array-like
        The label.
    name : str, default="y"
        How the label is named in the message.

    Raises
    ------
    ValueError
        If ``y`` holds strings or other values than 0/1 (which class is positive would be a
        guess: sorted order makes the *last* value positive, inverting ``["yes", "no"]``), or
        has one class.

    Examples
    --------
    >>> from sklearn_recsys.benchmark import check_benchmark_labels
    >>> check_benchmark_labels([0, 1, 0])
    >>> check_benchmark_labels(["no", "yes"])
    Traceback (most recent call last):
    ...
    ValueError: y holds ['no', 'yes'], not 0/1: the positive class would be a guess; ...
    """
    values = pd.Series(np.asarray(y))
    present = sorted(pd.unique(values.dropna()).tolist(), key=str)
    numeric = pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)
    if not numeric or not set(map(float, present)) <= {0.0, 1.0}:
        raise ValueError(
            f"{name} holds {present[:10]}, not 0/1: the positive class would be a "
            "guess; convert it to 0/1, e.g. load_benchmark_data(..., label=COL, "
            "positive=VALUE)"
        )
    if len(present) < 2:
        raise ValueError(
            f"{name} has one class only ({present}); a benchmark needs positives and negatives"
        )


def share_of_short_users(data, k=RANKING_K):
    """Share of test users with fewer than ``k`` test rows (the per-user @k metrics are
    uninformative for them: all their rows are in the top k).

    Parameters
    ----------
    data : BenchmarkData
        The split.
    k : int, default=10
        Cut-off of the per-user metrics.

    Returns
    -------
    share : float
        In [0, 1]; 0 when the test split is empty.

    Examples
    --------
    >>> from sklearn_recsys.benchmark import load_benchmark_data, share_of_short_users
    >>> data = load_benchmark_data("synthetic", n_interactions=3000)
    >>> 0 <= share_of_short_users(data) <= 1
    True
    """
    counts = data.X_test.groupby("user_id", observed=True).size()
    return float((counts < k).mean()) if len(counts) else 0.0


def _scores_and_labels(estimator, X):
    """Scores of the positive class and, for classifiers, the predicted labels.

    Scorers without ``predict_proba`` / ``decision_function`` (e.g. the popularity floor) are
    ranked by ``predict``; they have no class predictions, so the thresholded metrics are NaN.
    """
    if hasattr(estimator, "predict_proba"):
        return estimator.predict_proba(X)[:, 1], estimator.predict(X)
    if hasattr(estimator, "decision_function"):
        return estimator.decision_function(X), estimator.predict(X)
    return np.asarray(estimator.predict(X), dtype=float), None


def classification_table(y_true, y_score, y_pred):
    """The benchmark's classification metrics for one strategy (NaN where ``y_pred`` is None).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        0/1 test labels.
    y_score : array-like of shape (n_samples,)
        Scores of the positive class.
    y_pred : array-like of shape (n_samples,) or None
        Class predictions; None for scorers without any (the thresholded metrics are NaN).

    Returns
    -------
    row : dict
        ``roc_auc``, ``pr_auc``, ``f1_pos``, ``recall_pos``, ``balanced_acc``,
        ``pos_rate_test``, ``pos_rate_pred``.

    Examples
    --------
    >>> from sklearn_recsys.benchmark import classification_table
    >>> row = classification_table([0, 1, 0, 1], [0.1, 0.8, 0.3, 0.4], [0, 1, 0, 0])
    >>> row["roc_auc"], row["recall_pos"]
    (1.0, 0.5)
    """
    y_true = np.asarray(y_true)
    row = {
        "roc_auc": roc_auc_score(y_true, y_score),
        "pr_auc": average_precision_score(y_true, y_score),
        "f1_pos": np.nan,
        "recall_pos": np.nan,
        "balanced_acc": np.nan,
        "pos_rate_test": float(y_true.mean()),
        "pos_rate_pred": np.nan,
    }
    if y_pred is not None:
        row.update(
            f1_pos=f1_score(y_true, y_pred, zero_division=0),
            recall_pos=recall_score(y_true, y_pred, zero_division=0),
            balanced_acc=balanced_accuracy_score(y_true, y_pred),
            pos_rate_pred=float(np.mean(y_pred)),
        )
    return row


def ranking_table(data, y_score):
    """NDCG@10, Recall@10, coverage, APLT and ARP of each user's re-ranked test rows.

    Parameters
    ----------
    data : BenchmarkData
        The split (the training positives define item popularity).
    y_score : array-like of shape (n_test,)
        Scores of the test rows.

    Returns
    -------
    row : dict
        ``ndcg@10``, ``recall@10``, ``coverage@10``, ``aplt@10``, ``arp@10``.
    """
    train_pos = data.X_train.loc[np.asarray(data.y_train) > 0]
    r = ranking_report(
        data.y_test,
        y_score,
        groups=data.X_test["user_id"],
        items=data.X_test["item_id"],
        train=train_pos,
        k=RANKING_K,
    )
    return {col: r[key] for col, key in RANKING_COLUMNS.items()}


def _fit_and_score(name, data):
    """(row, scores, predictions) of one strategy on one split; NotApplicable propagates."""
    est = STRATEGIES[name].factory(data)
    t0 = time.perf_counter()
    est.fit(data.X_train, data.y_train)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    s, pred = _scores_and_labels(est, data.X_test)
    pred_s = time.perf_counter() - t0
    row = {
        "strategy": name,
        **classification_table(data.y_test, s, pred),
        **ranking_table(data, s),
        "fit_s": fit_s,
        "predict_s": pred_s,
        "note": "",
    }
    return row, s, pred


def _check_inputs(data, stacklevel):
    check_benchmark_labels(data.y_train, "y_train")
    check_benchmark_labels(data.y_test, "y_test")
    check_label_leakage(data.X_train, data.y_train, stacklevel=stacklevel + 1)
    short = share_of_short_users(data)
    if short > 0.5:
        warnings.warn(
            f"{short:.0%} of the test users have fewer than {RANKING_K} test rows: all their "
            f"rows are in their top {RANKING_K}, so recall@{RANKING_K} and ndcg@{RANKING_K} "
            "say little there (recall@k reads 1 whatever the scores); read roc_auc / pr_auc",
            FewTestRowsWarning,
            stacklevel=stacklevel + 1,
        )


def run_benchmark(data, strategies=None, *, verbose=1):
    """Fit each strategy on the training split and score it on the test split.

    Parameters
    ----------
    data : BenchmarkData
        The split, e.g. from :func:`load_benchmark_data`.
    strategies : list of str, str or None, default=None
        As in :func:`get_strategy_names`: ``None`` runs the default set, ``"all"`` every one.
    verbose : int, default=1
        Progress bar when > 0.

    Returns
    -------
    table : DataFrame
        One row per strategy: the metrics, fit and predict seconds, and ``note``.
    scores : dict
        Strategy name -> test scores (for plots).

    Raises
    ------
    ValueError
        If a strategy is unknown, or the labels are not 0/1 with both classes.

    Warns
    -----
    LabelLeakageWarning
        A feature column reproduces the label (e.g. the label left among the features).
    FewTestRowsWarning
        Most test users have fewer than 10 test rows (the @10 metrics are uninformative).

    Notes
    -----
    A strategy that does not apply to the data set (:class:`NotApplicable`, e.g. the text
    strategies without item text) gets a row of NaN metrics and the reason in ``note``.

    Examples
    --------
    >>> from sklearn_recsys.benchmark import load_benchmark_data, run_benchmark
    >>> data = load_benchmark_data("synthetic", n_interactions=5000)
    >>> table, scores = run_benchmark(data, ["popularity", "logistic"], verbose=0)
    >>> list(table.index), bool(table.loc["logistic", "roc_auc"] > 0.5)
    (['popularity', 'logistic'], True)
    """
    names = get_strategy_names(strategies)
    _check_inputs(data, stacklevel=2)
    rows, scores = [], {}
    for name in tqdm(names, desc=f"benchmark {data.name}", disable=not verbose):
        try:
            row, s, _ = _fit_and_score(name, data)
        except NotApplicable as exc:
            logger.info("strategy %s skipped: %s", name, exc)
            rows.append({"strategy": name, "note": f"not applicable: {exc}"})
            continue
        scores[name] = s
        rows.append(row)
    table = pd.DataFrame(rows).set_index("strategy")
    return table[[c for c in table.columns if c != "note"] + ["note"]], scores


def run_benchmark_folds(folds, strategies=None, *, verbose=1):
    """Run :func:`run_benchmark` on each fold and summarise each strategy's spread.

    Parameters
    ----------
    folds : list of BenchmarkData
        E.g. from :func:`load_benchmark_folds`.
    strategies : list of str, str or None, default=None
        As in :func:`run_benchmark`.
    verbose : int, default=1
        Progress bar when > 0.

    Returns
    -------
    summary : DataFrame
        One row per strategy: mean and standard deviation over the folds of ROC-AUC, PR-AUC,
        F1 and recall of the positive class (``<metric>_mean`` / ``<metric>_std``), and the
        number of folds.
    per_fold : DataFrame
        Every fold's table, with a ``fold`` column.
    """
    tables = []
    for k, data in enumerate(folds):
        table, _ = run_benchmark(data, strategies, verbose=verbose)
        tables.append(table.assign(fold=k))
    per_fold = pd.concat(tables)
    return summarize(per_fold, "fold"), per_fold


def summarize(per_run, by, metrics=("roc_auc", "pr_auc", "f1_pos", "recall_pos")):
    """Mean and standard deviation of each strategy's metrics over runs (folds or seeds).

    ``per_run`` is indexed by strategy, one row per run; the result has ``<metric>_mean``,
    ``<metric>_std`` and ``n_<by>s`` columns.
    """
    metrics = list(metrics)
    grouped = per_run.groupby(level="strategy", sort=False)[metrics]
    summary = grouped.mean().add_suffix("_mean").join(grouped.std(ddof=1).add_suffix("_std"))
    summary = summary[[f"{m}_{a}" for m in metrics for a in ("mean", "std")]]
    summary[f"n_{by}s"] = grouped.count()["roc_auc"]
    return summary
