"""Data sets: the synthetic e-commerce generator and real-data loaders.

``make_interactions`` is the embedded default data set (single-behaviour impressions, or with
``multi_behavior=True`` a Taobao-like event log); ``load_movielens`` reads the original GroupLens
files (downloading them only when asked) and ``load_taobao`` a local copy of Alibaba's Taobao
user behaviour log. Labels for imbalance studies are explicit helpers (``label_loved``,
``label_liked``, ``label_conversion``), never hidden in the loaders.
"""

from ._labels import label_conversion
from ._movielens import get_data_home, label_liked, label_loved, load_movielens
from ._parquet import write_interactions
from ._synthetic import make_interactions
from ._taobao import load_taobao

__all__ = [
    "get_data_home",
    "label_conversion",
    "label_liked",
    "label_loved",
    "load_movielens",
    "load_taobao",
    "make_interactions",
    "write_interactions",
]
