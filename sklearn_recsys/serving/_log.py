"""The prediction log: every scored request and every feedback label, in a SQL database.

SQLite by default (a path, or ``sqlite:///path``), switched to WAL journaling: a request is
committed before its response is sent, so a server killed with ``kill -9`` loses nothing it
acknowledged (WAL commits reach the operating system before ``COMMIT`` returns; use
``synchronous="FULL"`` to survive a power cut too). Any other SQLAlchemy URL
(``postgresql://user:pw@host/db``) selects that database, as the tuning storage does.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

__all__ = ["PredictionLog"]


def _url(url):
    text = str(url)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def _json_value(v):
    if isinstance(v, np.generic):
        return v.item()
    return v


def _dumps(obj):
    return json.dumps(obj, default=_json_value, separators=(",", ":"))


class PredictionLog:
    """Append-only log of scored requests with feedback joined by ``request_id``.

    Parameters
    ----------
    url : str or path-like
        A file path or ``sqlite:///path`` (SQLite in WAL mode), or any SQLAlchemy URL.
    synchronous : {"NORMAL", "FULL"}, default="NORMAL"
        SQLite's ``synchronous`` pragma: ``NORMAL`` is durable against a killed process,
        ``FULL`` also against a power cut (an fsync per request).

    Examples
    --------
    >>> import tempfile, os
    >>> from sklearn_recsys.serving import PredictionLog
    >>> log = PredictionLog(os.path.join(tempfile.mkdtemp(), "log.db"))
    >>> log.log_request("r1", "score", {"user_id": [1, 1], "item_id": [7, 8]}, [0.2, 0.9],
    ...                 model_version="abc", item_col="item_id")
    >>> log.log_feedback("r1", 8, 1)
    0.9
    >>> log.labelled()[["request_id", "item_id", "label", "score"]]
      request_id  item_id  label  score
    0         r1        8      1    0.9
    """

    def __init__(self, url, *, synchronous="NORMAL"):
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError(f"synchronous must be 'NORMAL' or 'FULL'; got {synchronous!r}.")
        self.url = _url(url)
        self.synchronous = synchronous
        sqlite = self.url.startswith("sqlite")
        kwargs = {"connect_args": {"timeout": 60}} if sqlite else {"pool_pre_ping": True}
        self.engine = sa.create_engine(self.url, **kwargs)
        if sqlite:
            sync = synchronous

            @sa.event.listens_for(self.engine, "connect")
            def _pragmas(dbapi_conn, _record):
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute(f"PRAGMA synchronous={sync}")
                cur.close()

        meta = sa.MetaData()
        self.predictions = sa.Table(
            "predictions",
            meta,
            sa.Column("request_id", sa.String(64), primary_key=True),
            sa.Column("ts", sa.Float, nullable=False),
            sa.Column("endpoint", sa.String(16), nullable=False),
            sa.Column("user_id", sa.Text),
            sa.Column("items", sa.Text, nullable=False),
            sa.Column("scores", sa.Text, nullable=False),
            sa.Column("rows", sa.Text, nullable=False),
            sa.Column("model_version", sa.String(64)),
        )
        self.feedback = sa.Table(
            "feedback",
            meta,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("request_id", sa.String(64), nullable=False, index=True),
            sa.Column("item_id", sa.Text, nullable=False),
            sa.Column("position", sa.Integer, nullable=False),
            sa.Column("label", sa.Integer, nullable=False),
            sa.Column("ts", sa.Float, nullable=False),
        )
        meta.create_all(self.engine)
        self._conn = None

    def _connection(self):
        if self._conn is None or self._conn.closed:
            self._conn = self.engine.connect()
        return self._conn

    def log_request(
        self,
        request_id,
        endpoint,
        rows,
        scores,
        *,
        model_version=None,
        item_col="item_id",
        user=None,
    ):
        """Commit one scored request (returns once it is durable).

        ``rows`` maps each column to its values (one per scored row), ``user`` is the user of a
        ``/recommend`` request (``None`` for ``/score``).
        """
        items = [_json_value(v) for v in rows[item_col]]
        conn = self._connection()
        conn.execute(
            self.predictions.insert().values(
                request_id=request_id,
                ts=time.time(),
                endpoint=endpoint,
                user_id=None if user is None else _dumps(_json_value(user)),
                items=_dumps(items),
                scores=_dumps([float(s) for s in scores]),
                rows=_dumps({c: list(v) for c, v in rows.items()}),
                model_version=model_version,
            )
        )
        conn.commit()

    def get_request(self, request_id):
        """The logged request as a dict, or None."""
        conn = self._connection()
        row = (
            conn.execute(
                sa.select(self.predictions).where(self.predictions.c.request_id == request_id)
            )
            .mappings()
            .first()
        )
        conn.rollback()
        if row is None:
            return None
        out = dict(row)
        for key in ("items", "scores", "rows", "user_id"):
            out[key] = json.loads(out[key]) if out[key] is not None else None
        return out

    def log_feedback(self, request_id, item_id, label):
        """Commit a label for an item of a logged request; returns the score it had.

        Raises ``KeyError`` when the request is not in the log and ``LookupError`` when the
        item was not among the request's items.
        """
        req = self.get_request(request_id)
        if req is None:
            raise KeyError(request_id)
        keys = [str(v) for v in req["items"]]
        positions = [j for j, key in enumerate(keys) if key == str(item_id)]
        if not positions:
            raise LookupError(item_id)
        conn = self._connection()
        # an item scored twice in one request: label its first row without a label yet
        taken = {
            r[0]
            for r in conn.execute(
                sa.select(self.feedback.c.position).where(self.feedback.c.request_id == request_id)
            )
        }
        position = next((j for j in positions if j not in taken), positions[0])
        conn.execute(
            self.feedback.insert().values(
                request_id=request_id,
                item_id=_dumps(_json_value(item_id)),
                position=position,
                label=int(label),
                ts=time.time(),
            )
        )
        conn.commit()
        return req["scores"][position]

    def request_ids(self):
        """Every logged request id (in insertion time order)."""
        with self.engine.connect() as conn:
            res = conn.execute(
                sa.select(self.predictions.c.request_id).order_by(self.predictions.c.ts)
            )
            return [r[0] for r in res]

    def labelled(self):
        """Labelled rows: the logged row (its columns), the label, the logged score.

        Returns
        -------
        frame : DataFrame
            One row per feedback label: ``request_id``, ``model_version``, the request's
            columns for the labelled item, ``label`` and ``score`` (what was served).
        """
        p, f = self.predictions, self.feedback
        query = (
            sa.select(
                f.c.request_id,
                f.c.position,
                f.c.label,
                p.c["rows"],
                p.c["scores"],
                p.c.model_version,
            )
            .join(p, p.c.request_id == f.c.request_id)
            .order_by(f.c.id)
        )
        records = []
        with self.engine.connect() as conn:
            for r in conn.execute(query).mappings():
                j = r["position"]
                rows = json.loads(r["rows"])
                rec = {"request_id": r["request_id"], "model_version": r["model_version"]}
                rec.update({c: v[j] for c, v in rows.items()})
                rec.update(label=int(r["label"]), score=json.loads(r["scores"])[j])
                records.append(rec)
        return pd.DataFrame.from_records(records)

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self.engine.dispose()
