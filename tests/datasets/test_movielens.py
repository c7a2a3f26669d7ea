import numpy as np
import pytest

from sklearn_recsys.datasets import get_data_home, label_liked, label_loved, load_movielens


def test_ml100k_exact_counts(movielens):
    X = movielens.interactions
    assert X.shape == (100_000, 4)
    assert list(X.columns) == ["user_id", "item_id", "rating", "timestamp"]
    assert X.user_id.nunique() == 943 and X.item_id.nunique() == 1682
    assert set(X.rating.unique()) == {1, 2, 3, 4, 5}
    assert movielens.item_info.shape[0] == 1682 and movielens.user_info.shape[0] == 943
    assert movielens.item_info.loc[50, "title"] == "Star Wars (1977)"
    assert movielens.item_info.loc[1, "genres"] == "Animation|Children's|Comedy"
    assert movielens.item_info.loc[1, "year"] == 1995
    assert movielens.user_info.loc[1, "occupation"] == "technician"
    assert "GroupLens" in movielens.DESCR


def test_labels_match_published_rates(movielens):
    X = movielens.interactions
    assert abs(label_loved(X).mean() - 0.212) < 0.001
    assert abs(label_liked(X).mean() - 0.554) < 0.001


def test_folder_with_original_files_is_accepted_as_is(data_home):
    d = load_movielens(data_home=data_home / "ml-100k", download_if_missing=False)
    assert len(d.interactions) == 100_000


def test_missing_files_without_download_raise(tmp_path):
    with pytest.raises(FileNotFoundError, match="download_if_missing=False"):
        load_movielens(data_home=tmp_path, download_if_missing=False)


def test_bad_variant():
    with pytest.raises(ValueError, match="variant"):
        load_movielens("10x")


def test_data_home_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SKLEARN_RECSYS_DATA", str(tmp_path))
    assert get_data_home() == tmp_path
    assert get_data_home("/x") != tmp_path


def test_label_errors():
    import pandas as pd

    with pytest.raises(ValueError, match="rating_col='stars'"):
        label_loved(pd.DataFrame({"rating": [5]}), rating_col="stars")
    with pytest.raises(ValueError, match="numeric"):
        label_loved(pd.DataFrame({"rating": [5, np.nan]}))


def _zip_of(folder, tmp_path):
    import zipfile

    archive = tmp_path / "ml-100k.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name in ("u.data", "u.item", "u.user", "README"):
            zf.write(folder / name, f"ml-100k/{name}")
    return archive


def test_download_verifies_checksums_and_caches(data_home, tmp_path, monkeypatch):
    """The download path, served from a local file:// URL (no network in tests)."""
    import hashlib

    from sklearn_recsys.datasets import _movielens

    archive = _zip_of(data_home / "ml-100k", tmp_path)
    spec = dict(_movielens._VARIANTS["100k"], url=archive.as_uri())
    monkeypatch.setitem(_movielens._VARIANTS, "100k", spec)
    cache = tmp_path / "cache"
    with pytest.raises(OSError, match="MD5"):  # our zip is not GroupLens's archive
        load_movielens(data_home=cache)
    spec["md5"] = hashlib.md5(archive.read_bytes()).hexdigest()
    d = load_movielens(data_home=cache)
    assert len(d.interactions) == 100_000
    assert (cache / "ml-100k" / "u.data").is_file()
    # a corrupted file is caught by its SHA-256
    spec["sha256"] = dict(spec["sha256"], **{"u.data": "0" * 64})
    with pytest.raises(OSError, match="SHA-256"):
        load_movielens(data_home=tmp_path / "cache2")
