"""InteractionFeaturizer on a Dask frame: the same features, fitted by partition-wise reductions."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import _fit_context
from sklearn.preprocessing import TargetEncoder
from sklearn.utils.validation import check_is_fitted

from .._contract import IdIndexer, plain_ids
from ..features import InteractionFeaturizer as _PandasFeaturizer
from ..features._interaction import _head_flags
from ..features._leakage import check_label_leakage
from ..utils import derive_seed
from ._base import (
    add_counts,
    as_dask_frame,
    broadcast,
    check_dask_input,
    first_partition,
    is_dask_frame,
    key_stats,
    map_reduce,
    merge_key_stats,
    record_output,
    split_sorted,
)

__all__ = ["InteractionFeaturizer"]


# ---------------------------------------------------------------------------- partition kernels
def _scan(X, y, est):
    """Pass 1 on one partition: validated id counts, categorical levels, label summary."""
    user, item = est._ids(X)
    est._passthrough(X)  # NaN / inf in a passed-through column: the pandas error
    out = {
        "users": plain_ids(user).value_counts(sort=False),
        "items": plain_ids(item).value_counts(sort=False),
        "levels": [pd.unique(X[c].dropna().astype(object)) for c in est.categorical_cols_],
    }
    if y is not None:
        y = y.to_numpy()
        if y.dtype.kind == "f" and not np.isfinite(y).all():
            raise ValueError("y contains NaN or inf.")
        continuous = y.dtype.kind == "f" and bool((y != np.round(y)).any())
        out["y"] = (continuous, None if continuous else np.unique(y))
    return out


def _merge_scans(a, b):
    out = {
        "users": add_counts(a["users"], b["users"]),
        "items": add_counts(a["items"], b["items"]),
        "levels": [pd.unique(np.concatenate([la, lb])) for la, lb in zip(a["levels"], b["levels"])],
    }
    if "y" in a:
        continuous = a["y"][0] or b["y"][0]
        out["y"] = (continuous, None if continuous else np.union1d(a["y"][1], b["y"][1]))
    return out


def _target_matrix(y, target):
    """The label as the matrix TargetEncoder learns from: 0/1 for binary, one indicator
    column per class for multiclass, the value for a continuous target."""
    y = np.asarray(y)
    if target["type"] == "continuous":
        return y.astype(np.float64)[:, None]
    classes = target["classes"]
    if target["type"] == "binary":  # LabelEncoder: classes[1] is 1 (a single class is 0)
        return (y == classes[-1]).astype(np.float64)[:, None] * (len(classes) == 2)
    return (y[:, None] == classes[None, :]).astype(np.float64)


def _folds(X, n_folds, seed):
    """Cross-fitting fold of each row: a seeded hash of the row's values, so it depends neither
    on the partitioning nor on the order of the rows."""
    key = f"{seed:016d}"[-16:]
    h = pd.util.hash_pandas_object(X, index=False, hash_key=key).to_numpy()
    return (h % np.uint64(n_folds)).astype(np.int64)


def _codes(X, est):
    user, item = est._ids(X)
    u = est.user_indexer_.transform(user, check=False)
    i = est.item_indexer_.transform(item, check=False)
    return u, i


def _stats(X, y, est, plan):
    """Pass 2 on one partition: distinct (user, item) pairs and target sums per (fold, code),
    each cut into ``plan["n_buckets"]`` key ranges (reduced separately, see ``map_reduce``)."""
    n_buckets = plan["n_buckets"]
    out = [{} for _ in range(n_buckets)]
    u, i = _codes(X, est)
    if plan["svd"]:
        n_i = est.item_indexer_.n_indices_
        pairs = np.unique(u * n_i + i)
        cuts = split_sorted(pairs, est.user_indexer_.n_indices_ * n_i, n_buckets)
        for b, o in enumerate(out):
            o["pairs"] = pairs[cuts[b] : cuts[b + 1]]
    if plan["target"] is not None:
        codes = est._encoder_input(X, u, i)
        Y = _target_matrix(y, plan["target"])
        values = np.hstack([Y, Y * Y])
        n_folds = plan["n_folds"]
        fold = _folds(X, n_folds, plan["seed"]) if n_folds > 1 else 0
        for o in out:
            o["stats"] = []
        for j, n in enumerate(plan["n_codes"]):
            keys, table = key_stats(fold * n + codes[:, j], values)
            cuts = split_sorted(keys, n_folds * n, n_buckets)
            for b, o in enumerate(out):
                o["stats"].append((keys[cuts[b] : cuts[b + 1]], table[cuts[b] : cuts[b + 1]]))
    return out


def _concat_buckets(buckets):
    """One statistic from the per-bucket ones (disjoint, increasing key ranges)."""
    out = {}
    if "pairs" in buckets[0]:
        out["pairs"] = np.concatenate([b["pairs"] for b in buckets])
    if "stats" in buckets[0]:
        out["stats"] = [
            (
                np.concatenate([b["stats"][j][0] for b in buckets]),
                np.concatenate([b["stats"][j][1] for b in buckets]),
            )
            for j in range(len(buckets[0]["stats"]))
        ]
    return out


def _merge_stats(a, b):
    out = {}
    if "pairs" in a:
        out["pairs"] = np.union1d(a["pairs"], b["pairs"])
    if "stats" in a:
        out["stats"] = [merge_key_stats(sa, sb) for sa, sb in zip(a["stats"], b["stats"])]
    return out


def _transform_part(X, est, empty=None):
    if len(X) == 0 and empty is not None:  # e.g. a partition emptied by a filter
        return empty
    return _PandasFeaturizer.transform(est, X)


def _cross_fit_part(X, est, tables, empty=None):
    """Rows of a training partition with out-of-fold rates (``fit_transform``)."""
    if len(X) == 0 and empty is not None:
        return empty
    u, i = _codes(X, est)
    rates = None
    if tables is not None:
        codes = est._encoder_input(X, u, i)
        fold = _folds(X, len(tables[0]), est.fold_seed_)
        rates = np.hstack([t[fold, codes[:, j]] for j, t in enumerate(tables)])
    i, rates = est._drop_items(i, rates)
    return est._output(X, u, i, rates)


# ---------------------------------------------------------------------------- target encodings
def _encodings(table, y_mean, y_var, smooth):
    """TargetEncoder's encodings from per-category sufficient statistics.

    ``table[..., 0]`` is the count, then the sums and the sums of squares of the ``K`` target
    columns; returns ``(..., K)``. Categories without rows get ``y_mean`` (as in
    scikit-learn, where they are unknown to the fold).
    """
    k = (table.shape[-1] - 1) // 2
    count, s, q = table[..., :1], table[..., 1 : 1 + k], table[..., 1 + k :]
    with np.errstate(divide="ignore", invalid="ignore"):
        if smooth == "auto":  # empirical Bayes shrinkage (Micci-Barreca eq. 5-6)
            mean = s / count
            ssd = np.maximum(q - s * mean, 0.0)  # sum of squared deviations from the mean
            lam = y_var * count / (y_var * count + ssd / count)
            enc = lam * mean + (1.0 - lam) * y_mean
        else:
            enc = (s + smooth * y_mean) / (count + smooth)
    return np.where(np.isnan(enc), y_mean, enc)


def _moments(totals):
    """Mean and (population) variance of the target columns from ``[count, sums, squares]``."""
    k = (totals.shape[-1] - 1) // 2
    n = totals[..., :1]
    mean = totals[..., 1 : 1 + k] / n
    return mean, totals[..., 1 + k :] / n - mean**2


def _dense(keys_table, n_codes, n_folds):
    keys, table = keys_table
    out = np.zeros((n_folds * n_codes, table.shape[1]))
    out[keys] = table
    return out.reshape(n_folds, n_codes, table.shape[1])


class InteractionFeaturizer(_PandasFeaturizer, auto_wrap_output_keys=None):
    """:class:`sklearn_recsys.features.InteractionFeaturizer` fitted on a Dask frame.

    The same parameters and the same features (popularity, activity, smoothed target rates,
    latent factors, side tables, passed-through columns), computed from a
    :class:`dask.dataframe.DataFrame` by partition-wise reductions: each partition yields
    small sufficient statistics (id counts, the distinct (user, item) pairs, per-category label
    sums per cross-fitting fold), merged in a tree on the workers. The fitted state (indexers,
    counts, encodings, factors) is small and is the state of the pandas featurizer: the fitted
    object transforms a Dask frame partition by partition, and a pandas frame exactly like
    :class:`sklearn_recsys.features.InteractionFeaturizer` (so a model trained on Dask serves
    with the ordinary pipeline; :meth:`to_pandas` gives the plain pandas featurizer).

    :meth:`fit` and :meth:`transform` give the values of the pandas featurizer fitted on the
    same rows (within float rounding). :meth:`fit_transform` cross-fits the target rates as
    the pandas one does, but its folds differ (see Notes), so the out-of-fold rates of the
    training rows differ row by row; every other column is the same.

    Parameters
    ----------
    user_col, item_col, categorical_cols, time_col, item_info, user_info, target_rates, \
smooth, cv, n_factors, head_share, max_side_categories, popularity, keep_id_columns, \
cold_item_fraction, random_state
        As in :class:`sklearn_recsys.features.InteractionFeaturizer`.

    Attributes
    ----------
    fold_seed_ : int
        Seed of the row hash that assigns the cross-fitting folds (set by :meth:`fit`).
    n_partitions_ : int
        Partitions of the training frame.
    user_indexer_, item_indexer_, item_counts_, user_counts_, item_is_head_, \
target_encoder_, svd_, categorical_cols_, category_levels_, passthrough_cols_, \
skipped_side_columns_, cold_items_, feature_names_out_, n_features_in_, feature_names_in_
        As in :class:`sklearn_recsys.features.InteractionFeaturizer`.

    See Also
    --------
    sklearn_recsys.features.InteractionFeaturizer : the pandas featurizer.
    read_interactions : a Parquet interaction log as a Dask frame.

    Notes
    -----
    The data are read twice by :meth:`fit` (ids and levels, then label sums and pairs) and once
    more by the transform of :meth:`fit_transform`; ``X.persist()`` first when the frame fits
    in the workers' memory.

    Folds: the pandas featurizer draws stratified folds over the row positions, which needs
    the whole label in one place. Here the fold of a row is a seeded hash of its values
    (``pandas.util.hash_pandas_object``) modulo ``cv``: it needs no shuffle, does not depend
    on the partitioning, and a row's rate never sees its own label (identical rows share a
    fold). Folds by user hash would keep every row of a user in one fold, so that the user
    rate of every training row would be the prior while at serving time it is the user's
    rate: the model would learn nothing from it.

    Latent factors: the distinct (user, item) pairs are gathered (8 bytes each) and the SVD
    runs on the client with the pandas featurizer's solver and ``random_state``, so the
    factors are the same.

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> from sklearn_recsys.datasets import make_interactions
    >>> from sklearn_recsys.dask import InteractionFeaturizer
    >>> X, y = make_interactions(n_users=200, n_items=100, n_interactions=3000,
    ...                          random_state=0, return_X_y=True)
    >>> Xd = dd.from_pandas(X, npartitions=3, sort=False)
    >>> yd = dd.from_pandas(y, npartitions=3, sort=False)
    >>> feat = InteractionFeaturizer(n_factors=2, random_state=0).fit(Xd, yd)
    >>> Xt = feat.transform(Xd)
    >>> Xt.npartitions, list(Xt.columns)[:4]
    (3, ['user_id', 'item_id', 'price', 'position'])
    >>> feat.transform(X.head(2)).shape
    (2, 18)
    """

    def set_output(self, *, transform=None):
        """Output container of :meth:`transform` for a pandas (or array) ``X``.

        A Dask ``X`` always gives a Dask DataFrame.

        Parameters
        ----------
        transform : {"default", "pandas"} or None, default=None
            ``"default"``: ndarray, ``"pandas"``: DataFrame, None: unchanged.

        Returns
        -------
        self : InteractionFeaturizer
        """
        return record_output(self, transform)

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn counts, target rates, factors and side-table encodings from a Dask frame.

        Parameters
        ----------
        X : dask DataFrame (or DataFrame / array-like) of shape (n_samples, n_features)
            Interaction frame with ``user_col`` and ``item_col``.
        y : dask Series (or array-like) of shape (n_samples,), default=None
            Label, split like ``X``; required when ``target_rates=True``.

        Returns
        -------
        self : InteractionFeaturizer
        """
        self._fit_dask(*self._dask_input(X, y), cross_fit=False)
        return self

    def fit_transform(self, X, y=None, **fit_params):
        """Fit, then transform ``X`` with cross-fitted (out-of-fold) target rates.

        Parameters
        ----------
        X : dask DataFrame (or DataFrame / array-like) of shape (n_samples, n_features)
        y : dask Series (or array-like) of shape (n_samples,), default=None

        Returns
        -------
        X_out : dask DataFrame, or ndarray / DataFrame for a pandas ``X``
        """
        self._validate_params()
        Xd, yd = self._dask_input(X, y)
        tables = self._fit_dask(Xd, yd, cross_fit=True)
        if not is_dask_frame(X):  # the same kernel, in process, in the configured container
            return _cross_fit_part(self._frame(X, reset=False), self._view(), tables)
        view = self._view(pandas=True)
        meta = self._meta(Xd, view)
        return Xd.map_partitions(
            _cross_fit_part, broadcast(view), broadcast(tables), broadcast(meta), meta=meta
        )

    def _dask_input(self, X, y):
        if is_dask_frame(X):
            check_dask_input(X, y)
            return X, y
        return as_dask_frame(X, y)

    def _fit_dask(self, X, y, cross_fit):
        # the pandas checks (columns, ids, names) on Dask's stand-in rows of the right dtypes
        meta = _PandasFeaturizer._frame(self, X._meta_nonempty, reset=True)
        self.categorical_cols_, self.passthrough_cols_ = self._resolve_columns(meta)
        if self.target_rates and y is None:
            raise ValueError(
                "InteractionFeaturizer requires y to be passed, but the target y is None: "
                "the out-of-fold target rates need the label; pass y or set "
                "target_rates=False."
            )
        self.n_partitions_ = X.npartitions
        self.fold_seed_ = derive_seed(self.random_state)
        y = y if self.target_rates else None
        scan = map_reduce(_scan, _merge_scans, [X, y], args=(broadcast(self._view()),))
        if scan["users"].empty:
            raise ValueError("X is empty: 0 rows (expected at least 1 interaction).")
        if y is not None and self.passthrough_cols_:
            check_label_leakage(
                *first_partition([X, y]), columns=self.passthrough_cols_, stacklevel=4
            )
        self._fit_ids(scan)
        target = self._target(scan.get("y"))
        n_folds = self.cv if cross_fit else 1
        plan = {
            "svd": self._n_components() >= 1,
            "target": target,
            "n_folds": n_folds,
            "seed": self.fold_seed_,
        }
        if target is not None:
            self.category_levels_ = [pd.Index(levels) for levels in scan["levels"]]
            plan["n_codes"] = [self.user_indexer_.n_indices_, self.item_indexer_.n_indices_]
            plan["n_codes"] += [len(levels) + 1 for levels in self.category_levels_]
        stats = {}
        if plan["svd"] or target is not None:
            # the pair and label statistics grow with the distinct ids and pairs: each key
            # range is merged by its own tree, never all of them in one task
            plan["n_buckets"] = -(-X.npartitions // 8)
            buckets = map_reduce(
                _stats,
                _merge_stats,
                [X, y],
                args=(broadcast(self._view()), plan),
                n_buckets=plan["n_buckets"],
            )
            stats = _concat_buckets(buckets)
        tables = None
        self.target_encoder_ = None
        if target is not None:
            tables = self._fit_target(stats["stats"], plan)
        self._fit_svd(stats.get("pairs"))
        self._fit_side()
        if cross_fit:  # cold_items_: the draw that every partition repeats
            view = self._view()
            view._drop_items(np.zeros(0, dtype=np.int64), None)
            self.cold_items_ = view.cold_items_
        self.feature_names_out_ = np.asarray(self._names(), dtype=object)
        return tables

    def _fit_ids(self, scan):
        for side, counts in (("user", scan["users"]), ("item", scan["items"])):
            col = getattr(self, f"{side}_col")
            indexer = IdIndexer(name=f"{side}_col={col!r}").fit(counts.index.to_series())
            dense = np.zeros(indexer.n_indices_)
            dense[indexer.transform(counts.index.to_series(), check=False)] = counts.to_numpy()
            setattr(self, f"{side}_indexer_", indexer)
            setattr(self, f"{side}_counts_", dense)
        self.cold_items_ = self.item_indexer_.ids_[:0].to_numpy()
        self.item_is_head_ = _head_flags(self.item_counts_, self.head_share)
        known = self.item_counts_[1:]
        pct = np.zeros_like(self.item_counts_)
        pct[1:] = np.searchsorted(np.sort(known), known, side="right") / len(known)
        self.item_pop_pct_ = pct

    @staticmethod
    def _target(summary):
        if summary is None:
            return None
        continuous, classes = summary
        if continuous:
            return {"type": "continuous", "classes": None}
        return {"type": "binary" if len(classes) <= 2 else "multiclass", "classes": classes}

    def _fit_target(self, keyed_stats, plan):
        """The fitted TargetEncoder (whole data) and the out-of-fold tables of each fold."""
        n_folds, target = plan["n_folds"], plan["target"]
        dense = [_dense(s, n, n_folds) for s, n in zip(keyed_stats, plan["n_codes"])]
        per_fold = dense[0].sum(axis=1)  # every row has one user code: totals per fold
        total = per_fold.sum(axis=0)
        y_mean, y_var = _moments(total)
        full = [_encodings(d.sum(axis=0), y_mean, y_var, self.smooth) for d in dense]
        seen = [np.flatnonzero(d.sum(axis=0)[:, 0] > 0) for d in dense]
        self.target_encoder_ = self._target_encoder(target, seen, full, y_mean)
        if n_folds == 1:
            return None
        train = total - per_fold  # the other folds
        fold_mean, fold_var = _moments(train)
        return [
            _encodings(d.sum(axis=0) - d, fold_mean[:, None, :], fold_var[:, None, :], self.smooth)
            for d in dense
        ]

    def _target_encoder(self, target, seen, full, y_mean):
        """A fitted :class:`~sklearn.preprocessing.TargetEncoder` holding ``full``: fitted on
        one row per seen code (for its categories and target type), encodings replaced."""
        n_classes = 3 if target["classes"] is None else len(target["classes"])
        size = max(max(len(s) for s in seen), n_classes, 3)
        X_small = np.column_stack([np.resize(s, size) for s in seen])
        if target["type"] == "continuous":
            y_small = np.resize([0.5, 1.5, 2.5], size)
        else:
            y_small = np.resize(target["classes"], size)
        enc = TargetEncoder(smooth=self.smooth, cv=self.cv).fit(X_small, y_small)
        k = full[0].shape[1]
        enc.encodings_ = [f[s, c] for f, s in zip(full, seen) for c in range(k)]
        enc.target_mean_ = y_mean if target["type"] == "multiclass" else np.float64(y_mean[0])
        return enc

    def _fit_svd(self, pairs):
        """The pandas SVD on the binary matrix of the distinct (user, item) index pairs."""
        m = None
        if pairs is not None:
            n_u, n_i = self.user_indexer_.n_indices_, self.item_indexer_.n_indices_
            index_dtype = np.int32 if max(n_u, n_i) < 2**31 else np.int64
            m = sp.csr_matrix(
                (
                    np.ones(len(pairs)),
                    (pairs % n_i).astype(index_dtype),
                    np.searchsorted(pairs // n_i, np.arange(n_u + 1)).astype(index_dtype),
                ),
                shape=(n_u, n_i),
            )
        self._fit_factors(m)

    # ------------------------------------------------------------------ transform
    def transform(self, X):
        """Featurize rows; unknown users and items get the prior.

        Parameters
        ----------
        X : dask DataFrame, or DataFrame / array-like of shape (n_samples, n_features)
            Same columns as in :meth:`fit`.

        Returns
        -------
        X_out : dask DataFrame (for a dask ``X``), else ndarray or DataFrame
            A dask ``X`` gives a dask DataFrame with its partitions; a pandas ``X`` gives what
            :class:`sklearn_recsys.features.InteractionFeaturizer` gives.
        """
        check_is_fitted(self)
        if not is_dask_frame(X):
            return _PandasFeaturizer.transform(self, X)
        check_dask_input(X)
        view = self._view(pandas=True)
        meta = self._meta(X, view)
        return X.map_partitions(_transform_part, broadcast(view), broadcast(meta), meta=meta)

    def to_pandas(self):
        """The fitted state as a plain :class:`sklearn_recsys.features.InteractionFeaturizer`
        (no Dask needed to load or use it).

        Returns
        -------
        featurizer : sklearn_recsys.features.InteractionFeaturizer
        """
        check_is_fitted(self)
        out = _PandasFeaturizer(**self.get_params(deep=False))
        out.__dict__.update({k: v for k, v in self.__dict__.items() if k not in out.__dict__})
        return out

    def _view(self, pandas=False):
        """A shallow copy shipped to the workers: an int ``random_state`` (the same cold items
        in every partition) and, for Dask output, pandas partitions."""
        view = copy.copy(self)
        if not isinstance(self.random_state, (int, np.integer)):
            view.random_state = self.fold_seed_
        if pandas:
            view._sklearn_output_config = {"transform": "pandas"}
        return view

    def _meta(self, X, view):
        return _transform_part(X._meta_nonempty, view).iloc[:0]

    def _frame(self, X, reset):
        if is_dask_frame(X):
            return X
        return super()._frame(X, reset)
