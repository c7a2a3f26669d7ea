import numpy as np
import pandas as pd
import pytest
from imblearn.over_sampling import ADASYN, SMOTE, RandomOverSampler
from imblearn.under_sampling import RandomUnderSampler

from sklearn_recsys.sampling import IdPreservingSampler


@pytest.mark.parametrize("sampler", [SMOTE(k_neighbors=3, random_state=0),
                                     ADASYN(n_neighbors=3, random_state=0)])
def test_synthetic_rows_get_valid_ids(log, sampler):
    X, y = log
    wrapper = IdPreservingSampler(sampler)
    X_res, y_res = wrapper.fit_resample(X, y)
    assert (X_res.dtypes == X.dtypes).all()
    pd.testing.assert_frame_equal(X_res.iloc[: len(X)], X.reset_index(drop=True))
    new = X_res.iloc[len(X):]
    assert len(new) > 0 and (y_res.iloc[len(X):] == 1).all()
    real_pos = set(map(tuple, X.loc[y == 1, ["user_id", "item_id", "category"]].to_numpy()))
    assert set(map(tuple, new[["user_id", "item_id", "category"]].to_numpy())) <= real_pos
    assert wrapper.neighbor_columns_ == ["user_id", "item_id", "category"]
    # interpolated integer columns are whole numbers inside the real range
    assert new["position"].between(X["position"].min(), X["position"].max()).all()


def test_row_selecting_samplers_return_exact_rows(log):
    X, y = log
    for sampler in [RandomOverSampler(random_state=0), RandomUnderSampler(random_state=0)]:
        wrapper = IdPreservingSampler(sampler)
        X_res, y_res = wrapper.fit_resample(X, y)
        rows = wrapper.sampler_.sample_indices_
        pd.testing.assert_frame_equal(X_res, X.iloc[rows].reset_index(drop=True))
        np.testing.assert_array_equal(y_res.to_numpy(), y.to_numpy()[rows])


def test_plain_arrays_pass_through():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 3)), np.r_[np.zeros(50, int), np.ones(10, int)]
    a = IdPreservingSampler(SMOTE(random_state=0)).fit_resample(X, y)
    b = SMOTE(random_state=0).fit_resample(X, y)
    np.testing.assert_array_equal(a[0], b[0])


def test_non_numeric_column_must_be_listed(log):
    X, y = log
    with pytest.raises(TypeError, match=r"\['category'\].*not numeric"):
        IdPreservingSampler(SMOTE(), neighbor_columns=["user_id", "item_id"]).fit_resample(X, y)
