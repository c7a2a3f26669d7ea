"""BehaviorHistoryFeaturizer: point-in-time behaviour history of each row, from an event log."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from .._contract import (
    check_columns,
    check_id_column,
    check_interactions,
    check_time_column,
)

__all__ = ["BehaviorHistoryFeaturizer"]

#: rows featurized at a time (bounded temporaries)
_CHUNK = 1 << 18

#: distinct counts: (key, name) -> the user x item pairs first seen before the row
_DISTINCT = [("user", "items"), ("user_cat", "items"), ("item", "users"),
             ("cat", "user_items")]
#: shares: name, numerator key, denominator key (events so far)
_SHARES = [("user_item_share", "user_item", "user_cat"), ("user_cat_share", "user_cat", "user")]

#: the history keys: name -> which of (user, item, category) identify the key
_KEYS = {
    "user_item": ("user", "item"),
    "user_cat": ("user", "category"),
    "user": ("user",),
    "item": ("item",),
    "cat": ("category",),
}


def _seconds(value, name):
    """A time span in seconds: a number, or anything :class:`pandas.Timedelta` parses."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a time span; got {value!r}.")
    if isinstance(value, numbers.Real):
        seconds = float(value)
    else:
        try:
            seconds = pd.Timedelta(value).total_seconds()
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{name}={value!r} is not a time span (e.g. '1h', '24h', 3600)."
                             ) from exc
    if not np.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"{name} must be a positive time span; got {value!r}.")
    return seconds


def _window_label(value):
    if isinstance(value, str):
        return value.replace(" ", "")
    return f"{_seconds(value, 'windows'):g}s"


def _as_seconds(times):
    """Times as float64 seconds: Unix seconds stay, datetimes become seconds since the epoch."""
    if pd.api.types.is_datetime64_any_dtype(times.dtype):
        values = times.dt.tz_convert(None) if getattr(times.dt, "tz", None) else times
        return values.to_numpy("datetime64[ns]").astype(np.int64) / 1e9
    return times.to_numpy(dtype=np.float64)


class _KeyIndex:
    """Events of one history key sorted by (key, time), with cumulative behaviour counts.

    ``composite = code * (n_times + 1) + time_rank`` orders the events by key, then time, so that
    every "events of this key strictly before ``t``" question is one :func:`numpy.searchsorted`.
    """

    def __init__(self, codes, rank, behavior, first, n_times, n_behaviors):
        self.stride = np.int64(n_times + 1)
        composite = codes.astype(np.int64) * self.stride + rank
        order = np.argsort(composite, kind="stable")
        self.composite = composite[order]
        self.rank = rank[order].astype(np.int32)
        # one column per behaviour, then "first event of its user x item pair" (distinct counts)
        onehot = np.zeros((len(order) + 1, n_behaviors + 1), dtype=np.int32)
        onehot[np.arange(1, len(order) + 1), behavior[order]] = 1
        onehot[1:, n_behaviors] = first[order]
        self.cum = np.cumsum(onehot, axis=0, out=onehot)  # in place: one array, not two
        # position of each key's first event (one past the last key: no events)
        n_keys = int(codes.max()) + 1 if len(codes) else 0
        self.group_start = np.searchsorted(
            self.composite, np.arange(n_keys + 2, dtype=np.int64) * self.stride, side="left")

    def search(self, needles, order):
        """``searchsorted`` of ``needles`` visited in ``order`` (sorted needles are cache-friendly:
        several times faster on large logs), returned in the needles' own order."""
        out = np.empty(len(needles), dtype=np.int64)
        out[order] = np.searchsorted(self.composite, needles[order], side="left")
        return out

    def sessions(self, gap, times):
        """Position of the first event of each event's session (a new session after ``gap``)."""
        codes = self.composite // self.stride
        seconds = times[self.rank]
        new = np.ones(len(seconds), dtype=bool)
        new[1:] = (codes[1:] != codes[:-1]) | (np.diff(seconds) > gap)
        first = np.flatnonzero(new)
        self.session_start = first[np.cumsum(new) - 1]


class BehaviorHistoryFeaturizer(TransformerMixin, BaseEstimator):
    """Point-in-time behaviour history of each row, computed from the whole event log.

    For a row of user ``u``, item ``i`` and category ``c`` at time ``t``, every feature uses only
    the events of ``events`` strictly earlier than ``t`` (``time < t``): appending or changing
    later events never changes it, so the features are leakage-free whatever the split, and a
    served model computes them the same way from the log it has so far. Per row:

    - **counts per behaviour type** (``pv``, ``cart``, ``fav``, ``buy`` on Taobao) of the keys
      user x item, user x category, user, item and category, over the whole past
      (``<key>_<behavior>``) and over each recent window (``<key>_<behavior>_<window>``), and
      the total over all behaviours (``<key>_events``);
    - **recency**: seconds since the first and the last user x item and user x category event
      (``<key>_since_first`` / ``<key>_since_last``) and since the user's and the item's last
      event (``-1`` when there is none);
    - **session**: sessions split at gaps longer than ``session_gap``; the number of the user's
      events earlier in the current session (``session_events``, 0 for the first), the seconds
      since the session started (``session_elapsed``), the session's counts per behaviour
      (``session_<behavior>``) and those on the row's item (``session_user_item``);
    - **distinct counts**: the items the user has touched (``user_items``), in the category
      (``user_cat_items``), the users who touched the item (``item_users``) and the user x item
      pairs of the category (``cat_user_items``); the item's share of the user's events in the
      category (``user_item_share``) and the category's share of the user's events
      (``user_cat_share``);
    - **conversion rates so far** of the user, the item and the category: ``target`` events over
      all events, smoothed with ``smooth`` pseudo-events towards the share of ``target`` among
      all the log's events before ``t``, ``(n_target + 1) / (n_events + 2)``
      (``<key>_conversion``);
    - the row's own behaviour type one-hot (``current_<behavior>``) when ``X`` has
      ``behavior_col``.

    Everything is vectorised: the events of each key are sorted once by (key, time) with
    cumulative counts, and each row is a few :func:`numpy.searchsorted` lookups (no Python loop
    over rows); 10 M events featurize in well under a minute.

    The output is ``X`` with the history columns appended (float32, a DataFrame with the index
    of ``X``, whatever the output configuration), so an :class:`InteractionFeaturizer` or
    another step that reads the id columns can follow in a pipeline. Rows are processed in
    chunks, so memory beyond the output stays small.

    Parameters
    ----------
    events : DataFrame or None, default=None
        The whole event log (every behaviour, the ``target`` ones included, before and after the
        rows to featurize), with ``user_col``, ``item_col``, ``behavior_col``, ``time_col`` and,
        when set, ``category_col``. ``None``: the ``X`` given to :meth:`fit` is the log.
    user_col, item_col : str, default="user_id", "item_id"
        Id columns (of ``events`` and of ``X``).
    category_col : str or None, default="category_id"
        Category column; ``None`` drops the user x category and category features.
    behavior_col : str, default="behavior_type"
        Behaviour type column of ``events`` (category, string or integer codes).
    time_col : str, default="timestamp"
        Event time: Unix seconds (numbers are taken as seconds) or datetimes.
    target : str or None, default="buy"
        Behaviour whose share gives the conversion rates; ``None`` skips them.
    windows : sequence of time spans, default=("1h", "24h")
        Recent windows for the counts (anything :class:`pandas.Timedelta` parses, or seconds).
    session_gap : time span, default="30min"
        Inactivity that ends a session.
    smooth : float, default=20.0
        Pseudo-events of the conversion rates' prior.

    Attributes
    ----------
    behaviors_ : ndarray of str
        The behaviour types, in the order of the count columns.
    n_events_ : int
        Events in the log.
    feature_names_in_ : ndarray of str
        Columns of the ``X`` seen in :meth:`fit`.
    n_features_in_ : int
    history_names_ : list of str
        Names of the appended history columns.
    current_behaviors_ : list of str
        Behaviours one-hot encoded from the rows' own ``behavior_col`` (empty when the ``X`` of
        :meth:`fit` has no such column).

    See Also
    --------
    sklearn_recsys.datasets.label_conversion : the conversion label these features predict.
    InteractionFeaturizer : popularity, target rates and latent factors of the training rows.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_recsys.features import BehaviorHistoryFeaturizer
    >>> events = pd.DataFrame({
    ...     "user_id": [1, 1, 1, 1, 2],
    ...     "item_id": [7, 7, 8, 7, 7],
    ...     "category_id": [3, 3, 3, 3, 3],
    ...     "behavior_type": ["pv", "cart", "pv", "buy", "pv"],
    ...     "timestamp": [0, 60, 120, 7200, 30],
    ... })
    >>> rows = events[events.behavior_type != "buy"]
    >>> out = BehaviorHistoryFeaturizer(events).fit_transform(rows)
    >>> cols = ["user_item_pv", "user_item_cart", "user_cat_events", "item_events"]
    >>> out[cols].astype(int).to_numpy().tolist()
    [[0, 0, 0, 0], [1, 0, 1, 2], [0, 0, 2, 0], [0, 0, 0, 1]]
    >>> out["session_events"].tolist()
    [0.0, 1.0, 2.0, 0.0]
    """

    _parameter_constraints = {
        "events": [pd.DataFrame, None],
        "user_col": [str],
        "item_col": [str],
        "category_col": [str, None],
        "behavior_col": [str],
        "time_col": [str],
        "target": [str, None],
        "windows": ["array-like", list, tuple],
        "session_gap": [str, Interval(numbers.Real, 0, None, closed="neither"), pd.Timedelta],
        "smooth": [Interval(numbers.Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        events=None,
        *,
        user_col="user_id",
        item_col="item_id",
        category_col="category_id",
        behavior_col="behavior_type",
        time_col="timestamp",
        target="buy",
        windows=("1h", "24h"),
        session_gap="30min",
        smooth=20.0,
    ):
        self.events = events
        self.user_col = user_col
        self.item_col = item_col
        self.category_col = category_col
        self.behavior_col = behavior_col
        self.time_col = time_col
        self.target = target
        self.windows = windows
        self.session_gap = session_gap
        self.smooth = smooth

    # ------------------------------------------------------------------ helpers
    def _id_cols(self):
        cols = {"user": self.user_col, "item": self.item_col}
        if self.category_col is not None:
            cols["category"] = self.category_col
        return cols

    def _check_frame(self, X, param, *, behavior):
        check_interactions(X, param=param)
        cols = {f"{k}_col": v for k, v in self._id_cols().items()}
        if behavior:
            cols["behavior_col"] = self.behavior_col
        cols["time_col"] = self.time_col
        check_columns(X, frame=param, **cols)
        ids = {k: check_id_column(X[c], name=f"{k}_col={c!r} of {param}")
               for k, c in self._id_cols().items()}
        times = check_time_column(X[self.time_col], name=f"time_col={self.time_col!r} of {param}")
        seconds = _as_seconds(times)
        if not np.isfinite(seconds).all():
            raise ValueError(f"time_col={self.time_col!r} of {param} holds inf values.")
        return ids, seconds

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Index the event log (sorted per key with cumulative behaviour counts).

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            Rows of the kind :meth:`transform` will see (their columns are recorded); also the
            event log when ``events`` is None.
        y : None
            Ignored.

        Returns
        -------
        self : BehaviorHistoryFeaturizer
        """
        check_interactions(X)
        validate_data(self, X, reset=True, skip_check_array=True)
        events = X if self.events is None else self.events
        ids, seconds = self._check_frame(events, "events", behavior=True)
        self.windows_ = [_seconds(w, "windows") for w in self.windows]
        self.window_labels_ = [_window_label(w) for w in self.windows]
        if len(set(self.windows_)) != len(self.windows_):
            raise ValueError(f"windows must be distinct; got {list(self.windows)!r}.")
        self.session_gap_ = _seconds(self.session_gap, "session_gap")

        behavior = events[self.behavior_col]
        if behavior.isna().any():
            raise ValueError(f"behavior_col={self.behavior_col!r} of events has "
                             f"{int(behavior.isna().sum())} missing values.")
        if isinstance(behavior.dtype, pd.CategoricalDtype):
            levels = [str(c) for c in behavior.cat.categories]
            b_codes = behavior.cat.codes.to_numpy().astype(np.int64)
        else:
            b_codes, uniques = pd.factorize(behavior, sort=True)
            levels = [str(c) for c in uniques]
        self.behaviors_ = np.array(levels, dtype=object)
        if self.target is not None and self.target not in levels:
            raise ValueError(f"target={self.target!r} is not a behaviour of events; "
                             f"behaviours are {levels}.")

        self.id_index_ = {k: pd.Index(pd.unique(v.to_numpy())) for k, v in ids.items()}
        codes = {k: self.id_index_[k].get_indexer(v.to_numpy()) for k, v in ids.items()}
        self.times_ = np.unique(seconds)
        rank = np.searchsorted(self.times_, seconds)
        n_b = len(levels)
        self.keys_ = [k for k, parts in _KEYS.items() if all(p in codes for p in parts)]
        self.pairs_ = {}
        key_codes = {}
        for key in self.keys_:
            parts = _KEYS[key]
            key_codes[key] = codes[parts[0]]
            if len(parts) == 2:
                pair = codes[parts[0]].astype(np.int64) * len(self.id_index_[parts[1]]) \
                    + codes[parts[1]]
                self.pairs_[key], key_codes[key] = np.unique(pair, return_inverse=True)
        # the first event of each user x item pair, for the distinct-item / distinct-user counts
        order = np.lexsort((rank, key_codes["user_item"]))
        first = np.zeros(len(rank), dtype=np.int32)
        sorted_pairs = key_codes["user_item"][order]
        first[order[np.r_[True, sorted_pairs[1:] != sorted_pairs[:-1]]]] = 1
        self.index_ = {
            key: _KeyIndex(key_codes[key], rank, b_codes, first, len(self.times_), n_b)
            for key in self.keys_
        }
        self.index_["user"].sessions(self.session_gap_, self.times_)
        if self.target is not None:
            # the log's target share so far, by time rank: the rates' prior is point-in-time too
            is_target = (b_codes == levels.index(self.target)).astype(np.int64)
            self.target_so_far_ = np.r_[0, np.cumsum(np.bincount(rank, weights=is_target,
                                                                  minlength=len(self.times_)))]
            self.events_so_far_ = np.r_[0, np.cumsum(np.bincount(rank,
                                                                  minlength=len(self.times_)))]
        self.n_events_ = len(b_codes)
        self.current_behaviors_ = list(levels) if self.behavior_col in X.columns else []
        self.history_names_ = self._history_names()
        return self

    def _history_names(self):
        names = []
        for key in self.keys_:
            names += [f"{key}_{b}" for b in self.behaviors_]
            for label in self.window_labels_:
                names += [f"{key}_{b}_{label}" for b in self.behaviors_]
            names.append(f"{key}_events")
        for key in ("user_item", "user_cat"):
            if key in self.keys_:
                names += [f"{key}_since_first", f"{key}_since_last"]
        names += ["user_since_last", "item_since_last"]
        names += [f"{key}_{what}" for key, what in _DISTINCT if key in self.keys_]
        names += [name for name, num, den in _SHARES if num in self.keys_ and den in self.keys_]
        names += ["session_events", "session_elapsed", "session_user_item"]
        names += [f"session_{b}" for b in self.behaviors_]
        names += [f"current_{b}" for b in self.current_behaviors_]
        if self.target is not None:
            names += [f"{k}_conversion" for k in ("user", "item", "cat") if k in self.keys_]
        return names

    # ------------------------------------------------------------------ transform
    def _query_codes(self, ids):
        codes = {}
        for k, v in ids.items():
            c = self.id_index_[k].get_indexer(v.to_numpy())
            codes[k] = c
        out = {}
        for key in self.keys_:
            parts = _KEYS[key]
            known = np.ones(len(codes[parts[0]]), dtype=bool)
            for p in parts:
                known &= codes[p] >= 0
            if len(parts) == 1:
                c = codes[parts[0]].astype(np.int64)
            else:
                pair = codes[parts[0]].astype(np.int64) * len(self.id_index_[parts[1]]) \
                    + codes[parts[1]]
                uniq = self.pairs_[key]
                pos = np.minimum(np.searchsorted(uniq, pair), len(uniq) - 1)
                known &= uniq[pos] == pair
                c = pos.astype(np.int64)
            # unknown keys get the code past every key: no history
            out[key] = np.where(known, c, len(self.index_[key].group_start) - 1).astype(np.int64)
        return out

    def transform(self, X):
        """Append the point-in-time history features to ``X``.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            Rows with the id columns and ``time_col`` (``behavior_col`` is not needed).

        Returns
        -------
        X_out : DataFrame of shape (n_samples, n_features + len(history_names_))
            ``X`` (same index) with the history columns appended.
        """
        check_is_fitted(self)
        check_interactions(X)
        validate_data(self, X, reset=False, skip_check_array=True)
        ids, t = self._check_frame(X, "X", behavior=False)
        names = self.history_names_
        # one allocation for all, column-major: each column is written (and read) contiguously
        out = np.empty((len(X), len(names)), dtype=np.float32, order="F")
        current = None
        if self.current_behaviors_:
            current = pd.Categorical(X[self.behavior_col].astype(str),
                                     categories=self.current_behaviors_).codes
        # row chunks keep every temporary small: bounded memory, and no fresh pages to fault in
        # for each of the many intermediate arrays of a large log
        for s in range(0, len(X), _CHUNK):
            e = min(s + _CHUNK, len(X))
            self._transform_chunk({k: v.iloc[s:e] for k, v in ids.items()}, t[s:e],
                                  None if current is None else current[s:e], out[s:e])
        history = pd.DataFrame(out, columns=names, index=X.index, copy=False)
        return pd.concat([X, history], axis=1)

    def _transform_chunk(self, ids, t, current, out):
        """Fill ``out`` (rows x history columns) for one chunk of rows."""
        codes = self._query_codes(ids)
        rank_now = np.searchsorted(self.times_, t, side="left")
        rank_windows = [np.searchsorted(self.times_, t - w, side="left") for w in self.windows_]
        column = {name: j for j, name in enumerate(self.history_names_)}

        def put(name, values):
            out[:, column[name]] = values
        n_b = len(self.behaviors_)
        times = self.times_
        target = list(self.behaviors_).index(self.target) if self.target is not None else None
        if target is not None:
            # Laplace-smoothed share of the target among all the log's events before t
            prior = (self.target_so_far_[rank_now] + 1.0) / (self.events_so_far_[rank_now] + 2.0)
        kept = {}
        for key in self.keys_:
            idx = self.index_[key]
            base = codes[key] * idx.stride
            needles = base + rank_now
            order = np.argsort(needles, kind="stable")
            start = idx.group_start[np.minimum(codes[key], len(idx.group_start) - 1)]
            end = idx.search(needles, order)
            past = idx.cum[end] - idx.cum[start]
            for j, b in enumerate(self.behaviors_):
                put(f"{key}_{b}", past[:, j])
            for label, rank_w in zip(self.window_labels_, rank_windows):
                # the window's needles keep the order: within a key, time order is the same
                recent = idx.cum[end] - idx.cum[idx.search(base + rank_w, order)]
                for j, b in enumerate(self.behaviors_):
                    put(f"{key}_{b}_{label}", recent[:, j])
            n_events = end - start
            put(f"{key}_events", n_events)
            has = n_events > 0
            if key in ("user_item", "user_cat"):
                put(f"{key}_since_first", np.where(has, t - times[idx.rank[np.where(
                    has, start, 0)]], -1.0))
            if key in ("user_item", "user_cat", "user", "item"):
                last = times[idx.rank[np.where(has, end - 1, 0)]]
                put(f"{key}_since_last", np.where(has, t - last, -1.0))
            for k, what in _DISTINCT:
                if k == key:
                    put(f"{key}_{what}", past[:, n_b])
            if target is not None and key in ("user", "item", "cat"):
                put(f"{key}_conversion", (past[:, target] + self.smooth * prior)
                    / (n_events + self.smooth))
            if key in ("user", "user_item"):
                kept[key] = (start, end, order)
            del past
        for name, num, den in _SHARES:
            if num in self.keys_ and den in self.keys_:
                put(name, out[:, column[f"{num}_events"]]
                    / np.maximum(out[:, column[f"{den}_events"]], 1))

        user = self.index_["user"]
        start, end, _ = kept["user"]
        prev = np.maximum(end - 1, 0)
        in_session = (end > start) & (t - times[user.rank[prev]] <= self.session_gap_)
        s_start = np.where(in_session, user.session_start[prev], end)
        session_t0 = np.where(in_session, times[user.rank[np.minimum(s_start, len(user.rank)
                                                                      - 1)]], t)
        put("session_events", end - s_start)
        put("session_elapsed", t - session_t0)
        session = user.cum[end] - user.cum[s_start]
        for j, b in enumerate(self.behaviors_):
            put(f"session_{b}", session[:, j])
        del session
        # the same item's events earlier in the session: user x item events since its start
        pair = self.index_["user_item"]
        _, p_end, p_order = kept["user_item"]
        rank_t0 = np.searchsorted(times, session_t0, side="left")
        p_begin = pair.search(codes["user_item"] * pair.stride + rank_t0, p_order)
        put("session_user_item", p_end - p_begin)
        if current is not None:
            for j, b in enumerate(self.current_behaviors_):
                put(f"current_{b}", current == j)

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns: those of ``X``, then the history columns.

        Returns
        -------
        names : ndarray of str
        """
        check_is_fitted(self, "history_names_")
        return np.asarray([*map(str, self.feature_names_in_), *self.history_names_],
                          dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.requires_fit = True
        return tags
