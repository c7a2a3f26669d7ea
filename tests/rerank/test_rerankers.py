"""Re-rankers: trade-off 0 is the input order; the long-tail terms do what they say."""

import numpy as np
import pandas as pd
import pytest

from sklearn_recsys.datasets import make_interactions
from sklearn_recsys.recommend import evaluate_topk, recommend
from sklearn_recsys.rerank import (
    CalibratedReranker,
    MMRReranker,
    PopularityPenaltyReranker,
    XQuADReranker,
)
from sklearn_recsys.retrieval import EASERecommender


@pytest.fixture(scope="module")
def setup():
    d = make_interactions(n_users=150, n_items=100, n_interactions=6000, random_state=0)
    X = d.interactions.drop_duplicates(["user_id", "item_id"]).reset_index(drop=True)
    test = X.groupby("user_id").tail(3)
    train = X.drop(test.index)
    ease = EASERecommender(l2=20.0).fit(train)
    cats = pd.get_dummies(d.item_info["category"]).astype(float)
    return train, test, ease, cats


def _all(cats, w):
    return [
        PopularityPenaltyReranker(w),
        XQuADReranker(w),
        XQuADReranker(w, variant="binary"),
        CalibratedReranker(w),
        CalibratedReranker(w, item_categories=cats),
        MMRReranker(w, n_components=8, random_state=0),
    ]


def test_weight_zero_returns_the_input_order(setup):
    train, test, ease, cats = setup
    users, items = test["user_id"].unique(), train["item_id"].unique()
    plain = recommend(ease, users, items, k=10, exclude=train)
    base = evaluate_topk(ease, train, test, k=10)
    for rr in _all(cats, 0.0):
        rr.fit(train)
        got = recommend(ease, users, items, k=10, exclude=train, reranker=rr)
        pd.testing.assert_frame_equal(got, plain)
        # the long-table entry point agrees
        wide = recommend(ease, users, items, k=100, exclude=train)
        pd.testing.assert_frame_equal(rr.rerank(wide, k=10), plain)
        res = evaluate_topk(ease, train, test, k=10, reranker=rr)
        np.testing.assert_allclose(res["value"], base["value"], atol=1e-12)


def _aplt(rr, recs):
    return rr._is_tail(recs["item_id"].to_numpy()).mean()


def test_long_tail_rerankers_raise_tail_exposure(setup):
    train, test, ease, cats = setup
    users, items = test["user_id"].unique(), train["item_id"].unique()
    plain = recommend(ease, users, items, k=10, exclude=train)
    for cls in (PopularityPenaltyReranker, XQuADReranker, CalibratedReranker):
        lo, hi = cls(0.0).fit(train), cls(0.9).fit(train)
        assert _aplt(hi, recommend(ease, users, items, k=10, exclude=train, reranker=hi)) > (
            _aplt(lo, plain) + 0.05
        ), cls.__name__
    # weight 1: the popularity penalty alone orders the candidates, least popular first
    rr = PopularityPenaltyReranker(1.0, n_candidates=20).fit(train)
    got = recommend(ease, users[:5], items, k=20, exclude=train, reranker=rr)
    counts = rr.item_counts_.reindex(got["item_id"]).fillna(0).to_numpy()
    for u in range(5):
        c = counts[got["user_id"].to_numpy() == users[u]]
        assert (np.diff(c) >= 0).all()


def test_calibration_and_diversity_objectives_improve(setup):
    train, test, ease, cats = setup
    users, items = test["user_id"].unique(), train["item_id"].unique()

    def kl(rr, recs):
        prof = rr.user_profile_
        q = cats.reindex(recs["item_id"]).to_numpy()
        q = (
            pd.DataFrame(q / q.sum(axis=1, keepdims=True))
            .groupby(recs["user_id"].to_numpy())
            .mean()
        )
        p = prof.reindex(q.index).to_numpy()
        qq = 0.99 * q.to_numpy() + 0.01 * p
        with np.errstate(all="ignore"):
            return np.nansum(np.where(p > 0, p * np.log(p / qq), 0), axis=1).mean()

    lo = CalibratedReranker(0.0, item_categories=cats).fit(train)
    hi = CalibratedReranker(0.8, item_categories=cats).fit(train)
    assert kl(hi, recommend(ease, users, items, k=10, exclude=train, reranker=hi)) < 0.8 * kl(
        lo, recommend(ease, users, items, k=10, exclude=train, reranker=lo)
    )

    def intra(rr, recs):
        e = rr.embeddings_.reindex(recs["item_id"]).to_numpy()
        sims = []
        for u in recs["user_id"].unique():
            v = e[recs["user_id"].to_numpy() == u]
            s = v @ v.T
            sims.append(s[np.triu_indices(len(v), 1)].mean())
        return np.mean(sims)

    lo = MMRReranker(0.0, n_components=8, random_state=0).fit(train)
    hi = MMRReranker(0.7, n_components=8, random_state=0).fit(train)
    assert intra(hi, recommend(ease, users, items, k=10, exclude=train, reranker=hi)) < intra(
        lo, recommend(ease, users, items, k=10, exclude=train, reranker=lo)
    )


def test_evaluate_topk_metrics_follow_the_reranked_lists(setup):
    train, test, ease, cats = setup
    rr = XQuADReranker(0.8).fit(train)
    res, recs = evaluate_topk(
        ease, train, test, k=[5, 10], reranker=rr, return_recommendations=True
    )
    users = pd.unique(test["user_id"])
    items = pd.unique(np.concatenate([train["item_id"], test["item_id"]]))
    ref = recommend(ease, users, items, k=10, exclude=train, reranker=rr)
    pd.testing.assert_frame_equal(recs.reset_index(drop=True), ref, check_dtype=False)
    # recall@10 by hand on the re-ranked lists
    rel = set(zip(test["user_id"], test["item_id"]))
    hits = ref.assign(hit=[(u, i) in rel for u, i in zip(ref["user_id"], ref["item_id"])])
    n_rel = test.groupby("user_id").size()
    by_hand = (
        hits.groupby("user_id")["hit"].sum() / n_rel.reindex(hits["user_id"].unique())
    ).mean()
    val = res[(res["metric"] == "recall") & (res["k"] == 10)]["value"].item()
    assert val == pytest.approx(by_hand)
    # an unfitted re-ranker is fitted on X_train
    res2 = evaluate_topk(ease, train, test, k=[5, 10], reranker=XQuADReranker(0.8))
    np.testing.assert_allclose(res2["value"], res["value"])


def test_errors(setup):
    train, _, ease, _ = setup
    with pytest.raises(ValueError, match="'weight' parameter"):
        XQuADReranker(weight=1.5).fit(train)
    with pytest.raises(ValueError, match="user_col='uid'"):
        XQuADReranker(user_col="uid").fit(train)
    with pytest.raises(Exception, match="not fitted"):
        recommend(ease, [1], [1, 2], reranker=XQuADReranker())
    with pytest.raises(ValueError, match="scores has shape"):
        XQuADReranker().fit(train).rerank_scores([1], [1, 2], np.zeros((2, 2)))


def test_id_columns_by_name_position_or_category(setup):
    train = setup[0][["user_id", "item_id"]]
    ref = XQuADReranker().fit(train)
    for est, X in [
        (
            XQuADReranker(user_col="uid", item_col="iid"),
            train.rename(columns={"user_id": "uid", "item_id": "iid"}),
        ),
        (XQuADReranker(user_col=1, item_col=0), train[["item_id", "user_id"]].to_numpy()),
        (XQuADReranker(), train.astype("category")),
    ]:
        est.fit(X)
        np.testing.assert_array_equal(est.item_counts_.to_numpy(), ref.item_counts_.to_numpy())
        assert list(est.head_items_) == list(ref.head_items_)
        assert est.tail_share_ == ref.tail_share_
    with pytest.raises(ValueError, match="user_col and item_col must differ"):
        XQuADReranker(item_col="user_id").fit(train)
