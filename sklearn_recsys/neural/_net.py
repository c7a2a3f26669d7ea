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


def sigmoid_proba(logits):
    """(n,) logits -> (n, 2) probabilities ``[1 - p, p]`` (skorch ``predict_nonlinearity``)."""
    p = torch.sigmoid(logits.reshape(-1))
    return torch.stack([1 - p, p], dim=1)


def softmax_proba(logits):
    """(n, C) logits -> softmax probabilities (skorch ``predict_nonlinearity``)."""
    return torch.softmax(logits, dim=-1)


def make_loss(loss, n_classes, *, class_weight=None, focal_gamma=2.0, focal_alpha=None,
              cb_beta=0.999, samples_per_class=None):
    """Build the criterion named by an estimator's ``loss`` parameter."""
    binary = n_classes == 2
    cw = None if class_weight is None else [float(w) for w in class_weight]
    if loss in ("bce", "weighted"):
        return (WeightedBCELoss if binary else WeightedCrossEntropyLoss)(class_weight=cw)
    if loss == "focal":
        if binary:
            return FocalLoss(gamma=focal_gamma, alpha=focal_alpha, class_weight=cw)
        if focal_alpha is not None:
            raise ValueError(
                f"focal_alpha={focal_alpha!r} applies to binary targets only; for "
                f"{n_classes} classes weight them with class_weight."
            )
        return MulticlassFocalLoss(gamma=focal_gamma, class_weight=cw)
    if loss == "class_balanced":
        return ClassBalancedLoss(samples_per_class, beta=cb_beta, class_weight=cw)
    raise ValueError(f"loss must be one of {LOSSES}; got {loss!r}.")  # pragma: no cover


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
    """skorch binary classifier with sample weights and L1 (used by NeuralRanker)."""


class MulticlassRankerNet(_SampleWeightL1Mixin, NeuralNetClassifier):
    """skorch multiclass classifier with sample weights and L1 (used by NeuralRanker)."""


class MultiTaskNet(_SampleWeightL1Mixin, NeuralNet):
    """skorch net for a module returning ``(main, aux)`` (used by MultiTaskRanker)."""


class MultiTaskLoss(nn.Module):
    """``main_weight * main_loss + aux_weight * aux_loss`` for a target of shape (n, 2).

    Column 0 of the target is the main class code, column 1 the auxiliary target: a 0/1 label
    (``aux_task="binary"``, BCE), a class code (``"multiclass"``, cross-entropy) or a
    standardised value (``"continuous"``, squared error). ``aux_task=None``: main task only.
    """

    def __init__(self, main_loss="bce", n_classes=2, class_weight=None, focal_gamma=2.0,
                 focal_alpha=None, cb_beta=0.999, samples_per_class=None, aux_task=None,
                 main_weight=1.0, aux_weight=1.0):
        super().__init__()
        self.main_loss = make_loss(main_loss, n_classes, class_weight=class_weight,
                                   focal_gamma=focal_gamma, focal_alpha=focal_alpha,
                                   cb_beta=cb_beta, samples_per_class=samples_per_class)
        self.aux_task = aux_task
        self.aux_loss = {"binary": WeightedBCELoss, "multiclass": WeightedCrossEntropyLoss}.get(
            aux_task, lambda: None)()
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


