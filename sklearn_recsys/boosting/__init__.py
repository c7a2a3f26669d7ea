"""LightGBM estimators for imbalanced interaction data.

- :class:`ImbalancedLGBMClassifier`: LightGBM with class-weight presets (``imbalance=``).
- :class:`FocalLGBMClassifier`: LightGBM with a focal-loss objective and exact derivatives.
- :class:`GroupedLGBMRanker`: lambdarank whose query groups come from ``X[group_col]``.

All three take the interaction frame as it is: id and ``category`` columns become LightGBM
categorical features and unseen ids at predict time map to a reserved code.
"""

from ._classifier import FocalLGBMClassifier, ImbalancedLGBMClassifier
from ._ranker import GroupedLGBMRanker

__all__ = ["FocalLGBMClassifier", "GroupedLGBMRanker", "ImbalancedLGBMClassifier"]
