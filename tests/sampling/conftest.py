import pytest

from sklearn_recsys.datasets import make_interactions

#: the log's id columns under other names
RENAMED = {"user_id": "uid", "item_id": "iid"}


@pytest.fixture(scope="module")
def log():
    """A small interaction frame with a rare label (about 5 % positives)."""
    data = make_interactions(
        n_users=60,
        n_items=40,
        n_interactions=1500,
        n_categories=5,
        positive_rate=0.05,
        random_state=0,
    )
    X = data.interactions.drop(columns="purchase")
    y = data.interactions["purchase"]
    return X, y


@pytest.fixture(
    params=[{"user_col": "uid", "item_col": "iid"}, {"user_col": 0, "item_col": 1}],
    ids=["by-name", "by-position"],
)
def renamed_log(request, log):
    """The log with its ids renamed ``uid`` / ``iid``, and the parameters that address them (by
    name or by position)."""
    X, y = log
    return X.rename(columns=RENAMED), y, request.param
