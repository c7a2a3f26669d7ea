"""Neural classifiers on skorch, with imbalance-aware losses and callbacks.

- :class:`NeuralClassifier`: MLP, Wide & Deep, DeepFM and two-tower scorers for interaction
  tables.
- :class:`LMTwoTowerClassifier`: two towers whose item tower is a fine-tuned pretrained
  language model.
- :class:`MultiTaskClassifier`: one shared bottom, a main and an auxiliary head.
- :class:`DynamicClassWeight`: re-weights classes each epoch from the validation recall.
- :func:`epoch_scoring_callbacks`, :func:`valid_roc_auc`, :func:`valid_pr_auc`,
  :func:`valid_gmean`: whole-validation-set scores for skorch's ``EpochScoring``.
- :func:`make_balanced_sampler`: class-balanced mini-batches for a torch ``DataLoader``.

``NeuralRanker``, ``MultiTaskRanker`` and ``LMTwoTowerRanker`` are deprecated aliases of the
three classifiers (removed in the next release).
"""

from ._callbacks import (
    DynamicClassWeight,
    epoch_scoring_callbacks,
    make_balanced_sampler,
    valid_gmean,
    valid_pr_auc,
    valid_roc_auc,
)
from ._classifier import NeuralClassifier
from ._lm import LMTwoTowerClassifier, LMTwoTowerRanker
from ._multitask import MultiTaskClassifier, MultiTaskRanker
from ._ranker import NeuralRanker

__all__ = [
    "DynamicClassWeight",
    "LMTwoTowerClassifier",
    "LMTwoTowerRanker",
    "MultiTaskClassifier",
    "MultiTaskRanker",
    "NeuralClassifier",
    "NeuralRanker",
    "epoch_scoring_callbacks",
    "make_balanced_sampler",
    "valid_gmean",
    "valid_pr_auc",
    "valid_roc_auc",
]
