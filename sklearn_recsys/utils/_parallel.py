"""Thread counts with scikit-learn's ``n_jobs`` meaning, and a torch thread limit."""

from __future__ import annotations

import os
from contextlib import contextmanager
from numbers import Integral


def effective_n_threads(n_jobs):
    """Number of threads for ``n_jobs`` as scikit-learn reads it.

    ``None`` means 1 (scikit-learn's default outside a joblib context), a positive int that many,
    ``-1`` all cores, ``-2`` all but one, and so on. ``0`` is an error, as in joblib.

    Parameters
    ----------
    n_jobs : int or None
        The estimator's ``n_jobs``.

    Returns
    -------
    int
        At least 1.

    Examples
    --------
    >>> from sklearn_recsys.utils import effective_n_threads
    >>> effective_n_threads(None), effective_n_threads(3)
    (1, 3)
    >>> effective_n_threads(-1) >= 1
    True
    """
    if n_jobs is None:
        return 1
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, Integral):
        raise TypeError(f"n_jobs must be an int or None, got {n_jobs!r}.")
    if n_jobs == 0:
        raise ValueError("n_jobs=0 is not a number of threads; use None (1), k > 0 or -1 (all).")
    if n_jobs < 0:
        return max(1, (os.cpu_count() or 1) + 1 + int(n_jobs))
    return int(n_jobs)


@contextmanager
def torch_threads(n_jobs):
    """Run torch with ``effective_n_threads(n_jobs)`` intra-op threads, then restore.

    Small embedding / MLP models train several times faster on one thread than on a contended
    pool; the caller's setting is restored on exit.

    Examples
    --------
    >>> import torch
    >>> from sklearn_recsys.utils import torch_threads
    >>> before = torch.get_num_threads()
    >>> with torch_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    import torch

    n_threads = effective_n_threads(n_jobs)
    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
