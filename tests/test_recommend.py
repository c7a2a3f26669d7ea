"""recommend / evaluate_topk."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator

from sklearn_recsys.dummy import PopularityRecommender
from sklearn_recsys.metrics import long_tail_report, ranking_scores, tail_recall_at_k
from sklearn_recsys.recommend import evaluate_topk, recommend


class HashScorer(BaseEstimator):
    """Deterministic score of (user, item) pairs; records the batch sizes it saw."""

    def fit(self, X, y=None):
        self.batches_ = []
        return self

    def predict(self, X):
        self.batches_.append(len(X))
        u = X["user_id"].to_numpy().astype(np.int64)
        i = X["item_id"].to_numpy().astype(np.int64)
        return ((u * 7919 + i * 104729) % 1000) / 1000.0


class Oracle(BaseEstimator):
    """Scores the held-out pairs 1, every other pair 0."""

    def __init__(self, pairs=None):
        self.pairs = pairs

    def fit(self, X=None, y=None):
        self.known_ = set(map(tuple, self.pairs))
        return self

    def predict(self, X):
        return np.array([float((u, i) in self.known_) for u, i in zip(X["user_id"], X["item_id"])])


def _brute_force(scores_of, users, items, k, exclude=()):
    rows = []
    for u in users:
        cand = [(i, scores_of(u, i)) for i in items if (u, i) not in exclude]
        cand.sort(key=lambda t: -t[1])  # stable: ties keep the order of items
        rows += [(u, i, s, r + 1) for r, (i, s) in enumerate(cand[:k])]
    return pd.DataFrame(rows, columns=["user_id", "item_id", "score", "rank"])


def test_recommend_matches_brute_force_and_batches():
    users, items = [3, 1, 2], list(range(20))
    train = pd.DataFrame({"user_id": [3, 3, 1], "item_id": [5, 7, 0]})
    est = HashScorer().fit(None)

    def scores_of(u, i):
        return ((u * 7919 + i * 104729) % 1000) / 1000.0

    expected = _brute_force(scores_of, users, items, 4, exclude={(3, 5), (3, 7), (1, 0)})
    for batch_size in (7, 40, 1_000_000):
        est.batches_ = []
        got = recommend(est, users, items, k=4, exclude=train, batch_size=batch_size)
        pd.testing.assert_frame_equal(got, expected, check_dtype=False)
        assert max(est.batches_) <= max(batch_size, len(items))
    assert len(recommend(est, users, items, k=25)) == 60  # k > catalog: all items


def test_recommend_joins_side_tables_and_make_rows():
    class PriceScorer(BaseEstimator):
        def fit(self, X=None, y=None):
            return self

        def predict(self, X):
            assert list(X.columns) == ["user_id", "item_id", "age", "price", "position"]
            return X["price"].to_numpy() * (X["age"].to_numpy() > 30) - X["position"]

    item_info = pd.DataFrame({"price": [5.0, 9.0, 1.0]}, index=pd.Index([10, 11, 12]))
    user_info = pd.DataFrame({"age": [20, 40]}, index=pd.Index(["a", "b"]))
    out = recommend(
        PriceScorer().fit(),
        ["a", "b"],
        [10, 11, 12],
        k=1,
        item_features=item_info,
        user_features=user_info,
        make_rows=lambda f: f.assign(position=1),
    )
    assert out["item_id"].tolist() == [10, 11]  # a: all -1 -> first item; b: most expensive
    with pytest.raises(ValueError, match="make_rows"):
        recommend(
            PriceScorer().fit(),
            ["a"],
            [10, 11],
            k=1,
            item_features=item_info,
            user_features=user_info,
            make_rows=lambda f: f.iloc[:1],
        )


@pytest.fixture(scope="module")
def split():
    from sklearn_recsys.datasets import make_interactions

    X = make_interactions(n_users=80, n_items=60, n_interactions=3000, random_state=0).interactions
    X = X.drop_duplicates(["user_id", "item_id"]).reset_index(drop=True)
    test = X.groupby("user_id").tail(3)
    train = X.drop(test.index)
    return train, test


def _candidates(train, test, grades=1.0):
    """By hand: every (test user, catalog item) pair not in train, and its relevance."""
    catalog = pd.unique(np.concatenate([train["item_id"], test["item_id"]]))
    users = test["user_id"].unique()
    grid = pd.DataFrame(
        {"user_id": np.repeat(users, len(catalog)), "item_id": np.tile(catalog, len(users))}
    )
    seen = (
        grid.merge(train[["user_id", "item_id"]].drop_duplicates(), how="left", indicator=True)[
            "_merge"
        ]
        .eq("both")
        .to_numpy()
    )
    grid = grid[~seen]
    rel = grid.merge(test[["user_id", "item_id"]].assign(rel=grades), how="left")["rel"]
    return grid, rel.fillna(0).to_numpy(), users, catalog


def test_evaluate_topk_equals_metrics_on_all_candidates(split):
    train, test = split
    est = HashScorer().fit(None)
    res = evaluate_topk(est, train, test, k=[5, 10], batch_size=500).set_index(["metric", "k"])
    grid, y, users, catalog = _candidates(train, test)
    s = est.predict(grid)
    for k in (5, 10):
        ref = ranking_scores(y, s, groups=grid["user_id"], k=k)
        for m in ("ndcg", "recall", "precision", "hit_rate", "map"):
            assert res.loc[(m, k), "value"] == pytest.approx(ref[f"{m}@{k}"], abs=1e-12)
        assert res.loc[(m, k), "n_users"] == ref["n_groups_evaluated"] == len(users)
    assert res.loc[("mrr", pd.NA), "value"].item() == pytest.approx(ref["mrr"], abs=1e-12)
    for k in (5, 10):  # on the same ranking, head items competing for the top k
        tail = tail_recall_at_k(
            y, s, groups=grid["user_id"], items=grid["item_id"], train=train, k=k
        )
        assert res.loc[("tail_recall", k), "value"] == pytest.approx(tail, abs=1e-12)
    recs = recommend(est, users, catalog, k=10, exclude=train)
    lt = long_tail_report(recs, train, catalog=catalog, k=10)
    for name, v in lt.items():
        assert res.loc[(name.split("@")[0], 10), "value"] == pytest.approx(v)


def test_evaluate_topk_oracle_and_floor(split):
    train, test = split
    oracle = Oracle(pairs=test[["user_id", "item_id"]].to_numpy().tolist()).fit()
    res = evaluate_topk(oracle, train, test, k=3).set_index("metric")["value"]
    assert res["ndcg"] == pytest.approx(1.0) and res["recall"] == pytest.approx(1.0)
    assert res["mrr"] == pytest.approx(1.0)
    pop = PopularityRecommender().fit(train)
    floor = evaluate_topk(pop, train, test, k=3).set_index("metric")["value"]
    assert floor["ndcg"] < 1.0
    assert floor["aplt"] == 0.0  # popularity recommends only head items
    # a relevant item outside the catalog counts as missed
    items = np.setdiff1d(pd.unique(train["item_id"]), test["item_id"].iloc[:1])
    res = evaluate_topk(oracle, train, test, k=3, items=items).set_index("metric")["value"]
    assert res["recall"] < 1.0


@pytest.mark.parametrize("ties", ["pessimistic", "stable", "optimistic"])
def test_evaluate_topk_ties(split, ties):
    train, test = split
    est = HashScorer().fit(None)
    est.predict = lambda X: np.round(HashScorer.predict(est, X), 1)  # many equal scores
    grades = np.tile([3.0, 1.0, 2.0], len(test))[: len(test)]
    res = evaluate_topk(est, train, test, grades, k=5, ties=ties).set_index("metric")
    grid, y, _, _ = _candidates(train, test, grades)
    ref = ranking_scores(y, est.predict(grid), groups=grid["user_id"], k=5, ties=ties)
    for m in ("ndcg", "recall", "map", "mrr"):
        name = m if m == "mrr" else f"{m}@5"
        assert res.loc[m, "value"] == pytest.approx(ref[name], abs=1e-12)


class MissingScorer(BaseEstimator):
    """Scores every item by its id, except item 2: ``-inf``, never retrieved (as a retriever
    scores an item it did not see in fit)."""

    def fit(self, X=None, y=None):
        return self

    def predict(self, X):
        i = X["item_id"].to_numpy().astype(float)
        return np.where(i == 2, -np.inf, i)


def test_relevant_items_that_are_no_candidate_count_as_missed():
    train = pd.DataFrame({"user_id": [1, 1], "item_id": [0, 1]})
    est = MissingScorer().fit()
    # item 2 is relevant but scored -inf: missed, though the catalog is shorter than k
    test = pd.DataFrame({"user_id": [1, 1], "item_id": [2, 3]})
    res = evaluate_topk(est, train, test, k=10).set_index("metric")["value"]
    assert res["recall"] == 0.5 and res["mrr"] == 1.0
    # item 1 is relevant again but seen in training (excluded): missed, never in the top 10
    test = pd.DataFrame({"user_id": [1, 1], "item_id": [1, 3]})
    res = evaluate_topk(est, train, test, k=10).set_index("metric")["value"]
    assert res["recall"] == 0.5 and res["precision"] == 0.1
    assert res["ndcg"] == pytest.approx(1 / (1 + 1 / np.log2(3)))
    # a user whose every candidate is excluded still counts, with zeros
    test = pd.DataFrame({"user_id": [1, 2], "item_id": [1, 0]})
    res = evaluate_topk(est, train, test, k=10, items=[0, 1, 2]).set_index("metric")
    assert res.loc["recall", "value"] == 0.5 and res.loc["recall", "n_users"] == 2


def test_evaluate_topk_graded_and_errors(split):
    train, test = split
    oracle = Oracle(pairs=test[["user_id", "item_id"]].to_numpy().tolist()).fit()
    grades = np.tile([3.0, 1.0, 0.0], len(test))[: len(test)]
    res = evaluate_topk(oracle, train, test, grades, k=2).set_index("metric")["value"]
    assert res["ndcg"] < 1.0  # oracle ties the grades: pessimistic ties put grade 1 first
    with pytest.raises(ValueError, match="no relevant row"):
        evaluate_topk(oracle, train, test, np.zeros(len(test)))
    with pytest.raises(ValueError, match="y_test has"):
        evaluate_topk(oracle, train, test, np.ones(3))
    with pytest.raises(ValueError, match="user_col='uid'"):
        evaluate_topk(oracle, train, test, user_col="uid")
    with pytest.raises(ValueError, match="'k' parameter"):
        evaluate_topk(oracle, train, test, k=0)


@pytest.mark.slow
def test_popularity_floor_on_movielens(movielens):
    X = movielens.interactions
    rng = np.random.default_rng(0)
    test_mask = rng.random(len(X)) < 0.25
    train, test = X[~test_mask], X[test_mask]
    pop = PopularityRecommender().fit(train)
    res = evaluate_topk(pop, train, test, k=10).set_index("metric")
    v = res["value"]
    assert res.loc["ndcg", "n_users"] > 900
    # the popularity floor on MovieLens-100k full ranking: clearly above chance, far below 1
    assert 0.1 < v["ndcg"] < 0.4 and 0.05 < v["recall"] < 0.3
    assert v["coverage"] < 0.1 and v["aplt"] == 0.0


class GridScorer(HashScorer):
    """HashScorer with a score_matrix: recommend must use it, with the excluded pairs."""

    def score_matrix(self, users, items, exclude=None):
        self.grids_.append((len(users), len(items), int(exclude.sum())))
        u = np.asarray(users, dtype=np.int64)[:, None]
        i = np.asarray(items, dtype=np.int64)[None, :]
        return ((u * 7919 + i * 104729) % 1000) / 1000.0


def test_recommend_uses_score_matrix_and_matches_rows():
    users, items = [3, 1, 2], list(range(20))
    train = pd.DataFrame({"user_id": [3, 3, 1], "item_id": [5, 7, 0]})
    est = GridScorer().fit(None)
    est.grids_ = []
    grid = recommend(est, users, items, k=4, exclude=train, batch_size=40)
    assert est.grids_ == [(2, 20, 3), (1, 20, 0)] and est.batches_ == []
    rows = recommend(est, users, items, k=4, exclude=train, make_rows=lambda f: f)
    assert est.batches_  # make_rows asks for candidate rows: predict is used
    pd.testing.assert_frame_equal(grid, rows)
