import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from sklearn_recsys.features import InteractionFeaturizer


@pytest.fixture(scope="module")
def data(small_interactions):
    X = small_interactions.interactions.drop(columns="purchase")
    y = small_interactions.interactions.purchase
    return X, y


def test_output_columns_index_and_ids(data):
    X, y = data
    X = X.set_axis(np.arange(len(X)) * 3)
    f = InteractionFeaturizer(n_factors=3, random_state=0).set_output(transform="pandas")
    Xt = f.fit_transform(X, y)
    assert list(Xt.columns[:2]) == ["user_id", "item_id"]
    assert (Xt.index == X.index).all()
    np.testing.assert_array_equal(Xt.user_id, X.user_id)
    assert {
        "price",
        "position",
        "item_count",
        "user_rate",
        "item_rate",
        "category_rate",
        "svd_affinity",
        "user_svd_2",
        "item_svd_0",
    } <= set(Xt.columns)
    assert "timestamp" not in Xt.columns and "category" not in Xt.columns
    np.testing.assert_array_equal(f.get_feature_names_out(), Xt.columns)
    # numpy output by default, same numbers
    arr = clone(f).set_output(transform="default").fit(X, y).transform(X)
    assert isinstance(arr, np.ndarray)
    np.testing.assert_allclose(arr, f.transform(X).to_numpy(dtype=float))


def test_popularity_and_activity_values(data):
    X, y = data
    f = InteractionFeaturizer(n_factors=0, target_rates=False).set_output(transform="pandas")
    Xt = f.fit_transform(X)
    counts = X.item_id.map(X.item_id.value_counts())
    np.testing.assert_array_equal(Xt.item_count, counts)
    np.testing.assert_allclose(Xt.item_log_count, np.log1p(counts))
    np.testing.assert_array_equal(Xt.user_count, X.user_id.map(X.user_id.value_counts()))
    # the head is the smallest set of top items holding >= 80 % of the interactions
    head_items = X.item_id[Xt.item_is_head == 1].unique()
    vc = X.item_id.value_counts()
    assert vc[head_items].sum() / len(X) >= 0.8
    assert vc[head_items].min() >= vc.drop(head_items).max()
    assert (vc[head_items].sum() - vc[head_items].min()) / len(X) < 0.8
    assert 0 < Xt.item_pop_pct.min() and Xt.item_pop_pct.max() == 1.0


def test_fit_transform_rates_never_see_their_own_label():
    """Random labels on many rare users: in-sample rates leak, cross-fitted ones do not."""
    rng = np.random.RandomState(0)
    n = 4000
    X = pd.DataFrame({"user_id": rng.randint(0, 1500, n), "item_id": rng.randint(0, 1500, n)})
    y = rng.binomial(1, 0.3, n)
    f = InteractionFeaturizer(n_factors=0, smooth=1.0, random_state=0)
    f.set_output(transform="pandas")
    oof = f.fit_transform(X, y)
    leaky = f.transform(X)  # rates learnt on all rows, applied to the same rows
    assert roc_auc_score(y, leaky.user_rate) > 0.7
    assert abs(roc_auc_score(y, oof.user_rate) - 0.5) < 0.05
    assert abs(roc_auc_score(y, oof.item_rate) - 0.5) < 0.05


def test_rates_learn_the_signal(data):
    X, y = data
    Xt = InteractionFeaturizer(random_state=0).set_output(transform="pandas").fit_transform(X, y)
    assert roc_auc_score(y, Xt.item_rate) > 0.55


def test_unknown_ids_get_the_prior(data):
    X, y = data
    f = InteractionFeaturizer(n_factors=2, random_state=0).set_output(transform="pandas")
    f.fit(X, y)
    new = X.head(2).assign(user_id=[-1, -2], item_id=[-5, X.item_id.iloc[1]])
    out = f.transform(new)
    assert out.user_count.tolist() == [0, 0] and out.item_count.iloc[0] == 0
    assert out.item_is_head.iloc[0] == 0 and out.item_pop_pct.iloc[0] == 0
    prior = f.target_encoder_.target_mean_
    np.testing.assert_allclose(out.user_rate, prior)
    assert out.item_rate.iloc[0] == pytest.approx(prior)
    assert (out.filter(like="user_svd").to_numpy() == 0).all()
    assert out.svd_affinity.tolist() == [0.0, 0.0]
    assert out.item_count.iloc[1] > 0  # the known item keeps its statistics


def test_cold_item_dropout(movielens):
    """fit_transform presents a share of the items as cold; their content stays."""
    ml = movielens
    X = ml.interactions.drop(columns="rating").head(5000)
    y = (ml.interactions.rating.head(5000) == 5).astype(int)
    kw = dict(item_info=ml.item_info, n_factors=2, random_state=0)
    plain = InteractionFeaturizer(**kw).set_output(transform="pandas")
    drop = InteractionFeaturizer(cold_item_fraction=0.25, **kw).set_output(transform="pandas")
    a, b = plain.fit_transform(X, y), drop.fit_transform(X, y)
    n_items = X.item_id.nunique()
    assert len(drop.cold_items_) == round(0.25 * n_items)
    assert plain.cold_items_.size == 0 and set(drop.cold_items_) <= set(X.item_id)
    rows = X.item_id.isin(drop.cold_items_).to_numpy()
    assert 0 < rows.sum() < len(X)
    # the cold rows look exactly like an unknown item at transform time ...
    unknown = plain.transform(X[rows].assign(item_id=-1))
    item_cols = [
        "item_count",
        "item_log_count",
        "item_pop_pct",
        "item_is_head",
        "item_rate",
        "item_svd_0",
        "item_svd_1",
        "svd_affinity",
    ]
    np.testing.assert_allclose(b.loc[rows, item_cols], unknown[item_cols])
    assert (b.loc[rows, "item_count"] == 0).all()
    assert b.loc[rows, "item_rate"].eq(drop.target_encoder_.target_mean_).all()
    # ... but keep their content, their user's features and their ids
    other = [c for c in a.columns if c not in item_cols]
    pd.testing.assert_frame_equal(b[other], a[other])
    # the other rows and transform are untouched
    pd.testing.assert_frame_equal(b[~rows], a[~rows])
    pd.testing.assert_frame_equal(drop.transform(X), plain.transform(X))
    # reproducible, and another seed draws other items
    again = InteractionFeaturizer(cold_item_fraction=0.25, **kw)
    again.fit_transform(X, y)
    np.testing.assert_array_equal(again.cold_items_, drop.cold_items_)
    other_seed = InteractionFeaturizer(cold_item_fraction=0.25, **{**kw, "random_state": 1})
    other_seed.fit_transform(X, y)
    assert set(other_seed.cold_items_) != set(drop.cold_items_)


def test_cold_item_fraction_must_be_below_one(data):
    X, y = data
    with pytest.raises(ValueError, match="cold_item_fraction"):
        InteractionFeaturizer(cold_item_fraction=1.0).fit_transform(X, y)


def test_side_tables(movielens):
    ml = movielens
    X = ml.interactions.drop(columns="rating").head(3000)
    y = (ml.interactions.rating.head(3000) == 5).astype(int)
    f = InteractionFeaturizer(
        item_info=ml.item_info, user_info=ml.user_info, n_factors=0, random_state=0
    ).set_output(transform="pandas")
    Xt = f.fit_transform(X, y)
    assert f.skipped_side_columns_ == {"item_info": ["title"], "user_info": ["zip_code"]}
    row = Xt[X.item_id == 1].iloc[0]  # Toy Story: Animation|Children's|Comedy, 1995
    assert row["item_genres=Animation"] == 1 and row["item_genres=Comedy"] == 1
    assert row["item_genres=Drama"] == 0 and row["item_year"] == 1995
    urow = Xt[X.user_id == 1].iloc[0]
    assert urow["user_age"] == 24 and urow["user_occupation=technician"] == 1
    # unknown item: genre shares (means) and median year
    out = f.transform(X.head(1).assign(item_id=99999))
    genre_share = ml.item_info.genres.str.contains("Drama", regex=False).mean()
    assert out["item_genres=Drama"].iloc[0] == pytest.approx(genre_share)
    assert out["item_year"].iloc[0] == ml.item_info.year.median()


def test_deterministic(data):
    X, y = data
    a = InteractionFeaturizer(random_state=3).fit_transform(X, y)
    b = InteractionFeaturizer(random_state=3).fit_transform(X, y)
    np.testing.assert_array_equal(a, b)


def test_string_ids_supported():
    X = pd.DataFrame(
        {"user_id": list("aabbcd"), "item_id": list("xyxyzx"), "price": [1.0, 2, 3, 4, 5, 6]}
    )
    y = [0, 1, 0, 1, 0, 1]
    f = InteractionFeaturizer(cv=2, n_factors=1, random_state=0).set_output(transform="pandas")
    Xt = f.fit_transform(X, y)
    assert Xt.user_id.tolist() == list("aabbcd")
    assert f.transform(X.assign(user_id="new")).user_count.eq(0).all()


@pytest.mark.parametrize(
    "mutate, fit_kwargs, err, match",
    [
        (lambda X: X.drop(columns="user_id"), {}, ValueError, "user_col='user_id' is not a column"),
        (
            lambda X: X.assign(item_id=np.where(X.index == 3, np.nan, X.item_id)),
            {},
            ValueError,
            "item_col='item_id' has 1 missing",
        ),
        (lambda X: X.assign(user_id=pd.Timestamp("2020-01-01")), {}, TypeError, "datetime"),
        (
            lambda X: X.assign(price=np.where(X.index == 0, np.inf, X.price)),
            {},
            ValueError,
            "'price' of X contains NaN or inf",
        ),
        (lambda X: X, {"y": None}, ValueError, "requires y to be passed"),
        (lambda X: X.iloc[:0], {}, ValueError, "empty"),
    ],
)
def test_bad_input(data, mutate, fit_kwargs, err, match):
    X, y = data
    kwargs = {"y": y, **fit_kwargs}
    with pytest.raises(err, match=match):
        InteractionFeaturizer().fit(
            mutate(X.copy()),
            kwargs["y"][: len(mutate(X.copy()))] if kwargs["y"] is not None else None,
        )


def test_mismatched_columns_at_transform(data):
    X, y = data
    f = InteractionFeaturizer(n_factors=0).fit(X, y)
    with pytest.raises(ValueError, match="feature names"):
        f.transform(X.rename(columns={"price": "cost"}))
    with pytest.raises(ValueError, match="categorical_cols"):
        InteractionFeaturizer(categorical_cols=["nope"]).fit(X, y)
    with pytest.raises(ValueError, match="item_info"):
        InteractionFeaturizer(item_info=pd.DataFrame({"a": [1, 2]}, index=[1, 1])).fit(X, y)


def test_missing_ids_at_transform_raise(data):
    X, y = data
    f = InteractionFeaturizer(n_factors=0, random_state=0).fit(X, y)
    bad = X.head(3).assign(item_id=[X.item_id.iloc[0], np.nan, X.item_id.iloc[2]])
    with pytest.raises(ValueError, match="item_col='item_id' has 1 missing"):
        f.transform(bad)
