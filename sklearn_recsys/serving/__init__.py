"""Serving, feedback and monitoring of a trained pipeline (extra ``[serve]``).

- :func:`save_pipeline` / :func:`load_pipeline`: skops archives (no pickle) with a JSON
  manifest; untrusted types are refused by name.
- :class:`DriftMonitor`: PSI / KS drift of features and scores, positive rate of the feedback,
  label-free (CBPE) and measured performance, long-tail exposure of the recommendations.
- :class:`PredictionLog`: every scored request and its feedback in SQLite (WAL) or any
  SQLAlchemy database; :func:`replay` re-scores the labelled traffic with another model.
- :func:`create_app` / :func:`serve`: the FastAPI application behind ``sklearn-recsys serve``.

The FastAPI, uvicorn and prometheus-client imports happen in :func:`create_app` and
:func:`serve`, so persistence and monitoring work without them.
"""

from ._fastpath import PipelineScorer
from ._log import PredictionLog
from ._monitor import DriftMonitor
from ._persist import (
    DEFAULT_TRUSTED_PREFIXES,
    UntrustedTypesError,
    load_manifest,
    load_pipeline,
    save_pipeline,
)
from ._replay import replay


def create_app(model_path, **params):
    """Build the FastAPI application (see :func:`sklearn_recsys.serving._app.create_app`)."""
    from ._app import create_app as _create_app

    return _create_app(model_path, **params)


def serve(model_path, **params):
    """Run the server with uvicorn (see :func:`sklearn_recsys.serving._app.serve`)."""
    from ._app import serve as _serve

    return _serve(model_path, **params)


__all__ = [
    "DEFAULT_TRUSTED_PREFIXES",
    "DriftMonitor",
    "PipelineScorer",
    "PredictionLog",
    "UntrustedTypesError",
    "create_app",
    "load_manifest",
    "load_pipeline",
    "replay",
    "save_pipeline",
    "serve",
]
