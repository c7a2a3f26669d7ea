"""Shared machinery of the imbalance-aware losses: class weights, sample weights, reduction."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

_REDUCTIONS = ("mean", "sum", "none")


def _as_weight_tensor(values, name):
    """Validate a per-class weight vector and return it as a float32 tensor (or None)."""
    if values is None:
        return None
    arr = np.asarray(
        values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else values,
        dtype=np.float64,
    )
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"{name} must be a 1-D sequence with one weight per class; got {values!r}."
        )
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must hold finite weights >= 0; got {arr.tolist()}.")
    return torch.as_tensor(arr, dtype=torch.float32)


class WeightedLoss(nn.Module):
    """Base class: per-sample loss times class weight times sample weight, then reduced.

    Sub-classes implement ``_per_sample(input, target)`` returning the unweighted loss of each
    sample. The class weight of a sample is ``class_weight[target]`` (for soft binary targets
    ``t``: ``t * class_weight[1] + (1 - t) * class_weight[0]``).

    Parameters
    ----------
    class_weight : sequence of float or None, default=None
        One weight per class (``[w_negative, w_positive]`` for binary losses). Stored as the
        buffer ``class_weight`` so that callbacks (``DynamicClassWeight``) can replace it.
    reduction : {"mean", "sum", "none"}, default="mean"
        ``"mean"`` is ``sum_i w_i l_i / n`` (the convention of ``torch.nn.functional`` for
        element weights), ``"sum"`` is ``sum_i w_i l_i``, ``"none"`` returns ``w_i l_i``.
    """

    def __init__(self, class_weight=None, reduction="mean"):
        super().__init__()
        if reduction not in _REDUCTIONS:
            raise ValueError(f"reduction must be one of {_REDUCTIONS}; got {reduction!r}.")
        self.reduction = reduction
        self.register_buffer("class_weight", _as_weight_tensor(class_weight, "class_weight"))

    def set_class_weight(self, class_weight):
        """Replace the class weights (``None`` removes them)."""
        weight = _as_weight_tensor(class_weight, "class_weight")
        if weight is not None and self.class_weight is not None:
            weight = weight.to(self.class_weight.device)
        self.class_weight = weight

    # --- hooks ---------------------------------------------------------------------------
    def _per_sample(self, input, target):  # pragma: no cover - abstract
        raise NotImplementedError

    def _binary(self):
        return True

    # --- helpers -------------------------------------------------------------------------
    def _sample_class_weight(self, target, class_weight):
        if class_weight is None:
            return None
        class_weight = class_weight.to(target.device)
        if self._binary():
            if class_weight.numel() != 2:
                raise ValueError(
                    f"class_weight of a binary loss needs 2 weights [negative, positive]; "
                    f"got {class_weight.numel()}."
                )
            t = target.to(class_weight.dtype)
            return t * class_weight[1] + (1 - t) * class_weight[0]
        return class_weight[target]

    def _weights(self, target, sample_weight):
        w = self._sample_class_weight(target, self.class_weight)
        if sample_weight is not None:
            sw = torch.as_tensor(sample_weight, device=target.device).reshape(-1).float()
            if sw.shape[0] != target.shape[0]:
                raise ValueError(
                    f"sample_weight has {sw.shape[0]} values for {target.shape[0]} samples."
                )
            w = sw if w is None else w * sw
        return w

    def _reduce(self, loss, weight):
        if weight is not None:
            loss = loss * weight.to(loss.dtype)
        if self.reduction == "mean":
            return loss.mean()
        if self.reduction == "sum":
            return loss.sum()
        return loss

    def _check_shapes(self, input, target):
        if self._binary():
            input = input.reshape(-1) if input.dim() == 2 and input.shape[1] == 1 else input
            if input.dim() != 1:
                raise ValueError(
                    f"{type(self).__name__} expects logits of shape (n,) or (n, 1); got "
                    f"{tuple(input.shape)}."
                )
            target = target.reshape(-1).to(input.dtype)
        else:
            if input.dim() != 2:
                raise ValueError(
                    f"{type(self).__name__} expects logits of shape (n, n_classes); got "
                    f"{tuple(input.shape)}."
                )
            target = target.reshape(-1).long()
        if target.shape[0] != input.shape[0]:
            raise ValueError(
                f"target has {target.shape[0]} values for {input.shape[0]} predictions."
            )
        return input, target

    def forward(self, input, target, sample_weight=None):
        """Weighted loss of ``input`` (logits) against ``target``.

        Parameters
        ----------
        input : torch.Tensor
            Logits: shape (n,) or (n, 1) for binary losses, (n, n_classes) for multiclass.
        target : torch.Tensor
            Binary losses: 0/1 (or soft) targets of shape (n,); multiclass: class indices.
        sample_weight : torch.Tensor or None, default=None
            Weight of each sample, multiplied with its class weight.

        Returns
        -------
        loss : torch.Tensor
            A scalar, or shape (n,) with ``reduction="none"``.
        """
        input, target = self._check_shapes(input, target)
        loss = self._per_sample(input, target)
        return self._reduce(loss, self._weights(target, sample_weight))
