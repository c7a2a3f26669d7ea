"""Implicit-feedback candidate models and the two-stage retrieve-then-rank recommender.

- :class:`EASERecommender`: closed-form item-item model (Steck 2019);
- :class:`ItemKNNRecommender`: item-based cosine neighbourhoods;
- :class:`ALSRecommender`, :class:`BPRRecommender`: matrix factorisation through the
  ``implicit`` package (the ``retrieval`` extra);
- :class:`TwoTowerRetriever`: user and item towers trained with a sampled softmax and the
  item-frequency (logQ) correction, on skorch;
- :class:`TwoStageRecommender`: a retriever's top-N candidates re-scored by a ranker.

Every model is fitted on the interaction frame and scores (user, item) rows through
``predict``; :meth:`BaseRetriever.score_matrix` gives :func:`sklearn_recsys.recommend.recommend`
a users x catalogue matrix without building a frame per candidate.
"""

from ._base import BaseRetriever
from ._ease import EASERecommender
from ._implicit import ALSRecommender, BPRRecommender
from ._knn import ItemKNNRecommender
from ._two_stage import TwoStageRecommender
from ._two_tower import TwoTowerRetriever

__all__ = [
    "ALSRecommender",
    "BPRRecommender",
    "BaseRetriever",
    "EASERecommender",
    "ItemKNNRecommender",
    "TwoStageRecommender",
    "TwoTowerRetriever",
]
