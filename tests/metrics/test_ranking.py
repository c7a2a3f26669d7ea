"""Per-user ranking metrics: closed forms, agreement with ranx, properties, bad input."""

import math

import numba
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_recsys.metrics import (
    hit_rate_at_k,
    map_at_k,
    mrr,
    ndcg_at_k,
    precision_at_k,
    ranking_scores,
    recall_at_k,
)

# ranx' kernels are numba functions; compiling them costs over a minute on a cold cache. They
# are imported with the JIT disabled (plain Python, same code) -- fast on these small inputs.
# numba reads DISABLE_JIT when a function is decorated, i.e. when ranx is first imported.
_prev = numba.config.DISABLE_JIT
numba.config.DISABLE_JIT = True
try:
    from ranx import metrics as ranx_metrics
finally:
    numba.config.DISABLE_JIT = _prev


def _log2(r):
    return math.log2(r + 1)


# ----------------------------------------------------------------------------- closed forms
def test_ndcg_binary_closed_form():
    # user a: relevant at ranks 1 and 3 of 4, 2 relevant -> (1 + 1/log2 4) / (1 + 1/log2 3)
    y = [1, 0, 1, 0]
    s = [0.9, 0.8, 0.7, 0.1]
    expected = (1 + 1 / _log2(3)) / (1 + 1 / _log2(2))
    assert ndcg_at_k(y, s, groups=["a"] * 4, k=4) == pytest.approx(expected, abs=1e-12)
    # k=2 cuts the second hit: DCG = 1, IDCG@2 = 1 + 1/log2 3
    assert ndcg_at_k(y, s, groups=["a"] * 4, k=2) == pytest.approx(1 / (1 + 1 / _log2(2)))


def test_ndcg_graded_linear_and_exponential():
    y = [3, 0, 1]
    s = [0.1, 0.9, 0.5]  # ranking: 0 (rel 0), 1 (rel 1), 3 (rel 3)
    dcg_lin = 0 + 1 / _log2(2) + 3 / _log2(3)
    idcg_lin = 3 + 1 / _log2(2)
    dcg_exp = 0 + 1 / _log2(2) + 7 / _log2(3)
    idcg_exp = 7 + 1 / _log2(2)
    g = [0, 0, 0]
    assert ndcg_at_k(y, s, groups=g, k=3) == pytest.approx(dcg_lin / idcg_lin, abs=1e-12)
    assert ndcg_at_k(y, s, groups=g, k=3, gain="exponential") == pytest.approx(
        dcg_exp / idcg_exp, abs=1e-12
    )


def test_set_metrics_closed_form():
    # group 0: 5 rows, relevant at ranks 2 and 4 (3 relevant in total, one at rank 5)
    y = [0, 1, 0, 1, 1, 1, 0]
    s = [5, 4, 3, 2, 1, 9, 8]
    g = [0, 0, 0, 0, 0, 1, 1]  # group 1: relevant at rank 1
    assert recall_at_k(y, s, groups=g, k=4) == pytest.approx((2 / 3 + 1) / 2)
    assert precision_at_k(y, s, groups=g, k=4) == pytest.approx((2 / 4 + 1 / 4) / 2)
    assert hit_rate_at_k(y, s, groups=g, k=1) == pytest.approx(0.5)
    # AP@4 of group 0: (1/2 + 2/4) / 3 ; group 1: 1
    assert map_at_k(y, s, groups=g, k=4) == pytest.approx(((0.5 + 0.5) / 3 + 1) / 2)
    assert mrr(y, s, groups=g) == pytest.approx((1 / 2 + 1) / 2)


def test_precision_divides_by_k_even_for_short_lists():
    assert precision_at_k([1, 1], [0.5, 0.4], groups=[0, 0], k=10) == pytest.approx(0.2)


def test_groups_without_relevant_items_are_left_out_and_counted():
    y = [1, 0, 0, 0]
    s = [0.9, 0.1, 0.8, 0.7]
    g = ["u1", "u1", "u2", "u2"]
    assert ndcg_at_k(y, s, groups=g, k=2) == 1.0  # u2 does not count as 0
    out = ranking_scores(y, s, groups=g, k=2)
    assert out["n_groups"] == 2 and out["n_groups_evaluated"] == 1
    per = ranking_scores(y, s, groups=g, k=2, per_group=True)
    assert list(per.index) == ["u1", "u2"]
    assert per.loc["u1", "ndcg@2"] == 1.0 and np.isnan(per.loc["u2", "ndcg@2"])
    assert per["n_relevant"].tolist() == [1, 0]
    assert math.isnan(ndcg_at_k([0, 0], [1, 2], groups=[0, 0]))


def test_ties_pessimistic_stable_optimistic():
    y = [0, 1, 0]
    s = [0.5, 0.5, 0.5]
    g = [0, 0, 0]
    assert mrr(y, s, groups=g) == pytest.approx(1 / 3)  # pessimistic: relevant last
    assert mrr(y, s, groups=g, ties="stable") == pytest.approx(1 / 2)  # input order
    assert mrr(y, s, groups=g, ties="optimistic") == 1.0
    # graded ties: less relevant first under pessimistic ties
    assert ndcg_at_k([2, 1], [0, 0], groups=[0, 0], k=1) == pytest.approx(0.5)


def test_string_and_categorical_groups_same_result():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 50)
    s = rng.random(50)
    g = rng.integers(0, 5, 50)
    ref = ndcg_at_k(y, s, groups=g, k=3)
    assert ndcg_at_k(y, s, groups=[f"u{v}" for v in g], k=3) == pytest.approx(ref, abs=1e-15)
    assert ndcg_at_k(y, s, groups=pd.Series(g).astype("category"), k=3) == pytest.approx(
        ref, abs=1e-15
    )


# ----------------------------------------------------------------------------- ranx
def _random_case(seed, n_groups=40, max_rows=25):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, max_rows, n_groups)
    g = np.repeat(np.arange(n_groups), sizes)
    n = len(g)
    y = rng.choice([0, 0, 0, 1, 2, 3, 4], n).astype(float)
    s = rng.permutation(n) / n + rng.normal(0, 1e-3, n)  # distinct scores: no ties
    perm = rng.permutation(n)  # rows of the users interleaved
    return y[perm], s[perm], g[perm]


def _ranx_lists(y, s, g):
    qrels, run, groups = [], [], []
    for u in np.unique(g):
        m = g == u
        ids = np.flatnonzero(m).astype(float)
        order = np.argsort(-s[m])
        run.append(np.column_stack([ids[order], s[m][order]]))
        rel = y[m] > 0
        o2 = np.argsort(-y[m][rel], kind="stable")
        qrels.append(np.column_stack([ids[rel][o2], y[m][rel][o2]]))
        groups.append(u)
    return qrels, run, np.array(groups)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("k", [1, 5, 10, 30])
def test_agrees_with_ranx_per_user(seed, k):
    y, s, g = _random_case(seed)
    qrels, run, groups = _ranx_lists(y, s, g)
    ours = ranking_scores(y, s, groups=g, k=k, per_group=True).loc[groups]
    has_rel = ours["n_relevant"].to_numpy() > 0
    expected = {
        f"ndcg@{k}": ranx_metrics.ndcg(qrels, run, k=k),
        f"recall@{k}": ranx_metrics.recall(qrels, run, k=k),
        f"precision@{k}": ranx_metrics.precision(qrels, run, k=k),
        f"hit_rate@{k}": ranx_metrics.hit_rate(qrels, run, k=k),
        f"map@{k}": ranx_metrics.average_precision(qrels, run, k=k),
        "mrr": ranx_metrics.reciprocal_rank(qrels, run, k=0),
    }
    for name, ref in expected.items():
        np.testing.assert_allclose(
            ours[name].to_numpy()[has_rel], ref[has_rel], rtol=0, atol=1e-9, err_msg=name
        )
    burges = ranx_metrics.ndcg_burges(qrels, run, k=k)[has_rel]
    assert ndcg_at_k(y, s, groups=g, k=k, gain="exponential") == pytest.approx(
        burges.mean(), abs=1e-9
    )
    # the public means equal ranx' means over the users with a relevant item
    assert ndcg_at_k(y, s, groups=g, k=k) == pytest.approx(
        expected[f"ndcg@{k}"][has_rel].mean(), abs=1e-9
    )
    assert map_at_k(y, s, groups=g, k=k) == pytest.approx(
        expected[f"map@{k}"][has_rel].mean(), abs=1e-9
    )


# ----------------------------------------------------------------------------- properties
_rows = st.lists(
    st.tuples(st.integers(0, 4), st.integers(0, 3), st.sampled_from([0.0, 0.25, 0.5, 1.0, 2.0])),
    min_size=1,
    max_size=40,
)
_ALL = ["ndcg", "recall", "precision", "hit_rate", "map", "mrr"]


@settings(max_examples=60, deadline=None)
@given(rows=_rows, k=st.integers(1, 12), seed=st.integers(0, 2**16))
def test_properties_range_and_row_permutation(rows, k, seed):
    g, y, s = (np.array(c) for c in zip(*rows))
    out = ranking_scores(y, s, groups=g, k=k)
    if out["n_groups_evaluated"] == 0:
        assert all(math.isnan(out[m if m == "mrr" else f"{m}@{k}"]) for m in _ALL)
        return
    for m in _ALL:
        v = out[m if m == "mrr" else f"{m}@{k}"]
        assert 0.0 <= v <= 1.0 + 1e-12
    # pessimistic ties make every metric independent of the row order and of the user labels
    perm = np.random.default_rng(seed).permutation(len(g))
    relabel = {u: f"user-{(u * 7919) % 13}" for u in np.unique(g)}
    out2 = ranking_scores(y[perm], s[perm], groups=[relabel[u] for u in g[perm]], k=k)
    for key, v in out.items():
        assert out2[key] == pytest.approx(v, abs=1e-12)
    # ties: pessimistic <= stable <= optimistic
    lo = ndcg_at_k(y, s, groups=g, k=k)
    mid = ndcg_at_k(y, s, groups=g, k=k, ties="stable")
    hi = ndcg_at_k(y, s, groups=g, k=k, ties="optimistic")
    assert lo <= mid + 1e-12 and mid <= hi + 1e-12


@settings(max_examples=60, deadline=None)
@given(rows=_rows, k=st.integers(1, 12))
def test_perfect_ranking_scores_one(rows, k):
    g, y, _ = (np.array(c) for c in zip(*rows))
    if not (y > 0).any():
        return
    s = y.astype(float)  # scores = relevance: the ideal order (ties only among equal grades)
    assert ndcg_at_k(y, s, groups=g, k=k) == pytest.approx(1.0)
    assert ndcg_at_k(y, s, groups=g, k=k, gain="exponential") == pytest.approx(1.0)
    assert hit_rate_at_k(y, s, groups=g, k=k) == 1.0
    assert mrr(y, s, groups=g) == 1.0
    n_rel = pd.Series(y > 0).groupby(g).sum()
    n_rel = n_rel[n_rel > 0]
    expected_recall = np.mean(np.minimum(n_rel, k) / n_rel)
    assert recall_at_k(y, s, groups=g, k=k) == pytest.approx(expected_recall)
    assert map_at_k(y, s, groups=g, k=k) == pytest.approx(expected_recall)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "func", [ndcg_at_k, recall_at_k, precision_at_k, hit_rate_at_k, map_at_k, mrr]
)
def test_bad_input(func):
    with pytest.raises(ValueError, match="same length"):
        func([1, 0], [0.5, 0.2, 0.1], groups=[0, 0])
    with pytest.raises(ValueError, match="same length"):
        func([1, 0], [0.5, 0.2], groups=[0])
    with pytest.raises(ValueError, match="y_score contains NaN"):
        func([1, 0], [np.nan, 0.2], groups=[0, 0])
    with pytest.raises(ValueError, match="empty"):
        func([], [], groups=[])
    with pytest.raises(ValueError, match="y_true must be >= 0"):
        func([-1, 0], [0.5, 0.2], groups=[0, 0])
    with pytest.raises(ValueError, match="y_true contains NaN"):
        func([np.nan, 0], [0.5, 0.2], groups=[0, 0])
    with pytest.raises(ValueError, match="missing"):
        func([1, 0], [0.5, 0.2], groups=[0, None])
    with pytest.raises(ValueError, match="1-d"):
        func(np.ones((2, 2)), np.ones((2, 2)), groups=[0, 0])


@pytest.mark.parametrize("func", [ndcg_at_k, recall_at_k, precision_at_k, hit_rate_at_k, map_at_k])
def test_bad_k(func):
    for k in (0, -1, 2.5):
        with pytest.raises(ValueError, match="'k' parameter"):
            func([1, 0], [0.5, 0.2], groups=[0, 0], k=k)


def test_bad_options():
    with pytest.raises(ValueError, match="'gain' parameter"):
        ndcg_at_k([1], [1.0], groups=[0], gain="log")
    with pytest.raises(ValueError, match="'ties' parameter"):
        recall_at_k([1], [1.0], groups=[0], ties="random")
    with pytest.raises(ValueError, match="metrics="):
        ranking_scores([1], [1.0], groups=[0], metrics=["auc"])
