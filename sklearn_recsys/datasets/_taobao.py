"""Taobao user behaviour log (Alibaba Tianchi data set 649): a local-file loader, no download."""

from __future__ import annotations

import hashlib
import io
import numbers
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ._movielens import get_data_home

__all__ = ["load_taobao"]

#: the behaviour levels of the log, in funnel order (view, add to cart, favourite, purchase).
BEHAVIOR_TYPES = pd.CategoricalDtype(["pv", "cart", "fav", "buy"])

_FOLDER = "taobao-userbehavior"
_FILE = "UserBehavior.csv"
_COLUMNS = ["user_id", "item_id", "category_id", "behavior_type", "timestamp"]
_INT_DTYPES = {
    "user_id": np.int32,
    "item_id": np.int32,
    "category_id": np.int32,
    "timestamp": np.int64,
}
#: the project's shared extract (the first 84,475 rows of the original file): size -> SHA-256.
_EXTRACT_SIZE = 3_178_471
_EXTRACT_SHA256 = "e3013a3a225cf384b66dbbd7557f50829f28bd0de2555e31604eef6891ffa0c7"
_TIANCHI_URL = "https://tianchi.aliyun.com/dataset/649"

_DESCR = f"""\
Taobao user behaviour log (Alibaba, Tianchi data set 649)
=========================================================

"User Behavior Data from Taobao for Recommendation": the behaviour of 987,994 Taobao users
between 2017-11-25 and 2017-12-03 (100,150,807 events on 4,162,024 items in 9,439 categories),
published by Alibaba for research. The original ``UserBehavior.csv`` is grouped
by user; a head of it therefore holds complete nine-day histories of its users.

One row per event, in file order:

- ``user_id``, ``item_id``, ``category_id``: Alibaba's hashed integer ids (int32);
- ``behavior_type``: ``pv`` page view, ``cart`` add to cart, ``fav`` favourite, ``buy`` purchase
  (a category with exactly these levels, in this order);
- ``timestamp``: Unix seconds (int64; China time is UTC+8). A few stray timestamps lie outside
  the nine days, as in the original.

Behaviour mix of the whole data set: about 89.5 % pv, 5.5 % cart, 2.9 % fav, 2.0 % buy.
``item_info`` holds one row per item: its category (the first one seen where an item has several).

Terms: Tianchi research data, obtained from {_TIANCHI_URL} (an Alibaba Cloud login is needed).
Cite the data set page (Alibaba Tianchi, "User Behavior Data from Taobao for Recommendation") and
Han Zhu, Xiang Li, Pengye Zhang, Guozheng Li, Jie He, Han Li and Kun Gai. 2018. Learning
Tree-based Deep Model for Recommender Systems. KDD 2018, 1079-1088.
"""


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _resolve_path(data_home, path):
    if path is not None:
        file = Path(path).expanduser()
        if file.is_dir():
            file = file / _FILE
    else:
        file = get_data_home(data_home) / _FOLDER / _FILE
    if not file.is_file():
        default = get_data_home() / _FOLDER / _FILE
        raise FileNotFoundError(
            f"The Taobao user behaviour log was not found at {file}. It is not downloaded "
            f"automatically: download UserBehavior.csv from Alibaba Tianchi, data set 649 "
            f"'User Behavior Data from Taobao for Recommendation' ({_TIANCHI_URL}; an Alibaba "
            f"Cloud login is needed), unzip it and put it at {default}, or point the loader at "
            "it with load_taobao(data_home=...) (the folder holding taobao-userbehavior/), "
            "load_taobao(path=...) (the CSV file itself) or the SKLEARN_RECSYS_DATA environment "
            "variable."
        )
    return file


def _verify_extract(file):
    """True when ``file`` is the project's extract (by size) and its SHA-256 matches; raises
    when the size matches but the checksum does not; False for any other file."""
    size = file.stat().st_size
    if size != _EXTRACT_SIZE:
        return False
    got = _sha256(file)
    if got != _EXTRACT_SHA256:
        raise ValueError(
            f"{file} has the size of the project's Taobao extract ({size} bytes) but SHA-256 "
            f"{got}, expected {_EXTRACT_SHA256}: the file is corrupt or was changed."
        )
    return True


def _check_count(value, name, minimum, allow_none=False):
    if allow_none and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        extra = " or None" if allow_none else ""
        raise ValueError(f"{name} must be an integer >= {minimum}{extra}; got {value!r}.")


def _source(file):
    """What pandas reads: the path, or a fresh stream over a block of the file's bytes."""
    return io.BytesIO(file) if isinstance(file, bytes) else file


def _locate_bad_value(file, first_line, n_lines, error, label=None):
    """Re-read lines [first_line, first_line + n_lines) as text and name the first bad value."""
    label = file if label is None else label
    raw = pd.read_csv(
        _source(file),
        header=None,
        names=_COLUMNS,
        dtype=str,
        keep_default_na=False,
        skiprows=first_line,
        nrows=n_lines,
    )
    bad = {}
    for name, dtype in _INT_DTYPES.items():
        values = pd.to_numeric(raw[name], errors="coerce")
        info = np.iinfo(dtype)
        bad[name] = (values.isna() | (values < info.min) | (values > info.max)).to_numpy()
    rows = np.flatnonzero(np.logical_or.reduce(list(bad.values())))
    if len(rows):
        row = int(rows[0])
        name = next(name for name in _INT_DTYPES if bad[name][row])
        info = np.iinfo(_INT_DTYPES[name])
        return ValueError(
            f"{label}, line {first_line + row + 1}: column {name!r} has value "
            f"{raw[name].iloc[row]!r}, expected an integer in [{info.min}, {info.max}]."
        )
    return ValueError(f"{label}: cannot parse the lines from {first_line + 1} on: {error}")


def _read_chunks(file, chunksize, nrows, name=None):
    """The rows of ``file`` (a path, or bytes: a block of whole lines of the CSV, named
    ``name`` in error messages) in compact dtypes, parsed ``chunksize`` rows at a time."""
    dtype = {**_INT_DTYPES, "behavior_type": "category"}
    label = file if name is None else name
    reader = pd.read_csv(
        _source(file), header=None, names=_COLUMNS, dtype=dtype, chunksize=chunksize, nrows=nrows
    )
    parts = {name: [] for name in _COLUMNS}
    first_line = 0
    with reader:
        while True:
            try:
                chunk = next(reader)
            except StopIteration:
                break
            except pd.errors.ParserError as exc:  # wrong number of fields: it names the line
                raise ValueError(f"{label}: unparsable row: {exc}".strip()) from exc
            except (ValueError, OverflowError) as exc:
                raise _locate_bad_value(file, first_line, chunksize, exc, name) from exc
            behavior = chunk["behavior_type"]
            codes = behavior.cat.set_categories(BEHAVIOR_TYPES.categories).cat.codes.to_numpy()
            if (codes < 0).any():
                row = int(np.flatnonzero(codes < 0)[0])
                value = behavior.iloc[row]
                raise ValueError(
                    f"{label}, line {first_line + row + 1}: behavior_type has value "
                    f"{'' if pd.isna(value) else value!r}, expected one of "
                    f"{list(BEHAVIOR_TYPES.categories)}."
                )
            parts["behavior_type"].append(codes.astype(np.int8, copy=False))
            for name in _INT_DTYPES:
                parts[name].append(chunk[name].to_numpy())
            first_line += len(chunk)
            del chunk, behavior
    columns = {}
    for name in _COLUMNS:  # one column at a time: peak memory ~ result + one column
        dtype = np.int8 if name == "behavior_type" else _INT_DTYPES[name]
        columns[name] = np.concatenate(parts[name]) if parts[name] else np.empty(0, dtype=dtype)
        parts[name] = None
    columns["behavior_type"] = pd.Categorical.from_codes(
        columns["behavior_type"], dtype=BEHAVIOR_TYPES
    )
    return pd.DataFrame(columns, copy=False)


def load_taobao(data_home=None, *, path=None, chunksize=5_000_000, nrows=None):
    """Load the Taobao user behaviour log (Alibaba Tianchi data set 649) from a local file.

    Nothing is downloaded and no folder is created: the original ``UserBehavior.csv`` needs an
    Alibaba Cloud login, so users fetch it from Tianchi themselves and put it at
    ``<data_home>/taobao-userbehavior/UserBehavior.csv`` (or pass ``path``). The project's
    shared extract (its first 84,475 rows, recognised by its size in bytes) is checked against
    its SHA-256; the full original file (100 M rows, 3.5 GB) is read in chunks of ``chunksize``
    rows into compact dtypes (21 bytes a row: about 2.1 GB in memory).

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``taobao-userbehavior/UserBehavior.csv``; default :func:`get_data_home`
        (``SKLEARN_RECSYS_DATA`` or ``~/sklearn_recsys_data``).
    path : str or path-like, default=None
        The CSV file itself (or a folder holding ``UserBehavior.csv``); overrides ``data_home``.
    chunksize : int, default=5_000_000
        Rows parsed at a time; bounds the parser's memory on the full file.
    nrows : int, default=None
        Read only the first ``nrows`` rows (the checksum of the shared extract is still checked
        on the whole file).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``interactions``: DataFrame in file order with a RangeIndex and the columns ``user_id``,
        ``item_id``, ``category_id`` (int32), ``behavior_type`` (category with the levels
        ``["pv", "cart", "fav", "buy"]``) and ``timestamp`` (int64 Unix seconds);
        ``item_info``: DataFrame indexed by ``item_id`` (sorted) with ``category_id`` (the first
        one seen); ``DESCR``; ``checksum_verified``: True when the file was recognised as the
        shared extract and its SHA-256 matched, False for any other file (e.g. the full original).

    Raises
    ------
    FileNotFoundError
        When the file is missing; the message says where it was looked for and how to get it.
    ValueError
        When the shared extract's SHA-256 does not match (the file is corrupt or changed), or a
        line cannot be parsed (the message names the line and the value).

    See Also
    --------
    label_conversion : the binary label "buys the item within a window after this event".
    make_interactions : ``multi_behavior=True`` gives a synthetic log in the same layout.

    Examples
    --------
    >>> from sklearn_recsys.datasets import load_taobao
    >>> data = load_taobao()  # doctest: +SKIP
    >>> data.interactions.shape  # doctest: +SKIP
    (84475, 5)
    >>> data.interactions.behavior_type.value_counts().to_dict()  # doctest: +SKIP
    {'pv': 75872, 'cart': 4497, 'fav': 2356, 'buy': 1750}
    """
    _check_count(chunksize, "chunksize", 1)
    _check_count(nrows, "nrows", 0, allow_none=True)
    file = _resolve_path(data_home, path)
    verified = _verify_extract(file)
    interactions = _read_chunks(file, int(chunksize), None if nrows is None else int(nrows))
    items = interactions["item_id"]
    first = ~items.duplicated(keep="first").to_numpy()
    item_info = pd.DataFrame(
        {"category_id": interactions["category_id"].to_numpy()[first]},
        index=pd.Index(items.to_numpy()[first], name="item_id"),
    ).sort_index()
    return Bunch(
        interactions=interactions, item_info=item_info, DESCR=_DESCR, checksum_verified=verified
    )
