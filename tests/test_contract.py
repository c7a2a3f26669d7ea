import numpy as np
import pandas as pd
import pytest

from sklearn_recsys._contract import (
    UNKNOWN_INDEX,
    IdIndexer,
    check_columns,
    check_id_column,
    check_interactions,
    group_codes,
    resolve_id_columns,
)


def test_indexer_maps_known_ids_and_reserves_unknown():
    idx = IdIndexer().fit(pd.Series([30, 10, 20, 10]))
    assert idx.n_indices_ == 4
    np.testing.assert_array_equal(idx.transform([10, 20, 30, 99]), [1, 2, 3, UNKNOWN_INDEX])


def test_indexer_accepts_categorical_and_string_ids():
    ids = pd.Series(["b", "a", "c"], dtype="category")
    idx = IdIndexer().fit(ids)
    np.testing.assert_array_equal(idx.transform(pd.Series(["c", "x", "a"])), [3, 0, 1])


@pytest.mark.parametrize(
    "values, err, match",
    [
        ([1.0, np.nan], ValueError, "missing"),
        (["a", None], ValueError, "missing"),
        ([1.0, np.inf], ValueError, "inf"),
        ([True, False], TypeError, "dtype bool"),
        (pd.to_datetime(["2020-01-01"]), TypeError, "datetime"),
    ],
)
def test_bad_ids_raise_naming_the_column(values, err, match):
    with pytest.raises(err, match=match) as exc:
        check_id_column(pd.Series(values), name="user_col='uid'")
    assert "user_col='uid'" in str(exc.value)


def test_missing_column_error_lists_columns():
    X = pd.DataFrame({"user_id": [1], "item_id": [2]})
    with pytest.raises(
        ValueError,
        match=r"user_col='uid' is not a column of X; columns are "
        r"\['user_id', 'item_id'\]",
    ):
        check_columns(X, user_col="uid")


def test_interactions_must_be_a_nonempty_frame():
    with pytest.raises(TypeError, match="DataFrame"):
        check_interactions(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="empty"):
        check_interactions(pd.DataFrame({"user_id": []}))


def test_group_codes_follow_first_appearance():
    codes, n = group_codes(["u2", "u1", "u2", "u3"])
    assert n == 3
    np.testing.assert_array_equal(codes, [0, 1, 0, 2])


def test_resolve_id_columns_validates_each():
    X = pd.DataFrame({"user_id": [1, 2], "item_id": [np.nan, 3.0]})
    with pytest.raises(ValueError, match="item_col='item_id' has 1 missing"):
        resolve_id_columns(X, [("user_col", "user_id"), ("item_col", "item_id")])


def test_id_indexer_transform_without_check_gives_the_same_indices():
    indexer = IdIndexer(name="item_col").fit([3, 1, 2])
    ids = pd.Series([1, 5, 3])
    np.testing.assert_array_equal(indexer.transform(ids, check=False), [1, 0, 3])
    np.testing.assert_array_equal(indexer.transform(ids), [1, 0, 3])
    with pytest.raises(ValueError, match="item_col has 1 missing"):
        indexer.transform(pd.Series([1.0, np.nan]))
