"""Interaction frame -> LightGBM matrix: id and category columns become categorical codes.

LightGBM wants non-negative integer codes for categorical features. The encoding fitted here maps

- id columns (``user_id`` / ``item_id`` by default) through
  :class:`~sklearn_recsys._contract.IdIndexer`: ids seen in ``fit`` -> ``1 .. n``, unseen
  ids -> ``0`` (cold start is normal, never an error);
- ``category`` / object / string columns the same way, except that missing values stay missing
  (``NaN``, which LightGBM sends down its missing-value branch);
- numeric and boolean columns to ``float64`` unchanged.

Everything is vectorised per column (:meth:`pandas.Index.get_indexer`), so a 10 M-row frame costs
a few hash look-ups per column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._contract import IdIndexer, check_columns

#: Columns treated as categorical ids by ``categorical_features="auto"`` when present.
DEFAULT_ID_COLS = ("user_id", "item_id")


def _is_categorical_dtype(dtype):
    return (
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
    )


class _CategoryIndexer:
    """Like IdIndexer, but missing values are allowed and stay NaN."""

    def __init__(self, column):
        self.column = column

    def fit(self, values):
        s = pd.Series(values).dropna()
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(object)
        self.ids_ = pd.Index(pd.unique(s.to_numpy()))
        self.n_indices_ = len(self.ids_) + 1
        return self

    def transform(self, values):
        s = pd.Series(values)
        missing = s.isna().to_numpy()
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(object)
        codes = (self.ids_.get_indexer(s.to_numpy()) + 1).astype(np.float64)
        codes[missing] = np.nan
        return codes


def resolve_categorical(X, categorical_features, exclude=()):
    """Names of the columns of DataFrame ``X`` that are categorical, and which of them are ids."""
    if categorical_features is None:
        cats = []
    elif isinstance(categorical_features, str) and categorical_features == "auto":
        cats = [
            c for c in X.columns
            if c not in exclude and (c in DEFAULT_ID_COLS or _is_categorical_dtype(X[c].dtype))
        ]
    else:
        cats = list(categorical_features)
        missing = [c for c in cats if c not in X.columns]
        if missing:
            check_columns(X, categorical_features=missing[0])
        cats = [c for c in cats if c not in exclude]
    return cats


class FrameEncoder:
    """Fitted encoding of an interaction frame (private helper of the LightGBM wrappers)."""

    def __init__(self, categorical_features="auto", exclude=()):
        self.categorical_features = categorical_features
        self.exclude = tuple(exclude)

    def fit(self, X):
        self.columns_ = [c for c in X.columns if c not in self.exclude]
        cats = set(resolve_categorical(X, self.categorical_features, self.exclude))
        self.encoders_ = {}
        for c in self.columns_:
            dtype = X[c].dtype
            if c in cats:
                if c in DEFAULT_ID_COLS:
                    enc = IdIndexer(name=f"categorical feature {c!r}")
                else:
                    enc = _CategoryIndexer(c)
                self.encoders_[c] = enc.fit(X[c])
            elif _is_categorical_dtype(dtype):
                raise TypeError(
                    f"column {c!r} of X has dtype {dtype} but is not in categorical_features="
                    f"{self.categorical_features!r}; pass it there or convert it to numbers."
                )
            elif not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
                raise TypeError(
                    f"column {c!r} of X has dtype {dtype}; expected numeric, boolean or "
                    "categorical features (convert datetimes to numbers first)."
                )
        self.categorical_ = [c for c in self.columns_ if c in self.encoders_]
        self.categorical_index_ = [i for i, c in enumerate(self.columns_) if c in self.encoders_]
        return self

    def transform(self, X, rows=None):
        """The float matrix of ``X`` (column-major, as LightGBM reads it without a copy).

        ``rows`` (optional integer positions) selects and orders the rows while encoding, so a
        caller that needs the rows sorted (the ranker) does not copy the matrix again.
        """
        if not isinstance(X, pd.DataFrame):
            raise TypeError(
                "this model was fitted on a DataFrame with categorical columns "
                f"{self.categorical_}; pass a DataFrame with the same columns, got "
                f"{type(X).__name__}."
            )
        for c in self.columns_:
            check_columns(X, feature=c)
        n_rows = X.shape[0] if rows is None else len(rows)
        out = np.empty((n_rows, len(self.columns_)), dtype=np.float64, order="F")
        for j, c in enumerate(self.columns_):
            enc = self.encoders_.get(c)
            if enc is None:
                values = X[c].to_numpy(dtype=np.float64, na_value=np.nan)
            else:
                values = enc.transform(X[c])
            out[:, j] = values if rows is None else values[rows]
        return out
