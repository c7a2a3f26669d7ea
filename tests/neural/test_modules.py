import itertools

import numpy as np
import pandas as pd
import pytest
import torch

from sklearn_recsys.neural._encoding import _TabularEncoder
from sklearn_recsys.neural._modules import FieldEmbedding, RankerModule


def _inputs(n=7, n_dense=3, cards=(5, 4, 3), seed=0):
    g = torch.Generator().manual_seed(seed)
    dense = torch.randn(n, n_dense, generator=g)
    sparse = torch.stack([torch.randint(0, c, (n,), generator=g) for c in cards], dim=1)
    return dense, sparse


def test_field_embedding_offsets():
    emb = FieldEmbedding([3, 4], dim=2)
    out = emb(torch.tensor([[0, 0], [2, 3]]))
    w = emb.embedding.weight
    torch.testing.assert_close(out[0, 1], w[3])  # field 1, index 0 -> row 3
    torch.testing.assert_close(out[1, 1], w[6])


def test_deepfm_second_order_term_is_the_pairwise_sum():
    torch.manual_seed(0)
    module = RankerModule(
        "deepfm", n_dense=2, cardinalities=[5, 4], embedding_dim=3, hidden_units=(4,)
    )
    dense, sparse = _inputs(n_dense=2, cards=(5, 4))
    emb = module.inputs.embed(sparse)
    fields = torch.cat([emb, dense[:, :, None] * module.dense_embedding[None]], dim=1)
    pairwise = sum(
        (fields[:, i] * fields[:, j]).sum(-1)
        for i, j in itertools.combinations(range(fields.shape[1]), 2)
    )
    torch.testing.assert_close(module._fm(emb, dense).squeeze(1), pairwise)


def test_two_tower_logit_is_a_dot_product_of_the_towers():
    torch.manual_seed(0)
    module = RankerModule(
        "two_tower",
        n_dense=3,
        cardinalities=[5, 4, 3],
        user_field=0,
        embedding_dim=4,
        hidden_units=(8,),
    ).eval()
    dense, sparse = _inputs()
    out = module(dense, sparse)
    # changing an item-side input for one row changes only that row; the user tower is shared
    sparse2 = sparse.clone()
    sparse2[0, 1] = (sparse[0, 1] + 1) % 4
    out2 = module(dense, sparse2)
    assert out2[0] != out[0] and torch.equal(out2[1:], out[1:])
    emb = module.inputs.embed(sparse)
    u = module.user_out(module.user_tower(emb[:, 0]))
    v = module.item_out(module.item_tower(torch.cat([emb[:, 1:].flatten(1), dense], 1)))
    torch.testing.assert_close(out, (u * v).sum(1) + module.bias)


@pytest.mark.parametrize("architecture", ["mlp", "wide_deep", "deepfm", "two_tower"])
@pytest.mark.parametrize("n_outputs", [1, 4])
def test_output_shapes(architecture, n_outputs):
    module = RankerModule(
        architecture,
        n_dense=3,
        cardinalities=[5, 4, 3],
        user_field=0,
        embedding_dim=4,
        hidden_units=(8, 4),
        dropout=0.2,
        batch_norm=True,
        n_outputs=n_outputs,
    )
    out = module(*_inputs())
    assert out.shape == ((7,) if n_outputs == 1 else (7, n_outputs))


def test_encoder_unknown_ids_and_categories_map_to_zero():
    X = pd.DataFrame(
        {
            "user_id": [1, 2, 2],
            "item_id": ["a", "b", "a"],
            "cat": pd.Categorical(["x", "y", "x"]),
            "price": [1.0, 2.0, 3.0],
            "flag": [True, False, True],
        }
    )
    enc = _TabularEncoder("user_id", "item_id").fit(X)
    assert enc.cardinalities_ == [3, 3, 3]
    assert enc.numeric_cols_ == ["price", "flag"]
    new = pd.DataFrame(
        {
            "user_id": [9, 1],
            "item_id": ["zz", "b"],
            "cat": pd.Categorical(["w", "y"]),
            "price": [2.0, 2.0],
            "flag": [False, False],
        }
    )
    out = enc.transform(new)
    np.testing.assert_array_equal(out["sparse"], [[0, 0, 0], [1, 2, 2]])
    np.testing.assert_allclose(out["dense"][:, 0], 0.0, atol=1e-6)


def test_encoder_constant_column_is_only_centred():
    X = np.column_stack([np.ones(4), np.arange(4.0)])
    out = _TabularEncoder().fit(X).transform(X)["dense"]
    np.testing.assert_array_equal(out[:, 0], 0.0)
    assert out.dtype == np.float32 and "sparse" not in _TabularEncoder().fit(X).transform(X)


def test_activation_and_embedding_init_are_module_arguments():
    module = RankerModule(
        "deepfm",
        n_dense=2,
        cardinalities=[5, 4],
        embedding_dim=3,
        hidden_units=(6,),
        activation=torch.nn.Tanh,
        embedding_std=0.0,
    )
    assert any(isinstance(m, torch.nn.Tanh) for m in module.modules())
    assert not any(isinstance(m, torch.nn.ReLU) for m in module.modules())
    assert not module.inputs.embed.embedding.weight.detach().any()
    assert not module.dense_embedding.detach().any()
