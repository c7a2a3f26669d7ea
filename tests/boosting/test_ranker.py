import os
import pickle

import lightgbm
import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sklearn_recsys.boosting import GroupedLGBMRanker
from sklearn_recsys.metrics import make_ranking_scorer, ndcg_at_k
from sklearn_recsys.model_selection import StratifiedUserKFold

KW = {"n_estimators": 20, "n_jobs": 1, "random_state": 0}


@pytest.fixture(scope="module")
def graded(frame):
    """Graded relevance 0..3 from the synthetic purchase probability."""
    X, y = frame
    rng = np.random.default_rng(1)
    grade = np.digitize(X["position"].to_numpy() * -1.0 + rng.normal(0, 3, len(X)), [-8, -4, 0])
    return X, np.maximum(grade, 3 * y)


def test_interleaved_groups_give_the_model_of_sorted_groups(graded):
    X, y = graded
    # the frame is ordered by time, so users are interleaved; grouping the rows by user (in
    # order of first appearance, time order kept inside a user) must give exactly the same
    # model, and so must LightGBM's own ranker given these rows and the group sizes by hand
    order = np.argsort(pd.factorize(X["user_id"])[0], kind="stable")
    assert not np.array_equal(order, np.arange(len(X)))
    Xs, ys = X.iloc[order], y[order]
    interleaved = GroupedLGBMRanker(**KW).fit(X, y)
    contiguous = GroupedLGBMRanker(**KW).fit(Xs, ys)
    np.testing.assert_array_equal(interleaved.predict(X), contiguous.predict(X))
    features = [c for c in X.columns if c != "user_id"]
    sizes = Xs.groupby("user_id", sort=False).size().to_numpy()
    ref = lightgbm.LGBMRanker(verbose=-1, **KW)
    Xe = interleaved._encoder.transform(Xs)
    ref.fit(
        Xe,
        ys,
        group=sizes,
        categorical_feature=[features.index("item_id"), features.index("category")],
    )
    np.testing.assert_allclose(interleaved.predict(Xs), ref.predict(Xe), rtol=1e-9)


def test_predictions_follow_the_input_order(graded):
    X, y = graded
    ranker = GroupedLGBMRanker(**KW).fit(X, y)
    perm = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_array_equal(ranker.predict(X.iloc[perm]), ranker.predict(X)[perm])
    assert ranker.n_groups_ == X["user_id"].nunique()
    assert "user_id" not in ranker.categorical_features_
    assert ranker.booster_.num_feature() == X.shape[1] - 1


def test_graded_labels_rank_better_than_chance(graded):
    X, y = graded
    n = 4500
    ranker = GroupedLGBMRanker(n_estimators=50, n_jobs=1, random_state=0).fit(X[:n], y[:n])
    score = ranker.score(X[n:], y[n:])
    chance = np.mean(
        [
            ndcg_at_k(
                y[n:],
                np.random.default_rng(s).random(len(y) - n),
                groups=X["user_id"][n:],
                gain="exponential",
            )
            for s in range(5)
        ]
    )
    assert score > chance + 0.1
    assert score == pytest.approx(
        ndcg_at_k(
            y[n:], ranker.predict(X[n:]), groups=X["user_id"][n:], gain="exponential", ties="stable"
        )
    )


def test_grid_search_with_ranking_scorer(frame):
    X, y = frame
    search = GridSearchCV(
        GroupedLGBMRanker(n_estimators=10, n_jobs=1, random_state=0),
        {"num_leaves": [4, 16]},
        scoring=make_ranking_scorer("ndcg", k=10),
        cv=StratifiedUserKFold(n_splits=2, shuffle=True, random_state=0),
    ).fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    pipe = make_pipeline(GroupedLGBMRanker(**KW)).fit(X, y)
    assert pipe.predict(X).shape == (len(X),)


def test_early_stopping_holds_out_whole_queries(graded):
    X, y = graded
    ranker = GroupedLGBMRanker(
        n_estimators=300,
        learning_rate=0.3,
        early_stopping_rounds=5,
        validation_fraction=0.3,
        n_jobs=1,
        random_state=0,
    ).fit(X, y)
    assert 1 <= ranker.n_estimators_ < 300
    assert "ndcg@10" in ranker.estimator_.best_score_["valid_0"]


def test_label_and_group_errors(frame):
    X, y = frame
    with pytest.raises(ValueError, match="graded relevance"):
        GroupedLGBMRanker(**KW).fit(X, y - 0.5)
    with pytest.raises(ValueError, match="graded relevance"):
        GroupedLGBMRanker(**KW).fit(X, y * 40)
    with pytest.raises(ValueError, match="group_col='session' is not a column"):
        GroupedLGBMRanker(group_col="session", **KW).fit(X, y)
    with pytest.raises(TypeError, match="needs X to be a DataFrame"):
        GroupedLGBMRanker(**KW).fit(X[["price", "position"]].to_numpy(), y)
    ok = GroupedLGBMRanker(label_gain=[0, 1, 3], **KW).fit(X, np.minimum(y * 2, 2))
    assert ok.booster_.params["label_gain"] == [0, 1, 3]


def test_pickle(graded):
    X, y = graded
    ranker = GroupedLGBMRanker(**KW).fit(X, y)
    loaded = pickle.loads(pickle.dumps(ranker))
    np.testing.assert_array_equal(ranker.predict(X), loaded.predict(X))


def test_movielens_graded_ratings():
    if not os.environ.get("SKLEARN_RECSYS_DATA"):
        pytest.skip("SKLEARN_RECSYS_DATA is not set: MovieLens-100k is not available")
    from sklearn_recsys.datasets import load_movielens
    from sklearn_recsys.model_selection import user_temporal_split

    ml = load_movielens(download_if_missing=False)
    df = ml.interactions.iloc[:30000]
    X = df[["user_id", "item_id"]].join(ml.item_info[["year"]], on="item_id")
    y = df["rating"].to_numpy() - 1  # grades 0 .. 4
    X_tr, X_te, y_tr, y_te = user_temporal_split(X.assign(timestamp=df["timestamp"]), y)
    X_tr, X_te = X_tr.drop(columns="timestamp"), X_te.drop(columns="timestamp")
    ranker = GroupedLGBMRanker(n_estimators=30, n_jobs=1, random_state=0).fit(X_tr, y_tr)
    assert ranker.categorical_features_ == ["item_id"]
    chance = np.mean(
        [
            ndcg_at_k(
                y_te,
                np.random.default_rng(s).random(len(y_te)),
                groups=X_te["user_id"],
                gain="exponential",
            )
            for s in range(5)
        ]
    )
    assert ranker.score(X_te, y_te) > chance + 0.02


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"subsample": 0.7, "subsample_freq": 1, "colsample_bytree": 0.5, "reg_lambda": 1.0},
    ],
)
def test_same_predictions_as_lgbmranker(graded, params):
    # numeric features and the same groups: the wrapper is LightGBM's own ranker
    X, y = graded
    order = np.argsort(pd.factorize(X["user_id"])[0], kind="stable")
    Xs, ys = X.iloc[order], y[order]
    num = Xs[["user_id", "price", "position", "timestamp"]]
    ours = GroupedLGBMRanker(**KW, **params).fit(num, ys)
    sizes = Xs.groupby("user_id", sort=False).size().to_numpy()
    feats = num.drop(columns="user_id")
    ref = lightgbm.LGBMRanker(verbose=-1, **KW, **params).fit(feats, ys, group=sizes)
    np.testing.assert_allclose(ours.predict(num), ref.predict(feats))
    assert ours.get_params()["objective"] is None  # LightGBM's default: lambdarank


def test_id_columns_and_group_col_by_any_name(graded):
    X, y = graded
    ref = GroupedLGBMRanker(**KW).fit(X, y)
    renamed = X.rename(columns={"user_id": "uid", "item_id": "iid"})
    ours = GroupedLGBMRanker(group_col="uid", user_col="uid", item_col="iid", **KW)
    ours.fit(renamed, y)
    assert ours.categorical_features_ == ["iid", "category"]
    np.testing.assert_array_equal(ours.predict(renamed), ref.predict(X))
    # positions in an array: the group column and the item ids
    A = X[["user_id", "item_id", "price"]].to_numpy(dtype=float)
    by_pos = GroupedLGBMRanker(group_col=0, item_col=1, **KW).fit(A, y)
    assert by_pos.categorical_features_ == [1] and by_pos.n_groups_ == X["user_id"].nunique()
    by_name = GroupedLGBMRanker(**KW).fit(X[["user_id", "item_id", "price"]], y)
    np.testing.assert_array_equal(
        by_pos.predict(A), by_name.predict(X[["user_id", "item_id", "price"]])
    )
    assert by_pos.score(A, y) == pytest.approx(by_name.score(X[["user_id", "item_id", "price"]], y))


def test_verbose_minus_one_and_kwargs(graded, capfd):
    X, y = graded
    ranker = GroupedLGBMRanker(verbose=-1, lambdarank_truncation_level=5, **KW).fit(X, y)
    assert "[LightGBM]" not in capfd.readouterr().out
    assert ranker.booster_.params["lambdarank_truncation_level"] == 5
