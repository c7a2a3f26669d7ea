"""sklearn_recsys.dask.BehaviorHistoryFeaturizer: the pandas featurizer's history from Dask."""

import numpy as np
import pandas as pd
import pytest

from sklearn_recsys.dask import BehaviorHistoryFeaturizer, read_taobao
from sklearn_recsys.datasets import load_taobao, make_interactions
from sklearn_recsys.features import BehaviorHistoryFeaturizer as PandasFeaturizer

pytestmark = pytest.mark.dask


@pytest.fixture(scope="module")
def events():
    """A multi-behaviour log where a few items carry a second category on some events (as in
    Taobao), so that a user x item pair can be first seen under another category."""
    log = make_interactions(
        n_users=150,
        n_items=200,
        n_categories=12,
        n_interactions=6000,
        multi_behavior=True,
        random_state=3,
    ).interactions
    rng = np.random.default_rng(0)
    moved = rng.random(len(log)) < 0.15
    two = log["item_id"].isin(log["item_id"].unique()[:40]).to_numpy() & moved
    log.loc[two, "category_id"] = (log.loc[two, "category_id"] + 1) % 12
    return log


def _rows(log, seed=0):
    """The non-buy events, shuffled (rows are not in time order within or across partitions)."""
    return log[log.behavior_type != "buy"].sample(frac=1.0, random_state=seed)


def _check_equal(got, expected, names):
    assert list(got.columns) == list(expected.columns)
    pd.testing.assert_index_equal(got.index, expected.index)
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-6, atol=1e-6)
    assert (got[names].dtypes == np.float32).all()


def _compute_aligned(out, Xd):
    """The output, computed in one graph, after checking that partition k holds the rows of
    partition k of X, in their order."""
    import dask

    assert out.npartitions == Xd.npartitions
    parts = dask.compute(*out.to_delayed())
    for k, part in enumerate(parts):
        pd.testing.assert_index_equal(part.index, Xd.partitions[k].index.compute())
    return pd.concat(parts)


def test_taobao_equal_pandas(client, to_dask):
    """On the Taobao extract read by read_taobao (several partitions), every column equals the
    pandas featurizer's, and the output is partitioned like X."""
    log = load_taobao().interactions
    rows = _rows(log)
    expected = PandasFeaturizer(log).fit(rows).transform(rows)
    ev = read_taobao(blocksize="1MiB")
    assert ev.npartitions >= 3
    Xd = to_dask(rows, npartitions=3)
    feat = BehaviorHistoryFeaturizer(ev).fit(Xd)
    out = feat.transform(Xd)
    _check_equal(_compute_aligned(out, Xd), expected, feat.history_names_)
    np.testing.assert_array_equal(feat.get_feature_names_out(), expected.columns.to_numpy())
    assert feat.n_events_ == len(log)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"category_col": None, "target": None},
    ],
)
def test_synthetic_equal_pandas(client, to_dask, events, params):
    """The multi-behaviour generator's log (items with two categories included), rows with
    their own behaviour column (the current_* one-hot), several parameter sets."""
    rows = _rows(events, seed=1)
    expected = PandasFeaturizer(events, **params).fit(rows).transform(rows)
    Xd = to_dask(rows, npartitions=4)
    feat = BehaviorHistoryFeaturizer(to_dask(events, npartitions=5), **params).fit(Xd)
    out = feat.transform(Xd)
    _check_equal(_compute_aligned(out, Xd), expected, feat.history_names_)
    assert ("cat_user_items" in feat.history_names_) == (params.get("category_col", 1) is not None)


def test_string_behaviours_and_datetimes(client, to_dask, events):
    """A string behaviour column (levels: its sorted values), datetime times, other windows,
    session gap and smoothing; a log given as X (events=None)."""
    log = events.assign(
        behavior_type=events.behavior_type.astype(str),
        timestamp=pd.to_datetime(events.timestamp, unit="s"),
    )
    params = {"windows": ("10min",), "session_gap": 600, "smooth": 0.5}
    expected = PandasFeaturizer(**params).fit(log).transform(log)
    Xd = to_dask(log, npartitions=3)
    feat = BehaviorHistoryFeaturizer(**params).fit(Xd)
    got = feat.transform(Xd).compute()
    assert list(feat.behaviors_) == ["buy", "cart", "fav", "pv"]
    _check_equal(got, expected, feat.history_names_)


def test_unknown_keys_and_pandas_X(client, to_dask, events):
    """Rows of unseen users, items and categories get the pandas featurizer's 'no history'
    values; a pandas X gives the pandas frame; to_pandas is the pandas featurizer."""
    rows = _rows(events).head(300).copy()
    new = np.arange(100, dtype=np.int32)
    rows.iloc[:100, 0] = 10_000 + new  # unseen users
    rows.iloc[50:150, 1] = 20_000 + new  # unseen items
    rows.iloc[120:200, 2] = np.int32(999)  # an unseen category
    expected = PandasFeaturizer(events).fit(rows).transform(rows)
    feat = BehaviorHistoryFeaturizer(to_dask(events, npartitions=4)).fit(rows)
    got = feat.transform(rows)
    assert isinstance(got, pd.DataFrame)
    _check_equal(got, expected, feat.history_names_)
    assert (got.loc[rows.index[:100], "user_since_last"] == -1).all()
    plain = feat.to_pandas()
    assert type(plain) is PandasFeaturizer
    _check_equal(plain.transform(rows), expected, feat.history_names_)


def test_point_in_time(client, to_dask, events):
    """Changing and adding events at or after a time never changes the rows before it."""
    import dask

    cut = events.timestamp.quantile(0.6)
    rows = _rows(events)
    early = rows.timestamp < cut
    later = events.timestamp >= cut
    changed = events.copy()
    changed.loc[later, "behavior_type"] = "buy"
    changed.loc[later, "item_id"] = changed.loc[later, "item_id"][::-1].to_numpy()
    changed = pd.concat([changed, changed[later].assign(user_id=changed.user_id.iloc[0])])
    Xd = to_dask(rows, npartitions=2)
    a = BehaviorHistoryFeaturizer(to_dask(events, npartitions=3)).fit(Xd)
    b = BehaviorHistoryFeaturizer(to_dask(changed, npartitions=4)).fit(Xd)
    out_a, out_b = dask.compute(a.transform(Xd), b.transform(Xd))
    pd.testing.assert_frame_equal(out_a[early], out_b[early])
    assert not out_a[~early].equals(out_b[~early])


def test_errors(to_dask, events):
    rows = _rows(events).head(50)
    with pytest.raises(TypeError, match="events must be a dask DataFrame; got DataFrame"):
        BehaviorHistoryFeaturizer(events).fit(rows)
    with pytest.raises(TypeError, match="X .the log, as events=None. must be a dask"):
        BehaviorHistoryFeaturizer().fit(rows)
    ev = to_dask(events, npartitions=2)
    with pytest.raises(ValueError, match="time_col='ts'"):
        BehaviorHistoryFeaturizer(ev, time_col="ts").fit(rows)
    with pytest.raises(ValueError, match="target='order' is not a behaviour of events"):
        BehaviorHistoryFeaturizer(ev, target="order").fit(rows)
    with pytest.raises(ValueError, match="windows must be distinct"):
        BehaviorHistoryFeaturizer(ev, windows=("1h", 3600)).fit(rows)
    missing = events.assign(behavior_type=events.behavior_type.astype(object))
    missing.loc[missing.index[3], "behavior_type"] = None
    with pytest.raises(ValueError, match="1 missing values"):
        BehaviorHistoryFeaturizer(to_dask(missing, npartitions=2)).fit(rows)
    feat = BehaviorHistoryFeaturizer(ev).fit(rows)
    with pytest.raises(ValueError, match="item_id"):
        feat.transform(to_dask(rows.drop(columns="item_id"), npartitions=2))
    with pytest.raises(ValueError, match="transform must be"):
        feat.set_output(transform="polars")
