import pandas as pd
import pytest

from sklearn_recsys.datasets import make_interactions


@pytest.fixture(scope="session")
def own_log():
    """A team's log: other column names, dates as times, a string label, item titles."""
    d = make_interactions(n_users=300, n_items=150, n_interactions=8000, random_state=0)
    log = d.interactions.rename(
        columns={"user_id": "customer", "item_id": "sku", "timestamp": "ts"}
    )
    log["ts"] = pd.to_datetime(log["ts"], unit="s")
    log["outcome"] = log.pop("purchase").map({0: "viewed", 1: "bought"})
    items = d.item_info.reset_index().rename(columns={"item_id": "sku"})[["sku", "title"]]
    return log, items


@pytest.fixture(scope="session")
def own_files(own_log, tmp_path_factory):
    log, items = own_log
    folder = tmp_path_factory.mktemp("own")
    log.to_csv(folder / "shop.csv", index=False)
    log.to_parquet(folder / "shop.parquet")
    items.to_csv(folder / "items.csv", index=False)
    return folder


OWN_ARGS = [
    "--user-col",
    "customer",
    "--item-col",
    "sku",
    "--time-col",
    "ts",
    "--label",
    "outcome",
    "--positive",
    "bought",
]
