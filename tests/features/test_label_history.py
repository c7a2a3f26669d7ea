"""LabelHistoryFeaturizer: point-in-time rates of each user's earlier labels.

The conformance suite runs on plain arrays (``user_col=0, time_col=1``) in ``tests/test_common.py``.
"""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from sklearn_recsys.features import InteractionFeaturizer, LabelHistoryFeaturizer

NEW = ["history_count", "history_rate", "history_rate_last3", "history_rate_hl2"]


def _log(n=300, n_users=12, n_times=60, seed=0):
    """A log with many rows of one user at the same time (ties)."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "user_id": rng.integers(0, n_users, n),
            "item_id": rng.integers(0, 40, n),
            "timestamp": rng.integers(0, n_times, n),
        }
    )
    return X, rng.integers(0, 2, n)


def _brute(X_fit, y_fit, X_new, *, window, half_life, weight, delay=0):
    """The definition, row by row: the user's training rows with time < t - delay."""
    prior = float(np.mean(y_fit))
    users, times = X_fit["user_id"].to_numpy(), X_fit["timestamp"].to_numpy()
    out = []
    for u, t in zip(X_new["user_id"], X_new["timestamp"]):
        idx = np.flatnonzero((users == u) & (times < t - delay))
        idx = idx[np.lexsort((idx, times[idx]))]  # time order, ties in input order
        yy = np.asarray(y_fit, float)[idx]
        n = len(yy)
        w = 0.5 ** ((n - 1 - np.arange(n)) / half_life)
        out.append(
            [
                n,
                (yy.sum() + weight * prior) / (n + weight),
                (yy[-window:].sum() + weight * prior) / (min(n, window) + weight),
                ((w * yy).sum() + weight * prior) / (w.sum() + weight),
            ]
        )
    return np.array(out)


@pytest.mark.parametrize("delay", [0, 7])
def test_values_follow_the_definition(delay):
    X, y = _log()
    X_new, _ = _log(n=80, n_users=15, n_times=90, seed=1)  # later rows, unknown users
    lh = LabelHistoryFeaturizer(windows=[3], half_lives=[2], prior_weight=2, label_delay=delay)
    for X_fit, X_out in ((X, lh.fit_transform(X, y)), (X_new, lh.transform(X_new))):
        want = _brute(X, y, X_fit, window=3, half_life=2, weight=2, delay=delay)
        np.testing.assert_allclose(X_out[NEW].to_numpy(float), want, rtol=0, atol=1e-12)
        pd.testing.assert_frame_equal(X_out[list(X.columns)], X_fit)  # X passed through
    assert lh.prior_ == pytest.approx(y.mean())


def test_no_label_at_or_after_the_row_time_is_read():
    X, y = _log()
    out = LabelHistoryFeaturizer().fit_transform(X, y)
    t = 30
    late = X["timestamp"].to_numpy() >= t
    y2 = y.copy()
    y2[late] = 1 - y2[late]  # every label from t on flipped
    out2 = LabelHistoryFeaturizer().fit_transform(X, y2)
    early = ~late
    cols = ["history_count", "history_rate_last10", "history_rate_last20"]
    # the rows before t see the same labels; only the prior (the mean of all labels) moved
    np.testing.assert_array_equal(out.loc[early, cols[0]], out2.loc[early, cols[0]])
    counts = out.loc[early, "history_count"].to_numpy()
    p1, p2 = y.mean(), y2.mean()
    for col in cols[1:]:
        k = int(col.removeprefix("history_rate_last"))
        m = np.minimum(counts, k)
        s1 = out.loc[early, col].to_numpy() * (m + 5) - 5 * p1
        s2 = out2.loc[early, col].to_numpy() * (m + 5) - 5 * p2
        np.testing.assert_allclose(s1, s2, atol=1e-9)  # the same sums of earlier labels
    # while the rows from t on do see changed labels
    assert not np.allclose(out.loc[late, "history_rate"], out2.loc[late, "history_rate"])


def test_fit_transform_equals_fit_then_transform_and_is_deterministic():
    X, y = _log()
    a = LabelHistoryFeaturizer().fit_transform(X, y)
    b = LabelHistoryFeaturizer().fit(X, y).transform(X)
    pd.testing.assert_frame_equal(a, b)
    # the input order does not matter, only the time order
    perm = np.random.default_rng(3).permutation(len(X))
    c = LabelHistoryFeaturizer().fit_transform(X.iloc[perm], y[perm])
    ties = X.duplicated(["user_id", "timestamp"], keep=False).to_numpy()
    # rows tied in time with another row of their user keep their input order in the windows
    # of later rows; the overall rate and count never depend on it
    pd.testing.assert_frame_equal(
        c.loc[X.index, ["history_count", "history_rate"]], a[["history_count", "history_rate"]]
    )
    assert ties.any()


def test_unknown_users_and_rows_without_history_get_the_prior():
    X, y = _log()
    lh = LabelHistoryFeaturizer().fit(X, y)
    new = pd.DataFrame({"user_id": [999, X["user_id"].iloc[0]], "timestamp": [100, -1]})
    out = lh.transform(new)
    assert out["history_count"].tolist() == [0, 0]
    for col in ["history_rate", "history_rate_last10", "history_rate_last20", "history_rate_hl10"]:
        np.testing.assert_allclose(out[col], y.mean())


def test_graded_labels_give_mean_grades():
    X = pd.DataFrame({"user_id": [1, 1, 1], "timestamp": [1, 2, 3]})
    out = LabelHistoryFeaturizer(windows=[1], half_lives=[], prior_weight=1e-9).fit_transform(
        X, [5, 3, 4]
    )
    np.testing.assert_allclose(out["history_rate"], [4, 5, 4], rtol=1e-6)
    np.testing.assert_allclose(out["history_rate_last1"], [4, 5, 3], rtol=1e-6)


def test_datetimes_and_time_span_delays_match_seconds():
    X, y = _log()
    Xd = X.assign(timestamp=pd.to_datetime(X["timestamp"] * 86400, unit="s"))
    a = LabelHistoryFeaturizer(label_delay="2D").fit_transform(Xd, y)
    b = LabelHistoryFeaturizer(label_delay=2 * 86400).fit_transform(
        X.assign(timestamp=X["timestamp"] * 86400), y
    )
    new = [c for c in a.columns if c.startswith("history_")]
    pd.testing.assert_frame_equal(a[new], b[new])
    tz = Xd.assign(timestamp=Xd["timestamp"].dt.tz_localize("Europe/Berlin"))
    c = LabelHistoryFeaturizer(label_delay="2D").fit_transform(tz, y)
    pd.testing.assert_frame_equal(a[new], c[new])


def test_arrays_pipelines_pickle_and_clone():
    X, y = _log()
    arr = X[["user_id", "timestamp"]].to_numpy()
    lh = LabelHistoryFeaturizer(user_col=0, time_col=1).fit(arr, y)
    out = lh.transform(arr)
    assert out.shape == (len(X), 2 + 5)
    want = LabelHistoryFeaturizer().fit_transform(X[["user_id", "timestamp"]], y)
    np.testing.assert_allclose(out, want.to_numpy(float))
    assert list(lh.get_feature_names_out()) == ["x0", "x1", *want.columns[2:]]
    restored = pickle.loads(pickle.dumps(lh))
    np.testing.assert_array_equal(restored.transform(arr), out)
    assert clone(lh).get_params() == lh.get_params()
    # in front of the interaction featurizer, whose numeric pass-through keeps the new columns
    pipe = make_pipeline(
        LabelHistoryFeaturizer(), InteractionFeaturizer(n_factors=0, random_state=0)
    ).set_output(transform="pandas")
    Xt = pipe.fit_transform(X, y)
    assert {"history_rate", "history_rate_hl10", "user_rate"} <= set(Xt.columns)


@pytest.mark.parametrize(
    ("params", "X", "y", "error", "match"),
    [
        ({}, pd.DataFrame({"user_id": [1]}), [1], ValueError, "time_col='timestamp'"),
        ({}, pd.DataFrame({"u": [1], "timestamp": [1]}), [1], ValueError, "user_col='user_id'"),
        ({}, pd.DataFrame({"user_id": [1, 2], "timestamp": [1, 2]}), None, ValueError, "y"),
        ({}, pd.DataFrame({"user_id": [1, 2], "timestamp": [1, 2]}), [1], ValueError, "1-D"),
        ({}, pd.DataFrame({"user_id": [1], "timestamp": [1]}), [np.nan], ValueError, "NaN"),
        ({}, pd.DataFrame({"user_id": [1], "timestamp": [1]}), ["a"], TypeError, "numeric"),
        ({}, pd.DataFrame({"user_id": [1], "timestamp": [np.nan]}), [1], ValueError, "missing"),
        ({}, pd.DataFrame({"user_id": [1], "timestamp": ["x"]}), [1], TypeError, "numeric"),
        ({}, pd.DataFrame({"user_id": [None], "timestamp": [1]}), [1], ValueError, "missing"),
        ({"windows": [0]}, None, [1], ValueError, "windows"),
        ({"windows": [3, 3]}, None, [1], ValueError, "repeated"),
        ({"half_lives": [True]}, None, [1], ValueError, "half_lives"),
        ({"label_delay": -1}, None, [1], ValueError, "label_delay"),
        ({"label_delay": "soon"}, None, [1], ValueError, "label_delay"),
        ({"prior_weight": 0}, None, [1], ValueError, "prior_weight"),
    ],
)
def test_clear_errors(params, X, y, error, match):
    if X is None:
        X = pd.DataFrame({"user_id": [1], "timestamp": [1]})
    with pytest.raises(error, match=match):
        LabelHistoryFeaturizer(**params).fit(X, y)


def test_output_name_clash_and_transform_columns():
    X, y = _log()
    lh = LabelHistoryFeaturizer().fit(X, y)
    with pytest.raises(ValueError, match="prefix"):
        lh.transform(X.assign(history_rate=0.0))
    with pytest.raises(ValueError, match="time_col"):
        lh.transform(X.drop(columns="timestamp"))
    assert "hist_rate" in LabelHistoryFeaturizer(prefix="hist_").fit_transform(X, y)


@pytest.mark.slow
def test_history_lifts_cold_items_on_movielens(movielens):
    """MovieLens-100k's cold-item split of bench_text.py: the CLI's LightGBM pipeline with item
    dropout, without and with the label history in front (bench_text: 0.7025 -> 0.7241)."""
    from sklearn.metrics import roc_auc_score

    from sklearn_recsys.benchmark import STRATEGIES, BenchmarkData
    from sklearn_recsys.datasets import label_loved
    from sklearn_recsys.model_selection import user_temporal_split

    X = movielens.interactions.drop(columns="rating")
    X_tr, X_te, y_tr, y_te = user_temporal_split(
        X, label_loved(movielens.interactions), test_size=0.2
    )
    items = np.unique(X["item_id"])
    cold = np.random.default_rng(0).choice(items, size=len(items) // 5, replace=False)
    keep = ~X_tr["item_id"].isin(cold).to_numpy()
    X_tr, y_tr = X_tr[keep], y_tr[keep]
    data = BenchmarkData(
        "ml-100k", X_tr, X_te, y_tr, y_te, movielens.item_info, movielens.user_info, 0
    )
    base = STRATEGIES["lightgbm"].factory(data)
    base.set_params(interactionfeaturizer__cold_item_fraction=0.2)
    with_history = make_pipeline(
        LabelHistoryFeaturizer(), *[step for _, step in base.steps]
    ).set_output(transform="pandas")
    is_cold = np.isin(X_te["item_id"], cold)
    auc = {}
    for name, pipe in {"base": base, "history": with_history}.items():
        score = pipe.fit(X_tr, y_tr).predict_proba(X_te)[:, 1]
        auc[name] = (roc_auc_score(y_te, score), roc_auc_score(y_te[is_cold], score[is_cold]))
    assert auc["history"][0] > auc["base"][0] + 0.002  # all test rows
    assert auc["history"][1] > auc["base"][1] + 0.01  # the cold items' rows
    assert auc["history"][1] > 0.715
