import numpy as np
import pytest
from imblearn.ensemble import BalancedBaggingClassifier
from sklearn.metrics import average_precision_score
from sklearn.tree import DecisionTreeClassifier

from sklearn_recsys.datasets import make_interactions
from sklearn_recsys.ensemble import SelfPacedEnsembleClassifier


def checkerboard(n_min, ratio, seed, sd=0.25):
    """The paper's synthetic task: a 4 x 4 checkerboard of Gaussians, imbalance 1:ratio."""
    rng = np.random.default_rng(seed)
    centers = np.array([(i, j) for i in range(4) for j in range(4)], dtype=float)
    colour = centers.sum(axis=1) % 2
    X, y = [], []
    for label, n in ((1, n_min), (0, n_min * ratio)):
        c = centers[colour == label]
        X.append(c[rng.integers(0, len(c), n)] + rng.normal(0, sd, (n, 2)))
        y.append(np.full(n, label))
    return np.vstack(X), np.concatenate(y)


def test_self_paced_beats_random_under_sampling_on_checkerboard():
    # Liu et al. (ICDE 2020), checkerboard experiments: with the same base learner and number
    # of members, hardness-harmonised under-sampling beats random under-sampling (EasyEnsemble
    # style) in PR-AUC, because later members concentrate on the informative boundary rows
    spe, rus = [], []
    for seed in range(3):
        X, y = checkerboard(200, 20, seed)
        X_test, y_test = checkerboard(500, 20, seed + 100)
        a = SelfPacedEnsembleClassifier(
            DecisionTreeClassifier(), n_estimators=10, random_state=seed
        ).fit(X, y)
        b = BalancedBaggingClassifier(
            DecisionTreeClassifier(), n_estimators=10, bootstrap=False, random_state=seed
        ).fit(X, y)
        spe.append(average_precision_score(y_test, a.predict_proba(X_test)[:, 1]))
        rus.append(average_precision_score(y_test, b.predict_proba(X_test)[:, 1]))
    assert np.mean(spe) > np.mean(rus) + 0.04  # measured: +0.08 to +0.09 per seed
    assert all(s > r for s, r in zip(spe, rus))


def test_schedule_moves_from_harmonised_to_hard_rows():
    X, y = checkerboard(150, 20, 0)
    spe = SelfPacedEnsembleClassifier(
        DecisionTreeClassifier(), n_estimators=10, random_state=0
    ).fit(X, y)
    # alpha = tan(pi i / (2 (n - 1))): NaN for the random first round, growing to infinity
    assert np.isnan(spe.alphas_[0]) and np.isinf(spe.alphas_[-1])
    assert np.all(np.diff(spe.alphas_[1:]) > 0)
    # the majority rows drawn get harder as alpha grows; at the end they are harder than the
    # majority on average, in the middle not yet
    h = spe.sampled_hardness_
    assert h[-1] > h[1] and h[-1] > spe.population_hardness_[-1]
    assert np.mean(h[5:]) > np.mean(h[1:5])
    # every member saw all minority rows and about as many majority rows (each bin's quota is
    # rounded up, or capped by the rows the bin has)
    n_min = int((y == 1).sum())
    sizes = np.array([est.tree_.n_node_samples[0] for est in spe.estimators_])
    assert sizes[0] == 2 * n_min
    assert np.all(np.abs(sizes - 2 * n_min) <= spe.k_bins)


def test_bin_sampling_rule():
    spe = SelfPacedEnsembleClassifier(k_bins=2)
    hardness = np.r_[np.full(900, 0.1), np.full(100, 0.7)]  # bins: easy (h=0.1), hard (h=0.7)
    rng = np.random.RandomState(0)
    # alpha = 0: counts proportional to 1 / h, i.e. equal total hardness per bin
    pick = spe._bin_sample(hardness, 100, 0.0, rng)
    easy, hard = (hardness[pick] < 0.4).sum(), (hardness[pick] > 0.4).sum()
    assert (easy, hard) == (88, 13)  # int(100 * [0.875, 0.125]) + 1, 0.875 = 10 / (10 + 1/0.7)
    # alpha -> infinity: the bins are sampled evenly
    pick = spe._bin_sample(hardness, 100, np.inf, rng)
    assert ((hardness[pick] < 0.4).sum(), (hardness[pick] > 0.4).sum()) == (51, 51)
    assert len(set(pick)) == len(pick)  # without replacement
    # all rows equally hard: plain random under-sampling
    assert len(spe._bin_sample(np.zeros(50), 10, 1.0, rng)) == 10


def test_interaction_frame_and_reproducibility():
    df = make_interactions(200, 100, 4000, positive_rate=0.05, random_state=0).interactions
    X, y = df.drop(columns="purchase"), df["purchase"]
    a = SelfPacedEnsembleClassifier(n_estimators=3, random_state=0).fit(X, y)
    b = SelfPacedEnsembleClassifier(n_estimators=3, random_state=0).fit(X, y)
    assert a.minority_class_ == 1
    assert a.estimators_[0].categorical_features_ == ["user_id", "item_id", "category"]
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    cold = X.head(3).assign(user_id=-5)
    assert np.isfinite(a.predict_proba(cold)).all()
    # the default members read the id columns by the names given
    ren = {"user_id": "uid", "item_id": "iid"}
    c = SelfPacedEnsembleClassifier(
        n_estimators=3, user_col="uid", item_col="iid", random_state=0
    ).fit(X.rename(columns=ren), y)
    assert c.estimators_[0].categorical_features_ == ["uid", "iid", "category"]
    np.testing.assert_array_equal(c.predict_proba(X.rename(columns=ren)), a.predict_proba(X))


def test_custom_hardness_and_errors():
    X, y = checkerboard(50, 5, 0)
    spe = SelfPacedEnsembleClassifier(
        DecisionTreeClassifier(max_depth=3),
        n_estimators=3,
        hardness=lambda p: 1.0 - (1.0 - p) ** 2,
        random_state=0,
    ).fit(X, y)
    assert len(spe.estimators_) == 3
    with pytest.raises(ValueError, match="one value per row"):
        SelfPacedEnsembleClassifier(
            DecisionTreeClassifier(), n_estimators=2, hardness=lambda p: p[:1]
        ).fit(X, y)
    with pytest.raises(ValueError, match="Only binary classification"):
        SelfPacedEnsembleClassifier(n_estimators=2).fit(X, np.arange(len(y)) % 3)
