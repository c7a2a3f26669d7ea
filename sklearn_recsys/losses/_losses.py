"""Weighted, focal and class-balanced losses on logits (torch modules)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ._base import WeightedLoss, _as_weight_tensor


def _check_gamma(gamma):
    if isinstance(gamma, bool) or not np.isfinite(gamma) or gamma < 0:
        raise ValueError(f"gamma must be a finite number >= 0; got {gamma!r}.")
    return float(gamma)


def _binary_focal(input, target, gamma):
    """``|t - p| ** gamma * BCE(logit, t)`` per sample (``gamma = 0`` is the plain BCE)."""
    bce = F.binary_cross_entropy_with_logits(input, target, reduction="none")
    if gamma == 0:
        return bce
    p = torch.sigmoid(input)
    return (target - p).abs().pow(gamma) * bce


def _multiclass_focal(input, target, gamma):
    """``(1 - p_t) ** gamma * (-log p_t)`` per sample, ``p_t`` the softmax of the true class."""
    logp_t = F.log_softmax(input, dim=1).gather(1, target[:, None]).squeeze(1)
    if gamma == 0:
        return -logp_t
    return -(1 - logp_t.exp()).clamp_min(0).pow(gamma) * logp_t


class WeightedBCELoss(WeightedLoss):
    r"""Binary cross-entropy on logits with per-class and per-sample weights.

    .. math::

        \ell_i = -w_{y_i} s_i \left[ y_i \log \sigma(z_i) + (1 - y_i) \log(1 - \sigma(z_i))
        \right], \qquad L = \frac{1}{n} \sum_i \ell_i

    with ``w = class_weight`` (``[w_0, w_1]``) and ``s`` the sample weights. ``class_weight=[1,
    p]`` equals :func:`torch.nn.functional.binary_cross_entropy_with_logits` with
    ``pos_weight=p``; no weights at all is the plain BCE.

    Parameters
    ----------
    class_weight : sequence of 2 floats or None, default=None
        ``[w_negative, w_positive]``.
    reduction : {"mean", "sum", "none"}, default="mean"
        How per-sample losses are combined (``"mean"`` divides by ``n``).

    Examples
    --------
    >>> import torch
    >>> from sklearn_recsys.losses import WeightedBCELoss
    >>> loss = WeightedBCELoss(class_weight=[1.0, 4.0])
    >>> logits, y = torch.tensor([0.0, 0.0]), torch.tensor([0.0, 1.0])
    >>> round(float(loss(logits, y)), 4)  # (log 2 + 4 log 2) / 2
    1.7329
    """

    def _per_sample(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, reduction="none")


class WeightedCrossEntropyLoss(WeightedLoss):
    r"""Multiclass cross-entropy on logits with per-class and per-sample weights.

    .. math::

        \ell_i = -w_{y_i} s_i \log \operatorname{softmax}(z_i)_{y_i}, \qquad
        L = \frac{1}{n} \sum_i \ell_i

    Note that ``"mean"`` divides by ``n``: it equals
    ``F.cross_entropy(z, y, weight=w, reduction="sum") / n`` (torch's own ``"mean"`` divides by
    ``sum_i w_{y_i}`` instead, which makes sample weights and class weights interact).

    Parameters
    ----------
    class_weight : sequence of float or None, default=None
        One weight per class.
    reduction : {"mean", "sum", "none"}, default="mean"
        How per-sample losses are combined.

    Examples
    --------
    >>> import torch
    >>> from sklearn_recsys.losses import WeightedCrossEntropyLoss
    >>> loss = WeightedCrossEntropyLoss(class_weight=[1.0, 2.0, 1.0])
    >>> logits, y = torch.zeros(2, 3), torch.tensor([0, 1])
    >>> round(float(loss(logits, y)), 4)  # (log 3 + 2 log 3) / 2
    1.6479
    """

    def _binary(self):
        return False

    def _per_sample(self, input, target):
        return F.cross_entropy(input, target, reduction="none")


class FocalLoss(WeightedLoss):
    r"""Binary focal loss on logits (Lin et al., 2017).

    .. math::

        p_t = \begin{cases} \sigma(z) & y = 1 \\ 1 - \sigma(z) & y = 0 \end{cases}, \qquad
        \ell = -\alpha_t \, w_y \, s \, (1 - p_t)^{\gamma} \log p_t

    with :math:`\alpha_t = \alpha` for positives and :math:`1 - \alpha` for negatives (no
    :math:`\alpha_t` factor when ``alpha=None``). ``gamma=0`` and ``alpha=None`` give the plain
    binary cross-entropy. The factor :math:`(1 - p_t)^\gamma` is computed as :math:`|y -
    \sigma(z)|^\gamma`, which also accepts soft targets.

    Parameters
    ----------
    gamma : float, default=2.0
        Focusing parameter: how strongly well-classified samples are down-weighted.
    alpha : float in [0, 1] or None, default=None
        Weight of the positive class (``1 - alpha`` for the negatives).
    class_weight : sequence of 2 floats or None, default=None
        ``[w_negative, w_positive]``, multiplied on top of ``alpha``.
    reduction : {"mean", "sum", "none"}, default="mean"
        How per-sample losses are combined (``"mean"`` divides by ``n``).

    Examples
    --------
    >>> import torch
    >>> from sklearn_recsys.losses import FocalLoss
    >>> logits, y = torch.tensor([2.0, -1.0]), torch.tensor([1.0, 1.0])
    >>> bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, y)
    >>> bool(torch.isclose(FocalLoss(gamma=0.0)(logits, y), bce))
    True
    >>> bool(FocalLoss(gamma=2.0)(logits, y) < bce)  # easy samples are down-weighted
    True
    """

    def __init__(self, gamma=2.0, alpha=None, class_weight=None, reduction="mean"):
        super().__init__(class_weight=class_weight, reduction=reduction)
        self.gamma = _check_gamma(gamma)
        if alpha is not None and (isinstance(alpha, bool) or not 0 <= alpha <= 1):
            raise ValueError(f"alpha must be None or a number in [0, 1]; got {alpha!r}.")
        self.alpha = None if alpha is None else float(alpha)

    def _per_sample(self, input, target):
        loss = _binary_focal(input, target, self.gamma)
        if self.alpha is not None:
            loss = loss * (target * self.alpha + (1 - target) * (1 - self.alpha))
        return loss


class MulticlassFocalLoss(WeightedLoss):
    r"""Multiclass focal loss on logits.

    .. math::

        p_t = \operatorname{softmax}(z)_{y}, \qquad
        \ell = -w_y \, s \, (1 - p_t)^{\gamma} \log p_t

    ``class_weight`` plays the role of the per-class :math:`\alpha`. ``gamma=0`` is the
    (weighted) cross-entropy.

    Parameters
    ----------
    gamma : float, default=2.0
        Focusing parameter.
    class_weight : sequence of float or None, default=None
        One weight per class (the :math:`\alpha` of Lin et al.).
    reduction : {"mean", "sum", "none"}, default="mean"
        How per-sample losses are combined (``"mean"`` divides by ``n``).

    Examples
    --------
    >>> import torch
    >>> from sklearn_recsys.losses import MulticlassFocalLoss
    >>> logits, y = torch.tensor([[2.0, 0.0, 0.0]]), torch.tensor([0])
    >>> ce = torch.nn.functional.cross_entropy(logits, y)
    >>> bool(torch.isclose(MulticlassFocalLoss(gamma=0.0)(logits, y), ce))
    True
    """

    def __init__(self, gamma=2.0, class_weight=None, reduction="mean"):
        super().__init__(class_weight=class_weight, reduction=reduction)
        self.gamma = _check_gamma(gamma)

    def _binary(self):
        return False

    def _per_sample(self, input, target):
        return _multiclass_focal(input, target, self.gamma)


def class_balanced_weights(samples_per_class, beta=0.999):
    r"""Class weights from the effective number of samples (Cui et al., 2019).

    .. math::

        E_{n_c} = \frac{1 - \beta^{n_c}}{1 - \beta}, \qquad
        w_c = \frac{C \, / E_{n_c}}{\sum_k 1 / E_{n_k}}

    so that the weights sum to the number of classes ``C``. ``beta=0`` gives equal weights;
    ``beta -> 1`` approaches inverse class frequency.

    Parameters
    ----------
    samples_per_class : sequence of int
        Number of training samples of each class (each >= 1).
    beta : float in [0, 1), default=0.999
        Hyper-parameter of the effective number.

    Returns
    -------
    weights : ndarray of shape (n_classes,)

    Examples
    --------
    >>> from sklearn_recsys.losses import class_balanced_weights
    >>> class_balanced_weights([980, 20], beta=0.999).round(3)
    array([0.061, 1.939])
    >>> class_balanced_weights([980, 20], beta=0.0)
    array([1., 1.])
    """
    counts = np.asarray(samples_per_class, dtype=np.float64)
    if counts.ndim != 1 or counts.size < 2:
        raise ValueError(
            f"samples_per_class must list the counts of at least 2 classes; got "
            f"{samples_per_class!r}."
        )
    if not np.all(np.isfinite(counts)) or np.any(counts < 1):
        raise ValueError(f"samples_per_class must be >= 1 for every class; got {counts.tolist()}.")
    if isinstance(beta, bool) or not 0 <= beta < 1:
        raise ValueError(f"beta must be a number in [0, 1); got {beta!r}.")
    effective = -np.expm1(counts * np.log(beta)) / (1 - beta) if beta > 0 else np.ones_like(counts)
    inv = 1.0 / effective
    return inv * counts.size / inv.sum()


class ClassBalancedLoss(WeightedLoss):
    r"""Class-balanced loss: class weights from the effective number of samples.

    Each sample of class ``c`` is weighted by :math:`w_c` of :func:`class_balanced_weights`,
    applied to a (focal, when ``gamma > 0``) binary cross-entropy for logits of shape (n,) or
    a softmax cross-entropy for logits of shape (n, n_classes) (Cui et al., 2019):

    .. math::

        \ell_i = w^{CB}_{y_i} \, w_{y_i} \, s_i \, \mathrm{FL}_\gamma(z_i, y_i)

    Parameters
    ----------
    samples_per_class : sequence of int
        Training samples of each class; two entries for binary targets.
    beta : float in [0, 1), default=0.999
        Effective-number hyper-parameter.
    gamma : float, default=0.0
        Focal parameter of the base loss (0: cross-entropy).
    class_weight : sequence of float or None, default=None
        Extra class weights multiplied with the class-balanced ones (e.g. dynamic weights).
    reduction : {"mean", "sum", "none"}, default="mean"
        How per-sample losses are combined (``"mean"`` divides by ``n``).

    Attributes
    ----------
    cb_weight : torch.Tensor
        The class-balanced weights :math:`w^{CB}` (a buffer).

    Examples
    --------
    >>> import torch
    >>> from sklearn_recsys.losses import ClassBalancedLoss
    >>> loss = ClassBalancedLoss([90, 10], beta=0.99)
    >>> loss.cb_weight
    tensor([0.2768, 1.7232])
    >>> logits, y = torch.zeros(2), torch.tensor([0.0, 1.0])
    >>> round(float(loss(logits, y)), 4)  # (0.2768 + 1.7232) log 2 / 2
    0.6931
    """

    def __init__(
        self, samples_per_class, beta=0.999, gamma=0.0, class_weight=None, reduction="mean"
    ):
        super().__init__(class_weight=class_weight, reduction=reduction)
        self.beta = beta
        self.gamma = _check_gamma(gamma)
        self.register_buffer(
            "cb_weight",
            _as_weight_tensor(class_balanced_weights(samples_per_class, beta), "cb_weight"),
        )
        self._is_binary = len(samples_per_class) == 2

    def _binary(self):
        return self._is_binary

    def _sample_class_weight(self, target, class_weight):
        weight = (
            self.cb_weight
            if class_weight is None
            else self.cb_weight * class_weight.to(self.cb_weight.device)
        )
        return super()._sample_class_weight(target, weight)

    def forward(self, input, target, sample_weight=None):
        """Class-balanced loss; logits of shape (n,) / (n, 1) are binary, (n, C) multiclass."""
        n_classes = self.cb_weight.numel()
        binary_input = input.dim() == 1 or (input.dim() == 2 and input.shape[1] == 1)
        if binary_input and n_classes != 2:
            raise ValueError(
                f"binary logits need samples_per_class for 2 classes; got {n_classes}."
            )
        if not binary_input and input.shape[-1] != n_classes:
            raise ValueError(
                f"logits have {input.shape[-1]} columns for {n_classes} classes in "
                "samples_per_class."
            )
        self._is_binary = binary_input
        return super().forward(input, target, sample_weight)

    def _per_sample(self, input, target):
        if self._is_binary:
            return _binary_focal(input, target, self.gamma)
        return _multiclass_focal(input, target, self.gamma)
