import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import cross_val_score
from sklearn.tree import DecisionTreeClassifier

from sklearn_recsys.datasets import label_loved
from sklearn_recsys.model_selection import (
    LeaveLastOut,
    StratifiedUserKFold,
    TemporalSplit,
    UserTemporalSplit,
    leave_last_out_split,
    temporal_train_test_split,
    user_temporal_split,
)


def test_global_temporal_split_is_the_cold_start_scenario(movielens):
    X = movielens.interactions
    X_tr, X_te = temporal_train_test_split(X, test_size=0.2)
    assert X_tr.timestamp.max() < X_te.timestamp.min()
    assert abs(len(X_te) / len(X) - 0.2) < 0.01
    cold = ~X_te.user_id.isin(X_tr.user_id)
    assert 0.80 < cold.mean() < 0.90  # about 85 % of test rows from unseen users


def test_user_temporal_split_keeps_users_warm(movielens):
    X = movielens.interactions
    y = label_loved(X)
    X_tr, X_te, y_tr, y_te = user_temporal_split(X, y, test_size=0.2)
    assert len(X_tr) + len(X_te) == len(X)
    assert X_te.user_id.isin(X_tr.user_id).all()
    last_train = X_tr.groupby("user_id").timestamp.max()
    first_test = X_te.groupby("user_id").timestamp.min()
    assert (last_train.reindex(first_test.index) <= first_test).all()
    n = X.user_id.value_counts()
    expected = np.floor(n * 0.2).astype(int)
    got = X_te.user_id.value_counts().reindex(n.index, fill_value=0)
    assert (got == expected).all()
    pd.testing.assert_series_equal(y_te, y.loc[X_te.index])


def test_leave_last_out(movielens):
    X = movielens.interactions
    X_tr, X_te = leave_last_out_split(X, n_last=2)
    assert (X_te.user_id.value_counts() == 2).all() and X_te.user_id.nunique() == 943
    assert (X_tr.groupby("user_id").timestamp.max()
            <= X_te.groupby("user_id").timestamp.min()).all()


def test_ties_broken_by_row_order():
    X = pd.DataFrame({"user_id": [1, 1, 1, 1], "timestamp": [5, 5, 5, 5]})
    train, test = next(UserTemporalSplit(test_size=0.5).split(X))
    assert test.tolist() == [2, 3]


def test_stratified_user_kfold_groups_and_stratifies(small_interactions):
    X = small_interactions.interactions
    y = X.purchase.to_numpy()
    cv = StratifiedUserKFold(n_splits=4, shuffle=True, random_state=0)
    folds = list(cv.split(X, y))
    assert len(folds) == 4 and cv.get_n_splits() == 4
    for train, test in folds:
        assert set(X.user_id.iloc[train]).isdisjoint(X.user_id.iloc[test])
        assert abs(y[test].mean() - y.mean()) < 0.02
    again = [t.tolist() for _, t in cv.split(X, y)]
    assert again == [t.tolist() for _, t in folds]
    # works as cv= without groups plumbing
    scores = cross_val_score(DecisionTreeClassifier(max_depth=2), X[["price", "position"]]
                             .assign(user_id=X.user_id), y, cv=cv)
    assert len(scores) == 4


def test_splitters_as_cv_give_one_split(small_interactions):
    X = small_interactions.interactions
    for splitter in (TemporalSplit(), UserTemporalSplit(), LeaveLastOut()):
        assert splitter.get_n_splits(X) == 1
        train, test = next(splitter.split(X))
        assert len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == len(X)


@pytest.mark.parametrize("call, err, match", [
    (lambda X: user_temporal_split(X, test_size=1.5), ValueError, "test_size"),
    (lambda X: user_temporal_split(X, time_col="ts"), ValueError, "time_col='ts'"),
    (lambda X: user_temporal_split(X, user_col="uid"), ValueError, "user_col='uid'"),
    (lambda X: leave_last_out_split(X, n_last=0), ValueError, "n_last"),
    (lambda X: temporal_train_test_split(X, X.user_id[:3]), ValueError, "same number"),
    (lambda X: user_temporal_split(X.assign(timestamp=np.nan)), ValueError, "missing"),
    (lambda X: user_temporal_split(X.assign(timestamp="x")), TypeError, "numeric"),
    (lambda X: user_temporal_split(X.values), TypeError, "DataFrame"),
])
def test_bad_input(call, err, match):
    X = pd.DataFrame({"user_id": [1, 1, 2, 2], "timestamp": [1, 2, 3, 4]})
    with pytest.raises(err, match=match):
        call(X)
