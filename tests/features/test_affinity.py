"""Tests of ContentAffinity (no text model needed: the vectors are columns of X).

``parametrize_with_checks`` is not run on this estimator: it needs a DataFrame with user and item
id columns next to the vector columns, and a label saying which items a user liked; sklearn's
checks feed plain float arrays without ids. The conventions those checks cover (clone,
get_params, not-fitted error, feature names, pickling, no change of X) are tested by hand.
"""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline

from sklearn_recsys.features import InteractionFeaturizer
from sklearn_recsys.features._affinity import ContentAffinity

COLS = ["content_affinity", "content_nearest_distance", "content_n_liked"]


def _frame(n=400, n_users=15, n_items=40, d=4, seed=0):
    rng = np.random.default_rng(seed)
    item_vecs = rng.normal(size=(n_items, d))
    item_vecs[0] = 0.0  # an item without text
    users = rng.integers(0, n_users, n)
    items = rng.integers(0, n_items, n)
    X = pd.DataFrame({"user_id": users, "item_id": items, "price": rng.random(n)})
    for j in range(d):
        X[f"text_{j}"] = item_vecs[items, j]
    y = (rng.random(n) < 0.3).astype(int)
    return X, y


def _unit(v):
    n = np.linalg.norm(v)
    return v / n if n > 0 else v


def _reference(X_fit, y, X_rows, fold_fit=None, fold_rows=None, d=4):
    """Row-by-row definition (slow, obviously right)."""
    V = X_fit[[f"text_{j}" for j in range(d)]].to_numpy()
    W = X_rows[[f"text_{j}" for j in range(d)]].to_numpy()
    users_fit, users_rows = X_fit["user_id"].to_numpy(), X_rows["user_id"].to_numpy()
    out = []
    for r in range(len(X_rows)):
        liked = [
            _unit(V[j])
            for j in range(len(X_fit))
            if users_fit[j] == users_rows[r]
            and y[j] >= 1
            and np.linalg.norm(V[j]) > 0
            and (fold_fit is None or fold_fit[j] != fold_rows[r])
        ]
        v = _unit(W[r])
        if not liked or np.linalg.norm(v) == 0:
            out.append((np.nan, np.nan, len(liked)))
            continue
        p = np.mean(liked, axis=0)
        out.append((v @ p / np.linalg.norm(p), 1 - max(v @ w for w in liked), len(liked)))
    return np.array(out, dtype=float)


def test_transform_matches_definition():
    X, y = _frame()
    X_new, _ = _frame(n=120, seed=1)
    X_new.loc[0, "user_id"] = 999  # unknown user
    ca = ContentAffinity(missing="nan").fit(X, y)
    got = ca.transform(X_new)
    ref = _reference(X, y, X_new)
    np.testing.assert_allclose(got[COLS].to_numpy(dtype=float), ref, atol=1e-10)
    assert np.isnan(got.loc[0, "content_affinity"]) and got.loc[0, "content_n_liked"] == 0
    zero = X_new["item_id"].to_numpy() == 0
    assert zero.any() and got.loc[zero, "content_affinity"].isna().all()
    assert got["content_affinity"].dropna().between(-1, 1).all()
    assert got["content_nearest_distance"].dropna().between(0, 2).all()
    pd.testing.assert_frame_equal(got[X_new.columns], X_new)


def test_fit_transform_is_out_of_fold():
    X, y = _frame()
    ca = ContentAffinity(missing="nan", cv=3, random_state=0)
    got = ca.fit_transform(X, y)
    folds = np.random.RandomState(0).permutation(len(X)) % 3
    ref = _reference(X, y, X, folds, folds)
    np.testing.assert_allclose(got[COLS].to_numpy(dtype=float), ref, atol=1e-10)
    # the fitted state is the one of fit on all rows
    full = ContentAffinity(missing="nan").fit(X, y)
    pd.testing.assert_frame_equal(ca.transform(X), full.transform(X))


def test_out_of_fold_does_not_leak_the_label():
    # every item is its own direction and each user likes items at random: a row's own label
    # is the only thing that could make its affinity predictive
    rng = np.random.default_rng(0)
    n, n_items = 3000, 300
    items = rng.integers(0, n_items, n)
    vecs = rng.normal(size=(n_items, 16))
    X = pd.DataFrame({"user_id": rng.integers(0, 30, n), "item_id": items})
    X = pd.concat([X, pd.DataFrame(vecs[items], columns=[f"text_{j}" for j in range(16)])], axis=1)
    y = (rng.random(n) < 0.2).astype(int)
    ca = ContentAffinity(missing="nan", random_state=0)
    oof = ca.fit_transform(X, y)["content_nearest_distance"].fillna(2)
    in_sample = ca.transform(X)["content_nearest_distance"].fillna(2)
    assert roc_auc_score(y, -in_sample) > 0.7  # leaky: a liked row is its own nearest item
    assert abs(roc_auc_score(y, -oof) - 0.5) < 0.06


def test_signal_is_recovered_on_held_out_rows():
    # users like the items of "their" direction; affinity must rank held-out likes first
    rng = np.random.default_rng(1)
    n_users, n_items, d = 40, 200, 8
    centers = rng.normal(size=(4, d))
    item_group = rng.integers(0, 4, n_items)
    vecs = centers[item_group] + 0.5 * rng.normal(size=(n_items, d))
    user_group = rng.integers(0, 4, n_users)
    users, items = rng.integers(0, n_users, 4000), rng.integers(0, n_items, 4000)
    p = np.where(item_group[items] == user_group[users], 0.5, 0.02)
    y = (rng.random(4000) < p).astype(int)
    X = pd.DataFrame({"user_id": users, "item_id": items})
    X = pd.concat([X, pd.DataFrame(vecs[items], columns=[f"text_{j}" for j in range(d)])], axis=1)
    ca = ContentAffinity(missing="nan", random_state=0)
    train = ca.fit_transform(X.iloc[:3000], y[:3000])
    test = ca.transform(X.iloc[3000:])
    assert roc_auc_score(y[:3000], train["content_affinity"].fillna(0)) > 0.85
    assert roc_auc_score(y[3000:], test["content_affinity"].fillna(0)) > 0.85
    assert roc_auc_score(y[3000:], -test["content_nearest_distance"].fillna(2)) > 0.75


def test_graded_labels_list_columns_and_category_ids():
    X, _ = _frame(n=200)
    rating = np.random.default_rng(3).integers(1, 6, 200)
    X_cat = X.assign(user_id=X["user_id"].astype(str).astype("category"))
    ca = ContentAffinity(
        missing="nan", vector_cols=["text_2", "text_0"], positive_threshold=4, prefix="c_"
    ).fit(X_cat, rating)
    got = ca.transform(X_cat)
    assert list(got.columns[-4:]) == [
        "c_affinity",
        "c_nearest_distance",
        "c_n_liked",
        "c_neighbor_rate",
    ]
    assert ca.vector_cols_ == ["text_2", "text_0"]
    assert ca.profiles_.shape[1] == 2
    assert got["c_n_liked"].sum() == sum(
        ((rating >= 4) & (X["item_id"] != 0)).groupby(X["user_id"]).sum()[X["user_id"]]
    )
    assert list(ca.get_feature_names_out()) == list(got.columns)


def test_neighbor_rate_matches_definition():
    X, y = _frame(n=300, n_items=25)
    X_new, _ = _frame(n=60, n_items=30, seed=2)  # items 25..29 are new
    ca = ContentAffinity(missing="nan", n_neighbors=4).fit(X, y)
    got = ca.transform(X_new)["content_neighbor_rate"].to_numpy()
    V = X[[f"text_{j}" for j in range(4)]].to_numpy()
    table = {}
    for item in np.unique(X["item_id"]):
        rows = np.flatnonzero(X["item_id"].to_numpy() == item)
        if np.linalg.norm(V[rows[0]]) > 0:
            table[item] = (_unit(V[rows[0]]), y[rows].sum(), len(rows))
    W = X_new[[f"text_{j}" for j in range(4)]].to_numpy()
    for r, item in enumerate(X_new["item_id"]):
        if np.linalg.norm(W[r]) == 0:
            assert np.isnan(got[r])
            continue
        sims = sorted(
            ((_unit(W[r]) @ v, p, c) for j, (v, p, c) in table.items() if j != item),
            key=lambda t: -t[0],
        )[:4]
        num = y.mean() + sum(max(s, 0) * p for s, p, _ in sims)
        den = 1 + sum(max(s, 0) * c for s, _, c in sims)
        assert got[r] == pytest.approx(num / den, abs=1e-12)
    # no out-of-fold needed: fit_transform gives the same column
    np.testing.assert_allclose(
        ca.fit_transform(X, y)["content_neighbor_rate"], ca.transform(X)["content_neighbor_rate"]
    )


def test_missing_neutral_is_the_default():
    X, y = _frame()
    nan = ContentAffinity(missing="nan", random_state=0).fit_transform(X, y)
    neutral = ContentAffinity(random_state=0).fit_transform(X, y)
    gone = nan["content_affinity"].isna().to_numpy()
    assert gone.any() and not neutral[COLS].isna().any().any()
    assert (neutral.loc[gone, "content_affinity"] == 0).all()
    assert (neutral.loc[gone, "content_nearest_distance"] == 1).all()
    pd.testing.assert_frame_equal(neutral[~gone], nan[~gone])


def test_no_positive_at_all():
    X, y = _frame(n=50)
    got = ContentAffinity(missing="nan").fit(X, np.zeros(50)).transform(X)
    assert got["content_affinity"].isna().all() and (got["content_n_liked"] == 0).all()


def test_pipeline_with_featurizer_lightgbm_and_pickle():
    lightgbm = pytest.importorskip("lightgbm")
    X, y = _frame(n=300)
    pipe = make_pipeline(
        ContentAffinity(random_state=0),  # missing="neutral": the featurizer refuses NaN
        InteractionFeaturizer(keep_id_columns=False, n_factors=2, random_state=0),
        lightgbm.LGBMClassifier(n_estimators=5, verbose=-1, random_state=0),
    ).set_output(transform="pandas")
    proba = pipe.fit(X, y).predict_proba(X)[:, 1]
    assert "content_affinity" in pipe[-1].feature_name_
    again = pickle.loads(pickle.dumps(pipe)).predict_proba(X)[:, 1]
    np.testing.assert_array_equal(proba, again)


def test_sklearn_conventions():
    X, y = _frame(n=60)
    ca = ContentAffinity(missing="nan", cv=4, random_state=3)
    assert clone(ca).get_params() == ca.get_params()
    with pytest.raises(NotFittedError):
        ca.transform(X)
    ca.fit(X, y)
    assert ca.n_features_in_ == X.shape[1]
    with pytest.raises(ValueError, match="feature names"):
        ca.transform(X.rename(columns={"price": "cost"}))
    names = ca.get_feature_names_out()
    assert list(ca.get_feature_names_out(list(X.columns))) == list(names)
    with pytest.raises(ValueError, match="input_features"):
        ca.get_feature_names_out(["a"] * X.shape[1])
    pd.testing.assert_frame_equal(pickle.loads(pickle.dumps(ca)).transform(X), ca.transform(X))


@pytest.mark.parametrize(
    "kwargs, mutate, y, exc, match",
    [
        ({}, lambda X: X, None, ValueError, "requires y"),
        ({}, lambda X: X, [1, 0], ValueError, "y must be 1-D with one label per row"),
        ({"vector_cols": "emb_"}, lambda X: X, "ok", ValueError, "vector_cols='emb_' selects no"),
        (
            {"vector_cols": ["text_0", "nope"]},
            lambda X: X,
            "ok",
            ValueError,
            r"vector_cols\[1\]='nope' is not a column of X",
        ),
        ({"user_col": "uid"}, lambda X: X, "ok", ValueError, "user_col='uid' is not a column"),
        ({}, lambda X: X.assign(text_1=np.nan), "ok", ValueError, "NaN or infinite"),
        ({}, lambda X: X.assign(user_id=np.nan), "ok", ValueError, "missing"),
        ({"cv": 1}, lambda X: X, "ok", ValueError, "'cv' parameter"),
        ({}, lambda X: X.to_numpy(), "ok", TypeError, "X must be a pandas DataFrame"),
    ],
)
def test_bad_input(kwargs, mutate, y, exc, match):
    X, y_ok = _frame(n=30)
    y = y_ok if isinstance(y, str) else y
    with pytest.raises(exc, match=match):
        ContentAffinity(**kwargs).fit(mutate(X), y)
