"""Plumbing shared by the Dask estimators: input checks, broadcast, partition-wise map-reduce.

Every fit here follows one pattern: a function runs on each partition (a pandas frame) and
returns small sufficient statistics; the statistics are combined pairwise in a tree (at most
``split_every`` at a time, on the workers) and only the final, small result comes back to the
client. State fitted on the client goes back to the workers once, as one task of the graph
(:func:`broadcast`), not copied into every task.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd


def is_dask_frame(X):
    """True for a Dask DataFrame or Series."""
    import dask.dataframe as dd

    return isinstance(X, (dd.DataFrame, dd.Series))


def check_dask_input(X, y=None, sample_weight=None):
    """Check that ``X`` is a Dask DataFrame and that ``y`` / ``sample_weight`` (Dask Series or
    None) have its number of partitions, so that partition ``k`` of each holds the same rows."""
    import dask.dataframe as dd

    if not isinstance(X, dd.DataFrame):
        raise TypeError(f"X must be a dask DataFrame; got {type(X).__name__}.")
    for name, v in (("y", y), ("sample_weight", sample_weight)):
        if v is None:
            continue
        if not isinstance(v, dd.Series):
            raise TypeError(
                f"With a dask X, {name} must be a dask Series with the partitions "
                f"of X (e.g. a column of the same frame); got {type(v).__name__}."
            )
        if v.npartitions != X.npartitions:
            raise ValueError(
                f"{name} has {v.npartitions} partitions but X has "
                f"{X.npartitions}; they must be split alike (row k of partition "
                "p of both is the same interaction)."
            )


def record_output(est, transform):
    """``set_output`` of the Dask featurizers: record ``transform`` ("default", "pandas" or
    None); their outputs are frames whatever it is."""
    if transform is not None:
        if transform not in ("default", "pandas"):
            raise ValueError(f"transform must be 'default', 'pandas' or None; got {transform!r}.")
        est._sklearn_output_config = {
            **getattr(est, "_sklearn_output_config", {}),
            "transform": transform,
        }
    return est


def broadcast(obj):
    """``obj`` as one task of a Dask graph: computed once, shipped to each worker that needs it
    (not embedded in every task that uses it)."""
    import dask

    return dask.delayed(obj, pure=False, traverse=False)


def align(frames):
    """One Dask DataFrame with the columns of all ``frames`` (a DataFrame and Series, or None),
    and the layout that :func:`unpack` splits its partitions back with.

    Collections used together must be computed in one graph: computed one by one, Dask may
    optimize each its own way (a filter pushed into the Parquet reader, small parts fused for
    a narrow projection) and partition ``k`` of one would not hold the rows of partition ``k``
    of the other.
    """
    import dask.dataframe as dd

    base, layout, extra = None, [], {}
    for k, f in enumerate(frames):
        if f is None:
            layout.append(None)
        elif isinstance(f, dd.DataFrame) and base is None:
            base = f
            layout.append(("frame", list(f.columns)))
        else:
            name = f"__sklearn_recsys_{k}__"
            layout.append(("series", name, f.name))
            extra[name] = f
    if base is None:
        name, first = next(iter(extra.items()))
        base = first.to_frame(name=name)
        del extra[name]
    return (base.assign(**extra) if extra else base), layout


def unpack(part, layout):
    """The pandas pieces of a partition of :func:`align`'s frame, in the order of its frames."""
    out = []
    for entry in layout:
        if entry is None:
            out.append(None)
        elif entry[0] == "frame":
            out.append(part[entry[1]])
        else:
            out.append(part[entry[1]].rename(entry[2]))
    return out


def _call_unpacked(part, layout, func, *args):
    return func(*unpack(part, layout), *args)


def _call_numbered(part, layout, func, *args, partition_info=None):
    return func(*unpack(part, layout), *args, partition_info=partition_info)


def map_partitions(func, frames, *args, meta):
    """``func(*pieces, *args)`` on every partition of the aligned ``frames`` (a Dask frame);
    ``func`` gets Dask's ``partition_info`` (the partition number) if it takes it."""
    from dask.utils import has_keyword

    combined, layout = align(frames)
    call = _call_numbered if has_keyword(func, "partition_info") else _call_unpacked
    return combined.map_partitions(call, layout, func, *args, meta=meta)


def _combine_all(combine, *results):
    return functools.reduce(combine, results)


def map_reduce(chunk, combine, frames, *, args=(), split_every=8, n_buckets=None):
    """``chunk(*partitions, *args)`` on every partition, results combined in a tree.

    Parameters
    ----------
    chunk : callable
        Called with partition ``k`` of each frame (pandas objects, or None for a None frame)
        followed by ``args``; returns a small statistic (with ``n_buckets``: a list of
        ``n_buckets`` statistics, one per range of keys).
    combine : callable
        ``combine(a, b)`` merges two statistics (associative).
    frames : list of dask collections or None
        Collections split alike (computed in one graph, see :func:`align`).
    args : tuple
        Further arguments of ``chunk`` (use :func:`broadcast` for large ones).
    split_every : int, default=8
        Statistics merged per tree node.
    n_buckets : int or None, default=None
        With an int, ``chunk`` returns one statistic per bucket (disjoint key ranges) and
        every bucket is reduced by its own tree: no merge task holds more than about
        ``1 / n_buckets`` of the keys, however many rows there are, and the buckets are
        merged on as many workers at once (a shuffle of the statistics by key range).

    Returns
    -------
    The combined statistic (with ``n_buckets``: the list of the combined statistic of each
    bucket), computed (on the current scheduler or ``distributed.Client``).
    """
    import dask

    combined, layout = align(frames)
    parts = combined.to_delayed()
    if n_buckets is None:
        trees = [[dask.delayed(_call_unpacked)(p, layout, chunk, *args) for p in parts]]
    else:
        per_part = [
            dask.delayed(_call_unpacked, nout=n_buckets)(p, layout, chunk, *args) for p in parts
        ]
        trees = [[out[b] for out in per_part] for b in range(n_buckets)]
    roots = []
    for results in trees:
        while len(results) > 1:
            results = [
                dask.delayed(_combine_all)(combine, *results[k : k + split_every])
                for k in range(0, len(results), split_every)
            ]
        roots.append(results[0])
    out = dask.compute(roots)[0]
    return out[0] if n_buckets is None else out


def split_sorted(keys, n_keys, n_buckets):
    """Positions that cut the sorted ``keys`` (in ``[0, n_keys)``) into ``n_buckets`` equal
    key ranges: bucket ``b`` is ``keys[cuts[b]:cuts[b + 1]]``."""
    bounds = (np.arange(n_buckets + 1, dtype=np.float64) * n_keys / n_buckets).astype(np.int64)
    bounds[-1] = n_keys
    return np.searchsorted(keys, bounds)


def key_stats(keys, values):
    """Sums of the rows of ``values`` (and row counts) per distinct key.

    Returns ``(keys, table)``: the sorted distinct keys and, per key, ``[count, sums...]``.
    """
    uniq, inv = np.unique(keys, return_inverse=True)
    cols = [np.bincount(inv, minlength=len(uniq)).astype(np.float64)]
    cols += [
        np.bincount(inv, weights=values[:, j], minlength=len(uniq)) for j in range(values.shape[1])
    ]
    return uniq, np.column_stack(cols)


def merge_key_stats(a, b):
    """Combine two :func:`key_stats` results (the sums of equal keys are added)."""
    keys, inv = np.unique(np.concatenate([a[0], b[0]]), return_inverse=True)
    rows = np.vstack([a[1], b[1]])
    return keys, np.column_stack(
        [np.bincount(inv, weights=rows[:, j], minlength=len(keys)) for j in range(rows.shape[1])]
    )


def add_counts(a, b):
    """Sum two value-count Series (ids missing from one count 0 there)."""
    return a.add(b, fill_value=0)


def first_partition(frames):
    """Partition 0 of the aligned ``frames`` as pandas objects."""
    combined, layout = align(frames)
    return unpack(combined.partitions[0].compute(), layout)


def as_dask_frame(X, y=None):
    """A pandas frame / array (and label) as one-partition Dask collections."""
    import dask
    import dask.dataframe as dd

    if not isinstance(X, pd.DataFrame):
        from sklearn.utils import check_array

        X = pd.DataFrame(check_array(X, dtype=None))
    if y is not None:
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(X):
            raise ValueError(
                f"y must be 1-d with one label per row of X ({len(X)}); got shape {y.shape}."
            )
    with dask.config.set({"dataframe.convert-string": False}):  # keep the dtypes as they are
        Xd = dd.from_pandas(X, npartitions=1, sort=False)
        if y is None:
            return Xd, None
        y = pd.Series(y, index=X.index, name="y")
        return Xd, dd.from_pandas(y, npartitions=1, sort=False)
