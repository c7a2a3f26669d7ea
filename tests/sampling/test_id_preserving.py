import numpy as np
import pandas as pd
import pytest
from imblearn.over_sampling import ADASYN, SMOTE, RandomOverSampler
from imblearn.under_sampling import RandomUnderSampler
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_recsys.sampling import IdPreservingSampler


@pytest.mark.parametrize(
    "sampler", [SMOTE(k_neighbors=3, random_state=0), ADASYN(n_neighbors=3, random_state=0)]
)
def test_synthetic_rows_get_valid_ids(log, sampler):
    X, y = log
    wrapper = IdPreservingSampler(sampler)
    X_res, y_res = wrapper.fit_resample(X, y)
    assert (X_res.dtypes == X.dtypes).all()
    pd.testing.assert_frame_equal(X_res.iloc[: len(X)], X.reset_index(drop=True))
    new = X_res.iloc[len(X) :]
    assert len(new) > 0 and (y_res.iloc[len(X) :] == 1).all()
    real_pos = set(map(tuple, X.loc[y == 1, ["user_id", "item_id", "category"]].to_numpy()))
    assert set(map(tuple, new[["user_id", "item_id", "category"]].to_numpy())) <= real_pos
    assert wrapper.copied_cols_ == ["user_id", "item_id", "category"]
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


def test_array_ids_by_position_are_copied_not_interpolated():
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(50, int), np.ones(10, int)]
    ids = np.r_[np.arange(50) % 9, 100 + np.arange(10) % 4].astype(float)
    X = np.column_stack([ids, rng.normal(size=(60, 2))])
    X_res, y_res = IdPreservingSampler(
        SMOTE(k_neighbors=3, random_state=0), user_col=0, item_col=None
    ).fit_resample(X, y)
    assert isinstance(X_res, np.ndarray) and X_res.shape == (100, 3)
    assert set(X_res[60:, 0]) <= set(ids[y == 1])
    # the numeric columns are SMOTE's, run on them alone
    X_num, _ = SMOTE(k_neighbors=3, random_state=0).fit_resample(X[:, 1:], y)
    np.testing.assert_allclose(X_res[:, 1:], X_num)


def test_renamed_id_columns_are_copied_like_the_default_names(log, renamed_log):
    X, y = log
    X_renamed, _, ids = renamed_log
    expected, y_expected = IdPreservingSampler(SMOTE(random_state=0)).fit_resample(X, y)
    wrapper = IdPreservingSampler(SMOTE(random_state=0), **ids)
    X_res, y_res = wrapper.fit_resample(X_renamed, y)
    pd.testing.assert_frame_equal(X_res, expected.set_axis(X_renamed.columns, axis=1))
    pd.testing.assert_series_equal(y_res, y_expected)
    assert wrapper.copied_cols_ == ["uid", "iid", "category"]
    # with the default names, a frame whose ids are named otherwise is refused, not interpolated
    with pytest.raises(ValueError, match="user_col='user_id' is not a column of X"):
        IdPreservingSampler(SMOTE()).fit_resample(X_renamed, y)


def test_non_numeric_column_must_be_listed(log):
    X, y = log
    with pytest.raises(TypeError, match=r"\['category'\].*not numeric"):
        IdPreservingSampler(SMOTE(), copy_cols=None).fit_resample(X, y)


def test_deprecated_neighbor_columns(log):
    X, y = log
    expected = IdPreservingSampler(SMOTE(random_state=0), copy_cols=["category"])
    old = IdPreservingSampler(
        SMOTE(random_state=0), neighbor_columns=["user_id", "item_id", "category"]
    )
    X_expected = expected.fit_resample(X, y)[0]
    with pytest.warns(FutureWarning, match="use copy_cols="):
        X_old = old.fit_resample(X, y)[0]
    pd.testing.assert_frame_equal(X_old, X_expected)
    with pytest.warns(FutureWarning, match="copied_cols_"):
        assert old.neighbor_columns_ == ["user_id", "item_id", "category"]
    with pytest.raises(ValueError, match="set only copy_cols"):
        IdPreservingSampler(copy_cols=None, neighbor_columns=["category"]).fit_resample(X, y)


def test_the_wrapped_sampler_parameters_are_validated(log):
    X, y = log
    with pytest.raises(InvalidParameterError, match="'k_neighbors' parameter of SMOTE"):
        IdPreservingSampler(SMOTE(k_neighbors=-1)).fit_resample(X, y)
