import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from sklearn_recsys.datasets import label_conversion, make_interactions


def gini(counts):
    c = np.sort(np.asarray(counts, dtype=float))
    n = len(c)
    return float((2 * np.arange(1, n + 1) - n - 1).dot(c) / (n * c.sum()))


@pytest.fixture(scope="module")
def default_data():
    return make_interactions(random_state=0)


def test_defaults_have_a_long_tail_and_about_two_percent_positives(default_data):
    X = default_data.interactions
    assert X.shape == (100_000, 7)
    exposure = X.item_id.value_counts().reindex(range(1000), fill_value=0)
    assert gini(exposure) >= 0.6
    assert 0.017 <= X.purchase.mean() <= 0.023
    assert abs(default_data.purchase_proba.mean() - 0.02) < 1e-3
    # heavy users: the top 10 % of users hold far more than 10 % of rows
    per_user = X.user_id.value_counts()
    assert per_user.head(len(per_user) // 10).sum() / len(X) > 0.25
    # hot and cold categories
    sizes = X.category.value_counts()
    assert sizes.iloc[0] > 50 * sizes.iloc[-1]


def test_positive_rate_is_controllable():
    d = make_interactions(n_interactions=50_000, positive_rate=0.1, random_state=1)
    assert abs(d.interactions.purchase.mean() - 0.1) < 0.01


def test_deterministic_under_random_state():
    a = make_interactions(n_interactions=3000, random_state=7)
    b = make_interactions(n_interactions=3000, random_state=7)
    c = make_interactions(n_interactions=3000, random_state=8)
    pd.testing.assert_frame_equal(a.interactions, b.interactions)
    pd.testing.assert_frame_equal(a.item_info, b.item_info)
    assert not a.interactions.equals(c.interactions)


def test_label_depends_on_affinity_quality_and_position(default_data):
    d = default_data
    X, y, p = d.interactions, d.interactions.purchase.to_numpy(), d.purchase_proba
    # the true probability is informative, and the labels are its Bernoulli draws
    assert roc_auc_score(y, p) > 0.85
    # position hurts, quality helps
    top = X.position.to_numpy() == 1
    assert y[top].mean() > 1.5 * y[X.position.to_numpy() >= 10].mean()
    q = d.item_info.quality.reindex(X.item_id).to_numpy()
    assert y[q > 1].mean() > 2 * y[q < -1].mean()
    # affinity: with quality and position removed, users still differ per item (interaction)
    d0 = make_interactions(
        n_interactions=100_000,
        quality_strength=0,
        position_strength=0,
        price_strength=0,
        random_state=0,
    )
    assert roc_auc_score(d0.interactions.purchase, d0.purchase_proba) > 0.8
    d1 = make_interactions(
        n_interactions=100_000,
        quality_strength=0,
        position_strength=0,
        price_strength=0,
        affinity_strength=0,
        random_state=0,
    )
    assert np.ptp(d1.purchase_proba) < 1e-9


def test_titles_carry_quality_signal(default_data):
    info = default_data.item_info
    premium = info.title.str.contains("premium|pro |deluxe|signature")
    basic = info.title.str.contains("basic|budget|lite|generic")
    assert info.quality[premium].mean() > info.quality[basic].mean() + 0.8
    # a linear model on title words predicts the quality tercile above chance
    words = info.title.str.get_dummies(sep=" ")
    high = (info.quality > info.quality.median()).astype(int)
    model = LogisticRegression(max_iter=500).fit(words[:700], high[:700])
    assert roc_auc_score(high[700:], model.predict_proba(words[700:])[:, 1]) > 0.7


def test_return_x_y_and_side_tables():
    X, y = make_interactions(n_interactions=500, random_state=0, return_X_y=True)
    assert "purchase" not in X.columns and len(y) == 500
    d = make_interactions(n_interactions=500, label="click", random_state=0)
    assert "click" in d.interactions.columns
    assert set(d.interactions.item_id) <= set(d.item_info.index)
    assert isinstance(d.interactions.category.dtype, pd.CategoricalDtype)
    assert d.interactions.timestamp.is_monotonic_increasing


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_users": 0}, "n_users"),
        ({"positive_rate": 1.5}, "positive_rate"),
        ({"n_categories": 5000}, "n_categories"),
        ({"popularity_exponent": -1.0}, "popularity_exponent"),
        ({"label": "user_id"}, "label"),
    ],
)
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_interactions(n_interactions=100, **kwargs)


# ------------------------------------------------------------------ multi-behaviour event log

MULTI = {
    "n_users": 400,
    "n_items": 5000,
    "n_categories": 60,
    "n_interactions": 60_000,
    "n_days": 14,
    "multi_behavior": True,
}


@pytest.fixture(scope="module")
def multi():
    return make_interactions(**MULTI, random_state=0)


def _user_time_order(X):
    return X.sort_values(["user_id", "timestamp"], kind="stable")


def test_multi_behavior_layout_and_side_tables(multi):
    X = multi.interactions
    assert list(X.columns) == ["user_id", "item_id", "category_id", "behavior_type", "timestamp"]
    assert [str(X[c].dtype) for c in ("user_id", "item_id", "category_id", "timestamp")] == [
        "int32",
        "int32",
        "int32",
        "int64",
    ]
    assert X.behavior_type.dtype == pd.CategoricalDtype(["pv", "cart", "fav", "buy"])
    assert len(X) == 60_000 and isinstance(X.index, pd.RangeIndex)
    assert X.timestamp.is_monotonic_increasing
    start = int(pd.Timestamp("2026-01-01").timestamp())
    assert X.timestamp.min() >= start and X.timestamp.max() < start + 14 * 86400
    assert X.timestamp.max() - X.timestamp.min() > 13 * 86400  # the whole span is used
    info = multi.item_info
    assert list(info.columns) == ["title", "category_id", "price", "quality"]
    assert len(info) == 5000 and info.index.name == "item_id"
    assert (info.category_id.reindex(X.item_id).to_numpy() == X.category_id.to_numpy()).all()
    assert list(multi.user_info.columns) == ["activity", "buy_propensity"]
    assert multi.target_name == "buy" and "session" in multi.DESCR
    # heavy users and a long tail of items
    per_user = X.user_id.value_counts()
    assert per_user.head(len(per_user) // 10).sum() / len(X) > 0.25
    exposure = X.item_id.value_counts().reindex(range(5000), fill_value=0).sort_values()[::-1]
    assert gini(exposure) > 0.5
    assert exposure.head(50).sum() / len(X) > 0.1  # the top 1 % of items: > 10 % of events


def test_multi_behavior_is_deterministic_and_exact_in_size():
    kw = dict(MULTI, n_interactions=5000)
    a = make_interactions(**kw, random_state=3)
    b = make_interactions(**kw, random_state=3)
    c = make_interactions(**kw, random_state=4)
    pd.testing.assert_frame_equal(a.interactions, b.interactions)
    pd.testing.assert_frame_equal(a.item_info, b.item_info)
    pd.testing.assert_frame_equal(a.user_info, b.user_info)
    assert not a.interactions.equals(c.interactions)
    for n in (1, 17, 999):
        assert (
            len(make_interactions(**dict(MULTI, n_interactions=n), random_state=0).interactions)
            == n
        )


def test_multi_behavior_mix_is_near_taobao(multi):
    mix = multi.interactions.behavior_type.value_counts(normalize=True)
    assert abs(mix["pv"] - 0.896) < 0.01
    assert abs(mix["cart"] - 0.055) < 0.006
    assert abs(mix["fav"] - 0.029) < 0.005
    assert abs(mix["buy"] - 0.020) < 0.004
    # the intercepts are solved on a sample: the mix also holds on a much bigger log
    big = make_interactions(n_interactions=400_000, multi_behavior=True, random_state=1)
    mix = big.interactions.behavior_type.value_counts(normalize=True)
    assert abs(mix["buy"] - 0.020) < 0.002 and abs(mix["cart"] - 0.055) < 0.003


def test_multi_behavior_has_sessions(multi):
    s = _user_time_order(multi.interactions)
    same_user = s.user_id.to_numpy()[1:] == s.user_id.to_numpy()[:-1]
    gaps = np.diff(s.timestamp.to_numpy())[same_user]
    assert 0.05 < (gaps > 1800).mean() < 0.3  # session breaks (Taobao extract: 16 %)
    assert (gaps <= 300).mean() > 0.6  # most consecutive events are minutes apart (75 %)
    assert np.median(gaps) < 300
    # no gap between 25 and 30 minutes: inside a session gaps are < 25 min, between > 30 min
    assert ((gaps > 1500) & (gaps <= 1800)).mean() < 0.005


def test_multi_behavior_buys_follow_views_and_history_predicts_the_label(multi):
    s = _user_time_order(multi.interactions)
    pair = s.user_id.astype(np.int64) * 10**6 + s.item_id
    pv = (s.behavior_type == "pv").astype(int)
    earlier_views = (pv.groupby(pair).cumsum() - pv).to_numpy()
    buy = (s.behavior_type == "buy").to_numpy()
    assert 0.7 < (earlier_views[buy] > 0).mean() < 1.0  # most buys, not all (direct buys)
    # re-views exist and are a minority (Taobao extract: 21 % of page views)
    assert 0.1 < (earlier_views[pv.to_numpy() == 1] > 0).mean() < 0.4
    # the 72 h conversion label is learnable from behaviour history
    X, y = make_interactions(**MULTI, return_X_y=True, random_state=0)
    Xl, yl = label_conversion(multi.interactions)
    pd.testing.assert_frame_equal(X, Xl)
    pd.testing.assert_series_equal(y, yl)
    assert y.name == "buy_within_72h" and 0.01 < y.mean() < 0.1
    history = X.groupby(["user_id", "item_id"]).cumcount()  # X is sorted by time
    assert roc_auc_score(y, history) > 0.65
    # carts and favourites are stronger signals than views
    assert y[X.behavior_type == "cart"].mean() > 3 * y[X.behavior_type == "pv"].mean()


def test_single_behavior_mode_unchanged_by_the_new_keyword():
    a = make_interactions(n_interactions=2000, random_state=5)
    b = make_interactions(n_interactions=2000, multi_behavior=False, random_state=5)
    pd.testing.assert_frame_equal(a.interactions, b.interactions)
    with pytest.raises(ValueError, match="multi_behavior must be a bool; got 'yes'"):
        make_interactions(n_interactions=100, multi_behavior="yes")
