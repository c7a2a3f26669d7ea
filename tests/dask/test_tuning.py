"""Tuning on Dask, end to end: a Parquet log read as a Dask frame, a sample of its users
collected to pandas, OptunaSearchCV's folds run on the workers of a 2-worker LocalCluster
(``joblib.parallel_config(backend="dask", scatter=[X, y])``), and the best parameters trained
on all the rows with the Dask featurizer and DaskLGBMClassifier."""

import re

import numpy as np
import pytest

pytestmark = [pytest.mark.dask, pytest.mark.slow]

_N_TRIALS, _CV = 4, 3


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    """A 12 000-row Parquet log (300 users, 6 parts) read as a Dask frame, split in time."""
    import dask

    from sklearn_recsys.dask import read_interactions, write_interactions

    path = tmp_path_factory.mktemp("log")
    write_interactions(path, 12_000, chunk_size=2000, n_users=300, n_items=120, random_state=0)
    log = read_interactions(path).drop(columns="position")
    start, end = dask.compute(log["timestamp"].min(), log["timestamp"].max())
    cut = start + 0.8 * (end - start)  # the first 80 % of the time span
    return log[log["timestamp"] < cut], log[log["timestamp"] >= cut]


def _search(n_jobs=2):
    from optuna.distributions import FloatDistribution, IntDistribution
    from sklearn.pipeline import Pipeline

    from sklearn_recsys.boosting import ImbalancedLGBMClassifier
    from sklearn_recsys.features import InteractionFeaturizer
    from sklearn_recsys.model_selection import OptunaSearchCV

    pipe = Pipeline(
        [
            ("features", InteractionFeaturizer(keep_id_columns=False, random_state=0)),
            ("clf", ImbalancedLGBMClassifier(n_estimators=30, n_jobs=1, random_state=0)),
        ]
    ).set_output(transform="pandas")
    space = {
        "features__n_factors": IntDistribution(2, 6),
        "clf__num_leaves": IntDistribution(4, 16),
        "clf__learning_rate": FloatDistribution(0.05, 0.3, log=True),
    }
    return OptunaSearchCV(
        pipe,
        space,
        n_trials=_N_TRIALS,
        scoring="average_precision",
        cv=_CV,
        n_jobs=n_jobs,
        random_state=0,
    )


def test_search_with_folds_on_dask_equals_local_search(client, log):
    import distributed
    import joblib
    from sklearn.base import clone

    from sklearn_recsys.dask import DaskLGBMClassifier, InteractionFeaturizer, classification_scores

    train, test = log
    # the search runs on a sample that fits in memory: every other user, all of their rows
    # (whole users, so that the user-grouped folds see whole histories)
    sample = train[train["user_id"] % 2 == 0].compute().reset_index(drop=True)
    X, y = sample.drop(columns="purchase"), sample["purchase"]

    local = _search().fit(X, y)  # joblib's default backend, no Dask
    # scatter: X and y go to the cluster once for the whole study, not once per trial
    with (
        distributed.get_task_stream(client) as tasks,
        joblib.parallel_config(backend="dask", scatter=[X, y]),
    ):
        remote = _search().fit(X, y)
    # every fold fit ran on the workers (joblib names its tasks batch_of_<func>_<calls>_calls;
    # 4 trials are below the median pruner's 5 start-up trials, so no fold was pruned)
    calls = [re.search(r"batch_of__fit_and_score_(\d+)_calls", str(t["key"])) for t in tasks.data]
    assert sum(int(m.group(1)) for m in calls if m) == _N_TRIALS * _CV
    cols = ["number", "state", "mean_test_score"] + [f"split{k}_test_score" for k in range(_CV)]
    assert remote.cv_results_[cols].equals(local.cv_results_[cols])
    assert remote.best_params_ == local.best_params_
    assert remote.n_splits_ == _CV and len(remote.cv_results_) == _N_TRIALS
    np.testing.assert_array_equal(remote.predict_proba(X.head(50)), local.predict_proba(X.head(50)))

    # the best parameters trained on every training row, on the workers: the Dask featurizer
    # takes the pandas featurizer's parameters, DaskLGBMClassifier the tuned estimator
    best = remote.best_estimator_.named_steps
    feat = InteractionFeaturizer(**best["features"].get_params())
    clf = DaskLGBMClassifier(clone(best["clf"]))
    assert clf.estimator.num_leaves == remote.best_params_["clf__num_leaves"]
    clf.fit(
        feat.fit_transform(train.drop(columns="purchase"), train["purchase"]), train["purchase"]
    )
    proba = clf.predict_proba(feat.transform(test.drop(columns="purchase")))
    scores = classification_scores(test["purchase"], proba["1"])
    assert scores["n_samples"] == len(test)
    assert scores["roc_auc"] > 0.65  # 0.71 here; a random ranking gives 0.5
