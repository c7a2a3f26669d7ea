"""Seed derivation: one integer seed from a scikit-learn ``random_state``."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

_MAX_SEED = np.iinfo(np.int32).max


def derive_seed(random_state, size=None):
    """Draw a seed (or ``size`` seeds) for a library that takes an integer seed.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        scikit-learn's ``random_state``: the same int gives the same seed; a ``RandomState``
        instance is advanced by one draw (so consecutive calls differ, as in scikit-learn).
    size : int or None, default=None
        Number of seeds; ``None`` returns one Python ``int``.

    Returns
    -------
    int or ndarray of shape (size,)
        Seed(s) in ``[0, 2**31 - 1)``, valid for numpy, torch, LightGBM and implicit.

    Examples
    --------
    >>> from sklearn_recsys.utils import derive_seed
    >>> derive_seed(0) == derive_seed(0)
    True
    >>> derive_seed(0, size=3).shape
    (3,)
    """
    rng = check_random_state(random_state)
    if size is None:
        return int(rng.randint(_MAX_SEED))
    return rng.randint(_MAX_SEED, size=size)
