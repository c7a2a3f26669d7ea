"""Leak guards: warn about feature columns that reproduce the label."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd
from scipy.stats import rankdata

__all__ = ["LabelLeakageWarning", "check_label_leakage"]


class LabelLeakageWarning(UserWarning):
    """A feature column reproduces the label (the label left in ``X``, or a column that
    separates the classes almost perfectly): a score built on it is leakage, not skill."""


def _single_column_auc(values, y):
    """ROC-AUC of each column of ``values`` used alone as the score (ties count one half)."""
    pos = y == 1
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    ranks = rankdata(values, axis=0)
    return (ranks[pos].sum(axis=0) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def check_label_leakage(X, y, *, columns=None, threshold=0.99, max_rows=50_000, stacklevel=2):
    """Warn about feature columns of ``X`` that reproduce a binary label ``y``.

    Two signs of leakage are checked: a column named like the label (``y.name``, the label
    left among the features), and a numeric column that alone separates the classes almost
    perfectly: ROC-AUC of the column used as a score ``>= threshold`` (or ``<= 1 - threshold``).
    Each finding is one :class:`LabelLeakageWarning` that names the column. Nothing is dropped
    or changed: the user decides.

    Parameters
    ----------
    X : DataFrame of shape (n_samples, n_features)
        The features.
    y : array-like of shape (n_samples,)
        The label; only binary labels are checked for separation (others return ``[]`` unless a
        column is named like the label).
    columns : list of str or None, default=None
        Columns to check; ``None`` checks every column.
    threshold : float, default=0.99
        Single-column ROC-AUC from which a column counts as reproducing the label.
    max_rows : int, default=50_000
        Rows used for the separation check (a fixed, seeded subsample beyond that).
    stacklevel : int, default=2
        Passed to :func:`warnings.warn`.

    Returns
    -------
    leaky : list of str
        The columns warned about.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklearn_recsys.features import check_label_leakage
    >>> rng = np.random.RandomState(0)
    >>> y = pd.Series(rng.randint(0, 2, 500), name="buy")
    >>> X = pd.DataFrame({"noise": rng.normal(size=500), "buy": y,
    ...                   "almost": y + 0.01 * rng.normal(size=500)})
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     check_label_leakage(X, y)
    ['buy', 'almost']
    >>> print(caught[0].message)
    Column 'buy' of X has the name of the label: the label is left among the features.
    """
    if not isinstance(X, pd.DataFrame):
        X = pd.DataFrame(np.asarray(X))
    if not (isinstance(threshold, numbers.Real) and 0.5 < threshold <= 1):
        raise ValueError(f"threshold must be in (0.5, 1]; got {threshold!r}.")
    cols = list(X.columns) if columns is None else list(columns)
    found = []
    name = getattr(y, "name", None)
    if name is not None and name in cols:
        warnings.warn(
            f"Column {name!r} of X has the name of the label: the label is left "
            "among the features.",
            LabelLeakageWarning,
            stacklevel=stacklevel,
        )
        found.append(name)
    y_arr = np.asarray(y)
    if y_arr.ndim != 1 or len(y_arr) != len(X) or len(X) == 0:
        return found
    classes = (
        pd.unique(y_arr[~pd.isna(y_arr)])
        if y_arr.dtype.kind == "O"
        else np.unique(y_arr[~np.isnan(y_arr)] if y_arr.dtype.kind == "f" else y_arr)
    )
    if len(classes) != 2:
        return found
    numeric = [
        c
        for c in cols
        if c not in found
        and c in X.columns
        and (pd.api.types.is_numeric_dtype(X[c].dtype) or pd.api.types.is_bool_dtype(X[c].dtype))
    ]
    if not numeric:
        return found
    rows = np.arange(len(X))
    if len(X) > max_rows:
        rows = np.sort(np.random.default_rng(0).choice(len(X), max_rows, replace=False))
    yy = (y_arr[rows] == np.sort(classes)[1]).astype(np.int8)
    if yy.min() == yy.max():
        return found
    values = X[numeric].iloc[rows].to_numpy(dtype=float)
    finite = np.isfinite(values).all(axis=0)
    auc = np.full(len(numeric), 0.5)
    if finite.any():
        auc[finite] = _single_column_auc(values[:, finite], yy)
    for col, a in zip(numeric, auc):
        if a >= threshold or a <= 1 - threshold:
            warnings.warn(
                f"Column {col!r} of X separates the label almost perfectly on its "
                f"own (ROC-AUC {a:.3f}): check that it is not the label or computed "
                "from it (e.g. from events after the row's time).",
                LabelLeakageWarning,
                stacklevel=stacklevel,
            )
            found.append(col)
    return found
