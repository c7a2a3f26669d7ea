"""Reading an interaction log (a Parquet data set) into a Dask frame."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..datasets._parquet import INTERACTIONS_DIR, MANIFEST
from ..datasets._taobao import (
    _COLUMNS,
    _INT_DTYPES,
    BEHAVIOR_TYPES,
    _read_chunks,
    _resolve_path,
    _verify_extract,
)

__all__ = ["read_interactions", "read_taobao"]


def read_interactions(path, *, columns=None, **kwargs):
    """Read an interaction log stored as Parquet into a :class:`dask.dataframe.DataFrame`.

    ``path`` is either a data set written by
    :func:`~sklearn_recsys.datasets.write_interactions` (its ``interactions/`` parts are read,
    one partition per part in time order, and the ``category`` column gets its full, known
    categories from ``dataset.json``) or any Parquet file, folder or glob (a team's own log),
    read by :func:`dask.dataframe.read_parquet`.

    Parameters
    ----------
    path : str or path-like
        Data set folder, Parquet file, folder of Parquet files or glob.
    columns : list of str or None, default=None
        Columns to read (all by default).
    **kwargs
        Passed to :func:`dask.dataframe.read_parquet` (e.g. ``filters``, ``blocksize``).

    Returns
    -------
    interactions : dask.dataframe.DataFrame
        The log; each partition has its own ``RangeIndex``.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn_recsys.datasets._parquet import write_interactions
    >>> from sklearn_recsys.dask import read_interactions
    >>> folder = tempfile.mkdtemp()
    >>> _ = write_interactions(folder, 3000, chunk_size=1000, n_users=100, n_items=50,
    ...                        random_state=0)
    >>> ddf = read_interactions(folder)
    >>> ddf.npartitions, list(ddf.columns)
    (3, ['user_id', 'item_id', 'category', 'price', 'position', 'timestamp', 'purchase'])
    >>> len(ddf.compute())
    3000
    """
    import dask.dataframe as dd

    path = Path(path)
    manifest = path / MANIFEST
    if not manifest.is_file():
        if not path.exists() and not any(c in str(path) for c in "*?["):
            raise FileNotFoundError(f"path={str(path)!r} does not exist.")
        return dd.read_parquet(str(path), columns=columns, **kwargs)
    meta = json.loads(manifest.read_text())
    files = [str(path / INTERACTIONS_DIR / part["file"]) for part in meta["parts"]]
    ddf = dd.read_parquet(files, columns=columns, **kwargs)
    for col, levels in meta.get("categories", {}).items():
        if col in ddf.columns:
            ddf[col] = ddf[col].astype(pd.CategoricalDtype(levels))
    return ddf


def _taobao_meta():
    columns = {name: np.empty(0, dtype=dtype) for name, dtype in _INT_DTYPES.items()}
    columns["behavior_type"] = pd.Categorical([], dtype=BEHAVIOR_TYPES)
    return pd.DataFrame({name: columns[name] for name in _COLUMNS})


def _parse_block(block, name, chunksize):
    """One block of whole lines of the CSV, parsed and checked as :func:`load_taobao` does."""
    if not block.strip():
        return _taobao_meta()
    return _read_chunks(block, chunksize, None, name=name)


def read_taobao(path=None, *, blocksize="64MiB", chunksize=5_000_000):
    """Read the Taobao user behaviour log (``UserBehavior.csv``) into a Dask frame.

    The Dask counterpart of :func:`~sklearn_recsys.datasets.load_taobao`: the same columns,
    dtypes and values (``user_id``, ``item_id``, ``category_id`` int32, ``behavior_type`` a
    category with the levels ``["pv", "cart", "fav", "buy"]``, ``timestamp`` int64 Unix
    seconds), in file order, one partition per block of ``blocksize`` bytes (cut at line
    ends). Each block is parsed and checked by the loader's own code on a worker, so the full
    original (100 M rows, 3.5 GB; 21 bytes a row in memory) never sits in one process. The
    project's shared extract is recognised by its size and checked against its SHA-256.

    Parameters
    ----------
    path : str or path-like, default=None
        The CSV file (or a folder holding ``UserBehavior.csv``); default
        ``<data_home>/taobao-userbehavior/UserBehavior.csv`` (``SKLEARN_RECSYS_DATA`` or
        ``~/sklearn_recsys_data``).
    blocksize : int or str, default="64MiB"
        Bytes per partition (about 1.9 M rows for 64 MiB).
    chunksize : int, default=5_000_000
        Rows parsed at a time within a block.

    Returns
    -------
    interactions : dask.dataframe.DataFrame
        The log; each partition has its own ``RangeIndex``.

    Raises
    ------
    FileNotFoundError
        When the file is missing (the message says where it was looked for and how to get it).
    ValueError
        When the shared extract's SHA-256 does not match, or, at compute time, when a line
        cannot be parsed (the message names the block, the line within it and the value).

    See Also
    --------
    sklearn_recsys.datasets.load_taobao : the same log as a pandas frame.
    BehaviorHistoryFeaturizer : the point-in-time behaviour history of the log's rows.

    Examples
    --------
    >>> from sklearn_recsys.dask import read_taobao
    >>> log = read_taobao(blocksize="1MiB")  # doctest: +SKIP
    >>> log.npartitions, len(log)  # doctest: +SKIP
    (3, 84475)
    """
    import dask
    import dask.dataframe as dd
    from dask.bytes import read_bytes
    from dask.utils import parse_bytes

    from ..datasets._taobao import _check_count

    _check_count(chunksize, "chunksize", 1)
    if isinstance(blocksize, str):
        blocksize = parse_bytes(blocksize)
    _check_count(blocksize, "blocksize", 1)
    file = _resolve_path(None, path)
    _verify_extract(file)
    _, blocks = read_bytes(str(file), delimiter=b"\n", blocksize=int(blocksize), sample=False)
    blocks = blocks[0]
    parse = dask.delayed(_parse_block, pure=True)
    parts = [
        parse(block, f"{file} (block {k + 1} of {len(blocks)})", int(chunksize))
        for k, block in enumerate(blocks)
    ]
    return dd.from_delayed(parts, meta=_taobao_meta(), verify_meta=False)
