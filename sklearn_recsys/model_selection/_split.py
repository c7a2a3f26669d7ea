"""Train / test splitters for interaction logs: temporal, per-user temporal, leave-last-out,
and a label-stratified cross-validator that keeps each user's rows in one fold."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.model_selection._split import BaseCrossValidator
from sklearn.utils import _safe_indexing

from .._contract import check_columns, check_id_column, check_interactions, check_time_column

__all__ = [
    "LeaveLastOut",
    "StratifiedUserKFold",
    "TemporalSplit",
    "UserTemporalSplit",
    "leave_last_out_split",
    "temporal_train_test_split",
    "user_temporal_split",
]


def _check_test_size(test_size):
    if (
        isinstance(test_size, bool)
        or not isinstance(test_size, numbers.Real)
        or not 0 < test_size < 1
    ):
        raise ValueError(f"test_size must be a float in (0, 1); got {test_size!r}.")


def _times(X, time_col):
    check_interactions(X)
    check_columns(X, time_col=time_col)
    return check_time_column(X[time_col], name=f"time_col={time_col!r}")


def _user_order(X, user_col, time_col):
    """Rank of each row within its user by time (ties by row order), and the user's row count."""
    check_interactions(X)
    check_columns(X, user_col=user_col)
    users = check_id_column(X[user_col], name=f"user_col={user_col!r}")
    times = _times(X, time_col)
    codes, _ = pd.factorize(users)
    order = np.lexsort((np.arange(len(X)), times.to_numpy(), codes))
    sorted_codes = codes[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_codes)) + 1]
    counts = np.diff(np.r_[starts, len(order)])
    rank_sorted = np.arange(len(order)) - np.repeat(starts, counts)
    rank = np.empty(len(X), dtype=np.int64)
    rank[order] = rank_sorted
    n_rows = np.bincount(codes)[codes]
    return rank, n_rows


class _SingleSplit(BaseCrossValidator):
    """A splitter that yields one (train, test) pair; usable as ``cv=`` in scikit-learn."""

    def get_n_splits(self, X=None, y=None, groups=None):
        return 1

    def split(self, X, y=None, groups=None):
        test = self._test_mask(X)
        yield np.flatnonzero(~test), np.flatnonzero(test)

    def _iter_test_masks(self, X=None, y=None, groups=None):  # pragma: no cover - via split
        yield self._test_mask(X)


class TemporalSplit(_SingleSplit):
    """Global temporal split: the latest ``test_size`` fraction of rows is the test set.

    Every interaction at or after the cut-off time is a test row, so users whose history starts
    late are unseen in training: the cold-start scenario (on MovieLens-100k about 85 % of test
    rows belong to users absent from training).

    Parameters
    ----------
    test_size : float, default=0.2
        Fraction of rows in the test set (rows sharing the cut-off timestamp all go to test).
    time_col : str, default="timestamp"
        Time column of ``X``.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_recsys.model_selection import TemporalSplit
    >>> X = pd.DataFrame({"user_id": [1, 1, 2, 2, 3], "timestamp": [5, 1, 4, 2, 3]})
    >>> train, test = next(TemporalSplit(test_size=0.4).split(X))
    >>> train.tolist(), test.tolist()
    ([1, 3, 4], [0, 2])
    """

    def __init__(self, test_size=0.2, time_col="timestamp"):
        self.test_size = test_size
        self.time_col = time_col

    def _test_mask(self, X):
        _check_test_size(self.test_size)
        t = _times(X, self.time_col).to_numpy()
        n_test = max(1, int(round(self.test_size * len(t))))
        if n_test >= len(t):
            raise ValueError(f"test_size={self.test_size} leaves no training rows in {len(t)}.")
        cutoff = np.sort(t, kind="stable")[len(t) - n_test]
        return t >= cutoff


class UserTemporalSplit(_SingleSplit):
    """Per-user temporal split: each user's last ``test_size`` fraction of rows is the test set.

    This keeps users warm (every test user has training history) and is the default protocol of
    the benchmarks. A user with ``n`` rows contributes ``floor(n * test_size)`` test rows, so
    users with fewer than ``1 / test_size`` rows stay entirely in training. Ties in time are broken
    by row order.

    Parameters
    ----------
    test_size : float, default=0.2
        Fraction of each user's rows in the test set.
    user_col : str, default="user_id"
    time_col : str, default="timestamp"

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_recsys.model_selection import UserTemporalSplit
    >>> X = pd.DataFrame({"user_id": [1, 1, 1, 1, 2, 2], "timestamp": [4, 3, 2, 1, 1, 2]})
    >>> train, test = next(UserTemporalSplit(test_size=0.5).split(X))
    >>> test.tolist()
    [0, 1, 5]
    """

    def __init__(self, test_size=0.2, user_col="user_id", time_col="timestamp"):
        self.test_size = test_size
        self.user_col = user_col
        self.time_col = time_col

    def _test_mask(self, X):
        _check_test_size(self.test_size)
        rank, n_rows = _user_order(X, self.user_col, self.time_col)
        n_test = np.floor(n_rows * self.test_size + 1e-9).astype(np.int64)
        return rank >= n_rows - n_test


class LeaveLastOut(_SingleSplit):
    """Per-user leave-last-out: each user's ``n_last`` latest rows are the test set.

    Users with ``n_last`` rows or fewer stay entirely in training.

    Parameters
    ----------
    n_last : int, default=1
    user_col : str, default="user_id"
    time_col : str, default="timestamp"

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_recsys.model_selection import LeaveLastOut
    >>> X = pd.DataFrame({"user_id": [1, 1, 2, 2, 3], "timestamp": [2, 1, 1, 2, 9]})
    >>> next(LeaveLastOut().split(X))[1].tolist()
    [0, 3]
    """

    def __init__(self, n_last=1, user_col="user_id", time_col="timestamp"):
        self.n_last = n_last
        self.user_col = user_col
        self.time_col = time_col

    def _test_mask(self, X):
        if isinstance(self.n_last, bool) or not isinstance(self.n_last, numbers.Integral) \
                or self.n_last < 1:
            raise ValueError(f"n_last must be an integer >= 1; got {self.n_last!r}.")
        rank, n_rows = _user_order(X, self.user_col, self.time_col)
        return (n_rows > self.n_last) & (rank >= n_rows - self.n_last)


class StratifiedUserKFold(StratifiedGroupKFold):
    """Label-stratified K-fold that keeps each user's rows in one fold.

    scikit-learn's :class:`~sklearn.model_selection.StratifiedGroupKFold` already is that
    cross-validator; this subclass only reads the groups from ``X[user_col]`` when ``groups`` is
    not given, so it works as ``cv=`` inside ``GridSearchCV`` / ``cross_validate`` without
    routing metadata. With ``shuffle=True`` set ``random_state`` for reproducible folds.

    Parameters
    ----------
    n_splits : int, default=5
    shuffle : bool, default=False
    random_state : int, RandomState instance or None, default=None
    user_col : str, default="user_id"

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklearn_recsys.model_selection import StratifiedUserKFold
    >>> X = pd.DataFrame({"user_id": np.repeat(np.arange(10), 4)})
    >>> y = np.tile([0, 0, 0, 1], 10)
    >>> cv = StratifiedUserKFold(n_splits=5)
    >>> all(set(X.user_id.iloc[tr]).isdisjoint(X.user_id.iloc[te]) for tr, te in cv.split(X, y))
    True
    """

    def __init__(self, n_splits=5, shuffle=False, random_state=None, user_col="user_id"):
        super().__init__(n_splits=n_splits, shuffle=shuffle, random_state=random_state)
        self.user_col = user_col

    def split(self, X, y=None, groups=None):
        if groups is None:
            check_interactions(X)
            check_columns(X, user_col=self.user_col)
            groups = check_id_column(X[self.user_col], name=f"user_col={self.user_col!r}")
            groups = pd.factorize(groups)[0]
        return super().split(X, y, groups)


def _apply(splitter, arrays):
    if not arrays:
        raise ValueError("At least one array (the interaction frame X) is required.")
    X = arrays[0]
    n = len(X)
    for a in arrays[1:]:
        if a is not None and len(a) != n:
            raise ValueError(f"All arrays must have the same number of rows as X ({n}); got "
                             f"{len(a)}.")
    train, test = next(splitter.split(X))
    out = []
    for a in arrays:
        if a is None:
            out += [None, None]
        else:
            out += [_safe_indexing(a, train), _safe_indexing(a, test)]
    return out


def temporal_train_test_split(*arrays, test_size=0.2, time_col="timestamp"):
    """Split by one global cut-off time (see :class:`TemporalSplit`).

    Parameters
    ----------
    *arrays : DataFrame, then optional arrays of the same length (e.g. ``y``)
        The first array is the interaction frame holding ``time_col``.
    test_size : float, default=0.2
    time_col : str, default="timestamp"

    Returns
    -------
    splitting : list
        ``[X_train, X_test, y_train, y_test, ...]``, as
        :func:`sklearn.model_selection.train_test_split` returns them.

    Examples
    --------
    >>> from sklearn_recsys.datasets import make_interactions
    >>> from sklearn_recsys.model_selection import temporal_train_test_split
    >>> X, y = make_interactions(n_interactions=1000, random_state=0, return_X_y=True)
    >>> X_tr, X_te, y_tr, y_te = temporal_train_test_split(X, y, test_size=0.25)
    >>> round(len(X_te) / len(X), 2), bool(X_tr.timestamp.max() < X_te.timestamp.min())
    (0.25, True)
    """
    return _apply(TemporalSplit(test_size=test_size, time_col=time_col), arrays)


def user_temporal_split(*arrays, test_size=0.2, user_col="user_id", time_col="timestamp"):
    """Per-user temporal split (see :class:`UserTemporalSplit`): the benchmarks' protocol.

    Examples
    --------
    >>> from sklearn_recsys.datasets import make_interactions
    >>> from sklearn_recsys.model_selection import user_temporal_split
    >>> X, y = make_interactions(n_interactions=5000, random_state=0, return_X_y=True)
    >>> X_tr, X_te, y_tr, y_te = user_temporal_split(X, y)
    >>> set(X_te.user_id) <= set(X_tr.user_id)
    True
    """
    splitter = UserTemporalSplit(test_size=test_size, user_col=user_col, time_col=time_col)
    return _apply(splitter, arrays)


def leave_last_out_split(*arrays, n_last=1, user_col="user_id", time_col="timestamp"):
    """Per-user leave-last-out split (see :class:`LeaveLastOut`).

    Examples
    --------
    >>> from sklearn_recsys.datasets import make_interactions
    >>> from sklearn_recsys.model_selection import leave_last_out_split
    >>> X, y = make_interactions(n_interactions=5000, random_state=0, return_X_y=True)
    >>> X_tr, X_te, y_tr, y_te = leave_last_out_split(X, y)
    >>> bool(X_te.user_id.value_counts().max() == 1)
    True
    """
    splitter = LeaveLastOut(n_last=n_last, user_col=user_col, time_col=time_col)
    return _apply(splitter, arrays)
