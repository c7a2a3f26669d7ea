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
from ..utils import frame_input_tags
from ._history_kernel import (
    N_SLOTS,
    SLOT_CONVERSION,
    SLOT_DISTINCT,
    SLOT_EVENTS,
    SLOT_SINCE_FIRST,
    SLOT_SINCE_LAST,
    sweep,
)

__all__ = ["BehaviorHistoryFeaturizer"]

#: distinct counts: (key, name) -> the user x item pairs first seen before the row
_DISTINCT = [("user", "items"), ("user_cat", "items"), ("item", "users"), ("cat", "user_items")]
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
            raise ValueError(
                f"{name}={value!r} is not a time span (e.g. '1h', '24h', 3600)."
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


def _checked_seconds(times, name):
    """A time column validated (numeric or datetime, no missing or infinite value) as float64
    seconds; ``name`` names it in the errors."""
    seconds = _as_seconds(check_time_column(times, name=name))
    if not np.isfinite(seconds).all():
        raise ValueError(f"{name} holds inf values.")
    return seconds


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

    The events of each key are sorted once by (key, time) in :meth:`fit`; :meth:`transform`
    sorts the rows the same way and walks both together in one compiled pass per key (running
    counts, one trailing pointer per window): linear in the events and the rows, no Python loop.

    The output is ``X`` with the history columns appended (float32, a DataFrame with the index
    of ``X``, whatever the output configuration), so an :class:`InteractionFeaturizer` or
    another step that reads the id columns can follow in a pipeline.

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
        ids = {
            k: check_id_column(X[c], name=f"{k}_col={c!r} of {param}")
            for k, c in self._id_cols().items()
        }
        seconds = _checked_seconds(X[self.time_col], f"time_col={self.time_col!r} of {param}")
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
            raise ValueError(
                f"behavior_col={self.behavior_col!r} of events has "
                f"{int(behavior.isna().sum())} missing values."
            )
        if isinstance(behavior.dtype, pd.CategoricalDtype):
            levels = [str(c) for c in behavior.cat.categories]
            b_codes = behavior.cat.codes.to_numpy().astype(np.int64)
        else:
            b_codes, uniques = pd.factorize(behavior, sort=True)
            levels = [str(c) for c in uniques]
        self.behaviors_ = np.array(levels, dtype=object)
        if self.target is not None and self.target not in levels:
            raise ValueError(
                f"target={self.target!r} is not a behaviour of events; behaviours are {levels}."
            )

        codes, self.id_index_ = {}, {}
        for k, v in ids.items():
            codes[k], uniques = pd.factorize(v.to_numpy())
            self.id_index_[k] = pd.Index(uniques)
        self.keys_ = [k for k, parts in _KEYS.items() if all(p in codes for p in parts)]
        self.pairs_ = {}
        key_codes = []
        for key in self.keys_:
            parts = _KEYS[key]
            if len(parts) == 2:
                pair = (
                    codes[parts[0]].astype(np.int64) * len(self.id_index_[parts[1]])
                    + codes[parts[1]]
                )
                inverse, uniques = pd.factorize(pair)
                # an Index: its hash table is built on the first lookup and kept for the next
                self.pairs_[key] = pd.Index(uniques)
                key_codes.append(inverse.astype(np.int32))
            else:
                key_codes.append(codes[parts[0]].astype(np.int32))
        self.n_codes_ = np.array(
            [
                len(self.pairs_[k]) if k in self.pairs_ else len(self.id_index_[_KEYS[k][0]])
                for k in self.keys_
            ],
            dtype=np.int64,
        )
        # the log by time, one row per event: its time, behaviour and code under every key
        order = (
            np.arange(len(seconds))
            if (np.diff(seconds) >= 0).all()
            else np.argsort(seconds, kind="stable")
        )
        self.event_times_ = seconds[order]
        self.event_behaviors_ = b_codes[order].astype(np.int8 if len(levels) < 128 else np.int32)
        self.event_codes_ = np.empty((len(order), len(self.keys_)), dtype=np.int32)
        for j, key_code in enumerate(key_codes):
            self.event_codes_[:, j] = key_code[order]
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
        """Each row's code under every key (unknown ids and pairs: the key's last, empty slot)."""
        codes = {k: self.id_index_[k].get_indexer(v.to_numpy()) for k, v in ids.items()}
        out = np.empty((len(codes["user"]), len(self.keys_)), dtype=np.int32)
        for j, key in enumerate(self.keys_):
            parts = _KEYS[key]
            c = codes[parts[0]]
            if len(parts) == 2:
                pair = c.astype(np.int64) * len(self.id_index_[parts[1]]) + codes[parts[1]]
                c = np.where(codes[parts[1]] >= 0, self.pairs_[key].get_indexer(pair), -1)
            out[:, j] = np.where(c >= 0, c, self.n_codes_[j])
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
        column = {name: j for j, name in enumerate(names)}
        # row-major: the kernel writes each row's columns together
        out = np.zeros((len(X), len(names)), dtype=np.float32)
        row_code = self._query_codes(ids)
        row_order = np.arange(len(t)) if (np.diff(t) >= 0).all() else np.argsort(t, kind="stable")
        behaviors = list(self.behaviors_)
        n_b = len(behaviors)
        windows = np.asarray(self.windows_, dtype=np.float64)
        colmap = np.full((len(self.keys_), n_b * (1 + len(windows)) + N_SLOTS), -1, np.int64)
        slots = {
            SLOT_EVENTS: "events",
            SLOT_SINCE_FIRST: "since_first",
            SLOT_SINCE_LAST: "since_last",
            SLOT_CONVERSION: "conversion",
        }
        for j, key in enumerate(self.keys_):
            per_key = [f"{key}_{b}" for b in behaviors] + [
                f"{key}_{b}_{label}" for label in self.window_labels_ for b in behaviors
            ]
            per_key += [f"{key}_{slots.get(s, '')}" for s in range(N_SLOTS)]
            per_key[n_b * (1 + len(windows)) + SLOT_DISTINCT] = next(
                (f"{k}_{what}" for k, what in _DISTINCT if k == key), ""
            )
            colmap[j] = [column.get(name, -1) for name in per_key]
        offsets = np.r_[0, np.cumsum(self.n_codes_ + 1)[:-1]].astype(np.int64)
        session = np.array(
            [column["session_events"], column["session_elapsed"]]
            + [column[f"session_{b}"] for b in behaviors],
            dtype=np.int64,
        )
        sweep(
            self.event_times_,
            self.event_codes_,
            self.event_behaviors_,
            offsets,
            int((self.n_codes_ + 1).sum()),
            row_order,
            t,
            row_code,
            windows,
            n_b,
            -1 if self.target is None else behaviors.index(self.target),
            float(self.smooth),
            self.session_gap_,
            self.keys_.index("user"),
            self.keys_.index("user_item"),
            colmap,
            session,
            column["session_user_item"],
            out,
        )
        for name, num, den in _SHARES:
            if num in self.keys_ and den in self.keys_:
                out[:, column[name]] = out[:, column[f"{num}_events"]] / np.maximum(
                    out[:, column[f"{den}_events"]], 1
                )
        return self._with_history(X, out, column)

    def _with_history(self, X, out, column):
        """``X`` with the history columns ``out`` (``column``: name -> position) and the
        row's own behaviour (``current_<b>``) appended."""
        if self.current_behaviors_:
            current = pd.Categorical(
                X[self.behavior_col].astype(str), categories=self.current_behaviors_
            ).codes
            for j, b in enumerate(self.current_behaviors_):
                out[:, column[f"current_{b}"]] = current == j
        history = pd.DataFrame(out, columns=self.history_names_, index=X.index, copy=False)
        return pd.concat([X, history], axis=1)

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns: those of ``X``, then the history columns.

        Returns
        -------
        names : ndarray of str
        """
        check_is_fitted(self, "history_names_")
        return np.asarray([*map(str, self.feature_names_in_), *self.history_names_], dtype=object)

    def __sklearn_tags__(self):
        tags = frame_input_tags(super().__sklearn_tags__())
        tags.requires_fit = True
        return tags
