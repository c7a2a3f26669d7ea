import numpy as np
import pandas as pd
import pytest

from sklearn_recsys.sampling import synthetic_quality


def _frame(rng, n, shift=0.0, rho=0.0, p_cat=(0.5, 0.3, 0.2)):
    a = rng.normal(size=n)
    b = rho * a + np.sqrt(1 - rho**2) * rng.normal(size=n)
    return pd.DataFrame(
        {"a": a + shift, "b": b, "cat": pd.Categorical(rng.choice(["x", "y", "z"], n, p=p_cat))}
    )


def test_same_distribution_scores_well_shift_scores_badly():
    rng = np.random.default_rng(0)
    real = _frame(rng, 600, rho=0.8)
    same = synthetic_quality(real, _frame(rng, 600, rho=0.8), cv=3, random_state=0)
    bad = synthetic_quality(
        real, _frame(rng, 600, shift=1.5, rho=-0.8, p_cat=(0.1, 0.1, 0.8)), cv=3, random_state=0
    )
    assert same.ks["a"] < 0.1 and bad.ks["a"] > 0.5
    assert same.ks["cat"] < 0.1 and bad.ks["cat"] > 0.5  # total variation of the levels
    assert same.correlation_distance < 0.2 and bad.correlation_distance > 2.0
    assert 0.35 < same.detection_auc < 0.65 and bad.detection_auc > 0.95
    assert list(same.ks.index) == ["a", "b", "cat"]


def test_copies_are_undetectable_and_bad_columns_raise():
    rng = np.random.default_rng(1)
    real = rng.normal(size=(300, 2))
    res = synthetic_quality(real, real.copy(), cv=3, random_state=0)
    assert res.ks_mean == 0.0 and res.correlation_distance == 0.0
    assert res.detection_auc <= 0.6
    with pytest.raises(ValueError, match=r"\['zz'\] are not columns of real"):
        synthetic_quality(
            pd.DataFrame(real, columns=["a", "b"]),
            pd.DataFrame(real, columns=["a", "b"]),
            columns=["zz"],
        )
    with pytest.raises(ValueError, match="cv must be an integer >= 2"):
        synthetic_quality(real, real, cv=1)
