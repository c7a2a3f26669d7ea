import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from sklearn_recsys.datasets import make_interactions


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
    d0 = make_interactions(n_interactions=100_000, quality_strength=0, position_strength=0,
                           price_strength=0, random_state=0)
    assert roc_auc_score(d0.interactions.purchase, d0.purchase_proba) > 0.8
    d1 = make_interactions(n_interactions=100_000, quality_strength=0, position_strength=0,
                           price_strength=0, affinity_strength=0, random_state=0)
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


@pytest.mark.parametrize("kwargs, match", [
    ({"n_users": 0}, "n_users"),
    ({"positive_rate": 1.5}, "positive_rate"),
    ({"n_categories": 5000}, "n_categories"),
    ({"popularity_exponent": -1.0}, "popularity_exponent"),
    ({"label": "user_id"}, "label"),
])
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_interactions(n_interactions=100, **kwargs)
