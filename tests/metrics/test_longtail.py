"""Long-tail and popularity-bias metrics: the head / tail rule, closed forms, anchors."""

import math
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_recsys.metrics import (
    average_percentage_long_tail,
    average_recommendation_popularity,
    gini_index,
    item_coverage,
    long_tail_report,
    novelty,
    popularity_buckets,
    recall_at_k,
    shannon_entropy,
    tail_recall_at_k,
)

# train: item 1 = 50 %, 2 = 20 %, 3 = 10 %, 4 = 10 %, 5 = 10 %  -> head = {1, 2, 3}
TRAIN = pd.DataFrame(
    {
        "user_id": [1, 2, 3, 4, 5, 1, 2, 1, 3, 4],
        "item_id": [1, 1, 1, 1, 1, 2, 2, 3, 4, 5],
    }
)
RECS = [[1, 4], [5, 6]]  # two users, k = 2; item 6 is unseen in training


def test_head_tail_rule():
    assert popularity_buckets([1, 2, 3, 4, 5, 6], TRAIN).tolist() == [
        "head",
        "head",
        "head",
        "tail",
        "tail",
        "tail",
    ]
    assert popularity_buckets([1, 2, 3, 4], TRAIN, cutoffs=(0.5, 0.8)).tolist() == [
        "head",
        "mid",
        "mid",
        "tail",
    ]
    assert popularity_buckets(
        [1, 4], TRAIN["item_id"].to_numpy(), cutoffs=(0.6,), labels=["H", "T"]
    ).tolist() == ["H", "T"]


def test_head_rule_matches_interaction_featurizer(small_interactions):
    from sklearn_recsys.features import InteractionFeaturizer

    X = small_interactions.interactions
    feat = InteractionFeaturizer(target_rates=False, n_factors=0).fit(X)
    items = feat.item_indexer_.ids_.to_numpy()
    ours = popularity_buckets(items, X) == "head"
    np.testing.assert_array_equal(ours, feat.item_is_head_[1:])


def test_closed_forms():
    assert item_coverage(RECS, catalog=[1, 2, 3, 4, 5, 6, 7, 8], k=2) == 0.5
    assert item_coverage(RECS, catalog=8, k=1) == 0.25
    # phi: 1 -> 5, 4 -> 1, 5 -> 1, 6 -> 0
    assert average_recommendation_popularity(RECS, TRAIN, k=2) == pytest.approx(
        ((5 + 1) / 2 + (1 + 0) / 2) / 2
    )
    assert average_percentage_long_tail(RECS, TRAIN, k=2) == pytest.approx((0.5 + 1.0) / 2)
    assert average_percentage_long_tail(RECS, TRAIN, k=2, head_share=0.4) == pytest.approx(
        (0.5 + 1.0) / 2
    )
    assert average_percentage_long_tail(RECS, tail_items=[6], k=2) == pytest.approx(0.25)
    assert shannon_entropy(RECS, k=2) == pytest.approx(math.log(4))
    assert shannon_entropy([[1, 1], [1, 2]], k=2) == pytest.approx(
        -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    )
    # 5 training users; item 1 seen by 5, item 4 by 1, item 5 by 1, item 6 unseen (as 1)
    expected = ((0 + math.log2(5)) / 2 + (math.log2(5) + math.log2(5)) / 2) / 2
    assert novelty(RECS, TRAIN, k=2) == pytest.approx(expected)


def test_gini_closed_form_and_recbole_formula():
    assert gini_index([[1], [2], [3]], catalog=3, k=1) == pytest.approx(0.0)
    assert gini_index([[1], [1], [1]], catalog=3, k=1) == pytest.approx(2 / 3)
    rng = np.random.default_rng(0)
    matrix = rng.integers(0, 30, size=(50, 10))
    # RecBole's GiniIndex.get_gini, written out
    count = np.array(sorted(Counter(matrix.ravel()).values()))
    n = 40
    idx = np.arange(n - len(count) + 1, n + 1)
    recbole = np.sum((2 * idx - n - 1) * count) / matrix.size / n
    assert gini_index(matrix, catalog=np.arange(n), k=10) == pytest.approx(recbole)


def test_entropy_differs_from_recbole_by_the_distinct_count():
    rng = np.random.default_rng(1)
    matrix = rng.integers(0, 30, size=(50, 10))
    counts = np.array(list(Counter(matrix.ravel()).values())) / matrix.size
    recbole = -np.sum(counts * np.log(counts)) / len(counts)
    assert shannon_entropy(matrix, k=10) == pytest.approx(recbole * len(counts))


def test_frame_and_array_inputs_agree_and_rank_is_used():
    frame = pd.DataFrame(
        {"user_id": ["a", "a", "b", "b"], "item_id": [4, 1, 6, 5], "rank": [2, 1, 2, 1]}
    )
    for k in (1, 2):
        assert average_recommendation_popularity(frame, TRAIN, k=k) == pytest.approx(
            average_recommendation_popularity(RECS, TRAIN, k=k)
        )
        assert novelty(frame, TRAIN, k=k) == pytest.approx(novelty(RECS, TRAIN, k=k))
    # without a rank column the row order within each user is the ranking
    no_rank = frame.drop(columns="rank").iloc[[1, 0, 3, 2]]
    assert average_percentage_long_tail(no_rank, TRAIN, k=1) == pytest.approx(
        average_percentage_long_tail(RECS, TRAIN, k=1)
    )


def test_tail_recall():
    y = [1, 1, 1, 1]
    s = [0.9, 0.8, 0.7, 0.6]
    g = [0, 0, 0, 0]
    items = [1, 4, 2, 5]  # 4 and 5 are tail
    assert tail_recall_at_k(y, s, groups=g, items=items, train=TRAIN, k=2) == 0.5
    assert tail_recall_at_k(y, s, groups=g, items=items, train=TRAIN, k=4) == 1.0
    # a user without relevant tail items is left out
    assert (
        tail_recall_at_k([1, 1, 0, 1], s, groups=[0, 0, 1, 1], items=[1, 4, 2, 5], train=TRAIN, k=1)
        == 0.0
    )
    assert math.isnan(tail_recall_at_k([1], [0.5], groups=[0], items=[1], train=TRAIN))
    # equals recall on the tail rows when every relevant item is a tail item
    assert tail_recall_at_k(
        [0, 1, 0, 1], s, groups=g, items=items, train=TRAIN, k=2
    ) == recall_at_k([0, 1, 0, 1], s, groups=g, k=2)


def test_report():
    r = long_tail_report(RECS, TRAIN, catalog=[1, 2, 3, 4, 5, 6], k=2)
    assert r["coverage@2"] == pytest.approx(4 / 6)
    assert r["aplt@2"] == pytest.approx(0.75)
    assert r["novelty@2"] == pytest.approx(novelty(RECS, TRAIN, k=2))
    assert set(r) == {"coverage@2", "arp@2", "aplt@2", "gini@2", "entropy@2", "novelty@2"}


@settings(max_examples=50, deadline=None)
@given(
    matrix=st.lists(st.lists(st.integers(0, 15), min_size=3, max_size=3), min_size=1, max_size=20),
    k=st.integers(1, 3),
)
def test_properties(matrix, k):
    m = np.array(matrix)
    catalog = np.arange(16)
    assert 0 < item_coverage(m, catalog=catalog, k=k) <= 1
    assert 0 <= gini_index(m, catalog=catalog, k=k) <= 1 - 1 / 16 + 1e-12
    assert 0 <= shannon_entropy(m, k=k) <= math.log(min(16, m[:, :k].size)) + 1e-12
    assert 0 <= average_percentage_long_tail(m, TRAIN, k=k) <= 1
    # users are exchangeable: shuffling the lists changes nothing
    perm = np.random.default_rng(0).permutation(len(m))
    assert gini_index(m[perm], catalog=catalog, k=k) == pytest.approx(
        gini_index(m, catalog=catalog, k=k)
    )
    assert novelty(m[perm], TRAIN, k=k) == pytest.approx(novelty(m, TRAIN, k=k))


def test_bad_input():
    with pytest.raises(ValueError, match="not in the catalog"):
        item_coverage(RECS, catalog=[1, 4, 5], k=2)
    with pytest.raises(ValueError, match="2-d array"):
        gini_index([1, 2, 3], catalog=3)
    with pytest.raises(ValueError, match="empty"):
        shannon_entropy(pd.DataFrame({"user_id": [], "item_id": []}))
    with pytest.raises(ValueError, match="item_col='item'"):
        average_recommendation_popularity(RECS, TRAIN, item_col="item")
    with pytest.raises(ValueError, match="'k' parameter"):
        item_coverage(RECS, catalog=8, k=0)
    with pytest.raises(ValueError, match="needs train"):
        average_percentage_long_tail(RECS)
    with pytest.raises(ValueError, match="cutoffs"):
        popularity_buckets([1], TRAIN, cutoffs=(0.8, 0.5))
    with pytest.raises(ValueError, match="labels"):
        popularity_buckets([1], TRAIN, labels=["a", "b", "c"])
    with pytest.raises(ValueError, match="missing"):
        shannon_entropy([[1, None]], k=2)
