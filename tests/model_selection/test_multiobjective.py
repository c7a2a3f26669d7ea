"""TopKParetoSearch: accuracy against the long tail as a two-objective study."""

import numpy as np
import pytest
from optuna.distributions import FloatDistribution

from sklearn_recsys.datasets import make_interactions
from sklearn_recsys.model_selection import TopKParetoSearch, user_temporal_split
from sklearn_recsys.recommend import evaluate_topk
from sklearn_recsys.rerank import XQuADReranker
from sklearn_recsys.retrieval import EASERecommender


@pytest.fixture(scope="module")
def X():
    X = make_interactions(n_users=150, n_items=80, n_interactions=5000, random_state=0).interactions
    return X.drop_duplicates(["user_id", "item_id"]).reset_index(drop=True)


def test_pareto_front_of_reranker_weight(X):
    search = TopKParetoSearch(
        EASERecommender(),
        {"estimator__l2": [10.0, 50.0], "reranker__weight": FloatDistribution(0.0, 1.0)},
        reranker=XQuADReranker(),
        n_trials=8,
        random_state=0,
    ).fit(X)
    res, front = search.results_, search.pareto_front_
    assert len(res) == 8 and len(front) >= 1
    pts = res[["ndcg", "tail_recall"]].to_numpy()
    for p in front[["ndcg", "tail_recall"]].to_numpy():  # nobody dominates a front point
        assert not ((pts >= p).all(axis=1) & (pts > p).any(axis=1)).any()
    # each row is what evaluate_topk gives on the same hold-out
    row = res.iloc[0]
    X_tr, X_te = user_temporal_split(X, test_size=0.2)
    est = EASERecommender(l2=row["param_estimator__l2"]).fit(X_tr)
    rr = XQuADReranker(row["param_reranker__weight"]).fit(X_tr)
    ref = evaluate_topk(est, X_tr, X_te, k=10, reranker=rr).set_index("metric")["value"]
    assert row["ndcg"] == pytest.approx(ref["ndcg"])
    assert row["tail_recall"] == pytest.approx(ref["tail_recall"])
    # refit: the front point best on NDCG, on all of X
    assert search.best_params_["reranker__weight"] == pytest.approx(
        front.iloc[0]["param_reranker__weight"]
    )
    assert search.best_reranker_.weight == search.best_params_["reranker__weight"]
    assert search.best_estimator_.interactions_.sum() == len(X)
    ax = search.plot_pareto_front(annotate="param_reranker__weight")
    assert ax.get_xlabel() == "ndcg@10"
    assert np.isfinite(front["ndcg"]).all()


def test_objective_validation(X):
    with pytest.raises(ValueError, match="objectives must be"):
        TopKParetoSearch(
            EASERecommender(), {"estimator__l2": [1.0]}, objectives=("ndcg",), n_trials=1
        ).fit(X)
    with pytest.raises(ValueError, match="objectives must be"):
        TopKParetoSearch(
            EASERecommender(), {"estimator__l2": [1.0]}, objectives=("ndcg", "auc"), n_trials=1
        ).fit(X)
