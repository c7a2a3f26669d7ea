"""EASE, item kNN, ALS / BPR (implicit) and the two-tower retriever."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from sklearn_recsys.datasets import make_interactions
from sklearn_recsys.dummy import PopularityRecommender
from sklearn_recsys.recommend import evaluate_topk, recommend
from sklearn_recsys.retrieval import (
    ALSRecommender,
    BPRRecommender,
    EASERecommender,
    ItemKNNRecommender,
    TwoTowerRetriever,
)


@pytest.fixture(scope="module")
def split():
    X = make_interactions(n_users=120, n_items=60, n_interactions=4000, random_state=0).interactions
    X = X.drop_duplicates(["user_id", "item_id"]).reset_index(drop=True)
    test = X.groupby("user_id").tail(3)
    return X.drop(test.index), test


def _matrix(train):
    users = np.sort(train["user_id"].unique())
    items = np.sort(train["item_id"].unique())
    R = np.zeros((len(users), len(items)))
    R[np.searchsorted(users, train["user_id"]), np.searchsorted(items, train["item_id"])] = 1
    return R, users, items


def test_ease_equals_per_column_ridge_closed_form(split):
    train, _ = split
    lam = 25.0
    ease = EASERecommender(l2=lam).fit(train)
    R, users, items = _matrix(train)
    # independent derivation: column j is a ridge regression of item j on the other items
    B = np.zeros((R.shape[1], R.shape[1]))
    for j in range(R.shape[1]):
        o = np.delete(np.arange(R.shape[1]), j)
        A = R[:, o]
        B[o, j] = np.linalg.solve(A.T @ A + lam * np.eye(len(o)), A.T @ R[:, j])
    np.testing.assert_allclose(ease.coef_, B, atol=1e-8)
    np.testing.assert_array_equal(ease.item_index_.to_numpy(), items)
    np.testing.assert_allclose(ease.score_matrix(users), R @ B, atol=1e-8)
    rows = train.sample(50, random_state=0)
    expected = (R @ B)[
        np.searchsorted(users, rows["user_id"]), np.searchsorted(items, rows["item_id"])
    ]
    np.testing.assert_allclose(ease.predict(rows), expected, atol=1e-8)


def test_item_knn_matches_brute_force_cosine(split):
    train, _ = split
    R, users, items = _matrix(train)
    knn = ItemKNNRecommender(n_neighbors=1000, shrinkage=5.0).fit(train)
    norms = np.linalg.norm(R, axis=0)
    S = R.T @ R / (norms[:, None] * norms[None, :] + 5.0 + 1e-12)
    np.fill_diagonal(S, 0)
    np.testing.assert_allclose(knn.similarity_.toarray(), S, atol=1e-12)
    np.testing.assert_allclose(knn.score_matrix(users[:5]), R[:5] @ S, atol=1e-12)
    # with 3 neighbours each item keeps its 3 most similar items
    sparse = ItemKNNRecommender(n_neighbors=3, shrinkage=5.0).fit(train).similarity_
    assert (np.diff(sparse.tocsc().indptr) <= 3).all()
    col = sparse.toarray()[:, 0]
    np.testing.assert_allclose(np.sort(col[col > 0]), np.sort(S[:, 0])[-3:], atol=1e-12)


def test_cold_users_unknown_items_and_positive_only(split):
    train, _ = split
    y = (np.arange(len(train)) % 3 > 0).astype(int)
    ease = EASERecommender(l2=10.0).fit(train, y)
    assert ease.interactions_.sum() == y.sum()
    assert EASERecommender(l2=10.0, positive_only=False).fit(train, y).interactions_.sum() == (
        len(train)
    )
    rows = pd.DataFrame(
        {
            "user_id": [-1, -1, train.user_id.iloc[0]],
            "item_id": [train.item_id.iloc[0], "never-seen", "never-seen"],
        }
    )
    s = ease.predict(rows)
    pop = ease.item_popularity_[ease.item_index_.get_loc(train.item_id.iloc[0])]
    assert s[0] == pytest.approx(pop) and s[1] == -np.inf and s[2] == -np.inf
    with pytest.raises(ValueError, match="No positive"):
        EASERecommender().fit(train, np.zeros(len(train)))
    with pytest.raises(ValueError, match="user_col='uid'"):
        EASERecommender(user_col="uid").fit(train)
    with pytest.raises(ValueError, match="exclude must be a boolean array"):
        ease.score_matrix([1, 2], [3], exclude=np.ones((3, 3), dtype=bool))


@pytest.mark.parametrize(
    "model",
    [
        EASERecommender(l2=20.0),
        ItemKNNRecommender(n_neighbors=20),
        ALSRecommender(factors=8, iterations=5, random_state=0),
        BPRRecommender(factors=8, iterations=30, learning_rate=0.05, random_state=0),
    ],
    ids=lambda m: type(m).__name__,
)
def test_retrievers_grid_equals_rows_and_beat_chance(split, model):
    train, test = split
    model.fit(train)
    users = test["user_id"].unique()[:10]
    items = np.concatenate([train["item_id"].unique()[:30], ["never-seen"]]).astype(object)
    grid = pd.DataFrame(
        {"user_id": np.repeat(users, len(items)), "item_id": np.tile(items, len(users))}
    )
    np.testing.assert_allclose(
        model.score_matrix(users, items).ravel(), model.predict(grid), rtol=1e-10
    )
    recs = recommend(model, users, items, k=5, exclude=train)
    assert "never-seen" not in set(recs["item_id"])
    res = evaluate_topk(model, train, test, k=10).set_index("metric")["value"]
    # the synthetic log has user-item affinities: every model ranks well above random order
    assert res["recall"] > 10 / 60 * 1.1


def test_implicit_is_deterministic_and_named_in_import_error(split, monkeypatch):
    train, _ = split
    a = ALSRecommender(factors=4, iterations=3, random_state=0).fit(train)
    b = ALSRecommender(factors=4, iterations=3, random_state=0).fit(train)
    np.testing.assert_array_equal(a.item_factors_, b.item_factors_)
    monkeypatch.setitem(sys.modules, "implicit.cpu", None)
    with pytest.raises(ImportError, match=r"sklearn-recsys\[retrieval\]"):
        ALSRecommender().fit(train)


def test_two_tower_logq_and_determinism(split):
    train, test = split
    kw = dict(embedding_dim=8, max_epochs=4, batch_size=128, lr=0.02, random_state=0)
    a = TwoTowerRetriever(**kw).fit(train)
    b = TwoTowerRetriever(**kw).fit(train)
    np.testing.assert_array_equal(a.item_vectors_, b.item_vectors_)
    users = np.intersect1d(test["user_id"].unique(), train["user_id"].unique())
    np.testing.assert_allclose(
        a.score_matrix(users[:3]),
        a.user_vectors_[a.user_index_.get_indexer(users[:3])] @ a.item_vectors_.T,
    )
    assert (
        len(a.net_.history) == 4
        and a.net_.history[-1, "train_loss"] < (a.net_.history[0, "train_loss"])
    )
    no_logq = TwoTowerRetriever(logq_correction=False, **kw).fit(train)
    focal = TwoTowerRetriever(loss="focal", **kw).fit(train)
    assert not np.allclose(no_logq.item_vectors_, a.item_vectors_)
    assert not np.allclose(focal.item_vectors_, a.item_vectors_)
    # the in-batch softmax without logQ pushes popular items down: a less popular top 10
    pop = PopularityRecommender().fit(train)
    arp = {}
    for name, m in [("logq", a), ("none", no_logq)]:
        recs = recommend(m, users, train["item_id"].unique(), k=10, exclude=train)
        arp[name] = pop.predict(recs).mean()
    assert arp["none"] < arp["logq"]


@pytest.mark.parametrize(
    "model",
    [
        EASERecommender(l2=10.0),
        ItemKNNRecommender(n_neighbors=10),
        ALSRecommender(factors=4, iterations=2, random_state=0),
    ],
    ids=lambda m: type(m).__name__,
)
def test_id_columns_by_name_or_position(split, model):
    train, _ = split
    ref = clone(model).fit(train).predict(train.head(50))
    renamed = train.rename(columns={"user_id": "uid", "item_id": "iid"})
    named = clone(model).set_params(user_col="uid", item_col="iid").fit(renamed)
    np.testing.assert_array_equal(named.predict(renamed.head(50)), ref)
    ids = train[["item_id", "user_id"]].to_numpy()
    positional = clone(model).set_params(user_col=1, item_col=0).fit(ids)
    np.testing.assert_array_equal(positional.predict(ids[:50]), ref)
    with pytest.raises(ValueError, match="user_col and item_col must differ"):
        clone(model).set_params(item_col="user_id").fit(train)


def test_implicit_threads_follow_n_jobs(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    # scikit-learn's n_jobs; -1 is implicit's own "all cores", 0
    assert [BPRRecommender(n_jobs=j)._threads() for j in (None, 1, 3, -1, -2)] == [1, 1, 3, 0, 7]
    with pytest.raises(ValueError, match="n_jobs=0"):
        ALSRecommender(n_jobs=0)._threads()


def test_implicit_examples_skip_without_implicit():
    code = (
        "import sys; sys.modules['implicit'] = None; import pytest; "
        "raise SystemExit(pytest.main(['-q', '-rs', 'sklearn_recsys/retrieval/_implicit.py']))"
    )
    res = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "2 skipped" in res.stdout and "+SKIP" in res.stdout, res.stdout
