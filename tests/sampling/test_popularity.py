import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_recsys.sampling import PopularityUnderSampler
from sklearn_recsys.sampling._popularity import item_quotas


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=1, max_size=30), st.integers(0, 600))
def test_item_quotas_water_filling(counts, n_keep):
    counts = np.array(counts)
    quota, cap = item_quotas(counts, n_keep, np.random.RandomState(0))
    assert quota.sum() == min(n_keep, counts.sum())
    assert np.all((quota >= 0) & (quota <= counts))
    assert np.all(quota[counts <= cap] == counts[counts <= cap])  # the tail keeps every row
    assert np.all(quota <= cap + 1)  # head items are cut down to the cap (+1 for the remainder)


def test_drops_head_rows_keeps_tail_rows(log):
    X, y = log
    target = int((y == 1).sum()) * 3
    sampler = PopularityUnderSampler(sampling_strategy={0: target}, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    assert int((y_res == 0).sum()) == target and int((y_res == 1).sum()) == int(y.sum())
    cap = sampler.item_caps_[0]
    before = X.loc[y == 0, "item_id"].value_counts()
    after = X_res.loc[y_res == 0, "item_id"].value_counts().reindex(before.index, fill_value=0)
    tail = before[before <= cap].index
    assert len(tail) > 0
    assert (after[tail] == before[tail]).all()
    assert (after <= cap + 1).all()
    # rows of the most popular item are the ones that went
    assert after.iloc[0] < before.iloc[0]
    # kept rows are real rows, in their original order
    assert np.all(np.diff(sampler.sample_indices_) > 0)
    pd.testing.assert_frame_equal(X_res, X.iloc[sampler.sample_indices_])


def test_deterministic(log):
    X, y = log
    a = PopularityUnderSampler(random_state=1).fit_resample(X, y)[0]
    b = PopularityUnderSampler(random_state=1).fit_resample(X, y)[0]
    pd.testing.assert_frame_equal(a, b)


def test_bad_item_col(log):
    X, y = log
    with pytest.raises(ValueError, match="item_col='sku' is not a column of X"):
        PopularityUnderSampler(item_col="sku").fit_resample(X, y)
    with pytest.raises(ValueError, match="item_col=5 is not a column position"):
        PopularityUnderSampler(item_col=5).fit_resample(np.zeros((4, 2)), [0, 0, 1, 1])
    with pytest.raises(ValueError, match="item_col='item_id' names a column, but X is an array"):
        PopularityUnderSampler().fit_resample(np.zeros((4, 2)), [0, 0, 1, 1])


@pytest.mark.parametrize("item_col", ["sku", 1])
def test_item_column_by_other_name_or_position(log, item_col):
    X, y = log
    expected, y_expected = PopularityUnderSampler(random_state=0).fit_resample(X, y)
    renamed = X.rename(columns={"item_id": "sku"})
    X_res, y_res = PopularityUnderSampler(item_col=item_col, random_state=0).fit_resample(
        renamed, y
    )
    pd.testing.assert_frame_equal(X_res, expected.rename(columns={"item_id": "sku"}))
    pd.testing.assert_series_equal(y_res, y_expected)


def test_sparse_array_by_position():
    from scipy import sparse

    rng = np.random.default_rng(0)
    X = np.column_stack([rng.integers(0, 5, 40), rng.normal(size=40)])
    y = np.r_[np.zeros(30, int), np.ones(10, int)]
    dense, _ = PopularityUnderSampler(item_col=0, random_state=0).fit_resample(X, y)
    X_sp, _ = PopularityUnderSampler(item_col=0, random_state=0).fit_resample(
        sparse.csr_matrix(X), y
    )
    assert sparse.issparse(X_sp)
    np.testing.assert_array_equal(X_sp.toarray(), dense)
