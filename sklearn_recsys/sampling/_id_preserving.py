"""Any imbalanced-learn sampler on an interaction frame, with the id columns kept valid."""

from __future__ import annotations

from numbers import Integral

import numpy as np
import pandas as pd
from imblearn.base import BaseSampler
from imblearn.over_sampling import SMOTE
from sklearn.base import clone
from sklearn.utils._param_validation import HasMethods, StrOptions

from ._columns import (
    _is_numeric,
    as_frame,
    check_sampler_X_y,
    concat_rows,
    copied_columns,
    like_input,
    nearest_rows,
    resolve_ids,
)
from ._deprecation import DEPRECATED, DEPRECATED_OPTION, renamed_attribute, renamed_param

__all__ = ["IdPreservingSampler"]


def _non_numeric(values):
    return not _is_numeric(values.dtype)


class IdPreservingSampler(BaseSampler):
    """Run an imbalanced-learn sampler on the numeric columns; keep ids and categories valid.

    SMOTE, ADASYN or Borderline-SMOTE interpolate every column they see, which turns a user id
    into a meaningless number. This wrapper hands the sampler only the numeric feature columns
    of the interaction frame; each synthetic row then takes its id columns and the other
    *copied* columns (categories) from the nearest real row of the same class, in the
    standardised numeric space. Samplers that select rows (random over- and under-sampling,
    anything with a ``sample_indices_`` attribute) get the whole rows back exactly. Integer
    columns are rounded. Without copied columns the sampler runs unchanged.

    Parameters
    ----------
    sampler : imbalanced-learn sampler, default=None
        The sampler to run (cloned); ``None`` means :class:`imblearn.over_sampling.SMOTE`.
    user_col, item_col : str, int or None, default="user_id", "item_id"
        Id columns, copied and never interpolated: a column name of a DataFrame ``X`` (which
        must have it), a column position, or ``None`` for no such column. An array has no
        column names: there, give positions.
    copy_cols : "auto", list or None, default="auto"
        Other columns copied from the nearest real row. ``"auto"``: every non-numeric
        (category, object, string, bool) column of a DataFrame. A list must name every
        non-numeric column that is not an id (positions when X is an array).
    neighbor_columns : deprecated
        Old name of ``copy_cols`` (removed in 0.2).

    Attributes
    ----------
    sampler_ : sampler
        The fitted clone of ``sampler`` (set by ``fit_resample``).
    copied_cols_ : list
        The copied columns: the id columns, then the ``copy_cols``.
    sampling_strategy_ : dict
        The wrapped sampler's ``sampling_strategy_`` (``"auto"`` after ``fit`` alone).
    n_features_in_, feature_names_in_ : int, ndarray of shape (n_features_in_,)
        Number of columns of X, and their names when they are strings.

    See Also
    --------
    GANOverSampler : Generates rows with a conditional GAN, with the same copy rule.

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
    >>> sampler.copied_cols_
    ['user_id', 'item_id', 'category']
    """

    _sampling_type = "bypass"

    _parameter_constraints: dict = {
        "sampler": [HasMethods(["fit_resample"]), None],
        "user_col": [str, Integral, None],
        "item_col": [str, Integral, None],
        "copy_cols": [StrOptions({"auto"}), list, tuple, None],
        "neighbor_columns": [StrOptions({"auto"}), list, tuple, None, DEPRECATED_OPTION],
    }

    def __init__(
        self,
        sampler=None,
        *,
        user_col="user_id",
        item_col="item_id",
        copy_cols="auto",
        neighbor_columns=DEPRECATED,
    ):
        super().__init__()  # imbalanced-learn's "bypass" samplers keep sampling_strategy="auto"
        self.sampler = sampler
        self.user_col = user_col
        self.item_col = item_col
        self.copy_cols = copy_cols
        self.neighbor_columns = neighbor_columns

    def _inner(self):
        return SMOTE() if self.sampler is None else self.sampler

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = self._inner().__sklearn_tags__().input_tags
        tags.input_tags.sparse = inner.sparse
        tags.input_tags.string = inner.string
        tags.input_tags.allow_nan = inner.allow_nan
        return tags

    neighbor_columns_ = renamed_attribute("neighbor_columns_", "copied_cols_")

    def _check_X_y(self, X, y, accept_sparse=None):
        inner = self._inner().__sklearn_tags__().input_tags
        X, y, binarize_y = check_sampler_X_y(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"] if inner.sparse else False,
            dtype=None if inner.string else "numeric",
            ensure_all_finite=not inner.allow_nan,
        )
        ids = list(resolve_ids(X, user_col=self.user_col, item_col=self.item_col).values())
        copy_cols = renamed_param(self, "neighbor_columns", "copy_cols")
        is_frame = isinstance(X, pd.DataFrame)
        copied = copied_columns(X, ids, copy_cols, auto=_non_numeric if is_frame else None)
        if copied:
            frame = as_frame(X)
            numeric = [c for c in frame.columns if c not in copied]
            if not numeric:
                raise ValueError(
                    f"X has {frame.shape[1]} feature(s), all copied from the nearest real row "
                    f"({copied!r}); the sampler needs at least one other column."
                )
            bad = [c for c in numeric if not _is_numeric(frame[c].dtype)]
            if bad:
                raise TypeError(
                    f"columns {bad!r} of X are not numeric and not copied; the wrapped sampler "
                    "can only interpolate numbers. List them in copy_cols."
                )
        self.copied_cols_ = copied
        return X, y, binarize_y

    def _fit_resample(self, X, y):
        self.sampler_ = clone(self._inner())
        if hasattr(self.sampler_, "_parameter_constraints"):
            self.sampler_._validate_params()  # imbalanced-learn skips nested validation
        if not self.copied_cols_:
            X_res, y_res = self.sampler_.fit_resample(X, y)
            self.sampling_strategy_ = self.sampler_.sampling_strategy_
            return X_res, y_res

        frame = as_frame(X)
        numeric = [c for c in frame.columns if c not in self.copied_cols_]
        X_num = frame[numeric]
        X_num_res, y_res = self.sampler_.fit_resample(X_num, y)
        self.sampling_strategy_ = self.sampler_.sampling_strategy_
        if hasattr(self.sampler_, "sample_indices_"):
            X_res = frame.iloc[self.sampler_.sample_indices_].reset_index(drop=True)
            return like_input(X_res, X), y_res
        n = len(frame)
        values = np.asarray(X_num_res, dtype=np.float64)
        if len(values) < n or not np.array_equal(
            values[:n], X_num.to_numpy(dtype=np.float64), equal_nan=True
        ):
            raise ValueError(
                f"{type(self.sampler_).__name__} neither exposes sample_indices_ nor returns "
                "the original rows first; IdPreservingSampler cannot tell which rows are "
                "synthetic."
            )
        y_res = np.asarray(y_res)
        X_new = self._synthetic_rows(frame, numeric, values[n:], y_res[n:], y)
        return like_input(concat_rows(frame, X_new), X), y_res

    def _synthetic_rows(self, frame, numeric, new, y_new, y):
        """Synthetic rows: the sampler's numeric values (integer columns rounded into their real
        range) and the copied columns of the nearest real row of the same class."""
        real = frame[numeric].to_numpy(dtype=np.float64)
        center = np.nanmean(real, axis=0)
        scale = np.nanstd(real, axis=0)
        scale[~(scale > 0)] = 1.0
        real_z = np.nan_to_num((real - center) / scale)
        new_z = np.nan_to_num((new - center) / scale)
        rows = np.empty(len(new), dtype=np.int64)
        for klass in np.unique(y_new):
            mask = y_new == klass
            class_rows = np.flatnonzero(y == klass)
            rows[mask] = nearest_rows(real_z[class_rows], new_z[mask], class_rows)
        copied = frame[self.copied_cols_].iloc[rows].reset_index(drop=True)
        out = {c: copied[c] for c in self.copied_cols_}
        for j, c in enumerate(numeric):
            dtype = frame[c].dtype
            col = new[:, j]
            if dtype.kind in "iu":
                col = np.clip(np.round(col), frame[c].min(), frame[c].max())
            out[c] = pd.Series(col).astype(dtype)
        return pd.DataFrame(out, columns=frame.columns)
