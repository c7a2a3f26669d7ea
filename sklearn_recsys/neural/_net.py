"""skorch nets with sample weights and an L1 penalty, the loss factory, and seeded training."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from skorch import NeuralNet, NeuralNetBinaryClassifier, NeuralNetClassifier
from skorch.utils import to_tensor
from torch import nn

from ..losses import (
    ClassBalancedLoss,
    FocalLoss,
    MulticlassFocalLoss,
    WeightedBCELoss,
    WeightedCrossEntropyLoss,
)

LOSSES = ("bce", "weighted", "focal", "class_balanced")
OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "adagrad": torch.optim.Adagrad,
    "rmsprop": torch.optim.RMSprop,
}
#: Settings of the optimizers named by a string that differ from torch's defaults (documented
#: under ``optimizer``; ``optimizer__<name>`` overrides them).
OPTIMIZER_DEFAULTS = {"sgd": {"momentum": 0.9}, "adamw": {"weight_decay": 0.0}}
#: Argument of a loss module -> the estimator parameter that sets it.
_LOSS_PARAMS = {
    "gamma": "focal_gamma",
    "alpha": "focal_alpha",
    "beta": "cb_beta",
    "class_weight": "class_weight",
}


def sigmoid_proba(logits):
    """(n,) logits -> (n, 2) probabilities ``[1 - p, p]`` (skorch ``predict_nonlinearity``)."""
    p = torch.sigmoid(logits.reshape(-1))
    return torch.stack([1 - p, p], dim=1)


def softmax_proba(logits):
    """(n, C) logits -> softmax probabilities (skorch ``predict_nonlinearity``)."""
    return torch.softmax(logits, dim=-1)


def make_loss(
    loss,
    n_classes,
    *,
    class_weight=None,
    focal_gamma=2.0,
    focal_alpha=None,
    cb_beta=0.999,
    samples_per_class=None,
    criterion_params=None,
):
    """Build the criterion named by an estimator's ``loss`` parameter.

    ``criterion_params`` (the estimator's routed ``criterion__<name>`` parameters) go to the loss
    module's constructor; an argument the estimator already sets (``gamma`` of the focal loss
    through ``focal_gamma``, the class counts of the class-balanced loss, ...) is an error.
    """
    binary = n_classes == 2
    cw = None if class_weight is None else [float(w) for w in class_weight]
    if loss in ("bce", "weighted"):
        cls, params = (WeightedBCELoss if binary else WeightedCrossEntropyLoss), {}
    elif loss == "focal" and binary:
        cls, params = FocalLoss, {"gamma": focal_gamma, "alpha": focal_alpha}
    elif loss == "focal":
        if focal_alpha is not None:
            raise ValueError(
                f"focal_alpha={focal_alpha!r} applies to binary targets only; for "
                f"{n_classes} classes weight them with class_weight."
            )
        cls, params = MulticlassFocalLoss, {"gamma": focal_gamma}
    elif loss == "class_balanced":
        cls, params = ClassBalancedLoss, {"samples_per_class": samples_per_class, "beta": cb_beta}
    else:  # pragma: no cover - the estimators validate loss
        raise ValueError(f"loss must be one of {LOSSES}; got {loss!r}.")
    params["class_weight"] = cw
    routed = dict(criterion_params or {})
    for name in sorted(set(routed) & set(params)):
        source = _LOSS_PARAMS.get(name)
        raise ValueError(
            f"criterion__{name} cannot be set with loss={loss!r}: "
            + (
                f"set the parameter {source} instead."
                if source
                else "it is computed from the training labels."
            )
        )
    return cls(**params, **routed)


class _SampleWeightL1Mixin:
    """``X`` is a dict; its ``sample_weight`` entry goes to the loss, not to the module.

    ``get_loss`` adds ``l1_penalty * sum |W|`` over the weight matrices and embeddings (not the
    biases) during training.
    """

    def __init__(self, *args, l1_penalty=0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.l1_penalty = l1_penalty

    def infer(self, x, **fit_params):
        if isinstance(x, Mapping) and "sample_weight" in x:
            x = {k: v for k, v in x.items() if k != "sample_weight"}
        return super().infer(x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y_true = to_tensor(y_true, device=self.device)
        sample_weight = X.get("sample_weight") if isinstance(X, Mapping) else None
        if sample_weight is not None:
            sample_weight = to_tensor(sample_weight, device=self.device)
        loss = self.criterion_(y_pred, y_true, sample_weight=sample_weight)
        if training and self.l1_penalty:
            l1 = sum(p.abs().sum() for p in self.module_.parameters() if p.dim() > 1)
            loss = loss + self.l1_penalty * l1
        return loss


class BinaryRankerNet(_SampleWeightL1Mixin, NeuralNetBinaryClassifier):
    """skorch binary classifier with sample weights and L1 (used by NeuralClassifier)."""


class MulticlassRankerNet(_SampleWeightL1Mixin, NeuralNetClassifier):
    """skorch multiclass classifier with sample weights and L1 (used by NeuralClassifier)."""


class MultiTaskNet(_SampleWeightL1Mixin, NeuralNet):
    """skorch net for a module returning ``(main, aux)`` (used by MultiTaskClassifier)."""


class MultiTaskLoss(nn.Module):
    """``main_weight * main_loss + aux_weight * aux_loss`` for a target of shape (n, 2).

    Column 0 of the target is the main class code, column 1 the auxiliary target: a 0/1 label
    (``aux_task="binary"``, BCE), a class code (``"multiclass"``, cross-entropy) or a
    standardised value (``"continuous"``, squared error). ``aux_task=None``: main task only.
    ``main_loss`` is a loss module of :mod:`sklearn_recsys.losses` (see :func:`make_loss`).
    """

    def __init__(self, main_loss, aux_task=None, main_weight=1.0, aux_weight=1.0):
        super().__init__()
        self.main_loss = main_loss
        self.aux_task = aux_task
        self.aux_loss = {"binary": WeightedBCELoss, "multiclass": WeightedCrossEntropyLoss}.get(
            aux_task, lambda: None
        )()
        self.main_weight = main_weight
        self.aux_weight = aux_weight

    def forward(self, y_pred, y_true, sample_weight=None):
        main, aux = y_pred
        loss = self.main_weight * self.main_loss(main, y_true[:, 0], sample_weight=sample_weight)
        if self.aux_task is None:
            return loss
        target = y_true[:, 1]
        if self.aux_task == "continuous":
            sq = (aux.reshape(-1) - target.to(aux.dtype)).pow(2)
            if sample_weight is not None:
                sq = sq * sample_weight.reshape(-1).to(sq.dtype)
            aux_loss = sq.mean()
        else:
            aux_loss = self.aux_loss(aux, target, sample_weight=sample_weight)
        return loss + self.aux_weight * aux_loss
