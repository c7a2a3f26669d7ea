"""Torch modules behind the neural classifiers: MLP, Wide & Deep, DeepFM, two-tower, multi-task.

Every module takes the dict built by ``_TabularEncoder``: ``dense`` (float, n x n_dense, scaled
numeric columns) and ``sparse`` (int64, n x n_fields: user, item and category indices, ``0`` the
unknown index of each field). Binary modules return logits of shape (n,), multiclass (n, C).
"""

from __future__ import annotations

import torch
from torch import nn

ARCHITECTURES = ("mlp", "wide_deep", "deepfm", "two_tower")
_EMBEDDING_STD = 0.05


def _set_bias(linear_or_param, output_bias):
    """Initialise an output bias (e.g. to the log-odds of the class prior)."""
    if output_bias is None:
        return
    bias = linear_or_param.bias if isinstance(linear_or_param, nn.Linear) else linear_or_param
    with torch.no_grad():
        bias.copy_(torch.as_tensor(output_bias, dtype=bias.dtype).reshape(bias.shape))


def _mlp(in_dim, hidden_units, dropout, batch_norm, activation=nn.ReLU):
    """``[Linear -> (BatchNorm) -> activation -> (Dropout)] * n_layers``; returns (module,
    out_dim). ``activation`` is a module class (or any callable returning a module)."""
    layers = []
    for units in hidden_units:
        layers.append(nn.Linear(in_dim, units))
        if batch_norm:
            layers.append(nn.BatchNorm1d(units))
        layers.append(activation())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        in_dim = units
    return nn.Sequential(*layers), in_dim


class FieldEmbedding(nn.Module):
    """All categorical fields in one table, each field at its own offset.

    Parameters
    ----------
    cardinalities : list of int
        Size of each field's vocabulary, the unknown index 0 included.
    dim : int
        Embedding size.
    std : float, default=0.05
        Standard deviation of the normal initialisation.
    """

    def __init__(self, cardinalities, dim, std=_EMBEDDING_STD):
        super().__init__()
        offsets = torch.tensor([0, *cardinalities[:-1]], dtype=torch.long).cumsum(0)
        self.register_buffer("offsets", offsets)
        self.embedding = nn.Embedding(int(sum(cardinalities)), dim)
        nn.init.normal_(self.embedding.weight, std=std)

    def forward(self, sparse):
        return self.embedding(sparse + self.offsets)  # (n, n_fields, dim)


class _Inputs(nn.Module):
    """Embeds the sparse fields; concatenates flattened embeddings and dense values."""

    def __init__(self, n_dense, cardinalities, embedding_dim, embedding_std=_EMBEDDING_STD):
        super().__init__()
        self.n_dense = n_dense
        self.n_fields = len(cardinalities)
        self.embed = (
            FieldEmbedding(cardinalities, embedding_dim, embedding_std) if cardinalities else None
        )
        self.out_dim = n_dense + self.n_fields * embedding_dim

    def forward(self, dense, sparse=None):
        emb = self.embed(sparse) if self.embed is not None else None
        parts = [] if emb is None else [emb.flatten(1)]
        if self.n_dense:
            parts.append(dense)
        return emb, torch.cat(parts, dim=1)


class RankerModule(nn.Module):
    """Single-task scorer: ``architecture`` in {"mlp", "wide_deep", "deepfm", "two_tower"}.

    - ``mlp``: MLP over [field embeddings, dense values].
    - ``wide_deep``: the MLP plus a wide part: one weight per id / category value (first-order
      embedding) and a linear term on the dense values (Cheng et al., 2016).
    - ``deepfm``: the wide part, the MLP, and a factorisation machine over the field embeddings
      and one embedding per dense column scaled by its value (Guo et al., 2017):
      ``FM = 1/2 sum_k [(sum_f v_fk)^2 - sum_f v_fk^2]``.
    - ``two_tower``: a user tower (user embedding -> MLP) and an item tower (all other fields and
      the dense values -> MLP); the logit is the dot product of the two outputs plus a bias.

    ``output_bias`` (one value per output) initialises the output bias, e.g. to the log-odds of
    the class prior, so that training starts from the base rate (Lin et al., 2017).
    ``activation`` (a module class, default ``nn.ReLU``) follows each hidden layer;
    ``embedding_std`` is the standard deviation of the embeddings' normal initialisation.
    """

    def __init__(
        self,
        architecture="mlp",
        n_dense=0,
        cardinalities=(),
        user_field=None,
        embedding_dim=16,
        hidden_units=(64, 32),
        dropout=0.0,
        batch_norm=False,
        n_outputs=1,
        output_bias=None,
        activation=nn.ReLU,
        embedding_std=_EMBEDDING_STD,
    ):
        super().__init__()
        cardinalities = list(cardinalities)
        self.architecture = architecture
        self.n_outputs = n_outputs
        self.inputs = _Inputs(n_dense, cardinalities, embedding_dim, embedding_std)
        mlp_args = (dropout, batch_norm, activation)
        if architecture == "two_tower":
            self._init_two_tower(
                n_dense, cardinalities, user_field, embedding_dim, hidden_units, mlp_args
            )
            _set_bias(self.bias, output_bias)
            return
        self.deep, out = _mlp(self.inputs.out_dim, hidden_units, *mlp_args)
        self.head = nn.Linear(out, n_outputs)
        _set_bias(self.head, output_bias)
        if architecture in ("wide_deep", "deepfm"):
            self.wide_sparse = FieldEmbedding(cardinalities, n_outputs) if cardinalities else None
            if self.wide_sparse is not None:
                nn.init.zeros_(self.wide_sparse.embedding.weight)
            self.wide_dense = nn.Linear(n_dense, n_outputs, bias=False) if n_dense else None
        if architecture == "deepfm":
            self.dense_embedding = (
                nn.Parameter(torch.randn(n_dense, embedding_dim) * embedding_std)
                if n_dense
                else None
            )
            self.fm_out = (
                None if n_outputs == 1 else nn.Linear(embedding_dim, n_outputs, bias=False)
            )

    def _init_two_tower(
        self, n_dense, cardinalities, user_field, embedding_dim, hidden_units, mlp_args
    ):
        if user_field is None:
            raise ValueError("the two-tower architecture needs a user field (user_col).")
        self.user_field = user_field
        item_fields = [f for f in range(len(cardinalities)) if f != user_field]
        self.register_buffer("item_fields", torch.tensor(item_fields, dtype=torch.long))
        self.user_tower, out_u = _mlp(embedding_dim, hidden_units, *mlp_args)
        self.item_tower, out_i = _mlp(
            len(item_fields) * embedding_dim + n_dense, hidden_units, *mlp_args
        )
        self.user_out = nn.Linear(out_u, embedding_dim * self.n_outputs)
        self.item_out = nn.Linear(out_i, embedding_dim * self.n_outputs)
        self.bias = nn.Parameter(torch.zeros(self.n_outputs))

    def _wide(self, dense, sparse):
        out = 0
        if self.wide_sparse is not None:
            out = out + self.wide_sparse(sparse).sum(1)
        if self.wide_dense is not None:
            out = out + self.wide_dense(dense)
        return out

    def _fm(self, emb, dense):
        fields = [] if emb is None else [emb]
        if self.dense_embedding is not None:
            fields.append(dense[:, :, None] * self.dense_embedding[None])
        v = torch.cat(fields, dim=1)
        inter = 0.5 * (v.sum(1).pow(2) - v.pow(2).sum(1))  # (n, dim)
        return inter.sum(1, keepdim=True) if self.fm_out is None else self.fm_out(inter)

    def _two_tower(self, emb, dense):
        n = dense.shape[0]
        user = self.user_out(self.user_tower(emb[:, self.user_field]))
        item_in = [emb.index_select(1, self.item_fields).flatten(1)]
        if self.inputs.n_dense:
            item_in.append(dense)
        item = self.item_out(self.item_tower(torch.cat(item_in, dim=1)))
        dot = (user.view(n, self.n_outputs, -1) * item.view(n, self.n_outputs, -1)).sum(-1)
        return dot + self.bias

    def forward(self, dense, sparse=None):
        emb, flat = self.inputs(dense, sparse)
        if self.architecture == "two_tower":
            out = self._two_tower(emb, dense)
        else:
            out = self.head(self.deep(flat))
            if self.architecture in ("wide_deep", "deepfm"):
                out = out + self._wide(dense, sparse)
            if self.architecture == "deepfm":
                out = out + self._fm(emb, dense)
        return out.squeeze(1) if self.n_outputs == 1 else out


class MultiTaskModule(nn.Module):
    """Shared-bottom multi-task network: one MLP bottom, two heads (main, auxiliary).

    Returns the tuple ``(main_logits, aux_output)``; the main output is (n,) for a binary task
    and (n, C) for a multiclass one, the auxiliary output (n,) or (n, C_aux). ``output_bias``
    initialises the main head's bias; ``activation`` and ``embedding_std`` as in
    :class:`RankerModule`.
    """

    def __init__(
        self,
        n_dense=0,
        cardinalities=(),
        embedding_dim=16,
        hidden_units=(64, 32),
        head_units=(16,),
        dropout=0.0,
        batch_norm=False,
        n_outputs=1,
        n_aux_outputs=1,
        output_bias=None,
        activation=nn.ReLU,
        embedding_std=_EMBEDDING_STD,
    ):
        super().__init__()
        cardinalities = list(cardinalities)
        self.n_outputs = n_outputs
        self.n_aux_outputs = n_aux_outputs
        self.inputs = _Inputs(n_dense, cardinalities, embedding_dim, embedding_std)
        mlp_args = (dropout, batch_norm, activation)
        self.bottom, out = _mlp(self.inputs.out_dim, hidden_units, *mlp_args)
        main, out_m = _mlp(out, head_units, *mlp_args)
        aux, out_a = _mlp(out, head_units, *mlp_args)
        self.main_head = nn.Sequential(main, nn.Linear(out_m, n_outputs))
        self.aux_head = nn.Sequential(aux, nn.Linear(out_a, n_aux_outputs))
        _set_bias(self.main_head[-1], output_bias)

    def forward(self, dense, sparse=None):
        _, flat = self.inputs(dense, sparse)
        shared = self.bottom(flat)
        main, aux = self.main_head(shared), self.aux_head(shared)
        main = main.squeeze(1) if self.n_outputs == 1 else main
        aux = aux.squeeze(1) if self.n_aux_outputs == 1 else aux
        return main, aux
