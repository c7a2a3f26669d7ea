"""Samplers for imbalanced interaction data (imbalanced-learn compatible).

- :class:`GANOverSampler`: class-conditional WGAN-GP over-sampling that keeps id columns valid.
- :class:`NegativeSampler`: adds unobserved (user, item) pairs as negatives (implicit feedback).
- :class:`PopularityUnderSampler`: drops majority rows of head items first, keeps the tail.
- :class:`IdPreservingSampler`: runs any imbalanced-learn sampler (SMOTE, ADASYN, ...) on the
  numeric columns and copies id / categorical columns from the nearest real row.
- :func:`synthetic_quality`: per-column KS, correlation distance and detection ROC-AUC.

SMOTE, ADASYN, SMOTENC, Borderline-SMOTE and random / cluster under-sampling are used from
imbalanced-learn directly (wrap them in :class:`IdPreservingSampler` on an interaction frame).
"""

from ._gan import GANOverSampler
from ._id_preserving import IdPreservingSampler
from ._negative import NegativeSampler
from ._popularity import PopularityUnderSampler
from ._quality import synthetic_quality

__all__ = [
    "GANOverSampler",
    "IdPreservingSampler",
    "NegativeSampler",
    "PopularityUnderSampler",
    "synthetic_quality",
]
