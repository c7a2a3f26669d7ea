"""BehaviorHistoryFeaturizer on Dask: the point-in-time history of each row, by key shuffles.

Every history column of a row is read from the events of one key of the row: its user (the
user x item, user x category, user, session and user distinct-count features), its item (item
counts, the users who touched it) or its category (category counts, the user x item pairs of
the category). The events and the rows are therefore shuffled together by the hash of each key
family, and in every partition the pandas featurizer, fitted on the events of the partition
(the whole history of the partition's keys), computes that family's columns exactly. Two
quantities are not local to a key and get their own passes:

- the conversion rates' prior (the share of ``target`` events among *all* the log's events
  before the row): events and rows are shuffled by time range, and each row counts the events
  of its range before it plus the totals of the earlier ranges (learnt in :meth:`fit`);
- whether an event is the first of its user x item pair (the distinct pairs of a category, when
  an item has events under several categories): flagged in the item shuffle, where all the
  pair's events meet, then carried to the category shuffle.

The outputs are shuffled back by row number to the partitions of ``X``, in its order.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
from sklearn.base import _fit_context
from sklearn.utils.validation import check_is_fitted, validate_data

from .._contract import check_interactions, plain_ids
from ..features import BehaviorHistoryFeaturizer as _PandasFeaturizer
from ..features._behavior import _KEYS, _as_seconds, _seconds, _window_label
from ._base import broadcast, is_dask_frame, map_reduce, record_output

__all__ = ["BehaviorHistoryFeaturizer"]

_ORDER = "__sklearn_recsys_order__"  # global number of a row: partition << 32 | position
_EVENT = "__sklearn_recsys_event__"  # global number of an event, the same way
_KEY = "__sklearn_recsys_key__"  # hash of the shuffle key
_FIRST = "__sklearn_recsys_first__"  # the event is the first of its user x item pair
_SECONDS = "__sklearn_recsys_seconds__"
_TARGET = "__sklearn_recsys_target__"
_PRIOR = "__sklearn_recsys_prior__"
_SAMPLE = 256  # times sampled per partition for the time ranges


def _family(name):
    """The key family a history column is computed in (or None: computed from the row)."""
    if name.startswith(("user", "session")):
        return "user"
    if name.startswith("item_"):
        return "item"
    if name.startswith("cat_"):
        return "cat"
    return None


def _numbered(part, partition_info):
    number = 0 if partition_info is None else partition_info["number"]
    return (np.int64(number) << np.int64(32)) + np.arange(len(part), dtype=np.int64)


def _key_hash(ids):
    """A hash of ids that is equal for equal ids whatever their dtype (int32 and int64 alike)."""
    ids = plain_ids(ids)
    if pd.api.types.is_integer_dtype(ids.dtype) and not pd.api.types.is_bool_dtype(ids.dtype):
        ids = ids.astype(np.int64)
    return pd.util.hash_pandas_object(ids, index=False).to_numpy()


# ---------------------------------------------------------------------------- partition kernels
def _numbered_copy(part, cols, number_col, partition_info):
    """``part[cols]`` with a fresh index and each row's global number in ``number_col``."""
    out = part[cols].copy()
    out.index = pd.RangeIndex(len(out))
    out[number_col] = _numbered(part, partition_info)
    return out


def _prepare_rows(X, cols, partition_info=None):
    return _numbered_copy(X, cols, _ORDER, partition_info)


def _prepare_events(events, cols, behavior_col, behavior_dtype, partition_info=None):
    out = _numbered_copy(events, cols, _EVENT, partition_info)
    behavior = out[behavior_col]
    if not isinstance(behavior.dtype, pd.CategoricalDtype) or not behavior.dtype == behavior_dtype:
        # the log's levels in every partition: the pandas featurizer's columns and codes
        values = (
            behavior.astype(object) if isinstance(behavior.dtype, pd.CategoricalDtype) else behavior
        )
        out[behavior_col] = pd.Categorical(values, dtype=behavior_dtype)
    return out


def _with_key(part, col):
    return part.assign(**{_KEY: _key_hash(part[col])})


def _scan(events, est):
    """Per event partition: its length, the behaviour values and missing ones, sampled times."""
    behavior = events[est.behavior_col]
    seconds = np.sort(_as_seconds(events[est.time_col]))
    take = np.linspace(0, len(seconds) - 1, min(len(seconds), _SAMPLE)).round().astype(int)
    values = behavior.dropna()
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    return {
        "n": len(events),
        "missing": int(behavior.isna().sum()),
        "values": pd.unique(values),
        "sample": [(seconds[take], len(seconds))],
    }


def _merge_scans(a, b):
    return {
        "n": a["n"] + b["n"],
        "missing": a["missing"] + b["missing"],
        "values": pd.unique(np.concatenate([np.asarray(a["values"], dtype=object), b["values"]])),
        "sample": a["sample"] + b["sample"],
    }


def _range_counts(events, est):
    """Per event partition: events and target events in each time range."""
    seconds = _as_seconds(events[est.time_col])
    bucket = np.searchsorted(est.time_bounds_, seconds, side="right")
    size = len(est.time_bounds_) + 1
    target = (events[est.behavior_col].astype(object) == est._target_value()).to_numpy(bool)
    return np.stack(
        [np.bincount(bucket, minlength=size), np.bincount(bucket[target], minlength=size)]
    ).astype(np.int64)


def _time_columns(part, time_col, bounds, target=None):
    seconds = _as_seconds(part[time_col])
    out = {
        _SECONDS: seconds,
        _KEY: np.searchsorted(bounds, seconds, side="right").astype(np.int64),
    }
    if target is not None:
        out[_TARGET] = (part[target[0]].astype(object) == target[1]).to_numpy(bool)
    else:
        out[_ORDER] = part[_ORDER].to_numpy()
    return pd.DataFrame(out)


def _prior_part(events, rows, bounds, offsets):
    """The conversion prior of each row: target and all events of the log before the row."""
    if len(rows) == 0:
        return pd.DataFrame({_ORDER: np.zeros(0, np.int64), _PRIOR: np.zeros(0)})
    t, bucket = rows[_SECONDS].to_numpy(), rows[_KEY].to_numpy()
    lo = np.r_[-np.inf, bounds][bucket]
    counts = []
    for j, mask in enumerate([None, events[_TARGET].to_numpy(bool)]):
        times = events[_SECONDS].to_numpy()
        times = np.sort(times if mask is None else times[mask])
        inside = np.searchsorted(times, t, side="left") - np.searchsorted(times, lo, side="left")
        counts.append(offsets[j][bucket] + inside)
    prior = (counts[1] + 1.0) / (counts[0] + 2.0)
    return pd.DataFrame({_ORDER: rows[_ORDER].to_numpy(), _PRIOR: prior})


def _flag_first(events, est):
    """Mark the first event of each user x item pair (all its events are in this partition)."""
    seconds = _as_seconds(events[est.time_col])
    order = np.lexsort((events[_EVENT].to_numpy(), seconds))  # the featurizer's sweep order
    pairs = pd.DataFrame(
        {
            "u": plain_ids(events[est.user_col]).to_numpy()[order],
            "i": plain_ids(events[est.item_col]).to_numpy()[order],
        }
    )
    first = np.empty(len(events), dtype=bool)
    first[order] = ~pairs.duplicated().to_numpy()
    return events.assign(**{_FIRST: first})


def _empty_history(n, names):
    """History of rows whose keys have no event: zero counts, -1 for the times since."""
    out = np.zeros((n, len(names)), dtype=np.float32)
    for j, name in enumerate(names):
        if name.endswith(("_since_first", "_since_last")):
            out[:, j] = -1.0
    return out


def _cat_pairs(events, rows, est):
    """Distinct user x item pairs of the row's category first seen before the row (the pair's
    first event over all categories, flagged in the item shuffle)."""
    first = events[_FIRST].to_numpy(bool)
    ev_cat = plain_ids(events[est.category_col]).to_numpy()[first]
    ev_t = _as_seconds(events[est.time_col])[first]
    row_cat = plain_ids(rows[est.category_col]).to_numpy()
    row_t = _as_seconds(rows[est.time_col])
    codes, _ = pd.factorize(np.concatenate([ev_cat, row_cat]))
    ranks = np.unique(np.concatenate([ev_t, row_t]), return_inverse=True)[1].ravel()
    width = np.int64(ranks.max() + 2)
    keys = codes.astype(np.int64) * width + ranks
    ev_keys = np.sort(keys[: len(ev_cat)])
    row_code = codes[len(ev_cat) :].astype(np.int64) * width
    return np.searchsorted(ev_keys, keys[len(ev_cat) :], side="left") - np.searchsorted(
        ev_keys, row_code, side="left"
    )


def _family_part(events, rows, est, names):
    """One key family's history columns of the rows of a shuffled partition: the pandas
    featurizer fitted on the partition's events (whole key histories, in the log's order)."""
    out = pd.DataFrame(_empty_history(len(rows), names), columns=names)
    out.insert(0, _ORDER, rows[_ORDER].to_numpy())
    if len(rows) == 0 or len(events) == 0:
        return out
    events = events.sort_values(_EVENT, kind="stable")
    cols = [c for c in rows.columns if c not in (_ORDER, _KEY)]
    rows = rows[cols]
    pandas = _PandasFeaturizer(events, **est._pandas_params()).fit(rows)
    out[names] = pandas.transform(rows)[names].to_numpy()
    if "cat_user_items" in names and _FIRST in events.columns:
        out["cat_user_items"] = _cat_pairs(events, rows, est).astype(np.float32)
    return out


def _assemble(X, *parts, est, families):
    """Partition ``k`` of the output: ``X``'s rows with the history columns put back in order."""
    names = est.history_names_
    column = {name: j for j, name in enumerate(names)}
    out = np.zeros((len(X), len(names)), dtype=np.float32)
    prior = None
    for (family, fam_names), part in zip(families, parts):
        if len(part) != len(X):
            raise RuntimeError(
                f"The {family} history of a partition has {len(part)} rows for {len(X)} rows "
                "of X: X was not computed the same way twice (a non-deterministic input?)."
            )
        if family == "prior":
            prior = part[_PRIOR].to_numpy()
        else:
            out[:, [column[n] for n in fam_names]] = part[fam_names].to_numpy()
    if prior is not None:
        for key in ("user", "item", "cat"):
            if f"{key}_conversion" in column:
                hits = out[:, column[f"{key}_{est.target}"]].astype(np.float64)
                n = out[:, column[f"{key}_events"]].astype(np.float64)
                out[:, column[f"{key}_conversion"]] = (hits + est.smooth * prior) / (n + est.smooth)
    return est._with_history(X, out, column)


class BehaviorHistoryFeaturizer(_PandasFeaturizer, auto_wrap_output_keys=None):
    """Point-in-time behaviour history of each row, from an event log held in a Dask frame.

    The features of :class:`sklearn_recsys.features.BehaviorHistoryFeaturizer` (same
    parameters, same columns, same values) for a log too large for one machine: ``events`` is a
    Dask DataFrame, the rows a Dask DataFrame (or a pandas frame).

    :meth:`transform` shuffles the events and the rows together by the hash of the user, of the
    item and of the category: in every partition the pandas featurizer, fitted on the events of
    the partition's keys (their whole histories), computes the columns of that key exactly.
    The conversion rates' prior (the share of ``target`` among all events before the row) comes
    from a shuffle by time range, and the distinct user x item pairs of a category use the
    pair's first event over the whole log (flagged in the item shuffle). The columns are then
    shuffled back by row number: partition ``k`` of the output holds the rows of partition
    ``k`` of ``X``, in their order, so a label split like ``X`` stays aligned.

    Parameters
    ----------
    events : dask DataFrame or None, default=None
        The whole event log, as in the pandas featurizer; ``None``: the ``X`` given to
        :meth:`fit` (then a Dask frame) is the log. It is kept lazy (not computed into the
        client); ``events.persist()`` first if it fits in the workers' memory, as it is read
        by every :meth:`transform`.
    user_col, item_col, category_col, behavior_col, time_col, target, windows, session_gap, \
smooth
        As in :class:`sklearn_recsys.features.BehaviorHistoryFeaturizer`.

    Attributes
    ----------
    events_ : dask DataFrame
        The log (lazy).
    behaviors_ : ndarray of str
        The behaviour types: the categories of a categorical ``behavior_col``, else its sorted
        distinct values.
    n_events_ : int
        Events in the log.
    time_bounds_ : ndarray of float
        Boundaries (seconds) of the time ranges of the prior's shuffle.
    range_counts_ : ndarray of shape (2, n_ranges)
        Events and ``target`` events in each time range (empty when ``target`` is None).
    history_names_, current_behaviors_, windows_, window_labels_, session_gap_, keys_, \
feature_names_in_, n_features_in_
        As in :class:`sklearn_recsys.features.BehaviorHistoryFeaturizer`.

    See Also
    --------
    sklearn_recsys.features.BehaviorHistoryFeaturizer : the pandas featurizer.
    read_taobao : the Taobao log as a Dask frame.

    Notes
    -----
    Per :meth:`transform`, each event crosses the network three times (user, item and category
    shuffles, about 40 bytes each: ids, behaviour, time, event number, key hash) plus 17 bytes
    for the time-range shuffle; each row four times (its ids and time) and once more back with
    its history columns (4 bytes each). Nothing of the size of the log reaches the client: the
    fitted state is the behaviour levels and the time ranges.

    Each shuffle partition holds the whole history of its keys: a single key with more events
    than a worker's memory (a bot user, an item everyone views) makes one large partition.

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> from sklearn_recsys.dask import BehaviorHistoryFeaturizer
    >>> from sklearn_recsys.datasets import make_interactions
    >>> from sklearn_recsys.features import BehaviorHistoryFeaturizer as PandasFeaturizer
    >>> log = make_interactions(n_interactions=3000, multi_behavior=True,
    ...                         random_state=0).interactions
    >>> rows = log[log.behavior_type != "buy"]
    >>> events = dd.from_pandas(log, npartitions=3, sort=False)
    >>> feat = BehaviorHistoryFeaturizer(events).fit(dd.from_pandas(rows, npartitions=2))
    >>> out = feat.transform(dd.from_pandas(rows, npartitions=2, sort=False))
    >>> out.npartitions
    2
    >>> expected = PandasFeaturizer(log).fit(rows).transform(rows)
    >>> bool((out.compute() == expected).all(axis=None))
    True
    """

    _parameter_constraints = {
        **_PandasFeaturizer._parameter_constraints,
        "events": "no_validation",
    }

    def _pandas_params(self):
        params = self.get_params(deep=False)
        del params["events"]
        return params

    def _target_value(self):
        """The ``target`` behaviour as a value of ``behavior_col`` (levels are its str)."""
        return self.behavior_dtype_.categories[list(self.behaviors_).index(self.target)]

    def _light(self):
        """A copy without the log, shipped to the workers."""
        view = copy.copy(self)
        view.events = None
        view.__dict__.pop("events_", None)
        return view

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the log's columns, learn its behaviour levels and time ranges.

        Parameters
        ----------
        X : dask DataFrame or DataFrame of shape (n_samples, n_features)
            Rows of the kind :meth:`transform` will see (their columns are recorded); also the
            event log when ``events`` is None.
        y : None
            Ignored.

        Returns
        -------
        self : BehaviorHistoryFeaturizer
        """
        import dask.dataframe as dd

        events = X if self.events is None else self.events
        if not isinstance(events, dd.DataFrame):
            what = "events" if self.events is not None else "X (the log, as events=None)"
            raise TypeError(
                f"{what} must be a dask DataFrame; got {type(events).__name__}. Use "
                "sklearn_recsys.features.BehaviorHistoryFeaturizer for a pandas log."
            )
        X_meta = X._meta_nonempty if is_dask_frame(X) else X
        check_interactions(X_meta)
        validate_data(self, X_meta, reset=True, skip_check_array=True)
        self._check_frame(events._meta_nonempty, "events", behavior=True)
        self.windows_ = [_seconds(w, "windows") for w in self.windows]
        self.window_labels_ = [_window_label(w) for w in self.windows]
        if len(set(self.windows_)) != len(self.windows_):
            raise ValueError(f"windows must be distinct; got {list(self.windows)!r}.")
        self.session_gap_ = _seconds(self.session_gap, "session_gap")

        scan = map_reduce(_scan, _merge_scans, [events], args=(broadcast(self._light()),))
        if scan["n"] == 0:
            raise ValueError("events is empty: 0 rows (expected at least 1 interaction).")
        if scan["missing"]:
            raise ValueError(
                f"behavior_col={self.behavior_col!r} of events has {scan['missing']} missing "
                "values."
            )
        dtype = events._meta[self.behavior_col].dtype
        if isinstance(dtype, pd.CategoricalDtype) and events[self.behavior_col].cat.known:
            levels = pd.Index(dtype.categories)
        else:  # the pandas featurizer factorizes with sort=True
            levels = pd.Index(scan["values"]).sort_values()
        self.behavior_dtype_ = pd.CategoricalDtype(levels)
        self.behaviors_ = np.array([str(c) for c in levels], dtype=object)
        if self.target is not None and self.target not in self.behaviors_:
            raise ValueError(
                f"target={self.target!r} is not a behaviour of events; behaviours are "
                f"{list(self.behaviors_)}."
            )
        self.events_ = events
        self.n_events_ = int(scan["n"])
        self.keys_ = [
            k
            for k, parts in _KEYS.items()
            if self.category_col is not None or "category" not in parts
        ]
        self.current_behaviors_ = (
            list(self.behaviors_) if self.behavior_col in self.feature_names_in_ else []
        )
        self.history_names_ = self._history_names()
        self.time_bounds_ = self._time_ranges(scan["sample"], events.npartitions)
        self.range_counts_ = np.zeros((2, 0), dtype=np.int64)
        if self.target is not None:
            self.range_counts_ = map_reduce(
                _range_counts, np.add, [events], args=(broadcast(self._light()),)
            )
        return self

    @staticmethod
    def _time_ranges(samples, n_ranges):
        """About ``n_ranges`` time ranges of equal numbers of events, from per-partition
        samples (each sampled time stands for ``n / len(sample)`` events)."""
        times = np.concatenate([s for s, n in samples if len(s)])
        weights = np.concatenate([np.full(len(s), n / len(s)) for s, n in samples if len(s)])
        order = np.argsort(times, kind="stable")
        cum = np.cumsum(weights[order])
        q = np.linspace(0, cum[-1], n_ranges + 1)[1:-1]
        return np.unique(times[order][np.searchsorted(cum, q).clip(0, len(times) - 1)])

    # ------------------------------------------------------------------ transform
    def transform(self, X):
        """Append the point-in-time history features to ``X``.

        Parameters
        ----------
        X : dask DataFrame, or DataFrame of shape (n_samples, n_features)
            Rows with the id columns and ``time_col``.

        Returns
        -------
        X_out : dask DataFrame (for a dask ``X``), else DataFrame
            ``X`` with the history columns appended (float32); a dask ``X`` gives a dask
            DataFrame with its partitions (partition ``k`` holds the rows of partition ``k`` of
            ``X``, in their order), a pandas ``X`` the pandas featurizer's frame (computed on
            the current scheduler).
        """
        import dask
        import dask.dataframe as dd

        check_is_fitted(self, "history_names_")
        if is_dask_frame(X):
            if not isinstance(X, dd.DataFrame):
                raise TypeError(f"X must be a DataFrame; got {type(X).__name__}.")
            self._check_rows(X._meta_nonempty)
            return self._transform_dask(X)
        check_interactions(X)
        self._check_rows(X)
        with dask.config.set({"dataframe.convert-string": False}):
            Xd = dd.from_pandas(X, npartitions=1, sort=False)
        return self._transform_dask(Xd).compute()

    def _check_rows(self, X):
        validate_data(self, X, reset=False, skip_check_array=True)
        self._check_frame(X, "X", behavior=False)

    def _transform_dask(self, X):
        id_cols = list(self._id_cols().values())
        cols = id_cols + [self.time_col]
        meta = X._meta[cols].assign(**{_ORDER: np.zeros(0, np.int64)})
        rows = X.map_partitions(_prepare_rows, cols, meta=meta)
        cols = list(dict.fromkeys(id_cols + [self.behavior_col, self.time_col]))
        meta = self.events_._meta[cols].assign(**{_EVENT: np.zeros(0, np.int64)})
        meta[self.behavior_col] = pd.Categorical([], dtype=self.behavior_dtype_)
        events = self.events_.map_partitions(
            _prepare_events, cols, self.behavior_col, self.behavior_dtype_, meta=meta
        )
        n = events.npartitions
        est = broadcast(self._light())
        names = {f: [] for f in ("user", "item", "cat")}
        for name in self.history_names_:
            family = _family(name)
            if family is not None and not name.endswith("_conversion"):
                names[family].append(name)

        def shuffled(frame, col):
            return frame.map_partitions(_with_key, col).shuffle(on=_KEY, npartitions=n)

        def history(ev, family, col):
            meta = pd.DataFrame({_ORDER: np.zeros(0, np.int64)})
            meta = meta.assign(**{c: np.zeros(0, np.float32) for c in names[family]})
            return ev.map_partitions(
                _family_part,
                shuffled(rows, col),
                est,
                names[family],
                align_dataframes=False,
                meta=meta,
            )

        # every key family: events and rows by the key's hash, the family's columns
        parts = [("user", history(shuffled(events, self.user_col), "user", self.user_col))]
        events_by_item = shuffled(events, self.item_col)
        parts.append(("item", history(events_by_item, "item", self.item_col)))
        if self.category_col is not None:  # the item shuffle flags the pairs' first events
            meta = events_by_item._meta.assign(**{_FIRST: np.zeros(0, bool)})
            flagged = events_by_item.map_partitions(_flag_first, est, meta=meta)
            flagged = flagged.drop(columns=_KEY)
            by_cat = shuffled(flagged, self.category_col)
            parts.append(("cat", history(by_cat, "cat", self.category_col)))
        if self.target is not None:
            parts.append(("prior", self._prior(events, rows)))

        k = X.npartitions
        divisions = [p << 32 for p in range(k)] + [(k << 32) - 1]
        backs = [part.set_index(_ORDER, divisions=divisions) for _, part in parts]
        families = [(f, names.get(f, [])) for f, _ in parts]
        meta = _assemble(X._meta, *[b._meta for b in backs], est=self, families=families)
        return X.map_partitions(
            _assemble, *backs, est=est, families=families, align_dataframes=False, meta=meta
        )

    def _prior(self, events, rows):
        bounds = self.time_bounds_
        offsets = np.cumsum(self.range_counts_, axis=1) - self.range_counts_
        target = (self.behavior_col, self._target_value())
        ev = events.map_partitions(_time_columns, self.time_col, bounds, target)
        rw = rows.map_partitions(_time_columns, self.time_col, bounds)
        n = len(bounds) + 1
        meta = pd.DataFrame({_ORDER: np.zeros(0, np.int64), _PRIOR: np.zeros(0)})
        return ev.shuffle(on=_KEY, npartitions=n).map_partitions(
            _prior_part,
            rw.shuffle(on=_KEY, npartitions=n),
            bounds,
            offsets,
            align_dataframes=False,
            meta=meta,
        )

    def to_pandas(self):
        """The fitted featurizer as a plain
        :class:`sklearn_recsys.features.BehaviorHistoryFeaturizer` on the computed log (the
        whole log comes into memory: for serving from a log that fits).

        Returns
        -------
        featurizer : sklearn_recsys.features.BehaviorHistoryFeaturizer
        """
        check_is_fitted(self, "history_names_")
        log = self.events_.compute()
        log.index = pd.RangeIndex(len(log))
        out = _PandasFeaturizer(log, **self._pandas_params()).fit(log)
        # what the pandas fit learns from its X: the recorded columns
        out.feature_names_in_ = self.feature_names_in_
        out.n_features_in_ = self.n_features_in_
        out.current_behaviors_ = list(self.current_behaviors_)
        out.history_names_ = out._history_names()
        return out

    def set_output(self, *, transform=None):
        """Output container: a DataFrame whatever the configuration (a Dask one for a Dask
        ``X``), as for the pandas featurizer.

        Parameters
        ----------
        transform : {"default", "pandas"} or None, default=None
            Recorded; the output stays a DataFrame.

        Returns
        -------
        self : BehaviorHistoryFeaturizer
        """
        return record_output(self, transform)
