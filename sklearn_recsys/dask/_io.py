"""Reading an interaction log (a Parquet data set) into a Dask frame."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..datasets._parquet import INTERACTIONS_DIR, MANIFEST

__all__ = ["read_interactions"]


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
