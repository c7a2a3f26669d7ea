"""write_interactions / read_interactions: the in-memory rows, on disk, chunk by chunk."""

import json

import numpy as np
import pandas as pd
import pytest

from sklearn_recsys.dask import read_interactions, write_interactions
from sklearn_recsys.datasets import make_interactions

pytestmark = pytest.mark.dask

PARAMS = {"n_users": 400, "n_items": 120, "n_categories": 25, "random_state": 7}


@pytest.fixture(scope="module")
def expected():
    return make_interactions(n_interactions=12_000, **PARAMS)


@pytest.mark.parametrize("chunk_size", [12_000, 5000, 1237])
def test_same_rows_as_make_interactions(tmp_path, expected, chunk_size):
    data = write_interactions(tmp_path, 12_000, chunk_size=chunk_size, **PARAMS)
    got = pd.read_parquet(data.interactions_path)
    pd.testing.assert_frame_equal(got, expected.interactions)  # values, dtypes and row order
    assert data.n_partitions == -(-12_000 // chunk_size)
    pd.testing.assert_frame_equal(data.item_info, expected.item_info)  # titles drawn last
    pd.testing.assert_frame_equal(data.user_info, expected.user_info)
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "item_info.parquet"), expected.item_info
    )


def test_parts_in_time_order_and_manifest(tmp_path, expected):
    data = write_interactions(tmp_path, 12_000, chunk_size=3000, label="click", **PARAMS)
    manifest = json.loads((tmp_path / "dataset.json").read_text())
    parts = manifest["parts"]
    assert sum(p["rows"] for p in parts) == 12_000 == data.n_rows
    assert all(a["timestamp_max"] <= b["timestamp_min"] for a, b in zip(parts, parts[1:]))
    assert manifest["params"]["n_users"] == 400 and manifest["label"] == "click"
    assert data.target_name == "click"
    first = pd.read_parquet(tmp_path / "interactions" / parts[0]["file"])
    assert len(first) == parts[0]["rows"]
    assert first["timestamp"].is_monotonic_increasing


def test_read_interactions_dask_frame(tmp_path, expected):
    write_interactions(tmp_path, 12_000, chunk_size=4000, **PARAMS)
    ddf = read_interactions(tmp_path)
    assert ddf.npartitions == 3
    # the category column has its full, known categories (not dask's unknown ones)
    assert ddf["category"].cat.known
    assert list(ddf._meta["category"].cat.categories) == list(
        expected.interactions["category"].cat.categories
    )
    got = ddf.compute().reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected.interactions)
    sub = read_interactions(tmp_path, columns=["user_id", "purchase"])
    assert list(sub.columns) == ["user_id", "purchase"]


def test_read_interactions_plain_parquet(tmp_path, expected):
    path = tmp_path / "own.parquet"
    expected.interactions.head(100).to_parquet(path)
    got = read_interactions(path).compute()
    assert len(got) == 100 and list(got.columns) == list(expected.interactions.columns)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_interactions(tmp_path / "missing")


def test_write_errors(tmp_path):
    write_interactions(tmp_path, 500, n_users=50, n_items=20, random_state=0)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_interactions(tmp_path, 500, n_users=50, n_items=20, random_state=0)
    data = write_interactions(tmp_path, 300, n_users=50, n_items=20, random_state=0, overwrite=True)
    assert data.n_rows == 300 and len(pd.read_parquet(data.interactions_path)) == 300
    other = tmp_path / "other"
    with pytest.raises(ValueError, match="positive_rate must be in"):  # make_interactions' check
        write_interactions(other, 100, positive_rate=2.0)
    with pytest.raises(TypeError, match="multi_behavior"):
        write_interactions(other, 100, multi_behavior=True)
    with pytest.raises(TypeError, match="unexpected keyword"):
        write_interactions(other, 100, n_user=3)
    with pytest.raises(ValueError, match="chunk_size must be an integer >= 1"):
        write_interactions(other, 100, chunk_size=0)
    file = tmp_path / "file.txt"
    file.write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        write_interactions(file, 100)


def test_same_seed_same_files(tmp_path):
    a = write_interactions(
        tmp_path / "a",
        2000,
        chunk_size=700,
        n_users=60,
        n_items=30,
        random_state=np.random.RandomState(3),
    )
    b = write_interactions(
        tmp_path / "b", 2000, chunk_size=900, n_users=60, n_items=30, random_state=3
    )
    pd.testing.assert_frame_equal(
        pd.read_parquet(a.interactions_path), pd.read_parquet(b.interactions_path)
    )
