import pickle

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from sklearn_recsys.neural import MultiTaskClassifier

FAST = dict(max_epochs=3, lr=0.01, random_state=0)


def test_aux_from_a_column_is_dropped_from_the_features(interactions):
    X, y = interactions
    model = MultiTaskClassifier(aux_col="category", **FAST).fit(X, y)
    assert model.n_tasks_ == 2 and model.aux_task_ == "multiclass"
    assert "category" not in model.feature_names_in_
    assert sorted(model.aux_classes_) == sorted(X["category"].astype(str).unique())
    out = model.predict_all(X)
    assert out["main"].shape == (len(X), 2)
    assert out["aux"].shape == (len(X), X["category"].nunique())
    # the auxiliary head learns the category (it follows from the item id)
    aux_pred = model.aux_classes_[out["aux"].argmax(1)]
    majority = X["category"].value_counts(normalize=True).max()
    assert (aux_pred == X["category"].astype(str).to_numpy()).mean() > 1.5 * majority
    assert roc_auc_score(y, model.predict_proba(X)[:, 1]) > 0.55
    # the column is optional at prediction time
    np.testing.assert_array_equal(
        model.predict_proba(X.drop(columns=["category"])), model.predict_proba(X)
    )


def test_aux_from_two_column_y_binary_and_continuous(interactions):
    X, y = interactions
    click = ((y == 1) | (X["position"].to_numpy() <= 2)).astype(int)
    model = MultiTaskClassifier(**FAST).fit(X, np.column_stack([y, click]))
    assert model.aux_task_ == "binary"
    aux = model.predict_all(X)["aux"]
    assert aux.shape == (len(X), 2)
    assert roc_auc_score(click, aux[:, 1]) > 0.7
    price = X["price"].to_numpy()
    reg = MultiTaskClassifier(**FAST).fit(X.drop(columns=["price"]), np.column_stack([y, price]))
    assert reg.aux_task_ == "continuous"
    pred = reg.predict_all(X.drop(columns=["price"]))["aux"]
    assert pred.shape == (len(X),)
    assert abs(pred.mean() - price.mean()) < 0.5 * price.std()  # de-standardised
    assert np.corrcoef(pred, price)[0, 1] > 0.5


def test_task_weights_matter(interactions):
    X, y = interactions
    a = MultiTaskClassifier(aux_col="category", aux_weight=0.0, **FAST).fit(X, y)
    b = MultiTaskClassifier(aux_col="category", aux_weight=5.0, **FAST).fit(X, y)
    assert not np.allclose(a.predict_proba(X), b.predict_proba(X))
    # with no weight on it, the auxiliary head is not trained: its output stays near uniform
    k = X["category"].nunique()
    assert a.predict_all(X)["aux"].max() < 2.0 / k
    assert b.predict_all(X)["aux"].max() > 2.0 / k


def test_main_task_only_warns(interactions):
    X, y = interactions
    with pytest.warns(UserWarning, match="no auxiliary target"):
        model = MultiTaskClassifier(**FAST).fit(X, y)
    assert model.n_tasks_ == 1 and model.predict_all(X)["aux"] is None


def test_multitask_options_pickle_and_determinism(rare_interactions):
    X, y = rare_interactions
    params = dict(
        aux_col="category",
        loss="class_balanced",
        dynamic_class_weight=True,
        early_stopping=False,
        **FAST,
    )
    model = MultiTaskClassifier(**params).fit(X, y)
    assert len(model.history_[:, "class_weight"]) == 3
    assert hasattr(model.net_.criterion_, "main_loss")
    again = MultiTaskClassifier(**params).fit(X, y)
    np.testing.assert_array_equal(model.predict_proba(X), again.predict_proba(X))
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_all(X)["aux"], model.predict_all(X)["aux"])


def test_multitask_bad_input(interactions):
    X, y = interactions
    with pytest.raises(ValueError, match="aux_col='nope' is not a column of X"):
        MultiTaskClassifier(aux_col="nope").fit(X, y)
    with pytest.raises(ValueError, match="given twice"):
        MultiTaskClassifier(aux_col="category").fit(X, np.column_stack([y, y]))
    with pytest.raises(ValueError, match="1 column .* or 2 columns"):
        MultiTaskClassifier().fit(X, np.column_stack([y, y, y]))
    with pytest.raises(ValueError, match="single class"):
        MultiTaskClassifier().fit(X, np.column_stack([y, np.ones_like(y)]))
    with pytest.raises(ValueError, match="missing"):
        MultiTaskClassifier().fit(X, np.column_stack([y, np.where(y == 1, np.nan, 1.0)]))


def test_old_name_is_a_deprecated_alias(interactions):
    from sklearn_recsys.neural import MultiTaskRanker

    X, y = interactions
    with pytest.warns(FutureWarning, match="MultiTaskRanker is deprecated.*MultiTaskClassifier"):
        old = MultiTaskRanker(aux_col="category", **FAST).fit(X, y)
    new = MultiTaskClassifier(aux_col="category", **FAST).fit(X, y)
    np.testing.assert_array_equal(old.predict_all(X)["aux"], new.predict_all(X)["aux"])


def test_routed_parameters_and_id_positions(interactions):
    import torch

    X, y = interactions
    cols = ["user_id", "item_id", "price", "position"]
    click = ((y == 1) | (X["position"].to_numpy() <= 2)).astype(int)
    model = MultiTaskClassifier(
        user_col=0,
        item_col=1,
        module__activation=torch.nn.Tanh,
        loss="focal",
        criterion__reduction="sum",
        **FAST,
    )
    model.fit(X[cols].to_numpy(), np.column_stack([y, click]))
    assert model.encoder_.cardinalities_[:2] == [
        X["user_id"].nunique() + 1,
        X["item_id"].nunique() + 1,
    ]
    assert any(isinstance(m, torch.nn.Tanh) for m in model.net_.module_.modules())
    assert model.net_.criterion_.main_loss.reduction == "sum"
    assert model.predict_proba(X[cols].to_numpy()).shape == (len(X), 2)
    with pytest.raises(ValueError, match="module__head_units.*the parameter head_units"):
        MultiTaskClassifier(module__head_units=(4,), **FAST).fit(X, np.column_stack([y, click]))
