import warnings

import numpy as np
import pandas as pd
import pytest

from sklearn_recsys.datasets import make_interactions
from sklearn_recsys.features import (
    InteractionFeaturizer,
    LabelLeakageWarning,
    check_label_leakage,
)


def _data(n=2000, seed=0):
    rng = np.random.RandomState(seed)
    y = pd.Series((rng.random_sample(n) < 0.05).astype(int), name="buy")
    X = pd.DataFrame({"useful": y * 0.5 + rng.normal(size=n), "noise": rng.normal(size=n)})
    return X, y


def test_benign_columns_raise_no_warning():
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_label_leakage(X, y) == []


def test_the_label_and_a_proxy_are_named():
    X, y = _data()
    X["buy"] = y
    X["days_to_purchase"] = np.where(y == 1, 1.0, 30.0) + 0.1 * np.arange(len(y)) / len(y)
    with pytest.warns(LabelLeakageWarning) as record:
        found = check_label_leakage(X, y)
    assert found == ["buy", "days_to_purchase"]
    messages = [str(w.message) for w in record]
    assert "label is left among the features" in messages[0]
    assert "'days_to_purchase'" in messages[1] and "ROC-AUC 0.000" in messages[1]


def test_subsample_still_finds_a_proxy_and_multiclass_is_skipped():
    X, y = _data(n=5000)
    X["proxy"] = y + 0.001
    with pytest.warns(LabelLeakageWarning, match="'proxy'"):
        assert check_label_leakage(X, y, max_rows=1000) == ["proxy"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_label_leakage(X, np.arange(len(X)) % 3) == []
    with pytest.raises(ValueError, match="threshold"):
        check_label_leakage(X, y, threshold=0.3)


def test_featurizer_warns_about_a_passed_through_label():
    X, y = make_interactions(
        n_users=100,
        n_items=60,
        n_interactions=3000,
        positive_rate=0.1,
        random_state=0,
        return_X_y=True,
    )
    X = X.assign(converted=y.to_numpy())
    with pytest.warns(LabelLeakageWarning, match="'converted'"):
        InteractionFeaturizer(n_factors=0, random_state=0).fit(X, y)
