"""The package's LightGBM classifiers trained on a Dask frame through ``lightgbm.dask``."""

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np
import pandas as pd
from lightgbm.basic import LightGBMError
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context, clone
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from ..boosting import FocalLGBMClassifier, ImbalancedLGBMClassifier
from ..boosting._focal import FocalObjective, focal_init_score
from ..boosting._frame import FrameEncoder, id_columns
from ..utils import derive_seed
from ._base import (
    add_counts,
    as_dask_frame,
    broadcast,
    check_dask_input,
    is_dask_frame,
    map_partitions,
    map_reduce,
)

__all__ = ["DaskLGBMClassifier"]

_Y, _W, _INIT = "__y__", "__weight__", "__init_score__"


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


def _merge_scans(a, b):
    return {
        "classes": add_counts(a["classes"], b["classes"]),
        "levels": {
            c: pd.unique(np.concatenate([a["levels"][c], b["levels"][c]])) for c in a["levels"]
        },
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

        client = _client()
        if not is_dask_frame(X):
            if sample_weight is not None:
                raise TypeError("sample_weight needs a dask X (a dask Series split like X).")
            X, y = as_dask_frame(X, y)
        check_dask_input(X, y, sample_weight)
        est = ImbalancedLGBMClassifier() if self.estimator is None else self.estimator
        est = self.estimator_ = clone(est)
        est._validate_params()
        if est.early_stopping_rounds is not None:
            raise ValueError(
                "early_stopping_rounds is not available on Dask; set it to None in the estimator."
            )
        focal = isinstance(est, FocalLGBMClassifier)
        settings = {}
        for old, new in est._aliases:  # the deprecated names warn as in the pandas fit
            settings[new] = est._renamed(old, new)
        params = est._lgbm_params()
        meta = X._meta
        validate_data(self, meta, reset=True, skip_check_array=True)
        encoder = FrameEncoder(
            id_columns(meta, est.user_col, est.item_col, array=False), est.categorical_features
        )
        categorical = [
            c for c in meta.columns if c in encoder.id_columns or c in encoder._categorical(meta)
        ]
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
        ).persist()
        sizes = train.map_partitions(len).compute()
        train = train.partitions[[k for k, n in enumerate(sizes) if n > 0]]  # LightGBM: no empty
        params.pop("n_jobs", None)  # lightgbm.dask uses the threads of each worker
        fit_kwargs = {
            "sample_weight": train[_W],
            "categorical_feature": list(encoder.categorical_index_),
        }
        if focal:
            fit_kwargs["init_score"] = train[_INIT]
        trainer = _Trainer(client=client, **params)
        with warnings.catch_warnings():  # lightgbm.dask's note on its own n_jobs default
            warnings.filterwarnings("ignore", message="Parameter n_jobs will be ignored")
            try:
                trainer.fit(train[plan["names"]], train[_Y], **fit_kwargs)
            except LightGBMError as exc:
                raise RuntimeError(
                    "LightGBM training on the Dask workers failed, no model was returned "
                    "(a worker lost during training shows as a socket error: lightgbm.dask "
                    f"cannot resume, fit again): {exc}"
                ) from exc
        self.model_ = trainer.to_local()
        self.booster_ = self.model_.booster_
        self.n_estimators_ = int(self.booster_.current_iteration())
        self.feature_importances_ = self.model_.feature_importances_
        del train
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


def _client():
    try:
        from distributed import default_client

        return default_client()
    except (ImportError, ValueError) as exc:
        raise RuntimeError(
            "DaskLGBMClassifier trains through lightgbm.dask, which needs a distributed "
            "Client: start one first, e.g. Client(LocalCluster(n_workers=2)) on one machine "
            "or Client('scheduler-address:8786') on a cluster."
        ) from exc


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
