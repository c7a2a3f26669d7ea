"""Imbalance-aware losses as torch modules (on logits).

Every loss takes ``(logits, target, sample_weight=None)``, holds its per-class weights in the
buffer ``class_weight`` (which :class:`sklearn_recsys.neural.DynamicClassWeight` updates during
training), and reduces with ``"mean"`` = ``sum_i w_i l_i / n``.

- :class:`WeightedBCELoss`, :class:`WeightedCrossEntropyLoss`: weighted log losses;
- :class:`FocalLoss` (binary), :class:`MulticlassFocalLoss`: focal loss (Lin et al., 2017);
- :class:`ClassBalancedLoss` and :func:`class_balanced_weights`: effective number of samples
  (Cui et al., 2019).
"""

from ._base import WeightedLoss
from ._losses import (
    ClassBalancedLoss,
    FocalLoss,
    MulticlassFocalLoss,
    WeightedBCELoss,
    WeightedCrossEntropyLoss,
    class_balanced_weights,
)

__all__ = [
    "ClassBalancedLoss",
    "FocalLoss",
    "MulticlassFocalLoss",
    "WeightedBCELoss",
    "WeightedCrossEntropyLoss",
    "WeightedLoss",
    "class_balanced_weights",
]
