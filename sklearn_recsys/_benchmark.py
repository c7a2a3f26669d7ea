"""Deprecated alias of :mod:`sklearn_recsys.benchmark` (kept for one release).

Import from ``sklearn_recsys.benchmark`` instead; every name here is the same object.
"""

import warnings

from .benchmark import *  # noqa: F403
from .benchmark import __all__  # noqa: F401
from .benchmark._data import DATASETS, LGBM_PARAMS, LGBM_PARAMS_EVENTS  # noqa: F401
from .benchmark._run import RANKING_COLUMNS, _scores_and_labels  # noqa: F401

warnings.warn(
    "sklearn_recsys._benchmark is deprecated; import sklearn_recsys.benchmark",
    DeprecationWarning,
    stacklevel=2,
)
