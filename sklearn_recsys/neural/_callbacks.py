"""skorch callbacks and helpers for imbalanced training: dynamic class weights, whole-validation
epoch scores (ROC-AUC, PR-AUC, G-mean) and a class-balanced mini-batch sampler."""

from __future__ import annotations

import numpy as np
import torch
from imblearn.metrics import geometric_mean_score
from sklearn.metrics import average_precision_score, roc_auc_score
from skorch.callbacks import Callback, EpochScoring
from skorch.utils import to_numpy
from torch.utils.data import WeightedRandomSampler

__all__ = [
    "DynamicClassWeight",
    "epoch_scoring_callbacks",
    "make_balanced_sampler",
    "valid_gmean",
    "valid_pr_auc",
    "valid_roc_auc",
]


# --- whole-validation-set scores --------------------------------------------------------------
def _main_target(y):
    y = np.asarray(to_numpy(y) if isinstance(y, torch.Tensor) else y)
    return (y[:, 0] if y.ndim == 2 else y).astype(np.int64)


def _one_vs_rest(metric, y, proba):
    """Mean of ``metric`` over the classes present with both positives and negatives.

    Binary: only the positive class (column 1). NaN when no class qualifies (e.g. a
    validation set with one class), instead of the crash of a per-batch AUC.
    """
    classes = [1] if proba.shape[1] == 2 else range(proba.shape[1])
    scores = []
    for c in classes:
        pos = y == c
        if 0 < pos.sum() < len(y):
            scores.append(metric(pos, proba[:, c]))
    return float(np.mean(scores)) if scores else float("nan")


def valid_roc_auc(net, X, y):
    """ROC-AUC over the whole validation set (one-vs-rest mean for multiclass); skorch scorer.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_recsys.neural import valid_roc_auc
    >>> class Net:  # anything with predict_proba, as skorch's EpochScoring passes the net
    ...     def predict_proba(self, X):
    ...         return np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    >>> valid_roc_auc(Net(), None, np.array([0, 1, 1]))
    1.0
    >>> valid_roc_auc(Net(), None, np.array([1, 1, 1]))  # one class: NaN, not an error
    nan
    """
    return _one_vs_rest(roc_auc_score, _main_target(y), np.asarray(net.predict_proba(X)))


def valid_pr_auc(net, X, y):
    """PR-AUC (average precision) over the whole validation set; skorch scorer.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_recsys.neural import valid_pr_auc
    >>> class Net:
    ...     def predict_proba(self, X):
    ...         return np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    >>> round(valid_pr_auc(Net(), None, np.array([0, 0, 1])), 3)
    0.5
    """
    return _one_vs_rest(average_precision_score, _main_target(y), np.asarray(net.predict_proba(X)))


def valid_gmean(net, X, y):
    """Geometric mean of the per-class recalls on the validation set; skorch scorer.

    Uses :func:`imblearn.metrics.geometric_mean_score` over the classes present; NaN when only
    one class is present.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_recsys.neural import valid_gmean
    >>> class Net:
    ...     def predict_proba(self, X):
    ...         return np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    >>> round(valid_gmean(Net(), None, np.array([0, 1, 1, 0])), 3)  # sqrt(0.5 * 0.5)
    0.5
    """
    y = _main_target(y)
    proba = np.asarray(net.predict_proba(X))
    present = np.unique(y)
    if len(present) < 2:
        return float("nan")
    pred = proba.argmax(axis=1)
    return float(geometric_mean_score(y, pred, labels=present, average="multiclass"))


def epoch_scoring_callbacks(metrics=("roc_auc", "pr_auc", "gmean")):
    """skorch ``EpochScoring`` callbacks computing the metrics on the whole validation set.

    The scores are computed once per epoch from the cached validation predictions (no extra
    forward pass) and recorded in ``net.history`` as ``valid_<metric>``.

    Parameters
    ----------
    metrics : sequence of {"roc_auc", "pr_auc", "gmean"}, default=all three

    Returns
    -------
    callbacks : list of (name, skorch.callbacks.EpochScoring)

    Examples
    --------
    >>> from sklearn_recsys.neural import epoch_scoring_callbacks
    >>> [name for name, _ in epoch_scoring_callbacks()]
    ['valid_roc_auc', 'valid_pr_auc', 'valid_gmean']
    """
    scorers = {"roc_auc": valid_roc_auc, "pr_auc": valid_pr_auc, "gmean": valid_gmean}
    out = []
    for metric in metrics:
        if metric not in scorers:
            raise ValueError(f"metrics must be among {sorted(scorers)}; got {metric!r}.")
        name = f"valid_{metric}"
        out.append(
            (
                name,
                EpochScoring(
                    scorers[metric],
                    name=name,
                    lower_is_better=False,
                    on_train=False,
                    use_caching=True,
                ),
            )
        )
    return out


# --- class-balanced mini-batches --------------------------------------------------------------
def make_balanced_sampler(y, num_samples=None, generator=None):
    """Sampler drawing every class equally often (with replacement), for a torch DataLoader.

    Each sample gets the weight ``1 / count(class)``, so a mini-batch holds each class with
    equal expected frequency. Pass it to skorch as ``iterator_train__sampler`` (with
    ``iterator_train__shuffle=False``).

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels of the training samples.
    num_samples : int or None, default=None
        Draws per epoch; ``None`` is ``len(y)``.
    generator : torch.Generator or None, default=None
        Random generator of the draws (``None``: torch's default generator).

    Returns
    -------
    sampler : torch.utils.data.WeightedRandomSampler

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sklearn_recsys.neural import make_balanced_sampler
    >>> y = np.array([0] * 95 + [1] * 5)
    >>> sampler = make_balanced_sampler(y, num_samples=2000,
    ...                                 generator=torch.Generator().manual_seed(0))
    >>> bool(0.4 < y[list(sampler)].mean() < 0.6)
    True
    """
    y = np.asarray(y).reshape(-1)
    _, codes, counts = np.unique(y, return_inverse=True, return_counts=True)
    weights = torch.as_tensor(1.0 / counts[codes], dtype=torch.double)
    return WeightedRandomSampler(
        weights, num_samples or len(y), replacement=True, generator=generator
    )


# --- dynamic class weights --------------------------------------------------------------------
def _weighted_criterion(net):
    criterion = net.criterion_
    criterion = getattr(criterion, "main_loss", criterion)
    if not hasattr(criterion, "set_class_weight"):
        raise TypeError(
            "DynamicClassWeight needs a criterion from sklearn_recsys.losses (with a "
            f"class_weight buffer); got {type(criterion).__name__}."
        )
    return criterion


class DynamicClassWeight(Callback):
    r"""Re-weight the classes after each epoch from the validation per-class recall.

    After epoch :math:`t`, with :math:`r_c` the recall of class :math:`c` on the validation
    set, the multiplicative factor of each class weight moves towards the inverse recall:

    .. math::

        \tau_c = \frac{1 / (r_c + \epsilon)}{\frac{1}{C}\sum_k 1 / (r_k + \epsilon)}, \qquad
        f_c \leftarrow \operatorname{clip}\big((1 - m) f_c + m \tau_c,\ w_{min},\ w_{max}\big)

    and the criterion's ``class_weight`` becomes ``base_c * f_c`` (``base`` the weights the
    criterion started with, 1 if none). A class that is poorly recalled is weighted up, a class
    that is recalled well is weighted down, within ``[min_weight, max_weight]``. A class absent
    from the validation set keeps its factor. Each epoch records ``class_weight`` and
    ``valid_recall`` (lists, one value per class) in ``net.history``.

    Works with every loss of :mod:`sklearn_recsys.losses` (and the main task of
    :class:`MultiTaskClassifier`); needs a validation set.

    Parameters
    ----------
    momentum : float in (0, 1], default=0.5
        Step :math:`m` towards the target weights.
    min_weight, max_weight : float, default=0.1, 10.0
        Bounds of the factors.
    eps : float, default=0.05
        Smoothing of the inverse recall.
    threshold : float, default=0.5
        Decision threshold on the positive probability for binary outputs.

    Attributes
    ----------
    factor_ : ndarray of shape (n_classes,)
        Current multiplicative factors.
    base_weight_ : ndarray of shape (n_classes,)
        The criterion's class weights before the first update.

    Examples
    --------
    >>> from sklearn_recsys.neural import DynamicClassWeight, NeuralClassifier
    >>> from sklearn_recsys.datasets import make_interactions
    >>> df = make_interactions(n_users=100, n_items=40, n_interactions=1500,
    ...                        positive_rate=0.1, random_state=0).interactions
    >>> X, y = df.drop(columns=["purchase", "timestamp"]), df["purchase"]
    >>> model = NeuralClassifier(dynamic_class_weight=True, max_epochs=3, early_stopping=False,
    ...                          random_state=0).fit(X, y)
    >>> len(model.history_[:, "class_weight"])  # one pair of weights per epoch
    3
    """

    def __init__(self, momentum=0.5, min_weight=0.1, max_weight=10.0, eps=0.05, threshold=0.5):
        self.momentum = momentum
        self.min_weight = min_weight
        self.max_weight = max_weight
        self.eps = eps
        self.threshold = threshold

    def initialize(self):
        if not 0 < self.momentum <= 1:
            raise ValueError(f"momentum must be in (0, 1]; got {self.momentum!r}.")
        if not 0 < self.min_weight <= 1 <= self.max_weight:
            raise ValueError(
                "min_weight and max_weight must satisfy 0 < min_weight <= 1 <= max_weight; got "
                f"{self.min_weight!r}, {self.max_weight!r}."
            )
        self.factor_ = None
        self.base_weight_ = None
        self._y_true, self._y_pred = [], []
        return self

    def on_epoch_begin(self, net, **kwargs):
        self._y_true, self._y_pred = [], []

    def on_batch_end(self, net, batch=None, training=None, y_pred=None, **kwargs):
        if training or batch is None or y_pred is None:
            return
        main = y_pred[0] if isinstance(y_pred, tuple) else y_pred
        self._y_true.append(_main_target(batch[1]))
        self._y_pred.append(to_numpy(main.detach()))

    def _predicted_class(self, out):
        if out.ndim == 1:
            return (out > np.log(self.threshold / (1 - self.threshold))).astype(np.int64)
        return out.argmax(axis=1)

    def on_epoch_end(self, net, **kwargs):
        if not self._y_true:
            raise ValueError("DynamicClassWeight needs a validation set (validation_fraction > 0).")
        criterion = _weighted_criterion(net)
        y = np.concatenate(self._y_true)
        out = np.concatenate(self._y_pred)
        n_classes = 2 if out.ndim == 1 else out.shape[1]
        if self.factor_ is None:
            base = criterion.class_weight
            self.base_weight_ = (
                np.ones(n_classes) if base is None else to_numpy(base).astype(np.float64)
            )
            self.factor_ = np.ones(n_classes)
        pred = self._predicted_class(out)
        recall = np.full(n_classes, np.nan)
        target = self.factor_.copy()
        for c in range(n_classes):
            mask = y == c
            if mask.any():
                recall[c] = np.mean(pred[mask] == c)
                target[c] = 1.0 / (recall[c] + self.eps)
        present = ~np.isnan(recall)
        target[present] /= target[present].mean()
        self.factor_ = np.clip(
            (1 - self.momentum) * self.factor_ + self.momentum * target,
            self.min_weight,
            self.max_weight,
        )
        weight = self.base_weight_ * self.factor_
        criterion.set_class_weight(weight)
        net.history.record("class_weight", weight.tolist())
        net.history.record("valid_recall", recall.tolist())
