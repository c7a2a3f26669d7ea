import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")


@pytest.fixture(scope="session")
def data_home():
    """Folder of the real data sets (``SKLEARN_RECSYS_DATA``); skip when absent."""
    home = os.environ.get("SKLEARN_RECSYS_DATA")
    if not home or not (Path(home) / "ml-100k" / "u.data").is_file():
        pytest.skip(
            "SKLEARN_RECSYS_DATA does not point at a folder with ml-100k "
            "(make test sets it to ../shared/data)"
        )
    return Path(home)


@pytest.fixture(scope="session")
def movielens(data_home):
    from sklearn_recsys.datasets import load_movielens

    return load_movielens("100k", data_home=data_home, download_if_missing=False)


@pytest.fixture(scope="session")
def small_interactions():
    from sklearn_recsys.datasets import make_interactions

    return make_interactions(n_users=200, n_items=120, n_interactions=6000, random_state=0)
