import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import cross_val_score
from sklearn.tree import DecisionTreeClassifier

from sklearn_recsys.datasets import label_loved
from sklearn_recsys.model_selection import (
    LeaveLastOut,
    RollingOriginSplit,
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
    assert (
        X_tr.groupby("user_id").timestamp.max() <= X_te.groupby("user_id").timestamp.min()
    ).all()


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
    scores = cross_val_score(
        DecisionTreeClassifier(max_depth=2),
        X[["price", "position"]].assign(user_id=X.user_id),
        y,
        cv=cv,
    )
    assert len(scores) == 4


def test_splitters_as_cv_give_one_split(small_interactions):
    X = small_interactions.interactions
    for splitter in (TemporalSplit(), UserTemporalSplit(), LeaveLastOut()):
        assert splitter.get_n_splits(X) == 1
        train, test = next(splitter.split(X))
        assert len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == len(X)


@pytest.mark.parametrize(
    "call, err, match",
    [
        (lambda X: user_temporal_split(X, test_size=1.5), ValueError, "test_size"),
        (lambda X: user_temporal_split(X, time_col="ts"), ValueError, "time_col='ts'"),
        (lambda X: user_temporal_split(X, user_col="uid"), ValueError, "user_col='uid'"),
        (lambda X: leave_last_out_split(X, n_last=0), ValueError, "n_last"),
        (lambda X: temporal_train_test_split(X, X.user_id[:3]), ValueError, "same number"),
        (lambda X: user_temporal_split(X.assign(timestamp=np.nan)), ValueError, "missing"),
        (lambda X: user_temporal_split(X.assign(timestamp="x")), TypeError, "numeric"),
        (lambda X: user_temporal_split(X.values), TypeError, "DataFrame"),
    ],
)
def test_bad_input(call, err, match):
    X = pd.DataFrame({"user_id": [1, 1, 2, 2], "timestamp": [1, 2, 3, 4]})
    with pytest.raises(err, match=match):
        call(X)


# --- label maturity (purge) -------------------------------------------------------------------


def _frame(t, lt, users=None):
    X = pd.DataFrame({"timestamp": t, "label_time": lt})
    if users is not None:
        X.insert(0, "user_id", users)
    return X


def test_temporal_split_purges_exactly_the_immature_rows():
    # times 0..9, cut-off of the 30 % test set = 7; label known at t + window
    t = np.arange(10)
    lt = t + np.array([0, 9, 1, 4, 2, 0, 5, 3, 0, 1])  # rows 1 (10), 3 (7 == cutoff), 4, 6 (11)
    X = _frame(t, lt, users=np.arange(10) % 3)
    y = np.arange(10) % 2
    cv = TemporalSplit(test_size=0.3, label_time_col="label_time")
    train, test = next(cv.split(X))
    assert test.tolist() == [7, 8, 9]
    assert train.tolist() == [0, 2, 3, 4, 5]  # 1 (10 > 7) and 6 (11 > 7) purged; 3 (== 7) kept
    X_tr, X_te, y_tr, y_te = temporal_train_test_split(
        X, y, test_size=0.3, label_time_col="label_time"
    )
    assert X_tr.index.tolist() == [0, 2, 3, 4, 5] and y_tr.tolist() == [0, 0, 1, 0, 1]
    assert X_te.index.tolist() == [7, 8, 9] and y_te.tolist() == [1, 0, 1]
    summary = cv.split_summary(X, y)
    assert summary.loc[0, ["n_train", "n_test", "n_purged"]].tolist() == [5, 3, 2]
    assert summary.loc[0, "split_time_min"] == summary.loc[0, "split_time_max"] == 7
    assert summary.loc[0, "train_positive_rate"] == pytest.approx(2 / 5)
    assert summary.loc[0, "test_positive_rate"] == pytest.approx(2 / 3)
    assert summary.loc[0, "purged_positive_rate"] == pytest.approx(0.5)  # rows 1 and 6: y = 1, 0


def test_per_user_splits_purge_against_each_users_split_time():
    #                 user 1 (test: rows 3, 4)   user 2 (test: row 7)   user 3 (no test rows)
    users = np.array([1, 1, 1, 1, 1, 2, 2, 2, 3])
    t = np.array([1, 2, 3, 5, 6, 1, 2, 4, 1])
    lt = np.array([5, 6, 5, 5, 9, 4, 5, 4, 99])
    X = _frame(t, lt, users)
    # user 1 splits at 5: row 1 (6 > 5) purged, rows 0 and 2 (== 5) kept; user 2 splits at 4:
    # row 6 (5 > 4) purged, row 5 (== 4) kept; user 3 has no test row and keeps its row
    train, test = next(UserTemporalSplit(test_size=0.4, label_time_col="label_time").split(X))
    assert test.tolist() == [3, 4, 7]
    assert train.tolist() == [0, 2, 5, 8]
    X_tr, X_te = user_temporal_split(X, test_size=0.4, label_time_col="label_time")
    assert X_tr.index.tolist() == [0, 2, 5, 8] and X_te.index.tolist() == [3, 4, 7]
    # leave-last-out: user 1 splits at 6 (rows 0, 2, 3 kept: 5 <= 6; row 1 kept: 6 == 6), user 2
    # at 4 (row 6 purged: 5 > 4)
    cv = LeaveLastOut(label_time_col="label_time")
    train, test = next(cv.split(X))
    assert test.tolist() == [4, 7] and train.tolist() == [0, 1, 2, 3, 5, 8]
    X_tr, X_te = leave_last_out_split(X, n_last=2, label_time_col="label_time")
    # n_last=2: user 1 splits at 5 (row 1 purged), user 2 at 2 (rows 5: 4 > 2 purged)
    assert X_te.index.tolist() == [3, 4, 6, 7] and X_tr.index.tolist() == [0, 2, 8]
    summary = cv.split_summary(X)
    assert summary.loc[0, ["n_train", "n_test", "n_purged"]].tolist() == [6, 2, 1]
    assert summary.loc[0, ["split_time_min", "split_time_max"]].tolist() == [4, 6]


def _reference_split(t, lt, users, kind, size):
    """Slow per-row reference of the three splitters with purging."""
    n = len(t)
    test, split_time = np.zeros(n, bool), {}
    if kind == "global":
        n_test = max(1, int(round(size * n)))
        cutoff = sorted(t)[n - n_test]
        test = np.array([ti >= cutoff for ti in t])
        split_time = {u: cutoff for u in set(users)}
    else:
        for u in set(users):
            rows = sorted((i for i in range(n) if users[i] == u), key=lambda i: (t[i], i))
            n_u = len(rows)
            k = int(np.floor(n_u * size + 1e-9)) if kind == "user" else (size if n_u > size else 0)
            for i in rows[n_u - k :] if k else []:
                test[i] = True
            if k:
                split_time[u] = min(t[i] for i in rows[n_u - k :])
    purged = np.array(
        [not test[i] and users[i] in split_time and lt[i] > split_time[users[i]] for i in range(n)]
    )
    train = ~test & ~purged
    return np.flatnonzero(train), np.flatnonzero(test), np.flatnonzero(purged)


@pytest.mark.parametrize("kind, size", [("global", 0.25), ("user", 0.3), ("last", 2)])
@pytest.mark.parametrize("seed", [0, 1])
def test_purge_matches_a_slow_reference(kind, size, seed):
    rng = np.random.default_rng(seed)
    n = 3000
    users = rng.integers(0, 300, n)
    t = rng.integers(0, 500, n)  # many ties in time
    window = rng.choice([0, 1, 5, 30, 200], n)
    X = _frame(t, t + window, users)
    if seed == 1:  # float times
        X = X.astype({"timestamp": float, "label_time": float}) / 7
    make = {
        "global": lambda: TemporalSplit(test_size=size, label_time_col="label_time"),
        "user": lambda: UserTemporalSplit(test_size=size, label_time_col="label_time"),
        "last": lambda: LeaveLastOut(n_last=size, label_time_col="label_time"),
    }[kind]
    cv = make()
    train, test = next(cv.split(X))
    ref_train, ref_test, ref_purged = _reference_split(
        X.timestamp.tolist(), X.label_time.tolist(), users.tolist(), kind, size
    )
    np.testing.assert_array_equal(test, ref_test)
    np.testing.assert_array_equal(train, ref_train)
    assert len(ref_purged) > 50  # the check is not vacuous
    summary = cv.split_summary(X)
    assert summary.loc[0, "n_purged"] == len(ref_purged)
    # without label_time_col: the same test rows, and train = kept + purged rows
    cv.label_time_col = None
    old_train, old_test = next(cv.split(X))
    np.testing.assert_array_equal(old_test, test)
    np.testing.assert_array_equal(old_train, np.union1d(train, ref_purged))
    assert cv.split_summary(X).loc[0, "n_purged"] == 0


@pytest.mark.parametrize("cls", [TemporalSplit, UserTemporalSplit, LeaveLastOut])
def test_label_time_col_none_gives_the_old_split(small_interactions, cls):
    X = small_interactions.interactions
    splitter = cls()
    train, test = next(splitter.split(X))
    # a label known at event time can never be immature: purging then changes nothing
    splitter.label_time_col = "timestamp"
    train2, test2 = next(splitter.split(X))
    np.testing.assert_array_equal(train, train2)
    np.testing.assert_array_equal(test, test2)
    assert np.intersect1d(train, test).size == 0 and len(train) + len(test) == len(X)


def test_purge_with_datetime_columns(small_interactions):
    X = small_interactions.interactions.copy()
    X["timestamp"] = pd.to_datetime(X.timestamp, unit="s")
    X["label_time"] = X.timestamp + pd.Timedelta("72h")
    X_tr, X_te = temporal_train_test_split(X, test_size=0.2, label_time_col="label_time")
    cutoff = X_te.timestamp.min()
    assert X_tr.label_time.max() <= cutoff
    dropped = X.drop(index=X_tr.index.union(X_te.index))
    assert len(dropped) > 0
    assert (dropped.label_time > cutoff).all() and (dropped.timestamp < cutoff).all()
    tz = X.assign(
        timestamp=X.timestamp.dt.tz_localize("UTC"),
        label_time=X.label_time.dt.tz_localize("UTC").dt.tz_convert("Europe/Berlin"),
    )
    X_tr_tz, _ = temporal_train_test_split(tz, test_size=0.2, label_time_col="label_time")
    assert X_tr_tz.index.equals(X_tr.index)  # tz-aware columns compare as instants


@pytest.mark.parametrize(
    "make",
    [
        lambda c: TemporalSplit(label_time_col=c),
        lambda c: UserTemporalSplit(label_time_col=c),
        lambda c: LeaveLastOut(label_time_col=c),
        lambda c: RollingOriginSplit(n_splits=2, label_time_col=c),
    ],
)
@pytest.mark.parametrize(
    "label_time, err, match",
    [
        (None, ValueError, r"label_time_col='lt' is not a column of X"),
        ([3.0, np.nan, 5, 6, 7, 8], ValueError, r"label_time_col='lt' has 1 missing"),
        (
            [3, 4, 4, 6, 7, 8],
            ValueError,
            r"label_time_col='lt' is earlier than time_col='timestamp' "
            r"on 1 rows, e.g. row 2",
        ),
        (
            pd.to_datetime(np.arange(6), unit="D"),
            TypeError,
            r"label_time_col='lt' is datetime .*"
            r"time_col='timestamp' is numeric",
        ),
        (["a"] * 6, TypeError, r"label_time_col='lt' must be numeric"),
    ],
)
def test_bad_label_time(make, label_time, err, match):
    X = pd.DataFrame({"user_id": [1, 1, 1, 2, 2, 2], "timestamp": [1, 2, 5, 4, 5, 6]})
    if label_time is not None:
        X["lt"] = label_time
    with pytest.raises(err, match=match):
        list(make("lt").split(X))


def test_bad_label_time_tz_and_all_purged():
    t = pd.Series(pd.date_range("2024-01-01", periods=6, freq="D"))
    X = pd.DataFrame({"timestamp": t, "lt": t.dt.tz_localize("UTC")})
    with pytest.raises(TypeError, match=r"datetime \(tz=UTC\) .* datetime \(naive\)"):
        next(TemporalSplit(label_time_col="lt").split(X))
    X = pd.DataFrame({"timestamp": np.arange(6), "lt": np.arange(6) + 100})
    with pytest.raises(ValueError, match="purges all 5 training rows"):
        next(TemporalSplit(label_time_col="lt").split(X))
    with pytest.raises(ValueError, match="binary"):
        TemporalSplit().split_summary(X, np.arange(6))
    with pytest.raises(ValueError, match="one label per row"):
        TemporalSplit().split_summary(X, [0, 1])


# --- RollingOriginSplit ----------------------------------------------------------------------


def _folds(cv, X):
    return [(tr.tolist(), te.tolist()) for tr, te in cv.split(X)]


def test_rolling_origin_fold_boundaries_on_a_hand_made_axis():
    X = pd.DataFrame({"timestamp": np.arange(12)})
    # default: first quarter of the span trains, the rest is 3 equal test windows
    assert _folds(RollingOriginSplit(), X) == [
        (list(range(3)), [3, 4, 5]),
        (list(range(6)), [6, 7, 8]),
        (list(range(9)), [9, 10, 11]),
    ]
    # explicit test windows of 2 units ending with the latest row, a gap of 1, sliding window 4
    cv = RollingOriginSplit(n_splits=3, test_size=2, gap=1, max_train_time=4)
    assert _folds(cv, X) == [
        ([1, 2, 3, 4], [6, 7]),
        ([3, 4, 5, 6], [8, 9]),
        ([5, 6, 7, 8], [10, 11]),
    ]
    # min_train_fraction: the first half trains
    assert _folds(RollingOriginSplit(n_splits=2, min_train_fraction=0.5), X) == [
        (list(range(6)), [6, 7, 8]),
        (list(range(9)), [9, 10, 11]),
    ]
    # the purge: a label known 3 units after the event must be known by origin - gap
    X["label_time"] = X.timestamp + 3
    cv = RollingOriginSplit(n_splits=3, test_size=2, gap=1, label_time_col="label_time")
    assert _folds(cv, X) == [
        ([0, 1, 2], [6, 7]),
        ([0, 1, 2, 3, 4], [8, 9]),
        ([0, 1, 2, 3, 4, 5, 6], [10, 11]),
    ]
    summary = cv.split_summary(X)
    assert summary.n_purged.tolist() == [2, 2, 2]
    assert summary.split_time_min.tolist() == [5, 7, 9]  # origin - gap
    assert summary.train_time_max.tolist() == [2, 4, 6]
    assert summary[["test_time_min", "test_time_max"]].to_numpy().tolist() == [
        [6, 7],
        [8, 9],
        [10, 11],
    ]


@pytest.mark.parametrize(
    "kw",
    [
        dict(n_splits=3),
        dict(n_splits=4, test_size=3, gap=2),
        dict(n_splits=2, test_size=4, max_train_size=5),
    ],
)
def test_rolling_origin_matches_time_series_split_on_one_row_per_unit(kw):
    from sklearn.model_selection import TimeSeriesSplit

    X = pd.DataFrame({"timestamp": np.arange(20)})
    ours = RollingOriginSplit(
        **{("max_train_time" if k == "max_train_size" else k): v for k, v in kw.items()}
    )
    expected = [(tr.tolist(), te.tolist()) for tr, te in TimeSeriesSplit(**kw).split(X)]
    assert _folds(ours, X) == expected


@pytest.mark.parametrize("time_kind", ["int", "datetime"])
def test_rolling_origin_invariants_on_random_data(time_kind):
    rng = np.random.default_rng(0)
    n = 4000
    t = np.sort(rng.integers(0, 90 * 86400, n))
    lt = t + rng.choice([0, 3600, 72 * 3600, 7 * 86400], n)
    users = rng.integers(0, 200, n)
    order = rng.permutation(n)  # row order must not matter
    X = pd.DataFrame({"user_id": users[order], "timestamp": t[order], "label_time": lt[order]})
    if time_kind == "datetime":
        X["timestamp"] = pd.to_datetime(X.timestamp, unit="s")
        X["label_time"] = pd.to_datetime(X.label_time, unit="s")
    cv = RollingOriginSplit(
        n_splits=5, test_size="7D", gap="1D", max_train_time="30D", label_time_col="label_time"
    )
    folds = list(cv.split(X))
    assert len(folds) == cv.get_n_splits() == 5
    assert [t.tolist() for _, t in cv.split(X)] == [t.tolist() for _, t in folds]  # deterministic
    summary = cv.split_summary(X)
    if time_kind == "int":
        day, t_end = 86400, X.timestamp.max() + 1
    else:
        day, t_end = pd.Timedelta("1D"), X.timestamp.max() + pd.Timedelta(1, "ns")
    last_test_end = None
    for k, (train, test) in enumerate(folds):
        origin = t_end - (5 - k) * 7 * day
        cut = origin - day
        assert summary.loc[k, "split_time_min"] == cut
        tr, te = X.iloc[train], X.iloc[test]
        assert (tr.timestamp < cut).all() and (tr.label_time <= cut).all()
        assert (te.timestamp >= origin).all() and (te.timestamp < origin + 7 * day).all()
        if last_test_end is not None:
            assert te.timestamp.min() > last_test_end  # disjoint and ordered
        last_test_end = te.timestamp.max()
        # exactly the rows of the training window with a late label are purged
        window = (X.timestamp < cut) & (X.timestamp >= cut - 30 * day)
        assert len(test) == int(((X.timestamp >= origin) & (X.timestamp < origin + 7 * day)).sum())
        assert summary.loc[k, "n_purged"] == int((window & (X.label_time > cut)).sum()) > 0
        assert sorted(train) == np.flatnonzero(window & (X.label_time <= cut)).tolist()
    assert last_test_end == X.timestamp.max()


def test_rolling_origin_warm_test_users():
    X = pd.DataFrame({"user_id": [1, 2, 1, 3, 2, 1, 4, 3], "timestamp": [0, 1, 2, 3, 4, 5, 6, 7]})
    cv = RollingOriginSplit(n_splits=2, test_size=2, user_col="user_id", test_users="warm")
    # fold 0: train t < 4 (users 1, 2, 3), test t in [4, 6): rows 4, 5; fold 1: test 6 (user 4,
    # cold: dropped), 7 (user 3)
    assert _folds(cv, X) == [([0, 1, 2, 3], [4, 5]), ([0, 1, 2, 3, 4, 5], [7])]
    cv.test_users = "all"
    assert _folds(cv, X)[1][1] == [6, 7]


def test_rolling_origin_in_cross_val_score(small_interactions):
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = small_interactions.interactions.drop(columns="purchase").copy()
    y = small_interactions.interactions.purchase.to_numpy()
    X["label_time"] = X.timestamp + 72 * 3600
    model = make_pipeline(
        ColumnTransformer([("num", StandardScaler(), ["price", "position"])]),
        LogisticRegression(class_weight="balanced"),
    )
    cv = RollingOriginSplit(n_splits=3, gap="1D", label_time_col="label_time")
    scores = cross_val_score(model, X, y, cv=cv, scoring="roc_auc")
    assert len(scores) == 3 and np.all((scores > 0) & (scores < 1))
    summary = cv.split_summary(X, y)
    assert (summary.n_purged > 0).all()
    assert summary.test_positive_rate.between(0, 1).all()
    assert (summary.n_train + summary.n_purged).is_monotonic_increasing


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(n_splits=0), "n_splits must be an integer >= 1; got 0"),
        (
            dict(n_splits=7, test_size=2),
            r"n_splits=7 test windows of test_size=2 after gap=0 cover "
            r"the whole time span",
        ),
        (dict(n_splits=2, test_size=3, gap=8), "n_splits=2 test windows"),
        (dict(test_size="soon"), r"test_size must be a number .* got 'soon'"),
        (dict(test_size=0), r"test_size must be a time span > 0; got 0"),
        (dict(gap=-1), r"gap must be a time span >= 0; got -1"),
        (dict(n_splits=2, gap=7), r"fold 0 has no training rows: none with timestamp < "),
        (dict(n_splits=4), r"fold 1 has no test rows: none with timestamp in \["),
        (dict(min_train_fraction=1.5), "min_train_fraction must be a float in"),
        (dict(test_users="cold"), "test_users must be 'all' or 'warm'; got 'cold'"),
        (dict(test_users="warm"), "test_users='warm' needs user_col"),
        (dict(time_col="ts"), "time_col='ts' is not a column"),
        (dict(user_col="uid", test_users="warm"), "user_col='uid' is not a column"),
        (dict(n_splits=2, label_time_col="lt"), r"fold 0 has no training rows \(after purging 4"),
    ],
)
def test_rolling_origin_errors(kw, match):
    X = pd.DataFrame(
        {"user_id": [1, 1, 2, 2, 3, 3, 3, 3], "timestamp": [0, 1, 2, 3, 10, 11, 12, 13]}
    )
    X["lt"] = X.timestamp + 20
    with pytest.raises(ValueError, match=match):
        list(RollingOriginSplit(**kw).split(X))


def test_rolling_origin_single_time_is_an_error():
    X = pd.DataFrame({"timestamp": [5, 5, 5]})
    with pytest.raises(ValueError, match="holds a single time"):
        next(RollingOriginSplit().split(X))
