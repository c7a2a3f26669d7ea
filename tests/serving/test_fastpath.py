import numpy as np
import pytest
from lightgbm import LGBMClassifier
from sklearn.pipeline import make_pipeline

from sklearn_recsys.datasets import make_interactions
from sklearn_recsys.features import InteractionFeaturizer
from sklearn_recsys.serving import PipelineScorer


@pytest.fixture(scope="module")
def traffic():
    # other users, items and prices than the training log: unknown ids and categories too
    X = make_interactions(
        n_users=400, n_items=200, n_interactions=600, random_state=7
    ).interactions.drop(columns="purchase")
    return X.assign(category=X["category"].astype(object).where(X.index % 7 != 0, "new"))


def _columns(X):
    return {c: X[c].tolist() for c in X.columns if c != "timestamp"}


def test_fast_path_gives_the_scores_of_predict_proba(lgbm_pipeline, traffic):
    scorer = PipelineScorer(lgbm_pipeline)
    assert scorer.fast and scorer._booster is not None
    expected = lgbm_pipeline.predict_proba(traffic)[:, 1]
    np.testing.assert_array_equal(scorer.score(_columns(traffic)), expected)
    one = _columns(traffic.iloc[[5]])
    np.testing.assert_array_equal(scorer.score(one), expected[[5]])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fast_path_with_side_tables_and_other_final_steps(interactions, traffic):
    from sklearn.linear_model import LogisticRegression

    X, y, item_info = interactions
    pipe = (
        make_pipeline(
            InteractionFeaturizer(
                keep_id_columns=False,
                n_factors=2,
                item_info=item_info.drop(columns=["quality"]),
                random_state=0,
            ),
            LGBMClassifier(n_estimators=10, n_jobs=1, verbose=-1),
        )
        .set_output(transform="pandas")
        .fit(X, y)
    )
    np.testing.assert_array_equal(
        PipelineScorer(pipe).score(_columns(traffic)), pipe.predict_proba(traffic)[:, 1]
    )
    # not LightGBM: the final step gets one frame per request, same scores
    pipe2 = (
        make_pipeline(
            InteractionFeaturizer(n_factors=2, random_state=0, keep_id_columns=False),
            LogisticRegression(max_iter=100),
        )
        .set_output(transform="pandas")
        .fit(X, y)
    )
    scorer = PipelineScorer(pipe2)
    assert scorer.fast and scorer._booster is None
    np.testing.assert_allclose(
        scorer.score(_columns(traffic)), pipe2.predict_proba(traffic)[:, 1], rtol=1e-12
    )


def test_recommend_ranks_the_catalogue_like_predict_proba(lgbm_pipeline, interactions):
    X, _, _ = interactions
    scorer = PipelineScorer(
        lgbm_pipeline, {"column_defaults": {"price": 20.0, "position": 1, "category": "phone"}}
    )
    user = X["user_id"].iloc[0]
    items, scores = scorer.recommend(user, 10)
    catalogue = lgbm_pipeline[0].item_indexer_.ids_.to_numpy()
    frame = X.head(len(catalogue)).copy()
    frame = frame.iloc[np.zeros(len(catalogue), dtype=int)].assign(
        user_id=user, item_id=catalogue, price=20.0, position=1, category="phone"
    )
    full = lgbm_pipeline.predict_proba(frame)[:, 1]
    order = np.lexsort((np.arange(len(full)), -full))[:10]
    np.testing.assert_array_equal(items, catalogue[order])
    np.testing.assert_array_equal(scores, full[order])
    # candidates, with an unknown item, and k larger than the candidates
    items, scores = scorer.recommend(user, 5, candidates=[catalogue[0], 10**6, catalogue[3]])
    assert len(items) == 3 and set(items) == {catalogue[0], 10**6, catalogue[3]}
    assert np.all(np.diff(scores) <= 0)
