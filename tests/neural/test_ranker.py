import pickle

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_recsys.losses import ClassBalancedLoss, FocalLoss, WeightedBCELoss
from sklearn_recsys.neural import NeuralRanker

FAST = dict(max_epochs=3, lr=0.01, random_state=0)


@pytest.mark.parametrize("architecture", ["mlp", "wide_deep", "deepfm", "two_tower"])
def test_each_architecture_learns(interactions, architecture):
    X, y = interactions
    model = NeuralRanker(architecture, **FAST).fit(X, y)
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert roc_auc_score(y, proba[:, 1]) > 0.7  # 0.5 would be an untrained net
    assert model.history_[-1, "valid_roc_auc"] > 0.65
    assert type(model.net_.module_).__name__ == "RankerModule"
    assert model.net_.module_.architecture == architecture


@pytest.mark.parametrize(
    "loss, criterion",
    [("bce", WeightedBCELoss), ("weighted", WeightedBCELoss), ("focal", FocalLoss),
     ("class_balanced", ClassBalancedLoss)],
)
def test_each_loss_trains_with_its_criterion(interactions, loss, criterion):
    X, y = interactions
    model = NeuralRanker(loss=loss, **FAST).fit(X, y)
    assert isinstance(model.net_.criterion_, criterion)
    assert roc_auc_score(y, model.predict_proba(X)[:, 1]) > 0.7
    cw = model.net_.criterion_.class_weight
    if loss == "weighted":  # class_weight=None means "balanced" for this loss
        n, pos = len(y), y.sum()
        np.testing.assert_allclose(cw.numpy(), [n / (2 * (n - pos)), n / (2 * pos)], rtol=1e-5)
    elif loss == "bce":
        assert cw is None


def test_focal_parameters_reach_the_criterion(interactions):
    X, y = interactions
    model = NeuralRanker(loss="focal", focal_gamma=1.5, focal_alpha=0.3, max_epochs=1,
                         random_state=0).fit(X, y)
    assert model.net_.criterion_.gamma == 1.5
    assert model.net_.criterion_.alpha == 0.3


def test_class_weight_moves_the_decision_boundary(rare_interactions):
    X, y = rare_interactions
    plain = NeuralRanker(early_stopping=False, **FAST).fit(X, y)
    weighted = NeuralRanker(class_weight={0: 1.0, 1: 15.0}, early_stopping=False,
                            **FAST).fit(X, y)
    p_plain, p_weighted = plain.predict_proba(X)[:, 1], weighted.predict_proba(X)[:, 1]
    assert p_weighted.mean() > 2 * p_plain.mean()
    assert weighted.predict(X).sum() > plain.predict(X).sum() + 50


def test_sample_weight_equals_the_same_class_weight(rare_interactions):
    X, y = rare_interactions
    by_class = NeuralRanker(class_weight={0: 1.0, 1: 8.0}, **FAST).fit(X, y)
    by_row = NeuralRanker(**FAST).fit(X, y, sample_weight=np.where(y == 1, 8.0, 1.0))
    np.testing.assert_allclose(by_row.predict_proba(X), by_class.predict_proba(X), rtol=1e-6)
    unweighted = NeuralRanker(**FAST).fit(X, y)
    assert not np.allclose(unweighted.predict_proba(X), by_row.predict_proba(X))


@pytest.mark.parametrize("loss", ["focal", "class_balanced"])
def test_sample_weight_is_honoured_by_every_loss(interactions, loss):
    X, y = interactions
    ones = NeuralRanker(loss=loss, **FAST).fit(X, y, sample_weight=np.ones(len(y)))
    none = NeuralRanker(loss=loss, **FAST).fit(X, y)
    np.testing.assert_array_equal(ones.predict_proba(X), none.predict_proba(X))
    up = NeuralRanker(loss=loss, **FAST).fit(X, y, sample_weight=np.where(y == 1, 10.0, 1.0))
    assert up.predict_proba(X)[:, 1].mean() > none.predict_proba(X)[:, 1].mean()


def test_cold_start_ids_use_the_unknown_embedding(interactions):
    X, y = interactions
    model = NeuralRanker(**FAST).fit(X, y)
    cold = X.head(5).copy()
    cold["user_id"] = [10_001, 10_002, 10_003, 10_004, 10_005]
    other = cold.assign(user_id=[-1, -2, -3, -4, -5], item_id=cold["item_id"])
    p_cold, p_other = model.predict_proba(cold), model.predict_proba(other)
    assert np.all(np.isfinite(p_cold))
    np.testing.assert_array_equal(p_cold, p_other)  # every unseen user is index 0
    assert not np.allclose(p_cold, model.predict_proba(X.head(5)))
    unknown_item = cold.assign(item_id=99_999, category="never-seen")
    assert np.all(np.isfinite(model.predict_proba(unknown_item)))


def test_deterministic_and_leaves_global_rng_alone(interactions):
    X, y = interactions
    state = torch.random.get_rng_state()
    a = NeuralRanker(dropout=0.3, balanced_batches=True, **FAST).fit(X, y)
    assert torch.equal(state, torch.random.get_rng_state())
    b = NeuralRanker(dropout=0.3, balanced_batches=True, **FAST).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    np.testing.assert_array_equal(a.predict_proba(X), a.predict_proba(X))
    c = NeuralRanker(dropout=0.3, balanced_batches=True, **{**FAST, "random_state": 1}).fit(X, y)
    assert not np.allclose(a.predict_proba(X), c.predict_proba(X))


def test_pickle_round_trip(interactions):
    X, y = interactions
    model = NeuralRanker("deepfm", **FAST).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    assert restored.net_.train_split is None  # the validation data is not carried along


def test_numeric_array_input_is_all_dense():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 5))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    model = NeuralRanker(architecture="deepfm", **FAST).fit(X, y)
    assert model.encoder_.cardinalities_ == []
    assert model.encoder_.n_dense_ == 5
    assert (model.predict(X) == y).mean() > 0.9


def test_multiclass_with_string_labels(interactions):
    X, _ = interactions
    y = X["category"].astype(str).to_numpy()
    X = X.drop(columns=["category"])
    model = NeuralRanker(max_epochs=4, lr=0.03, random_state=0).fit(X, y)
    assert list(model.classes_) == sorted(set(y))
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), len(model.classes_))
    assert (model.predict(X) == y).mean() > 0.6  # the item id determines the category
    with pytest.raises(ValueError, match="focal_alpha"):
        NeuralRanker(loss="focal", focal_alpha=0.25, max_epochs=1).fit(X, y)
    focal = NeuralRanker(loss="focal", class_weight="balanced", max_epochs=1).fit(X, y)
    assert focal.net_.criterion_.class_weight.shape == (len(model.classes_),)


def test_numeric_columns_are_scaled_and_categories_embedded(interactions):
    X, y = interactions
    model = NeuralRanker(max_epochs=1, random_state=0).fit(X, y)
    enc = model.encoder_
    assert enc.numeric_cols_ == ["price", "position"]
    assert enc.categorical_cols_ == ["category"]
    assert enc.cardinalities_ == [X["user_id"].nunique() + 1, X["item_id"].nunique() + 1,
                                  X["category"].nunique() + 1]
    dense = enc.transform(X)["dense"]
    np.testing.assert_allclose(dense.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(dense.std(axis=0), 1.0, atol=1e-4)


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd", "adagrad", "rmsprop"])
def test_optimizers(interactions, optimizer):
    X, y = interactions
    model = NeuralRanker(optimizer=optimizer, max_epochs=1, weight_decay=1e-4,
                         random_state=0).fit(X, y)
    assert type(model.net_.optimizer_).__name__.lower() == optimizer
    assert model.net_.optimizer_.param_groups[0]["weight_decay"] == 1e-4


@pytest.mark.parametrize("schedule", ["cosine", "exponential", "plateau"])
def test_lr_schedules_change_the_learning_rate(interactions, schedule):
    X, y = interactions
    model = NeuralRanker(lr_schedule=schedule, lr_decay=0.5, n_iter_no_change=2,
                         early_stopping=False, max_epochs=4, random_state=0,
                         monitor="valid_roc_auc" if schedule == "plateau" else "valid_loss")
    model.fit(X, y)
    lr_now = model.net_.optimizer_.param_groups[0]["lr"]
    if schedule == "plateau":
        assert lr_now <= model.lr
    else:
        assert lr_now < model.lr


def test_l1_penalty_shrinks_weights(interactions):
    X, y = interactions
    plain = NeuralRanker(**FAST).fit(X, y)
    sparse = NeuralRanker(l1_penalty=1e-3, **FAST).fit(X, y)

    def l1(m):
        return sum(p.abs().sum().item() for p in m.net_.module_.parameters() if p.dim() > 1)

    assert l1(sparse) < 0.8 * l1(plain)


def test_early_stopping_ends_sooner_and_restores_best(interactions):
    X, y = interactions
    model = NeuralRanker(lr=0.1, max_epochs=30, n_iter_no_change=2, random_state=0).fit(X, y)
    assert model.n_epochs_ < 30
    losses = model.history_[:, "valid_loss"]
    # the restored weights are those of the best epoch
    best = int(np.argmin(losses))
    assert model.history_[best, "valid_loss_best"]


def test_balanced_batches_draw_positives_equally(rare_interactions):
    X, y = rare_interactions
    model = NeuralRanker(balanced_batches=True, max_epochs=1, random_state=0).fit(X, y)
    weights = model.net_.iterator_train__sampler.weights.numpy()
    # one weight per class, 1 / count: both classes carry the same total weight
    values, counts = np.unique(weights, return_counts=True)
    assert len(values) == 2
    np.testing.assert_allclose(values * counts, 1.0)
    assert model.predict_proba(X)[:, 1].mean() > 0.3  # trained on ~50 % positives


def test_works_in_grid_search(interactions):
    X, y = interactions
    search = GridSearchCV(NeuralRanker(max_epochs=1, random_state=0),
                          {"architecture": ["mlp", "deepfm"]}, cv=2, scoring="roc_auc")
    search.fit(X, y)
    assert set(search.cv_results_["param_architecture"]) == {"mlp", "deepfm"}
    assert clone(search.best_estimator_).get_params()["max_epochs"] == 1


# --- bad input --------------------------------------------------------------------------------
def test_bad_input_messages(interactions):
    X, y = interactions
    with pytest.raises(ValueError, match="user_col='uid' is not a column of X"):
        NeuralRanker(user_col="uid").fit(X, y)
    with pytest.raises(ValueError, match="numeric column 'price'.*NaN"):
        NeuralRanker().fit(X.assign(price=np.where(np.arange(len(X)) == 3, np.nan, X.price)), y)
    with pytest.raises(TypeError, match="column 'when' has dtype datetime"):
        NeuralRanker().fit(X.assign(when=pd.Timestamp("2024-01-01")), y)
    with pytest.raises(ValueError, match="missing"):
        NeuralRanker().fit(X.assign(user_id=np.where(np.arange(len(X)) == 0, None, X.user_id)), y)
    with pytest.raises(ValueError, match="at least 2 classes"):
        NeuralRanker().fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="two_tower"):
        NeuralRanker("two_tower", user_col=None).fit(X.drop(columns=["user_id"]), y)
    with pytest.raises(ValueError, match="two_tower"):
        NeuralRanker("two_tower").fit(X[["price", "position"]].to_numpy(), y)
    with pytest.raises(ValueError, match="class_weight has a key 7"):
        NeuralRanker(class_weight={7: 2.0}).fit(X, y)
    with pytest.raises(ValueError, match="early_stopping=True needs a validation set"):
        NeuralRanker(validation_fraction=None).fit(X, y)
    with pytest.raises(ValueError, match="hidden_units"):
        NeuralRanker(hidden_units=(8, 0)).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'loss' parameter"):
        NeuralRanker(loss="hinge").fit(X, y)
    with pytest.raises(InvalidParameterError, match="'architecture' parameter"):
        NeuralRanker(architecture="transformer").fit(X, y)
    with pytest.raises(TypeError, match="[Ss]parse"):
        NeuralRanker(user_col=None, item_col=None).fit(sp.csr_matrix(np.eye(10)), [0, 1] * 5)
    with pytest.raises(ValueError, match="CUDA is not available|not a torch device"):
        if torch.cuda.is_available():
            raise ValueError("CUDA is not available")  # nothing to test on a GPU machine
        NeuralRanker(device="cuda").fit(X, y)


def test_predict_needs_the_fit_columns(interactions):
    X, y = interactions
    model = NeuralRanker(max_epochs=1, random_state=0).fit(X, y)
    with pytest.raises(TypeError, match="fitted on an interaction DataFrame"):
        model.predict_proba(X[["price", "position"]].to_numpy())
    with pytest.raises(ValueError, match="feature names"):
        model.predict_proba(X.drop(columns=["price"]))


def test_pipeline_after_the_featurizer_embeds_the_kept_ids(interactions):
    from sklearn.pipeline import make_pipeline

    from sklearn_recsys.features import InteractionFeaturizer

    X, y = interactions
    pipe = make_pipeline(
        InteractionFeaturizer(keep_id_columns=True, n_factors=2, random_state=0),
        NeuralRanker("deepfm", **FAST),
    ).set_output(transform="pandas")
    pipe.fit(X, y)
    ranker = pipe[-1]
    assert ranker.encoder_.user_field_ == 0 and ranker.encoder_.item_field_ == 1
    assert ranker.encoder_.n_dense_ > 5  # popularity, activity, rates, factors, ...
    assert roc_auc_score(y, pipe.predict_proba(X)[:, 1]) > 0.7
