import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from sklearn_recsys.boosting import ImbalancedLGBMClassifier

KW = {"n_estimators": 30, "n_jobs": 1, "random_state": 0}


def test_id_and_category_columns_are_lightgbm_categoricals(frame):
    X, y = frame
    clf = ImbalancedLGBMClassifier(**KW).fit(X, y)
    assert clf.categorical_features_ == ["user_id", "item_id", "category"]
    tree_info = clf.booster_.dump_model()["tree_info"]

    def split_kinds(node, out):
        if "split_feature" in node:
            out.add((node["split_feature"], node["decision_type"]))
            split_kinds(node["left_child"], out)
            split_kinds(node["right_child"], out)
        return out

    kinds = set().union(*(split_kinds(t["tree_structure"], set()) for t in tree_info))
    names = list(X.columns)
    cat_splits = {names[f] for f, d in kinds if d == "=="}
    assert cat_splits and cat_splits <= {"user_id", "item_id", "category"}
    assert all(d == "<=" for f, d in kinds if names[f] not in clf.categorical_features_)


def test_string_ids_and_unseen_ids_at_predict(frame):
    X, y = frame
    Xs = X.assign(user_id="u" + X["user_id"].astype(str), item_id="i" + X["item_id"].astype(str))
    clf = ImbalancedLGBMClassifier(**KW).fit(Xs, y)
    p = clf.predict_proba(Xs)[:, 1]
    # integer and string ids give the same model (ids only need to be distinct)
    np.testing.assert_allclose(p, ImbalancedLGBMClassifier(**KW).fit(X, y).predict_proba(X)[:, 1])
    cold = Xs.head(5).assign(user_id="new-user", item_id="new-item")
    assert np.isfinite(clf.predict_proba(cold)).all()
    np.testing.assert_allclose(
        clf.predict_proba(cold),
        clf.predict_proba(cold.assign(user_id="other-new", item_id="other-item")),
    )


@pytest.mark.parametrize("imbalance, power", [("balanced", 1.0), ("sqrt", 0.5), (None, 0.0)])
def test_imbalance_presets(frame, imbalance, power):
    X, y = frame
    clf = ImbalancedLGBMClassifier(imbalance=imbalance, **KW).fit(X, y)
    ratio = (y == 0).sum() / (y == 1).sum()
    assert clf.class_weight_[0] == 1.0
    assert clf.class_weight_[1] == pytest.approx(ratio**power)


def test_balanced_equals_row_weights_and_raises_probabilities(frame):
    X, y = frame
    bal = ImbalancedLGBMClassifier(imbalance="balanced", **KW).fit(X, y)
    w = np.where(y == 1, bal.class_weight_[1], 1.0)
    by_hand = ImbalancedLGBMClassifier(imbalance=None, **KW).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(bal.predict_proba(X), by_hand.predict_proba(X), atol=1e-9)
    plain = ImbalancedLGBMClassifier(imbalance=None, **KW).fit(X, y)
    # the log loss keeps the (weighted) mean probability at the (weighted) positive rate
    assert plain.predict_proba(X)[:, 1].mean() == pytest.approx(y.mean(), abs=0.01)
    assert np.average(bal.predict_proba(X)[:, 1], weights=w) == pytest.approx(0.5, abs=0.05)


def test_multiclass_balanced_weights():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=600), "b": rng.normal(size=600)})
    y = np.repeat(["x", "y", "z"], [450, 120, 30])
    clf = ImbalancedLGBMClassifier(**KW).fit(X, y)
    counts = np.array([450, 120, 30])
    np.testing.assert_allclose(list(clf.class_weight_.values()), counts[0] / counts)
    assert clf.predict_proba(X).shape == (600, 3)
    assert set(clf.predict(X)) <= {"x", "y", "z"}


def test_early_stopping_uses_a_stratified_fraction(frame):
    X, y = frame
    clf = ImbalancedLGBMClassifier(n_estimators=300, learning_rate=0.3, early_stopping_rounds=5,
                                   n_jobs=1, random_state=0).fit(X, y)
    assert 1 <= clf.n_estimators_ < 300
    assert clf.n_estimators_ == clf.estimator_.best_iteration_


def test_early_stopping_needs_two_rows_per_class(frame):
    X, y = frame
    y1 = np.zeros_like(y)
    y1[0] = 1
    with pytest.raises(ValueError, match="at least 2 rows of every class"):
        ImbalancedLGBMClassifier(early_stopping_rounds=3, **KW).fit(X, y1)


def test_regularisation_reaches_lightgbm(frame):
    X, y = frame
    clf = ImbalancedLGBMClassifier(reg_alpha=0.5, reg_lambda=3.0, min_child_samples=40,
                                   subsample=0.7, colsample_bytree=0.6,
                                   lgbm_params={"max_bin": 31}, **KW).fit(X, y)
    params = clf.booster_.params
    assert params["reg_alpha"] == 0.5 and params["reg_lambda"] == 3.0
    assert params["min_child_samples"] == 40 and params["max_bin"] == 31
    assert params["subsample"] == 0.7 and params["colsample_bytree"] == 0.6


def test_bad_input_errors(frame):
    X, y = frame
    with pytest.raises(ValueError, match="categorical_features='nope' is not a column"):
        ImbalancedLGBMClassifier(categorical_features=["nope"], **KW).fit(X, y)
    with pytest.raises(TypeError, match="column 'when' of X has dtype datetime64"):
        ImbalancedLGBMClassifier(**KW).fit(X.assign(when=pd.Timestamp("2026-01-01")), y)
    with pytest.raises(TypeError, match="column 'category' of X has dtype category"):
        ImbalancedLGBMClassifier(categorical_features=["user_id"], **KW).fit(X, y)
    with pytest.raises(ValueError, match="missing"):
        ImbalancedLGBMClassifier(**KW).fit(X.assign(user_id=np.nan), y)
    clf = ImbalancedLGBMClassifier(**KW).fit(X, y)
    with pytest.raises(TypeError, match="fitted on a DataFrame with categorical columns"):
        clf.predict_proba(X.to_numpy())
    with pytest.raises(ValueError, match="feature names"):
        clf.predict_proba(X.drop(columns="price"))
    with pytest.raises(ValueError, match="imbalance"):
        ImbalancedLGBMClassifier(imbalance="up").fit(X, y)


def test_array_input_with_categorical_positions():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.integers(0, 5, 400), rng.normal(size=400)])
    y = (X[:, 0] == 3) | (rng.random(400) < 0.05)
    clf = ImbalancedLGBMClassifier(categorical_features=[0], min_child_samples=5, **KW).fit(X, y)
    assert clf.categorical_features_ == [0]
    assert clf.predict_proba(X[X[:, 0] == 3])[:, 1].mean() > 0.8
    with pytest.raises(ValueError, match="column positions"):
        ImbalancedLGBMClassifier(categorical_features=["a"], **KW).fit(X, y)


def test_clone_pickle_reproducible(frame):
    X, y = frame
    clf = ImbalancedLGBMClassifier(**KW).fit(X, y)
    again = clone(clf).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), again.predict_proba(X))
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(clf.predict_proba(X), loaded.predict_proba(X))
