"""The interaction pipeline on Dask: data past one machine's memory.

- :func:`read_interactions` reads a Parquet interaction log into a Dask frame;
  :func:`write_interactions` writes the synthetic log of
  :func:`~sklearn_recsys.datasets.make_interactions` as one, chunk by chunk.
- :class:`InteractionFeaturizer`: the features of
  :class:`sklearn_recsys.features.InteractionFeaturizer` fitted on a Dask frame; the fitted
  object also transforms pandas frames.
- :class:`DaskLGBMClassifier`: the LightGBM presets of :mod:`sklearn_recsys.boosting`
  (class weights, focal loss) trained through ``lightgbm.dask``, with negative down-sampling
  per partition; :func:`classification_scores`: ROC-AUC, average precision and log loss from
  partition-wise histograms.
- :class:`BehaviorHistoryFeaturizer`: the point-in-time behaviour history of
  :class:`sklearn_recsys.features.BehaviorHistoryFeaturizer`, by shuffles of the log by user,
  item and category; :func:`read_taobao` reads the Taobao CSV (the full 100 M rows) by blocks.
- :class:`DaskLGBMRanker`: :class:`~sklearn_recsys.boosting.GroupedLGBMRanker` trained through
  ``lightgbm.dask`` (each query in one partition).

Needs the ``[distributed]`` extra (``dask[distributed]``).
"""

from ..datasets._parquet import write_interactions
from ._behavior import BehaviorHistoryFeaturizer
from ._interaction import InteractionFeaturizer
from ._io import read_interactions, read_taobao
from ._lgbm import DaskLGBMClassifier, DaskLGBMRanker
from ._metrics import classification_scores

__all__ = [
    "BehaviorHistoryFeaturizer",
    "DaskLGBMClassifier",
    "DaskLGBMRanker",
    "InteractionFeaturizer",
    "classification_scores",
    "read_interactions",
    "read_taobao",
    "write_interactions",
]
