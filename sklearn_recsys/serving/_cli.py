"""``sklearn-recsys serve | monitor | replay``: wired into :mod:`sklearn_recsys.cli` by
:func:`add_serving_parsers`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["add_serving_parsers"]


def _read_frame(path):
    """A CSV / Parquet file, or the rows of a prediction log (``.db`` or a SQLAlchemy URL)."""
    text = str(path)
    suffix = Path(text).suffix.lower()
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(text), None
    if suffix in (".csv", ".tsv", ".gz"):
        return pd.read_csv(text, sep="\t" if ".tsv" in text else ","), None
    if suffix in (".db", ".sqlite", ".sqlite3") or "://" in text:
        from ._log import PredictionLog

        log = PredictionLog(text)
        frames, scores = [], []
        import sqlalchemy as sa

        with log.engine.connect() as conn:
            query = sa.select(log.predictions.c["rows"], log.predictions.c["scores"]).where(
                log.predictions.c.endpoint == "score"
            )
            for rows, s in conn.execute(query):
                frames.append(pd.DataFrame(json.loads(rows)))
                scores += json.loads(s)
        log.close()
        if not frames:
            raise ValueError(f"the prediction log {text} has no /score requests.")
        return pd.concat(frames, ignore_index=True), np.asarray(scores, dtype=float)
    raise ValueError(
        f"cannot read {text!r}: expected a .csv, .parquet or prediction log (.db / SQLAlchemy URL)."
    )


def _serve(args):
    from ._app import serve

    serve(
        args.path,
        host=args.host,
        port=args.port,
        token_file=args.token_file,
        log=args.log,
        trusted=args.trusted,
        max_rows=args.max_rows,
        max_body_bytes=args.max_body_bytes,
        log_level=args.log_level,
    )
    return 0


def _monitor(args):
    from ._monitor import DriftMonitor
    from ._persist import load_manifest, load_pipeline
    from ._report import drift_report_html

    model = None
    if args.model is not None:
        model = load_pipeline(args.model, trusted=args.trusted)
    ref_path = Path(args.reference)
    if ref_path.suffix == ".skops":
        profile = load_manifest(ref_path).get("reference_profile")
        if profile is None:
            raise SystemExit(f"{ref_path} was saved without a reference frame.")
        monitor = DriftMonitor.from_dict(profile)
        if model is None:
            model = load_pipeline(ref_path, trusted=args.trusted)
    else:
        ref, _ = _read_frame(ref_path)
        y = ref.pop(args.label).to_numpy() if args.label in ref.columns else None
        scores = model.predict_proba(ref)[:, 1] if model is not None else None
        monitor = DriftMonitor(time_col=args.time_col).fit(ref, y, scores=scores)
    cur, logged_scores = _read_frame(args.current)
    y_cur = cur.pop(args.label).to_numpy() if args.label in cur.columns else None
    scores = logged_scores
    if scores is None and model is not None:
        cols = list(getattr(model, "feature_names_in_", cur.columns))
        scores = model.predict_proba(cur[cols])[:, 1]
    monitor.update(cur, scores)
    if y_cur is not None and scores is not None:
        monitor.record_feedback(scores, y_cur)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(drift_report_html(monitor))
    rep = monitor.report()
    for a in rep["alerts"]:
        print(
            f"ALERT {a['kind']}: {a['name']} {a['statistic']}={a['value']:.4f} "
            f"(threshold {a['threshold']})"
        )
    print(f"{len(rep['alerts'])} alert(s); wrote {out}")
    return 1 if (rep["alerts"] and args.fail_on_alert) else 0


def _replay(args):
    from ._replay import replay

    res = replay(args.log, args.model, trusted=args.trusted)
    table = pd.DataFrame({k: res[k] for k in ("served", "replayed") if k in res}).T
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))
    if args.output:
        out = Path(args.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({k: v for k, v in res.items() if k != "frame"}, indent=2))
        print(f"wrote {out}")
    return 0


def add_serving_parsers(subparsers):
    """Add the ``serve``, ``monitor`` and ``replay`` sub-commands."""
    s = subparsers.add_parser("serve", help="serve a saved pipeline over HTTP (FastAPI)")
    s.add_argument("path", help="pipeline saved by sklearn_recsys.serving.save_pipeline")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument(
        "--token-file",
        default=None,
        help="file holding the bearer token every endpoint but /health needs",
    )
    s.add_argument(
        "--log",
        default=None,
        help="prediction log: SQLite path or SQLAlchemy URL (default: PATH.log.db)",
    )
    s.add_argument(
        "--trusted",
        nargs="*",
        default=None,
        help="extra type names to trust when loading the archive",
    )
    s.add_argument("--max-rows", type=int, default=10_000)
    s.add_argument("--max-body-bytes", type=int, default=10_000_000)
    s.add_argument("--log-level", default="warning")
    s.set_defaults(func=_serve)

    m = subparsers.add_parser("monitor", help="drift report (HTML) of CURRENT against REFERENCE")
    m.add_argument(
        "reference",
        help="reference interactions (.csv / .parquet) or a saved "
        "pipeline (.skops: its manifest's reference profile)",
    )
    m.add_argument(
        "current",
        help="current interactions (.csv / .parquet) or a prediction log (.db / SQLAlchemy URL)",
    )
    m.add_argument("--output", default="drift_report.html")
    m.add_argument("--model", default=None, help="saved pipeline scoring both frames")
    m.add_argument("--label", default="label", help="label column of the frames, if any")
    m.add_argument("--time-col", default="timestamp")
    m.add_argument("--trusted", nargs="*", default=None)
    m.add_argument("--fail-on-alert", action="store_true", help="exit 1 when an alert fires")
    m.set_defaults(func=_monitor)

    r = subparsers.add_parser(
        "replay",
        help="evaluate served scores (and another model) on "
        "the labelled traffic of a prediction log",
    )
    r.add_argument("log", help="prediction log: SQLite path or SQLAlchemy URL")
    r.add_argument("--model", default=None, help="saved pipeline to re-score the rows with")
    r.add_argument("--trusted", nargs="*", default=None)
    r.add_argument("--output", default=None, help="write the metrics as JSON here")
    r.set_defaults(func=_replay)
    return subparsers
