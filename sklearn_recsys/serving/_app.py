"""The FastAPI application: /score, /recommend, /feedback, /health, /metrics, /monitor, /reload.

No ``from __future__ import annotations`` here: FastAPI reads the request models from the
annotations at run time.
"""

import asyncio
import hmac
import logging
import math
import signal
import threading
import time
import uuid
from pathlib import Path
from typing import Literal

import numpy as np
from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr
from starlette.concurrency import run_in_threadpool

from ._fastpath import PipelineScorer
from ._log import PredictionLog
from ._monitor import DriftMonitor
from ._persist import load_manifest, load_pipeline

__all__ = ["create_app", "load_model_state"]

logger = logging.getLogger(__name__)

Scalar = StrictInt | StrictFloat | StrictStr | StrictBool | None
Id = StrictInt | StrictStr
ENDPOINTS = ("/score", "/recommend", "/feedback", "/health", "/metrics", "/monitor", "/reload")


class ScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rows: list[dict[str, Scalar]] = Field(min_length=1)


class RecommendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: Id
    k: StrictInt = Field(10, ge=1, le=10_000)
    candidates: list[Id] | None = Field(None, min_length=1)
    context: dict[str, Scalar] | None = None


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    request_id: StrictStr = Field(min_length=1, max_length=64)
    item_id: Id
    label: Literal[0, 1]


class ReloadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: StrictStr | None = None


class ModelState:
    """One loaded model: estimator, manifest, scorer and its drift monitor."""

    def __init__(self, path, estimator, manifest, monitor_params=None):
        self.path = str(path)
        self.estimator = estimator
        self.manifest = manifest
        self.version = manifest.get("model_version", "unknown")
        self.scorer = PipelineScorer(estimator, manifest)
        profile = manifest.get("reference_profile")
        self.monitor = (
            DriftMonitor.from_dict(profile, **(monitor_params or {})) if profile else None
        )
        self.loaded_at = time.time()


def load_model_state(path, *, trusted=None, monitor_params=None, retries=20):
    """Load a saved pipeline and its manifest (retried while a save is half-way)."""
    for attempt in range(retries):
        try:
            manifest = load_manifest(path)
            estimator = load_pipeline(path, trusted=trusted)
            return ModelState(path, estimator, manifest, monitor_params)
        except ValueError as exc:  # archive and manifest from two different saves
            if "is not the archive its manifest describes" not in str(exc) or (
                attempt == retries - 1
            ):
                raise
            time.sleep(0.05)
    raise AssertionError("unreachable")  # pragma: no cover


def _error(status, loc, msg):
    return HTTPException(status, detail=[{"loc": list(loc), "msg": msg}])


def _clean(obj):
    """JSON-safe copy (NaN / inf -> None, numpy scalars -> python)."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _check_id(value, loc):
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        what = "NaN" if isinstance(value, float) and math.isnan(value) else repr(value)
        raise _error(422, loc, f"ids must be integers or strings; got {what}.")


def _columns(rows, scorer):
    """Request rows -> {column: values}, with a 422 naming the row and field on bad input."""
    cols = {}
    for c in scorer.required_columns:
        try:
            cols[c] = [r[c] for r in rows]
        except KeyError:
            i = next(j for j, r in enumerate(rows) if c not in r)
            raise _error(
                422,
                ("body", "rows", i, c),
                f"missing column {c!r}; every row needs {scorer.required_columns}.",
            ) from None
    for c in scorer.optional_columns:
        if all(c in r for r in rows):
            cols[c] = [r[c] for r in rows]
    for c in (scorer.user_col, scorer.item_col):
        for i, v in enumerate(cols[c]):
            _check_id(v, ("body", "rows", i, c))
    numeric = getattr(scorer.featurizer, "passthrough_cols_", []) if scorer.fast else []
    for c in numeric:
        for i, v in enumerate(cols[str(c)]):
            if isinstance(v, str) or v is None or not math.isfinite(v):
                raise _error(
                    422,
                    ("body", "rows", i, str(c)),
                    f"column {c!r} must be a finite number; got {v!r}.",
                )
    return cols


class _Limits:
    """Pure ASGI middleware: bearer token, body size limit, latency histograms."""

    def __init__(self, app, *, token, max_body_bytes, metrics):
        self.app = app
        self.token = token
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics

    async def _reply(self, send, status, detail, headers=()):
        body = JSONResponse({"detail": detail}).body
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    *headers,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        path = scope["path"]
        endpoint = path if path in ENDPOINTS else "other"
        status = {"code": 500}

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            headers = dict(scope["headers"])
            if self.token is not None and path != "/health":
                given = headers.get(b"authorization", b"").decode("latin-1")
                if not hmac.compare_digest(given.encode(), f"Bearer {self.token}".encode()):
                    status["code"] = 401
                    return await self._reply(
                        send,
                        401,
                        "missing or wrong bearer token: send 'Authorization: Bearer <token>'.",
                        [(b"www-authenticate", b"Bearer")],
                    )
            length = headers.get(b"content-length")
            if length is not None and int(length) > self.max_body_bytes:
                status["code"] = 413
                return await self._reply(
                    send,
                    413,
                    f"request body of {int(length)} bytes "
                    f"exceeds max_body_bytes={self.max_body_bytes}.",
                )
            seen = {"n": 0}

            async def limited_receive():
                message = await receive()
                seen["n"] += len(message.get("body", b""))
                if seen["n"] > self.max_body_bytes:
                    raise _BodyTooLarge
                return message

            try:
                await self.app(scope, limited_receive, send_wrapper)
            except _BodyTooLarge:
                status["code"] = 413
                await self._reply(
                    send, 413, f"request body exceeds max_body_bytes={self.max_body_bytes}."
                )
        finally:
            self.metrics.observe(endpoint, status["code"], time.perf_counter() - start)


class _BodyTooLarge(Exception):
    pass


class _Metrics:
    """Prometheus metrics in a registry of their own (no global state)."""

    def __init__(self):
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        r = self.registry = CollectorRegistry()
        buckets = (
            0.0005,
            0.001,
            0.002,
            0.003,
            0.005,
            0.0075,
            0.01,
            0.02,
            0.03,
            0.05,
            0.1,
            0.25,
            0.5,
            1.0,
            2.5,
        )
        self.latency = Histogram(
            "sklearn_recsys_request_duration_seconds",
            "Request latency by endpoint",
            ["endpoint"],
            buckets=buckets,
            registry=r,
        )
        self.requests = Counter(
            "sklearn_recsys_requests",
            "Requests by endpoint and status",
            ["endpoint", "status"],
            registry=r,
        )
        self.rows = Counter(
            "sklearn_recsys_rows_scored", "Rows scored (score and recommend)", registry=r
        )
        self.predicted_rate = Gauge(
            "sklearn_recsys_predicted_positive_rate",
            "Mean calibrated score of the monitor window",
            registry=r,
        )
        self.feedback_rate = Gauge(
            "sklearn_recsys_feedback_positive_rate",
            "Positive rate of the feedback labels in the window",
            registry=r,
        )
        self.reference_rate = Gauge(
            "sklearn_recsys_reference_positive_rate",
            "Positive rate of the training data",
            registry=r,
        )
        self.psi = Gauge(
            "sklearn_recsys_feature_psi", "PSI of a monitored feature", ["feature"], registry=r
        )
        self.ks = Gauge(
            "sklearn_recsys_feature_ks",
            "KS distance of a monitored feature",
            ["feature"],
            registry=r,
        )
        self.alerts = Gauge("sklearn_recsys_alerts", "Active monitoring alerts", registry=r)
        self.alert = Gauge(
            "sklearn_recsys_alert", "1 for each active alert", ["kind", "name"], registry=r
        )
        self.model = Gauge(
            "sklearn_recsys_model_info", "The served model version", ["version"], registry=r
        )

    def observe(self, endpoint, status, seconds):
        self.latency.labels(endpoint).observe(seconds)
        self.requests.labels(endpoint, str(status)).inc()

    def refresh(self, state):
        self.model.clear()
        self.model.labels(state.version).set(1)
        self.alert.clear()
        if state.monitor is None:
            self.alerts.set(0)
            return
        rep = state.monitor.report()
        rate = rep["positive_rate"]
        for gauge, value in (
            (self.predicted_rate, rate["predicted"]),
            (self.feedback_rate, rate["feedback"]),
            (self.reference_rate, rate["reference"]),
        ):
            gauge.set(float("nan") if value is None else value)
        features = dict(rep["features"])
        features["score"] = rep["scores"]
        for name, res in features.items():
            if res is not None:
                self.psi.labels(name).set(res["psi"])
                if res.get("ks") is not None:
                    self.ks.labels(name).set(res["ks"])
        self.alerts.set(len(rep["alerts"]))
        for a in rep["alerts"]:
            self.alert.labels(a["kind"], a["name"]).set(1)

    def text(self):
        from prometheus_client import generate_latest

        return generate_latest(self.registry)


def create_app(
    model_path,
    *,
    log="predictions.db",
    token=None,
    trusted=None,
    max_rows=10_000,
    max_body_bytes=10_000_000,
    monitor_params=None,
):
    """Build the FastAPI application serving the pipeline saved at ``model_path``.

    Parameters
    ----------
    model_path : str or path-like
        A pipeline saved by :func:`save_pipeline` (its manifest beside it).
    log : str, path-like or PredictionLog, default="predictions.db"
        The prediction log: a SQLite path or a SQLAlchemy URL.
    token : str or None, default=None
        When set, every endpoint but ``/health`` needs ``Authorization: Bearer <token>``.
    trusted : list of str or None, default=None
        Extra types to trust when loading (see :func:`load_pipeline`).
    max_rows : int, default=10000
        Largest number of rows (or candidates) in one request.
    max_body_bytes : int, default=10000000
        Largest request body; larger ones get 413.
    monitor_params : dict or None, default=None
        :class:`DriftMonitor` parameters overriding the ones saved in the manifest.

    Returns
    -------
    app : fastapi.FastAPI
        ``app.state.model`` is the current :class:`ModelState`, ``app.state.log`` the log.
    """
    metrics = _Metrics()
    prediction_log = log if isinstance(log, PredictionLog) else PredictionLog(log)
    state = load_model_state(model_path, trusted=trusted, monitor_params=monitor_params)
    reload_lock = threading.Lock()

    async def reload_model(path=None):
        target = path or app.state.model.path

        def load():
            with reload_lock:
                return load_model_state(target, trusted=trusted, monitor_params=monitor_params)

        new = await run_in_threadpool(load)
        app.state.model = new  # one reference swap: requests in flight keep the old model
        logger.info("reloaded %s (model version %s)", target, new.version)
        return new

    async def lifespan(app):
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(reload_model()))
        except (ValueError, RuntimeError, NotImplementedError, AttributeError):
            pass  # not the main thread, or no SIGHUP on this platform
        yield
        prediction_log.close()

    app = FastAPI(title="sklearn-recsys", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.model = state
    app.state.log = prediction_log
    app.state.metrics = metrics
    app.state.started = time.time()
    app.add_middleware(_Limits, token=token, max_body_bytes=max_body_bytes, metrics=metrics)

    @app.post("/score")
    async def score(req: ScoreRequest):
        model = app.state.model
        if len(req.rows) > max_rows:
            raise _error(413, ("body", "rows"), f"{len(req.rows)} rows exceed max_rows={max_rows}.")
        cols = _columns(req.rows, model.scorer)
        try:
            scores = model.scorer.score(cols)
        except (ValueError, TypeError) as exc:
            raise _error(422, ("body", "rows"), str(exc)) from None
        request_id = uuid.uuid4().hex
        prediction_log.log_request(
            request_id,
            "score",
            cols,
            scores,
            model_version=model.version,
            item_col=model.scorer.item_col,
        )
        metrics.rows.inc(len(scores))
        if model.monitor is not None:
            model.monitor.update(cols, scores)
        return JSONResponse(
            {"request_id": request_id, "model_version": model.version, "scores": scores.tolist()}
        )

    @app.post("/recommend")
    async def recommend(req: RecommendRequest):
        model = app.state.model
        scorer = model.scorer
        if req.candidates is not None and len(req.candidates) > max_rows:
            raise _error(
                413,
                ("body", "candidates"),
                f"{len(req.candidates)} candidates exceed max_rows={max_rows}.",
            )
        context = dict(req.context or {})
        for key in (scorer.user_col, scorer.item_col):
            if key in context:
                raise _error(422, ("body", "context", key), f"{key!r} cannot be a context column.")
        try:
            items, scores = scorer.recommend(req.user_id, req.k, req.candidates, context)
        except (ValueError, TypeError) as exc:
            raise _error(422, ("body",), str(exc)) from None
        items = [v.item() if isinstance(v, np.generic) else v for v in items]
        rows = {scorer.user_col: [req.user_id] * len(items), scorer.item_col: items}
        for c in scorer.required_columns + scorer.optional_columns:
            if c not in rows and (c in context or c in scorer.defaults):
                rows[c] = [context.get(c, scorer.defaults.get(c))] * len(items)
        request_id = uuid.uuid4().hex
        prediction_log.log_request(
            request_id,
            "recommend",
            rows,
            scores,
            model_version=model.version,
            item_col=scorer.item_col,
            user=req.user_id,
        )
        n_scored = len(req.candidates) if req.candidates is not None else len(scorer.catalogue)
        metrics.rows.inc(n_scored)
        if model.monitor is not None:
            model.monitor.record_recommendations(items)
        return JSONResponse(
            {
                "request_id": request_id,
                "model_version": model.version,
                "user_id": req.user_id,
                "cold_start": not scorer.is_known_user(req.user_id),
                "items": items,
                "scores": scores.tolist(),
            }
        )

    @app.post("/feedback")
    async def feedback(req: FeedbackRequest):
        try:
            score_ = prediction_log.log_feedback(req.request_id, req.item_id, req.label)
        except KeyError:
            raise _error(
                404,
                ("body", "request_id"),
                f"request_id {req.request_id!r} is not in the prediction log.",
            ) from None
        except LookupError:
            raise _error(
                422,
                ("body", "item_id"),
                f"item_id {req.item_id!r} was not scored in request {req.request_id!r}.",
            ) from None
        model = app.state.model
        if model.monitor is not None:
            model.monitor.record_feedback([score_], [req.label])
        return JSONResponse({"status": "recorded", "request_id": req.request_id})

    @app.get("/health")
    async def health():
        model = app.state.model
        return JSONResponse(
            {
                "status": "ok",
                "model_version": model.version,
                "model_path": model.path,
                "uptime_s": round(time.time() - app.state.started, 3),
            }
        )

    @app.get("/metrics")
    async def metrics_endpoint():
        from prometheus_client import CONTENT_TYPE_LATEST

        metrics.refresh(app.state.model)
        return Response(metrics.text(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/monitor")
    async def monitor():
        model = app.state.model
        if model.monitor is None:
            return JSONResponse(
                {
                    "model_version": model.version,
                    "monitor": None,
                    "alerts": [],
                    "detail": "the model was saved without a reference frame: no drift profile.",
                }
            )
        rep = model.monitor.report()
        return JSONResponse(_clean({"model_version": model.version, **rep}))

    @app.post("/reload")
    async def reload(req: ReloadRequest | None = None):
        path = req.path if req is not None else None
        if path is not None and not Path(path).is_file():
            raise _error(422, ("body", "path"), f"no model file at {path!r}.")
        old = app.state.model.version
        try:
            new = await reload_model(path)
        except Exception as exc:  # the old model keeps serving
            raise _error(
                422,
                ("body", "path"),
                f"reload failed, still serving {old}: {type(exc).__name__}: {exc}",
            ) from None
        return JSONResponse(
            {"status": "reloaded", "previous_version": old, "model_version": new.version}
        )

    return app


def serve(
    model_path,
    *,
    host="127.0.0.1",
    port=8000,
    token_file=None,
    log=None,
    trusted=None,
    log_level="warning",
    **app_params,
):
    """Run the app with uvicorn (one worker) until interrupted."""
    import uvicorn

    token = None
    if token_file is not None:
        token = Path(token_file).read_text().strip()
        if not token:
            raise ValueError(f"token file {token_file} is empty.")
    if log is None:
        log = f"{model_path}.log.db"
    app = create_app(model_path, log=log, token=token, trusted=trusted, **app_params)
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False, workers=1)
