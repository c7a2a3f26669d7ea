"""Glue that keeps the id columns of an interaction frame valid around imblearn samplers."""

from __future__ import annotations

import numpy as np
import pandas as pd
from imblearn.base import BaseSampler
from imblearn.over_sampling import SMOTE
from sklearn.base import _fit_context, clone
from sklearn.utils._param_validation import HasMethods, StrOptions
from sklearn.utils.validation import validate_data

from .._contract import check_id_column, check_interactions
from ._columns import DEFAULT_ID_COLUMNS, _as_column_list, _is_numeric, nearest_rows

__all__ = ["IdPreservingSampler"]


class IdPreservingSampler(BaseSampler):
    """Run an imbalanced-learn sampler on the numeric columns; keep ids and categories valid.

    SMOTE, ADASYN or Borderline-SMOTE interpolate every column they see, which turns a user id
    into a meaningless number. This wrapper hands the sampler only the numeric feature columns
    of the interaction frame; each synthetic row then takes its id and categorical columns
    (the *neighbour* columns) from the nearest real row of the same class, in the standardised
    numeric space. Samplers that select rows (random over- and under-sampling, anything with a
    ``sample_indices_`` attribute) get the whole rows back exactly. Integer columns are rounded.
    With an array, or a frame without neighbour columns, the sampler runs unchanged.

    Parameters
    ----------
    sampler : imbalanced-learn sampler, default=None
        The sampler to run (cloned); ``None`` means :class:`imblearn.over_sampling.SMOTE`.
    neighbor_columns : "auto" or list, default="auto"
        Columns copied from the nearest real row. ``"auto"``: ``user_id`` and ``item_id`` when X
        has them, and every non-numeric (category, object, string, bool) column.

    Attributes
    ----------
    sampler_ : sampler
        The fitted clone of ``sampler``.
    sampling_strategy_ : dict
        The wrapped sampler's ``sampling_strategy_``.
    neighbor_columns_ : list
        The neighbour columns used.
    n_features_in_ : int
        Number of columns of X.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when X is a DataFrame with string column names.

    See Also
    --------
    GANOverSampler : Generates rows with a conditional GAN, with the same neighbour rule.

    Examples
    --------
    >>> from imblearn.over_sampling import SMOTE
    >>> from sklearn_recsys.datasets import make_interactions
    >>> from sklearn_recsys.sampling import IdPreservingSampler
    >>> data = make_interactions(n_users=50, n_items=30, n_interactions=1000, random_state=0)
    >>> X = data.interactions.drop(columns="purchase")
    >>> y = data.interactions["purchase"]
    >>> sampler = IdPreservingSampler(SMOTE(k_neighbors=3, random_state=0))
    >>> X_res, y_res = sampler.fit_resample(X, y)
    >>> int(y_res.sum()) == int((y == 0).sum())
    True
    >>> bool(X_res["user_id"].isin(X["user_id"]).all()), X_res["category"].dtype.name
    (True, 'category')
    >>> sampler.neighbor_columns_
    ['user_id', 'item_id', 'category']
    """

    _sampling_type = "bypass"

    _parameter_constraints: dict = {
        "sampler": [HasMethods(["fit_resample"]), None],
        "neighbor_columns": [StrOptions({"auto"}), list, tuple],
    }

    def __init__(self, sampler=None, *, neighbor_columns="auto"):
        self.sampler = sampler
        self.neighbor_columns = neighbor_columns

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = SMOTE() if self.sampler is None else self.sampler
        inner_tags = inner.__sklearn_tags__()
        tags.input_tags.sparse = inner_tags.input_tags.sparse
        tags.input_tags.string = inner_tags.input_tags.string
        tags.input_tags.allow_nan = inner_tags.input_tags.allow_nan
        return tags

    def _neighbor_columns(self, X):
        if not isinstance(X, pd.DataFrame):
            if isinstance(self.neighbor_columns, str):
                return []
            raise ValueError(
                "neighbor_columns lists columns, which needs X to be a pandas DataFrame; got "
                f"{type(X).__name__}."
            )
        if isinstance(self.neighbor_columns, str):
            cols = [c for c in DEFAULT_ID_COLUMNS if c in X.columns]
            cols += [c for c in X.columns if c not in cols and not _is_numeric(X[c].dtype)]
            return cols
        cols = _as_column_list(self.neighbor_columns, X, param="neighbor_columns")
        bad = [c for c in X.columns if c not in cols and not _is_numeric(X[c].dtype)]
        if bad:
            raise TypeError(
                f"columns {bad!r} of X are not numeric and not in neighbor_columns; the wrapped "
                "sampler can only interpolate numbers. List them in neighbor_columns."
            )
        return cols

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Check the input; the resampling itself happens in :meth:`fit_resample`.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Interactions.
        y : array-like of shape (n_samples,)
            Labels.

        Returns
        -------
        self : IdPreservingSampler
        """
        neighbors = self._prepare(X, y)
        if neighbors:
            self.sampler_.fit(X[[c for c in X.columns if c not in neighbors]], y)
        else:
            self.sampler_.fit(X, y)
            self._copy_input_attributes()
        self.sampling_strategy_ = self.sampler_.sampling_strategy_
        return self

    def _prepare(self, X, y):
        """Clone the sampler, resolve the neighbour columns and, when there are any, validate
        the frame (the sampler then only sees the other columns). Returns the columns."""
        self.sampler_ = clone(SMOTE() if self.sampler is None else self.sampler)
        self.neighbor_columns_ = self._neighbor_columns(X)
        if self.neighbor_columns_:
            check_interactions(X)
            validate_data(self, X=X, y=y, reset=True, skip_check_array=True)
        return self.neighbor_columns_

    def _copy_input_attributes(self):
        for attr in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.sampler_, attr):
                setattr(self, attr, getattr(self.sampler_, attr))

    @_fit_context(prefer_skip_nested_validation=False)
    def fit_resample(self, X, y):
        """Resample with the wrapped sampler; copy neighbour columns to synthetic rows.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Interactions.
        y : array-like of shape (n_samples,)
            Labels.

        Returns
        -------
        X_resampled : DataFrame or array-like
            Real rows first (fresh RangeIndex for a DataFrame), then the synthetic rows.
        y_resampled : array-like
            The labels, in ``y``'s container.
        """
        return self._fit_resample(X, y)

    def _fit_resample(self, X, y):
        neighbors = self._prepare(X, y)
        if not neighbors:
            X_res, y_res = self.sampler_.fit_resample(X, y)
            self._copy_input_attributes()
            self.sampling_strategy_ = self.sampler_.sampling_strategy_
            return X_res, y_res

        for c in neighbors:
            if c in DEFAULT_ID_COLUMNS:
                check_id_column(X[c], name=f"id column {c!r}")
        numeric = [c for c in X.columns if c not in neighbors]
        if not numeric:
            raise ValueError(
                "X has no numeric column left for the sampler: every column is a neighbour "
                f"column ({neighbors!r})."
            )
        X_num = X[numeric]
        X_num_res, y_res = self.sampler_.fit_resample(X_num, y)
        self.sampling_strategy_ = self.sampler_.sampling_strategy_
        n = X.shape[0]
        if hasattr(self.sampler_, "sample_indices_"):
            X_res = X.iloc[self.sampler_.sample_indices_].reset_index(drop=True)
        else:
            head = np.asarray(X_num_res)[:n]
            if len(X_num_res) < n or not np.array_equal(head, X_num.to_numpy(), equal_nan=True):
                raise ValueError(
                    f"{type(self.sampler_).__name__} neither exposes sample_indices_ nor returns "
                    "the original rows first; IdPreservingSampler cannot tell which rows are "
                    "synthetic."
                )
            X_new = pd.DataFrame(np.asarray(X_num_res)[n:], columns=numeric)
            y_all = np.asarray(y_res).reshape(len(X_num_res), -1)
            y_all = y_all.argmax(axis=1) if y_all.shape[1] > 1 else y_all.ravel()
            y_real, y_new = y_all[:n], y_all[n:]
            values = X_num.to_numpy(dtype=np.float64)
            center = np.nanmean(values, axis=0)
            scale = np.nanstd(values, axis=0)
            scale[~(scale > 0)] = 1.0
            rows = np.empty(len(X_new), dtype=np.int64)
            new_values = (X_new.to_numpy(dtype=np.float64) - center) / scale
            real_values = np.nan_to_num((values - center) / scale)
            for klass in np.unique(y_new):
                new_mask = y_new == klass
                class_rows = np.flatnonzero(y_real == klass)
                rows[new_mask] = nearest_rows(
                    real_values[class_rows], np.nan_to_num(new_values[new_mask]), class_rows
                )
            for c in numeric:
                if X[c].dtype.kind in "iu":
                    X_new[c] = np.clip(np.round(X_new[c].to_numpy(dtype=np.float64)),
                                       X[c].min(), X[c].max())
            for c in neighbors:
                X_new[c] = X[c].iloc[rows].to_numpy()
            X_new = X_new[list(X.columns)].astype(X.dtypes.to_dict())
            X_res = pd.concat([X.reset_index(drop=True), X_new], ignore_index=True)
        if isinstance(y_res, (pd.Series, pd.DataFrame)):
            y_res.index = X_res.index
        return X_res, y_res
