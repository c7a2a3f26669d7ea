"""LightGBM estimators for imbalanced interaction data, drop-in for LightGBM's own.

- :class:`ImbalancedLGBMClassifier`: LightGBM with class-weight presets (``class_weight=``).
- :class:`FocalLGBMClassifier`: LightGBM with a focal-loss objective and exact derivatives.
- :class:`GroupedLGBMRanker`: lambdarank whose query groups come from ``X[group_col]``.

All three take LightGBM's parameters with LightGBM's names, defaults and meaning, and the
interaction frame as it is: the id columns (``user_col`` / ``item_col``) and ``category`` columns
become LightGBM categorical features and unseen ids at predict time map to a reserved code.
"""

from ._classifier import FocalLGBMClassifier, ImbalancedLGBMClassifier
from ._ranker import GroupedLGBMRanker

__all__ = ["FocalLGBMClassifier", "GroupedLGBMRanker", "ImbalancedLGBMClassifier"]
