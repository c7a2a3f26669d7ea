"""Batch-wise data loading for skorch: one index array per batch instead of one row at a time.

skorch's default ``Dataset`` + ``DataLoader`` fetch rows one by one and collate them, and its
generic indexing goes through ``sklearn.utils._safe_indexing`` (a Python loop over the index
list). For the small, fast networks of this package that bookkeeping costs as much as the
forward and backward passes. Here a sampler yields whole index arrays and the dataset answers
with one vectorised ``take`` per array.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from skorch.dataset import Dataset
from torch.utils.data import DataLoader, Sampler


class ArrayDictDataset(Dataset):
    """skorch ``Dataset`` over a dict of arrays, indexed by whole index arrays.

    ``dataset[idx]`` with an integer array ``idx`` returns ``({k: X[k][idx]}, y[idx])`` with
    plain numpy fancy indexing (no per-row work).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_recsys.neural._data import ArrayDictDataset
    >>> ds = ArrayDictDataset({"dense": np.arange(6.0).reshape(3, 2)}, np.array([0, 1, 0]))
    >>> Xi, yi = ds[np.array([2, 0])]
    >>> Xi["dense"].tolist(), yi.tolist()
    ([[4.0, 5.0], [0.0, 1.0]], [0, 0])
    """

    def __getitem__(self, i):
        X, y = self.X, self.y
        Xi = {k: v[i] for k, v in X.items()} if isinstance(X, Mapping) else X[i]
        return self.transform(Xi, None if y is None else y[i])


class BatchIndexSampler(Sampler):
    """Yield the row indices of each mini-batch as one ``int64`` array.

    Parameters
    ----------
    n : int
        Number of rows.
    batch_size : int
        Rows per batch.
    shuffle : bool, default=False
        Random order (``torch.randperm`` on torch's default generator) each epoch.
    sampler : torch Sampler or None, default=None
        Row stream to cut into batches instead (e.g. a ``WeightedRandomSampler``).
    drop_last : bool, default=False
        Drop the last incomplete batch.
    """

    def __init__(self, n, batch_size, shuffle=False, sampler=None, drop_last=False):
        self.n = n
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.sampler = sampler
        self.drop_last = drop_last

    def _order(self):
        if self.sampler is not None:
            return np.fromiter(iter(self.sampler), dtype=np.int64)
        if self.shuffle:
            return torch.randperm(self.n).numpy()
        return np.arange(self.n)

    def __iter__(self):
        order = self._order()
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            if self.drop_last and len(batch) < self.batch_size:
                return
            yield batch

    def __len__(self):
        total = len(self.sampler) if self.sampler is not None else self.n
        full, rest = divmod(total, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)


def batch_loader(dataset, batch_size=256, shuffle=False, sampler=None, drop_last=False, **kwargs):
    """A ``DataLoader`` that fetches whole mini-batches by fancy indexing.

    Used as skorch's ``iterator_train`` / ``iterator_valid`` with :class:`ArrayDictDataset`;
    accepts their usual arguments.

    Parameters
    ----------
    dataset : torch Dataset indexable by an array of indices
        Usually an :class:`ArrayDictDataset`.
    batch_size : int, default=256
        Rows per batch.
    shuffle : bool, default=False
        Random order (torch's default generator) unless ``sampler`` is given.
    sampler : torch Sampler or None, default=None
        Row sampler (e.g. :func:`make_balanced_sampler`); batches are cut from its stream.
    drop_last : bool, default=False
        Drop the last incomplete batch.
    **kwargs
        Passed to :class:`torch.utils.data.DataLoader` (e.g. ``num_workers``).

    Returns
    -------
    loader : torch.utils.data.DataLoader

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_recsys.neural._data import ArrayDictDataset, batch_loader
    >>> ds = ArrayDictDataset({"dense": np.arange(10.0)[:, None]}, np.arange(10))
    >>> [len(yb) for _, yb in batch_loader(ds, batch_size=4)]
    [4, 4, 2]
    """
    index_sampler = BatchIndexSampler(
        len(dataset), batch_size, shuffle=shuffle, sampler=sampler, drop_last=drop_last
    )
    return DataLoader(dataset, batch_size=None, sampler=index_sampler, **kwargs)
