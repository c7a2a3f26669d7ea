"""Column handling shared by the samplers: id columns, and which columns are generated or copied.

A synthetic row of the interaction frame needs three kinds of values (DESIGN.md section 2):

- *continuous* columns (numeric): generated, through a reversible numeric transform;
- *discrete* columns (few levels: category / object / bool columns, 0/1 flags): generated as
  one-hot blocks (Gumbel-softmax in the GAN);
- *copied* columns (the ``user_col`` / ``item_col`` ids and the ``copy_cols``): copied from the
  nearest real row of the same class in the generated numeric space, so that they stay valid.

:func:`resolve_ids` turns the samplers' ``user_col`` / ``item_col`` into columns of ``X`` through
the data contract; :class:`_TableCodec` splits a table into the three kinds, encodes it to one
float32 matrix and decodes generated rows back to the caller's dtypes. Everything is vectorised
(one pass per column).
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import pandas as pd
from imblearn.utils import check_target_type
from scipy import sparse
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import QuantileTransformer, StandardScaler
from sklearn.utils.validation import check_consistent_length, validate_data

from .._contract import check_id_column, check_interactions, column_list, resolve_id_columns


def check_sampler_X_y(sampler, X, y, **array_options):
    """imbalanced-learn's ``_check_X_y`` that keeps an interaction frame as it is.

    A DataFrame is validated (non-empty, same length as ``y``, ``n_features_in_`` and
    ``feature_names_in_`` set) and kept with its dtypes instead of being converted to one numeric
    array; anything else goes through ``validate_data(sampler, X, y, **array_options)``.

    Returns
    -------
    X, y, binarize_y
        As ``imblearn.base.BaseSampler._check_X_y``.
    """
    y, binarize_y = check_target_type(y, indicate_one_vs_all=True)
    if isinstance(X, pd.DataFrame):
        check_interactions(X)
        validate_data(sampler, X=X, y=y, reset=True, skip_check_array=True)
        check_consistent_length(X, y)
    else:
        X, y = validate_data(sampler, X=X, y=y, reset=True, **array_options)
    return X, y, binarize_y


def _is_position(col):
    return isinstance(col, Integral) and not isinstance(col, bool)


def resolve_ids(X, *, required=False, **cols):
    """Resolve id column parameters to columns of ``X`` and validate the ids.

    Parameters
    ----------
    X : DataFrame, ndarray or sparse matrix
    required : bool, default=False
        Whether a name must address a column of an array too (it never can: an error). When
        ``False``, a name on an array means no such id (an array's ids are given by position).
    **cols : str, int or None
        Parameter -> value, e.g. ``user_col="user_id"``: a name is a column of a DataFrame, an int
        a column position (of a DataFrame too), ``None`` no such column.

    Returns
    -------
    dict
        Parameter -> column: the label for a DataFrame, the position for an array. Parameters
        without a column are left out.
    """
    n_features = X.shape[1]
    is_frame = isinstance(X, pd.DataFrame)
    found = {}
    for param, col in cols.items():
        if col is None:
            continue
        if _is_position(col):
            if not 0 <= col < n_features:
                raise ValueError(
                    f"{param}={col!r} is not a column position of X: X has {n_features} feature(s)."
                )
            found[param] = X.columns[col] if is_frame else int(col)
        elif is_frame:
            found[param] = col
        elif required:
            raise ValueError(
                f"{param}={col!r} names a column, but X is an array without column names; give "
                "the column position (an int) or pass X as a DataFrame."
            )
    if len(set(found.values())) < len(found):
        raise ValueError(
            f"{' and '.join(found)} must differ; both name the column "
            f"{next(iter(found.values()))!r}."
        )
    if is_frame:
        resolve_id_columns(X, list(found.items()))
    else:
        for param, col in found.items():
            values = X[:, [col]]
            values = values.toarray().ravel() if sparse.issparse(values) else values.ravel()
            check_id_column(values, name=f"{param}={col!r}")
    return found


def column_values(X, col):
    """One column of a DataFrame (by label) or of an array (by position)."""
    return X[col] if isinstance(X, pd.DataFrame) else X[:, col]


def copied_columns(X, ids, copy_cols, *, auto=None):
    """The columns copied from a real row: the ``ids``, then the ``copy_cols``.

    ``copy_cols`` is ``"auto"`` (the other columns ``auto(values)`` selects; none without
    ``auto``), a list (names for a DataFrame, positions for an array) or ``None`` (no other).
    """
    if copy_cols is None or (isinstance(copy_cols, str) and auto is None):
        extra = []
    elif isinstance(copy_cols, str):
        columns = X.columns if isinstance(X, pd.DataFrame) else range(X.shape[1])
        extra = [c for c in columns if c not in ids and auto(column_values(X, c))]
    else:
        extra = _as_column_list(copy_cols, X, param="copy_cols")
    return list(ids) + [c for c in extra if c not in ids]


def _is_numeric(dtype):
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def _is_binary(values):
    """True when a numeric column only holds 0 and 1 (a flag or a one-hot column)."""
    if values.dtype.kind not in "iuf" or values.size == 0:
        return False
    return bool(np.all((values == 0) | (values == 1)))


def _as_column_list(value, X, *, param):
    """Validate an explicit list of columns (names for a DataFrame, positions for an array)."""
    if isinstance(value, (str, Integral)):
        value = [value]
    cols = list(value)
    if isinstance(X, pd.DataFrame):
        for c in cols:
            if c not in X.columns:
                raise ValueError(
                    f"{param} names {c!r}, which is not a column of X; columns are "
                    f"{column_list(X)}."
                )
    else:
        n_features = X.shape[1]
        for c in cols:
            if not _is_position(c) or not 0 <= c < n_features:
                raise ValueError(
                    f"{param} must hold column positions in [0, {n_features}) when X is an "
                    f"array; got {c!r}."
                )
    if len(set(cols)) != len(cols):
        raise ValueError(f"{param} lists a column twice: {cols!r}.")
    return cols


class _TableCodec:
    """Split a table into continuous / discrete / copied columns and encode it.

    Parameters
    ----------
    id_cols : list
        The resolved id columns (see :func:`resolve_ids`), always copied.
    copy_cols, discrete_cols : "auto", list or None
        See :class:`~sklearn_recsys.sampling.GANOverSampler`.
    max_discrete_levels : int
        Non-numeric columns with more levels than this are copied from the nearest real row.
    numeric_transform : {"quantile", "standard", None}
        Transform of the continuous columns (``None`` keeps them as they are).
    random_state : int
        Seed of the quantile transformer's sub-sampling.
    """

    def __init__(
        self,
        id_cols=(),
        copy_cols="auto",
        discrete_cols="auto",
        max_discrete_levels=50,
        numeric_transform="quantile",
        random_state=0,
    ):
        self.id_cols = id_cols
        self.copy_cols = copy_cols
        self.discrete_cols = discrete_cols
        self.max_discrete_levels = max_discrete_levels
        self.numeric_transform = numeric_transform
        self.random_state = random_state

    # ------------------------------------------------------------------ column kinds
    def _many_levels(self, values):
        return (
            not _is_numeric(values.dtype)
            and pd.Series(values).nunique(dropna=False) > self.max_discrete_levels
        )

    def _split_columns(self, X):
        if self.is_frame_:
            columns = list(X.columns)
            dtypes = {c: X[c].dtype for c in columns}
        else:
            columns = list(range(X.shape[1]))
            dtypes = dict.fromkeys(columns, X.dtype)
        copied = copied_columns(X, self.id_cols, self.copy_cols, auto=self._many_levels)

        if self.discrete_cols is None:
            discrete = []
        elif isinstance(self.discrete_cols, str):
            discrete = [
                c
                for c in columns
                if c not in copied
                and (not _is_numeric(dtypes[c]) or _is_binary(np.asarray(column_values(X, c))))
            ]
        else:
            discrete = _as_column_list(self.discrete_cols, X, param="discrete_cols")
            both = [c for c in discrete if c in copied]
            if both:
                raise ValueError(
                    f"columns {both!r} are in discrete_cols and copied from the nearest real row "
                    "(an id column or in copy_cols); a column is either generated or copied."
                )
        continuous = [c for c in columns if c not in copied and c not in discrete]
        for c in continuous:
            dtype = dtypes[c]
            if not (_is_numeric(dtype) or pd.api.types.is_datetime64_dtype(dtype)):
                raise TypeError(
                    f"column {c!r} of X has dtype {dtype}, which can be neither generated as a "
                    "number nor as a discrete column; list it in discrete_cols or copy_cols."
                )
        if not continuous and not discrete:
            raise ValueError(
                "X has no column to generate: every column is copied from the nearest real row "
                f"({copied!r}); synthetic rows need at least one numeric or discrete column."
            )
        return continuous, discrete, copied, dtypes

    # ------------------------------------------------------------------ fit / encode
    def fit_transform(self, X):
        """Fit on ``X`` (DataFrame or 2-D array) and return the float32 encoding."""
        self.is_frame_ = isinstance(X, pd.DataFrame)
        continuous, discrete, copied, dtypes = self._split_columns(X)
        self.continuous_, self.copied_, self.dtypes_ = continuous, copied, dtypes
        n = X.shape[0]

        # continuous block
        cont = np.empty((n, len(continuous)), dtype=np.float64)
        for j, c in enumerate(continuous):
            values = np.asarray(column_values(X, c))
            if values.dtype.kind in "mM":
                values = values.astype("int64")
            values = values.astype(np.float64)
            if not np.all(np.isfinite(values)):
                raise ValueError(
                    f"column {c!r} of X holds NaN or infinite values; impute them before "
                    "over-sampling (nothing is dropped silently)."
                )
            cont[:, j] = values
        self.cont_min_ = cont.min(axis=0) if n else np.zeros(0)
        self.cont_max_ = cont.max(axis=0) if n else np.zeros(0)
        if self.numeric_transform == "quantile":
            self.scaler_ = QuantileTransformer(
                output_distribution="normal",
                n_quantiles=max(2, min(1000, n)),
                subsample=200_000,
                random_state=self.random_state,
            )
        elif self.numeric_transform == "standard":
            self.scaler_ = StandardScaler()
        else:
            self.scaler_ = None
        if continuous and self.scaler_ is not None:
            cont = self.scaler_.fit_transform(cont)

        # discrete blocks, ordered by number of levels so that equal-sized blocks are adjacent
        codes, levels = [], []
        for c in discrete:
            col_codes, uniques = pd.factorize(pd.Series(column_values(X, c)), use_na_sentinel=False)
            codes.append(col_codes)
            levels.append(uniques)
        order = sorted(range(len(discrete)), key=lambda k: len(levels[k]))
        self.discrete_ = [discrete[k] for k in order]
        self.levels_ = [levels[k] for k in order]
        codes = [codes[k] for k in order]
        sizes = np.array([len(lv) for lv in self.levels_], dtype=np.int64)
        self.block_sizes_ = sizes
        self.n_continuous_ = len(continuous)
        self.block_starts_ = self.n_continuous_ + np.concatenate([[0], np.cumsum(sizes)[:-1]])
        width = self.n_continuous_ + int(sizes.sum())
        Z = np.zeros((n, width), dtype=np.float32)
        Z[:, : self.n_continuous_] = cont
        rows = np.arange(n)
        for start, col_codes in zip(self.block_starts_, codes):
            Z[rows, start + col_codes] = 1.0
        self.width_ = width
        return Z

    # ------------------------------------------------------------------ decode
    def size_groups(self):
        """Runs of adjacent discrete blocks with the same size: (start, n_blocks, size)."""
        groups = []
        k = 0
        while k < len(self.block_sizes_):
            size = int(self.block_sizes_[k])
            m = 1
            while k + m < len(self.block_sizes_) and self.block_sizes_[k + m] == size:
                m += 1
            groups.append((int(self.block_starts_[k]), m, size))
            k += m
        return groups

    def decode(self, cont, disc_codes, X, rows):
        """Build the synthetic rows in the caller's container and dtypes.

        Parameters
        ----------
        cont : ndarray of shape (n_new, n_continuous), transformed space.
        disc_codes : ndarray of shape (n_new, n_discrete), level codes.
        X : the fitted table (to copy the copied columns from).
        rows : ndarray of shape (n_new,), positional rows of ``X`` to copy from (``None`` when
            no column is copied).
        """
        n_new = cont.shape[0]
        if self.n_continuous_ and self.scaler_ is not None:
            cont = self.scaler_.inverse_transform(np.asarray(cont, dtype=np.float64))
        cont = np.clip(np.asarray(cont, dtype=np.float64), self.cont_min_, self.cont_max_)
        if not np.all(np.isfinite(cont)):
            raise FloatingPointError("the generator produced non-finite numeric values.")
        values = {}
        for j, c in enumerate(self.continuous_):
            values[c] = np.round(cont[:, j]) if self.dtypes_[c].kind in "iumM" else cont[:, j]
        for k, c in enumerate(self.discrete_):
            values[c] = self.levels_[k].take(disc_codes[:, k])
        if not self.is_frame_:
            out = np.empty((n_new, len(self.dtypes_)), dtype=X.dtype)
            for c, col in values.items():
                out[:, c] = col
            if self.copied_:
                out[:, self.copied_] = X[np.ix_(rows, self.copied_)]
            return out
        frame = {}
        for c, col in values.items():
            dtype = self.dtypes_[c]
            frame[c] = pd.Series(col.astype("int64") if dtype.kind in "mM" else col).astype(dtype)
        if self.copied_:
            copied = X[self.copied_].iloc[rows].reset_index(drop=True)
            frame.update((c, copied[c]) for c in self.copied_)
        return pd.DataFrame(frame, columns=X.columns)


def nearest_rows(reference, query, reference_rows):
    """For each query row, the row (of ``reference_rows``) of its nearest reference point."""
    nn = NearestNeighbors(n_neighbors=1).fit(reference)
    idx = nn.kneighbors(query, return_distance=False)[:, 0]
    return reference_rows[idx]


def concat_rows(X, X_new):
    """Append synthetic rows to ``X`` (DataFrame or array); a DataFrame gets a fresh RangeIndex."""
    if isinstance(X, pd.DataFrame):
        return pd.concat([X.reset_index(drop=True), X_new], ignore_index=True)
    return np.concatenate([X, X_new.astype(X.dtype, copy=False)], axis=0)


def as_frame(X):
    """``X`` as a DataFrame: an array (dense or sparse) gets its column positions as labels."""
    if isinstance(X, pd.DataFrame):
        return X
    return pd.DataFrame(X.toarray() if sparse.issparse(X) else X)


def like_input(X_res, X):
    """``X_res`` (a DataFrame from :func:`as_frame`) in the container and dtype of ``X``."""
    if isinstance(X, pd.DataFrame):
        return X_res
    values = X_res.to_numpy(dtype=X.dtype)
    return X.__class__(values) if sparse.issparse(X) else values
