"""Long-tail, calibration and diversity re-rankers of each user's scored candidates.

Post-processors of a recommender's scores, passed as ``recommend(..., reranker=...)`` /
``evaluate_topk(..., reranker=...)`` or applied to a table with ``rerank``. Each has one
trade-off ``weight`` in [0, 1]; 0 returns the input order.

- :class:`PopularityPenaltyReranker`: score minus a popularity penalty;
- :class:`XQuADReranker`: head / tail as the two aspects of xQuAD (Abdollahpouri et al. 2019);
- :class:`CalibratedReranker`: the list's category (or head / tail) mix follows the user's
  history (Steck 2018);
- :class:`MMRReranker`: maximal marginal relevance on item embeddings.
"""

from ._base import BaseReranker
from ._rerankers import (
    CalibratedReranker,
    MMRReranker,
    PopularityPenaltyReranker,
    XQuADReranker,
)

__all__ = [
    "BaseReranker",
    "CalibratedReranker",
    "MMRReranker",
    "PopularityPenaltyReranker",
    "XQuADReranker",
]
