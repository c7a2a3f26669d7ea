"""Shared helpers beside the data contract: seeds, thread counts and estimator tags.

The torch helpers (:func:`~sklearn_recsys.utils.torch_threads`,
:func:`~sklearn_recsys.utils.seeded_torch`) import torch on first use only, so the packages that
never train a network (``features``, ``metrics``, ``datasets``) do not pay for it.
"""

from ._doctest import doctests_require
from ._parallel import effective_n_threads, torch_threads
from ._random import derive_seed
from ._tags import frame_input_tags
from ._torch import seeded_torch

__all__ = [
    "derive_seed",
    "doctests_require",
    "effective_n_threads",
    "frame_input_tags",
    "seeded_torch",
    "torch_threads",
]
