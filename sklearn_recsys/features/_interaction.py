"""InteractionFeaturizer: popularity, activity, target rates, latent factors, side tables."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.decomposition import TruncatedSVD
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.preprocessing import TargetEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Hidden, Interval, StrOptions
from sklearn.utils._set_output import _get_output_config
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from .._contract import IdIndexer, check_columns, check_id_column, column_list
from ._leakage import check_label_leakage

__all__ = ["InteractionFeaturizer"]


def _head_flags(counts, head_share):
    """Head = the most popular items that together make up ``head_share`` of interactions."""
    order = np.argsort(-counts, kind="stable")
    cum = np.cumsum(counts[order]) / max(counts.sum(), 1)
    n_head = int(np.searchsorted(cum, head_share, side="left")) + 1
    flags = np.zeros(len(counts), dtype=bool)
    flags[order[: min(n_head, len(counts))]] = True
    return flags


def _side_block(table, prefix, max_categories, param):
    """Encode a side table into a float matrix (one row per id) plus a prior row.

    Returns (index, values with the prior appended as last row, names, skipped columns).
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(
            f"{param} must be a pandas DataFrame indexed by id; got {type(table).__name__}."
        )
    if table.index.has_duplicates:
        dup = table.index[table.index.duplicated()][0]
        raise ValueError(f"{param} has duplicate ids in its index, e.g. {dup!r}.")
    check_id_column(pd.Series(table.index), name=f"the index of {param}")
    blocks, priors, names, skipped = [], [], [], []
    for col in table.columns:
        s = table[col]
        if pd.api.types.is_bool_dtype(s.dtype):
            v = s.astype(float).to_numpy()[:, None]
            prior = v.mean(axis=0)
            names.append(f"{prefix}{col}")
        elif pd.api.types.is_numeric_dtype(s.dtype):
            v = pd.to_numeric(s, errors="coerce").astype(float).to_numpy()
            if np.isinf(v).any():
                raise ValueError(f"{param} column {col!r} holds inf values.")
            med = np.nanmedian(v) if (~np.isnan(v)).any() else 0.0
            v = np.where(np.isnan(v), med, v)[:, None]
            prior = np.array([med])
            names.append(f"{prefix}{col}")
        else:
            text = s.astype("string")
            if text.str.contains("|", regex=False).any():
                dummies = text.fillna("").str.get_dummies(sep="|")
            elif s.nunique(dropna=True) <= max_categories:
                dummies = pd.get_dummies(text, dtype=float)
            else:
                skipped.append(col)
                continue
            if dummies.shape[1] > max_categories:
                skipped.append(col)
                continue
            v = dummies.to_numpy(dtype=float)
            prior = v.mean(axis=0)  # unknown ids get each level's share
            names.extend(f"{prefix}{col}={c}" for c in dummies.columns)
        blocks.append(v)
        priors.append(prior)
    values = np.hstack(blocks) if blocks else np.zeros((len(table), 0))
    prior = np.concatenate(priors) if priors else np.zeros(0)
    return table.index, np.vstack([values, prior[None, :]]), names, skipped


class InteractionFeaturizer(TransformerMixin, BaseEstimator):
    """Featurize an interaction log: popularity, activity, target rates, latent factors.

    A transformer over the interaction frame (DESIGN.md section 2). For each row it derives

    - **item popularity**: ``item_count``, ``item_log_count``, ``item_pop_pct`` (percentile of the
      item's count among training items) and ``item_is_head`` (the item belongs to the most
      popular items that make up ``head_share`` of the training interactions);
    - **user activity**: ``user_count``, ``user_log_count``;
    - **smoothed target rates** of the user, the item and every categorical column
      (``user_rate``, ``item_rate``, ``<col>_rate``; one column per class for a multiclass
      target) through scikit-learn's :class:`~sklearn.preprocessing.TargetEncoder`:
      :meth:`fit_transform` cross-fits them (a row's rate never sees its own label), while
      :meth:`transform` uses the rates learnt on the whole training set;
    - **latent factors** from a truncated SVD of the binary user x item matrix:
      ``user_svd_<j>``, ``item_svd_<j>`` and their dot product ``svd_affinity``;
    - **side-table features** from ``item_info`` / ``user_info`` (tables indexed by id): numeric
      and boolean columns as numbers (missing values get the column median), low-cardinality
      categorical columns one-hot, ``"|"``-separated multi-label columns (genres) multi-hot;
      free-text and high-cardinality columns (titles, zip codes) are not used and are listed in
      ``skipped_side_columns_``;
    - numeric columns of ``X`` other than the ids and ``time_col`` are passed through.

    Unknown users and items at transform time get the prior: zero counts, the global target rate,
    zero factors, the median / mean side values. They never raise.

    Parameters
    ----------
    user_col, item_col : str or int, default="user_id", "item_id"
        Id columns of ``X`` (positions when ``X`` is an array).
    categorical_cols : "auto" or list of str, default="auto"
        Extra columns to target-encode. ``"auto"``: every category / object / string column of
        ``X`` other than the ids and ``time_col``.
    time_col : str or None, default="timestamp"
        Time column, excluded from the features when present.
    item_info, user_info : DataFrame or None, default=None
        Side tables indexed by item / user id.
    target_rates : bool, default=True
        Compute the out-of-fold target rates (needs ``y``).
    smooth : "auto" or float, default="auto"
        Smoothing of the target rates (see ``TargetEncoder``).
    cv : int, default=5
        Folds of the cross-fitting in :meth:`fit_transform`.
    n_factors : int, default=8
        Latent factors per side; 0 disables the SVD block.
    head_share : float, default=0.8
        Share of training interactions that defines the head items.
    max_side_categories : int, default=30
        Largest number of levels a side-table column may have to be one-hot encoded.
    popularity : bool, default=True
        Output the popularity and activity counts of the training rows (``item_count`` ...
        ``user_log_count``). They count every training row, later ones included, so on an event
        log whose rows are ordered in time they are not point-in-time: a training row's count
        includes the user's later events on the item, a test row's does not. Turn them off there
        and use :class:`BehaviorHistoryFeaturizer`, whose counts are point-in-time.
    keep_id_columns : bool, default=True
        Keep ``user_col`` and ``item_col`` (unchanged) as the first output columns so that later
        steps and ranking scorers can use them.
    cold_item_fraction : float, default=0.0
        Share of the known items that :meth:`fit_transform` presents as cold (item dropout, as
        in DropoutNet, Volkovs et al. 2017): the rows of a random ``cold_item_fraction`` of the
        items get the unknown-item values of every collaborative item feature (zero counts,
        the prior rate, zero factors) while their content (side-table and passed-through
        columns such as text embeddings) stays. A model fitted on these rows learns to score an
        item from its content when its history is missing, which is what cold items at predict
        time look like. :meth:`fit` and :meth:`transform` are not affected. 0 turns it off.
    random_state : int, RandomState instance or None, default=None
        Seeds the cross-fitting folds, the randomized SVD and the cold-item draw.

    Attributes
    ----------
    user_indexer_, item_indexer_ : IdIndexer
        Known ids (index 0 is the unknown id).
    item_counts_, user_counts_ : ndarray
        Training counts by index (0 for the unknown index).
    item_is_head_ : ndarray of bool
        Head flag by item index.
    target_encoder_ : TargetEncoder or None
    svd_ : TruncatedSVD or None
    categorical_cols_ : list
        Target-encoded columns besides the ids.
    category_levels_ : list of pandas.Index
        Training levels of each categorical column (unseen or missing levels get the prior
        rate). Set when ``target_rates=True``.
    passthrough_cols_ : list
        Numeric columns of ``X`` passed through.
    skipped_side_columns_ : dict
        Side-table columns not used, by table.
    cold_items_ : ndarray
        Ids presented as cold by the last :meth:`fit_transform` (empty when
        ``cold_item_fraction=0``).
    feature_names_out_ : ndarray of str
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when ``X`` has string column names.

    See Also
    --------
    sklearn.preprocessing.TargetEncoder : the cross-fitted target encoding used inside.

    Examples
    --------
    >>> from sklearn_recsys.datasets import make_interactions
    >>> from sklearn_recsys.features import InteractionFeaturizer
    >>> X, y = make_interactions(n_users=200, n_items=100, n_interactions=3000,
    ...                          random_state=0, return_X_y=True)
    >>> feat = InteractionFeaturizer(n_factors=2, random_state=0).set_output(transform="pandas")
    >>> Xt = feat.fit_transform(X, y)
    >>> list(Xt.columns)[:6]
    ['user_id', 'item_id', 'price', 'position', 'item_count', 'item_log_count']
    >>> Xt.shape
    (3000, 18)
    """

    _parameter_constraints = {
        "user_col": [str, numbers.Integral],
        "item_col": [str, numbers.Integral],
        "categorical_cols": [StrOptions({"auto"}), list],
        "time_col": [str, numbers.Integral, None],
        "item_info": [pd.DataFrame, None],
        "user_info": [pd.DataFrame, None],
        "target_rates": ["boolean"],
        "smooth": [StrOptions({"auto"}), Interval(numbers.Real, 0, None, closed="left")],
        "cv": [Interval(numbers.Integral, 2, None, closed="left")],
        "n_factors": [Interval(numbers.Integral, 0, None, closed="left")],
        "head_share": [Interval(numbers.Real, 0, 1, closed="right")],
        "max_side_categories": [Interval(numbers.Integral, 1, None, closed="left")],
        "popularity": ["boolean"],
        "keep_id_columns": ["boolean", Hidden(StrOptions({"_never"}))],
        "cold_item_fraction": [Interval(numbers.Real, 0, 1, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        user_col="user_id",
        item_col="item_id",
        *,
        categorical_cols="auto",
        time_col="timestamp",
        item_info=None,
        user_info=None,
        target_rates=True,
        smooth="auto",
        cv=5,
        n_factors=8,
        head_share=0.8,
        max_side_categories=30,
        popularity=True,
        keep_id_columns=True,
        cold_item_fraction=0.0,
        random_state=None,
    ):
        self.user_col = user_col
        self.item_col = item_col
        self.categorical_cols = categorical_cols
        self.time_col = time_col
        self.item_info = item_info
        self.user_info = user_info
        self.target_rates = target_rates
        self.smooth = smooth
        self.cv = cv
        self.n_factors = n_factors
        self.head_share = head_share
        self.max_side_categories = max_side_categories
        self.popularity = popularity
        self.keep_id_columns = keep_id_columns
        self.cold_item_fraction = cold_item_fraction
        self.random_state = random_state

    # ------------------------------------------------------------------ input handling
    def _frame(self, X, reset):
        if not isinstance(X, pd.DataFrame):
            X = pd.DataFrame(check_array(X, dtype=None))
        validate_data(self, X, reset=reset, skip_check_array=True)
        if X.shape[0] == 0:
            raise ValueError("X is empty: 0 rows (expected at least 1 interaction).")
        if self.user_col == self.item_col:
            raise ValueError(f"user_col and item_col must differ; both are {self.user_col!r}.")
        if X.shape[1] < 2:
            raise ValueError(
                f"X has {X.shape[1]} feature(s) but a user and an item column are required."
            )
        check_columns(X, user_col=self.user_col, item_col=self.item_col)
        return X

    def _resolve_columns(self, X):
        ids = {self.user_col, self.item_col, self.time_col}
        if self.categorical_cols == "auto":
            cats = [
                c
                for c in X.columns
                if c not in ids
                and not pd.api.types.is_numeric_dtype(X[c].dtype)
                and not pd.api.types.is_bool_dtype(X[c].dtype)
            ]
        else:
            check_columns(
                X, **{f"categorical_cols[{i}]": c for i, c in enumerate(self.categorical_cols)}
            )
            cats = list(self.categorical_cols)
        rest = [c for c in X.columns if c not in ids and c not in cats]
        bad = [
            c
            for c in rest
            if not (
                pd.api.types.is_numeric_dtype(X[c].dtype) or pd.api.types.is_bool_dtype(X[c].dtype)
            )
        ]
        if bad:
            raise TypeError(
                f"Columns {bad} of X are neither numeric nor listed in "
                f"categorical_cols={self.categorical_cols!r}; columns are "
                f"{column_list(X)}."
            )
        return cats, rest

    def _passthrough(self, X):
        if not self.passthrough_cols_:
            return np.zeros((len(X), 0))
        values = X[self.passthrough_cols_].to_numpy(dtype=float)
        if not np.isfinite(values).all():
            j = int(np.flatnonzero(~np.isfinite(values).all(axis=0))[0])
            raise ValueError(
                f"Column {self.passthrough_cols_[j]!r} of X contains NaN or inf; "
                "impute it before featurizing."
            )
        return values

    def _ids(self, X):
        user = check_id_column(X[self.user_col], name=f"user_col={self.user_col!r}")
        item = check_id_column(X[self.item_col], name=f"item_col={self.item_col!r}")
        return user, item

    def _encoder_input(self, X, u, i):
        """Integer codes for the target encoder: ids through the indexers (0 = unknown), the
        categorical columns through their training levels (0 = unknown or missing)."""
        codes = [u, i] + [
            pd.Categorical(X[c], categories=levels).codes.astype(np.int64) + 1
            for c, levels in zip(self.categorical_cols_, self.category_levels_)
        ]
        return np.column_stack(codes)

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn counts, target rates, factors and side-table encodings from training rows.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            Interaction frame with ``user_col`` and ``item_col``.
        y : array-like of shape (n_samples,), default=None
            Label; required when ``target_rates=True``.

        Returns
        -------
        self : InteractionFeaturizer
        """
        self._fit(X, y)
        return self

    def fit_transform(self, X, y=None, **fit_params):
        """Fit, then transform ``X`` with cross-fitted (out-of-fold) target rates.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), default=None

        Returns
        -------
        X_out : ndarray or DataFrame of shape (n_samples, n_features_out)
        """
        self._validate_params()
        X, u, i, rates = self._fit(X, y, cross_fit=True)
        i, rates = self._drop_items(i, rates)
        return self._output(X, u, i, rates)

    def _drop_items(self, i, rates):
        """Present the rows of a random ``cold_item_fraction`` of the items as cold."""
        n_known = self.item_indexer_.n_indices_ - 1
        n_cold = int(round(self.cold_item_fraction * n_known))
        if n_cold == 0:  # cold_items_ stays the empty array _fit set
            return i, rates
        rng = check_random_state(self.random_state)
        cold = np.sort(rng.choice(np.arange(1, n_known + 1), size=n_cold, replace=False))
        self.cold_items_ = self.item_indexer_.ids_[cold - 1].to_numpy()
        rows = np.isin(i, cold)
        i = np.where(rows, 0, i)  # index 0: the unknown item (zero counts and factors)
        if rates is not None:
            enc = self.target_encoder_
            prior = np.atleast_1d(enc.target_mean_)  # what TargetEncoder gives unseen levels
            k = len(prior)  # rates of the item column: the second block of k columns
            rates = rates.copy()
            rates[rows, k : 2 * k] = prior
        return i, rates

    def _fit(self, X, y, cross_fit=False):
        X = self._frame(X, reset=True)
        user, item = self._ids(X)
        self.categorical_cols_, self.passthrough_cols_ = self._resolve_columns(X)
        self._passthrough(X)  # validates NaN / inf
        if y is not None and self.passthrough_cols_:
            # a passed-through column that reproduces the label is leakage: say so (name it)
            check_label_leakage(X, y, columns=self.passthrough_cols_, stacklevel=4)

        self.user_indexer_ = IdIndexer(name=f"user_col={self.user_col!r}").fit(user)
        self.item_indexer_ = IdIndexer(name=f"item_col={self.item_col!r}").fit(item)
        self.cold_items_ = self.item_indexer_.ids_[:0].to_numpy()
        u = self.user_indexer_.transform(user, check=False)  # validated by _ids
        i = self.item_indexer_.transform(item, check=False)
        self.user_counts_ = np.bincount(u, minlength=self.user_indexer_.n_indices_).astype(float)
        self.item_counts_ = np.bincount(i, minlength=self.item_indexer_.n_indices_).astype(float)
        self.item_is_head_ = _head_flags(self.item_counts_, self.head_share)
        known = self.item_counts_[1:]
        pct = np.zeros_like(self.item_counts_)
        # percentile of the item's count among known items (ties share the upper rank)
        pct[1:] = np.searchsorted(np.sort(known), known, side="right") / len(known)
        self.item_pop_pct_ = pct

        rates = None
        self.target_encoder_ = None
        if self.target_rates:
            if y is None:
                raise ValueError(
                    "InteractionFeaturizer requires y to be passed, but the target y is None: "
                    "the out-of-fold target rates need the label; pass y or set "
                    "target_rates=False."
                )
            y = np.asarray(y)
            if y.ndim != 1 or len(y) != len(X):
                raise ValueError(
                    f"y must be 1-d with one label per row of X ({len(X)}); got shape {y.shape}."
                )
            if y.dtype.kind == "f" and not np.isfinite(y).all():
                raise ValueError("y contains NaN or inf.")
            folds = (KFold if type_of_target(y) == "continuous" else StratifiedKFold)(
                n_splits=self.cv, shuffle=True, random_state=self.random_state
            )
            enc = TargetEncoder(smooth=self.smooth, cv=folds)
            self.category_levels_ = [
                pd.Index(pd.unique(X[c].dropna().astype(object))) for c in self.categorical_cols_
            ]
            enc_in = self._encoder_input(X, u, i)
            if cross_fit:
                rates = enc.fit_transform(enc_in, y)
            else:
                enc.fit(enc_in, y)
            self.target_encoder_ = enc

        m = None
        if self._n_components() >= 1:
            m = sp.csr_matrix(
                (np.ones(len(u)), (u, i)),
                shape=(self.user_indexer_.n_indices_, self.item_indexer_.n_indices_),
            )
            m.data[:] = 1.0  # binary: duplicates summed by csr are reset to presence
        self._fit_factors(m)
        self._fit_side()

        self.feature_names_out_ = np.asarray(self._names(), dtype=object)
        return X, u, i, rates

    def _n_components(self):
        return min(
            self.n_factors, self.user_indexer_.n_indices_ - 2, self.item_indexer_.n_indices_ - 2
        )

    def _fit_factors(self, m):
        """``svd_`` and the factors by index from the binary user x item matrix ``m`` (None when
        ``_n_components() < 1``); index 0, the unknown id, gets zero factors."""
        self.svd_ = None
        self._user_factors = self._item_factors = None
        if m is None:
            return
        self.svd_ = TruncatedSVD(n_components=self._n_components(), random_state=self.random_state)
        uf = self.svd_.fit_transform(m)
        uf[0] = 0.0
        itf = self.svd_.components_.T.copy()
        itf[0] = 0.0
        self._user_factors, self._item_factors = uf, itf

    def _fit_side(self):
        """Encode the side tables (``side_``, ``skipped_side_columns_``)."""
        self.side_ = {}
        self.skipped_side_columns_ = {}
        for param, table, prefix in [
            ("item_info", self.item_info, "item_"),
            ("user_info", self.user_info, "user_"),
        ]:
            if table is not None:
                idx, values, names, skipped = _side_block(
                    table, prefix, self.max_side_categories, param
                )
                self.side_[param] = (idx, values, names)
                self.skipped_side_columns_[param] = skipped

    def _names(self):
        names = [self.user_col, self.item_col] if self.keep_id_columns else []
        names += [str(c) for c in self.passthrough_cols_]
        if self.popularity:
            names += [
                "item_count",
                "item_log_count",
                "item_pop_pct",
                "item_is_head",
                "user_count",
                "user_log_count",
            ]
        if self.target_encoder_ is not None:
            enc = self.target_encoder_
            bases = ["user_rate", "item_rate", *(f"{c}_rate" for c in self.categorical_cols_)]
            if enc.target_type_ == "multiclass":
                names += [f"{b}_{cls}" for b in bases for cls in enc.classes_]
            else:
                names += bases
        if self.svd_ is not None:
            k = self.svd_.n_components
            names += [f"user_svd_{j}" for j in range(k)] + [f"item_svd_{j}" for j in range(k)]
            names += ["svd_affinity"]
        for _, _, side_names in self.side_.values():
            names += side_names
        return [str(n) for n in names]

    # ------------------------------------------------------------------ transform
    def transform(self, X):
        """Featurize rows; unknown users and items get the prior.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            Same columns as in :meth:`fit`.

        Returns
        -------
        X_out : ndarray or DataFrame of shape (n_samples, n_features_out)
            A DataFrame (same index as ``X``) under ``set_output(transform="pandas")``.
        """
        check_is_fitted(self)
        X = self._frame(X, reset=False)
        user, item = self._ids(X)
        u = self.user_indexer_.transform(user, check=False)  # validated by _ids
        i = self.item_indexer_.transform(item, check=False)
        rates = None
        if self.target_encoder_ is not None:
            rates = self.target_encoder_.transform(self._encoder_input(X, u, i))
        return self._output(X, u, i, rates)

    def _output(self, X, u, i, rates):
        blocks = [self._passthrough(X)]
        if self.popularity:
            ic, uc = self.item_counts_[i], self.user_counts_[u]
            blocks += [
                ic,
                np.log1p(ic),
                self.item_pop_pct_[i],
                self.item_is_head_[i],
                uc,
                np.log1p(uc),
            ]
        if rates is not None:
            blocks.append(rates)
        if self.svd_ is not None:
            uf, itf = self._user_factors[u], self._item_factors[i]
            blocks += [uf, itf, np.einsum("ij,ij->i", uf, itf)]
        for param, (idx, values, _) in self.side_.items():
            col = self.item_col if param == "item_info" else self.user_col
            pos = idx.get_indexer(X[col].to_numpy())
            blocks.append(values[np.where(pos < 0, len(values) - 1, pos)])
        # one allocation for the output, filled block by block
        widths = [1 if b.ndim == 1 else b.shape[1] for b in blocks]
        numeric = np.empty((len(X), sum(widths)))
        start = 0
        for block, width in zip(blocks, widths):
            numeric[:, start : start + width] = block.reshape(len(X), width)
            start += width
        names = self.feature_names_out_
        as_pandas = _get_output_config("transform", self)["dense"] == "pandas"
        if not self.keep_id_columns:
            return pd.DataFrame(numeric, columns=names, index=X.index) if as_pandas else numeric
        if as_pandas:
            out = pd.DataFrame(numeric, columns=names[2:], index=X.index)
            out.insert(0, self.item_col, X[self.item_col].to_numpy())
            out.insert(0, self.user_col, X[self.user_col].to_numpy())
            out.columns = names
            return out
        ids = X[[self.user_col, self.item_col]].to_numpy()
        if ids.dtype.kind in "iuf":
            return np.hstack([ids.astype(float), numeric])
        return np.hstack([ids.astype(object), numeric.astype(object)])

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns.

        Returns
        -------
        names : ndarray of str
        """
        check_is_fitted(self, "feature_names_out_")
        return self.feature_names_out_.copy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = self.target_rates
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags
