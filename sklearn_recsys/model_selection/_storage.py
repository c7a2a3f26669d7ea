"""Optuna storages for many workers: URLs checked once, SQLite made safe for several processes.

- ``None``: in-memory (one process).
- ``"sqlite:///tune.db"``: :class:`optuna.storages.RDBStorage` with a long SQLite busy timeout
  (writers wait instead of failing with "database is locked"), the database switched to WAL
  journaling (readers no longer block the writer) and retries around the schema creation, which
  races when several workers open a new file at once.
- ``"journal:///path/tune.log"`` (or a path ending in ``.log`` / ``.jsonl``):
  :class:`optuna.storages.JournalStorage` on a file; appends under a file lock, no database.
- ``"postgresql://user:password@host:5432/db"`` (or ``mysql://``): RDBStorage for workers on
  several hosts, with ``pool_pre_ping`` so that dropped connections are renewed.
- an Optuna storage object: used as it is.
"""

from __future__ import annotations

import logging
import os
import random
import time

import optuna
from optuna.storages import BaseStorage, JournalStorage, RDBStorage

__all__ = ["make_storage", "open_study"]

logger = logging.getLogger(__name__)

#: seconds a SQLite writer waits for the lock before "database is locked"
SQLITE_TIMEOUT = 120.0
_RETRIES = 8
_EXPECTED = (
    "expected an Optuna storage URL such as 'sqlite:///tune.db', "
    "'journal:///abs/path/tune.log' or 'postgresql://user:pw@host:5432/db', an Optuna "
    "storage object, or None (in memory)"
)


def _journal(path):
    from optuna.storages.journal import JournalFileBackend

    path = os.path.abspath(os.path.expanduser(path))
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        raise ValueError(f"storage: the folder of the journal file {path!r} does not exist.")
    return JournalStorage(JournalFileBackend(path))


def _transient(exc):
    text = str(exc).lower()
    return any(
        s in text
        for s in (
            "database is locked",
            "already exists",
            "unique constraint",
            "duplicate key",
            "deadlock",
        )
    )


def _retry(func, what):
    """Call ``func`` again after transient storage errors (locks, schema-creation races)."""
    delay = 0.05
    for attempt in range(_RETRIES):
        try:
            return func()
        except Exception as exc:  # sqlalchemy / optuna wrap the driver errors differently
            if not _transient(exc) or attempt == _RETRIES - 1:
                raise
            logger.info("%s: transient storage error (%s); retry %d", what, exc, attempt + 1)
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 2.0)
    raise AssertionError("unreachable")  # pragma: no cover


def make_storage(storage):
    """Turn a storage URL into an Optuna storage ready for several worker processes.

    Parameters
    ----------
    storage : str, optuna.storages.BaseStorage or None
        See the module docstring for the accepted URLs.

    Returns
    -------
    storage : optuna.storages.BaseStorage or None

    Raises
    ------
    ValueError
        For a malformed URL, an unknown database dialect or a missing driver, naming the URL
        (password hidden) and what was expected.

    Examples
    --------
    >>> import tempfile, os
    >>> from sklearn_recsys.model_selection._storage import make_storage
    >>> folder = tempfile.mkdtemp()
    >>> type(make_storage(f"sqlite:///{folder}/tune.db")).__name__
    'RDBStorage'
    >>> type(make_storage(os.path.join(folder, "tune.log"))).__name__
    'JournalStorage'
    >>> make_storage("tune.db")
    Traceback (most recent call last):
    ...
    ValueError: storage='tune.db' is not a storage URL ...
    >>> import shutil; shutil.rmtree(folder)
    """
    if storage is None or isinstance(storage, BaseStorage):
        return storage
    if not isinstance(storage, str):
        raise TypeError(
            f"storage must be a URL string, an Optuna storage or None; got "
            f"{type(storage).__name__}."
        )
    if storage.startswith("journal:"):
        path = storage[len("journal:") :]
        if path.startswith("///"):
            path = path[2:]
        elif path.startswith("//"):
            raise ValueError(
                f"storage={storage!r}: a journal URL is 'journal:///abs/path' or "
                f"'journal:relative/path'."
            )
        return _journal(path)
    if "://" not in storage and storage.endswith((".log", ".jsonl")):
        return _journal(storage)

    import sqlalchemy
    from sqlalchemy.engine import make_url

    try:
        url = make_url(storage)
    except sqlalchemy.exc.ArgumentError as exc:
        raise ValueError(
            f"storage={storage!r} is not a storage URL ({exc}); {_EXPECTED}."
        ) from None
    shown = url.render_as_string(hide_password=True)
    backend = url.get_backend_name()
    engine_kwargs = {}
    if backend == "sqlite":
        db = url.database
        if db and db != ":memory:":
            folder = os.path.dirname(os.path.abspath(db))
            if not os.path.isdir(folder):
                raise ValueError(
                    f"storage={shown!r}: the folder {folder!r} of the SQLite file does not exist."
                )
        engine_kwargs["connect_args"] = {"timeout": SQLITE_TIMEOUT}
    else:
        engine_kwargs["pool_pre_ping"] = True
    try:
        url.get_dialect()
    except sqlalchemy.exc.NoSuchModuleError:
        raise ValueError(
            f"storage={shown!r}: unknown database dialect {url.drivername!r}; {_EXPECTED}."
        ) from None
    except ImportError as exc:
        raise ValueError(
            f"storage={shown!r}: the database driver is not installed ({exc}); "
            f"for PostgreSQL install psycopg2-binary."
        ) from None
    try:
        rdb = _retry(
            lambda: RDBStorage(storage, engine_kwargs=engine_kwargs), "opening the storage"
        )
    except Exception as exc:
        raise ValueError(f"could not open the Optuna storage {shown!r}: {exc}") from exc
    if backend == "sqlite":
        _sqlite_wal(rdb)
    return rdb


def _sqlite_wal(rdb):
    """WAL journaling: readers do not block the writer (persistent in the database file)."""
    try:
        # outside a transaction: inside one SQLite reports the new mode but does not keep it
        with rdb.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            mode = conn.exec_driver_sql("PRAGMA journal_mode=WAL").scalar()
        logger.debug("SQLite journal_mode=%s", mode)
    except Exception as exc:  # in-memory or read-only databases keep their mode
        logger.debug("could not switch SQLite to WAL: %s", exc)


def open_study(storage, study_name, *, directions, sampler, pruner):
    """Create the study, or load it when ``study_name`` already exists in ``storage``."""
    return _retry(
        lambda: optuna.create_study(
            storage=storage,
            study_name=study_name,
            directions=directions,
            sampler=sampler,
            pruner=pruner,
            load_if_exists=study_name is not None,
        ),
        "opening the study",
    )
