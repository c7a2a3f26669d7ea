import numpy as np
import pandas as pd
import pytest

from sklearn_recsys.datasets import label_conversion

BEHAVIORS = pd.CategoricalDtype(["pv", "cart", "fav", "buy"])
H = 3600


def _log(rows):
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "behavior_type", "timestamp"])
    frame["behavior_type"] = frame["behavior_type"].astype(BEHAVIORS)
    return frame


@pytest.fixture
def hand_log():
    """Several users and items; a 72 h window. Comments give each non-buy row's label."""
    return _log(
        [
            (1, 10, "pv", 0),  # 1: buy of (1, 10) at 72 h exactly
            (1, 10, "cart", 100),  # 1: same buy, 72 h - 100 s later
            (1, 10, "buy", 72 * H),
            (1, 10, "pv", 72 * H),  # 1: a buy at the same second counts
            (1, 10, "pv", 72 * H + 1),  # 0: the buy is before it
            (1, 11, "pv", 5),  # 0: the user buys another item only
            (2, 10, "pv", 10),  # 0: another user's buy of the same item
            (2, 12, "fav", 1000),  # 0: the buy comes 72 h + 1 s later
            (2, 12, "buy", 1000 + 72 * H + 1),
            (3, 13, "pv", 50),  # 1: second buy inside the window
            (3, 13, "buy", 40),  # (a buy before the view)
            (3, 13, "buy", 50 + 72 * H - 1),
            (3, 14, "pv", 60),  # 0: no buy at all
        ]
    )


def test_hand_made_log_exact_labels(hand_log):
    X, y = label_conversion(hand_log)
    assert y.tolist() == [1, 1, 1, 0, 0, 0, 0, 1, 0]
    assert y.dtype == np.int8 and y.name == "buy_within_72h"
    assert y.index.equals(X.index) and isinstance(X.index, pd.RangeIndex)
    assert list(X.columns) == ["user_id", "item_id", "behavior_type", "timestamp", "label_time"]
    assert X.timestamp.tolist() == [0, 100, 72 * H, 72 * H + 1, 5, 10, 1000, 50, 60]
    assert (X.label_time == X.timestamp + 72 * H).all()
    assert X.label_time.dtype == np.int64
    # the behaviour keeps its category dtype: "buy" stays a level, with no row
    assert X.behavior_type.dtype == BEHAVIORS
    assert (X.behavior_type == "buy").sum() == 0


def test_window_spellings_and_other_targets(hand_log):
    y72 = label_conversion(hand_log)[1]
    for window in ("3D", "72 hours", pd.Timedelta(hours=72), 72 * H, np.int64(72 * H)):
        y = label_conversion(hand_log, window=window)[1]
        pd.testing.assert_series_equal(y, y72)
    X, y = label_conversion(hand_log, window="1h")
    assert y.name == "buy_within_1h"
    assert y.tolist() == [0, 0, 1, 0, 0, 0, 0, 0, 0]
    assert (X.label_time - X.timestamp == H).all()
    assert label_conversion(hand_log, window=90)[1].name == "buy_within_90s"
    assert label_conversion(hand_log, window="30min")[1].name == "buy_within_30min"
    Xc, yc = label_conversion(hand_log, target="cart")
    assert len(Xc) == 12 and yc.name == "cart_within_72h"
    assert yc.tolist() == [1] + [0] * 11  # only the first view precedes the cart


def test_order_columns_and_index_are_kept(hand_log):
    shuffled = hand_log.sample(frac=1.0, random_state=0)
    shuffled.index = shuffled.index * 10 + 3
    shuffled["price"] = np.arange(len(shuffled), dtype=float)
    X, y = label_conversion(shuffled)
    expected = shuffled[shuffled.behavior_type != "buy"].reset_index(drop=True)
    pd.testing.assert_frame_equal(X.drop(columns="label_time"), expected)
    # the same labels as the sorted log, row for row
    X0, y0 = label_conversion(hand_log)
    merged = X.assign(y=y).merge(
        X0.assign(y0=y0), on=["user_id", "item_id", "behavior_type", "timestamp", "label_time"]
    )
    assert len(merged) == len(X) and (merged.y == merged.y0).all()


def test_datetime_and_float_times_and_other_names(hand_log):
    y = label_conversion(hand_log)[1]
    log = hand_log.rename(
        columns={"user_id": "u", "item_id": "i", "behavior_type": "b", "timestamp": "t"}
    )
    log["t"] = pd.to_datetime(log["t"], unit="s").dt.tz_localize("Asia/Shanghai")
    kw = {
        "user_col": "u",
        "item_col": "i",
        "behavior_col": "b",
        "time_col": "t",
        "label_time_col": "known_at",
    }
    X, yd = label_conversion(log, **kw)
    assert yd.tolist() == y.tolist()
    assert X.known_at.dtype == X.t.dtype
    assert (X.known_at - X.t == pd.Timedelta(hours=72)).all()
    log["t"] = hand_log["timestamp"].astype(float) + 0.25
    X, yf = label_conversion(log, **kw)
    assert yf.tolist() == y.tolist()
    assert X.known_at.dtype == np.float64
    # string ids and an object behaviour column work the same
    log = hand_log.astype({"user_id": str, "item_id": str, "behavior_type": object})
    assert label_conversion(log)[1].tolist() == y.tolist()


def _reference(log, window, target="buy"):
    """Slow pure-Python reference: for each non-target event, look at every target event."""
    buys = {}
    for u, i, b, t in log.itertuples(index=False):
        if b == target:
            buys.setdefault((u, i), []).append(t)
    return [
        int(any(t <= tb <= t + window for tb in buys.get((u, i), ())))
        for u, i, b, t in log.itertuples(index=False)
        if b != target
    ]


@pytest.mark.parametrize("seed, window", [(0, 72 * H), (1, 600), (2, 1)])
def test_random_logs_match_a_slow_reference(seed, window):
    rng = np.random.RandomState(seed)
    n = 3000
    log = _log(
        {
            "user_id": rng.randint(0, 30, n),
            "item_id": rng.randint(0, 20, n),
            "behavior_type": rng.choice(["pv", "cart", "fav", "buy"], n, p=[0.7, 0.1, 0.1, 0.1]),
            # a narrow time range: many ties and many buys near each window's end
            "timestamp": rng.randint(0, 3 * window + 5, n),
        }
    )
    X, y = label_conversion(log, window=window)
    expected = _reference(log, window)
    assert y.tolist() == expected
    assert 0 < y.mean() < 1
    # huge sparse ids and negative ids take the factorised paths: the same labels
    big = log.assign(
        user_id=log.user_id.astype(np.int64) * 10**12 + 7,
        item_id=log.item_id.astype(np.int64) * 10**11 + 3,
    )
    assert label_conversion(big, window=window)[1].tolist() == expected
    negative = log.assign(user_id=-log.user_id, item_id=log.item_id.astype(np.uint16))
    assert label_conversion(negative, window=window)[1].tolist() == expected


def test_errors(hand_log):
    with pytest.raises(ValueError, match="DataFrame; got ndarray"):
        label_conversion(hand_log.to_numpy())
    with pytest.raises(ValueError, match=r"user_col='uid'.*not a column.*\['user_id'"):
        label_conversion(hand_log, user_col="uid")
    with pytest.raises(ValueError, match="item_col='sku', time_col='ts'"):
        label_conversion(hand_log, item_col="sku", time_col="ts")
    for col in ("user_id", "item_id", "timestamp"):
        bad = hand_log.astype({col: float})
        bad.loc[2, col] = np.nan
        with pytest.raises(ValueError, match=f"'{col}' has 1 missing"):
            label_conversion(bad)
    with pytest.raises(ValueError, match=r"target='order' is not a level.*'buy'"):
        label_conversion(hand_log, target="order")
    plain = hand_log.astype({"behavior_type": object})
    with pytest.raises(ValueError, match=r"'order' does not occur.*\['buy', 'cart', 'fav'"):
        label_conversion(plain, target="order")
    no_buy = hand_log[hand_log.behavior_type != "buy"]
    with pytest.raises(ValueError, match="one class"):
        label_conversion(no_buy)
    with pytest.raises(ValueError, match="nothing to label"):
        label_conversion(hand_log[hand_log.behavior_type == "buy"])
    for window in (0, -5, "-1h", pd.Timedelta(0), "0s"):
        with pytest.raises(ValueError, match="window must be a positive duration"):
            label_conversion(hand_log, window=window)
    for window in ("soon", None, True, [3]):
        with pytest.raises(ValueError, match="window"):
            label_conversion(hand_log, window=window)
    with pytest.raises(ValueError, match="label_time_col='timestamp' is already a column"):
        label_conversion(hand_log, label_time_col="timestamp")
    with pytest.raises(ValueError, match="time_col='timestamp' must hold numbers"):
        label_conversion(hand_log.astype({"timestamp": str}))


def test_label_time_drives_the_temporal_splitters_purge():
    from sklearn_recsys.datasets import make_interactions
    from sklearn_recsys.model_selection import TemporalSplit

    X, y = make_interactions(
        n_interactions=5000, multi_behavior=True, return_X_y=True, random_state=0
    )
    train, test = next(TemporalSplit(test_size=0.2, label_time_col="label_time").split(X, y))
    cutoff = X.timestamp.iloc[test].min()
    assert (X.label_time.iloc[train] <= cutoff).all()
    plain_train = next(TemporalSplit(test_size=0.2).split(X, y))[0]
    assert len(train) < len(plain_train)  # rows whose 72 h label is not known yet are purged
