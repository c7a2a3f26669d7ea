"""write_interactions: the synthetic interaction log as a partitioned Parquet data set.

The rows are those of :func:`make_interactions` for the same parameters and seed, in the same
order, but they are drawn and written chunk by chunk, so a log of hundreds of millions of rows
never has to fit in memory. How, without changing a single draw:

- ``make_interactions`` draws each row quantity for all rows at once, one after the other, from
  one ``RandomState`` (users, items, positions, timestamps, [the intercept sample], labels). A
  legacy ``RandomState`` gives the same numbers whether an array is drawn in one call or in
  consecutive chunks, so one copy of the generator per quantity, each advanced to where that
  quantity starts in the stream, draws chunk ``k`` of every quantity.
- The intercept of the label model is solved on the logits of a sample of rows (all of them up
  to 500 000): a first pass over the chunks collects those logits, in the sample's order.
- The log is sorted by timestamp (stable): rows go to time buckets (a contiguous range of
  seconds each) as they are drawn, then each bucket is sorted and written as one part, in time
  order. A stable sort of a bucket that holds its rows in drawing order is the global stable
  sort restricted to the bucket.
"""

from __future__ import annotations

import inspect
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch, check_random_state

from ._synthetic import (
    _DESCR,
    _INTERCEPT_SAMPLE,
    _draw_rows,
    _latent_model,
    _rows_frame,
    _side_tables,
    _solve_intercept,
    _titles,
    make_interactions,
)

__all__ = ["write_interactions"]

#: Sub-folder of the data set that holds the Parquet parts of the log.
INTERACTIONS_DIR = "interactions"
#: Description of the data set (parameters, categories, parts) beside the parts.
MANIFEST = "dataset.json"
#: Parameters of ``make_interactions`` that ``write_interactions`` does not take, and why.
_REFUSED = {
    "return_X_y": "a data set on disk has no (X, y) form",
    "multi_behavior": "the multi-behaviour log is drawn by sessions, not row by row",
}
#: Most time buckets (parts) written at once: one open file each.
_MAX_PARTS = 512


def _generator_params(n_interactions, random_state, kwargs):
    """All parameters of ``make_interactions``, defaults filled in, checked by a dry run."""
    for name, why in _REFUSED.items():
        if name in kwargs:
            raise TypeError(f"write_interactions does not take {name!r} ({why}).")
    signature = inspect.signature(make_interactions)
    bound = signature.bind_partial(n_interactions=n_interactions, **kwargs)
    bound.apply_defaults()
    params = dict(bound.arguments)
    # the same checks and messages as make_interactions: one dry run on a single row
    make_interactions(**{**params, "n_interactions": 1, "random_state": 0})
    params["random_state"] = random_state
    return params


# ------------------------------------------------------------------ chunked drawing
def _copy(rng):
    out = np.random.RandomState()
    out.set_state(rng.get_state())
    return out


def _skip(rng, n, draw, chunk):
    """Advance ``rng`` past ``draw(rng, n)`` without holding ``n`` values (returns ``rng``)."""
    for start in range(0, n, chunk):
        draw(rng, min(chunk, n - start))
    return rng


def _cursors(m, n, rng, chunk):
    """One generator per row quantity, each at the place where ``make_interactions`` starts
    drawing it; and the rows of the intercept sample (None: all rows)."""

    def uniform(r, k):
        return r.random_sample(k)

    def seconds(r, k):
        return r.randint(0, m.span, size=k)

    user = _copy(rng)
    item = _skip(_copy(user), n, uniform, chunk)  # choice(p=...) draws one double per row
    position = _skip(_copy(item), n, uniform, chunk)
    time = _skip(_copy(position), n, uniform, chunk)
    label = _skip(_copy(time), n, seconds, chunk)
    sample = None
    if n > _INTERCEPT_SAMPLE:
        sample = label.choice(n, _INTERCEPT_SAMPLE, replace=False)
    return Bunch(user=user, item=item, position=position, time=time, label=label), sample


def _intercept(m, p, cursors, sample, n, chunk):
    """The intercept ``make_interactions`` solves, from a first pass over the chunks."""
    cur = Bunch(**{k: _copy(r) for k, r in cursors.items()})
    rows = np.arange(n) if sample is None else sample
    order = np.argsort(rows, kind="stable")
    sorted_rows = rows[order]
    sub = np.empty(len(rows))
    for start in range(0, n, chunk):
        size = min(chunk, n - start)
        logit = _draw_rows(m, cur, size, **p).logit
        lo, hi = np.searchsorted(sorted_rows, [start, start + size])
        sub[order[lo:hi]] = logit[sorted_rows[lo:hi] - start]
    return _solve_intercept(sub, p["positive_rate"])


def _prepare(path, overwrite):
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"path={str(path)!r} is a file; expected a folder for the data set.")
    if path.exists() and any(path.iterdir()):
        if not overwrite:
            raise FileExistsError(
                f"path={str(path)!r} is not empty; pass overwrite=True to "
                "replace the data set in it."
            )
        for name in (INTERACTIONS_DIR, MANIFEST, "item_info.parquet", "user_info.parquet"):
            target = path / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    (path / INTERACTIONS_DIR).mkdir(parents=True, exist_ok=True)
    return path


def write_interactions(
    path,
    n_interactions=100_000,
    *,
    chunk_size=1_000_000,
    random_state=None,
    overwrite=False,
    **kwargs,
):
    """Write a synthetic interaction log as a partitioned Parquet data set, chunk by chunk.

    The rows are exactly those of ``make_interactions(n_interactions=n_interactions,
    random_state=random_state, **kwargs).interactions``, in the same order (sorted by
    timestamp), while memory stays bounded by ``chunk_size``: a log of 100 M rows is written
    with about the memory ``make_interactions`` needs for ``chunk_size`` rows (plus the
    8 bytes per row of its intercept sample beyond 500 000 rows). Read it back with
    :func:`sklearn_recsys.dask.read_interactions` (a Dask frame, one partition per part) or
    any Parquet reader.

    Parameters
    ----------
    path : str or path-like
        Folder of the data set (created if needed). It receives ``interactions/`` (the parts
        ``part-00000.parquet``, ... in time order), ``item_info.parquet``,
        ``user_info.parquet`` and ``dataset.json`` (the parameters, the categories of the
        ``category`` column and, per part, its rows and time range).
    n_interactions : int, default=100_000
        Number of rows.
    chunk_size : int, default=1_000_000
        Rows drawn at a time; also about the rows of each part (the parts cover equal time
        ranges, so their sizes vary a little; at most 512 parts, larger ones beyond).
    random_state : int, RandomState instance or None, default=None
        Seed, as in :func:`make_interactions` (the same int gives the same rows).
    overwrite : bool, default=False
        Replace a data set already in ``path``; otherwise a non-empty ``path`` is an error.
    **kwargs
        Any other parameter of :func:`make_interactions` (``n_users``, ``n_items``,
        ``positive_rate``, ``label``, ...), with its default when absent. ``multi_behavior``
        and ``return_X_y`` are not available.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``path`` (the data set folder), ``interactions_path`` (the folder of the parts),
        ``n_rows``, ``n_partitions``, ``item_info`` and ``user_info`` (as in
        :func:`make_interactions`; also written beside the parts), ``target_name`` and
        ``DESCR``.

    See Also
    --------
    make_interactions : the same rows in memory.
    sklearn_recsys.dask.read_interactions : read the data set as a Dask frame.

    Notes
    -----
    ``make_interactions`` draws each row quantity for all rows in turn from one
    ``RandomState``; a legacy ``RandomState`` gives the same numbers in one call or in
    consecutive chunks, so one copy of the generator per quantity, advanced to where that
    quantity starts, draws each chunk. A first pass collects the logits of the rows the
    intercept is solved on; a second draws the labels and sends the rows to time buckets,
    which are then sorted (stable) and written one by one.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from sklearn_recsys.datasets import make_interactions
    >>> from sklearn_recsys.datasets._parquet import write_interactions
    >>> folder = tempfile.mkdtemp()
    >>> data = write_interactions(folder, 5000, chunk_size=2000, n_users=300, n_items=100,
    ...                           random_state=0)
    >>> data.n_rows, data.n_partitions
    (5000, 3)
    >>> parts = pd.read_parquet(data.interactions_path)
    >>> expected = make_interactions(n_users=300, n_items=100, n_interactions=5000,
    ...                              random_state=0).interactions
    >>> parts.equals(expected)
    True
    """
    if (
        isinstance(chunk_size, bool)
        or not isinstance(chunk_size, (int, np.integer))
        or (chunk_size < 1)
    ):
        raise ValueError(f"chunk_size must be an integer >= 1; got {chunk_size!r}.")
    p = _generator_params(n_interactions, random_state, kwargs)
    n, chunk = int(n_interactions), int(chunk_size)
    path = _prepare(path, overwrite)
    rng = check_random_state(random_state)
    m = _latent_model(rng, **p)
    cursors, sample = _cursors(m, n, rng, chunk)
    b = _intercept(m, p, cursors, sample, n, chunk)

    import pyarrow as pa
    import pyarrow.parquet as pq

    n_buckets = min(-(-n // chunk), _MAX_PARTS)
    parts_dir = path / INTERACTIONS_DIR
    with tempfile.TemporaryDirectory(dir=path, prefix=".buckets-") as tmp:
        writers = {}
        try:
            for start in range(0, n, chunk):
                rows = _draw_rows(m, cursors, min(chunk, n - start), **p)
                proba = 1.0 / (1.0 + np.exp(-(rows.logit + b)))
                y = (cursors.label.random_sample(len(proba)) < proba).astype(np.int8)
                table = pa.Table.from_pandas(
                    _rows_frame(m, rows, y, p["label"]), preserve_index=False
                )
                bucket = (rows.timestamp - m.t0) * n_buckets // m.span
                order = np.argsort(bucket, kind="stable")  # keeps drawing order per bucket
                bounds = np.searchsorted(bucket[order], np.arange(n_buckets + 1))
                for k in np.flatnonzero(np.diff(bounds)):
                    if k not in writers:
                        writers[k] = pq.ParquetWriter(f"{tmp}/{k}.parquet", table.schema)
                    writers[k].write_table(table.take(order[bounds[k] : bounds[k + 1]]))
        finally:
            for w in writers.values():
                w.close()
        manifest_parts = []
        for k in sorted(writers):
            part = pq.read_table(f"{tmp}/{k}.parquet").to_pandas()
            part = part.take(np.argsort(part["timestamp"].to_numpy(), kind="stable"))
            name = f"part-{len(manifest_parts):05d}.parquet"
            part.to_parquet(parts_dir / name, index=False)
            manifest_parts.append(
                {
                    "file": name,
                    "rows": len(part),
                    "timestamp_min": int(part["timestamp"].iloc[0]),
                    "timestamp_max": int(part["timestamp"].iloc[-1]),
                }
            )
            Path(f"{tmp}/{k}.parquet").unlink()

    title = _titles(m.quality, m.item_cat, p["n_categories"], cursors.label)
    item_info, user_info = _side_tables(m, title)
    item_info.to_parquet(path / "item_info.parquet")
    user_info.to_parquet(path / "user_info.parquet")
    seed = p["random_state"]
    manifest = {
        "generator": "sklearn_recsys.datasets.make_interactions",
        "params": {
            **{k: v for k, v in p.items() if k not in _REFUSED},
            "random_state": seed if isinstance(seed, (int, np.integer)) else None,
        },
        "n_rows": n,
        "label": p["label"],
        "categories": {"category": list(m.categories.categories)},
        "parts": manifest_parts,
    }
    (path / MANIFEST).write_text(json.dumps(manifest, indent=1, default=int))
    return Bunch(
        path=str(path),
        interactions_path=str(parts_dir),
        n_rows=n,
        n_partitions=len(manifest_parts),
        item_info=item_info,
        user_info=user_info,
        target_name=p["label"],
        DESCR=_DESCR,
    )
