"""Data of the benchmark: the named data sets, a team's own log (CSV / Parquet), the splits."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..datasets import (
    get_data_home,
    label_conversion,
    label_loved,
    load_movielens,
    load_taobao,
    make_interactions,
)
from ..model_selection import RollingOriginSplit, user_temporal_split

__all__ = ["DATASETS", "BenchmarkData", "load_benchmark_data", "load_benchmark_folds", "read_table"]

DATASETS = ("synthetic", "ml-100k", "taobao", "synthetic-events")
_SUFFIXES = (".csv", ".parquet", ".pq", ".tsv")

#: LightGBM settings of the ``lightgbm`` baseline: the general one, and for the conversion
#: logs (about a thousand training positives after the purge) shallower, more regularised
#: trees, chosen on the rolling-origin folds (docs/taobao.md)
LGBM_PARAMS = dict(
    n_estimators=300,
    learning_rate=0.05,
    num_leaves=31,
    subsample=0.8,
    subsample_freq=1,
    colsample_bytree=0.8,
    n_jobs=1,
    verbose=-1,
)
LGBM_PARAMS_EVENTS = dict(
    n_estimators=300,
    learning_rate=0.03,
    num_leaves=7,
    min_child_samples=200,
    reg_lambda=30.0,
    subsample=0.8,
    subsample_freq=1,
    colsample_bytree=0.5,
    n_jobs=1,
    verbose=-1,
)
#: The ``lightgbm`` strategy on conversion logs averages two LightGBM models (soft vote): the
#: boosted trees of ``LGBM_PARAMS_EVENTS`` with extremely randomized splits and L2 100, and
#: a random forest of deeper trees (``boosting_type="rf"``) that ranks the top better.
#: Chosen on the rolling-origin folds of the Taobao benchmark (docs/taobao.md).
LGBM_BOOSTED_EVENTS = dict(LGBM_PARAMS_EVENTS, extra_trees=True, reg_lambda=100.0)
LGBM_FOREST_EVENTS = dict(
    LGBM_PARAMS_EVENTS,  # L2 30 on the leaf values as well
    boosting_type="rf",
    num_leaves=31,
    min_child_samples=50,
    subsample=0.5,
    colsample_bytree=0.3,
)


@dataclasses.dataclass
class BenchmarkData:
    """One split of one data set, as every strategy factory receives it.

    The id and time columns are always ``user_id``, ``item_id`` and ``timestamp`` (a team's
    own columns are renamed on loading, so every strategy works on any log).

    Attributes
    ----------
    name : str
        The data set's name (a file's stem for your own log).
    X_train, X_test : DataFrame
        Training and test rows (features, ids and time; never the label).
    y_train, y_test : Series
        Their 0/1 labels.
    item_info, user_info : DataFrame or None
        Side tables indexed by ``item_id`` / ``user_id``.
    random_state : int or None
        Seed every strategy uses.
    events : DataFrame or None
        The whole event log of a conversion data set (``taobao``, ``synthetic-events``, or a
        log loaded with ``conversion=``): the point-in-time behaviour features come from it.
    n_purged : int
        Training rows dropped because their label is known only after the split time.
    protocol : str
        How the split was made, in words.
    fold : int or None
        Index of the rolling-origin fold, or None for the single split.
    """

    name: str
    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: pd.Series
    y_test: pd.Series
    item_info: pd.DataFrame | None = None
    user_info: pd.DataFrame | None = None
    random_state: int | None = 0
    events: pd.DataFrame | None = None
    n_purged: int = 0
    protocol: str = "per-user temporal split"
    fold: int | None = None

    @property
    def lgbm_params(self):
        """Settings of the LightGBM baseline on this data set."""
        return dict(
            LGBM_PARAMS if self.events is None else LGBM_PARAMS_EVENTS,
            random_state=self.random_state,
        )


def read_table(path, *, what="data"):
    """Read a CSV / TSV or Parquet file with pyarrow into a DataFrame.

    Parameters
    ----------
    path : str or path-like
        A ``.csv``, ``.tsv``, ``.parquet`` or ``.pq`` file (or a folder of Parquet files).
    what : str, default="data"
        How the file is named in error messages.

    Returns
    -------
    frame : DataFrame

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the suffix is not one of the above or the file cannot be parsed.

    Examples
    --------
    >>> import pandas as pd, tempfile, os
    >>> from sklearn_recsys.benchmark import read_table
    >>> path = os.path.join(tempfile.mkdtemp(), "log.csv")
    >>> pd.DataFrame({"uid": [1, 2], "sku": ["a", "b"]}).to_csv(path, index=False)
    >>> read_table(path)
       uid sku
    0    1   a
    1    2   b
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"{what} file {str(path)!r} does not exist")
    suffix = path.suffix.lower()
    try:
        if path.is_dir() or suffix in (".parquet", ".pq"):
            return pd.read_parquet(path, engine="pyarrow")
        if suffix in (".csv", ".tsv"):
            return pd.read_csv(path, engine="pyarrow", sep="\t" if suffix == ".tsv" else ",")
    except (ValueError, OSError) as exc:  # pyarrow.ArrowInvalid is a ValueError
        raise ValueError(
            f"could not read {what} file {str(path)!r}: {str(exc).splitlines()[0]}"
        ) from exc
    raise ValueError(
        f"{what} file {str(path)!r} must end in one of {list(_SUFFIXES)}; got {suffix!r}"
    )


def _check_columns(frame, wanted, source):
    for param, col in wanted.items():
        if col is not None and col not in frame.columns:
            raise ValueError(
                f"{param}={col!r} is not a column of {source}; columns are {list(frame.columns)}"
            )


def _binary_label(values, label, positive):
    """0/1 label from a column: ``== positive`` when given, else a numeric 0/1 column."""
    present = pd.unique(values.dropna())
    if values.isna().any():
        raise ValueError(
            f"label column {label!r} has {int(values.isna().sum())} missing "
            "values; drop or fill those rows"
        )
    if positive is not None:
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            try:
                y = values == float(positive)
            except (TypeError, ValueError):
                y = values.astype(str) == str(positive)
        else:
            y = values.astype(str) == str(positive)
        if not y.any():
            raise ValueError(
                f"positive={positive!r} does not occur in label column {label!r}; "
                f"its values are {sorted(map(str, present))[:10]}"
            )
        return y.astype(np.int8)
    if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
        raise ValueError(
            f"label column {label!r} holds strings {sorted(map(str, present))[:10]}"
            "; name the positive class with positive= (--positive VALUE)"
        )
    if not set(np.asarray(present, dtype=float).tolist()) <= {0.0, 1.0}:
        raise ValueError(
            f"label column {label!r} is not 0/1 (values "
            f"{sorted(present.tolist())[:10]}); name the positive class with "
            "positive= (--positive VALUE)"
        )
    return values.astype(np.int8)


def _check_two_classes(y, label):
    if y.nunique() < 2:
        raise ValueError(
            f"label {label!r} has one class only (all {int(y.iloc[0])}); a "
            "benchmark needs positives and negatives"
        )


def _own_data(
    frame,
    *,
    name,
    user_col,
    item_col,
    time_col,
    label,
    positive,
    conversion,
    behavior_col,
    window,
    item_info,
):
    """X, y, item_info, events of a team's own log, with the columns renamed to the defaults."""
    source = f"the data ({name})"
    if (label is None) == (conversion is None):
        raise ValueError(
            "give exactly one of label= (a 0/1 column, or any column with "
            "positive=) and conversion= (the behaviour that converts, with "
            f"behavior_col= and window=); got label={label!r}, "
            f"conversion={conversion!r}"
        )
    wanted = {"user_col": user_col, "item_col": item_col, "time_col": time_col}
    wanted.update({"label": label} if conversion is None else {"behavior_col": behavior_col})
    _check_columns(frame, wanted, source)
    for param in ("user_col", "item_col"):
        n_nan = int(frame[wanted[param]].isna().sum())
        if n_nan:
            raise ValueError(
                f"{param}={wanted[param]!r} has {n_nan} missing ids (NaN); drop or fill those rows"
            )
    if frame[time_col].isna().any():
        raise ValueError(
            f"time_col={time_col!r} has {int(frame[time_col].isna().sum())} missing times (NaN)"
        )
    canonical = {user_col: "user_id", item_col: "item_id", time_col: "timestamp"}
    if conversion is not None:
        canonical[behavior_col] = "behavior_type"
    clash = [c for c in canonical.values() if c in frame.columns and c not in canonical]
    if clash:
        raise ValueError(
            f"columns {clash} would be overwritten by the renamed id / time "
            "columns; rename or drop them"
        )
    frame = frame.rename(columns=canonical)
    if not pd.api.types.is_numeric_dtype(frame["timestamp"]):
        try:
            frame["timestamp"] = pd.to_datetime(frame["timestamp"])
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"time_col={time_col!r} holds neither numbers nor dates: {exc}"
            ) from exc
    for col in frame.columns:  # free-text / string features become categories
        if col not in ("user_id", "item_id") and frame[col].dtype == object:
            frame[col] = frame[col].astype("category")
    item_info = _item_info(item_info, item_col)
    if conversion is not None:
        present = pd.unique(frame["behavior_type"].astype(str))
        if str(conversion) not in present:
            raise ValueError(
                f"conversion={conversion!r} does not occur in behavior_col="
                f"{behavior_col!r}; its values are {sorted(present)[:10]}"
            )
        X, y = label_conversion(frame, target=conversion, window=window)
        _check_two_classes(y, y.name)
        return X, y, item_info, frame
    y = _binary_label(frame[label], label, positive)
    y.name = label
    _check_two_classes(y, label)
    return frame.drop(columns=label), y, item_info, None


def _item_info(item_info, item_col):
    if item_info is None:
        return None
    if not isinstance(item_info, pd.DataFrame):
        item_info = read_table(item_info, what="item-info")
        if item_col not in item_info.columns:
            raise ValueError(
                f"item_col={item_col!r} is not a column of the item-info file; "
                f"columns are {list(item_info.columns)}"
            )
        item_info = item_info.set_index(item_col)
    item_info = item_info.rename_axis("item_id")
    return item_info[~item_info.index.duplicated()]


def _is_named(dataset):
    return isinstance(dataset, str) and dataset in DATASETS


def _missing_data_message(what, folder, data_home, hint):
    origin = (
        "data_home"
        if data_home is not None
        else "$SKLEARN_RECSYS_DATA"
        if os.environ.get("SKLEARN_RECSYS_DATA")
        else "the default ~/sklearn_recsys_data, as SKLEARN_RECSYS_DATA is unset"
    )
    return (
        f"{what} not found: looked in {folder} (from {origin}); point --data-home "
        f"(data_home=) or SKLEARN_RECSYS_DATA at the folder holding it{hint}"
    )


def _load_named(dataset, *, data_home, n_interactions, random_state, download):
    if dataset == "synthetic":
        d = make_interactions(n_interactions=n_interactions, random_state=random_state)
        X = d.interactions.drop(columns=d.target_name)
        y = d.interactions[d.target_name]
        item_info = d.item_info.drop(columns=["quality", "category", "price"])
        return X, y, item_info, None, None
    if dataset == "ml-100k":
        home = get_data_home(data_home)
        try:
            d = load_movielens("100k", data_home=home, download_if_missing=download)
        except FileNotFoundError as exc:
            raise FileNotFoundError(
                _missing_data_message(
                    "MovieLens-100k (u.data, u.item, u.user)",
                    home / "ml-100k",
                    data_home,
                    ", or pass --download (download=True) to fetch it from GroupLens",
                )
            ) from exc
        return (
            d.interactions.drop(columns="rating"),
            label_loved(d.interactions),
            d.item_info,
            d.user_info,
            None,
        )
    if dataset == "taobao":
        home = get_data_home(data_home)
        try:
            events = load_taobao(data_home=home).interactions
        except FileNotFoundError as exc:
            raise FileNotFoundError(
                _missing_data_message(
                    "the Taobao log (UserBehavior.csv)",
                    home / "taobao-userbehavior",
                    data_home,
                    " (it is not downloaded automatically)",
                )
            ) from exc
    else:
        events = make_interactions(
            n_interactions=n_interactions, multi_behavior=True, random_state=random_state
        ).interactions
    X, y = label_conversion(events, target="buy", window="72h")
    return X, y, None, None, events


def _load_dataset(
    dataset,
    *,
    data_home=None,
    n_interactions=100_000,
    random_state=0,
    download=False,
    user_col="user_id",
    item_col="item_id",
    time_col="timestamp",
    label=None,
    positive=None,
    conversion=None,
    behavior_col="behavior_type",
    window="72h",
    item_info=None,
):
    """name, X, y, item_info, user_info, events (None unless a conversion log)."""
    if _is_named(dataset):
        return (
            dataset,
            *_load_named(
                dataset,
                data_home=data_home,
                n_interactions=n_interactions,
                random_state=random_state,
                download=download,
            ),
        )
    if isinstance(dataset, pd.DataFrame):
        frame, name = dataset, "data"
    elif isinstance(dataset, (str, os.PathLike)) and (
        Path(dataset).suffix.lower() in _SUFFIXES or Path(dataset).is_dir()
    ):
        frame, name = read_table(dataset), Path(dataset).stem
    else:
        raise ValueError(
            f"dataset must be one of {list(DATASETS)}, a DataFrame or the path of "
            f"a {'/'.join(_SUFFIXES)} file; got {dataset!r}."
        )
    X, y, info, events = _own_data(
        frame,
        name=name,
        user_col=user_col,
        item_col=item_col,
        time_col=time_col,
        label=label,
        positive=positive,
        conversion=conversion,
        behavior_col=behavior_col,
        window=window,
        item_info=item_info,
    )
    return name, X, y, info, None, events


def _check_test_size(test_size):
    if not isinstance(test_size, (int, float)) or not 0 < test_size < 1:
        raise ValueError(f"test_size must be a fraction in (0, 1); got {test_size!r}")


def load_benchmark_data(
    dataset="synthetic",
    *,
    data_home=None,
    n_interactions=100_000,
    test_size=0.2,
    random_state=0,
    download=False,
    user_col="user_id",
    item_col="item_id",
    time_col="timestamp",
    label=None,
    positive=None,
    conversion=None,
    behavior_col="behavior_type",
    window="72h",
    item_info=None,
):
    """Load a data set, or a team's own log, and split it per user in time.

    Each user's last ``test_size`` of rows (in time) is the test set. On a conversion log the
    training rows whose label is known only after their user's split time are purged.

    Parameters
    ----------
    dataset : str, path-like or DataFrame, default="synthetic"
        A named data set: ``"synthetic"`` (:func:`~sklearn_recsys.datasets.make_interactions`,
        label ``purchase``), ``"ml-100k"`` (MovieLens-100k, "loved" = rating 5), ``"taobao"``
        (the Taobao behaviour log with the 72 h purchase-conversion label) or
        ``"synthetic-events"`` (the multi-behaviour synthetic log, same label); or your own
        interaction log: a DataFrame or the path of a ``.csv`` / ``.tsv`` / ``.parquet`` file
        (read with pyarrow), described by the column parameters below.
    data_home : str or path-like, default=None
        Folder of the named real data sets; default ``$SKLEARN_RECSYS_DATA`` or
        ``~/sklearn_recsys_data``.
    n_interactions : int, default=100_000
        Rows of the synthetic data sets.
    test_size : float, default=0.2
        Share of each user's rows (the latest) in the test set, in (0, 1).
    random_state : int or None, default=0
        Seed of the synthetic data and of every strategy.
    download : bool, default=False
        Download MovieLens when its files are missing (otherwise the error says where the
        files were looked for); nothing is created or fetched unless asked.
    user_col, item_col, time_col : str, default="user_id", "item_id", "timestamp"
        Id and time columns of your own log (renamed to the defaults). ``time_col`` holds
        numbers (e.g. Unix seconds) or dates.
    label : str or None, default=None
        Your own log's label column: 0/1 (or booleans), or any column together with
        ``positive``. It is removed from the features.
    positive : object or None, default=None
        The value of ``label`` that makes a positive (``"buy"``, ``5``, ``"yes"``); required
        when ``label`` holds strings or values other than 0/1.
    conversion : str or None, default=None
        Instead of ``label``, for event logs: the behaviour that converts (e.g. ``"buy"``);
        every other event is labelled 1 when the user does ``conversion`` on the same item
        within ``window`` (:func:`~sklearn_recsys.datasets.label_conversion`), and the split
        purges the training rows whose label is not yet known.
    behavior_col : str, default="behavior_type"
        Behaviour column of an event log (with ``conversion``).
    window : str, default="72h"
        Conversion window (with ``conversion``), anything :class:`pandas.Timedelta` parses.
    item_info : DataFrame, path-like or None, default=None
        Item side data (a DataFrame indexed by item id, or a file with ``item_col``); text
        columns ``title``, ``genres`` or ``description`` feed the text strategies.

    Returns
    -------
    data : BenchmarkData

    Raises
    ------
    ValueError
        If a column is missing (named), an id or time is missing, the label is not 0/1 and
        no ``positive`` is given, the label has one class, or ``test_size`` is not in (0, 1).
    FileNotFoundError
        If the file, or a named real data set, is not found (the message says where it was
        looked for and how to point elsewhere).

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_recsys.datasets import make_interactions
    >>> from sklearn_recsys.benchmark import load_benchmark_data
    >>> log = make_interactions(n_interactions=3000, random_state=0).interactions
    >>> log = log.rename(columns={"user_id": "customer", "item_id": "sku", "timestamp": "ts"})
    >>> log["bought"] = log.pop("purchase").map({0: "no", 1: "yes"})
    >>> data = load_benchmark_data(log, user_col="customer", item_col="sku", time_col="ts",
    ...                            label="bought", positive="yes")
    >>> len(data.X_train) + len(data.X_test), "bought" in data.X_train.columns
    (3000, False)
    >>> sorted(data.y_train.unique().tolist())
    [0, 1]
    """
    _check_test_size(test_size)
    name, X, y, item_info, user_info, events = _load_dataset(
        dataset,
        data_home=data_home,
        n_interactions=n_interactions,
        random_state=random_state,
        download=download,
        user_col=user_col,
        item_col=item_col,
        time_col=time_col,
        label=label,
        positive=positive,
        conversion=conversion,
        behavior_col=behavior_col,
        window=window,
        item_info=item_info,
    )
    if events is None:
        X_tr, X_te, y_tr, y_te = user_temporal_split(X, y, test_size=test_size)
        return BenchmarkData(name, X_tr, X_te, y_tr, y_te, item_info, user_info, random_state)
    X_tr, X_te, y_tr, y_te = user_temporal_split(
        X, y, test_size=test_size, label_time_col="label_time"
    )
    n_purged = len(X) - len(X_tr) - len(X_te)
    window_name = window if not _is_named(dataset) else "72h"
    return BenchmarkData(
        name,
        X_tr.drop(columns="label_time"),
        X_te.drop(columns="label_time"),
        y_tr,
        y_te,
        item_info,
        user_info,
        random_state,
        events=events,
        n_purged=n_purged,
        protocol=f"per-user temporal split, purged ({window_name} label)",
    )


def load_benchmark_folds(
    dataset="synthetic",
    *,
    n_splits=3,
    test_size="1D",
    data_home=None,
    n_interactions=100_000,
    random_state=0,
    **data_params,
):
    """Rolling-origin folds of a data set (for the spread of each strategy's scores).

    Fold ``k`` trains on every row before its origin (the conversion logs: whose label is known
    by then) and tests on the ``test_size`` that follows; the origins are the last
    ``n_splits`` spans of the log (:class:`~sklearn_recsys.model_selection.RollingOriginSplit`).
    Test users absent from a fold's training rows are kept (cold users).

    Parameters
    ----------
    dataset : str, path-like or DataFrame, default="synthetic"
        As in :func:`load_benchmark_data`.
    n_splits : int, default=3
        Number of folds.
    test_size : str, default="1D"
        Test span of each fold (a :class:`pandas.Timedelta`; with integer times, in seconds).
    data_home, n_interactions, random_state
        As in :func:`load_benchmark_data`.
    **data_params
        The own-data parameters of :func:`load_benchmark_data` (``user_col``, ``label``,
        ``conversion``, ...).

    Returns
    -------
    folds : list of BenchmarkData
    """
    name, X, y, item_info, user_info, events = _load_dataset(
        dataset,
        data_home=data_home,
        n_interactions=n_interactions,
        random_state=random_state,
        **data_params,
    )
    label_time = "label_time" if events is not None else None
    cv = RollingOriginSplit(
        n_splits=n_splits, test_size=test_size, time_col="timestamp", label_time_col=label_time
    )
    folds = []
    drop = [label_time] if label_time else []
    purged = cv.split_summary(X)["n_purged"].to_numpy()
    for k, (train, test) in enumerate(cv.split(X)):
        folds.append(
            BenchmarkData(
                name,
                X.iloc[train].drop(columns=drop),
                X.iloc[test].drop(columns=drop),
                y.iloc[train],
                y.iloc[test],
                item_info,
                user_info,
                random_state,
                events=events,
                n_purged=int(purged[k]),
                protocol=f"rolling origin, fold {k + 1} of {n_splits} ({test_size} test span"
                + (", purged)" if label_time else ")"),
                fold=k,
            )
        )
    return folds
