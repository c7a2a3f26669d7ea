"""The data contract of DESIGN.md section 2, implemented once.

Every estimator, sampler and scorer of the package resolves its id columns, validates them and
maps ids to indices through this module, so that error messages and the handling of unknown ids
are the same everywhere.

- ``X`` is a :class:`pandas.DataFrame` with one row per interaction; the id columns are named by
  ``user_col`` / ``item_col`` (and ``group_col`` for ranking, ``time_col`` for temporal splits).
- Ids are integers, strings or categories (finite floats are accepted too). NaN / missing or
  infinite ids, booleans and datetimes are rejected with an error that names the column.
- :class:`IdIndexer` maps the ids seen in ``fit`` to ``1 .. n`` and every other id to the reserved
  unknown index ``0`` (cold start is normal, never an error).

This module sits at the bottom of the package: it imports nothing else of ``sklearn_recsys``, so
``metrics`` and ``datasets`` may use it without breaking the layering.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_array, validate_data

__all__ = [
    "UNKNOWN_INDEX",
    "IdIndexer",
    "check_columns",
    "check_id_column",
    "check_interactions",
    "check_time_column",
    "column_list",
    "group_codes",
    "interaction_ids",
    "plain_ids",
    "positive_weights",
    "resolve_id_columns",
    "sorted_id_index",
]

#: Index reserved for ids not seen in ``fit`` (cold users and items).
UNKNOWN_INDEX = 0


def column_list(X, limit=12):
    """Readable list of the columns of ``X`` for error messages."""
    cols = [str(c) for c in X.columns]
    if len(cols) > limit:
        cols = cols[:limit] + ["..."]
    return "[" + ", ".join(repr(c) for c in cols) + "]"


def check_interactions(X, *, param="X"):
    """Check that ``X`` is a non-empty interaction DataFrame.

    Parameters
    ----------
    X : object
        The candidate interaction table.
    param : str, default="X"
        Name used in error messages.

    Returns
    -------
    X : pandas.DataFrame
        ``X`` itself (never copied).
    """
    if not isinstance(X, pd.DataFrame):
        raise TypeError(
            f"{param} must be a pandas DataFrame with one row per interaction and id columns; "
            f"got {type(X).__name__}."
        )
    if X.shape[0] == 0:
        raise ValueError(f"{param} is empty: 0 rows (expected at least 1 interaction).")
    return X


def check_columns(X, *, frame="X", **columns):
    """Check that each named column parameter is a column of ``X``.

    Parameters
    ----------
    X : pandas.DataFrame
        Interaction table.
    frame : str, default="X"
        Name of the frame in error messages (e.g. ``"events"``).
    **columns : str or None
        Parameter name -> column name, e.g. ``user_col="user_id"``. ``None`` values are skipped.

    Raises
    ------
    ValueError
        Naming the parameter, the column and the columns ``X`` has.
    """
    for param, col in columns.items():
        if col is None:
            continue
        if col not in X.columns:
            raise ValueError(
                f"{param}={col!r} is not a column of {frame}; columns are {column_list(X)}."
            )


def check_id_column(values, *, name):
    """Validate one id column and return it as a :class:`pandas.Series`.

    Parameters
    ----------
    values : array-like of shape (n_samples,)
        Id values (a DataFrame column, a Series or an array).
    name : str
        How to name the column in error messages, e.g. ``"user_col='user_id'"``.

    Returns
    -------
    ids : pandas.Series
        The ids, unchanged.

    Raises
    ------
    TypeError
        For boolean, datetime, timedelta or complex ids.
    ValueError
        For missing (NaN / None) or infinite ids.
    """
    ids = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values))
    dtype = ids.dtype
    if (
        pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_datetime64_any_dtype(dtype)
        or pd.api.types.is_timedelta64_dtype(dtype)
        or pd.api.types.is_complex_dtype(dtype)
    ):
        raise TypeError(f"{name} must hold integer, string or categorical ids; got dtype {dtype}.")
    missing = ids.isna().to_numpy()
    if missing.any():
        raise ValueError(
            f"{name} has {int(missing.sum())} missing (NaN / None) ids, e.g. at row "
            f"{int(np.flatnonzero(missing)[0])}; every interaction needs an id."
        )
    if pd.api.types.is_float_dtype(dtype):
        arr = ids.to_numpy(dtype=float)
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} holds inf ids; ids must be finite.")
    return ids


def check_time_column(values, *, name):
    """Validate a time column: numeric or datetime, without missing values."""
    times = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values))
    if not (
        pd.api.types.is_numeric_dtype(times.dtype)
        or pd.api.types.is_datetime64_any_dtype(times.dtype)
    ) or pd.api.types.is_bool_dtype(times.dtype):
        raise TypeError(
            f"{name} must be numeric (e.g. Unix seconds) or datetime; got {times.dtype}."
        )
    if times.isna().any():
        raise ValueError(f"{name} has {int(times.isna().sum())} missing timestamps.")
    return times


def group_codes(groups, *, name="groups"):
    """Integer codes ``0 .. n_groups - 1`` for a group column, in order of first appearance.

    Parameters
    ----------
    groups : array-like of shape (n_samples,)
        Query / user ids (validated as ids).
    name : str, default="groups"
        Name used in error messages.

    Returns
    -------
    codes : ndarray of shape (n_samples,), dtype int64
    n_groups : int
    """
    ids = check_id_column(groups, name=name)
    codes, uniques = pd.factorize(ids, sort=False)
    return codes.astype(np.int64, copy=False), len(uniques)


def plain_ids(ids):
    """Categorical ids as their values (object dtype), other ids unchanged."""
    return ids.astype(object) if isinstance(ids.dtype, pd.CategoricalDtype) else ids


def sorted_id_index(values):
    """The distinct ids of ``values`` as a :class:`pandas.Index`, sorted when they are sortable
    (mixed, unsortable ids keep their order of appearance)."""
    index = pd.Index(pd.unique(values))
    try:
        return index.sort_values()
    except TypeError:
        return index


def positive_weights(X, y, sample_weight, *, positive_only):
    """Weight of each interaction row: ``sample_weight`` (1 by default), times ``y > 0`` when
    ``positive_only`` and a label is given.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
        Rows (only their number is used).
    y : array-like of shape (n_samples,) or None
    sample_weight : array-like of shape (n_samples,) or None
    positive_only : bool

    Returns
    -------
    w : ndarray of shape (n_samples,), float
    """
    from sklearn.utils.validation import _check_sample_weight, column_or_1d

    w = _check_sample_weight(sample_weight, X, dtype=float)
    if y is not None and positive_only:
        y = column_or_1d(y)
        if len(y) != len(w):
            raise ValueError(f"y has {len(y)} rows but X has {len(w)}.")
        w = w * (np.asarray(y, dtype=float) > 0)
    return w


class IdIndexer:
    """Map ids to contiguous indices with a reserved unknown index.

    Ids seen in :meth:`fit` get ``1 .. n_ids`` (in sorted order when the ids are sortable); every
    other id maps to :data:`UNKNOWN_INDEX` (``0``). Vectorised through :class:`pandas.Index`.

    Parameters
    ----------
    name : str, default="ids"
        How to name the column in error messages.

    Attributes
    ----------
    ids_ : pandas.Index
        The known ids; ``ids_[j]`` has index ``j + 1``.
    n_indices_ : int
        ``len(ids_) + 1``: the size of an embedding table including the unknown row.

    Examples
    --------
    >>> from sklearn_recsys._contract import IdIndexer
    >>> indexer = IdIndexer().fit(["b", "a", "b"])
    >>> indexer.transform(["a", "b", "zzz"])
    array([1, 2, 0])
    >>> indexer.n_indices_
    3
    """

    def __init__(self, name="ids"):
        self.name = name

    def fit(self, ids):
        ids = check_id_column(ids, name=self.name)
        self.ids_ = sorted_id_index(plain_ids(ids).to_numpy())
        self.n_indices_ = len(self.ids_) + 1
        return self

    def transform(self, ids, *, check=True):
        """Indices of ``ids`` (0 for unknown ids).

        ``check=False`` skips the validation for a caller that has just run
        :func:`check_id_column` on the same column (it still needs a Series).
        """
        ids = check_id_column(ids, name=self.name) if check else ids
        if isinstance(ids.dtype, pd.CategoricalDtype):
            ids = ids.astype(object)
        pos = self.ids_.get_indexer(ids.to_numpy())
        return (pos + 1).astype(np.int64, copy=False)  # -1 (unknown) becomes UNKNOWN_INDEX

    def fit_transform(self, ids):
        return self.fit(ids).transform(ids)


def resolve_id_columns(X, cols: Sequence[tuple[str, str | None]]):
    """Check that the named id columns exist in ``X`` and are valid ids.

    Parameters
    ----------
    X : pandas.DataFrame
    cols : sequence of (param, column) pairs, e.g. ``[("user_col", "user_id")]``.

    Returns
    -------
    dict
        column -> validated :class:`pandas.Series`.
    """
    check_interactions(X)
    check_columns(X, **{p: c for p, c in cols})
    return {c: check_id_column(X[c], name=f"{p}={c!r}") for p, c in cols if c is not None}


def interaction_ids(estimator, X, *, reset, cols=("user_col", "item_col")):
    """``X`` as a frame and the plain ids of an estimator's id columns, validated.

    The one rule of the id-reading estimators: a DataFrame is read by column name (rows to score
    may carry other columns than the training frame, e.g. candidate rows with ids only); an
    array's id columns are positions, so its layout must be the training one
    (``n_features_in_`` is checked when ``reset`` is False, as scikit-learn does).

    Parameters
    ----------
    estimator : estimator
        Has the parameters named by ``cols``; ``reset`` records its input features on it.
    X : DataFrame or array-like of shape (n_samples, n_features)
        The interaction rows.
    reset : bool
        True in ``fit`` (records ``n_features_in_`` / ``feature_names_in_``).
    cols : tuple of str, default=("user_col", "item_col")
        The estimator's id-column parameters, in the order of the returned ids.

    Returns
    -------
    X : DataFrame
        ``X``, or a frame of the array with integer column names.
    ids : list of ndarray
        One array of ids per entry of ``cols`` (categoricals as their values).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.base import BaseEstimator
    >>> from sklearn_recsys._contract import interaction_ids
    >>> class Est(BaseEstimator):
    ...     def __init__(self, user_col=0, item_col=1):
    ...         self.user_col, self.item_col = user_col, item_col
    >>> est = Est()
    >>> _, (users, items) = interaction_ids(est, np.array([[1, 7], [2, 8]]), reset=True)
    >>> users.tolist(), items.tolist(), est.n_features_in_
    ([1, 2], [7, 8], 2)
    """
    if isinstance(X, pd.DataFrame):
        if reset:
            validate_data(estimator, X, reset=True, skip_check_array=True)
    else:
        X = check_array(X, dtype=None)
        validate_data(estimator, X, reset=reset, skip_check_array=True)
        X = pd.DataFrame(X)
    if X.shape[0] == 0:
        raise ValueError("X is empty: 0 rows (expected at least 1 interaction).")
    named = [(c, getattr(estimator, c)) for c in cols]
    if X.shape[1] < len(cols):
        raise ValueError(
            f"X has n_features = {X.shape[1]}; it needs "
            + " and ".join(f"a {c.removesuffix('_col')} column ({c}={v!r})" for c, v in named)
            + "."
        )
    values = [v for _, v in named]
    if len({repr(v) for v in values}) < len(values):
        raise ValueError(" and ".join(c for c in cols) + f" must differ; got {values!r}.")
    ids = resolve_id_columns(X, named)
    return X, [plain_ids(ids[v]).to_numpy() for v in values]
