"""A team's own log through the public Python API: columns, labels, and the errors."""

import warnings

import numpy as np
import pandas as pd
import pytest

from sklearn_recsys.benchmark import (
    BenchmarkData,
    FewTestRowsWarning,
    load_benchmark_data,
    read_table,
    run_benchmark,
)
from sklearn_recsys.datasets import make_interactions
from sklearn_recsys.features import LabelLeakageWarning

OWN = dict(user_col="customer", item_col="sku", time_col="ts", label="outcome", positive="bought")


def test_csv_and_parquet_load_the_same_split(own_files, own_log):
    log, _ = own_log
    a = load_benchmark_data(own_files / "shop.csv", **OWN)
    b = load_benchmark_data(own_files / "shop.parquet", **OWN)
    assert a.name == "shop" and len(a.X_train) + len(a.X_test) == len(log)
    pd.testing.assert_series_equal(a.y_test, b.y_test)
    # the columns are renamed to the defaults; the label left the features
    assert {"user_id", "item_id", "timestamp"} <= set(a.X_train.columns)
    assert "outcome" not in a.X_train.columns
    assert int(a.y_train.sum() + a.y_test.sum()) == int((log["outcome"] == "bought").sum())
    # per user, every test row is later than every training row
    last_train = a.X_train.groupby("user_id")["timestamp"].max()
    first_test = a.X_test.groupby("user_id")["timestamp"].min()
    common = last_train.index.intersection(first_test.index)
    assert (last_train[common] <= first_test[common]).all()


def test_item_info_file_feeds_the_text_strategies(own_files):
    data = load_benchmark_data(own_files / "shop.csv", item_info=own_files / "items.csv", **OWN)
    assert data.item_info.index.name == "item_id" and "title" in data.item_info.columns


def test_numeric_label_with_positive_value(own_log):
    log = own_log[0].assign(stars=lambda f: np.where(f["outcome"] == "bought", 5, 3))
    data = load_benchmark_data(
        log.drop(columns="outcome"),
        user_col="customer",
        item_col="sku",
        time_col="ts",
        label="stars",
        positive="5",
    )
    assert int(data.y_train.sum() + data.y_test.sum()) == int((log["stars"] == 5).sum())


@pytest.mark.parametrize(
    "change, params, match",
    [
        (None, dict(OWN, user_col="uid"), r"user_col='uid' is not a column"),
        (None, dict(OWN, label="bought?"), r"label='bought\?' is not a column"),
        (
            None,
            dict(OWN, positive=None),
            r"label column 'outcome' holds strings \['bought', "
            r"'viewed'\]; name the positive class",
        ),
        (None, dict(OWN, positive="clicked"), r"positive='clicked' does not occur"),
        ("nan_ids", OWN, r"item_col='sku' has 3 missing ids"),
        ("one_class", OWN, r"label 'outcome' has one class only"),
        (None, dict(OWN, label=None), r"give exactly one of label="),
        (None, dict(OWN, test_size=1.5), r"test_size must be a fraction in \(0, 1\); got 1.5"),
    ],
)
def test_errors_name_the_problem(own_log, change, params, match):
    log = own_log[0].copy()
    if change == "nan_ids":
        log["sku"] = log["sku"].astype(float)
        log.loc[log.index[:3], "sku"] = np.nan
    elif change == "one_class":
        log["outcome"] = "bought"
    with pytest.raises(ValueError, match=match):
        load_benchmark_data(log, **params)


def test_named_data_set_not_found_says_where_and_creates_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("SKLEARN_RECSYS_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with pytest.raises(
        FileNotFoundError,
        match=r"looked in .*home/sklearn_recsys_data/ml-100k"
        r".*SKLEARN_RECSYS_DATA is unset.*--download",
    ):
        load_benchmark_data("ml-100k")
    assert not (tmp_path / "home").exists()


def test_unknown_name_or_suffix():
    with pytest.raises(ValueError, match="dataset must be one of"):
        load_benchmark_data("nope")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_table("missing.csv")


def _split(own_log):
    return load_benchmark_data(own_log[0], **OWN)


def test_run_benchmark_refuses_string_and_one_class_labels(own_log):
    data = _split(own_log)
    strings = BenchmarkData(
        "s",
        data.X_train,
        data.X_test,
        data.y_train.map({0: "no", 1: "yes"}),
        data.y_test.map({0: "no", 1: "yes"}),
    )
    with pytest.raises(ValueError, match=r"y_train holds \['no', 'yes'\], not 0/1"):
        run_benchmark(strings, ["popularity"], verbose=0)
    one = BenchmarkData("o", data.X_train, data.X_test, data.y_train * 0, data.y_test)
    with pytest.raises(ValueError, match="y_train has one class only"):
        run_benchmark(one, ["popularity"], verbose=0)


def test_label_left_among_the_features_is_named(own_log):
    data = _split(own_log)
    data.X_train = data.X_train.assign(outcome=data.y_train.to_numpy())
    data.X_test = data.X_test.assign(outcome=data.y_test.to_numpy())
    with pytest.warns(LabelLeakageWarning, match="outcome"):
        run_benchmark(data, ["popularity"], verbose=0)


def test_at_k_metrics_warn_when_most_users_have_few_test_rows(own_log):
    data = _split(own_log)  # ~27 rows per user, 20 % of them in the test set
    short = data.X_test.groupby("user_id").size().lt(10).mean()
    assert short > 0.5
    with pytest.warns(
        FewTestRowsWarning, match=f"{short:.0%} of the test users have fewer than 10 test rows"
    ):
        table, _ = run_benchmark(data, ["popularity"], verbose=0)
    # the floor's recall@10 looks excellent while its scores barely rank (the reason to warn)
    assert table.loc["popularity", "recall@10"] > 0.8 > table.loc["popularity", "roc_auc"]
    log = make_interactions(
        n_users=40, n_items=150, n_interactions=6000, random_state=0
    ).interactions
    dense = load_benchmark_data(log, label="purchase")  # ~30 test rows per user
    assert dense.X_test.groupby("user_id").size().lt(10).mean() < 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error", FewTestRowsWarning)
        run_benchmark(dense, ["popularity"], verbose=0)


def test_event_log_with_the_conversion_label():
    events = make_interactions(
        n_users=150, n_items=100, n_interactions=6000, multi_behavior=True, random_state=0
    ).interactions
    log = events.rename(columns={"user_id": "uid", "behavior_type": "action", "timestamp": "t"})
    data = load_benchmark_data(
        log, user_col="uid", time_col="t", conversion="buy", behavior_col="action", window="72h"
    )
    assert data.events is not None and "72h" in data.protocol
    assert "label_time" not in data.X_train.columns
    assert (data.X_train["behavior_type"] != "buy").all()  # buys are the label, not rows
    n_rows = int((log["action"] != "buy").sum())
    assert len(data.X_train) + len(data.X_test) + data.n_purged == n_rows
    assert data.n_purged > 0 and 0 < data.y_train.mean() < 0.5
    with pytest.raises(
        ValueError,
        match=r"conversion='order' does not occur in "
        r"behavior_col='action'",
    ):
        load_benchmark_data(
            log, user_col="uid", time_col="t", conversion="order", behavior_col="action"
        )
