import pickle

import numpy as np
import pytest
from scipy.special import expit
from sklearn.metrics import average_precision_score

from sklearn_recsys.boosting import FocalLGBMClassifier, ImbalancedLGBMClassifier
from sklearn_recsys.boosting._focal import (
    HESS_FLOOR,
    FocalObjective,
    focal_grad_hess,
    focal_init_score,
    focal_loss,
)

KW = {"n_estimators": 30, "n_jobs": 1, "random_state": 0}


@pytest.mark.parametrize("alpha", [None, 0.25, 0.9])
@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 2.0, 5.0])
def test_grad_hess_match_finite_differences(alpha, gamma):
    rng = np.random.default_rng(0)
    z = rng.normal(0, 3, 500)
    y = rng.integers(0, 2, 500).astype(float)
    eps = 1e-5
    grad, hess = focal_grad_hess(y, z, alpha=alpha, gamma=gamma)
    num_grad = (
        focal_loss(y, z + eps, alpha=alpha, gamma=gamma)
        - focal_loss(y, z - eps, alpha=alpha, gamma=gamma)
    ) / (2 * eps)
    num_hess = (
        focal_grad_hess(y, z + eps, alpha=alpha, gamma=gamma)[0]
        - focal_grad_hess(y, z - eps, alpha=alpha, gamma=gamma)[0]
    ) / (2 * eps)
    np.testing.assert_allclose(grad, num_grad, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(hess, num_hess, rtol=1e-5, atol=1e-8)


def test_gamma_zero_is_log_loss():
    z = np.linspace(-8, 8, 41)
    for label in (0.0, 1.0):
        y = np.full_like(z, label)
        p = expit(z)
        grad, hess = focal_grad_hess(y, z, gamma=0.0)
        np.testing.assert_allclose(grad, p - y, atol=1e-12)
        np.testing.assert_allclose(hess, p * (1 - p), atol=1e-12)
        expected = -(y * np.log(p) + (1 - y) * np.log(1 - p))
        np.testing.assert_allclose(focal_loss(y, z, gamma=0.0), expected, rtol=1e-10)


def test_focal_down_weights_easy_rows_and_is_stable():
    # an easy positive (z = 4) loses far more of its gradient than a hard one (z = -4)
    g0 = np.abs(focal_grad_hess([1, 1], [4.0, -4.0], gamma=0.0)[0])
    g2 = np.abs(focal_grad_hess([1, 1], [4.0, -4.0], gamma=2.0)[0])
    assert g2[0] / g0[0] < 1e-3 < 0.9 < g2[1] / g0[1]
    # no overflow / NaN for huge raw scores
    grad, hess = focal_grad_hess([0, 1, 0, 1], [800.0, -800.0, -800.0, 800.0], gamma=2.0)
    assert np.isfinite(grad).all() and np.isfinite(hess).all()


def test_objective_floors_negative_hessian_and_applies_weights():
    y, z = np.array([1.0, 1.0]), np.array([-6.0, 3.0])  # a badly misclassified positive
    _, exact = focal_grad_hess(y, z, gamma=2.0)
    assert exact[0] < 0
    grad, hess = FocalObjective(gamma=2.0)(y, z, None)
    assert hess[0] == HESS_FLOOR and hess[1] == exact[1]
    grad_w, hess_w = FocalObjective(gamma=2.0)(y, z, np.array([2.0, 3.0]))
    np.testing.assert_allclose(grad_w, grad * [2, 3])
    np.testing.assert_allclose(hess_w, hess * [2, 3])


def test_init_score_minimises_the_loss():
    y = np.r_[np.ones(30), np.zeros(970)]
    assert focal_init_score(y, gamma=0.0) == pytest.approx(np.log(30 / 970), abs=1e-6)
    for alpha, gamma in [(None, 2.0), (0.25, 2.0), (0.75, 1.0)]:
        c = focal_init_score(y, alpha=alpha, gamma=gamma)
        best = focal_loss(y, np.full(y.shape, c), alpha=alpha, gamma=gamma).mean()
        for d in (-0.05, 0.05):
            other = focal_loss(y, np.full(y.shape, c + d), alpha=alpha, gamma=gamma).mean()
            assert other > best


def test_gamma_zero_reproduces_lightgbm_binary(frame):
    # same trees as LightGBM's own binary objective: checks the gradient, the Hessian and
    # predict_proba = sigmoid(raw + init_score) (row / column sampling off, the default:
    # LightGBM draws its bagging differently with a custom objective)
    X, y = frame
    ours = FocalLGBMClassifier(focal_gamma=0.0, **KW).fit(X, y)
    ref = ImbalancedLGBMClassifier(class_weight=None, **KW).fit(X, y)
    assert ours.init_score_ == pytest.approx(np.log(y.mean() / (1 - y.mean())), abs=1e-6)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-7)


def test_predict_proba_is_sigmoid_of_raw_plus_init(frame):
    X, y = frame
    clf = FocalLGBMClassifier(focal_alpha=0.25, focal_gamma=2.0, **KW).fit(X, y)
    raw = clf.booster_.predict(clf._encode(X), raw_score=True)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba[:, 1], expit(raw + clf.init_score_))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert clf.init_score_ != 0.0
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[(proba[:, 1] >= 0.5).astype(int)])


def test_focal_learns_and_is_reproducible(frame):
    X, y = frame
    n = 4500
    clf = FocalLGBMClassifier(focal_gamma=2.0, **KW).fit(X.iloc[:n], y[:n])
    p = clf.predict_proba(X.iloc[n:])[:, 1]
    assert average_precision_score(y[n:], p) > 1.5 * y[n:].mean()  # random: ~1x
    again = FocalLGBMClassifier(focal_gamma=2.0, **KW).fit(X.iloc[:n], y[:n])
    np.testing.assert_array_equal(p, again.predict_proba(X.iloc[n:])[:, 1])


def test_early_stopping_on_focal_loss(frame):
    X, y = frame
    clf = FocalLGBMClassifier(
        n_estimators=400,
        learning_rate=0.3,
        early_stopping_rounds=5,
        validation_fraction=0.2,
        n_jobs=1,
        random_state=0,
    ).fit(X, y)
    assert 1 <= clf.n_estimators_ < 400
    assert clf.estimator_.best_score_["valid_0"]["focal_loss"] > 0


def test_alpha_and_class_weight_shift_probabilities_up(frame):
    X, y = frame
    base = FocalLGBMClassifier(**KW).fit(X, y).predict_proba(X)[:, 1].mean()
    up = FocalLGBMClassifier(focal_alpha=0.9, **KW).fit(X, y).predict_proba(X)[:, 1].mean()
    bal = FocalLGBMClassifier(class_weight="balanced", **KW).fit(X, y)
    assert up > base and bal.predict_proba(X)[:, 1].mean() > base
    ratio = bal.class_weight_[1] / bal.class_weight_[0]
    assert ratio == pytest.approx((y == 0).sum() / (y == 1).sum())


def test_sample_weight_is_used(frame):
    X, y = frame
    w = np.where(y == 1, 5.0, 1.0)
    plain = FocalLGBMClassifier(**KW).fit(X, y).predict_proba(X)[:, 1]
    weighted = FocalLGBMClassifier(**KW).fit(X, y, sample_weight=w).predict_proba(X)[:, 1]
    assert weighted.mean() > plain.mean()


def test_binary_only(frame):
    X, _ = frame
    y3 = np.arange(len(X)) % 3
    with pytest.raises(ValueError, match="Only binary classification"):
        FocalLGBMClassifier(**KW).fit(X, y3)


def test_pickle_round_trip(frame):
    X, y = frame
    clf = FocalLGBMClassifier(**KW).fit(X, y)
    clone = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(clf.predict_proba(X), clone.predict_proba(X))


def test_deprecated_alpha_gamma_imbalance(frame):
    X, y = frame
    new = FocalLGBMClassifier(focal_alpha=0.25, focal_gamma=1.0, class_weight="sqrt", **KW)
    old = FocalLGBMClassifier(alpha=0.25, gamma=1.0, imbalance="sqrt", **KW)
    with pytest.warns(FutureWarning) as record:
        old.fit(X, y)
    assert sorted(str(w.message).split(": the parameter ")[1].split(";")[0] for w in record) == [
        "alpha was renamed focal_alpha",
        "gamma was renamed focal_gamma",
        "imbalance was renamed class_weight",
    ]
    assert record[0].filename == __file__  # the warning points at the caller
    np.testing.assert_array_equal(old.predict_proba(X), new.fit(X, y).predict_proba(X))
    with pytest.raises(ValueError, match="deprecated alias of focal_gamma"):
        FocalLGBMClassifier(focal_gamma=1.0, gamma=2.0, **KW).fit(X, y)


def test_lightgbm_parameters_and_verbose(frame, capfd):
    X, y = frame
    clf = FocalLGBMClassifier(verbose=-1, max_bin=31, min_data_in_bin=5, **KW).fit(X, y)
    assert "[LightGBM]" not in capfd.readouterr().out
    assert clf.booster_.params["max_bin"] == 31
    with pytest.raises(ValueError, match="objective of FocalLGBMClassifier is the focal loss"):
        FocalLGBMClassifier(objective="binary", **KW).fit(X, y)
