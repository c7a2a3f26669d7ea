"""Data sets: the synthetic e-commerce generator and real-data loaders.

``make_interactions`` is the embedded default data set; ``load_movielens`` reads the original
GroupLens files (downloading them only when asked). Labels for imbalance studies are explicit
helpers (``label_loved``, ``label_liked``), never hidden in the loaders.
"""

from ._movielens import get_data_home, label_liked, label_loved, load_movielens
from ._synthetic import make_interactions

__all__ = [
    "get_data_home",
    "label_liked",
    "label_loved",
    "load_movielens",
    "make_interactions",
]
