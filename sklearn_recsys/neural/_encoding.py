"""Turn an interaction frame (or a numeric array) into the tensors the neural modules read."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._contract import IdIndexer, resolve_id_columns


class _TabularEncoder:
    """Id and category columns -> integer fields (unknown = 0); numeric columns -> scaled floats.

    Field order: the user column, the item column, then the category / string columns in the
    order of ``X``. Numeric (and boolean) columns are standardised with the mean and standard
    deviation seen in ``fit`` (a constant column is only centred). A numeric array is all dense.

    Attributes (after ``fit``)
    --------------------------
    numeric_cols_, categorical_cols_ : list
    indexers_ : dict column -> IdIndexer
    cardinalities_ : list of int (unknown index included)
    user_field_, item_field_ : int or None
    mean_, scale_ : ndarray of shape (n_dense,)
    """

    def __init__(self, user_col=None, item_col=None):
        self.user_col = user_col
        self.item_col = item_col

    # -------------------------------------------------------------------------------------
    def _split_columns(self, X):
        id_cols = [c for c in (self.user_col, self.item_col) if c is not None]
        if len(set(id_cols)) < len(id_cols):
            raise ValueError(f"user_col and item_col name the same column {id_cols[0]!r}.")
        numeric, categorical = [], []
        for col in X.columns:
            if col in id_cols:
                continue
            dtype = X[col].dtype
            if pd.api.types.is_bool_dtype(dtype) or (
                pd.api.types.is_numeric_dtype(dtype)
                and not pd.api.types.is_complex_dtype(dtype)
                and not isinstance(dtype, pd.CategoricalDtype)
            ):
                numeric.append(col)
            elif (
                isinstance(dtype, pd.CategoricalDtype)
                or pd.api.types.is_object_dtype(dtype)
                or pd.api.types.is_string_dtype(dtype)
            ):
                categorical.append(col)
            else:
                raise TypeError(
                    f"column {col!r} has dtype {dtype}; the neural classifiers read numeric, "
                    "boolean, category or string columns (convert or drop it)."
                )
        return id_cols, numeric, categorical

    def _numeric_values(self, X):
        if not self.is_frame_:
            return np.asarray(X, dtype=np.float64)
        if not self.numeric_cols_:
            return np.zeros((len(X), 0))
        values = X[self.numeric_cols_].to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(values)
        if bad.any():
            col = self.numeric_cols_[int(np.flatnonzero(bad.any(axis=0))[0])]
            raise ValueError(
                f"numeric column {col!r} holds {int(bad.sum(axis=0).max())} NaN or infinite "
                "values; impute them before fitting (e.g. sklearn.impute.SimpleImputer)."
            )
        return values

    def fit(self, X):
        self.is_frame_ = isinstance(X, pd.DataFrame)
        self.indexers_ = {}
        if self.is_frame_:
            ids = resolve_id_columns(X, [("user_col", self.user_col), ("item_col", self.item_col)])
            id_cols, self.numeric_cols_, self.categorical_cols_ = self._split_columns(X)
            for col in id_cols:
                self.indexers_[col] = IdIndexer(name=f"{self._param(col)}={col!r}").fit(ids[col])
            for col in self.categorical_cols_:
                self.indexers_[col] = IdIndexer(name=f"category column {col!r}").fit(X[col])
            self.field_cols_ = id_cols + self.categorical_cols_
        else:
            self.numeric_cols_ = list(range(X.shape[1]))
            self.categorical_cols_ = []
            self.field_cols_ = []
        self.cardinalities_ = [self.indexers_[c].n_indices_ for c in self.field_cols_]
        self.user_field_ = self._field(self.user_col)
        self.item_field_ = self._field(self.item_col)
        values = self._numeric_values(X)
        self.mean_ = values.mean(axis=0) if len(values) else np.zeros(values.shape[1])
        scale = values.std(axis=0) if len(values) else np.ones(values.shape[1])
        self.scale_ = np.where(scale > 0, scale, 1.0)
        return self

    def _param(self, col):
        return "user_col" if col == self.user_col else "item_col"

    def _field(self, col):
        if not self.is_frame_ or col is None:
            return None
        return self.field_cols_.index(col)

    @property
    def n_dense_(self):
        return len(self.numeric_cols_)

    def transform(self, X):
        if self.is_frame_:
            resolve_id_columns(X, [("user_col", self.user_col), ("item_col", self.item_col)])
        dense = ((self._numeric_values(X) - self.mean_) / self.scale_).astype(np.float32)
        out = {"dense": dense}
        if self.field_cols_:
            out["sparse"] = np.stack(
                [self.indexers_[c].transform(X[c]) for c in self.field_cols_], axis=1
            ).astype(np.int64)
        return out
