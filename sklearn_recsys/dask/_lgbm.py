"""The package's LightGBM classifiers and ranker trained on Dask frames (``lightgbm.dask``)."""

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np
import pandas as pd
from lightgbm.basic import LightGBMError
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context, clone
from sklearn.utils._param_validation import Interval
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.validation import check_is_fitted, validate_data

from .._contract import check_columns, check_id_column, group_codes, plain_ids
from ..boosting import FocalLGBMClassifier, GroupedLGBMRanker, ImbalancedLGBMClassifier
from ..boosting._focal import FocalObjective, focal_init_score
from ..boosting._frame import FrameEncoder, id_columns
from ..boosting._ranker import _check_relevance
from ..utils import derive_seed
from ._base import (
    add_counts,
    align,
    as_dask_frame,
    broadcast,
    check_dask_input,
    is_dask_frame,
    map_partitions,
    map_reduce,
    unpack,
)

__all__ = ["DaskLGBMClassifier", "DaskLGBMRanker"]

_Y, _W, _INIT, _G = "__y__", "__weight__", "__init_score__", "__group__"
_PART, _POS = "__partition__", "__position__"


# ---------------------------------------------------------------------------- partition kernels
def _scan(X, y, w, categorical):
    """Label counts (weighted) and the distinct values of the categorical columns."""
    if pd.isna(y).any():
        raise ValueError("y contains missing values.")
    weights = pd.Series(1.0 if w is None else np.asarray(w, dtype=np.float64), index=y.index)
    return {
        "classes": weights.groupby(y.to_numpy()).sum(),
        "levels": {c: pd.unique(X[c].dropna()) for c in categorical},
    }  # X None: none


def _merge_levels(a, b):
    """Union of two ``{column: distinct values}`` scans of the categorical columns."""
    return {c: pd.unique(np.concatenate([a[c], b[c]])) for c in a}


def _merge_scans(a, b):
    return {
        "classes": add_counts(a["classes"], b["classes"]),
        "levels": _merge_levels(a["levels"], b["levels"]),
    }


def _training_part(X, y, w, plan, partition_info=None):
    """Encoded rows of one partition, negatives down-sampled, with label, weight and init
    score columns. The draw is seeded by (seed, partition number): reproducible, and the
    partitions are sampled independently."""
    codes = np.searchsorted(plan["classes"], y.to_numpy())
    weight = np.ones(len(codes)) if w is None else np.asarray(w, dtype=np.float64)
    keep = np.ones(len(codes), dtype=bool)
    rate = plan["rate"]
    if rate < 1.0:
        number = 0 if partition_info is None else partition_info["number"]
        rng = np.random.default_rng([plan["seed"], number])
        majority = codes == plan["majority"]
        keep = ~majority | (rng.random(len(codes)) < rate)
        weight = np.where(majority, weight / rate, weight)
    rows = np.flatnonzero(keep)
    weight = weight[rows] * plan["row_weight"][codes[rows]]
    out = pd.DataFrame(
        plan["encoder"].transform(X, rows), columns=plan["names"], index=X.index[rows]
    )
    out[_Y] = codes[rows].astype(np.float64 if plan["focal"] else np.int64)
    out[_W] = weight
    out[_INIT] = plan["init_score"]
    return out


def _proba_part(X, model):
    proba = model._proba(X) if len(X) else np.zeros((0, len(model.classes_)))
    return pd.DataFrame(proba, columns=model._proba_columns, index=X.index)


class DaskLGBMClassifier(ClassifierMixin, BaseEstimator):
    """Train one of the package's LightGBM classifiers on a Dask frame (``lightgbm.dask``).

    ``estimator`` (an :class:`~sklearn_recsys.boosting.ImbalancedLGBMClassifier` or a
    :class:`~sklearn_recsys.boosting.FocalLGBMClassifier`, not fitted) gives every LightGBM
    setting: the class-weight preset (``class_weight``), the focal loss, trees and
    regularisation, LightGBM's other keyword arguments, the id and categorical columns (the
    deprecated parameter names warn as in the estimator's own ``fit``). The data stay on the
    workers:

    1. one pass counts the labels and collects the levels of the categorical columns (ids
       mapped to ``1 .. n`` as in the pandas model, unseen ids -> ``0``);
    2. each partition is encoded and, with ``sampling_strategy``, its majority-class rows are
       kept with probability ``r`` and weighted ``1 / r`` (so the weighted class totals, hence
       the class weights and the calibration, are those of all the rows);
    3. :class:`lightgbm.dask.DaskLGBMClassifier` trains on the workers (data-parallel, one
       LightGBM process per worker, histograms all-reduced between them); the focal objective
       runs on every worker on its own rows and starts from the focal ``init_score_`` of the
       weighted class totals.

    The fitted model (a plain LightGBM booster and the id encoding) predicts a Dask frame
    partition by partition and a pandas frame in process, without a cluster.

    Parameters
    ----------
    estimator : ImbalancedLGBMClassifier, FocalLGBMClassifier or None, default=None
        The settings to train with; None means ``ImbalancedLGBMClassifier()``. Early stopping
        (``early_stopping_rounds``) is not available on Dask.
    sampling_strategy : float or None, default=None
        Down-sample the majority class (binary targets) to about ``sampling_strategy``
        minority rows per majority row, as imbalanced-learn's ``RandomUnderSampler``; kept
        majority rows are weighted by the inverse of their sampling rate. None keeps all rows.
    random_state : int, RandomState instance or None, default=None
        Seeds the down-sampling (LightGBM is seeded by the estimator's ``random_state``).

    Attributes
    ----------
    estimator_ : ImbalancedLGBMClassifier or FocalLGBMClassifier
        The (unfitted) clone whose settings were used.
    model_ : lightgbm.LGBMClassifier
        The trained model, as a local (non-Dask) LightGBM model.
    booster_ : lightgbm.Booster
        Its booster.
    classes_ : ndarray of shape (n_classes,)
    class_counts_ : dict
        Rows (weighted) of each class in ``X``.
    class_weight_ : dict
        Weight of each class used in training.
    sampling_rate_ : float
        Share of the majority-class rows kept (1.0 without down-sampling).
    init_score_ : float or None
        Starting raw score of the focal objective (None otherwise).
    n_estimators_ : int
    categorical_features_ : list
        Columns passed to LightGBM as categorical.
    feature_importances_ : ndarray
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    See Also
    --------
    sklearn_recsys.boosting.ImbalancedLGBMClassifier : the in-memory model.
    lightgbm.dask.DaskLGBMClassifier : the distributed trainer underneath.
    classification_scores : ROC-AUC and average precision, partition by partition.

    Notes
    -----
    Needs a ``distributed.Client`` (``lightgbm.dask`` trains through one). With the same
    estimator and no down-sampling the model learns from the same rows and weights as the
    in-memory one; the trees differ a little because LightGBM bins features per worker and
    all-reduces histograms.

    Examples
    --------
    >>> from distributed import Client, LocalCluster  # doctest: +SKIP
    >>> client = Client(LocalCluster(n_workers=2, threads_per_worker=1))  # doctest: +SKIP
    >>> from sklearn_recsys.boosting import FocalLGBMClassifier
    >>> from sklearn_recsys.dask import DaskLGBMClassifier
    >>> clf = DaskLGBMClassifier(FocalLGBMClassifier(focal_gamma=2.0, n_estimators=50),
    ...                          sampling_strategy=0.2, random_state=0)
    >>> clf.fit(Xd, yd).predict_proba(Xd)  # doctest: +SKIP
    """

    _parameter_constraints = {
        "estimator": [ImbalancedLGBMClassifier, FocalLGBMClassifier, None],
        "sampling_strategy": [Interval(Real, 0, None, closed="neither"), None],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator=None, *, sampling_strategy=None, random_state=None):
        self.estimator = estimator
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train on a Dask frame.

        Parameters
        ----------
        X : dask DataFrame (or DataFrame) of shape (n_samples, n_features)
            Interaction frame or features (e.g. the output of
            :class:`~sklearn_recsys.dask.InteractionFeaturizer`).
        y : dask Series (or array-like) of shape (n_samples,)
            Class labels, split like ``X``.
        sample_weight : dask Series of shape (n_samples,), default=None
            Row weights, split like ``X``; multiplied by the class weights.

        Returns
        -------
        self : DaskLGBMClassifier
        """
        from lightgbm.dask import DaskLGBMClassifier as _Trainer

        client, X, y, est = _fit_inputs(self, X, y, sample_weight, ImbalancedLGBMClassifier)
        focal = isinstance(est, FocalLGBMClassifier)
        settings = {}
        for old, new in est._aliases:  # the deprecated names warn as in the pandas fit
            settings[new] = est._renamed(old, new)
        params = est._lgbm_params()
        meta = X._meta
        validate_data(self, meta, reset=True, skip_check_array=True)
        encoder, categorical = _frame_encoder(est, meta)
        # only the label (and the categorical columns) are read: X itself is not computed
        scan = map_reduce(
            _scan,
            _merge_scans,
            [X[categorical] if categorical else None, y, sample_weight],
            args=(categorical,),
        )
        counts = scan["classes"].sort_index()
        self.classes_ = counts.index.to_numpy()
        self.class_counts_ = {c: float(v) for c, v in zip(self.classes_.tolist(), counts)}
        n_classes = len(self.classes_)
        if n_classes < 2:
            raise ValueError(
                f"y contains 1 class ({self.classes_[0]!r}); a classifier needs at least 2."
            )
        if focal and n_classes > 2:
            raise ValueError(
                f"FocalLGBMClassifier supports binary targets only; y has {n_classes} classes."
            )
        self._encoder = encoder.fit(_levels_frame(X, scan["levels"]))
        self.categorical_features_ = list(encoder.categorical_)
        self.class_weight_ = _class_weights(
            est, self.classes_, counts.to_numpy(dtype=float), settings["class_weight"]
        )
        row_weight = np.array(list(self.class_weight_.values()), dtype=np.float64)
        self.sampling_rate_ = self._sampling_rate(counts.to_numpy())
        self.init_score_ = None
        if focal:
            if "objective" in params:
                raise ValueError(
                    f"objective={params['objective']!r}: the objective of "
                    "FocalLGBMClassifier is the focal loss."
                )
            alpha, gamma = settings["focal_alpha"], settings["focal_gamma"]
            self.init_score_ = focal_init_score(  # of the weighted totals, kept by the sampling
                np.arange(2.0),
                alpha=alpha,
                gamma=gamma,
                sample_weight=counts.to_numpy(dtype=float) * row_weight,
            )
            params.setdefault("feature_pre_filter", False)
            params.update(objective=FocalObjective(alpha, gamma), metric="None")
        else:
            params["objective"] = est.objective
        plan = {
            "classes": self.classes_,
            "encoder": encoder,
            "focal": focal,
            "names": [f"Column_{j}" for j in range(len(encoder.columns_))],
            "rate": self.sampling_rate_,
            "majority": int(np.argmax(counts.to_numpy())),
            "seed": derive_seed(self.random_state),
            "row_weight": row_weight,
            "init_score": 0.0 if self.init_score_ is None else self.init_score_,
        }
        fake = X._meta_nonempty
        meta_out = _training_part(
            fake, pd.Series(np.resize(self.classes_, len(fake)), index=fake.index), None, plan
        )
        train = map_partitions(
            _training_part, [X, y, sample_weight], broadcast(plan), meta=meta_out.iloc[:0]
        )

        def fit_kwargs(train):
            kwargs = {
                "sample_weight": train[_W],
                "categorical_feature": list(encoder.categorical_index_),
            }
            if focal:
                kwargs["init_score"] = train[_INIT]
            return kwargs

        _train_on_workers(self, _Trainer, client, params, train, plan["names"], fit_kwargs)
        return self

    def _sampling_rate(self, counts):
        if self.sampling_strategy is None:
            return 1.0
        if len(counts) != 2:
            raise ValueError(
                f"sampling_strategy needs a binary target; y has {len(counts)} classes."
            )
        return float(min(1.0, counts.min() / (self.sampling_strategy * counts.max())))

    # ------------------------------------------------------------------ predict
    @property
    def _proba_columns(self):
        return [str(c) for c in self.classes_]

    def _proba(self, X):
        """Class probabilities of a pandas frame (in process)."""
        Xe = pd.DataFrame(self._encoder.transform(X), columns=self.booster_.feature_name())
        if self.init_score_ is None:
            return self.model_.predict_proba(Xe)
        p = expit(self.booster_.predict(Xe, raw_score=True) + self.init_score_)
        return np.column_stack([1.0 - p, p])

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : dask DataFrame, or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        proba : dask DataFrame (one column per class, named ``str(class)``, partitions of
            ``X``) or ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        if is_dask_frame(X):
            check_dask_input(X)
            meta = pd.DataFrame(np.zeros((0, len(self.classes_))), columns=self._proba_columns)
            return X.map_partitions(_proba_part, broadcast(self), meta=meta)
        validate_data(self, X, reset=False, skip_check_array=True)
        if not isinstance(X, pd.DataFrame):  # an array in the column order seen in fit
            X = pd.DataFrame(X, columns=self._encoder.input_columns_)
        return self._proba(X)

    def predict(self, X):
        """Class with the highest probability.

        Parameters
        ----------
        X : dask DataFrame, or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        y_pred : dask Series or ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        if is_dask_frame(proba):
            classes = self.classes_
            return proba.map_partitions(
                lambda p: pd.Series(classes[p.to_numpy().argmax(1)], index=p.index),
                meta=pd.Series(classes[:0]),
            )
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags


# ------------------------------------------------------------------------------ the ranker
def _rank_scan(G, y, group_col, categorical, max_label):
    """Relevance grade counts, the distinct query ids and the levels of the categorical columns
    of one partition."""
    grades = _check_relevance(y, max_label)
    if group_col is None:
        groups = pd.Index([0] if len(grades) else [])
    else:
        ids = check_id_column(G[group_col], name=f"group_col={group_col!r}")
        groups = pd.Index(pd.unique(plain_ids(ids)))
    return {
        "grades": pd.Series(grades).value_counts(),
        "levels": {c: pd.unique(G[c].dropna()) for c in categorical},
        "groups": groups,
        "straddling": groups[:0],
    }


def _merge_rank_scans(a, b):
    """Merge two scans; a query seen in both comes from two partitions (it straddles)."""
    shared = a["groups"].intersection(b["groups"])
    return {
        "grades": add_counts(a["grades"], b["grades"]),
        "levels": _merge_levels(a["levels"], b["levels"]),
        "groups": a["groups"].append(b["groups"].difference(shared, sort=False)),
        "straddling": a["straddling"].append([b["straddling"], shared]).drop_duplicates(),
    }


def _ranking_part(X, y, w, plan):
    """Encoded rows of one partition sorted by query (stable: the order inside a query is
    kept, as in GroupedLGBMRanker), with relevance, weight and query-code columns."""
    group_col = plan["group_col"]
    if group_col is None:
        codes = np.zeros(len(X), dtype=np.int64)
    else:
        codes, _ = group_codes(X[group_col], name=f"group_col={group_col!r}")
    rows = np.argsort(codes, kind="stable")
    grades = _check_relevance(y, plan["max_label"])
    weight = np.ones(len(X)) if w is None else np.asarray(w, dtype=np.float64)
    if plan["grade_weight"] is not None:
        weight = weight * plan["grade_weight"][grades]
    out = pd.DataFrame(
        plan["encoder"].transform(X, rows), columns=plan["names"], index=X.index[rows]
    )
    out[_Y] = grades[rows]
    out[_W] = weight[rows]
    out[_G] = codes[rows]
    return out


def _number_rows(part, partition_info=None):
    """Tag each row with (partition number, position): its place in the caller's order."""
    number = 0 if partition_info is None else partition_info["number"]
    return part.assign(**{_PART: np.int64(number), _POS: np.arange(len(part), dtype=np.int64)})


def _shuffled_ranking_part(part, layout, plan):
    """:func:`_ranking_part` of a shuffled partition, its rows first put back in the caller's
    order (the shuffle does not keep it), so that the result does not depend on the shuffle."""
    part = part.iloc[np.lexsort((part[_POS].to_numpy(), part[_PART].to_numpy()))]
    return _ranking_part(*unpack(part, layout), plan)


def _run_lengths(codes):
    """Query sizes of one partition of sorted query codes (``group`` of lightgbm.dask)."""
    codes = codes.to_numpy()
    if not len(codes):
        return pd.Series(np.zeros(0, dtype=np.int64))
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1], True])
    return pd.Series(np.diff(starts))


def _score_part(X, model):
    score = model._score(X) if len(X) else np.zeros(0)
    return pd.Series(score, index=X.index, name="score")


def _grade_weights(class_weight, grades, counts):
    """LightGBM's weight of each relevance grade (``class_weight``) from the grade totals of
    all partitions: ``"balanced"`` is ``n / (n_grades * count)``, as scikit-learn's
    ``compute_class_weight`` (which LightGBM calls on the whole label)."""
    if class_weight is None:
        return None
    # one row per grade weighted by its total: the weights of the whole label
    weights = compute_class_weight(class_weight, classes=grades, y=grades, sample_weight=counts)
    return {int(g): float(v) for g, v in zip(grades, weights)}


class DaskLGBMRanker(BaseEstimator):
    """Train a :class:`~sklearn_recsys.boosting.GroupedLGBMRanker` on a Dask frame
    (``lightgbm.dask``).

    ``estimator`` (an unfitted :class:`~sklearn_recsys.boosting.GroupedLGBMRanker`) gives every
    LightGBM setting: the query column ``group_col``, the ranking objective, ``label_gain``,
    ``class_weight`` (weights per relevance grade), trees and regularisation, the id and
    categorical columns. As in the pandas ranker, a query is the set of rows with one value of
    ``X[group_col]`` (the user by default), and ``group_col`` is not a feature. The data stay on
    the workers:

    1. one pass checks the relevance labels, counts the grades, collects the levels of the
       categorical columns and the query ids of each partition;
    2. each partition is encoded and its rows sorted by query (stable: the order inside a
       query is kept); the query sizes of each partition are LightGBM's ``group``;
    3. :class:`lightgbm.dask.DaskLGBMRanker` trains on the workers (data-parallel, one LightGBM
       process per worker, histograms all-reduced between them).

    LightGBM's distributed ranker needs every query on one worker, so **the rows of a query
    must lie in one partition** (they need not be contiguous: each partition is sorted).
    Pass X partitioned by query (e.g. ``X.shuffle(on="user_id")`` once, or Parquet written by
    user), or set ``shuffle=True``. A query found in several partitions otherwise raises a
    ``ValueError`` naming some of them.

    The fitted model (a plain LightGBM booster and the id encoding) scores a Dask frame
    partition by partition and a pandas frame in process, without a cluster;
    :meth:`to_pandas` returns it as a fitted ``GroupedLGBMRanker``.

    Parameters
    ----------
    estimator : GroupedLGBMRanker or None, default=None
        The settings to train with; None means ``GroupedLGBMRanker()`` (queries by
        ``"user_id"``). Early stopping (``early_stopping_rounds``) is not available on Dask.
    shuffle : bool, default=False
        What to do when a query's rows are in several partitions of ``X``: False raises a
        ``ValueError``; True shuffles the rows (and ``y``, ``sample_weight``) by ``group_col``
        with Dask so that each query lands in one partition (every row crosses the network
        once; the number of partitions is kept), then puts each query's rows back in the
        caller's order. Data already partitioned by query is never shuffled.

    Attributes
    ----------
    estimator_ : GroupedLGBMRanker
        The (unfitted) clone whose settings were used.
    model_ : lightgbm.LGBMRanker
        The trained model, as a local (non-Dask) LightGBM model.
    booster_ : lightgbm.Booster
        Its booster.
    n_groups_ : int
        Number of queries in ``X``.
    grade_counts_ : dict
        Rows of each relevance grade in ``X``.
    class_weight_ : dict or None
        Weight of each grade used in training (None without ``class_weight``).
    shuffled_ : bool
        Whether the rows were shuffled by query before training.
    n_estimators_ : int
    categorical_features_ : list
        Columns passed to LightGBM as categorical.
    feature_importances_ : ndarray
    n_features_in_ : int
        Number of columns of ``X`` (``group_col`` included).
    feature_names_in_ : ndarray of str

    See Also
    --------
    sklearn_recsys.boosting.GroupedLGBMRanker : the in-memory model.
    lightgbm.dask.DaskLGBMRanker : the distributed trainer underneath.
    DaskLGBMClassifier : the classifiers on Dask.

    Notes
    -----
    Needs a ``distributed.Client``. With the same estimator the model learns from the same
    queries, grades and weights as the in-memory one; the trees differ a little because
    LightGBM bins features per worker and all-reduces histograms.

    Examples
    --------
    >>> from distributed import Client, LocalCluster  # doctest: +SKIP
    >>> client = Client(LocalCluster(n_workers=2, threads_per_worker=1))  # doctest: +SKIP
    >>> from sklearn_recsys.boosting import GroupedLGBMRanker
    >>> from sklearn_recsys.dask import DaskLGBMRanker
    >>> ranker = DaskLGBMRanker(GroupedLGBMRanker("user_id", n_estimators=50), shuffle=True)
    >>> ranker.fit(Xd, yd).predict(Xd)  # doctest: +SKIP
    >>> ranker.to_pandas().score(X_test, y_test)  # NDCG@10 in process  # doctest: +SKIP
    """

    _parameter_constraints = {
        "estimator": [GroupedLGBMRanker, None],
        "shuffle": ["boolean"],
    }

    def __init__(self, estimator=None, *, shuffle=False):
        self.estimator = estimator
        self.shuffle = shuffle

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train on a Dask frame.

        Parameters
        ----------
        X : dask DataFrame (or DataFrame) of shape (n_samples, n_features)
            Interaction frame or features with the ``group_col`` column of the estimator.
        y : dask Series (or array-like) of shape (n_samples,)
            Graded relevance (non-negative integers, 0 = not relevant), split like ``X``.
        sample_weight : dask Series of shape (n_samples,), default=None
            Row weights, split like ``X``; multiplied by the grade weights.

        Returns
        -------
        self : DaskLGBMRanker
        """
        from lightgbm.dask import DaskLGBMRanker as _Trainer

        client, X, y, est = _fit_inputs(self, X, y, sample_weight, GroupedLGBMRanker)
        params = est._lgbm_params()
        meta = X._meta
        validate_data(self, meta, reset=True, skip_check_array=True)
        group_col = est.group_col
        if group_col is None and X.npartitions > 1:
            raise ValueError(
                f"group_col=None makes all rows one query, which must lie in one partition; X "
                f"has {X.npartitions}. Give the query column (group_col) or repartition X to 1."
            )
        check_columns(meta, group_col=group_col)
        exclude = () if group_col is None else (group_col,)
        encoder, categorical = _frame_encoder(est, meta, exclude)
        max_label = 30 if est.label_gain is None else len(est.label_gain) - 1
        read = [*exclude, *categorical]
        scan = map_reduce(
            _rank_scan,
            _merge_rank_scans,
            [X[read] if read else None, y],
            args=(group_col, categorical, max_label),
        )
        straddling = scan["straddling"]
        self.shuffled_ = bool(len(straddling))
        if self.shuffled_ and not self.shuffle:
            raise ValueError(
                f"{len(straddling)} of {len(scan['groups'])} queries (group_col="
                f"{group_col!r}) have rows in several partitions of X, e.g. "
                f"{straddling[:3].tolist()}; lightgbm.dask needs each query in one partition. "
                f"Pass shuffle=True to shuffle the rows by {group_col!r} first, or partition "
                f"X by query (e.g. X.shuffle(on={group_col!r}))."
            )
        self.n_groups_ = len(scan["groups"])
        counts = scan["grades"].sort_index()
        grades = counts.index.to_numpy()
        self.grade_counts_ = {int(g): int(n) for g, n in zip(grades, counts)}
        self.class_weight_ = _grade_weights(est.class_weight, grades, counts.to_numpy(float))
        grade_weight = None
        if self.class_weight_ is not None:
            grade_weight = np.ones(grades.max() + 1)
            grade_weight[grades] = list(self.class_weight_.values())
        self._encoder = encoder.fit(_levels_frame(X, scan["levels"]))
        self.categorical_features_ = list(encoder.categorical_)
        plan = {
            "group_col": group_col,
            "encoder": encoder,
            "names": [f"Column_{j}" for j in range(len(encoder.columns_))],
            "max_label": max_label,
            "grade_weight": grade_weight,
        }
        fake = X._meta_nonempty
        meta_out = _ranking_part(fake, pd.Series(np.zeros(len(fake), int)), None, plan).iloc[:0]
        if self.shuffled_:
            combined, layout = align([X, y, sample_weight])
            numbered = _number_rows(combined._meta_nonempty).iloc[:0]
            combined = combined.map_partitions(_number_rows, meta=numbered).shuffle(on=group_col)
            train = combined.map_partitions(
                _shuffled_ranking_part, layout, broadcast(plan), meta=meta_out
            )
        else:
            train = map_partitions(
                _ranking_part, [X, y, sample_weight], broadcast(plan), meta=meta_out
            )
        if est.label_gain is not None:
            params["label_gain"] = list(est.label_gain)
        params["objective"] = est.objective

        def fit_kwargs(train):
            return {
                "sample_weight": train[_W],
                "group": train[_G].map_partitions(_run_lengths, meta=pd.Series([], dtype=int)),
                "categorical_feature": list(encoder.categorical_index_),
            }

        _train_on_workers(self, _Trainer, client, params, train, plan["names"], fit_kwargs)
        return self

    def _score(self, X):
        """Scores of a pandas frame (in process)."""
        return self.booster_.predict(self._encoder.transform(X), num_iteration=self.n_estimators_)

    def predict(self, X):
        """Ranking score of every row (higher ranks first).

        Parameters
        ----------
        X : dask DataFrame, or DataFrame of shape (n_samples, n_features)
            Rows in any order and partitioning (queries may straddle partitions here).

        Returns
        -------
        score : dask Series named ``"score"`` (partitions of ``X``) or ndarray of shape
            (n_samples,)
        """
        check_is_fitted(self)
        if is_dask_frame(X):
            check_dask_input(X)
            meta = pd.Series(np.zeros(0), name="score")
            return X.map_partitions(_score_part, broadcast(self), meta=meta)
        validate_data(self, X, reset=False, skip_check_array=True)
        if not isinstance(X, pd.DataFrame):  # an array in the column order seen in fit
            X = pd.DataFrame(X, columns=self._encoder.input_columns_)
        return self._score(X)

    def to_pandas(self):
        """The fitted model as a fitted :class:`~sklearn_recsys.boosting.GroupedLGBMRanker`.

        It predicts the same scores on pandas frames, scores NDCG@``eval_at``
        (``score``), pickles without Dask and fits in the ordinary pipeline.

        Returns
        -------
        ranker : GroupedLGBMRanker
        """
        check_is_fitted(self)
        ranker = clone(self.estimator_)
        ranker._from_array = False
        ranker._encoder = self._encoder
        ranker.estimator_ = self.model_
        for name in (
            "booster_",
            "n_groups_",
            "n_estimators_",
            "categorical_features_",
            "feature_importances_",
            "n_features_in_",
            "feature_names_in_",
        ):
            setattr(ranker, name, getattr(self, name))
        return ranker

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags


def _fit_inputs(model, X, y, sample_weight, default):
    """The start of every Dask fit: the client, ``X`` / ``y`` as Dask collections split alike,
    and ``model.estimator_`` (a validated clone of ``model.estimator``, or ``default()``)."""
    client = _client(type(model).__name__)
    if not is_dask_frame(X):
        if sample_weight is not None:
            raise TypeError("sample_weight needs a dask X (a dask Series split like X).")
        X, y = as_dask_frame(X, y)
    check_dask_input(X, y, sample_weight)
    est = default() if model.estimator is None else model.estimator
    model.estimator_ = _checked_clone(est)
    return client, X, y, model.estimator_


def _client(name="DaskLGBMClassifier"):
    try:
        from distributed import default_client

        return default_client()
    except (ImportError, ValueError) as exc:
        raise RuntimeError(
            f"{name} trains through lightgbm.dask, which needs a distributed "
            "Client: start one first, e.g. Client(LocalCluster(n_workers=2)) on one machine "
            "or Client('scheduler-address:8786') on a cluster."
        ) from exc


def _checked_clone(est):
    """An unfitted clone of the pandas estimator whose settings are used, validated."""
    est = clone(est)
    est._validate_params()
    if est.early_stopping_rounds is not None:
        raise ValueError(
            "early_stopping_rounds is not available on Dask; set it to None in the estimator."
        )
    return est


def _frame_encoder(est, meta, exclude=()):
    """The (unfitted) encoder of the pandas estimator for frames like ``meta``, and the columns
    whose levels the scan must collect (id and categorical columns)."""
    encoder = FrameEncoder(
        id_columns(meta, est.user_col, est.item_col, array=False),
        est.categorical_features,
        exclude,
    )
    categorical = [
        c
        for c in meta.columns
        if c not in encoder.exclude and (c in encoder.id_columns or c in encoder._categorical(meta))
    ]
    return encoder, categorical


def _train_on_workers(model, trainer_cls, client, params, train, names, fit_kwargs):
    """Train ``trainer_cls`` (a ``lightgbm.dask`` model) on the encoded partitions ``train``
    (columns ``names`` and the label ``_Y``; ``fit_kwargs(train)`` the other fit arguments)
    and set the fitted attributes of ``model`` (``model_``, ``booster_`` ...)."""
    train = train.persist()
    sizes = train.map_partitions(len).compute()
    train = train.partitions[[k for k, n in enumerate(sizes) if n > 0]]  # LightGBM: no empty
    params = {k: v for k, v in params.items() if k != "n_jobs"}  # the threads of each worker
    trainer = trainer_cls(client=client, **params)
    with warnings.catch_warnings():  # lightgbm.dask's note on its own n_jobs default
        warnings.filterwarnings("ignore", message="Parameter n_jobs will be ignored")
        try:
            trainer.fit(train[names], train[_Y], **fit_kwargs(train))
        except LightGBMError as exc:
            raise RuntimeError(
                "LightGBM training on the Dask workers failed, no model was returned "
                "(a worker lost during training shows as a socket error: lightgbm.dask "
                "cannot resume; the surviving workers' LightGBM may still hold its network, "
                f"so call client.restart() before fitting again): {exc}"
            ) from exc
    model.model_ = trainer.to_local()
    model.booster_ = model.model_.booster_
    model.n_estimators_ = int(model.booster_.current_iteration())
    model.feature_importances_ = model.model_.feature_importances_


def _class_weights(est, classes, counts, class_weight):
    """The class weights the pandas model computes, from the (weighted) class totals: its own
    formula, run on one row per class weighted by the class total."""
    scratch = clone(est)
    scratch.classes_ = classes
    scratch._row_weights(classes, np.arange(len(classes)), counts, class_weight)
    return scratch.class_weight_


def _levels_frame(X, levels):
    """A small frame with the dtypes of ``X`` whose categorical columns hold every level seen
    in the data (what the encoder is fitted on); other columns hold Dask's fake values."""
    fake = X._meta_nonempty
    size = max([len(v) for v in levels.values()] + [len(fake)])
    cols = {}
    for c in fake.columns:
        if c in levels and len(levels[c]):
            cols[c] = np.resize(np.asarray(levels[c], dtype=object), size)
        else:
            cols[c] = fake[c].iloc[np.arange(size) % len(fake)].to_numpy()
    return pd.DataFrame(cols)
