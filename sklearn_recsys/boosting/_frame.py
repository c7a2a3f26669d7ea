"""Interaction frame -> LightGBM matrix: id and categorical columns become categorical codes.

LightGBM wants non-negative integer codes for categorical features. The encoding fitted here maps

- the id columns (the wrappers' ``user_col`` / ``item_col``, whatever their names) through
  :class:`~sklearn_recsys._contract.IdIndexer`: ids seen in ``fit`` -> ``1 .. n``, unseen
  ids -> ``0`` (cold start is normal, never an error), missing ids an error naming the parameter;
- the other categorical columns the same way, except that missing values stay missing
  (``NaN``, which LightGBM sends down its missing-value branch);
- numeric and boolean columns to ``float64`` unchanged.

Everything is vectorised per column (:meth:`pandas.Index.get_indexer`), so a 10 M-row frame costs
a few hash look-ups per column.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import pandas as pd

from .._contract import IdIndexer, check_columns

#: The default id columns, used when ``X`` has them (see :func:`id_columns`).
DEFAULT_ID_COLUMNS = {"user_col": "user_id", "item_col": "item_id"}


def _is_position(value):
    return isinstance(value, (Integral, np.integer)) and not isinstance(value, bool)


def id_columns(X, user_col, item_col, *, array=None):
    """The id columns of ``X`` as ``{label: parameter}``, e.g. ``{"uid": "user_col"}``.

    A default name (``"user_id"`` / ``"item_id"``) applies when ``X`` has that column, so that a
    numeric matrix or frame without ids goes in as it goes into LightGBM; any other name must be
    a column of ``X`` (the error names the parameter). An array (``array=True`` for a DataFrame
    that wraps one) has no names: there only positions name id columns.
    """
    array = not isinstance(X, pd.DataFrame) if array is None else array
    cols = {"user_col": user_col, "item_col": item_col}
    if user_col is not None and user_col == item_col:
        raise ValueError(f"user_col and item_col must differ; both are {user_col!r}.")
    found = {}
    for param, col in cols.items():
        if col is None:
            continue
        if array:
            if col == DEFAULT_ID_COLUMNS[param]:
                continue
            if not _is_position(col):
                raise ValueError(
                    f"{param}={col!r} names a column, but X is an array without column names; "
                    "give its position, or pass a DataFrame."
                )
            if not 0 <= col < X.shape[1]:
                raise ValueError(
                    f"{param}={col!r} is not a column position of X, which has "
                    f"{X.shape[1]} columns."
                )
        elif col == DEFAULT_ID_COLUMNS[param] and col not in X.columns:
            continue
        else:
            check_columns(X, **{param: col})
        found[col] = param
    return found


def _is_categorical_dtype(dtype):
    return (
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
    )


class _CategoryIndexer:
    """Like IdIndexer, but missing values are allowed and stay NaN."""

    def fit(self, values):
        s = pd.Series(values).dropna()
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(object)
        self.ids_ = pd.Index(pd.unique(s.to_numpy()))
        return self

    def transform(self, values):
        s = pd.Series(values)
        missing = s.isna().to_numpy()
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(object)
        codes = (self.ids_.get_indexer(s.to_numpy()) + 1).astype(np.float64)
        codes[missing] = np.nan
        return codes


class FrameEncoder:
    """Fitted encoding of an interaction frame (private helper of the LightGBM wrappers).

    Parameters
    ----------
    id_columns : dict
        Column label -> the parameter that names it (``{"uid": "user_col"}``), for messages.
    categorical_features : "auto", list or None
        The other categorical columns (see the wrappers).
    exclude : tuple
        Columns that are not features (the ranker's query column).
    from_array : bool
        The frame wraps an array (its labels are positions).
    """

    def __init__(self, id_columns, categorical_features="auto", exclude=(), from_array=False):
        self.id_columns = id_columns
        self.categorical_features = categorical_features
        self.exclude = tuple(exclude)
        self.from_array = from_array

    def _categorical(self, X):
        """Labels of the non-id categorical columns of ``X``."""
        cats = self.categorical_features
        if cats is None:
            return set()
        if isinstance(cats, str) and cats == "auto":
            return {c for c in X.columns if _is_categorical_dtype(X[c].dtype)}
        for c in cats:
            check_columns(X, categorical_features=c)
        return set(cats)

    def fit(self, X):
        self.input_columns_ = X.columns
        self.columns_ = [c for c in X.columns if c not in self.exclude]
        cats = self._categorical(X)
        self.encoders_ = {}
        for c in self.columns_:
            dtype = X[c].dtype
            if c in self.id_columns:
                enc = IdIndexer(name=f"{self.id_columns[c]}={c!r}")
            elif c in cats:
                enc = _CategoryIndexer()
            elif _is_categorical_dtype(dtype):
                raise TypeError(
                    f"column {c!r} of X has dtype {dtype} but is not in categorical_features="
                    f"{self.categorical_features!r}; pass it there, name it as user_col / "
                    "item_col if it holds ids, or convert it to numbers."
                )
            elif not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
                raise TypeError(
                    f"column {c!r} of X has dtype {dtype}; expected numeric, boolean or "
                    "categorical features (convert datetimes to numbers first)."
                )
            else:
                continue
            self.encoders_[c] = enc.fit(X[c])
        self.categorical_ = [c for c in self.columns_ if c in self.encoders_]
        self.categorical_index_ = [i for i, c in enumerate(self.columns_) if c in self.encoders_]
        return self

    def transform(self, X, rows=None):
        """The float matrix of ``X`` (column-major, as LightGBM reads it without a copy).

        ``rows`` (optional integer positions) selects and orders the rows while encoding, so a
        caller that needs the rows sorted (the ranker) does not copy the matrix again.
        """
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
