import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_recsys.losses import (
    ClassBalancedLoss,
    FocalLoss,
    MulticlassFocalLoss,
    WeightedBCELoss,
    WeightedCrossEntropyLoss,
    class_balanced_weights,
)

torch.set_default_dtype(torch.float32)


@pytest.fixture
def binary_batch():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(64, generator=g) * 2
    target = (torch.rand(64, generator=g) < 0.3).float()
    return logits, target


@pytest.fixture
def multiclass_batch():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(50, 4, generator=g) * 2
    target = torch.randint(0, 4, (50,), generator=g)
    return logits, target


# --- agreement with torch.nn.functional ------------------------------------------------------
def test_weighted_bce_without_weights_is_bce(binary_batch):
    logits, y = binary_batch
    expected = F.binary_cross_entropy_with_logits(logits, y)
    torch.testing.assert_close(WeightedBCELoss()(logits, y), expected)


def test_weighted_bce_positive_weight_is_torch_pos_weight(binary_batch):
    logits, y = binary_batch
    expected = F.binary_cross_entropy_with_logits(logits, y, pos_weight=torch.tensor(7.0))
    torch.testing.assert_close(WeightedBCELoss(class_weight=[1.0, 7.0])(logits, y), expected)


def test_weighted_cross_entropy_matches_torch_sum_over_n(multiclass_batch):
    logits, y = multiclass_batch
    w = torch.tensor([1.0, 2.0, 0.5, 3.0])
    expected = F.cross_entropy(logits, y, weight=w, reduction="sum") / len(y)
    torch.testing.assert_close(WeightedCrossEntropyLoss(class_weight=w)(logits, y), expected)
    torch.testing.assert_close(WeightedCrossEntropyLoss()(logits, y), F.cross_entropy(logits, y))


def test_focal_gamma_zero_is_bce(binary_batch):
    logits, y = binary_batch
    torch.testing.assert_close(
        FocalLoss(gamma=0.0)(logits, y), F.binary_cross_entropy_with_logits(logits, y)
    )


def test_multiclass_focal_gamma_zero_is_cross_entropy(multiclass_batch):
    logits, y = multiclass_batch
    torch.testing.assert_close(
        MulticlassFocalLoss(gamma=0.0)(logits, y), F.cross_entropy(logits, y)
    )


def test_class_balanced_beta_zero_is_plain_loss(binary_batch, multiclass_batch):
    logits, y = binary_batch
    torch.testing.assert_close(
        ClassBalancedLoss([50, 14], beta=0.0)(logits, y),
        F.binary_cross_entropy_with_logits(logits, y),
    )
    logits, y = multiclass_batch
    torch.testing.assert_close(
        ClassBalancedLoss([10, 20, 5, 15], beta=0.0)(logits, y), F.cross_entropy(logits, y)
    )


# --- closed forms -----------------------------------------------------------------------------
def test_binary_focal_closed_form():
    # z = 0 -> p = 0.5; gamma = 2: (1 - 0.5)^2 * log 2; alpha = 0.25 for the positive
    loss = FocalLoss(gamma=2.0, alpha=0.25, reduction="none")
    out = loss(torch.tensor([0.0, 0.0]), torch.tensor([1.0, 0.0]))
    expected = torch.tensor([0.25 * 0.25 * math.log(2), 0.75 * 0.25 * math.log(2)])
    torch.testing.assert_close(out, expected)
    # z = log 3 -> p = 0.75 for a positive: (0.25)^2 * -log 0.75
    out = FocalLoss(gamma=2.0)(torch.tensor([math.log(3.0)]), torch.tensor([1.0]))
    assert out.item() == pytest.approx(0.0625 * -math.log(0.75), rel=1e-6)


def test_multiclass_focal_closed_form():
    logits = torch.tensor([[math.log(2.0), 0.0, 0.0]])  # softmax = [0.5, 0.25, 0.25]
    out = MulticlassFocalLoss(gamma=1.0, class_weight=[2.0, 1.0, 1.0])(logits, torch.tensor([0]))
    assert out.item() == pytest.approx(2.0 * 0.5 * math.log(2.0), rel=1e-6)
    out = MulticlassFocalLoss(gamma=3.0)(logits, torch.tensor([1]))
    assert out.item() == pytest.approx(0.75**3 * math.log(4.0), rel=1e-6)


def test_class_balanced_weights_closed_form():
    beta, n = 0.99, np.array([90, 10])
    inv = (1 - beta) / (1 - beta**n)
    np.testing.assert_allclose(class_balanced_weights(n, beta), 2 * inv / inv.sum())
    # beta -> 1 approaches inverse frequency
    w = class_balanced_weights([900, 100], beta=1 - 1e-9)
    np.testing.assert_allclose(w / w[0], [1.0, 9.0], rtol=1e-4)


def test_class_balanced_loss_uses_the_weights(binary_batch):
    logits, y = binary_batch
    cb = ClassBalancedLoss([50, 14], beta=0.99)
    w = cb.cb_weight
    expected = WeightedBCELoss(class_weight=w)(logits, y)
    torch.testing.assert_close(cb(logits, y), expected)
    focal = ClassBalancedLoss([50, 14], beta=0.99, gamma=2.0)
    torch.testing.assert_close(focal(logits, y), FocalLoss(gamma=2.0, class_weight=w)(logits, y))


# --- sample weights, reductions ---------------------------------------------------------------
LOSSES = [
    ("binary", lambda: WeightedBCELoss(class_weight=[1.0, 3.0])),
    ("binary", lambda: FocalLoss(gamma=2.0, alpha=0.25)),
    ("binary", lambda: ClassBalancedLoss([50, 14], beta=0.999, gamma=1.0)),
    ("multiclass", lambda: WeightedCrossEntropyLoss(class_weight=[1.0, 2.0, 1.0, 0.5])),
    ("multiclass", lambda: MulticlassFocalLoss(gamma=2.0)),
    ("multiclass", lambda: ClassBalancedLoss([10, 20, 5, 15])),
]


@pytest.mark.parametrize("kind, make", LOSSES)
def test_every_loss_honours_sample_weight(kind, make, binary_batch, multiclass_batch):
    loss = make()
    logits, y = binary_batch if kind == "binary" else multiclass_batch
    sw = torch.linspace(0.0, 2.0, len(y))
    loss.reduction = "none"
    unweighted = loss(logits, y)
    loss.reduction = "mean"
    torch.testing.assert_close(loss(logits, y, sample_weight=sw), (unweighted * sw).mean())
    # zero weight removes a sample's gradient entirely
    x = logits.clone().requires_grad_(True)
    sw0 = torch.ones(len(y))
    sw0[0] = 0.0
    loss(x, y, sample_weight=sw0).backward()
    assert torch.all(x.grad[0] == 0)
    assert torch.any(x.grad[1:] != 0)


def test_reductions(binary_batch):
    logits, y = binary_batch
    none = FocalLoss(reduction="none")(logits, y)
    assert none.shape == (64,)
    torch.testing.assert_close(FocalLoss(reduction="sum")(logits, y), none.sum())
    torch.testing.assert_close(FocalLoss(reduction="mean")(logits, y), none.mean())


def test_set_class_weight_replaces_buffer(binary_batch):
    logits, y = binary_batch
    loss = WeightedBCELoss()
    loss.set_class_weight([1.0, 5.0])
    torch.testing.assert_close(loss(logits, y), WeightedBCELoss(class_weight=[1, 5])(logits, y))
    assert "class_weight" in dict(loss.named_buffers())


def test_logits_of_shape_n_by_1_are_accepted(binary_batch):
    logits, y = binary_batch
    torch.testing.assert_close(FocalLoss()(logits[:, None], y), FocalLoss()(logits, y))


# --- bad input --------------------------------------------------------------------------------
def test_bad_parameters():
    with pytest.raises(ValueError, match="gamma"):
        FocalLoss(gamma=-1)
    with pytest.raises(ValueError, match="alpha"):
        FocalLoss(alpha=1.5)
    with pytest.raises(ValueError, match="reduction"):
        WeightedBCELoss(reduction="avg")
    with pytest.raises(ValueError, match="class_weight"):
        WeightedBCELoss(class_weight=[1.0, -2.0])
    with pytest.raises(ValueError, match="samples_per_class"):
        class_balanced_weights([10, 0])
    with pytest.raises(ValueError, match="beta"):
        class_balanced_weights([10, 5], beta=1.0)


def test_bad_shapes(binary_batch, multiclass_batch):
    logits, y = multiclass_batch
    with pytest.raises(ValueError, match=r"shape \(n,\)"):
        FocalLoss()(logits, y.float())
    with pytest.raises(ValueError, match="2 weights"):
        WeightedBCELoss(class_weight=[1.0, 2.0, 3.0])(*binary_batch)
    with pytest.raises(ValueError, match="sample_weight has 3 values"):
        FocalLoss()(*binary_batch, sample_weight=torch.ones(3))
    with pytest.raises(ValueError, match="2 classes"):
        ClassBalancedLoss([10, 20, 5])(*binary_batch)


# --- properties -------------------------------------------------------------------------------
@settings(max_examples=50, deadline=None)
@given(
    z=st.floats(-20, 20),
    y=st.sampled_from([0.0, 1.0]),
    gamma=st.floats(0.0, 5.0),
)
def test_focal_is_nonnegative_and_below_bce(z, y, gamma):
    logits, target = torch.tensor([z]), torch.tensor([y])
    focal = FocalLoss(gamma=gamma)(logits, target).item()
    bce = F.binary_cross_entropy_with_logits(logits, target).item()
    assert 0.0 <= focal <= bce + 1e-6


@settings(max_examples=30, deadline=None)
@given(
    counts=st.lists(st.integers(1, 10_000), min_size=2, max_size=6),
    beta=st.floats(0.0, 0.9999),
)
def test_class_balanced_weights_sum_to_n_classes_and_favour_rare(counts, beta):
    w = class_balanced_weights(counts, beta)
    assert w.sum() == pytest.approx(len(counts))
    order = np.argsort(counts, kind="stable")
    assert np.all(np.diff(w[order]) <= 1e-9)  # fewer samples -> weight at least as large
