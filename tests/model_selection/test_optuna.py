"""OptunaSearchCV: conformance, folds, pruning, resume, the pitfalls of optuna-integration's
OptunaSearchCV, errors, the deprecated OptunaSearch alias."""

import numpy as np
import optuna
import pandas as pd
import pytest
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import Pipeline
from imblearn.under_sampling import RandomUnderSampler
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from sklearn.datasets import make_classification
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.tree import DecisionTreeClassifier

from sklearn_recsys.model_selection import OptunaSearchCV
from sklearn_recsys.model_selection._spaces import StepChoice

TREE_SPACE = {"max_depth": IntDistribution(1, 6), "min_samples_leaf": IntDistribution(1, 20)}


@pytest.fixture(scope="module")
def Xy():
    return make_classification(
        n_samples=240, n_features=6, n_informative=3, weights=[0.85], random_state=0
    )


def tree_search(**kw):
    kw.setdefault("n_trials", 4)
    kw.setdefault("cv", 3)
    kw.setdefault("random_state", 0)
    return OptunaSearchCV(DecisionTreeClassifier(random_state=0), TREE_SPACE, **kw)


# (scikit-learn conformance: tests/test_common.py)


# ---------------------------------------------------------------- folds
def test_default_cv_stratifies_and_groups_users(small_interactions):
    X = small_interactions.interactions.drop(columns="purchase")
    y = small_interactions.interactions["purchase"].to_numpy()
    splits = OptunaSearchCV(DummyClassifier())._splits(X, y, None)
    assert len(splits) == 5
    rate = y.mean()
    for train, test in splits:
        assert set(X.user_id.iloc[train]).isdisjoint(X.user_id.iloc[test])
        assert abs(y[test].mean() - rate) < 0.5 * rate  # stratified, despite whole users
    assert np.array_equal(np.sort(np.concatenate([te for _, te in splits])), np.arange(len(X)))


def test_default_cv_groups_users_for_graded_targets(small_interactions):
    X = small_interactions.interactions.drop(columns="purchase")
    y = X["price"].to_numpy()  # continuous: no stratification, users still grouped
    for train, test in OptunaSearchCV(DummyClassifier(), cv=4)._splits(X, y, None):
        assert set(X.user_id.iloc[train]).isdisjoint(X.user_id.iloc[test])


def test_default_cv_without_user_column_is_stratified(Xy):
    X, y = Xy
    splits = OptunaSearchCV(DummyClassifier(), cv=4)._splits(X, y, None)
    positives = [int(y[te].sum()) for _, te in splits]
    assert max(positives) - min(positives) <= 1


def test_every_trial_sees_the_same_shuffled_folds(Xy):
    # optuna_integration.OptunaSearchCV re-splits per trial: a shuffling cv without
    # random_state then gives every trial (and the pruner) other folds. Here the folds are
    # fixed once per fit.
    X, y = Xy
    search = OptunaSearchCV(
        DecisionTreeClassifier(random_state=0),
        {"max_depth": CategoricalDistribution([3])},
        n_trials=4,
        cv=StratifiedKFold(3, shuffle=True),
        pruner="none",
        random_state=0,
    )
    res = search.fit(X, y).cv_results_
    folds = res[[f"split{k}_test_score" for k in range(3)]].to_numpy()
    assert np.all(folds == folds[0])
    assert len(np.unique(folds[0])) > 1  # real, differing fold scores


# ---------------------------------------------------------------- search behaviour
def test_fit_finds_the_better_region_and_refits(Xy):
    X, y = Xy
    search = tree_search(n_trials=12, scoring="roc_auc", pruner="none").fit(X, y)
    res = search.cv_results_
    assert len(res) == 12 and search.n_trials_ == 12
    assert search.best_score_ == pytest.approx(res["mean_test_score"].max())
    assert res.loc[search.best_index_, "rank_test_score"] == 1
    assert search.best_params_ == search.best_trial_.params
    assert search.best_estimator_.get_params()["max_depth"] == search.best_params_["max_depth"]
    # the best tree is a real improvement over a stump
    stump = res.loc[res["param_max_depth"] == 1, "mean_test_score"]
    assert stump.empty or search.best_score_ > stump.max()
    assert search.predict_proba(X).shape == (len(X), 2)
    assert search.score(X, y) > 0.8
    np.testing.assert_array_equal(search.classes_, [0, 1])


def test_delegation_follows_the_best_estimator(Xy):
    X, y = Xy
    search = tree_search(n_trials=2).fit(X, y)
    np.testing.assert_array_equal(search.predict(X), search.best_estimator_.predict(X))
    assert search.predict.__name__ == "predict" and "best estimator" in search.predict.__doc__
    for method in ("decision_function", "transform", "score_samples"):  # trees have none
        assert not hasattr(search, method)
    scaled = OptunaSearchCV(
        Pipeline([("clf", LogisticRegression())]),
        {"clf__C": FloatDistribution(0.1, 1.0)},
        n_trials=1,
        cv=2,
        random_state=0,
    ).fit(X, y)
    np.testing.assert_allclose(
        scaled.decision_function(X), scaled.best_estimator_.decision_function(X)
    )
    np.testing.assert_allclose(
        scaled.predict_log_proba(X), scaled.best_estimator_.predict_log_proba(X)
    )
    with pytest.raises(AttributeError, match="has no attribute 'predict'"):
        tree_search(n_trials=1, refit=False).fit(X, y).predict(X)


def test_optuna_search_is_a_deprecated_alias(Xy):
    from sklearn_recsys.model_selection import OptunaSearch

    X, y = Xy
    old = OptunaSearch(
        DecisionTreeClassifier(random_state=0), TREE_SPACE, n_trials=3, cv=3, random_state=0
    )
    with pytest.warns(FutureWarning, match="use OptunaSearchCV"):
        old.fit(X, y)
    new = tree_search(n_trials=3).fit(X, y)
    assert old.best_params_ == new.best_params_
    pd.testing.assert_series_equal(
        old.cv_results_["mean_test_score"], new.cv_results_["mean_test_score"]
    )


def test_reproducible_under_random_state(Xy):
    X, y = Xy
    a = tree_search(n_trials=6).fit(X, y).cv_results_
    b = tree_search(n_trials=6).fit(X, y).cv_results_
    pd.testing.assert_series_equal(a["param_max_depth"], b["param_max_depth"])
    pd.testing.assert_series_equal(a["mean_test_score"], b["mean_test_score"])


def test_pruning_stops_bad_trials_after_few_folds(Xy):
    X, y = Xy
    pipe = Pipeline([("clf", LogisticRegression())])
    space = {
        "clf": StepChoice(
            {
                "good": LogisticRegression(),
                "bad": DummyClassifier(strategy="uniform", random_state=0),
            },
            spaces={},
        )
    }
    search = OptunaSearchCV(
        pipe,
        space,
        n_trials=14,
        cv=4,
        scoring="roc_auc",
        sampler=optuna.samplers.RandomSampler(seed=0),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0),
        random_state=0,
    ).fit(X, y)
    res = search.cv_results_
    pruned = res[res["state"] == "PRUNED"]
    assert len(pruned) >= 2
    assert (pruned["param_clf"] == "bad").all()  # a good trial is never pruned
    assert (pruned["n_folds"] < 4).all()
    assert res["n_folds"].sum() < 4 * len(res)  # pruning saved fits
    assert (pruned["rank_test_score"] == (res["state"] == "COMPLETE").sum() + 1).all()
    assert search.best_params_["clf"].__class__ is LogisticRegression


def test_step_choice_over_samplers_records_labels_and_conditional_params(Xy):
    X, y = Xy
    pipe = Pipeline([("sampler", "passthrough"), ("clf", LogisticRegression())])
    space = {
        "sampler": StepChoice(
            {
                "none": "passthrough",
                "smote": SMOTE(random_state=0),
                "under": RandomUnderSampler(random_state=0),
            }
        ),
        "clf__C": FloatDistribution(0.01, 10, log=True),
    }
    search = OptunaSearchCV(
        pipe,
        space,
        n_trials=8,
        cv=3,
        scoring="average_precision",
        sampler=optuna.samplers.RandomSampler(seed=1),
        random_state=0,
    )
    res = search.fit(X, y).cv_results_
    assert set(res["param_sampler"]) <= {"none", "smote", "under"}
    assert len(set(res["param_sampler"])) >= 2
    smote = res["param_sampler"] == "smote"
    assert res.loc[smote, "param_sampler[smote]__k_neighbors"].notna().all()
    assert res.loc[~smote, "param_sampler[smote]__k_neighbors"].isna().all()
    label = search.best_trial_.params["sampler"]
    step = search.best_estimator_.named_steps["sampler"]
    expected = {"none": str, "smote": SMOTE, "under": RandomUnderSampler}[label]
    assert isinstance(step, expected)
    if label == "smote":
        assert step.k_neighbors == search.best_trial_.params["sampler[smote]__k_neighbors"]


def test_multi_objective_pareto_front(Xy):
    X, y = Xy
    search = OptunaSearchCV(
        LogisticRegression(),
        {
            "C": FloatDistribution(1e-3, 10, log=True),
            "class_weight": CategoricalDistribution([None, "balanced"]),
        },
        n_trials=10,
        cv=3,
        scoring=["precision", "recall"],
        refit="recall",
        random_state=0,
    ).fit(X, y)
    res = search.cv_results_
    front = search.pareto_front_
    assert 1 <= len(front) <= len(res)
    pts = res[["mean_test_precision", "mean_test_recall"]].to_numpy()
    fp = front[["mean_test_precision", "mean_test_recall"]].to_numpy()
    for p in fp:  # nothing dominates a front point
        assert not np.any(np.all(pts >= p, axis=1) & np.any(pts > p, axis=1))
    off = ~res["number"].isin(front["number"])
    for p in pts[off.to_numpy()]:  # every other point is dominated by the front
        assert np.any(np.all(fp >= p, axis=1) & np.any(fp > p, axis=1))
    assert search.best_score_ == pytest.approx(res["mean_test_recall"].max())
    assert search.score(X, y) == pytest.approx(
        search.scorer_["recall"](search.best_estimator_, X, y)
    )
    ax = search.plot_pareto_front()
    assert ax.get_xlabel() == "precision" and len(ax.collections) == 1


def test_timeout_without_n_trials(Xy):
    X, y = Xy
    search = tree_search(n_trials=None, timeout=0.5).fit(X, y)
    assert search.n_trials_ >= 1 and len(search.cv_results_) == search.n_trials_


def test_failing_fits_fail_the_trial_not_the_study(Xy):
    X, y = Xy
    space = {"C": CategoricalDistribution([1.0, -1.0])}  # C < 0 fails inside fit
    search = OptunaSearchCV(
        LogisticRegression(),
        space,
        n_trials=6,
        cv=2,
        sampler=optuna.samplers.RandomSampler(seed=0),
        random_state=0,
    )
    with pytest.warns(Warning, match="folds failed"):
        search.fit(X, y)
    res = search.cv_results_
    assert set(res.loc[res["param_C"] == -1.0, "state"]) == {"FAIL"}
    assert search.best_params_ == {"C": 1.0}
    with pytest.raises(ValueError, match="C"):
        OptunaSearchCV(
            LogisticRegression(),
            {"C": CategoricalDistribution([-1.0])},
            n_trials=1,
            cv=2,
            error_score="raise",
        ).fit(X, y)


def test_parallel_folds_match_sequential(Xy):
    import joblib

    X, y = Xy
    a = tree_search(n_trials=3).fit(X, y).cv_results_
    with joblib.parallel_config(backend="threading"):
        b = tree_search(n_trials=3, n_jobs=2).fit(X, y).cv_results_
    pd.testing.assert_series_equal(a["mean_test_score"], b["mean_test_score"])


def test_progress_bar_when_verbose(Xy, capsys):
    X, y = Xy
    tree_search(n_trials=2, verbose=1).fit(X, y)
    assert "2/2" in capsys.readouterr().err


def test_interaction_pipeline_end_to_end(small_interactions):
    from lightgbm import LGBMClassifier

    from sklearn_recsys.features import InteractionFeaturizer

    X = small_interactions.interactions.drop(columns="purchase")
    y = small_interactions.interactions["purchase"]
    pipe = Pipeline(
        [
            (
                "feat",
                InteractionFeaturizer(keep_id_columns=False, n_factors=2, cv=3, random_state=0),
            ),
            ("clf", LGBMClassifier(n_estimators=20, verbose=-1, n_jobs=1, random_state=0)),
        ]
    )
    space = {
        "clf": {
            "num_leaves": IntDistribution(4, 16, log=True),
            "class_weight": CategoricalDistribution([None, "balanced"]),
        }
    }
    search = OptunaSearchCV(
        pipe, space, n_trials=3, cv=3, scoring="average_precision", random_state=0
    ).fit(X, y)
    assert search.n_splits_ == 3
    assert search.cv_results_["state"].eq("COMPLETE").all()
    assert 0 < search.best_score_ < 1
    proba = search.predict_proba(X.head(50))[:, 1]
    assert np.all((proba >= 0) & (proba <= 1))


# ---------------------------------------------------------------- resume and leaks
def test_resume_continues_the_study(Xy, tmp_path):
    X, y = Xy
    url = f"sqlite:///{tmp_path}/tune.db"
    first = tree_search(n_trials=3, storage=url, study_name="s").fit(X, y)
    second = tree_search(n_trials=2, storage=url, study_name="s", random_state=1).fit(X, y)
    assert second.n_trials_ == 2
    assert len(second.cv_results_) == 5
    assert second.cv_results_["number"].tolist() == [0, 1, 2, 3, 4]
    assert second.best_score_ >= first.best_score_
    loaded = optuna.load_study(study_name="s", storage=url)
    assert len(loaded.trials) == 5


def test_resumed_study_on_other_data_raises(Xy, tmp_path):
    X, y = Xy
    url = f"sqlite:///{tmp_path}/tune.db"
    tree_search(n_trials=2, storage=url, study_name="s").fit(X, y)
    with pytest.raises(ValueError, match="other data, folds or scorers"):
        tree_search(n_trials=2, storage=url, study_name="s").fit(X[:-30], y[:-30])
    with pytest.raises(ValueError, match="other data, folds or scorers"):
        tree_search(n_trials=2, storage=url, study_name="s", scoring="recall").fit(X, y)


def test_in_memory_refit_on_new_data_starts_a_new_study(Xy):
    X, y = Xy
    search = tree_search(n_trials=3)
    first_study = search.fit(X, y).study_
    search.fit(X[:150], y[:150])
    assert search.study_ is not first_study
    assert len(search.cv_results_) == 3 and len(search.study_.trials) == 3


def test_inside_cross_val_predict(Xy, tmp_path):
    X, y = Xy
    proba = cross_val_predict(tree_search(n_trials=2), X, y, cv=3, method="predict_proba")
    assert proba.shape == (len(X), 2) and np.allclose(proba.sum(axis=1), 1)
    # one fresh study per outer fold, also in a shared database
    url = f"sqlite:///{tmp_path}/outer.db"
    cross_val_predict(tree_search(n_trials=2, storage=url), X, y, cv=3)
    summaries = optuna.get_all_study_summaries(storage=url)
    assert len(summaries) == 3 and all(s.n_trials == 2 for s in summaries)
    # a fixed study name would share trials across outer folds: refused
    with pytest.raises(ValueError, match="test-fold leak"):
        cross_val_predict(tree_search(n_trials=2, storage=url, study_name="fixed"), X, y, cv=3)


# ---------------------------------------------------------------- bad input
def test_bad_input_errors(Xy, tmp_path):
    X, y = Xy
    tree = DecisionTreeClassifier()
    with pytest.raises(ValueError, match="'max_dept', which is not a parameter"):
        OptunaSearchCV(tree, {"max_dept": IntDistribution(1, 3)}).fit(X, y)
    with pytest.raises(ValueError, match="param_distributions is empty"):
        OptunaSearchCV(tree, {}).fit(X, y)
    with pytest.raises(TypeError, match="must be an Optuna distribution"):
        OptunaSearchCV(tree, {"max_depth": 3}).fit(X, y)
    with pytest.raises(ValueError, match="is not a storage URL"):
        OptunaSearchCV(tree, TREE_SPACE, storage="tune.db").fit(X, y)
    with pytest.raises(ValueError, match="unknown database dialect"):
        OptunaSearchCV(tree, TREE_SPACE, storage="nosuchdb://host/x").fit(X, y)
    with pytest.raises(ValueError, match="needs a timeout"):
        OptunaSearchCV(tree, TREE_SPACE, n_trials=None).fit(X, y)
    with pytest.raises(ValueError, match="refit must be the name"):
        OptunaSearchCV(tree, TREE_SPACE, scoring=["recall", "precision"]).fit(X, y)
    with pytest.raises(ValueError, match="no default search space"):
        OptunaSearchCV(DummyClassifier()).fit(X, y)
    with pytest.raises(ValueError, match="n_trials"):
        OptunaSearchCV(tree, TREE_SPACE, n_trials=0).fit(X, y)
    with pytest.raises(ValueError, match="pruner"):
        OptunaSearchCV(tree, TREE_SPACE, pruner="sometimes").fit(X, y)
