"""Metrics for imbalanced recommendation: classification, per-user ranking, long tail.

- classification under imbalance (on top of scikit-learn and imbalanced-learn):
  :func:`precision_at_top_q`, :func:`recall_at_top_q`, :func:`best_f1_threshold`,
  :func:`expected_calibration_error`, :func:`imbalanced_classification_scores`,
  :func:`per_group_scores`;
- ranking per user / query, vectorised: :func:`ndcg_at_k`, :func:`recall_at_k`,
  :func:`precision_at_k`, :func:`hit_rate_at_k`, :func:`map_at_k`, :func:`mrr`,
  :func:`ranking_scores`, and of served lists: :func:`ranking_scores_from_lists`;
- long tail and popularity bias: :func:`popularity_buckets`, :func:`item_coverage`,
  :func:`average_recommendation_popularity`, :func:`average_percentage_long_tail`,
  :func:`tail_recall_at_k`, :func:`gini_index`, :func:`shannon_entropy`, :func:`novelty`,
  :func:`long_tail_report`;
- scorers and reports: :func:`make_ranking_scorer`, :func:`get_scorer`, :func:`predict_scores`,
  :func:`ranking_report`;
- plots: :func:`plot_precision_recall`, :func:`plot_long_tail`, :func:`plot_exposure`.

This sub-package imports nothing of ``sklearn_recsys`` except the data contract.
"""

from ._classification import (
    best_f1_threshold,
    expected_calibration_error,
    imbalanced_classification_scores,
    per_group_scores,
    precision_at_top_q,
    recall_at_top_q,
)
from ._lists import ranking_scores_from_lists
from ._longtail import (
    average_percentage_long_tail,
    average_recommendation_popularity,
    gini_index,
    item_coverage,
    long_tail_report,
    novelty,
    popularity_buckets,
    shannon_entropy,
    tail_recall_at_k,
)
from ._plots import plot_exposure, plot_long_tail, plot_precision_recall
from ._ranking import (
    RANKING_METRICS,
    hit_rate_at_k,
    map_at_k,
    mrr,
    ndcg_at_k,
    precision_at_k,
    ranking_scores,
    recall_at_k,
)
from ._scorers import (
    RankingScorer,
    get_scorer,
    make_ranking_scorer,
    predict_scores,
    ranking_report,
)

__all__ = [
    "RANKING_METRICS",
    "RankingScorer",
    "average_percentage_long_tail",
    "average_recommendation_popularity",
    "best_f1_threshold",
    "expected_calibration_error",
    "get_scorer",
    "gini_index",
    "hit_rate_at_k",
    "imbalanced_classification_scores",
    "item_coverage",
    "long_tail_report",
    "make_ranking_scorer",
    "map_at_k",
    "mrr",
    "ndcg_at_k",
    "novelty",
    "per_group_scores",
    "plot_exposure",
    "plot_long_tail",
    "plot_precision_recall",
    "popularity_buckets",
    "precision_at_k",
    "precision_at_top_q",
    "predict_scores",
    "ranking_report",
    "ranking_scores",
    "ranking_scores_from_lists",
    "recall_at_k",
    "recall_at_top_q",
    "shannon_entropy",
    "tail_recall_at_k",
]
