import pytest

from sklearn_recsys.datasets import make_interactions


@pytest.fixture(scope="session")
def interactions():
    """Small synthetic log: 2400 impressions, ~20 % purchases (learnable in a few epochs)."""
    df = make_interactions(
        n_users=120, n_items=40, n_interactions=2400, positive_rate=0.2, random_state=0
    ).interactions
    X = df.drop(columns=["purchase", "timestamp"])
    return X, df["purchase"].to_numpy()


@pytest.fixture(scope="session")
def rare_interactions():
    """Imbalanced log: ~5 % positives."""
    df = make_interactions(
        n_users=120, n_items=40, n_interactions=2000, positive_rate=0.05, random_state=1
    ).interactions
    X = df.drop(columns=["purchase", "timestamp"])
    return X, df["purchase"].to_numpy()
