import numpy as np
import pytest
import torch
from skorch.history import History

from sklearn_recsys.losses import FocalLoss, WeightedBCELoss, WeightedCrossEntropyLoss
from sklearn_recsys.neural import (
    DynamicClassWeight,
    NeuralClassifier,
    epoch_scoring_callbacks,
    make_balanced_sampler,
    valid_gmean,
    valid_pr_auc,
    valid_roc_auc,
)


class _FakeNet:
    """The parts of a skorch net that DynamicClassWeight touches."""

    def __init__(self, criterion):
        self.criterion_ = criterion
        self.history = History()
        self.history.new_epoch()


def _run_epoch(cb, net, y, logits):
    cb.on_epoch_begin(net)
    half = len(y) // 2
    for sl in (slice(0, half), slice(half, None)):  # two validation batches
        cb.on_batch_end(
            net,
            batch=(None, torch.as_tensor(y[sl])),
            training=False,
            y_pred=torch.as_tensor(logits[sl]),
        )
    cb.on_batch_end(net, batch=(None, torch.ones(3)), training=True, y_pred=torch.ones(3))
    cb.on_epoch_end(net)


def test_dynamic_weight_moves_towards_the_poorly_recalled_class():
    y = np.array([0] * 90 + [1] * 10, dtype=np.float32)
    logits = np.full(100, -3.0, dtype=np.float32)  # predicts everything negative
    logits[90:92] = 3.0  # recall: negatives 1.0, positives 0.2
    net = _FakeNet(WeightedBCELoss(class_weight=[1.0, 2.0]))
    cb = DynamicClassWeight(momentum=0.5, eps=0.05, max_weight=10.0, min_weight=0.1).initialize()
    _run_epoch(cb, net, y, logits)
    target = np.array([1 / 1.05, 1 / 0.25])
    target /= target.mean()
    expected_factor = 0.5 + 0.5 * target
    np.testing.assert_allclose(cb.factor_, expected_factor)
    np.testing.assert_allclose(
        net.criterion_.class_weight.numpy(), [1.0, 2.0] * expected_factor, rtol=1e-6
    )
    np.testing.assert_allclose(net.history[-1, "valid_recall"], [1.0, 0.2])
    np.testing.assert_allclose(net.history[-1, "class_weight"], [1.0, 2.0] * expected_factor)
    # the rare class keeps gaining weight while it stays poorly recalled, up to the bound
    for _ in range(30):
        net.history.new_epoch()
        _run_epoch(cb, net, y, logits)
    assert cb.factor_[1] > expected_factor[1]
    assert cb.factor_[1] <= 10.0 and cb.factor_[0] >= 0.1
    # and loses it once it is recalled better than the other class
    logits[90:] = 3.0
    logits[:45] = 3.0  # negatives recall 0.5, positives 1.0
    before = cb.factor_.copy()
    net.history.new_epoch()
    _run_epoch(cb, net, y, logits)
    assert cb.factor_[1] / cb.factor_[0] < before[1] / before[0]


def test_dynamic_weight_multiclass_and_absent_class():
    y = np.array([0] * 6 + [1] * 4, dtype=np.int64)  # class 2 absent from validation
    logits = np.zeros((10, 3), dtype=np.float32)
    logits[:, 0] = 1.0  # predicts class 0 always
    net = _FakeNet(WeightedCrossEntropyLoss())
    cb = DynamicClassWeight(momentum=1.0).initialize()
    _run_epoch(cb, net, y, logits)
    recall = net.history[-1, "valid_recall"]
    assert recall[:2] == [1.0, 0.0] and np.isnan(recall[2])
    assert cb.factor_[1] > cb.factor_[0]
    assert cb.factor_[2] == 1.0  # unchanged


def test_dynamic_weight_errors():
    net = _FakeNet(torch.nn.BCEWithLogitsLoss())
    cb = DynamicClassWeight().initialize()
    with pytest.raises(ValueError, match="validation set"):
        cb.on_epoch_end(net)
    _run = (None, torch.zeros(4))
    cb.on_batch_end(net, batch=_run, training=False, y_pred=torch.zeros(4))
    with pytest.raises(TypeError, match="sklearn_recsys.losses"):
        cb.on_epoch_end(net)
    with pytest.raises(ValueError, match="momentum"):
        DynamicClassWeight(momentum=0).initialize()
    with pytest.raises(ValueError, match="min_weight"):
        DynamicClassWeight(min_weight=2.0).initialize()


def test_dynamic_weight_inside_neural_ranker(rare_interactions):
    X, y = rare_interactions
    model = NeuralClassifier(
        loss="focal", dynamic_class_weight=True, max_epochs=3, early_stopping=False, random_state=0
    ).fit(X, y)
    weights = np.array(model.history_[:, "class_weight"])
    recalls = np.array(model.history_[:, "valid_recall"])
    assert weights.shape == (3, 2)
    # the rare positives start out unrecalled, so they are weighted up first
    assert recalls[0, 1] < recalls[0, 0]
    assert weights[0, 1] > weights[0, 0]
    assert np.all(weights <= 10.0) and np.all(weights >= 0.1)
    assert isinstance(model.net_.criterion_, FocalLoss)
    np.testing.assert_allclose(model.net_.criterion_.class_weight.numpy(), weights[-1], rtol=1e-6)
    with pytest.raises(ValueError, match="dynamic_class_weight=True needs a validation set"):
        NeuralClassifier(
            dynamic_class_weight=True, early_stopping=False, validation_fraction=None
        ).fit(X, y)


class _ProbaNet:
    def __init__(self, proba):
        self.proba = np.asarray(proba)

    def predict_proba(self, X):
        return self.proba


def test_whole_validation_scores_match_sklearn():
    from imblearn.metrics import geometric_mean_score
    from sklearn.metrics import average_precision_score, roc_auc_score

    rng = np.random.default_rng(0)
    y = (rng.random(200) < 0.1).astype(int)
    p = np.clip(0.3 * y + rng.random(200) * 0.7, 0, 1)
    net = _ProbaNet(np.column_stack([1 - p, p]))
    assert valid_roc_auc(net, None, y) == pytest.approx(roc_auc_score(y, p))
    assert valid_pr_auc(net, None, y) == pytest.approx(average_precision_score(y, p))
    assert valid_gmean(net, None, y) == pytest.approx(geometric_mean_score(y, p > 0.5))
    # multi-task targets: the main task is column 0
    y2 = np.column_stack([y, rng.random(200)])
    assert valid_roc_auc(net, None, y2) == pytest.approx(roc_auc_score(y, p))
    # one class only: NaN rather than the crash of sklearn's scorer
    assert np.isnan(valid_roc_auc(net, None, np.zeros(200)))
    assert np.isnan(valid_pr_auc(net, None, np.zeros(200)))
    assert np.isnan(valid_gmean(net, None, np.zeros(200)))


def test_multiclass_scores_are_one_vs_rest_means():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 300)
    proba = rng.dirichlet(np.ones(3), 300)
    proba[np.arange(300), y] += 0.3
    proba /= proba.sum(1, keepdims=True)
    expected = roc_auc_score(y, proba, multi_class="ovr", average="macro")
    assert valid_roc_auc(_ProbaNet(proba), None, y) == pytest.approx(expected)


def test_epoch_scores_are_recorded_per_epoch_on_the_whole_validation_set(rare_interactions):
    X, y = rare_interactions
    model = NeuralClassifier(
        max_epochs=2, batch_size=64, random_state=0, early_stopping=False, validation_fraction=0.2
    ).fit(X, y)
    for name in ("valid_roc_auc", "valid_pr_auc", "valid_gmean"):
        scores = model.history_[:, name]
        assert len(scores) == 2 and all(0 <= s <= 1 for s in scores)
    # 400 validation rows in 64-row batches: many batches without a positive; still scored
    assert model.history_[-1, "valid_roc_auc"] > 0.5
    assert [n for n, _ in epoch_scoring_callbacks(["pr_auc"])] == ["valid_pr_auc"]
    with pytest.raises(ValueError, match="metrics"):
        epoch_scoring_callbacks(["accuracy"])


def test_balanced_sampler_balances_classes():
    y = np.array([0] * 980 + [1] * 20)
    sampler = make_balanced_sampler(y, generator=torch.Generator().manual_seed(0))
    drawn = y[np.fromiter(iter(sampler), dtype=int)]
    assert len(drawn) == 1000
    assert 0.42 < drawn.mean() < 0.58
