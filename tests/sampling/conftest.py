import pytest

from sklearn_recsys.datasets import make_interactions


@pytest.fixture(scope="module")
def log():
    """A small interaction frame with a rare label (about 5 % positives)."""
    data = make_interactions(n_users=60, n_items=40, n_interactions=1500, n_categories=5,
                             positive_rate=0.05, random_state=0)
    X = data.interactions.drop(columns="purchase")
    y = data.interactions["purchase"]
    return X, y
