import pickle
import warnings

import lightgbm
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
    # zero-padded, so that the string ids sort like the integers: the same ids, the same codes
    Xs = X.assign(
        user_id="u" + X["user_id"].astype(str).str.zfill(4),
        item_id="i" + X["item_id"].astype(str).str.zfill(4),
    )
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


@pytest.mark.parametrize("class_weight, power", [("balanced", 1.0), ("sqrt", 0.5), (None, 0.0)])
def test_class_weight_presets(frame, class_weight, power):
    X, y = frame
    clf = ImbalancedLGBMClassifier(class_weight=class_weight, **KW).fit(X, y)
    n, n_pos = len(y), (y == 1).sum()
    # LightGBM's (and scikit-learn's) "balanced": n / (k n_c); "sqrt": its square root
    assert clf.class_weight_[0] == pytest.approx((n / (2 * (n - n_pos))) ** power)
    assert clf.class_weight_[1] == pytest.approx((n / (2 * n_pos)) ** power)


def test_balanced_equals_row_weights_and_raises_probabilities(frame):
    X, y = frame
    bal = ImbalancedLGBMClassifier(class_weight="balanced", **KW).fit(X, y)
    w = np.where(y == 1, bal.class_weight_[1], bal.class_weight_[0])
    by_hand = ImbalancedLGBMClassifier(class_weight=None, **KW).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(bal.predict_proba(X), by_hand.predict_proba(X), atol=1e-9)
    plain = ImbalancedLGBMClassifier(class_weight=None, **KW).fit(X, y)
    # the log loss keeps the (weighted) mean probability at the (weighted) positive rate
    assert plain.predict_proba(X)[:, 1].mean() == pytest.approx(y.mean(), abs=0.01)
    assert np.average(bal.predict_proba(X)[:, 1], weights=w) == pytest.approx(0.5, abs=0.05)
    # a dict keeps LightGBM's meaning: {label: weight}, other classes 1
    as_dict = ImbalancedLGBMClassifier(class_weight={1: 5.0}, **KW).fit(X, y)
    assert as_dict.class_weight_ == {0: 1.0, 1: 5.0}


def test_multiclass_balanced_weights():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=600), "b": rng.normal(size=600)})
    y = np.repeat(["x", "y", "z"], [450, 120, 30])
    clf = ImbalancedLGBMClassifier(**KW).fit(X, y)
    counts = np.array([450, 120, 30])
    np.testing.assert_allclose(list(clf.class_weight_.values()), 600 / (3 * counts))
    assert clf.predict_proba(X).shape == (600, 3)
    assert set(clf.predict(X)) <= {"x", "y", "z"}


def test_early_stopping_uses_a_stratified_fraction(frame):
    X, y = frame
    clf = ImbalancedLGBMClassifier(
        n_estimators=300, learning_rate=0.3, early_stopping_rounds=5, n_jobs=1, random_state=0
    ).fit(X, y)
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
    clf = ImbalancedLGBMClassifier(
        reg_alpha=0.5,
        reg_lambda=3.0,
        min_child_samples=40,
        subsample=0.7,
        colsample_bytree=0.6,
        max_bin=31,
        **KW,
    ).fit(X, y)
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
    with pytest.raises(ValueError, match="class_weight"):
        ImbalancedLGBMClassifier(class_weight="up").fit(X, y)


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


# ---------------------------------------------------------------- drop-in LightGBM
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"num_leaves": 7, "learning_rate": 0.2, "reg_lambda": 2.0, "min_child_samples": 10},
        {"subsample": 0.7, "subsample_freq": 1, "colsample_bytree": 0.5, "max_bin": 63},
    ],
)
def test_same_predictions_as_lgbmclassifier(frame, params):
    # on a numeric frame, with the same parameters (LightGBM's defaults for the others),
    # the wrapper is LightGBM: same trees, same probabilities
    X, y = frame
    num = X[["price", "position", "timestamp"]]
    kw = {"n_estimators": 30, "random_state": 0, "n_jobs": 1, **params}
    ours = ImbalancedLGBMClassifier(class_weight=None, **kw).fit(num, y).predict_proba(num)
    ref = lightgbm.LGBMClassifier(verbose=-1, **kw).fit(num, y).predict_proba(num)
    np.testing.assert_allclose(ours, ref)
    # our default class_weight is LightGBM's "balanced", to the bit
    ours = ImbalancedLGBMClassifier(**kw).fit(num.to_numpy(), y).predict_proba(num.to_numpy())
    ref = (
        lightgbm.LGBMClassifier(class_weight="balanced", verbose=-1, **kw)
        .fit(num.to_numpy(), y)
        .predict_proba(num.to_numpy())
    )
    np.testing.assert_allclose(ours, ref)


def test_lightgbm_defaults_and_kwargs():
    ours = ImbalancedLGBMClassifier().get_params()
    theirs = lightgbm.LGBMClassifier().get_params()
    differ = {k for k in theirs if k in ours and ours[k] != theirs[k]}
    assert differ == {"class_weight"}  # "balanced", documented
    assert set(theirs) <= set(ours)
    # LightGBM's **kwargs: stored, cloned, settable, passed to LightGBM
    clf = ImbalancedLGBMClassifier(max_bin=15, n_estimators=5)
    assert clf.get_params()["max_bin"] == 15 and clone(clf).get_params()["max_bin"] == 15
    assert "max_bin=15" in repr(clf)
    clf.set_params(max_bin=31, min_data_in_bin=5)
    X = np.random.default_rng(0).normal(size=(200, 3))
    y = (X[:, 0] > 0).astype(int)
    assert clf.fit(X, y).booster_.params["max_bin"] == 31
    assert clf.booster_.params["min_data_in_bin"] == 5
    gain = ImbalancedLGBMClassifier(importance_type="gain", n_estimators=5).fit(X, y)
    np.testing.assert_allclose(gain.feature_importances_, gain.booster_.feature_importance("gain"))
    # a RandomState draws LightGBM's seed, as LightGBM does
    rs = ImbalancedLGBMClassifier(
        random_state=np.random.RandomState(0), subsample=0.5, subsample_freq=1, n_estimators=5
    ).fit(X, y)
    assert isinstance(rs.booster_.params["random_state"], int)


def test_verbose_minus_one_is_silent(frame, capfd):
    X, y = frame
    ImbalancedLGBMClassifier(verbose=-1, **KW).fit(X, y)
    assert "[LightGBM]" not in capfd.readouterr().out
    ImbalancedLGBMClassifier(verbose=1, n_estimators=2, n_jobs=1).fit(X, y)
    assert "[LightGBM] [Info]" in capfd.readouterr().out


# ---------------------------------------------------------------- id columns
def test_id_columns_by_any_name(frame):
    X, y = frame
    ref = ImbalancedLGBMClassifier(**KW).fit(X, y)
    renamed = X.rename(columns={"user_id": "uid", "item_id": "iid"})
    clf = ImbalancedLGBMClassifier(user_col="uid", item_col="iid", **KW).fit(renamed, y)
    assert clf.categorical_features_ == ["uid", "iid", "category"]
    np.testing.assert_array_equal(clf.predict_proba(renamed), ref.predict_proba(X))
    # a name that is not a column is an error naming the parameter, never a silent number
    with pytest.raises(ValueError, match="user_col='uid' is not a column of X"):
        ImbalancedLGBMClassifier(user_col="uid", **KW).fit(X, y)
    with pytest.raises(ValueError, match="must differ"):
        ImbalancedLGBMClassifier(user_col="uid", item_col="uid", **KW).fit(renamed, y)
    with pytest.raises(ValueError, match="names a column, but X is an array"):
        ImbalancedLGBMClassifier(user_col="uid", **KW).fit(renamed[["price"]].to_numpy(), y)


def test_ids_are_never_numbers(frame):
    X, y = frame
    # float ids, and no other categorical column asked for: still categorical ids
    Xf = X.assign(user_id=X["user_id"] * 1.5)
    clf = ImbalancedLGBMClassifier(categorical_features=None, **KW).fit(
        Xf.drop(columns="category"), y
    )
    assert clf.categorical_features_ == ["user_id", "item_id"]
    # only None makes the column a plain number
    num = ImbalancedLGBMClassifier(
        user_col=None, item_col=None, categorical_features=None, **KW
    ).fit(X.drop(columns="category"), y)
    assert num.categorical_features_ == []


def test_id_columns_by_position_in_an_array(frame):
    X, y = frame
    cols = ["user_id", "item_id", "price", "position"]
    by_name = ImbalancedLGBMClassifier(**KW).fit(X[cols], y)
    A = X[cols].to_numpy(dtype=float)
    by_pos = ImbalancedLGBMClassifier(user_col=0, item_col=1, **KW).fit(A, y)
    assert by_pos.categorical_features_ == [0, 1]
    np.testing.assert_array_equal(by_pos.predict_proba(A), by_name.predict_proba(X[cols]))
    # the default names do not apply to an array: its columns are plain numbers there
    assert ImbalancedLGBMClassifier(**KW).fit(A, y).categorical_features_ == []
    cold = A[:3].copy()
    cold[:, 0] = -7
    assert np.isfinite(by_pos.predict_proba(cold)).all()


# ---------------------------------------------------------------- deprecated names
def test_deprecated_imbalance_and_lgbm_params(frame):
    X, y = frame
    with pytest.warns(FutureWarning, match="imbalance was renamed class_weight"):
        old = ImbalancedLGBMClassifier(imbalance="sqrt", **KW).fit(X, y)
    new = ImbalancedLGBMClassifier(class_weight="sqrt", **KW).fit(X, y)
    np.testing.assert_array_equal(old.predict_proba(X), new.predict_proba(X))
    with pytest.raises(ValueError, match="deprecated alias of class_weight"):
        ImbalancedLGBMClassifier(class_weight="sqrt", imbalance=None, **KW).fit(X, y)
    with pytest.warns(FutureWarning, match="lgbm_params is deprecated"):
        old = ImbalancedLGBMClassifier(lgbm_params={"max_bin": 31}, **KW).fit(X, y)
    assert old.booster_.params["max_bin"] == 31
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ImbalancedLGBMClassifier(**KW).fit(X, y)
