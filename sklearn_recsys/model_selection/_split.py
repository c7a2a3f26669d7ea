"""Train / test splitters for interaction logs: temporal, per-user temporal, leave-last-out,
a rolling-origin time-series cross-validator, and a label-stratified cross-validator that keeps
each user's rows in one fold.

The temporal splitters can *purge* immature training rows: with ``label_time_col`` set, a training
row whose label becomes known only after the split time (``label_time > split time``) is dropped
from training (and is not a test row either), as production retraining at that time would not
have seen its label.
"""

from __future__ import annotations

import numbers
from collections import namedtuple

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.model_selection._split import BaseCrossValidator
from sklearn.utils import _safe_indexing

from .._contract import check_columns, check_id_column, check_interactions, check_time_column

__all__ = [
    "LeaveLastOut",
    "RollingOriginSplit",
    "StratifiedUserKFold",
    "TemporalSplit",
    "UserTemporalSplit",
    "leave_last_out_split",
    "temporal_train_test_split",
    "user_temporal_split",
]

# One fold: index arrays of the training, test and purged rows; the earliest and latest split
# time (equal for global splits, the range over users for per-user splits), as comparable values.
_Fold = namedtuple("_Fold", ["train", "test", "purged", "split_time_min", "split_time_max"])


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


def _time_values(times):
    """A validated time column as comparable numbers, and its kind.

    Numeric columns become int64 (integer dtypes) or float64 arrays; datetime columns become
    int64 nanoseconds since the epoch (tz-aware columns in UTC). The kind is ``(name, tz)`` with
    name ``"numeric"`` or ``"datetime"``.
    """
    if pd.api.types.is_datetime64_any_dtype(times.dtype):
        tz = getattr(times.dtype, "tz", None)
        if tz is not None:
            times = times.dt.tz_convert("UTC").dt.tz_localize(None)
        values = times.to_numpy().astype("datetime64[ns]").view(np.int64)
        return values, ("datetime", tz)
    dtype = np.int64 if pd.api.types.is_integer_dtype(times.dtype) else np.float64
    return times.to_numpy(dtype=dtype), ("numeric", None)


def _display_time(value, kind):
    """A comparable time value back in the column's own kind (Timestamp for datetimes)."""
    if value is None:
        return pd.NaT if kind[0] == "datetime" else np.nan
    if kind[0] == "datetime":
        ts = pd.Timestamp(int(value), unit="ns")
        return ts.tz_localize("UTC").tz_convert(kind[1]) if kind[1] is not None else ts
    return value.item() if isinstance(value, np.generic) else value


def _display_span(value, kind):
    if kind[0] == "datetime":
        return pd.Timedelta(int(value), unit="ns")
    return value.item() if isinstance(value, np.generic) else value


def _kind_name(kind):
    if kind[0] == "numeric":
        return "numeric"
    return "datetime (naive)" if kind[1] is None else f"datetime (tz={kind[1]})"


def _label_time_values(X, label_time_col, time_col, t, kind):
    """Validate ``X[label_time_col]`` against the time column; return it as comparable values."""
    check_columns(X, label_time_col=label_time_col)
    name = f"label_time_col={label_time_col!r}"
    lt, lkind = _time_values(check_time_column(X[label_time_col], name=name))
    if lkind[0] != kind[0] or (lkind[1] is None) != (kind[1] is None):
        raise TypeError(
            f"{name} is {_kind_name(lkind)} but time_col={time_col!r} is {_kind_name(kind)}; "
            "both must be numeric or both datetime (both tz-naive or both tz-aware)."
        )
    early = lt < t
    if early.any():
        i = int(np.flatnonzero(early)[0])
        raise ValueError(
            f"{name} is earlier than time_col={time_col!r} on {int(early.sum())} rows, e.g. row "
            f"{i} ({label_time_col}={_display_time(lt[i], kind)!r}, "
            f"{time_col}={_display_time(t[i], kind)!r}); a label cannot be known before its "
            "event."
        )
    return lt


def _user_codes(X, user_col):
    check_interactions(X)
    check_columns(X, user_col=user_col)
    users = check_id_column(X[user_col], name=f"user_col={user_col!r}")
    return pd.factorize(users)[0]


def _user_order(X, user_col, time_col):
    """Rank of each row within its user by time (ties by row order), the user's row count, and
    the user codes."""
    codes = _user_codes(X, user_col)
    times = _times(X, time_col)
    order = np.lexsort((np.arange(len(X)), times.to_numpy(), codes))
    sorted_codes = codes[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_codes)) + 1]
    counts = np.diff(np.r_[starts, len(order)])
    rank_sorted = np.arange(len(order)) - np.repeat(starts, counts)
    rank = np.empty(len(X), dtype=np.int64)
    rank[order] = rank_sorted
    n_rows = np.bincount(codes)[codes]
    return rank, n_rows, codes


def _binary_target(y, n):
    values = y.to_numpy() if isinstance(y, (pd.Series, pd.DataFrame)) else np.asarray(y)
    values = values.reshape(-1) if values.ndim == 2 and values.shape[1] == 1 else values
    if values.ndim != 1 or len(values) != n:
        raise ValueError(
            f"y must be 1-d with one label per row of X ({n}); got shape {values.shape}."
        )
    if pd.isna(values).any() or not np.isin(values, [0, 1]).all():
        found = pd.unique(values)[:5].tolist()
        raise ValueError(f"y must be binary 0/1 for the positive rates; got values {found}.")
    return values.astype(np.float64)


def _rate(y, idx):
    return float(y[idx].mean()) if len(idx) else np.nan


class _SummaryMixin:
    """``split_summary``: per-fold row counts, purged rows, split times and positive rates."""

    def split_summary(self, X, y=None):
        """Report each fold: training, test and purged row counts, split times, positive rates.

        Parameters
        ----------
        X : pandas.DataFrame
            The interaction frame that :meth:`split` would split.
        y : array-like of shape (n_samples,), default=None
            Binary 0/1 labels; when given, the positive rate of the training, test and purged
            rows is reported too.

        Returns
        -------
        summary : pandas.DataFrame
            One row per fold (index ``fold``) with the columns ``n_train``, ``n_test``,
            ``n_purged`` (training rows dropped because their label is known only after the
            split time; 0 without ``label_time_col``), ``split_time_min`` / ``split_time_max``
            (the split time; for per-user splitters its range over the users with test rows),
            ``train_time_min``, ``train_time_max``, ``test_time_min``, ``test_time_max``, and
            with ``y`` ``train_positive_rate``, ``test_positive_rate``,
            ``purged_positive_rate`` (NaN for an empty set). Times are in the kind of the time
            column (numbers, or Timestamps for datetime columns).
        """
        folds = list(self._iter_folds(X, summary=True))
        t, kind = _time_values(X[self.time_col])
        if y is not None:
            y = _binary_target(y, len(X))
        rows = []
        for fold in folds:
            row = {
                "n_train": len(fold.train),
                "n_test": len(fold.test),
                "n_purged": len(fold.purged),
                "split_time_min": _display_time(fold.split_time_min, kind),
                "split_time_max": _display_time(fold.split_time_max, kind),
            }
            for part in ("train", "test"):
                idx = getattr(fold, part)
                lo, hi = (t[idx].min(), t[idx].max()) if len(idx) else (None, None)
                row[f"{part}_time_min"] = _display_time(lo, kind)
                row[f"{part}_time_max"] = _display_time(hi, kind)
            if y is not None:
                for part in ("train", "test", "purged"):
                    row[f"{part}_positive_rate"] = _rate(y, getattr(fold, part))
            rows.append(row)
        return pd.DataFrame(rows, index=pd.RangeIndex(len(rows), name="fold"))


class _SingleSplit(_SummaryMixin, BaseCrossValidator):
    """A splitter that yields one (train, test) pair; usable as ``cv=`` in scikit-learn.

    Subclasses implement ``_test_mask(X) -> (test_mask, user_codes or None)``; user codes make
    the split time per user (the time of the user's earliest test row), otherwise it is global
    (the earliest test time).
    """

    def get_n_splits(self, X=None, y=None, groups=None):
        return 1

    def split(self, X, y=None, groups=None):
        for fold in self._iter_folds(X):
            yield fold.train, fold.test

    def _iter_test_masks(self, X=None, y=None, groups=None):  # pragma: no cover - via split
        yield self._test_mask(X)[0]

    def _iter_folds(self, X, summary=False):
        test, codes = self._test_mask(X)
        train = ~test
        purged = np.zeros(len(X), dtype=bool)
        st_min = st_max = None
        if summary or self.label_time_col is not None:
            t, kind = _time_values(X[self.time_col])
            if codes is None:
                row_split = st_min = st_max = t[test].min()
            else:
                n_users = int(codes.max()) + 1
                if t.dtype.kind == "f":
                    per_user = np.full(n_users, np.inf)
                else:
                    per_user = np.full(n_users, np.iinfo(np.int64).max, dtype=np.int64)
                np.minimum.at(per_user, codes[test], t[test])
                row_split = per_user[codes]  # users without test rows: +inf, nothing purged
                has_test = np.zeros(n_users, dtype=bool)
                has_test[codes[test]] = True
                if has_test.any():
                    st_min, st_max = per_user[has_test].min(), per_user[has_test].max()
        if self.label_time_col is not None:
            lt = _label_time_values(X, self.label_time_col, self.time_col, t, kind)
            purged = train & (lt > row_split)
            train &= ~purged
            if not train.any():
                raise ValueError(
                    f"label_time_col={self.label_time_col!r} purges all {int(purged.sum())} "
                    "training rows: no training label is known by the split time."
                )
        yield _Fold(
            np.flatnonzero(train), np.flatnonzero(test), np.flatnonzero(purged), st_min, st_max
        )


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
    label_time_col : str or None, default=None
        Column of ``X`` with the time each row's label becomes known (event time + label
        window). When set, training rows with ``label_time > cutoff`` (the earliest test time)
        are purged: they are in neither the training nor the test set. Numeric or datetime
        like ``time_col`` (same kind) and ``>= time_col`` on every row. The test set does not
        change.

    See Also
    --------
    RollingOriginSplit : Several temporal folds with the same purge.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_recsys.model_selection import TemporalSplit
    >>> X = pd.DataFrame({"user_id": [1, 1, 2, 2, 3], "timestamp": [5, 1, 4, 2, 3]})
    >>> train, test = next(TemporalSplit(test_size=0.4).split(X))
    >>> train.tolist(), test.tolist()
    ([1, 3, 4], [0, 2])

    With the time each label is known, row 4 (event at 3, label known at 6) is purged: at the
    cut-off time 4 its label is not known yet. Row 1 (label known at 4) is kept.

    >>> X["label_time"] = [7, 4, 6, 2, 6]
    >>> cv = TemporalSplit(test_size=0.4, label_time_col="label_time")
    >>> train, test = next(cv.split(X))
    >>> train.tolist(), test.tolist()
    ([1, 3], [0, 2])
    >>> cv.split_summary(X)[["n_train", "n_test", "n_purged", "split_time_min"]]
          n_train  n_test  n_purged  split_time_min
    fold
    0           2       2         1               4
    """

    def __init__(self, test_size=0.2, time_col="timestamp", label_time_col=None):
        self.test_size = test_size
        self.time_col = time_col
        self.label_time_col = label_time_col

    def _test_mask(self, X):
        _check_test_size(self.test_size)
        t = _times(X, self.time_col).to_numpy()
        n_test = max(1, int(round(self.test_size * len(t))))
        if n_test >= len(t):
            raise ValueError(f"test_size={self.test_size} leaves no training rows in {len(t)}.")
        cutoff = np.sort(t, kind="stable")[len(t) - n_test]
        return t >= cutoff, None


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
    label_time_col : str or None, default=None
        Column of ``X`` with the time each row's label becomes known. When set, a user's
        training rows with ``label_time`` after that user's split time (the time of the user's
        earliest test row) are purged: they are in neither the training nor the test set.
        Users without test rows keep all their rows. Numeric or datetime like ``time_col``
        (same kind) and ``>= time_col`` on every row. The test set does not change.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_recsys.model_selection import UserTemporalSplit
    >>> X = pd.DataFrame({"user_id": [1, 1, 1, 1, 2, 2], "timestamp": [4, 3, 2, 1, 1, 2]})
    >>> train, test = next(UserTemporalSplit(test_size=0.5).split(X))
    >>> test.tolist()
    [0, 1, 5]

    User 1's split time is 3 and user 2's is 2; row 2 (user 1, label known at 4) is purged.

    >>> X["label_time"] = [5, 4, 4, 3, 2, 3]
    >>> cv = UserTemporalSplit(test_size=0.5, label_time_col="label_time")
    >>> train, test = next(cv.split(X))
    >>> train.tolist(), test.tolist()
    ([3, 4], [0, 1, 5])
    >>> cv.split_summary(X).loc[0, ["n_purged", "split_time_min", "split_time_max"]].tolist()
    [1, 2, 3]
    """

    def __init__(
        self, test_size=0.2, user_col="user_id", time_col="timestamp", label_time_col=None
    ):
        self.test_size = test_size
        self.user_col = user_col
        self.time_col = time_col
        self.label_time_col = label_time_col

    def _test_mask(self, X):
        _check_test_size(self.test_size)
        rank, n_rows, codes = _user_order(X, self.user_col, self.time_col)
        n_test = np.floor(n_rows * self.test_size + 1e-9).astype(np.int64)
        return rank >= n_rows - n_test, codes


class LeaveLastOut(_SingleSplit):
    """Per-user leave-last-out: each user's ``n_last`` latest rows are the test set.

    Users with ``n_last`` rows or fewer stay entirely in training.

    Parameters
    ----------
    n_last : int, default=1
    user_col : str, default="user_id"
    time_col : str, default="timestamp"
    label_time_col : str or None, default=None
        Column of ``X`` with the time each row's label becomes known. When set, a user's
        training rows with ``label_time`` after that user's split time (the time of the user's
        earliest test row) are purged: they are in neither the training nor the test set.
        Users without test rows keep all their rows. Numeric or datetime like ``time_col``
        (same kind) and ``>= time_col`` on every row. The test set does not change.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_recsys.model_selection import LeaveLastOut
    >>> X = pd.DataFrame({"user_id": [1, 1, 2, 2, 3], "timestamp": [2, 1, 1, 2, 9]})
    >>> next(LeaveLastOut().split(X))[1].tolist()
    [0, 3]
    >>> X["label_time"] = [3, 3, 2, 3, 9]
    >>> next(LeaveLastOut(label_time_col="label_time").split(X))[0].tolist()
    [2, 4]
    """

    def __init__(self, n_last=1, user_col="user_id", time_col="timestamp", label_time_col=None):
        self.n_last = n_last
        self.user_col = user_col
        self.time_col = time_col
        self.label_time_col = label_time_col

    def _test_mask(self, X):
        if (
            isinstance(self.n_last, bool)
            or not isinstance(self.n_last, numbers.Integral)
            or self.n_last < 1
        ):
            raise ValueError(f"n_last must be an integer >= 1; got {self.n_last!r}.")
        rank, n_rows, codes = _user_order(X, self.user_col, self.time_col)
        return (n_rows > self.n_last) & (rank >= n_rows - self.n_last), codes


def _span(value, kind, name, *, allow_zero):
    """A time span parameter as a comparable value (int64 ns for datetime columns).

    Numbers are seconds for datetime columns and units of the column for numeric ones; anything
    :class:`pandas.Timedelta` parses is converted to nanoseconds (datetime columns) or seconds
    (numeric columns, taken as Unix seconds).
    """
    if value is None:
        return None
    bound = ">= 0" if allow_zero else "> 0"
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
            raise ValueError(f"{name} must be a time span {bound}; got {value!r}.")
        return int(round(float(value) * 1e9)) if kind[0] == "datetime" else value
    try:
        delta = None if isinstance(value, bool) else pd.Timedelta(value)
    except (TypeError, ValueError):
        delta = None
    if delta is None or delta is pd.NaT:
        raise ValueError(
            f"{name} must be a number (seconds for a datetime time column, units of a numeric "
            f"one) or anything pandas.Timedelta parses (e.g. '7D'); got {value!r}."
        )
    if delta < pd.Timedelta(0) or (delta == pd.Timedelta(0) and not allow_zero):
        raise ValueError(f"{name} must be a time span {bound}; got {value!r}.")
    return int(delta.value) if kind[0] == "datetime" else delta.value / 1e9


class RollingOriginSplit(_SummaryMixin, BaseCrossValidator):
    """Time-series cross-validation on an interaction log, with label-maturity purging.

    Fold ``k`` tests on the rows in the time window ``[origin_k, origin_k + test_size)`` and
    trains on the rows before ``origin_k - gap`` (all of them: an expanding window; or only the
    last ``max_train_time``: a sliding window). With ``label_time_col`` set, training rows whose
    label is known only after ``origin_k - gap`` are purged, as a model retrained at that time
    would not have seen their labels. The windows are laid out on the time axis, not by row
    counts as in :class:`sklearn.model_selection.TimeSeriesSplit`, whose parameter names this
    splitter follows (``n_splits``, ``test_size``, ``gap``; ``max_train_time`` for
    ``max_train_size``). Usable as ``cv=`` in scikit-learn; the folds are deterministic.

    Parameters
    ----------
    n_splits : int, default=3
        Number of folds (consecutive test windows ending with the latest row).
    test_size : float, str, timedelta or None, default=None
        Length of each test window: a number of seconds (datetime time column) or of units of a
        numeric time column, or anything :class:`pandas.Timedelta` parses (``"7D"``; for a
        numeric time column converted to seconds, i.e. Unix time). ``None``: the time after
        the first ``min_train_fraction`` of the time span, split into ``n_splits`` equal
        windows.
    gap : float, str or timedelta, default=0
        Time between the end of the training window and the start of the test window (same
        units as ``test_size``).
    max_train_time : float, str, timedelta or None, default=None
        Length of a sliding training window ending at ``origin_k - gap``; ``None`` trains on
        all earlier rows (expanding window).
    min_train_fraction : float or None, default=None
        When ``test_size`` is None, the fraction of the time span before the first test window;
        ``None`` uses ``1 / (n_splits + 1)``, the layout of ``TimeSeriesSplit``.
    time_col : str, default="timestamp"
        Time column of ``X`` (numeric or datetime).
    label_time_col : str or None, default=None
        Column with the time each row's label becomes known (event time + label window); same
        kind as ``time_col`` and ``>= time_col`` on every row. Training rows with
        ``label_time > origin_k - gap`` are purged (in neither training nor test).
    user_col : str or None, default=None
        User column; needed for ``test_users="warm"``.
    test_users : {"all", "warm"}, default="all"
        ``"warm"`` keeps only the test rows of users that have training rows in that fold.

    See Also
    --------
    sklearn.model_selection.TimeSeriesSplit : The same scheme by row counts, without purging.
    TemporalSplit : One global temporal split with the same purge.

    Notes
    -----
    With times :math:`t_i`, label times :math:`\\ell_i`, test window :math:`h`, gap :math:`g`,
    maximal training time :math:`w` and :math:`K` folds, fold :math:`k = 0, \\dots, K - 1` is

    .. math::

        \\text{test}_k = \\{i : o_k \\le t_i < o_k + h\\}, \\qquad
        \\text{train}_k = \\{i : o_k - g - w \\le t_i < o_k - g,\\ \\ell_i \\le o_k - g\\}.

    The origins end the last window just after the latest time :math:`t_{max}`:
    :math:`o_k = t_{end} - (K - k) h` with :math:`t_{end}` the next representable time after
    :math:`t_{max}` (:math:`t_{max} + 1` for integer and datetime columns). Without
    ``test_size``, :math:`o_0 = t_{min} + f (t_{end} - t_{min})` with ``f =
    min_train_fraction`` and :math:`h = (t_{end} - o_0) / K`. On one row per time unit this
    gives the folds of ``TimeSeriesSplit``. Purged rows and (with ``test_users="warm"``) cold
    test rows are in no set, so the folds do not partition ``X`` (``cross_val_predict`` needs a
    partition; ``cross_val_score`` and ``cross_validate`` do not).

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklearn_recsys.model_selection import RollingOriginSplit
    >>> X = pd.DataFrame({"timestamp": np.arange(12)})
    >>> X["label_time"] = X.timestamp + 2
    >>> cv = RollingOriginSplit(n_splits=3, label_time_col="label_time")
    >>> for train, test in cv.split(X):
    ...     print(train.tolist(), test.tolist())
    [0, 1] [3, 4, 5]
    [0, 1, 2, 3, 4] [6, 7, 8]
    [0, 1, 2, 3, 4, 5, 6, 7] [9, 10, 11]
    >>> cv.split_summary(X)[["n_train", "n_test", "n_purged", "split_time_min"]]
          n_train  n_test  n_purged  split_time_min
    fold
    0           2       3         1             3.0
    1           5       3         1             6.0
    2           8       3         1             9.0

    On a synthetic log: test windows of one week, a one-day gap, labels known 72 h after the event.

    >>> from sklearn_recsys.datasets import make_interactions
    >>> X, y = make_interactions(n_interactions=5000, random_state=0, return_X_y=True)
    >>> X["label_time"] = X.timestamp + 72 * 3600
    >>> cv = RollingOriginSplit(n_splits=4, test_size="7D", gap="1D", label_time_col="label_time")
    >>> all(X.label_time.iloc[train].max() <= X.timestamp.iloc[test].min() - 86400
    ...     for train, test in cv.split(X))
    True
    >>> summary = cv.split_summary(X, y)
    >>> len(summary), bool((summary.n_purged > 0).all())
    (4, True)
    """

    def __init__(
        self,
        n_splits=3,
        *,
        test_size=None,
        gap=0,
        max_train_time=None,
        min_train_fraction=None,
        time_col="timestamp",
        label_time_col=None,
        user_col=None,
        test_users="all",
    ):
        self.n_splits = n_splits
        self.test_size = test_size
        self.gap = gap
        self.max_train_time = max_train_time
        self.min_train_fraction = min_train_fraction
        self.time_col = time_col
        self.label_time_col = label_time_col
        self.user_col = user_col
        self.test_users = test_users

    def _check_n_splits(self):
        n = self.n_splits
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"n_splits must be an integer >= 1; got {n!r}.")
        return int(n)

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of folds, ``n_splits``.

        Parameters
        ----------
        X, y, groups : object
            Ignored; present for compatibility with scikit-learn.

        Returns
        -------
        n_splits : int
        """
        return self._check_n_splits()

    def split(self, X, y=None, groups=None):
        """Yield the training and test row indices of each fold, oldest test window first.

        Parameters
        ----------
        X : pandas.DataFrame
            Interaction frame with ``time_col`` (and ``label_time_col`` / ``user_col`` when
            set).
        y, groups : object
            Ignored; present for compatibility with scikit-learn.

        Yields
        ------
        train : ndarray of int
            Training rows of the fold (purged rows excluded).
        test : ndarray of int
            Test rows of the fold.
        """
        for fold in self._iter_folds(X):
            yield fold.train, fold.test

    def _origins(self, t, kind, n):
        """Origins of the test windows and the window length, as comparable values."""
        time = f"time_col={self.time_col!r}"
        test_size = _span(self.test_size, kind, "test_size", allow_zero=False)
        t_min, t_max = t.min(), t.max()
        if t_min == t_max:
            raise ValueError(
                f"{time} holds a single time ({_display_time(t_min, kind)!r}); a rolling origin "
                "needs rows at two times at least."
            )
        t_end = t_max + 1 if t.dtype.kind in "iu" else np.nextafter(t_max, np.inf)
        integer = kind[0] == "datetime"
        if test_size is None:
            frac = self.min_train_fraction
            if frac is None:
                frac = 1 / (n + 1)
            elif isinstance(frac, bool) or not isinstance(frac, numbers.Real) or not 0 < frac < 1:
                raise ValueError(
                    f"min_train_fraction must be a float in (0, 1) or None; got {frac!r}."
                )
            if integer:
                first = t_min + int(round(frac * float(t_end - t_min)))
                test_size = (t_end - first) // n
            else:
                first = t_min + frac * float(t_end - t_min)
                test_size = (t_end - first) / n
            if test_size <= 0:
                raise ValueError(
                    f"n_splits={n} is too many for the time span of {time} "
                    f"({_display_time(t_min, kind)!r} .. {_display_time(t_max, kind)!r})."
                )
            origins = first + np.arange(n) * test_size
        else:
            origins = t_end - (n - np.arange(n)) * test_size
            gap = _span(self.gap, kind, "gap", allow_zero=True)
            if origins[0] - gap <= t_min:
                raise ValueError(
                    f"n_splits={n} test windows of test_size={self.test_size!r} after "
                    f"gap={self.gap!r} cover the whole time span of {time} "
                    f"({_display_time(t_min, kind)!r} .. {_display_time(t_max, kind)!r}): fold 0 "
                    "would have no training rows; use fewer splits or a smaller test_size or gap."
                )
        return origins, test_size

    def _iter_folds(self, X, summary=False):
        n = self._check_n_splits()
        if self.test_users not in ("all", "warm"):
            raise ValueError(f"test_users must be 'all' or 'warm'; got {self.test_users!r}.")
        if self.test_users == "warm" and self.user_col is None:
            raise ValueError("test_users='warm' needs user_col (the user column of X).")
        t, kind = _time_values(_times(X, self.time_col))
        codes = None if self.user_col is None else _user_codes(X, self.user_col)
        lt = None
        if self.label_time_col is not None:
            lt = _label_time_values(X, self.label_time_col, self.time_col, t, kind)
        gap = _span(self.gap, kind, "gap", allow_zero=True)
        window = _span(self.max_train_time, kind, "max_train_time", allow_zero=False)
        origins, test_size = self._origins(t, kind, n)
        for k, origin in enumerate(origins):
            test = t >= origin
            if k < n - 1:
                test &= t < origin + test_size
            cut = origin - gap
            train = t < cut
            if window is not None:
                train &= t >= cut - window
            purged = np.zeros(len(t), dtype=bool)
            if lt is not None:
                purged = train & (lt > cut)
                train &= ~purged
            show = lambda v: repr(_display_time(v, kind))  # noqa: E731
            if not train.any():
                extra = f" (after purging {int(purged.sum())} rows)" if purged.any() else ""
                raise ValueError(
                    f"fold {k} has no training rows{extra}: none with {self.time_col} < "
                    f"{show(cut)} (origin {show(origin)} - gap {_display_span(gap, kind)!r})"
                    + (
                        ""
                        if window is None
                        else f" and >= {show(cut - window)} "
                        f"(max_train_time={self.max_train_time!r})"
                    )
                    + "; use fewer splits, a smaller test_size or gap."
                )
            if codes is not None and self.test_users == "warm":
                seen = np.zeros(int(codes.max()) + 1, dtype=bool)
                seen[codes[train]] = True
                test &= seen[codes]
            if not test.any():
                raise ValueError(
                    f"fold {k} has no test rows: none with {self.time_col} in "
                    f"[{show(origin)}, {show(origin + test_size)})"
                    + (
                        " from users with training rows (test_users='warm')"
                        if self.test_users == "warm"
                        else ""
                    )
                    + "; the time column has a gap there: use a longer test_size."
                )
            yield _Fold(
                np.flatnonzero(train), np.flatnonzero(test), np.flatnonzero(purged), cut, cut
            )


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
            raise ValueError(
                f"All arrays must have the same number of rows as X ({n}); got {len(a)}."
            )
    train, test = next(splitter.split(X))
    out = []
    for a in arrays:
        if a is None:
            out += [None, None]
        else:
            out += [_safe_indexing(a, train), _safe_indexing(a, test)]
    return out


def temporal_train_test_split(*arrays, test_size=0.2, time_col="timestamp", label_time_col=None):
    """Split by one global cut-off time (see :class:`TemporalSplit`).

    Parameters
    ----------
    *arrays : DataFrame, then optional arrays of the same length (e.g. ``y``)
        The first array is the interaction frame holding ``time_col``.
    test_size : float, default=0.2
    time_col : str, default="timestamp"
    label_time_col : str or None, default=None
        Column with the time each label becomes known; training rows with ``label_time`` after
        the cut-off time are purged (in no output). See :class:`TemporalSplit`.

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

    Purging the rows whose 72-hour label is not known at the cut-off time:

    >>> X["label_time"] = X.timestamp + 72 * 3600
    >>> X_tr, X_te, y_tr, y_te = temporal_train_test_split(X, y, test_size=0.25,
    ...                                                    label_time_col="label_time")
    >>> bool(X_tr.label_time.max() <= X_te.timestamp.min()), len(X_te)
    (True, 250)
    """
    splitter = TemporalSplit(test_size=test_size, time_col=time_col, label_time_col=label_time_col)
    return _apply(splitter, arrays)


def user_temporal_split(
    *arrays, test_size=0.2, user_col="user_id", time_col="timestamp", label_time_col=None
):
    """Per-user temporal split (see :class:`UserTemporalSplit`): the benchmarks' protocol.

    Parameters
    ----------
    *arrays : DataFrame, then optional arrays of the same length (e.g. ``y``)
        The first array is the interaction frame holding the user and time columns.
    test_size : float, default=0.2
    user_col : str, default="user_id"
    time_col : str, default="timestamp"
    label_time_col : str or None, default=None
        Column with the time each label becomes known; a user's training rows with
        ``label_time`` after the user's earliest test time are purged (in no output). Users
        without test rows keep all their rows.

    Returns
    -------
    splitting : list
        ``[X_train, X_test, y_train, y_test, ...]``.

    Examples
    --------
    >>> from sklearn_recsys.datasets import make_interactions
    >>> from sklearn_recsys.model_selection import user_temporal_split
    >>> X, y = make_interactions(n_interactions=5000, random_state=0, return_X_y=True)
    >>> X_tr, X_te, y_tr, y_te = user_temporal_split(X, y)
    >>> set(X_te.user_id) <= set(X_tr.user_id)
    True
    """
    splitter = UserTemporalSplit(
        test_size=test_size, user_col=user_col, time_col=time_col, label_time_col=label_time_col
    )
    return _apply(splitter, arrays)


def leave_last_out_split(
    *arrays, n_last=1, user_col="user_id", time_col="timestamp", label_time_col=None
):
    """Per-user leave-last-out split (see :class:`LeaveLastOut`): each user's ``n_last`` latest
    rows are the test set.

    Parameters
    ----------
    *arrays, user_col, time_col, label_time_col
        As in :func:`user_temporal_split` (the purge too).
    n_last : int, default=1
        Test rows per user.

    Returns
    -------
    splitting : list
        ``[X_train, X_test, y_train, y_test, ...]``.

    Examples
    --------
    >>> from sklearn_recsys.datasets import make_interactions
    >>> from sklearn_recsys.model_selection import leave_last_out_split
    >>> X, y = make_interactions(n_interactions=5000, random_state=0, return_X_y=True)
    >>> X_tr, X_te, y_tr, y_te = leave_last_out_split(X, y)
    >>> bool(X_te.user_id.value_counts().max() == 1)
    True
    """
    splitter = LeaveLastOut(
        n_last=n_last, user_col=user_col, time_col=time_col, label_time_col=label_time_col
    )
    return _apply(splitter, arrays)
