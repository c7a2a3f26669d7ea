"""sklearn_recsys.dask.InteractionFeaturizer: the pandas featurizer's values from a Dask frame."""

import os

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import PredefinedSplit
from sklearn.preprocessing import TargetEncoder
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_recsys.dask import InteractionFeaturizer
from sklearn_recsys.dask._interaction import _folds
from sklearn_recsys.features import InteractionFeaturizer as PandasFeaturizer

pytestmark = pytest.mark.dask

RATES = ["user_rate", "item_rate", "category_rate"]


def _params(log, **kw):
    return {
        "n_factors": 3,
        "random_state": 0,
        "item_info": log.item_info,
        "user_info": log.user_info,
        **kw,
    }


def _codes(feat, X):
    return feat._encoder_input(
        X, feat.user_indexer_.transform(X["user_id"]), feat.item_indexer_.transform(X["item_id"])
    )


@pytest.mark.parametrize("smooth", ["auto", 4.0])
def test_fit_transform_equal_pandas(log, Xy, to_dask, client, smooth):
    """On a LocalCluster: fit + transform give the pandas featurizer's values, every column."""
    X, y = Xy
    params = _params(log, smooth=smooth)
    ref = PandasFeaturizer(**params).set_output(transform="pandas").fit(X, y)
    feat = InteractionFeaturizer(**params).fit(*to_dask(X, y))
    got = feat.transform(to_dask(X)).compute()
    expected = ref.transform(X)
    assert list(got.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(feat.item_counts_, ref.item_counts_)
    np.testing.assert_allclose(feat.svd_.singular_values_, ref.svd_.singular_values_)
    # the fitted object transforms pandas frames as the pandas featurizer does
    np.testing.assert_allclose(feat.transform(X), ref.transform(X).to_numpy())
    plain = feat.to_pandas()
    assert type(plain) is PandasFeaturizer
    np.testing.assert_allclose(plain.transform(X.head(50)), feat.transform(X.head(50)))


def test_statistics_merged_by_key_range(log, Xy, to_dask):
    """With many partitions the pair and label statistics are reduced per key range (several
    buckets): the fitted state and the out-of-fold rates equal those of a one-bucket fit."""
    from dask.base import tokenize

    X, y = Xy
    params = _params(log)
    many = InteractionFeaturizer(**params)
    got = many.fit_transform(*to_dask(X, y, npartitions=20)).compute()  # 3 buckets
    few = InteractionFeaturizer(**params)
    expected = few.fit_transform(*to_dask(X, y, npartitions=4)).compute()
    assert tokenize(many.user_indexer_.ids_) == tokenize(few.user_indexer_.ids_)
    np.testing.assert_allclose(many.svd_.singular_values_, few.svd_.singular_values_)
    for a, b in zip(many.target_encoder_.encodings_, few.target_encoder_.encodings_):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    # the row-hash folds do not depend on the partitioning: same out-of-fold rates
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-9, atol=1e-12)


def test_cross_fitted_rates(log, Xy, to_dask):
    """fit_transform: out-of-fold rates of TargetEncoder with the row-hash folds; the other
    columns (cold items included) equal the pandas fit_transform."""
    X, y = Xy
    params = _params(log, cold_item_fraction=0.1)
    feat = InteractionFeaturizer(**params)
    got = feat.fit_transform(*to_dask(X, y)).compute()
    folds = _folds(X, feat.cv, feat.fold_seed_)
    assert set(np.unique(folds)) == set(range(feat.cv))
    oof = TargetEncoder(cv=PredefinedSplit(folds)).fit_transform(_codes(feat, X), y)
    cold = np.isin(X["item_id"], feat.cold_items_)
    assert 0 < cold.sum() < len(X)
    oof[cold, 1] = feat.target_encoder_.target_mean_  # item dropout: the prior item rate
    np.testing.assert_allclose(got[RATES].to_numpy(), oof, rtol=1e-9, atol=1e-12)
    pandas = PandasFeaturizer(**params).set_output(transform="pandas")
    ref = pandas.fit_transform(X, y)
    np.testing.assert_array_equal(feat.cold_items_, pandas.cold_items_)
    other = [c for c in ref.columns if c not in RATES]
    pd.testing.assert_frame_equal(got[other], ref[other], check_exact=False, rtol=1e-9)


def test_no_leakage_across_rows_and_partitions(log, Xy, to_dask):
    """A row's out-of-fold rates never see its own label, and neither the partitioning nor
    the order of the rows changes any value."""
    X, y = Xy
    params = _params(log)
    one = InteractionFeaturizer(**params).fit_transform(*to_dask(X, y, 1)).compute()
    five = InteractionFeaturizer(**params).fit_transform(*to_dask(X, y, 5)).compute()
    pd.testing.assert_frame_equal(one, five)
    order = np.random.RandomState(0).permutation(len(X))
    shuffled = (
        InteractionFeaturizer(**params)
        .fit_transform(*to_dask(X.iloc[order], y.iloc[order], 3))
        .compute()
    )
    pd.testing.assert_frame_equal(shuffled.sort_index(), one)
    row = int(np.flatnonzero(y.to_numpy() == 1)[0])
    flipped = y.copy()
    flipped.iloc[row] = 0
    again = InteractionFeaturizer(**params).fit_transform(*to_dask(X, flipped, 5)).compute()
    np.testing.assert_allclose(again[RATES].iloc[row], one[RATES].iloc[row])
    assert not np.allclose(again[RATES], one[RATES])  # other rows did see the change


@pytest.mark.parametrize("kind", ["multiclass", "continuous"])
def test_other_targets_equal_pandas(log, Xy, to_dask, kind):
    X, _ = Xy
    y = (X["position"] % 3).astype(np.int64) if kind == "multiclass" else X["price"] / 7.0
    y = y.rename("target")
    params = _params(log, smooth="auto")
    ref = PandasFeaturizer(**params).fit(X, y)
    feat = InteractionFeaturizer(**params).fit(*to_dask(X, y, 3))
    assert feat.target_encoder_.target_type_ == ref.target_encoder_.target_type_ == kind
    np.testing.assert_allclose(feat.transform(X), ref.transform(X), rtol=1e-9, atol=1e-12)
    got = feat.fit_transform(*to_dask(X, y, 3)).compute()
    folds = _folds(X, feat.cv, feat.fold_seed_)
    oof = TargetEncoder(cv=PredefinedSplit(folds)).fit_transform(_codes(feat, X), y)
    rate_cols = [c for c in got.columns if "_rate" in c]
    np.testing.assert_allclose(got[rate_cols].to_numpy(), oof, rtol=1e-9, atol=1e-12)


def test_unknown_ids_and_string_ids(to_dask):
    X = pd.DataFrame(
        {
            "user_id": ["u1", "u2", "u1", "u3", "u2", "u1"],
            "item_id": ["a", "b", "b", "c", "a", "c"],
            "x": [1.0, 2.0, 1.0, 2.0, 2.0, 1.0],
        }
    )
    y = pd.Series([1, 0, 0, 1, 0, 1])
    feat = InteractionFeaturizer(time_col=None, n_factors=1, cv=2, random_state=0)
    feat.set_output(transform="pandas").fit(*to_dask(X, y, 2))
    ref = PandasFeaturizer(time_col=None, n_factors=1, cv=2, random_state=0).fit(X, y)
    new = pd.DataFrame({"user_id": ["u9", "u1"], "item_id": ["zz", "a"], "x": [0.0, 1.0]})
    out = feat.transform(new)
    assert out.loc[0, "item_count"] == 0 and out.loc[0, "user_count"] == 0
    assert out.loc[0, "user_rate"] == pytest.approx(y.mean())
    np.testing.assert_allclose(
        out.iloc[:, 2:].to_numpy(float), ref.transform(new)[:, 2:].astype(float)
    )


def test_errors(log, Xy, to_dask):
    X, y = Xy
    Xd, yd = to_dask(X, y, 4)
    with pytest.raises(ValueError, match="requires y to be passed"):
        InteractionFeaturizer().fit(Xd)
    with pytest.raises(ValueError, match="y has 2 partitions but X has 4"):
        InteractionFeaturizer().fit(Xd, to_dask(y.to_frame(), npartitions=2)["purchase"])
    with pytest.raises(ValueError, match="user_col='uid' is not a column of X"):
        InteractionFeaturizer(user_col="uid").fit(Xd, yd)
    bad = X.astype({"user_id": float})
    bad.loc[5, "user_id"] = np.nan
    with pytest.raises(ValueError, match="user_col='user_id' has 1 missing"):
        InteractionFeaturizer().fit(*to_dask(bad, y))
    with pytest.raises(TypeError, match="must be a dask Series"):
        InteractionFeaturizer().fit(Xd, y)
    with pytest.raises(ValueError, match="'pandas' or None"):
        InteractionFeaturizer().set_output(transform="polars")


def test_worker_killed_mid_fit_is_retried(log, Xy, client, tmp_path):
    """A worker dies while it reads a partition: Dask re-runs the lost work on a restarted
    worker and the fit is the one of an undisturbed run, never a silently partial one."""
    import dask.dataframe as dd

    X, y = Xy
    frame = X.assign(purchase=y)
    paths = []
    for k, part in enumerate(np.array_split(np.arange(len(frame)), 4)):
        paths.append(str(tmp_path / f"part-{k}.parquet"))
        frame.iloc[part].to_parquet(paths[-1])
    marker = tmp_path / "killed"

    def load(path):
        if path.endswith("part-2.parquet") and not marker.exists():
            from distributed import get_worker

            get_worker()  # only ever inside a worker process
            marker.write_text("once")
            os._exit(1)  # the worker process dies mid-task
        return pd.read_parquet(path)

    ddf = dd.from_map(load, paths, meta=frame.iloc[:0])
    params = _params(log)
    feat = InteractionFeaturizer(**params).fit(ddf.drop(columns="purchase"), ddf["purchase"])
    assert marker.exists()
    client.wait_for_workers(2)
    ref = PandasFeaturizer(**params).fit(X, y)
    np.testing.assert_allclose(feat.transform(X), ref.transform(X), rtol=1e-9, atol=1e-12)


@parametrize_with_checks(
    [
        InteractionFeaturizer(
            user_col=0, item_col=1, time_col=None, cv=3, n_factors=2, random_state=0
        )
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_empty_partitions(log, Xy, to_dask):
    """Partitions emptied by a filter (a time split) are fine in fit and transform."""
    X, y = Xy
    Xd, yd = to_dask(X.sort_values("timestamp"), y.loc[X.sort_values("timestamp").index], 4)
    cut = X["timestamp"].quantile(0.4)
    train = Xd[Xd["timestamp"] < cut]
    feat = InteractionFeaturizer(**_params(log))
    out = feat.fit_transform(train, yd[Xd["timestamp"] < cut]).compute()
    assert len(out) == (X["timestamp"] < cut).sum()
    test = feat.transform(Xd[Xd["timestamp"] >= cut]).compute()
    assert len(test) == (X["timestamp"] >= cut).sum()


def test_filtered_parquet_log(tmp_path):
    """X and y taken from one filtered Parquet log: Dask reads the label alone in fewer,
    fused partitions; the featurizer still pairs each row with its own label."""
    from sklearn_recsys.dask import read_interactions, write_interactions

    data = write_interactions(
        tmp_path, 12_000, chunk_size=2000, n_users=300, n_items=100, random_state=0
    )
    log = read_interactions(tmp_path)
    cut = int(pd.read_parquet(data.interactions_path)["timestamp"].quantile(0.45))
    train = log[log["timestamp"] < cut]
    feat = InteractionFeaturizer(n_factors=2, random_state=0)
    got = feat.fit(train.drop(columns="purchase"), train["purchase"])
    frame = pd.read_parquet(data.interactions_path)
    frame = frame[frame["timestamp"] < cut]
    ref = PandasFeaturizer(n_factors=2, random_state=0).fit(
        frame.drop(columns="purchase"), frame["purchase"]
    )
    X = frame.drop(columns="purchase")
    np.testing.assert_allclose(got.transform(X), ref.transform(X), rtol=1e-9, atol=1e-12)
