"""sklearn-recsys: scikit-learn compatible tools for imbalanced recommendation data.

Sub-packages (DESIGN.md section 3): ``datasets``, ``features``, ``model_selection``, ``metrics``
and the estimators built on them. Import what you need from the sub-package, e.g.
``from sklearn_recsys.datasets import make_interactions``.
"""

__version__ = "0.1.0.dev0"

__all__ = ["__version__"]
