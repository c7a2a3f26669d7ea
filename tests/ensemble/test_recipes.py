import pickle

import numpy as np
import pytest
from imblearn.ensemble import (
    BalancedBaggingClassifier,
    BalancedRandomForestClassifier,
    EasyEnsembleClassifier,
    RUSBoostClassifier,
)
from imblearn.pipeline import Pipeline
from imblearn.under_sampling import RandomUnderSampler
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import StackingClassifier
from sklearn.metrics import average_precision_score
from sklearn.model_selection import StratifiedKFold

from sklearn_recsys.boosting import ImbalancedLGBMClassifier
from sklearn_recsys.datasets import make_interactions
from sklearn_recsys.ensemble import (
    CategoricalColumns,
    _recipes,
    make_balanced_bagging,
    make_balanced_random_forest,
    make_easy_ensemble,
    make_rusboost,
    make_stacking,
)


@pytest.fixture(scope="module")
def data():
    df = make_interactions(300, 150, 5000, positive_rate=0.1, random_state=0).interactions
    # string ids: the recipes must encode them, not choke on them
    df = df.assign(user_id="u" + df["user_id"].astype(str))
    X, y = df.drop(columns="purchase"), df["purchase"].to_numpy()
    return X.iloc[:4000], y[:4000], X.iloc[4000:], y[4000:]


RECIPES = [
    (make_balanced_bagging, {"n_estimators": 3}, BalancedBaggingClassifier),
    (make_easy_ensemble, {"n_estimators": 2}, EasyEnsembleClassifier),
    (make_rusboost, {"n_estimators": 10}, RUSBoostClassifier),
    (make_balanced_random_forest, {"n_estimators": 20}, BalancedRandomForestClassifier),
]


@pytest.mark.parametrize("recipe, kwargs, cls", RECIPES)
def test_recipes_are_plain_pipelines_on_the_interaction_frame(data, recipe, kwargs, cls):
    X, y, X_test, y_test = data
    model = recipe(**kwargs, random_state=0)
    assert isinstance(model, Pipeline) and isinstance(model.named_steps["model"], cls)
    if cls is EasyEnsembleClassifier:
        model.set_params(model__estimator__n_estimators=10)
    model.fit(X, y)
    p = model.predict_proba(X_test)[:, 1]
    assert average_precision_score(y_test, p) > 1.3 * y_test.mean()  # chance: 1x
    # balanced training lifts the scores of the rare class well above its base rate
    assert p.mean() > 2 * y.mean()
    cold = X_test.head(3).assign(user_id="never-seen", item_id=-1)
    assert np.isfinite(model.predict_proba(cold)).all()
    again = clone(model).fit(X, y)
    np.testing.assert_array_equal(p, again.predict_proba(X_test)[:, 1])


def test_encoder_ordinal_encodes_ids_and_categories(data):
    X, y, X_test, _ = data
    model = make_rusboost(n_estimators=2, random_state=0).fit(X, y)
    enc = model.named_steps["encode"]
    Z = enc.transform(X_test)
    assert Z.dtype == np.float64 and Z.shape == (len(X_test), X.shape[1])
    assert CategoricalColumns()(X) == ["user_id", "item_id", "category"]
    assert CategoricalColumns(invert=True)(X) == ["price", "position", "timestamp"]
    assert CategoricalColumns()(np.zeros((2, 3))) == []


def test_regularisation_is_reachable_through_params():
    bag = make_balanced_bagging(random_state=0)
    base = bag.get_params()["model__estimator"]
    assert isinstance(base, ImbalancedLGBMClassifier)
    assert (base.reg_lambda, base.subsample, base.colsample_bytree) == (1.0, 0.8, 0.8)
    bag.set_params(model__estimator__reg_lambda=5.0, model__estimator__min_child_samples=50)
    assert bag.named_steps["model"].estimator.reg_lambda == 5.0
    rus = make_rusboost(random_state=0)
    assert rus.get_params()["model__estimator__min_samples_leaf"] == 10
    brf = make_balanced_random_forest(min_samples_leaf=7, random_state=0)
    assert brf.named_steps["model"].min_samples_leaf == 7


def test_sampler_is_the_first_step_and_runs_in_fit_only(data):
    X, y, X_test, _ = data
    model = make_balanced_bagging(
        n_estimators=2,
        sampler=RandomUnderSampler(sampling_strategy=0.5, random_state=0),
        random_state=0,
    )
    assert list(model.named_steps) == ["sampler", "encode", "model"]
    model.fit(X, y)
    assert model.predict_proba(X_test).shape == (len(X_test), 2)  # no re-sampling at predict


def test_stacking_without_neural_is_calibrated_under_stratified_cv(data, monkeypatch):
    X, y, X_test, y_test = data
    monkeypatch.setattr(_recipes, "_neural_class", lambda: None)
    model = make_stacking(cv=3, random_state=0)
    assert isinstance(model, StackingClassifier)
    assert [name for name, _ in model.estimators] == ["lgbm", "logreg"]
    assert isinstance(model.cv, StratifiedKFold) and model.cv.shuffle
    assert isinstance(model.final_estimator, CalibratedClassifierCV)
    model.fit(X, y)
    p = model.predict_proba(X_test)[:, 1]
    # calibrated: the mean probability is the positive rate although the base models are
    # class-weighted (their own mean probability is far above it)
    assert abs(p.mean() - y_test.mean()) < 0.03
    assert model.named_estimators_["lgbm"].predict_proba(X_test)[:, 1].mean() > 1.5 * p.mean()
    assert average_precision_score(y_test, p) > 1.3 * y_test.mean()
    with pytest.raises(ImportError, match="include_neural=True"):
        make_stacking(include_neural=True)
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(p, loaded.predict_proba(X_test)[:, 1])


@pytest.mark.slow
def test_stacking_includes_the_neural_ranker_when_available(data):
    pytest.importorskip("sklearn_recsys.neural")
    X, y, X_test, _ = data
    model = make_stacking(cv=2, random_state=0)
    assert [name for name, _ in model.estimators] == ["neural", "lgbm", "logreg"]
    model.set_params(neural__max_epochs=2, lgbm__n_estimators=20)
    model.fit(X.iloc[:800], y[:800])
    p = model.predict_proba(X_test)[:, 1]
    assert np.isfinite(p).all() and 0 < p.mean() < 0.5


def test_recipes_read_the_id_columns_by_any_name(data):
    X, y, X_test, _ = data
    ren = {"user_id": "uid", "item_id": "iid"}
    ref = make_rusboost(n_estimators=5, random_state=0).fit(X, y)
    ours = make_rusboost(n_estimators=5, user_col="uid", item_col="iid", random_state=0)
    ours.fit(X.rename(columns=ren), y)
    np.testing.assert_array_equal(
        ours.predict_proba(X_test.rename(columns=ren)), ref.predict_proba(X_test)
    )
    assert CategoricalColumns(user_col="uid", item_col="iid")(X.rename(columns=ren)) == [
        "uid",
        "iid",
        "category",
    ]
    # a name that is not a column is an error naming the parameter
    with pytest.raises(ValueError, match="user_col='uid' is not a column of X"):
        make_rusboost(n_estimators=2, user_col="uid", random_state=0).fit(X, y)
    # the default names apply when present; None: not an id column
    assert CategoricalColumns()(X[["price", "category"]]) == ["category"]
    assert CategoricalColumns(user_col=None, item_col=None)(X.assign(user_id=1, item_id=2)) == [
        "category"
    ]
    # an array: positions only
    assert CategoricalColumns(user_col=0)(np.zeros((2, 3))) == [0]
    assert CategoricalColumns(user_col=0, invert=True)(np.zeros((2, 3))) == [1, 2]


def test_stacking_members_share_the_id_columns():
    model = make_stacking(include_neural=False, user_col="uid", item_col="iid", random_state=0)
    lgbm = dict(model.estimators)["lgbm"]
    assert (lgbm.user_col, lgbm.item_col, lgbm.class_weight) == ("uid", "iid", "balanced")
    encode = dict(model.estimators)["logreg"].named_steps["encode"]
    assert all((sel.user_col, sel.item_col) == ("uid", "iid") for _, _, sel in encode.transformers)


def test_deprecated_id_cols(data):
    X, y, X_test, _ = data
    ren = X.rename(columns={"user_id": "uid", "item_id": "iid"})
    with pytest.warns(FutureWarning, match="make_rusboost: id_cols is deprecated"):
        old = make_rusboost(n_estimators=5, id_cols=("uid", "iid"), random_state=0)
    new = make_rusboost(n_estimators=5, user_col="uid", item_col="iid", random_state=0)
    np.testing.assert_array_equal(
        old.fit(ren, y).predict_proba(ren), new.fit(ren, y).predict_proba(ren)
    )
    with pytest.raises(ValueError, match="deprecated alias of user_col / item_col"):
        make_rusboost(id_cols=("uid", "iid"), user_col="uid")
    with pytest.warns(FutureWarning, match="CategoricalColumns: id_cols is deprecated"):
        selector = CategoricalColumns(("uid", "nope"))
    assert selector(ren) == ["uid", "category"]  # the old meaning: the ones present
