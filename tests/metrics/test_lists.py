"""ranking_scores_from_lists: the ranking metrics of served lists."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_recsys.metrics import RANKING_METRICS, ranking_scores, ranking_scores_from_lists


def _lists_of(frame, k=None):
    """Each user's rows ranked by score (ties in row order), as a recommendations frame."""
    ranked = frame.sort_values(["user_id", "score"], ascending=[True, False], kind="stable")
    ranked = ranked.assign(rank=ranked.groupby("user_id").cumcount() + 1)
    return ranked if k is None else ranked[ranked["rank"] <= k]


def test_closed_form_binary():
    recs = pd.DataFrame(
        {"user_id": [1, 1, 1, 2, 2], "item_id": [10, 11, 12, 10, 13], "rank": [1, 2, 3, 1, 2]}
    )
    test = pd.DataFrame({"user_id": [1, 1, 2, 3], "item_id": [11, 14, 13, 10]})
    s = ranking_scores_from_lists(recs, test, k=2)
    # user 1: relevant {11 (rank 2), 14 (missed)}; user 2: {13 (rank 2)}; user 3: no list
    ndcg1 = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    ndcg2 = (1 / math.log2(3)) / 1.0
    assert s["ndcg@2"] == pytest.approx((ndcg1 + ndcg2 + 0.0) / 3)
    assert s["recall@2"] == pytest.approx((0.5 + 1.0 + 0.0) / 3)
    assert s["precision@2"] == pytest.approx((0.5 + 0.5 + 0.0) / 3)
    assert s["hit_rate@2"] == pytest.approx(2 / 3)
    assert s["map@2"] == pytest.approx((0.5 / 2 + 0.5 / 1 + 0.0) / 3)
    assert s["mrr"] == pytest.approx((0.5 + 0.5 + 0.0) / 3)
    assert (s["n_users"], s["n_users_evaluated"]) == (3, 3)


def test_mrr_reads_the_whole_list_and_k_only_cuts_the_rest():
    recs = [["a", "b", "c", "d"]]
    s = ranking_scores_from_lists(recs, [{"d"}], k=[1, 3])
    assert s == {
        "ndcg@1": 0.0,
        "ndcg@3": 0.0,
        "recall@1": 0.0,
        "recall@3": 0.0,
        "precision@1": 0.0,
        "precision@3": 0.0,
        "hit_rate@1": 0.0,
        "hit_rate@3": 0.0,
        "map@1": 0.0,
        "map@3": 0.0,
        "mrr": 0.25,
        "n_users": 1,
        "n_users_evaluated": 1,
    }


@pytest.mark.parametrize("gain", ["linear", "exponential"])
@pytest.mark.parametrize("k", [1, 3, 50])
def test_full_lists_equal_ranking_scores(gain, k):
    rng = np.random.default_rng(0)
    rows = [
        (u, i, rng.random(), float(rng.integers(0, 4)) * (rng.random() < 0.3))
        for u in range(40)
        for i in rng.choice(30, size=rng.integers(1, 30), replace=False)
    ]
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "score", "rel"])
    ref = ranking_scores(
        frame["rel"], frame["score"], groups=frame["user_id"], k=k, gain=gain, ties="stable"
    )
    recs = _lists_of(frame).sample(frac=1.0, random_state=0)  # the rank column orders them
    got = ranking_scores_from_lists(
        recs, frame[frame["rel"] > 0], k=k, gain=gain, relevance_col="rel"
    )
    for m in RANKING_METRICS:
        name = "mrr" if m == "mrr" else f"{m}@{k}"
        assert got[name] == pytest.approx(ref[name], abs=1e-12)
    assert got["n_users_evaluated"] == ref["n_groups_evaluated"]
    assert got["n_users"] == ref["n_groups"]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.integers(0, 8), st.integers(0, 2)), min_size=1, max_size=40
    ),
    st.integers(1, 6),
)
def test_property_top_k_lists_equal_ranking_scores(rows, k):
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "rel"])
    frame = frame.drop_duplicates(["user_id", "item_id"]).reset_index(drop=True)
    frame["score"] = -np.arange(len(frame), dtype=float)  # distinct: no ties
    metrics = ["ndcg", "recall", "precision", "hit_rate", "map"]
    ref = ranking_scores(
        frame["rel"], frame["score"], groups=frame["user_id"], k=k, metrics=metrics, per_group=True
    )
    got = ranking_scores_from_lists(
        _lists_of(frame, k), frame, k=k, metrics=metrics, relevance_col="rel", per_user=True
    )
    pd.testing.assert_frame_equal(
        got.sort_index(), ref.rename_axis("user_id").sort_index(), check_index_type=False
    )
    for m in metrics:
        assert ((got[f"{m}@{k}"] >= 0) & (got[f"{m}@{k}"] <= 1) | got[f"{m}@{k}"].isna()).all()


def test_per_user_and_users_without_a_list_or_relevant_item():
    recs = pd.DataFrame({"user_id": ["u", "u", "v"], "item_id": [1, 2, 1]})  # row order ranks
    test = pd.DataFrame({"user_id": ["u", "w"], "item_id": [2, 1], "grade": [2.0, 1.0]})
    frame = ranking_scores_from_lists(
        recs, test, k=2, metrics=["recall", "mrr"], relevance_col="grade", per_user=True
    )
    assert frame.index.tolist() == ["u", "v", "w"] and frame.index.name == "user_id"
    assert frame["recall@2"].tolist()[0] == 1.0 and math.isnan(frame["recall@2"].iloc[1])
    assert frame["mrr"].tolist()[::2] == [0.5, 0.0]
    assert frame["n_relevant"].tolist() == [1, 0, 1]
    s = ranking_scores_from_lists(recs, test, k=2, relevance_col="grade")
    assert (s["n_users"], s["n_users_evaluated"]) == (3, 2)


def test_duplicated_relevant_pairs_keep_the_largest_grade_and_zero_is_not_relevant():
    recs = [[1, 2, 3]]
    test = pd.DataFrame({"user_id": [0, 0, 0], "item_id": [2, 2, 3], "g": [1.0, 3.0, 0.0]})
    s = ranking_scores_from_lists(
        recs, test, k=3, metrics=["ndcg", "recall"], relevance_col="g", gain="exponential"
    )
    assert s["ndcg@3"] == pytest.approx((7 / math.log2(3)) / 7)
    assert s["recall@3"] == 1.0
    dicts = ranking_scores_from_lists(
        recs, [{2: 3.0, 3: 0.0}], k=3, metrics=["ndcg"], gain="exponential"
    )
    assert dicts["ndcg@3"] == pytest.approx(s["ndcg@3"])


def test_categorical_and_string_ids():
    recs = pd.DataFrame(
        {"user_id": pd.Categorical(["a", "a"]), "item_id": pd.Categorical(["x", "y"])}
    )
    test = pd.DataFrame({"user_id": ["a"], "item_id": ["y"]})
    assert ranking_scores_from_lists(recs, test, k=1, metrics=["recall"])["recall@1"] == 0.0
    assert ranking_scores_from_lists(recs, test, k=2, metrics=["recall"])["recall@2"] == 1.0


def test_nothing_recommended_counts_every_relevant_user_as_missed():
    empty = pd.DataFrame({"user_id": pd.Series([], dtype=int), "item_id": pd.Series([], dtype=int)})
    test = pd.DataFrame({"user_id": [1, 2], "item_id": [5, 6]})
    s = ranking_scores_from_lists(empty, test, k=5, metrics=["recall", "mrr"])
    assert s == {"recall@5": 0.0, "mrr": 0.0, "n_users": 2, "n_users_evaluated": 2}


def test_bad_input():
    recs = pd.DataFrame({"user_id": [1, 1], "item_id": [5, 5]})
    test = pd.DataFrame({"user_id": [1], "item_id": [5]})
    with pytest.raises(ValueError, match="item 5 twice for user 1"):
        ranking_scores_from_lists(recs, test)
    ok = recs.assign(item_id=[5, 6])
    with pytest.raises(ValueError, match="relevant is empty"):
        ranking_scores_from_lists(ok, test.iloc[:0])
    with pytest.raises(ValueError, match="relevance_col='g' is not a column of relevant"):
        ranking_scores_from_lists(ok, test, relevance_col="g")
    with pytest.raises(ValueError, match="user_col='uid' is not a column of recommendations"):
        ranking_scores_from_lists(ok, test, user_col="uid")
    with pytest.raises(ValueError, match="relevance_col='g' must be finite and >= 0"):
        ranking_scores_from_lists(ok, test.assign(g=-1.0), relevance_col="g")
    with pytest.raises(TypeError, match="relevant must be a DataFrame"):
        ranking_scores_from_lists(ok, [[5]])
    with pytest.raises(TypeError, match="no relevance_col"):
        ranking_scores_from_lists([[5]], [[5]], relevance_col="g")
    with pytest.raises(ValueError, match="item 'x' twice for user 'u'"):
        ranking_scores_from_lists(
            pd.DataFrame({"user_id": ["u", "u"], "item_id": ["x", "x"]}), test
        )
    with pytest.raises(ValueError, match="one row of items per user"):
        ranking_scores_from_lists([1, 2, 3], [[1]])
    with pytest.raises(ValueError, match="each of the 2 rows"):
        ranking_scores_from_lists([[1], [2]], [[1]])
    with pytest.raises(ValueError, match="metrics="):
        ranking_scores_from_lists(ok, test, metrics=["auc"])
    with pytest.raises(ValueError, match="k must be an int >= 1"):
        ranking_scores_from_lists(ok, test, k=[0, 5])
    with pytest.raises(ValueError, match="missing"):
        ranking_scores_from_lists(ok, test.assign(item_id=[None]))


def test_array_lists_with_a_frame_of_relevant_rows_by_row_number():
    test = pd.DataFrame({"user_id": [0, 1, 2], "item_id": [20, 10, 10]})
    frame = ranking_scores_from_lists(
        np.array([[10, 20], [30, 10]]), test, k=2, metrics=["mrr"], per_user=True
    )
    assert frame["mrr"].tolist() == [0.5, 0.5, 0.0]  # row 2 has no list
