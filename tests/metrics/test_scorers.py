"""Scorers inside GridSearchCV, cross_validate and Optuna; names and signs."""

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import make_pipeline

from sklearn_recsys.metrics import (
    average_percentage_long_tail,
    get_scorer,
    gini_index,
    item_coverage,
    make_ranking_scorer,
    ndcg_at_k,
    precision_at_top_q,
    predict_scores,
    recall_at_k,
)


@pytest.fixture(scope="module")
def data():
    from sklearn_recsys.datasets import make_interactions

    bunch = make_interactions(
        n_users=150, n_items=80, n_interactions=6000, positive_rate=0.05, random_state=0
    )
    X = bunch.interactions[["user_id", "item_id", "price", "position"]]
    y = bunch.interactions["purchase"].to_numpy()
    return X, y


def _model(C=1.0):
    # the id columns stay in X for the scorers; the model only sees price and position
    ct = ColumnTransformer([("num", "passthrough", ["price", "position"])])
    return make_pipeline(ct, LogisticRegression(C=C))


def test_ranking_scorer_reads_groups_from_X(data):
    X, y = data
    model = _model().fit(X, y)
    proba = model.predict_proba(X)[:, 1]
    assert make_ranking_scorer("ndcg", k=5)(model, X, y) == pytest.approx(
        ndcg_at_k(y, proba, groups=X["user_id"], k=5)
    )
    assert get_scorer("recall@3")(model, X, y) == pytest.approx(
        recall_at_k(y, proba, groups=X["user_id"], k=3)
    )
    sc = make_ranking_scorer("recall", k=3, group_col="item_id")
    assert sc(model, X, y) == pytest.approx(recall_at_k(y, proba, groups=X["item_id"], k=3))


def test_grid_search_and_cross_validate(data):
    X, y = data
    scoring = {
        "ndcg": get_scorer("ndcg@10"),
        "ap": "average_precision",
        "cov": get_scorer("coverage@5"),
    }
    cv = GroupKFold(n_splits=3)
    gs = GridSearchCV(
        _model(), {"logisticregression__C": [0.01, 1.0]}, scoring=scoring, refit="ndcg", cv=cv
    )
    gs.fit(X, y, groups=X["user_id"])
    res = gs.cv_results_
    assert np.all((res["mean_test_ndcg"] > 0) & (res["mean_test_ndcg"] <= 1))
    # the value of one fold equals the metric recomputed by hand
    train, test = next(cv.split(X, y, groups=X["user_id"]))
    model = _model(C=0.01).fit(X.iloc[train], y[train])
    proba = model.predict_proba(X.iloc[test])[:, 1]
    expected = ndcg_at_k(y[test], proba, groups=X["user_id"].iloc[test], k=10)
    assert res["split0_test_ndcg"][0] == pytest.approx(expected)
    out = cross_validate(
        _model(),
        X,
        y,
        cv=cv,
        groups=X["user_id"],
        scoring={"mrr": get_scorer("mrr"), "gini": get_scorer("neg_gini@5")},
    )
    assert np.all(out["test_mrr"] > 0) and np.all(out["test_gini"] <= 0)


def test_long_tail_scorers_and_signs(data):
    X, y = data
    model = _model().fit(X, y)
    s = predict_scores(model, X)
    order = np.lexsort((-s, X["user_id"].to_numpy()))
    top = X.iloc[order].assign(rank=X.iloc[order].groupby("user_id").cumcount() + 1)
    top = top[top["rank"] <= 5]
    catalog = X["item_id"].unique()
    assert get_scorer("coverage@5")(model, X, y) == pytest.approx(
        item_coverage(top, catalog=catalog, k=5)
    )
    assert get_scorer("neg_gini@5")(model, X, y) == pytest.approx(
        -gini_index(top, catalog=catalog, k=5)
    )
    aplt = make_ranking_scorer("aplt", k=5, train=X)
    assert aplt.greater_is_better
    assert aplt(model, X, y) == pytest.approx(average_percentage_long_tail(top, X, k=5))
    arp = make_ranking_scorer("arp", k=5, train=X)
    assert not arp.greater_is_better and arp(model, X, y) < 0
    tail = make_ranking_scorer("tail_recall", k=5, train=X)(model, X, y)
    assert 0 <= tail <= 1
    assert make_ranking_scorer("novelty", k=5, train=X)(model, X, y) > 0


def test_classification_scorer_names(data):
    X, y = data
    model = _model().fit(X, y)
    proba = model.predict_proba(X)[:, 1]
    assert get_scorer("precision@top0.05")(model, X, y) == pytest.approx(
        precision_at_top_q(y, proba, q=0.05)
    )
    assert get_scorer("neg_expected_calibration_error")(model, X, y) <= 0
    assert 0 < get_scorer("best_f1")(model, X, y) <= 1
    assert 0 <= get_scorer("geometric_mean")(model, X, y) <= 1
    assert get_scorer("roc_auc")(model, X, y) > 0.5


def test_optuna_objective(data):
    optuna = pytest.importorskip("optuna")
    from sklearn.model_selection import cross_val_score

    X, y = data
    scorer = get_scorer("ndcg@10")

    def objective(trial):
        C = trial.suggest_float("C", 1e-3, 10, log=True)
        return cross_val_score(
            _model(C), X, y, scoring=scorer, cv=GroupKFold(2), groups=X["user_id"]
        ).mean()

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(objective, n_trials=2)
    assert 0 < study.best_value <= 1


def test_graded_predict_proba_gives_expected_grade():
    X = pd.DataFrame({"user_id": [0] * 6, "x": [0, 1, 2, 3, 4, 5]})
    y = np.array([0, 0, 1, 1, 2, 2])
    clf = make_pipeline(ColumnTransformer([("x", "passthrough", ["x"])]), LogisticRegression()).fit(
        X, y
    )
    s = predict_scores(clf, X)
    np.testing.assert_allclose(s, clf.predict_proba(X) @ np.array([0.0, 1.0, 2.0]))
    assert make_ranking_scorer("ndcg", k=6)(clf, X, y) == pytest.approx(1.0)


def test_errors(data):
    X, y = data
    model = _model().fit(X, y)
    with pytest.raises(TypeError, match="must be a DataFrame"):
        make_ranking_scorer("ndcg")(model, X.to_numpy(), y)
    with pytest.raises(ValueError, match="group_col='query'"):
        make_ranking_scorer("ndcg", group_col="query")(model, X, y)
    with pytest.raises(ValueError, match="needs train"):
        make_ranking_scorer("arp")
    with pytest.raises(ValueError, match="make_ranking_scorer"):
        get_scorer("aplt@10")
    with pytest.raises(ValueError, match="neg_gini@10"):
        get_scorer("gini@10")
    with pytest.raises(ValueError, match="not a known scorer"):
        get_scorer("ndcg_at_ten")
    with pytest.raises(ValueError, match="'metric' parameter"):
        make_ranking_scorer("auc")
    with pytest.raises(TypeError, match="sample_weight"):
        make_ranking_scorer("ndcg")(model, X, y, sample_weight=np.ones(len(y)))


def test_ranking_report_equals_single_metrics(data):
    from sklearn_recsys.metrics import (
        average_recommendation_popularity,
        ranking_report,
        ranking_scores,
        tail_recall_at_k,
    )

    X, y = data
    s = predict_scores(_model().fit(X, y), X)
    r = ranking_report(y, s, groups=X["user_id"], items=X["item_id"], train=X, k=5)
    ref = ranking_scores(y, s, groups=X["user_id"], k=5)
    assert {key: r[key] for key in ref} == ref
    scorer_value = {
        m: make_ranking_scorer(m, k=5, train=X)(_Fixed(s), X, y)
        for m in ("coverage", "aplt", "novelty")
    }
    assert r["coverage@5"] == pytest.approx(scorer_value["coverage"])
    assert r["aplt@5"] == pytest.approx(scorer_value["aplt"])
    assert r["novelty@5"] == pytest.approx(scorer_value["novelty"])
    order = np.lexsort((-s, X["user_id"].to_numpy()))
    top = X.iloc[order].assign(rank=X.iloc[order].groupby("user_id").cumcount() + 1)
    assert r["arp@5"] == pytest.approx(average_recommendation_popularity(top, X, k=5))
    assert r["tail_recall@5"] == pytest.approx(
        tail_recall_at_k(y, s, groups=X["user_id"], items=X["item_id"], train=X, k=5)
    )
    assert set(ranking_report(y, s, groups=X["user_id"], k=5)) == set(ref)


class _Fixed:
    """An 'estimator' returning fixed scores."""

    def __init__(self, s):
        self.s = s

    def predict(self, X):
        return self.s
