"""Offline evaluation of a model on logged traffic: re-score the labelled rows of the log."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, log_loss, roc_auc_score

from ._log import PredictionLog

__all__ = ["replay"]


def _metrics(y, s):
    out = {
        "n": len(y),
        "positive_rate": float(np.mean(y)) if len(y) else None,
        "mean_score": float(np.mean(s)) if len(s) else None,
        "roc_auc": None,
        "pr_auc": None,
        "log_loss": None,
    }
    if len(np.unique(y)) == 2:
        out["roc_auc"] = float(roc_auc_score(y, s))
        out["pr_auc"] = float(average_precision_score(y, s))
        out["log_loss"] = float(log_loss(y, np.clip(s, 1e-7, 1 - 1e-7), labels=[0, 1]))
    return out


def replay(log, model=None, *, trusted=None):
    """Evaluate the served scores, and optionally another model, on the labelled log rows.

    Every feedback label is joined to the request it answers; the row that was scored (its
    logged columns) is re-scored by ``model``. Both score sets are evaluated on the same labels,
    so a candidate model is compared with the served one on real requests.

    Parameters
    ----------
    log : str, path-like or PredictionLog
        The prediction log (a SQLite path or a SQLAlchemy URL).
    model : estimator, str, path-like or None, default=None
        A fitted estimator with ``predict_proba``, or the path of a pipeline saved with
        :func:`save_pipeline`. ``None``: only the served scores are evaluated.
    trusted : list of str or None, default=None
        Extra trusted types when ``model`` is a path.

    Returns
    -------
    result : dict
        ``served`` and (with ``model``) ``replayed``: ``n``, ``positive_rate``, ``mean_score``,
        ``roc_auc``, ``pr_auc``, ``log_loss``; ``by_model_version``: the served metrics per
        logged model version; ``frame``: the labelled rows with both scores.

    Examples
    --------
    >>> import tempfile, os
    >>> from sklearn_recsys.serving import PredictionLog, replay
    >>> log = PredictionLog(os.path.join(tempfile.mkdtemp(), "log.db"))
    >>> log.log_request("a", "score", {"user_id": [1, 2], "item_id": [5, 6]}, [0.9, 0.2])
    >>> _ = log.log_feedback("a", 5, 1), log.log_feedback("a", 6, 0)
    >>> replay(log)["served"]["roc_auc"]
    1.0
    """
    from ._persist import load_pipeline

    log = log if isinstance(log, PredictionLog) else PredictionLog(log)
    frame = log.labelled()
    if frame.empty:
        raise ValueError(f"the prediction log {log.url} has no feedback labels to replay.")
    y = frame["label"].to_numpy()
    result = {
        "served": _metrics(y, frame["score"].to_numpy(dtype=float)),
        "by_model_version": {
            str(v): _metrics(g["label"].to_numpy(), g["score"].to_numpy(dtype=float))
            for v, g in frame.groupby("model_version", dropna=False)
        },
    }
    if model is not None:
        if not hasattr(model, "predict_proba"):
            model = load_pipeline(model, trusted=trusted)
        columns = getattr(model, "feature_names_in_", None)
        X = frame.drop(columns=["request_id", "model_version", "label", "score"])
        if columns is not None:
            time_col = getattr(getattr(model, "steps", [[None, None]])[0][1], "time_col", None)
            if time_col is not None and time_col in columns and time_col not in X.columns:
                X[time_col] = 0  # not a feature of the featurizer, only a column it expects
            missing = [c for c in columns if c not in X.columns]
            if missing:
                raise ValueError(
                    f"the logged rows lack the model's columns {missing}; logged "
                    f"columns are {list(X.columns)}."
                )
            X = X[list(columns)]
        X = X.infer_objects()
        frame["replayed_score"] = model.predict_proba(X)[:, 1]
        result["replayed"] = _metrics(y, frame["replayed_score"].to_numpy())
    result["frame"] = pd.DataFrame(frame)
    return result
