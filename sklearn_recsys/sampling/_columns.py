"""Column handling shared by the samplers: which columns are generated, which are copied.

A synthetic row of the interaction frame needs three kinds of values (DESIGN.md section 2):

- *continuous* columns (numeric): generated, through a reversible numeric transform;
- *discrete* columns (few levels: category / object / bool columns, 0/1 flags): generated as
  one-hot blocks (Gumbel-softmax in the GAN);
- *neighbour* columns (user / item ids and any column marked categorical): copied from the
  nearest real row of the same class in the generated numeric space, so that they stay valid.

:class:`_TableCodec` splits a table into these kinds, encodes it to one float32 matrix and decodes
generated rows back to the caller's dtypes. Everything is vectorised (one pass per column).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import QuantileTransformer, StandardScaler
from sklearn.utils.validation import check_consistent_length, validate_data

from .._contract import check_columns, check_id_column, check_interactions, column_list

#: id columns of the data contract; ``"auto"`` copies them from the nearest real row.
DEFAULT_ID_COLUMNS = ("user_id", "item_id")


def check_frame_X_y(sampler, X, y, **columns):
    """The DataFrame branch of a sampler's ``_check_X_y``: the interaction frame is validated
    (``columns``: parameter name -> column that must exist) and kept as it is, not converted to
    a numeric array as imbalanced-learn's default does."""
    check_interactions(X)
    if columns:
        check_columns(X, **columns)
    validate_data(sampler, X=X, y=y, reset=True, skip_check_array=True)
    check_consistent_length(X, y)
    return X


def _is_numeric(dtype):
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def _is_binary(values):
    """True when a numeric column only holds 0 and 1 (a flag or a one-hot column)."""
    if values.dtype.kind not in "iuf" or values.size == 0:
        return False
    return bool(np.all((values == 0) | (values == 1)))


def _as_column_list(value, X, *, param):
    """Validate an explicit list of columns (names for a DataFrame, positions for an array)."""
    if isinstance(value, (str, int, np.integer)):
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
            if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or not (
                0 <= c < n_features
            ):
                raise ValueError(
                    f"{param} must hold column positions in [0, {n_features}) when X is an "
                    f"array; got {c!r}."
                )
    if len(set(cols)) != len(cols):
        raise ValueError(f"{param} lists a column twice: {cols!r}.")
    return cols


class _TableCodec:
    """Split a table into continuous / discrete / neighbour columns and encode it.

    Parameters
    ----------
    neighbor_columns, discrete_columns : "auto", list or None
        See :class:`~sklearn_recsys.sampling.GANOverSampler`.
    max_discrete_levels : int
        Non-numeric columns with more levels than this are copied from the neighbour row.
    numeric_transform : {"quantile", "standard", None}
        Transform of the continuous columns (``None`` keeps them as they are).
    random_state : int
        Seed of the quantile transformer's sub-sampling.
    """

    def __init__(self, neighbor_columns="auto", discrete_columns="auto", max_discrete_levels=50,
                 numeric_transform="quantile", random_state=0):
        self.neighbor_columns = neighbor_columns
        self.discrete_columns = discrete_columns
        self.max_discrete_levels = max_discrete_levels
        self.numeric_transform = numeric_transform
        self.random_state = random_state

    # ------------------------------------------------------------------ column kinds
    def _column(self, X, c):
        return X[c] if self.is_frame_ else X[:, c]

    def _split_columns(self, X):
        if self.is_frame_:
            columns = list(X.columns)
            dtypes = {c: X[c].dtype for c in columns}
        else:
            columns = list(range(X.shape[1]))
            dtypes = dict.fromkeys(columns, X.dtype)

        if self.neighbor_columns is None:
            neighbor = []
        elif isinstance(self.neighbor_columns, str) and self.neighbor_columns == "auto":
            neighbor = [c for c in DEFAULT_ID_COLUMNS if self.is_frame_ and c in columns]
            for c in columns:
                if c in neighbor or _is_numeric(dtypes[c]):
                    continue
                if self._column(X, c).nunique(dropna=False) > self.max_discrete_levels:
                    neighbor.append(c)
        else:
            neighbor = _as_column_list(self.neighbor_columns, X, param="neighbor_columns")

        if self.discrete_columns is None:
            discrete = []
        elif isinstance(self.discrete_columns, str) and self.discrete_columns == "auto":
            discrete = []
            for c in columns:
                if c in neighbor:
                    continue
                values = self._column(X, c)
                if not _is_numeric(dtypes[c]) or _is_binary(np.asarray(values)):
                    discrete.append(c)
        else:
            discrete = _as_column_list(self.discrete_columns, X, param="discrete_columns")
            both = [c for c in discrete if c in neighbor]
            if both:
                raise ValueError(
                    f"columns {both!r} are in both discrete_columns and neighbor_columns; "
                    "a column is either generated or copied from the nearest real row."
                )
        continuous = [c for c in columns if c not in neighbor and c not in discrete]
        for c in continuous:
            dtype = dtypes[c]
            if not (_is_numeric(dtype) or pd.api.types.is_datetime64_dtype(dtype)):
                raise TypeError(
                    f"column {c!r} of X has dtype {dtype}, which can be neither generated as a "
                    "number nor as a discrete column; list it in discrete_columns or "
                    "neighbor_columns."
                )
        if not continuous and not discrete:
            raise ValueError(
                "X has no column to generate: every column is a neighbour (id) column "
                f"({neighbor!r}); synthetic rows need at least one numeric or discrete column."
            )
        return continuous, discrete, neighbor, dtypes

    # ------------------------------------------------------------------ fit / encode
    def fit_transform(self, X):
        """Fit on ``X`` (DataFrame or 2-D array) and return the float32 encoding."""
        self.is_frame_ = isinstance(X, pd.DataFrame)
        continuous, discrete, neighbor, dtypes = self._split_columns(X)
        self.continuous_, self.neighbor_, self.dtypes_ = continuous, neighbor, dtypes
        for c in neighbor:
            if self.is_frame_ and c in DEFAULT_ID_COLUMNS:
                check_id_column(X[c], name=f"id column {c!r}")
        n = X.shape[0]

        # continuous block
        cont = np.empty((n, len(continuous)), dtype=np.float64)
        for j, c in enumerate(continuous):
            values = np.asarray(self._column(X, c))
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
                output_distribution="normal", n_quantiles=max(2, min(1000, n)),
                subsample=200_000, random_state=self.random_state,
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
            col_codes, uniques = pd.factorize(pd.Series(self._column(X, c)), use_na_sentinel=False)
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

    def decode(self, cont, disc_codes, X, neighbor_rows):
        """Build the synthetic rows in the caller's container and dtypes.

        Parameters
        ----------
        cont : ndarray of shape (n_new, n_continuous), transformed space.
        disc_codes : ndarray of shape (n_new, n_discrete), level codes.
        X : the fitted table (to copy neighbour columns from).
        neighbor_rows : ndarray of shape (n_new,), positional rows of ``X`` to copy from.
        """
        n_new = cont.shape[0]
        if self.n_continuous_ and self.scaler_ is not None:
            cont = self.scaler_.inverse_transform(np.asarray(cont, dtype=np.float64))
        cont = np.clip(np.asarray(cont, dtype=np.float64), self.cont_min_, self.cont_max_)
        if not np.all(np.isfinite(cont)):
            raise FloatingPointError("the generator produced non-finite numeric values.")
        values = {}
        for j, c in enumerate(self.continuous_):
            col = cont[:, j]
            dtype = self.dtypes_[c]
            if dtype.kind in "iumM":
                col = np.round(col)
            values[c] = col
        for k, c in enumerate(self.discrete_):
            values[c] = self.levels_[k].take(disc_codes[:, k])
        if not self.is_frame_:
            out = np.empty((n_new, len(self.dtypes_)), dtype=X.dtype)
            for c, col in values.items():
                out[:, c] = col
            for c in self.neighbor_:
                out[:, c] = X[neighbor_rows, c]
            return out
        frame = {}
        for c in X.columns:
            dtype = self.dtypes_[c]
            if c in self.neighbor_:
                frame[c] = X[c].iloc[neighbor_rows].to_numpy()
                frame[c] = pd.Series(frame[c], dtype=dtype) if not isinstance(
                    dtype, pd.CategoricalDtype) else pd.Categorical(
                    frame[c], dtype=dtype)
            elif c in self.continuous_:
                col = values[c]
                if dtype.kind in "mM":
                    frame[c] = pd.Series(col.astype("int64")).astype(dtype)
                else:
                    frame[c] = pd.Series(col).astype(dtype)
            else:
                lv = values[c]
                frame[c] = pd.Series(lv).astype(dtype) if not isinstance(
                    dtype, pd.CategoricalDtype) else pd.Categorical(lv, dtype=dtype)
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


def restore_containers(X_res, y_res, X_in, y_in):
    """Return ``X_res, y_res`` in the containers the caller passed (as imblearn does)."""
    if isinstance(X_in, list):
        X_res = np.asarray(X_res).tolist()
    if isinstance(y_in, pd.Series):
        y_res = pd.Series(np.asarray(y_res), name=y_in.name, dtype=y_in.dtype)
        if isinstance(X_res, pd.DataFrame):
            y_res.index = X_res.index
    elif isinstance(y_in, pd.DataFrame):
        y_res = pd.DataFrame(np.asarray(y_res).reshape(len(y_res), -1), columns=y_in.columns)
        y_res = y_res.astype(y_in.dtypes.to_dict())
        if isinstance(X_res, pd.DataFrame):
            y_res.index = X_res.index
    elif isinstance(y_in, list):
        y_res = np.asarray(y_res).tolist()
    return X_res, y_res
