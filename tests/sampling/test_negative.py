import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_recsys.sampling import NegativeSampler


def _pairs(frame):
    return set(zip(frame["user_id"], frame["item_id"]))


def test_adds_k_unseen_pairs_per_positive(log):
    X, y = log
    sampler = NegativeSampler(n_negatives=3, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    n_pos = int(y.sum())
    assert len(X_res) == len(X) + 3 * n_pos == len(y_res)
    assert sampler.n_negatives_added_ == 3 * n_pos
    new = X_res.iloc[len(X) :]
    assert (y_res.iloc[len(X) :] == 0).all() and y_res.name == "purchase"
    assert not (_pairs(new) & _pairs(X))
    assert (X_res.dtypes == X.dtypes).all()
    pd.testing.assert_frame_equal(X_res.iloc[: len(X)], X.reset_index(drop=True))


def test_item_attributes_from_the_drawn_item_context_from_the_positive(log):
    X, y = log
    sampler = NegativeSampler(n_negatives=2, random_state=0)
    X_res, _ = sampler.fit_resample(X, y)
    assert sampler.item_attribute_cols_ == ["category", "price"]
    new = X_res.iloc[len(X) :]
    item_attr = X.drop_duplicates("item_id").set_index("item_id")[["category", "price"]]
    expected = item_attr.loc[new["item_id"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        new[["category", "price"]].reset_index(drop=True), expected, check_names=False
    )
    source = X[y == 1].reset_index(drop=True).loc[np.repeat(np.arange(int(y.sum())), 2)]
    np.testing.assert_array_equal(new["timestamp"].to_numpy(), source["timestamp"].to_numpy())
    np.testing.assert_array_equal(new["user_id"].to_numpy(), source["user_id"].to_numpy())


def test_popularity_strategy_prefers_popular_items():
    rng = np.random.default_rng(0)
    # item 0 has 90 % of the rows, all from users 0..8; users 100..199 never saw it
    X = pd.DataFrame(
        {
            "user_id": np.r_[np.arange(900) % 9, 100 + np.arange(100)],
            "item_id": np.r_[np.zeros(900, int), rng.integers(1, 50, 100)],
        }
    )
    y = np.ones(1000, int)
    share = {}
    for strategy in ["uniform", "popularity"]:
        X_res, _ = NegativeSampler(n_negatives=2, strategy=strategy, random_state=0).fit_resample(
            X, y
        )
        new = X_res.iloc[1000:]
        share[strategy] = float((new.loc[new["user_id"] >= 100, "item_id"] == 0).mean())
    assert share["uniform"] < 0.1 < 0.5 < share["popularity"]


def test_dense_user_gets_exact_fallback_and_full_user_errors():
    # user 1 saw items 0..8 of 10: the only negatives left are item 9
    X = pd.DataFrame({"user_id": [1] * 9 + [2], "item_id": list(range(9)) + [9]})
    y = np.ones(10, int)
    X_res, _ = NegativeSampler(n_negatives=5, max_iter=0, random_state=0).fit_resample(X, y)
    new = X_res.iloc[10:]
    assert (new.loc[new["user_id"] == 1, "item_id"] == 9).all()
    X_full = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [0, 1, 0]})
    with pytest.raises(ValueError, match="user 1 .* interacted with all 2 items"):
        NegativeSampler(random_state=0).fit_resample(X_full, [1, 1, 1])


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 7)), min_size=1, max_size=30),
    st.integers(1, 4),
    st.sampled_from(["uniform", "popularity"]),
)
def test_never_emits_a_seen_pair(pairs, k, strategy):
    X = pd.DataFrame(pairs, columns=["user_id", "item_id"])
    y = np.ones(len(X), int)
    n_items = X["item_id"].nunique()
    full = X.groupby("user_id")["item_id"].nunique().eq(n_items).any()
    sampler = NegativeSampler(n_negatives=k, strategy=strategy, max_iter=2, random_state=0)
    if full:
        with pytest.raises(ValueError, match="interacted with all"):
            sampler.fit_resample(X, y)
        return
    X_res, y_res = sampler.fit_resample(X, y)
    new = X_res.iloc[len(X) :]
    assert len(new) == k * len(X)
    assert not (_pairs(new) & _pairs(X))
    assert set(new["item_id"]) <= set(X["item_id"])


def test_deterministic_and_arrays(log):
    X, y = log
    a = NegativeSampler(random_state=3).fit_resample(X, y)[0]
    b = NegativeSampler(random_state=3).fit_resample(X, y)[0]
    pd.testing.assert_frame_equal(a, b)
    arr = X[["user_id", "item_id"]].to_numpy()
    X_arr, y_arr = NegativeSampler(user_col=0, item_col=1, random_state=3).fit_resample(arr, y)
    assert isinstance(X_arr, np.ndarray) and X_arr.shape == (len(X) + 4 * int(y.sum()), 2)
    X_frame, _ = NegativeSampler(random_state=3).fit_resample(X[["user_id", "item_id"]], y)
    np.testing.assert_array_equal(X_arr, X_frame.to_numpy())
    with pytest.raises(ValueError, match="names a column, but X is an array"):
        NegativeSampler().fit_resample(arr, y)


def test_renamed_id_columns_give_the_same_rows(log, renamed_log):
    X, y = log
    X_renamed, _, ids = renamed_log
    expected, y_expected = NegativeSampler(random_state=0).fit_resample(X, y)
    X_res, y_res = NegativeSampler(random_state=0, **ids).fit_resample(X_renamed, y)
    pd.testing.assert_frame_equal(X_res, expected.set_axis(X_renamed.columns, axis=1))
    pd.testing.assert_series_equal(y_res, y_expected)


def test_deprecated_item_columns(log):
    X, y = log
    new = NegativeSampler(item_attribute_cols=["price"], random_state=0)
    old = NegativeSampler(item_columns=["price"], random_state=0)
    expected = new.fit_resample(X, y)[0]
    with pytest.warns(FutureWarning, match=r"use item_attribute_cols=\['price'\]"):
        got = old.fit_resample(X, y)[0]
    pd.testing.assert_frame_equal(got, expected)
    with pytest.warns(FutureWarning, match="item_attribute_cols_"):
        assert old.item_columns_ == ["price"]


def test_fit_sets_the_rows_to_add(log):
    X, y = log
    sampler = NegativeSampler(n_negatives=3).fit(X, y)
    assert sampler.sampling_strategy_ == {0: 3 * int(y.sum())}
    assert sampler.n_features_in_ == X.shape[1]


@pytest.mark.parametrize(
    "params, match",
    [
        ({"user_col": "uid"}, "user_col='uid' is not a column of X"),
        ({"item_col": "user_id"}, "must differ"),
        ({"pos_label": 7}, "no row of the positive class pos_label=7"),
        ({"item_attribute_cols": ["nope"]}, "'nope', which is not a column"),
        ({"item_attribute_cols": ["user_id"]}, "lists an id column"),
        ({"user_col": 0, "item_col": "user_id"}, "must differ"),
        ({"user_col": 9}, "user_col=9 is not a column position of X: X has 6 feature"),
    ],
)
def test_bad_input(log, params, match):
    X, y = log
    with pytest.raises(ValueError, match=match):
        NegativeSampler(**params).fit_resample(X, y)


def test_missing_ids_are_rejected():
    X = pd.DataFrame({"user_id": [1.0, np.nan], "item_id": [1, 2]})
    with pytest.raises(ValueError, match="missing"):
        NegativeSampler().fit_resample(X, [1, 1])
