import numpy as np
import pandas as pd
import pytest
import torch
from imblearn.pipeline import make_pipeline
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_recsys.sampling import GANOverSampler, _gan

SMALL = dict(generator_dims=(64,), critic_dims=(64,), noise_dim=16, batch_size=100)
#: plain arrays and feature frames carry no id columns
NO_IDS = dict(user_col=None, item_col=None)


def _two_blobs(n0=900, n1=100, seed=0):
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(-2.0, 0.5, size=(n0, 2)), rng.normal(2.0, 0.5, size=(n1, 2))])
    return X, np.r_[np.zeros(n0, int), np.ones(n1, int)]


@pytest.mark.slow
def test_generated_rows_follow_their_class():
    X, y = _two_blobs(450, 50)
    params = dict(SMALL, batch_size=50, max_epochs=30, random_state=0)
    X_res, y_res = GANOverSampler(**params).fit_resample(X, y)
    new_X, new_y = X_res[len(X) :], y_res[len(X) :]
    assert np.all(new_y == 1) and len(new_y) == 400
    # rows generated for class 1 lie on class 1's side (+2, +2), not class 0's (-2, -2)
    assert np.mean(new_X.sum(axis=1) > 0) > 0.9
    # and generating for class 0 gives class-0 rows: conditioning works both ways
    X0, _ = GANOverSampler(sampling_strategy={0: 500}, **params).fit_resample(X, y)
    assert np.mean(X0[len(X) :].sum(axis=1) < 0) > 0.9
    # without the conditioning loss, 30 epochs are not enough for the critic alone
    X_off, _ = GANOverSampler(class_loss_weight=0.0, **params).fit_resample(X, y)
    assert np.mean(X_off[len(X) :].sum(axis=1) > 0) < 0.5


def test_exact_class_counts_multiclass():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = np.repeat([0, 1, 2], [200, 70, 30])
    strategy = {1: 123, 2: 77}
    _, y_res = GANOverSampler(
        sampling_strategy=strategy, max_epochs=1, random_state=0, **SMALL
    ).fit_resample(X, y)
    assert np.bincount(y_res).tolist() == [200, 123, 77]


def test_deterministic_and_no_global_seed_leak():
    X, y = _two_blobs(200, 40)
    torch.manual_seed(123)
    np.random.seed(123)  # noqa: NPY002 (the global state must stay untouched)
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()[1].copy()  # noqa: NPY002
    a = GANOverSampler(max_epochs=2, random_state=7, **SMALL).fit_resample(X, y)[0]
    b = GANOverSampler(max_epochs=2, random_state=7, **SMALL).fit_resample(X, y)[0]
    c = GANOverSampler(max_epochs=2, random_state=8, **SMALL).fit_resample(X, y)[0]
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a[len(X) :], c[len(X) :])
    assert torch.equal(torch.get_rng_state(), torch_state)
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002


def test_interaction_frame_ids_and_dtypes_stay_valid(log):
    X, y = log
    sampler = GANOverSampler(max_epochs=2, random_state=0, **SMALL)
    X_res, y_res = sampler.fit_resample(X, y)
    assert isinstance(X_res, pd.DataFrame) and isinstance(y_res, pd.Series)
    assert (X_res.dtypes == X.dtypes).all()
    pd.testing.assert_frame_equal(X_res.iloc[: len(X)], X.reset_index(drop=True))
    new = X_res.iloc[len(X) :]
    assert (y_res.iloc[len(X) :] == 1).all()
    # ids copied from one real row of the same class: each (user, item) pair is a real positive
    real_pos = set(map(tuple, X.loc[y == 1, ["user_id", "item_id"]].to_numpy()))
    assert set(map(tuple, new[["user_id", "item_id"]].to_numpy())) <= real_pos
    assert sampler.copied_cols_ == ["user_id", "item_id"]
    assert sampler.discrete_cols_ == ["category"]
    assert set(new["category"].cat.categories) == set(X["category"].cat.categories)
    assert new["category"].isin(X["category"]).all()
    for col in ["position", "timestamp"]:  # integer columns: whole numbers in the real range
        assert new[col].between(X[col].min(), X[col].max()).all()
    assert new["price"].between(X["price"].min(), X["price"].max()).all()


def test_binary_flags_are_generated_as_discrete():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=400), "flag": rng.integers(0, 2, 400)})
    y = np.r_[np.zeros(360, int), np.ones(40, int)]
    sampler = GANOverSampler(max_epochs=2, random_state=0, **NO_IDS, **SMALL)
    X_res, _ = sampler.fit_resample(X, y)
    assert sampler.discrete_cols_ == ["flag"]
    assert set(X_res["flag"].unique()) <= {0, 1}
    assert X_res["flag"].dtype == X["flag"].dtype


def test_history_and_plain_gan_loss():
    X, y = _two_blobs(200, 40)
    sampler = GANOverSampler(max_epochs=3, loss="gan", random_state=0, verbose=1, **SMALL)
    sampler.fit_resample(X, y)
    assert [h["epoch"] for h in sampler.history_] == [1, 2, 3]
    assert all(h["gradient_penalty"] == 0.0 for h in sampler.history_)
    assert all(np.isfinite(h["critic_loss"]) for h in sampler.history_)


def test_divergence_names_the_epoch(monkeypatch):
    X, y = _two_blobs(200, 40)
    forward = _gan._Critic.forward

    def poisoned(self, x, cond):
        return forward(self, x, cond) * float("nan")

    monkeypatch.setattr(_gan._Critic, "forward", poisoned)
    with pytest.raises(RuntimeError, match="diverged at epoch 1 of 2"):
        GANOverSampler(max_epochs=2, random_state=0, **SMALL).fit_resample(X, y)


def test_works_in_imblearn_pipeline():
    X, y = _two_blobs(300, 30)
    pipe = make_pipeline(
        GANOverSampler(max_epochs=2, random_state=0, **SMALL), LogisticRegression()
    )
    pipe.fit(X, y)
    assert pipe.predict(X).shape == (330,)  # the sampler is skipped at predict time


@pytest.mark.parametrize(
    "params, data, error, match",
    [
        ({"batch_size": 105}, "array", ValueError, "multiple of pac=10"),
        ({"generator_dims": (0,)}, "array", ValueError, "generator_dims"),
        ({"loss": "hinge"}, "array", InvalidParameterError, "'loss' parameter"),
        ({"copy_cols": ["nope"]}, "frame", ValueError, "'nope'.*not a column"),
        ({"copy_cols": ["x", "z"]}, "frame", ValueError, "no column to generate"),
        ({"user_col": "x", "item_col": 1}, "frame", ValueError, "no column to generate"),
        ({"discrete_cols": ["x"], "copy_cols": ["x"]}, "frame", ValueError, "either generated"),
        ({"user_col": "uid"}, "frame", ValueError, "user_col='uid' is not a column of X"),
        ({"user_col": None, "item_col": 2}, "frame", ValueError, "position of X: X has 2 "),
        ({"user_col": 0, "item_col": "x"}, "frame", ValueError, "must differ"),
        ({}, "nan", ValueError, "column 'x' of X holds NaN"),
        ({}, "sparse", TypeError, "[Ss]parse"),
    ],
)
def test_bad_input(params, data, error, match):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2))
    y = np.r_[np.zeros(40, int), np.ones(10, int)]
    if data != "array":
        X = pd.DataFrame(X, columns=["x", "z"])
        params = {**NO_IDS, **params}
    if data == "nan":
        X.loc[3, "x"] = np.nan
    if data == "sparse":
        from scipy import sparse

        X = sparse.csr_matrix(X.to_numpy())
    with pytest.raises(error, match=match):
        GANOverSampler(max_epochs=1, **params).fit_resample(X, y)


def test_feature_frame_without_ids_needs_user_col_none():
    X = pd.DataFrame({"x": np.arange(50.0), "uid": np.arange(50) % 7})
    y = np.r_[np.zeros(40, int), np.ones(10, int)]
    with pytest.raises(ValueError, match="user_col='user_id' is not a column of X"):
        GANOverSampler(max_epochs=1).fit_resample(X, y)


def test_renamed_id_columns_are_copied_like_the_default_names(log, renamed_log):
    """Ids are copied from a real row whatever their name (by name or by position): the
    resampled frame is the one the default names give, and no id is ever interpolated."""
    X, y = log
    X_renamed, _, ids = renamed_log
    params = dict(max_epochs=1, random_state=0, **SMALL)
    expected, y_expected = GANOverSampler(**params).fit_resample(X, y)
    sampler = GANOverSampler(**ids, **params)
    X_res, y_res = sampler.fit_resample(X_renamed, y)
    pd.testing.assert_frame_equal(X_res, expected.set_axis(X_renamed.columns, axis=1))
    pd.testing.assert_series_equal(y_res, y_expected)
    assert sampler.copied_cols_ == ["uid", "iid"]
    new = X_res.iloc[len(X) :]
    assert set(map(tuple, new[["uid", "iid"]].to_numpy())) <= set(
        map(tuple, X_renamed.loc[y == 1, ["uid", "iid"]].to_numpy())
    )


def test_array_ids_by_position_are_copied():
    X, y = _two_blobs(200, 40)
    ids = np.r_[np.arange(200) % 13, 100 + np.arange(40) % 5].astype(float)
    X = np.column_stack([ids, X])
    X_res, _ = GANOverSampler(
        user_col=0, item_col=None, max_epochs=1, random_state=0, **SMALL
    ).fit_resample(X, y)
    assert set(X_res[len(X) :, 0]) <= set(ids[y == 1])


def test_deprecated_names_warn_and_give_the_same_rows(log):
    X, y = log
    X = X.drop(columns="item_id")
    new = GANOverSampler(
        max_epochs=1,
        item_col=None,
        copy_cols=["category"],
        discrete_cols=["position"],
        random_state=0,
        **SMALL,
    )
    old = GANOverSampler(
        epochs=1,
        item_col=None,
        neighbor_columns=["user_id", "category"],
        discrete_columns=["position"],
        random_state=0,
        **SMALL,
    )
    expected = new.fit_resample(X, y)[0]
    with pytest.warns(FutureWarning) as record:
        got = old.fit_resample(X, y)[0]
    messages = " ".join(str(w.message) for w in record)
    for name in ("max_epochs=1", "copy_cols=", "discrete_cols="):
        assert name in messages
    pd.testing.assert_frame_equal(got, expected)
    assert new.copied_cols_ == old.copied_cols_ == ["user_id", "category"]
    for attr, renamed in [
        ("neighbor_columns_", "copied_cols_"),
        ("discrete_columns_", "discrete_cols_"),
        ("continuous_columns_", "continuous_cols_"),
    ]:
        with pytest.warns(FutureWarning, match=renamed):
            assert getattr(old, attr) == getattr(old, renamed)
    with pytest.raises(ValueError, match="set only max_epochs"):
        GANOverSampler(epochs=1, max_epochs=2, item_col=None).fit_resample(X, y)
