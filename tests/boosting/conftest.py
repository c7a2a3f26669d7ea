import pytest

from sklearn_recsys.datasets import make_interactions


@pytest.fixture(scope="package")
def frame():
    """A small interaction frame with ~5 % purchases (X, y)."""
    df = make_interactions(300, 150, 6000, positive_rate=0.05, random_state=0).interactions
    return df.drop(columns="purchase"), df["purchase"].to_numpy()
