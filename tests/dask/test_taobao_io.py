"""sklearn_recsys.dask.read_taobao: the Taobao CSV as a Dask frame, as load_taobao reads it."""

import dask
import pandas as pd
import pytest

from sklearn_recsys.dask import read_taobao
from sklearn_recsys.datasets import load_taobao

pytestmark = pytest.mark.dask


def test_equal_load_taobao():
    """Same columns, dtypes and values as load_taobao, in file order, over several blocks."""
    expected = load_taobao().interactions
    log = read_taobao(blocksize="1MiB")
    assert log.npartitions == 3  # 3.2 MB in blocks of 1 MiB
    pd.testing.assert_series_equal(log.dtypes, expected.dtypes)
    with dask.config.set(scheduler="sync"):
        got = log.compute()
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected)
    assert len(log.partitions[0].compute()) < len(expected)


def test_path_and_small_file(tmp_path):
    """A folder holding UserBehavior.csv; a file that is not the extract is read unchecked."""
    lines = "1,10,5,pv,1511544070\n1,10,5,buy,1511544080\n2,11,6,cart,1511544090\n"
    (tmp_path / "UserBehavior.csv").write_text(lines)
    with dask.config.set(scheduler="sync"):
        got = read_taobao(tmp_path, blocksize=20).compute()
    assert got.user_id.tolist() == [1, 1, 2]
    assert got.behavior_type.tolist() == ["pv", "buy", "cart"]
    assert str(got.item_id.dtype) == "int32"


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="Taobao user behaviour log was not found"):
        read_taobao(tmp_path / "missing.csv")
    with pytest.raises(ValueError, match="blocksize must be an integer >= 1"):
        read_taobao(blocksize=0)
    bad = tmp_path / "bad.csv"
    bad.write_text("1,10,5,pv,1511544070\n1,x,5,pv,1511544080\n")
    with pytest.raises(ValueError, match=r"block 1 of 1\), line 2: column 'item_id' has value 'x'"):
        with dask.config.set(scheduler="sync"):
            read_taobao(bad).compute()
    bad.write_text("1,10,5,pv,1511544070\n1,10,5,click,1511544080\n")
    with pytest.raises(ValueError, match="line 2: behavior_type has value 'click'"):
        with dask.config.set(scheduler="sync"):
            read_taobao(bad).compute()
