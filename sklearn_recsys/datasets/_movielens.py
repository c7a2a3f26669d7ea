"""MovieLens loaders (GroupLens original files), downloading only when asked."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

__all__ = ["get_data_home", "load_movielens"]

logger = logging.getLogger(__name__)

_GENRES_100K = [
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
]

#: variant -> archive URL, its MD5 (the only digest GroupLens publishes for the archives) and the
#: SHA-256 of the extracted files we parse (checked on every load from a download).
_VARIANTS = {
    "100k": {
        "url": "https://files.grouplens.org/datasets/movielens/ml-100k.zip",
        "folder": "ml-100k",
        "md5": "0e33842e24a9c977be4e0107933c0723",
        "sha256": {
            "u.data": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
            "u.item": "6dd287831559152bea892eb27694a492ff14926ac5f7a16e5f8c4968e6fe13c3",
            "u.user": "f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c",
        },
    },
    "1m": {
        "url": "https://files.grouplens.org/datasets/movielens/ml-1m.zip",
        "folder": "ml-1m",
        "md5": "c4d9eecfca2ab87c1945afe126590906",
        "sha256": {},
    },
}
_FILES = {"100k": ("u.data", "u.item", "u.user"), "1m": ("ratings.dat", "movies.dat", "users.dat")}


def get_data_home(data_home=None):
    """Folder where data sets are looked for and cached.

    ``data_home`` if given, else the ``SKLEARN_RECSYS_DATA`` environment variable, else
    ``~/sklearn_recsys_data``. The folder is not created here.

    Examples
    --------
    >>> from sklearn_recsys.datasets import get_data_home
    >>> str(get_data_home("/tmp/somewhere"))
    '/tmp/somewhere'
    """
    if data_home is None:
        data_home = os.environ.get("SKLEARN_RECSYS_DATA") or Path.home() / "sklearn_recsys_data"
    return Path(data_home).expanduser()


def _digest(path, algo):
    h = hashlib.new(algo)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _download(variant, data_home):
    spec = _VARIANTS[variant]
    data_home.mkdir(parents=True, exist_ok=True)
    logger.info("Downloading MovieLens %s from %s", variant, spec["url"])
    with tempfile.TemporaryDirectory(dir=data_home) as tmp:
        archive = Path(tmp) / "archive.zip"
        with urllib.request.urlopen(spec["url"], timeout=60) as resp, open(archive, "wb") as out:
            shutil.copyfileobj(resp, out)
        got = _digest(archive, "md5")
        if got != spec["md5"]:
            raise OSError(
                f"MovieLens {variant} archive from {spec['url']} has MD5 {got}, expected "
                f"{spec['md5']}; the download is corrupt or the file changed upstream."
            )
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(tmp)
        for name, expected in spec["sha256"].items():
            got = _digest(Path(tmp) / spec["folder"] / name, "sha256")
            if got != expected:
                raise OSError(
                    f"MovieLens {variant} file {name} has SHA-256 {got}, expected {expected}."
                )
        target = data_home / spec["folder"]
        if target.exists():
            shutil.rmtree(target)
        shutil.move(str(Path(tmp) / spec["folder"]), target)
    return target


def _find_folder(variant, data_home, download_if_missing):
    folder = data_home / _VARIANTS[variant]["folder"]
    for candidate in (data_home, folder):
        if all((candidate / f).is_file() for f in _FILES[variant]):
            return candidate
    if not download_if_missing:
        raise FileNotFoundError(
            f"MovieLens {variant} files {list(_FILES[variant])} were not found in {folder} and "
            "download_if_missing=False."
        )
    return _download(variant, data_home)


def _load_100k(folder):
    interactions = pd.read_csv(
        folder / "u.data",
        sep="\t",
        header=None,
        names=["user_id", "item_id", "rating", "timestamp"],
        dtype=np.int64,
    )
    item_cols = [
        "item_id",
        "title",
        "release_date",
        "video_release_date",
        "imdb_url",
        *_GENRES_100K,
    ]
    raw = pd.read_csv(folder / "u.item", sep="|", header=None, names=item_cols, encoding="latin-1")
    flags = raw[_GENRES_100K].to_numpy(dtype=bool)
    item_info = pd.DataFrame(
        {
            "title": raw["title"].to_numpy(),
            "year": pd.to_datetime(raw["release_date"], format="%d-%b-%Y").dt.year.astype("Int64"),
            "genres": _join_flags(flags, _GENRES_100K),
        },
        index=pd.Index(raw["item_id"].to_numpy(), name="item_id"),
    )
    users = pd.read_csv(
        folder / "u.user",
        sep="|",
        header=None,
        names=["user_id", "age", "gender", "occupation", "zip_code"],
        dtype={"zip_code": str},
    )
    user_info = users.set_index("user_id")
    user_info["gender"] = user_info["gender"].astype("category")
    user_info["occupation"] = user_info["occupation"].astype("category")
    return interactions, item_info, user_info


def _join_flags(flags, names):
    names = np.asarray(names, dtype=object)
    return pd.Series(["|".join(names[row]) for row in flags], dtype=object).to_numpy()


def _load_1m(folder):
    interactions = pd.read_csv(
        folder / "ratings.dat",
        sep="::",
        engine="python",
        header=None,
        names=["user_id", "item_id", "rating", "timestamp"],
        dtype=np.int64,
    )
    movies = pd.read_csv(
        folder / "movies.dat",
        sep="::",
        engine="python",
        header=None,
        names=["item_id", "title", "genres"],
        encoding="latin-1",
    )
    year = movies["title"].str.extract(r"\((\d{4})\)\s*$")[0].astype("Int64")
    item_info = pd.DataFrame(
        {
            "title": movies["title"].to_numpy(),
            "year": year.to_numpy(),
            "genres": movies["genres"].to_numpy(),
        },
        index=pd.Index(movies["item_id"].to_numpy(), name="item_id"),
    )
    users = pd.read_csv(
        folder / "users.dat",
        sep="::",
        engine="python",
        header=None,
        names=["user_id", "gender", "age", "occupation", "zip_code"],
        dtype={"zip_code": str},
    )
    user_info = users.set_index("user_id")[["age", "gender", "occupation", "zip_code"]]
    user_info["gender"] = user_info["gender"].astype("category")
    user_info["occupation"] = user_info["occupation"].astype("category")
    return interactions, item_info, user_info


def load_movielens(variant="100k", data_home=None, download_if_missing=True):
    """Load a MovieLens data set from the original GroupLens files.

    The files are looked for in ``data_home`` (or its ``ml-100k`` / ``ml-1m`` subfolder); a
    folder that holds the original files is used as it is. Only when they are missing and
    ``download_if_missing`` is True is the archive downloaded from GroupLens, checked (MD5 of the
    archive, SHA-256 of the parsed files for 100k) and cached under ``data_home``.

    Parameters
    ----------
    variant : {"100k", "1m"}, default="100k"
        Which MovieLens release.
    data_home : str or path-like, default=None
        Where to look and cache; default :func:`get_data_home` (``SKLEARN_RECSYS_DATA`` or
        ``~/sklearn_recsys_data``).
    download_if_missing : bool, default=True
        Download when the files are not found; otherwise raise :class:`FileNotFoundError`.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``interactions``: DataFrame ``user_id``, ``item_id``, ``rating`` (1-5), ``timestamp``
        (Unix seconds); ``item_info``: indexed by ``item_id`` with ``title``, ``year`` and
        ``genres`` ("|"-joined); ``user_info``: indexed by ``user_id`` with ``age``, ``gender``,
        ``occupation``, ``zip_code``; ``DESCR``.

    See Also
    --------
    label_loved, label_liked : binary labels for imbalance studies.

    Examples
    --------
    >>> from sklearn_recsys.datasets import load_movielens
    >>> ml = load_movielens(download_if_missing=False)  # doctest: +SKIP
    >>> ml.interactions.shape  # doctest: +SKIP
    (100000, 4)
    """
    if variant not in _VARIANTS:
        raise ValueError(f"variant must be one of {sorted(_VARIANTS)}; got {variant!r}.")
    folder = _find_folder(variant, get_data_home(data_home), download_if_missing)
    loader = _load_100k if variant == "100k" else _load_1m
    interactions, item_info, user_info = loader(folder)
    readme = folder / ("README" if variant == "100k" else "README")
    descr = readme.read_text(encoding="latin-1") if readme.is_file() else f"MovieLens {variant}"
    return Bunch(interactions=interactions, item_info=item_info, user_info=user_info, DESCR=descr)


def label_loved(interactions, rating_col="rating"):
    """Binary label "loved": ``rating == 5`` (21.2 % of MovieLens-100k rows).

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_recsys.datasets import label_loved
    >>> label_loved(pd.DataFrame({"rating": [5, 4, 1]})).tolist()
    [1, 0, 0]
    """
    return _rating_label(interactions, rating_col, 5, "loved")


def label_liked(interactions, rating_col="rating"):
    """Binary label "liked": ``rating >= 4`` (55.4 % of MovieLens-100k rows).

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_recsys.datasets import label_liked
    >>> label_liked(pd.DataFrame({"rating": [5, 4, 1]})).tolist()
    [1, 1, 0]
    """
    return _rating_label(interactions, rating_col, 4, "liked")


def _rating_label(interactions, rating_col, threshold, name):
    if not isinstance(interactions, pd.DataFrame) or rating_col not in interactions.columns:
        cols = list(getattr(interactions, "columns", []))
        raise ValueError(
            f"rating_col={rating_col!r} is not a column of the interactions; columns are {cols}."
        )
    ratings = interactions[rating_col]
    if not pd.api.types.is_numeric_dtype(ratings) or ratings.isna().any():
        raise ValueError(f"rating_col={rating_col!r} must be numeric without missing values.")
    return (ratings >= threshold).astype(np.int64).rename(name)
