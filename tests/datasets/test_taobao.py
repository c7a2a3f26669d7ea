import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sklearn_recsys.datasets import load_taobao, make_interactions

BEHAVIORS = ["pv", "cart", "fav", "buy"]


@pytest.fixture(scope="module")
def taobao_home():
    """``SKLEARN_RECSYS_DATA`` holding the shared Taobao extract; skip when absent."""
    home = os.environ.get("SKLEARN_RECSYS_DATA")
    if not home or not (Path(home) / "taobao-userbehavior" / "UserBehavior.csv").is_file():
        pytest.skip(
            "SKLEARN_RECSYS_DATA has no taobao-userbehavior/UserBehavior.csv "
            "(make test sets it to ../shared/data)"
        )
    return Path(home)


@pytest.fixture(scope="module")
def taobao(taobao_home):
    return load_taobao(data_home=taobao_home)


def _check_layout(X):
    assert list(X.columns) == ["user_id", "item_id", "category_id", "behavior_type", "timestamp"]
    assert [str(X[c].dtype) for c in ("user_id", "item_id", "category_id", "timestamp")] == [
        "int32",
        "int32",
        "int32",
        "int64",
    ]
    assert X.behavior_type.dtype == pd.CategoricalDtype(BEHAVIORS)
    assert list(X.behavior_type.cat.categories) == BEHAVIORS
    assert isinstance(X.index, pd.RangeIndex) and X.index.start == 0


def test_shared_extract_exact_counts(taobao):
    X = taobao.interactions
    _check_layout(X)
    assert taobao.checksum_verified is True
    assert X.shape == (84_475, 5)
    assert X.user_id.nunique() == 815
    assert X.item_id.nunique() == 55_368
    assert X.category_id.nunique() == 2_914
    assert X.behavior_type.value_counts().to_dict() == {
        "pv": 75_872,
        "cart": 4_497,
        "fav": 2_356,
        "buy": 1_750,
    }
    # file order: the first rows of the original file, grouped by user
    assert X.iloc[0].tolist() == [1, 2268318, 2520377, "pv", 1511544070]
    runs = 1 + int((X.user_id.to_numpy()[1:] != X.user_id.to_numpy()[:-1]).sum())
    assert runs == 815  # each user's history is one block, as in the original file
    assert X.item_id.max() > 5_000_000  # ids reach ~5.2 M: int32 holds them


def test_item_info_one_row_per_item(taobao):
    X, info = taobao.interactions, taobao.item_info
    assert info.index.name == "item_id" and info.index.is_unique
    assert info.index.is_monotonic_increasing
    assert len(info) == 55_368 and list(info.columns) == ["category_id"]
    first = X.drop_duplicates("item_id").set_index("item_id").category_id.sort_index()
    pd.testing.assert_series_equal(info.category_id, first)
    assert "Tianchi" in taobao.DESCR and "KDD 2018" in taobao.DESCR


def test_path_and_environment_find_the_same_file(taobao_home, taobao, monkeypatch):
    file = taobao_home / "taobao-userbehavior" / "UserBehavior.csv"
    by_path = load_taobao(path=file, nrows=1000)
    by_folder = load_taobao(path=file.parent, nrows=1000)
    monkeypatch.setenv("SKLEARN_RECSYS_DATA", str(taobao_home))
    by_env = load_taobao(nrows=1000)
    for d in (by_path, by_folder, by_env):
        assert d.checksum_verified
        pd.testing.assert_frame_equal(d.interactions, taobao.interactions.head(1000))


def test_changed_byte_of_the_extract_is_caught(taobao_home, tmp_path):
    folder = tmp_path / "taobao-userbehavior"
    folder.mkdir()
    copy = folder / "UserBehavior.csv"
    shutil.copyfile(taobao_home / "taobao-userbehavior" / "UserBehavior.csv", copy)
    data = bytearray(copy.read_bytes())
    data[5] = ord("7") if data[5] != ord("7") else ord("8")  # a digit of an item id: same size
    copy.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="expected e3013a3a.*corrupt or was changed"):
        load_taobao(data_home=tmp_path)


def test_missing_file_says_where_and_how_and_creates_nothing(tmp_path, monkeypatch):
    home = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError) as err:
        load_taobao(data_home=home)
    message = str(err.value)
    assert str(home / "taobao-userbehavior" / "UserBehavior.csv") in message
    for words in (
        "Tianchi",
        "649",
        "User Behavior Data from Taobao for Recommendation",
        "login",
        "data_home=",
        "path=",
        "SKLEARN_RECSYS_DATA",
    ):
        assert words in message
    assert not home.exists()
    monkeypatch.setenv("SKLEARN_RECSYS_DATA", str(home))
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_taobao()
    with pytest.raises(FileNotFoundError, match="other.csv"):
        load_taobao(path=tmp_path / "other.csv")
    assert not home.exists()


@pytest.fixture(scope="module")
def full_format_file(tmp_path_factory):
    """A few hundred rows in the original layout (a synthetic log), of another size."""
    log = make_interactions(
        n_users=40, n_items=300, n_interactions=400, multi_behavior=True, random_state=0
    ).interactions
    path = tmp_path_factory.mktemp("taobao") / "UserBehavior.csv"
    log.to_csv(path, header=False, index=False)
    return path, log


def test_other_file_is_read_in_chunks_like_in_one_go(full_format_file):
    path, log = full_format_file
    whole = load_taobao(path=path, chunksize=10**6)
    chunked = load_taobao(path=path, chunksize=50)
    assert whole.checksum_verified is False and chunked.checksum_verified is False
    _check_layout(chunked.interactions)
    pd.testing.assert_frame_equal(chunked.interactions, whole.interactions)
    pd.testing.assert_frame_equal(chunked.item_info, whole.item_info)
    pd.testing.assert_frame_equal(whole.interactions, log)  # the round trip is exact
    head = load_taobao(path=path, chunksize=7, nrows=123)
    pd.testing.assert_frame_equal(head.interactions, log.head(123))


def _write(tmp_path, lines):
    path = tmp_path / "UserBehavior.csv"
    path.write_text("".join(line + "\n" for line in lines))
    return path


GOOD = [
    "1,2268318,2520377,pv,1511544070",
    "1,2333346,2520771,buy,1511561733",
    "2,2576651,149192,cart,1511572885",
    "2,3830808,4181361,fav,1511593493",
]


@pytest.mark.parametrize(
    "bad, match",
    [
        ("3,5,6,click,1511593500", r"line 5: behavior_type has value 'click'"),
        ("3,5,6,,1511593500", r"line 5: behavior_type has value ''"),
        ("3,x5,6,pv,1511593500", r"line 5: column 'item_id' has value 'x5'"),
        ("3,5,6,pv", r"line 5: column 'timestamp' has value ''"),
        ("3,5,9999999999,pv,1511593500", r"line 5: column 'category_id' has value '9999999999'"),
        ("3,5,6,pv,1511593500,7", r"line 5"),
    ],
)
def test_bad_rows_name_the_line_and_value(tmp_path, bad, match):
    path = _write(tmp_path, GOOD + [bad] + GOOD)
    for chunksize in (3, 1000):
        with pytest.raises(ValueError, match=match):
            load_taobao(path=path, chunksize=chunksize)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"chunksize": 0}, "chunksize"),
        ({"chunksize": 2.5}, "chunksize"),
        ({"nrows": -1}, "nrows"),
    ],
)
def test_bad_parameters(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_taobao(path=_write(tmp_path, GOOD), **kwargs)


def test_small_file_values(tmp_path):
    d = load_taobao(path=_write(tmp_path, GOOD), chunksize=3)
    X = d.interactions
    _check_layout(X)
    assert X.behavior_type.tolist() == ["pv", "buy", "cart", "fav"]
    assert X.timestamp.tolist() == [1511544070, 1511561733, 1511572885, 1511593493]
    assert np.array_equal(d.item_info.index, [2268318, 2333346, 2576651, 3830808])
