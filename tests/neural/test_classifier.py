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
from sklearn_recsys.neural import NeuralClassifier

FAST = dict(max_epochs=3, lr=0.01, random_state=0)


@pytest.mark.parametrize("architecture", ["mlp", "wide_deep", "deepfm", "two_tower"])
def test_each_architecture_learns(interactions, architecture):
    X, y = interactions
    model = NeuralClassifier(architecture, **FAST).fit(X, y)
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert roc_auc_score(y, proba[:, 1]) > 0.7  # 0.5 would be an untrained net
    assert model.history_[-1, "valid_roc_auc"] > 0.65
    assert type(model.net_.module_).__name__ == "RankerModule"
    assert model.net_.module_.architecture == architecture


@pytest.mark.parametrize(
    "loss, criterion",
    [
        ("bce", WeightedBCELoss),
        ("weighted", WeightedBCELoss),
        ("focal", FocalLoss),
        ("class_balanced", ClassBalancedLoss),
    ],
)
def test_each_loss_trains_with_its_criterion(interactions, loss, criterion):
    X, y = interactions
    model = NeuralClassifier(loss=loss, **FAST).fit(X, y)
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
    model = NeuralClassifier(
        loss="focal", focal_gamma=1.5, focal_alpha=0.3, max_epochs=1, random_state=0
    ).fit(X, y)
    assert model.net_.criterion_.gamma == 1.5
    assert model.net_.criterion_.alpha == 0.3


def test_class_weight_moves_the_decision_boundary(rare_interactions):
    X, y = rare_interactions
    plain = NeuralClassifier(early_stopping=False, **FAST).fit(X, y)
    weighted = NeuralClassifier(class_weight={0: 1.0, 1: 15.0}, early_stopping=False, **FAST).fit(
        X, y
    )
    p_plain, p_weighted = plain.predict_proba(X)[:, 1], weighted.predict_proba(X)[:, 1]
    assert p_weighted.mean() > 2 * p_plain.mean()
    assert weighted.predict(X).sum() > plain.predict(X).sum() + 50


def test_sample_weight_equals_the_same_class_weight(rare_interactions):
    X, y = rare_interactions
    by_class = NeuralClassifier(class_weight={0: 1.0, 1: 8.0}, **FAST).fit(X, y)
    by_row = NeuralClassifier(**FAST).fit(X, y, sample_weight=np.where(y == 1, 8.0, 1.0))
    np.testing.assert_allclose(by_row.predict_proba(X), by_class.predict_proba(X), rtol=1e-6)
    unweighted = NeuralClassifier(**FAST).fit(X, y)
    assert not np.allclose(unweighted.predict_proba(X), by_row.predict_proba(X))


@pytest.mark.parametrize("loss", ["focal", "class_balanced"])
def test_sample_weight_is_honoured_by_every_loss(interactions, loss):
    X, y = interactions
    ones = NeuralClassifier(loss=loss, **FAST).fit(X, y, sample_weight=np.ones(len(y)))
    none = NeuralClassifier(loss=loss, **FAST).fit(X, y)
    np.testing.assert_array_equal(ones.predict_proba(X), none.predict_proba(X))
    up = NeuralClassifier(loss=loss, **FAST).fit(X, y, sample_weight=np.where(y == 1, 10.0, 1.0))
    assert up.predict_proba(X)[:, 1].mean() > none.predict_proba(X)[:, 1].mean()


def test_cold_start_ids_use_the_unknown_embedding(interactions):
    X, y = interactions
    model = NeuralClassifier(**FAST).fit(X, y)
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
    a = NeuralClassifier(dropout=0.3, balanced_batches=True, **FAST).fit(X, y)
    assert torch.equal(state, torch.random.get_rng_state())
    b = NeuralClassifier(dropout=0.3, balanced_batches=True, **FAST).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    np.testing.assert_array_equal(a.predict_proba(X), a.predict_proba(X))
    c = NeuralClassifier(dropout=0.3, balanced_batches=True, **{**FAST, "random_state": 1})
    c.fit(X, y)
    assert not np.allclose(a.predict_proba(X), c.predict_proba(X))


def test_pickle_round_trip(interactions):
    X, y = interactions
    model = NeuralClassifier("deepfm", **FAST).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    assert restored.net_.train_split is None  # the validation data is not carried along


def test_numeric_array_input_is_all_dense():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 5))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    model = NeuralClassifier(architecture="deepfm", **FAST).fit(X, y)
    assert model.encoder_.cardinalities_ == []
    assert model.encoder_.n_dense_ == 5
    assert (model.predict(X) == y).mean() > 0.9


def test_multiclass_with_string_labels(interactions):
    X, _ = interactions
    y = X["category"].astype(str).to_numpy()
    X = X.drop(columns=["category"])
    model = NeuralClassifier(max_epochs=4, lr=0.03, random_state=0).fit(X, y)
    assert list(model.classes_) == sorted(set(y))
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), len(model.classes_))
    assert (model.predict(X) == y).mean() > 0.6  # the item id determines the category
    with pytest.raises(ValueError, match="focal_alpha"):
        NeuralClassifier(loss="focal", focal_alpha=0.25, max_epochs=1).fit(X, y)
    focal = NeuralClassifier(loss="focal", class_weight="balanced", max_epochs=1).fit(X, y)
    assert focal.net_.criterion_.class_weight.shape == (len(model.classes_),)


def test_numeric_columns_are_scaled_and_categories_embedded(interactions):
    X, y = interactions
    model = NeuralClassifier(max_epochs=1, random_state=0).fit(X, y)
    enc = model.encoder_
    assert enc.numeric_cols_ == ["price", "position"]
    assert enc.categorical_cols_ == ["category"]
    assert enc.cardinalities_ == [
        X["user_id"].nunique() + 1,
        X["item_id"].nunique() + 1,
        X["category"].nunique() + 1,
    ]
    dense = enc.transform(X)["dense"]
    np.testing.assert_allclose(dense.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(dense.std(axis=0), 1.0, atol=1e-4)


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd", "adagrad", "rmsprop"])
def test_optimizers(interactions, optimizer):
    X, y = interactions
    model = NeuralClassifier(
        optimizer=optimizer, max_epochs=1, optimizer__weight_decay=1e-4, random_state=0
    ).fit(X, y)
    assert type(model.net_.optimizer_).__name__.lower() == optimizer
    group = model.net_.optimizer_.param_groups[0]
    assert group["weight_decay"] == 1e-4
    if optimizer == "sgd":  # the documented default, reachable as optimizer__momentum
        assert group["momentum"] == 0.9


def test_optimizer_settings_are_routed(interactions):
    X, y = interactions
    sgd = NeuralClassifier(
        optimizer="sgd",
        optimizer__momentum=0.5,
        optimizer__nesterov=True,
        max_epochs=1,
        random_state=0,
    ).fit(X, y)
    group = sgd.net_.optimizer_.param_groups[0]
    assert (group["momentum"], group["nesterov"], group["lr"]) == (0.5, True, sgd.lr)
    # a torch optimizer class has its own defaults (no momentum added)
    cls = NeuralClassifier(optimizer=torch.optim.SGD, max_epochs=1, random_state=0).fit(X, y)
    assert cls.net_.optimizer_.param_groups[0]["momentum"] == 0
    adamw = NeuralClassifier(optimizer="adamw", max_epochs=1, random_state=0).fit(X, y)
    assert adamw.net_.optimizer_.param_groups[0]["weight_decay"] == 0.0  # documented default


def test_weight_decay_is_a_deprecated_alias_of_the_routed_parameter(interactions):
    X, y = interactions
    with pytest.warns(FutureWarning, match="use optimizer__weight_decay"):
        old = NeuralClassifier(weight_decay=1e-3, **FAST).fit(X, y)
    new = NeuralClassifier(optimizer__weight_decay=1e-3, **FAST).fit(X, y)
    assert old.net_.optimizer_.param_groups[0]["weight_decay"] == 1e-3
    np.testing.assert_array_equal(old.predict_proba(X), new.predict_proba(X))
    with pytest.raises(ValueError, match="both set"):
        NeuralClassifier(weight_decay=1e-3, optimizer__weight_decay=1e-3, **FAST).fit(X, y)


def test_old_name_is_a_deprecated_alias(interactions):
    from sklearn_recsys.neural import NeuralRanker

    X, y = interactions
    with pytest.warns(FutureWarning, match="NeuralRanker is deprecated.*NeuralClassifier"):
        old = NeuralRanker("deepfm", **FAST).fit(X, y)
    assert isinstance(old, NeuralClassifier)
    new = NeuralClassifier("deepfm", **FAST).fit(X, y)
    np.testing.assert_array_equal(old.predict_proba(X), new.predict_proba(X))


def test_routed_parameters_follow_get_params_set_params_and_clone(interactions):
    X, y = interactions
    model = NeuralClassifier(module__activation=torch.nn.GELU, max_epochs=1)
    assert model.get_params()["module__activation"] is torch.nn.GELU
    model.set_params(optimizer__momentum=0.8, optimizer="sgd", callbacks__print_log=None)
    params = clone(model).get_params()
    assert params["optimizer__momentum"] == 0.8 and params["optimizer"] == "sgd"
    assert "module__activation=<class" in repr(model)
    model.fit(X, y)
    assert model.net_.optimizer_.param_groups[0]["momentum"] == 0.8
    assert any(isinstance(m, torch.nn.GELU) for m in model.net_.module_.modules())
    assert not any(isinstance(m, torch.nn.ReLU) for m in model.net_.module_.modules())
    assert "print_log" not in dict(model.net_.callbacks_)
    with pytest.raises(TypeError, match=r"unexpected parameter\(s\) \['epochs'\]"):
        NeuralClassifier(epochs=3).fit(X, y)  # checked in fit, as skorch does
    with pytest.raises(ValueError, match="Invalid parameter 'epochs'"):
        NeuralClassifier().set_params(epochs=3)


def test_routed_parameters_in_grid_search(interactions):
    X, y = interactions
    search = GridSearchCV(
        NeuralClassifier(max_epochs=1, random_state=0),
        {"module__embedding_std": [0.01, 0.1], "criterion__reduction": ["mean"]},
        cv=2,
        scoring="roc_auc",
    )
    search.fit(X, y)
    assert list(search.cv_results_["param_module__embedding_std"]) == [0.01, 0.1]
    assert search.best_estimator_.net_.module_.inputs.embed is not None


def test_routed_criterion_and_iterator_parameters(interactions):
    X, y = interactions
    model = NeuralClassifier(
        loss="class_balanced", criterion__gamma=2.0, iterator_valid__batch_size=1000, **FAST
    ).fit(X, y)
    assert model.net_.criterion_.gamma == 2.0  # the focal class-balanced loss
    assert model.net_.iterator_valid__batch_size == 1000


def test_routed_parameters_an_estimator_parameter_sets_are_refused(interactions):
    X, y = interactions
    cases = [
        (dict(module__embedding_dim=8), "module__embedding_dim.*the parameter embedding_dim"),
        (dict(module__n_dense=3), "module__n_dense.*derived from the training data"),
        (dict(loss="focal", criterion__alpha=0.5), "criterion__alpha.*focal_alpha"),
        (dict(criterion__class_weight=[1, 2]), "criterion__class_weight.*class_weight"),
        (dict(optimizer__lr=0.1), "optimizer__lr.*the parameter lr"),
        (
            dict(balanced_batches=True, iterator_train__sampler=None),
            "iterator_train__sampler.*balanced_batches",
        ),
    ]
    for params, message in cases:
        with pytest.raises(ValueError, match=message):
            NeuralClassifier(**params, max_epochs=1).fit(X, y)


def test_extra_callbacks_and_callback_parameters(interactions):
    from skorch.callbacks import Callback

    class CountEpochs(Callback):
        def initialize(self):
            self.n_ = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.n_ += 1
            net.history.record("counted", self.n_)

    X, y = interactions
    counter = CountEpochs()
    model = NeuralClassifier(
        callbacks=[("count", counter)], callbacks__early_stopping__load_best=False, **FAST
    ).fit(X, y)
    assert model.history_[:, "counted"] == [1, 2, 3]
    assert not hasattr(counter, "n_")  # the estimator's parameter is not the trained copy
    assert dict(model.net_.callbacks_)["early_stopping"].load_best is False
    assert clone(model).get_params()["callbacks__early_stopping__load_best"] is False


def test_id_columns_by_position_in_an_array(interactions):
    X, y = interactions
    cols = ["user_id", "item_id", "price", "position"]
    arr = X[cols].to_numpy()
    by_pos = NeuralClassifier("two_tower", user_col=0, item_col=1, **FAST).fit(arr, y)
    assert by_pos.encoder_.cardinalities_ == [
        X["user_id"].nunique() + 1,
        X["item_id"].nunique() + 1,
    ]
    assert by_pos.encoder_.n_dense_ == 2
    by_name = NeuralClassifier("two_tower", **FAST).fit(X[cols], y)
    np.testing.assert_allclose(by_pos.predict_proba(arr), by_name.predict_proba(X[cols]), rtol=1e-6)
    # the same positions on a frame whose columns are 0 .. n - 1
    frame = NeuralClassifier("two_tower", user_col=0, item_col=1, **FAST).fit(pd.DataFrame(arr), y)
    np.testing.assert_allclose(frame.predict_proba(arr), by_pos.predict_proba(arr))
    # a position is not a name of a frame with named columns
    with pytest.raises(ValueError, match="user_col=0 is not a column of X"):
        NeuralClassifier(user_col=0, item_col=1, max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features"):
        by_pos.predict_proba(arr[:, :3])


@pytest.mark.parametrize("schedule", ["cosine", "exponential", "plateau"])
def test_lr_schedules_change_the_learning_rate(interactions, schedule):
    X, y = interactions
    model = NeuralClassifier(
        lr_schedule=schedule,
        lr_decay=0.5,
        n_iter_no_change=2,
        early_stopping=False,
        max_epochs=4,
        random_state=0,
        monitor="valid_roc_auc" if schedule == "plateau" else "valid_loss",
    )
    model.fit(X, y)
    lr_now = model.net_.optimizer_.param_groups[0]["lr"]
    if schedule == "plateau":
        assert lr_now <= model.lr
    else:
        assert lr_now < model.lr


def test_l1_penalty_shrinks_weights(interactions):
    X, y = interactions
    plain = NeuralClassifier(**FAST).fit(X, y)
    sparse = NeuralClassifier(l1_penalty=1e-3, **FAST).fit(X, y)

    def l1(m):
        return sum(p.abs().sum().item() for p in m.net_.module_.parameters() if p.dim() > 1)

    assert l1(sparse) < 0.8 * l1(plain)


def test_early_stopping_ends_sooner_and_restores_best(interactions):
    X, y = interactions
    model = NeuralClassifier(lr=0.1, max_epochs=30, n_iter_no_change=2, random_state=0).fit(X, y)
    assert model.n_epochs_ < 30
    losses = model.history_[:, "valid_loss"]
    # the restored weights are those of the best epoch
    best = int(np.argmin(losses))
    assert model.history_[best, "valid_loss_best"]


def test_balanced_batches_draw_positives_equally(rare_interactions):
    X, y = rare_interactions
    model = NeuralClassifier(balanced_batches=True, max_epochs=1, random_state=0).fit(X, y)
    weights = model.net_.iterator_train__sampler.weights.numpy()
    # one weight per class, 1 / count: both classes carry the same total weight
    values, counts = np.unique(weights, return_counts=True)
    assert len(values) == 2
    np.testing.assert_allclose(values * counts, 1.0)
    assert model.predict_proba(X)[:, 1].mean() > 0.3  # trained on ~50 % positives


def test_works_in_grid_search(interactions):
    X, y = interactions
    search = GridSearchCV(
        NeuralClassifier(max_epochs=1, random_state=0),
        {"architecture": ["mlp", "deepfm"]},
        cv=2,
        scoring="roc_auc",
    )
    search.fit(X, y)
    assert set(search.cv_results_["param_architecture"]) == {"mlp", "deepfm"}
    assert clone(search.best_estimator_).get_params()["max_epochs"] == 1


# --- bad input --------------------------------------------------------------------------------
def test_bad_input_messages(interactions):
    X, y = interactions
    with pytest.raises(ValueError, match="user_col='uid' is not a column of X"):
        NeuralClassifier(user_col="uid").fit(X, y)
    with pytest.raises(ValueError, match="numeric column 'price'.*NaN"):
        NeuralClassifier().fit(X.assign(price=np.where(np.arange(len(X)) == 3, np.nan, X.price)), y)
    with pytest.raises(TypeError, match="column 'when' has dtype datetime"):
        NeuralClassifier().fit(X.assign(when=pd.Timestamp("2024-01-01")), y)
    with pytest.raises(ValueError, match="missing"):
        NeuralClassifier().fit(
            X.assign(user_id=np.where(np.arange(len(X)) == 0, None, X.user_id)), y
        )
    with pytest.raises(ValueError, match="at least 2 classes"):
        NeuralClassifier().fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="two_tower"):
        NeuralClassifier("two_tower", user_col=None).fit(X.drop(columns=["user_id"]), y)
    with pytest.raises(ValueError, match="two_tower"):
        NeuralClassifier("two_tower").fit(X[["price", "position"]].to_numpy(), y)
    with pytest.raises(ValueError, match="class_weight has a key 7"):
        NeuralClassifier(class_weight={7: 2.0}).fit(X, y)
    with pytest.raises(ValueError, match="early_stopping=True needs a validation set"):
        NeuralClassifier(validation_fraction=None).fit(X, y)
    with pytest.raises(ValueError, match="hidden_units"):
        NeuralClassifier(hidden_units=(8, 0)).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'loss' parameter"):
        NeuralClassifier(loss="hinge").fit(X, y)
    with pytest.raises(InvalidParameterError, match="'architecture' parameter"):
        NeuralClassifier(architecture="transformer").fit(X, y)
    with pytest.raises(TypeError, match="[Ss]parse"):
        NeuralClassifier(user_col=None, item_col=None).fit(sp.csr_matrix(np.eye(10)), [0, 1] * 5)
    with pytest.raises(ValueError, match="CUDA is not available|not a torch device"):
        if torch.cuda.is_available():
            raise ValueError("CUDA is not available")  # nothing to test on a GPU machine
        NeuralClassifier(device="cuda").fit(X, y)


def test_predict_needs_the_fit_columns(interactions):
    X, y = interactions
    model = NeuralClassifier(max_epochs=1, random_state=0).fit(X, y)
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
        NeuralClassifier("deepfm", **FAST),
    ).set_output(transform="pandas")
    pipe.fit(X, y)
    ranker = pipe[-1]
    assert ranker.encoder_.user_field_ == 0 and ranker.encoder_.item_field_ == 1
    assert ranker.encoder_.n_dense_ > 5  # popularity, activity, rates, factors, ...
    assert roc_auc_score(y, pipe.predict_proba(X)[:, 1]) > 0.7
