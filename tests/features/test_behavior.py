"""BehaviorHistoryFeaturizer: exact values, a slow reference, the point-in-time property."""

import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from sklearn_recsys.features import BehaviorHistoryFeaturizer

BEHAVIORS = ["pv", "cart", "fav", "buy"]


def _log(rows):
    frame = pd.DataFrame(
        rows, columns=["user_id", "item_id", "category_id", "behavior_type", "timestamp"]
    )
    frame["behavior_type"] = pd.Categorical(frame["behavior_type"], categories=BEHAVIORS)
    return frame


def _random_log(n, seed, n_users=6, n_items=10, span=20_000):
    rng = np.random.RandomState(seed)
    items = rng.randint(0, n_items, n)
    return _log(
        {
            "user_id": rng.randint(0, n_users, n),
            "item_id": items,
            "category_id": items % 3,  # an item keeps its category
            "behavior_type": rng.choice(BEHAVIORS, n, p=[0.6, 0.2, 0.1, 0.1]),
            "timestamp": np.sort(rng.randint(0, span, n)),
        }
    )


def _reference(events, rows, windows, gap=1800.0, smooth=20.0):
    """One row at a time, straight from the definitions."""
    out = []
    for r in rows.itertuples(index=False):
        t = r.timestamp
        past = events[events.timestamp < t]
        feats = {}
        masks = {
            "user_item": (past.user_id == r.user_id) & (past.item_id == r.item_id),
            "user_cat": (past.user_id == r.user_id) & (past.category_id == r.category_id),
            "user": past.user_id == r.user_id,
            "item": past.item_id == r.item_id,
            "cat": past.category_id == r.category_id,
        }
        for key, m in masks.items():
            sub = past[m]
            for b in BEHAVIORS:
                feats[f"{key}_{b}"] = int((sub.behavior_type == b).sum())
                for label, w in windows.items():
                    feats[f"{key}_{b}_{label}"] = int(
                        ((sub.behavior_type == b) & (sub.timestamp >= t - w)).sum()
                    )
            feats[f"{key}_events"] = len(sub)
        for key in ("user_item", "user_cat"):
            sub = past[masks[key]]
            feats[f"{key}_since_first"] = t - sub.timestamp.min() if len(sub) else -1.0
            feats[f"{key}_since_last"] = t - sub.timestamp.max() if len(sub) else -1.0
        for key in ("user", "item"):
            sub = past[masks[key]]
            feats[f"{key}_since_last"] = t - sub.timestamp.max() if len(sub) else -1.0
        feats["user_items"] = past[masks["user"]].item_id.nunique()
        feats["user_cat_items"] = past[masks["user_cat"]].item_id.nunique()
        feats["item_users"] = past[masks["item"]].user_id.nunique()
        cat = past[masks["cat"]]
        feats["cat_user_items"] = len(cat.drop_duplicates(["user_id", "item_id"]))
        feats["user_item_share"] = feats["user_item_events"] / max(feats["user_cat_events"], 1)
        feats["user_cat_share"] = feats["user_cat_events"] / max(feats["user_events"], 1)
        mine = past[masks["user"]].sort_values("timestamp", kind="stable")
        session = mine.iloc[:0]
        if len(mine) and t - mine.timestamp.iloc[-1] <= gap:
            new = np.r_[True, np.diff(mine.timestamp.to_numpy()) > gap]
            session = mine.iloc[np.flatnonzero(new)[-1] :]
        feats["session_events"] = len(session)
        feats["session_elapsed"] = t - session.timestamp.iloc[0] if len(session) else 0.0
        feats["session_user_item"] = int((session.item_id == r.item_id).sum())
        for b in BEHAVIORS:
            feats[f"session_{b}"] = int((session.behavior_type == b).sum())
        prior = ((past.behavior_type == "buy").sum() + 1) / (len(past) + 2)
        for key in ("user", "item", "cat"):
            sub = past[masks[key]]
            feats[f"{key}_conversion"] = ((sub.behavior_type == "buy").sum() + smooth * prior) / (
                len(sub) + smooth
            )
        out.append(feats)
    return pd.DataFrame(out, index=rows.index)


def test_hand_made_log_exact_values():
    events = _log(
        [
            (1, 7, 3, "pv", 0),
            (1, 7, 3, "cart", 60),
            (1, 8, 3, "pv", 120),
            (1, 7, 3, "buy", 7200),  # a new session (gap > 30 min)
            (2, 7, 3, "pv", 30),
            (1, 9, 4, "pv", 7260),
        ]
    )
    rows = events[events.behavior_type != "buy"]
    out = BehaviorHistoryFeaturizer(events, windows=("1h",)).fit_transform(rows)
    assert list(out.columns[:5]) == list(events.columns)
    assert out["user_item_pv"].tolist() == [0, 1, 0, 0, 0]
    assert out["user_item_cart"].tolist() == [0, 0, 0, 0, 0]
    assert out["item_events"].tolist() == [0, 2, 0, 1, 0]
    assert out["user_events"].tolist() == [0, 1, 2, 0, 4]
    assert out["user_buy"].tolist() == [0, 0, 0, 0, 1]
    assert out["user_pv_1h"].tolist() == [0, 1, 1, 0, 0]  # the pv at 0 is > 1 h before 7260
    assert out["user_item_since_first"].tolist() == [-1, 60, -1, -1, -1]
    assert out["user_since_last"].tolist() == [-1, 60, 60, -1, 60]
    assert out["session_events"].tolist() == [0, 1, 2, 0, 1]
    assert out["session_buy"].tolist() == [0, 0, 0, 0, 1]
    assert out["session_elapsed"].tolist() == [0, 60, 120, 0, 60]
    assert out["user_items"].tolist() == [0, 1, 1, 0, 2]
    assert out["item_users"].tolist() == [0, 2, 0, 1, 0]
    assert out["current_cart"].tolist() == [0, 1, 0, 0, 0]
    # the user's conversion rate at 7260: 1 buy in 4 events, prior (1 + 1) / (5 + 2)
    assert out["user_conversion"].iloc[4] == pytest.approx((1 + 20 * 2 / 7) / (4 + 20))


@pytest.mark.parametrize("seed", [0, 1])
def test_matches_slow_reference(seed):
    events = _random_log(400, seed)
    rows = _random_log(150, seed + 10)  # other rows than the events, unknown ids included
    rows["user_id"] = rows["user_id"] + (rows.index % 7 == 0)  # user 6 is never in the log
    feat = BehaviorHistoryFeaturizer(events, windows=("1h", 600)).fit(rows)
    out = feat.transform(rows)
    ref = _reference(events, rows, {"1h": 3600, "600s": 600})
    assert sorted(ref.columns) == sorted(
        c for c in feat.history_names_ if not c.startswith("current_")
    )
    for col in ref.columns:
        np.testing.assert_allclose(
            out[col].to_numpy(float), ref[col].to_numpy(float), rtol=1e-6, err_msg=col
        )


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), cutoff=st.integers(1, 19_999))
def test_later_events_never_change_earlier_rows(seed, cutoff):
    events = _random_log(200, seed)
    rows = events[events.timestamp <= cutoff]
    if rows.empty:
        return
    rng = np.random.RandomState(seed)
    later = _random_log(100, seed + 1)
    later["timestamp"] = cutoff + rng.randint(0, 5000, len(later))
    changed = pd.concat([events[events.timestamp < cutoff], later], ignore_index=True)
    changed["behavior_type"] = pd.Categorical(changed["behavior_type"], categories=BEHAVIORS)
    a = BehaviorHistoryFeaturizer(events).fit_transform(rows)
    b = BehaviorHistoryFeaturizer(changed).fit_transform(rows)
    pd.testing.assert_frame_equal(a, b)


def test_datetime_times_equal_seconds():
    events = _random_log(300, 3)
    rows = events.iloc[::3]
    as_dates = events.assign(timestamp=pd.to_datetime(events.timestamp, unit="s"))
    a = BehaviorHistoryFeaturizer(events).fit_transform(rows)
    b = BehaviorHistoryFeaturizer(as_dates).fit_transform(as_dates.iloc[::3])
    cols = BehaviorHistoryFeaturizer(events).fit(rows).history_names_
    np.testing.assert_allclose(a[cols].to_numpy(float), b[cols].to_numpy(float))


def test_events_none_uses_x_and_unknown_ids_have_no_history():
    events = _random_log(200, 4)
    feat = BehaviorHistoryFeaturizer().fit(events)
    assert feat.n_events_ == 200
    new = events.head(3).assign(user_id=99, item_id=99, category_id=99)
    out = feat.transform(new)
    assert (out[[c for c in feat.history_names_ if c.endswith("_events")]] == 0).all().all()
    assert (out["user_since_last"] == -1).all()


def test_feature_names_clone_pickle():
    events = _random_log(100, 5)
    feat = BehaviorHistoryFeaturizer(events, category_col=None, target=None, windows=())
    out = feat.fit_transform(events)
    assert list(feat.get_feature_names_out()) == list(out.columns)
    assert not any(
        c.startswith(("user_cat", "cat_")) or c.endswith("_conversion") for c in feat.history_names_
    )
    again = pickle.loads(pickle.dumps(feat)).transform(events)
    pd.testing.assert_frame_equal(out, again)
    assert clone(feat).get_params()["events"] is not None


@pytest.mark.parametrize(
    ("params", "frame", "error", "match"),
    [
        ({}, lambda e: e.drop(columns="category_id"), ValueError, "category_col='category_id'"),
        ({"target": "order"}, None, ValueError, "target='order' is not a behaviour"),
        ({"windows": ("1h", "60min")}, None, ValueError, "windows must be distinct"),
        ({"windows": ("soon",)}, None, ValueError, "windows='soon' is not a time span"),
        ({"session_gap": -5}, None, ValueError, "session_gap"),
    ],
)
def test_errors(params, frame, error, match):
    events = _random_log(50, 6)
    X = events if frame is None else frame(events)
    with pytest.raises(error, match=match):
        BehaviorHistoryFeaturizer(**params).fit(X)


def test_missing_ids_and_times_rejected():
    events = _random_log(50, 7)
    bad = events.astype({"user_id": float})
    bad.loc[3, "user_id"] = np.nan
    with pytest.raises(ValueError, match="user_col='user_id' of events"):
        BehaviorHistoryFeaturizer(bad).fit(events)
    feat = BehaviorHistoryFeaturizer(events).fit(events)
    rows = events.astype({"timestamp": float})
    rows.loc[0, "timestamp"] = np.nan
    with pytest.raises(ValueError, match="time_col='timestamp' of X"):
        feat.transform(rows)
    with pytest.raises(TypeError, match="DataFrame"):
        feat.transform(events.to_numpy())


@pytest.mark.parametrize(
    "check",
    [
        "check_no_attributes_set_in_init",
        "check_parameters_default_constructible",
        "check_get_params_invariance",
        "check_set_params",
        "check_estimator_repr",
        "check_estimator_cloneable",
    ],
)
def test_parameter_level_estimator_checks(check):
    """The checks that need no numeric-array input; the data-level checks are the tests above
    (the featurizer reads named id, behaviour and time columns and an event log)."""
    from sklearn.utils import estimator_checks

    getattr(estimator_checks, check)(
        "BehaviorHistoryFeaturizer", BehaviorHistoryFeaturizer(_random_log(30, 0))
    )


def test_row_order_and_subsets_do_not_change_values():
    # the kernel sorts the rows per key: a row's values depend on the row and the log only
    events = _random_log(500, 8)
    feat = BehaviorHistoryFeaturizer(events).fit(events)
    whole = feat.transform(events)
    shuffled = events.sample(frac=1.0, random_state=0)
    pd.testing.assert_frame_equal(feat.transform(shuffled), whole.loc[shuffled.index])
    subset = events.iloc[::7]
    pd.testing.assert_frame_equal(feat.transform(subset), whole.loc[subset.index])
    # rows between two event times, and rows repeated, too
    between = events.iloc[::5].assign(timestamp=lambda f: f.timestamp + 0.5)
    twice = pd.concat([between, between])
    got = feat.transform(twice)
    assert len(got) == 2 * len(between)
    np.testing.assert_array_equal(
        got.iloc[: len(between)].to_numpy(), got.iloc[len(between) :].to_numpy()
    )
    ref = _reference(events, between, {"1h": 3600, "24h": 86400})
    np.testing.assert_allclose(
        got.iloc[: len(between)][ref.columns].to_numpy(float), ref.to_numpy(float), rtol=1e-5
    )
