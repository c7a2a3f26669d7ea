"""Focal loss on raw (logit) scores: value, gradient and Hessian for gradient boosting.

With ``p = sigmoid(z)``, ``t = 2 y - 1``, ``p_t = sigmoid(t z)`` and ``a_t = alpha`` for positives,
``1 - alpha`` for negatives (``a_t = 1`` when ``alpha`` is None), the focal loss of Lin et al.
(ICCV 2017) and its derivatives with respect to the raw score ``z`` are::

    L   = -a_t (1 - p_t)^g log(p_t)
    dL  = t a_t (1 - p_t)^g (g p_t log(p_t) - (1 - p_t))
    d2L = a_t p_t (1 - p_t)^g ((1 - p_t)(g log(p_t) + 2 g + 1) - g^2 p_t log(p_t))

For ``g = 0`` they reduce to the (alpha-weighted) log loss: ``dL = a_t (p - y)``,
``d2L = a_t p (1 - p)``. For ``g > 0`` the exact Hessian is negative on badly misclassified rows
(``p_t`` below about ``exp(-(2 g + 1) / g)``, 8 % for ``g = 2``); a Newton step needs a positive
curvature, so :class:`FocalObjective` floors it at ``hess_floor`` (documented, tested).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import expit, log_expit

#: Lower bound put on the focal Hessian before it reaches LightGBM.
HESS_FLOOR = 1e-6


def _parts(y, z, alpha):
    y = np.asarray(y, dtype=np.float64)
    z = np.asarray(z, dtype=np.float64)
    t = 2.0 * y - 1.0
    tz = t * z
    p_t = expit(tz)
    log_p_t = log_expit(tz)  # stable log(p_t) for large |z|
    if alpha is None:
        a_t = np.ones_like(y)
    else:
        a_t = np.where(y > 0.5, alpha, 1.0 - alpha)
    return t, p_t, log_p_t, a_t


def focal_loss(y, z, *, alpha=None, gamma=2.0):
    """Per-row focal loss of raw scores ``z`` for binary labels ``y`` in {0, 1}."""
    _, p_t, log_p_t, a_t = _parts(y, z, alpha)
    return -a_t * (1.0 - p_t) ** gamma * log_p_t


def focal_grad_hess(y, z, *, alpha=None, gamma=2.0):
    """Exact first and second derivatives of :func:`focal_loss` with respect to ``z``."""
    t, p_t, log_p_t, a_t = _parts(y, z, alpha)
    g = gamma
    q = 1.0 - p_t
    q_g = q**g
    grad = t * a_t * q_g * (g * p_t * log_p_t - q)
    hess = a_t * p_t * q_g * (q * (g * log_p_t + 2.0 * g + 1.0) - g * g * p_t * log_p_t)
    return grad, hess


class FocalObjective:
    """LightGBM scikit-learn objective ``f(y_true, y_pred, weight) -> (grad, hess)``.

    A class rather than a closure so that fitted models pickle. The Hessian is floored at
    ``hess_floor``; ``weight`` (the data set's row weights) scales both derivatives.
    """

    def __init__(self, alpha=None, gamma=2.0, hess_floor=HESS_FLOOR):
        self.alpha = alpha
        self.gamma = gamma
        self.hess_floor = hess_floor

    def __call__(self, y_true, y_pred, weight):
        grad, hess = focal_grad_hess(y_true, y_pred, alpha=self.alpha, gamma=self.gamma)
        hess = np.maximum(hess, self.hess_floor)
        if weight is not None:
            grad = grad * weight
            hess = hess * weight
        return grad, hess


class FocalEval:
    """LightGBM scikit-learn metric ``f(y_true, y_pred, weight) -> (name, value, False)``.

    ``y_pred`` are raw scores that already include the init score (LightGBM adds the
    ``init_score`` of a data set to its evaluation scores).
    """

    def __init__(self, alpha=None, gamma=2.0):
        self.alpha = alpha
        self.gamma = gamma

    def __call__(self, y_true, y_pred, weight):
        loss = focal_loss(y_true, y_pred, alpha=self.alpha, gamma=self.gamma)
        return "focal_loss", float(np.average(loss, weights=weight)), False


def focal_init_score(y, *, alpha=None, gamma=2.0, sample_weight=None):
    """The constant raw score that minimises the (weighted) mean focal loss of ``y``.

    For ``gamma = 0`` and ``alpha = None`` this is the log-odds of the positive rate.
    """
    y = np.asarray(y, dtype=np.float64)
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)

    def mean_loss(c):
        return np.average(focal_loss(y, np.full_like(y, c), alpha=alpha, gamma=gamma), weights=w)

    res = minimize_scalar(
        mean_loss, bounds=(-30.0, 30.0), method="bounded", options={"xatol": 1e-8}
    )
    return float(res.x)
