"""Baselines: the recommenders every model must beat (as :mod:`sklearn.dummy` for scikit-learn).

- :class:`PopularityRecommender`: the same ranking for every user, the most popular items first.

This sub-package imports nothing of ``sklearn_recsys`` above the data contract, ``utils`` and
``metrics``.
"""

from ._popularity import PopularityRecommender

__all__ = ["PopularityRecommender"]
