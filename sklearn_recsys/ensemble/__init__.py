"""Ensembles for imbalanced interaction data: recipes over imbalanced-learn / scikit-learn.

- recipes returning plain estimators that accept the interaction frame:
  :func:`make_balanced_bagging`, :func:`make_easy_ensemble`, :func:`make_rusboost`,
  :func:`make_balanced_random_forest`, :func:`make_stacking` (NeuralClassifier + LightGBM +
  logistic regression, calibrated meta-learner under stratified CV);
- :class:`SelfPacedEnsembleClassifier`: self-paced under-sampling by hardness (Liu et al.,
  ICDE 2020), the one ensemble the libraries do not have;
- :class:`CategoricalColumns`: the column selector the recipes' encoders use.
"""

from ._recipes import (
    CategoricalColumns,
    make_balanced_bagging,
    make_balanced_random_forest,
    make_easy_ensemble,
    make_rusboost,
    make_stacking,
)
from ._self_paced import SelfPacedEnsembleClassifier

__all__ = [
    "CategoricalColumns",
    "SelfPacedEnsembleClassifier",
    "make_balanced_bagging",
    "make_balanced_random_forest",
    "make_easy_ensemble",
    "make_rusboost",
    "make_stacking",
]
