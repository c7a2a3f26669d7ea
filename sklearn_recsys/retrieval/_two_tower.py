"""Two-tower retrieval trained with an in-batch sampled softmax and the logQ correction."""

from __future__ import annotations

import numbers

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from skorch import NeuralNet
from skorch.dataset import Dataset
from torch import nn

from ..losses import MulticlassFocalLoss
from ..utils import derive_seed, seeded_torch, torch_threads
from ._base import BaseRetriever

__all__ = ["TwoTowerRetriever"]


class _Towers(nn.Module):
    """User and item embedding towers (a linear layer on top of each id embedding)."""

    def __init__(self, n_users=1, n_items=1, dim=32):
        super().__init__()
        self.user = nn.Embedding(n_users, dim)
        self.item = nn.Embedding(n_items, dim)
        self.user_proj = nn.Linear(dim, dim)
        self.item_proj = nn.Linear(dim, dim)
        nn.init.normal_(self.user.weight, std=0.1)
        nn.init.normal_(self.item.weight, std=0.1)

    def user_vectors(self, u):
        return nn.functional.normalize(self.user_proj(self.user(u)), dim=-1)

    def item_vectors(self, i):
        return nn.functional.normalize(self.item_proj(self.item(i)), dim=-1)

    def forward(self, user, item, logq, weight):
        return self.user_vectors(user), self.item_vectors(item)


class _InBatchSoftmaxNet(NeuralNet):
    """skorch net whose loss is the softmax of each user over the batch's items.

    The logits are ``u . v / temperature - log Q(item)`` (sampling-bias correction, Yi et al.
    2019); other rows of the batch with the same item (accidental hits) are masked.
    """

    def __init__(self, *args, temperature=0.1, logq=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.temperature = temperature
        self.logq = logq

    def get_loss(self, y_pred, y_true, X=None, training=False):
        u, v = y_pred
        logits = u @ v.T / self.temperature
        item = X["item"].to(logits.device)
        if self.logq:
            logits = logits - X["logq"].to(logits.device)[None, :]
        same = item[:, None] == item[None, :]
        same.fill_diagonal_(False)
        logits = logits.masked_fill(same, float("-inf"))
        target = torch.arange(len(item), device=logits.device)
        return self.criterion_(logits, target, X["weight"].to(logits.device))


class TwoTowerRetriever(BaseRetriever):
    """Two-tower retrieval model trained as multi-class classification over the items.

    A user tower and an item tower map ids to unit vectors; the score of (user, item) is their
    dot product. Training treats each positive interaction as a class label among the items
    (the "recommendation list generation" view): a sampled softmax over the other items of the
    mini-batch (in-batch negatives, drawn in proportion to popularity), with the
    item-frequency correction :math:`s_{ui} - \\log Q(i)` (Yi et al. 2019) that keeps popular
    items from being over-penalised as negatives, and the focal loss (``loss="focal"``) that
    down-weights the easy examples. The summed ``sample_weight`` of a (user, item) pair weights
    its term of the loss. Trained with skorch on CPU torch.

    Parameters
    ----------
    embedding_dim : int, default=64
    max_epochs : int, default=20
    batch_size : int, default=512
        Also the number of in-batch negatives (+1).
    lr : float, default=0.005
        Adam learning rate.
    weight_decay : float, default=0.0
    temperature : float, default=0.1
        Softmax temperature of the cosine scores.
    logq_correction : bool, default=True
        Subtract :math:`\\log Q(i)`, the log of the item's share of the training interactions.
    loss : {"softmax", "focal"}, default="softmax"
        Cross-entropy, or :class:`~sklearn_recsys.losses.MulticlassFocalLoss`.
    focal_gamma : float, default=2.0
    user_col, item_col : str or int, default="user_id", "item_id"
    positive_only : bool, default=True
        When ``y`` is given, learn only from the rows with ``y > 0``.
    n_jobs : int or None, default=None
        torch threads (None: 1).
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0
        skorch's epoch log.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained net (``net_.history`` holds the epoch losses).
    user_vectors_ : ndarray of shape (n_users, embedding_dim)
    item_vectors_ : ndarray of shape (n_items, embedding_dim)
    user_index_, item_index_ : pandas.Index
    interactions_ : scipy.sparse.csr_matrix of shape (n_users, n_items)
    item_popularity_ : ndarray of shape (n_items,)
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when ``X`` has string column names.

    Examples
    --------
    >>> from sklearn_recsys.datasets import make_interactions
    >>> from sklearn_recsys.retrieval import TwoTowerRetriever
    >>> X = make_interactions(n_interactions=2000, random_state=0).interactions
    >>> tt = TwoTowerRetriever(embedding_dim=8, max_epochs=2, random_state=0).fit(X)
    >>> tt.score_matrix(X.user_id.iloc[:2]).shape == (2, X.item_id.nunique())
    True
    """

    _parameter_constraints = {
        "embedding_dim": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 2, None, closed="left")],
        "lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
        "temperature": [Interval(numbers.Real, 0, None, closed="neither")],
        "logq_correction": ["boolean"],
        "loss": [StrOptions({"softmax", "focal"})],
        "focal_gamma": [Interval(numbers.Real, 0, None, closed="left")],
        "n_jobs": [numbers.Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        **BaseRetriever._common_constraints,
    }

    def __init__(
        self,
        embedding_dim=64,
        max_epochs=20,
        batch_size=512,
        lr=0.005,
        weight_decay=0.0,
        temperature=0.1,
        logq_correction=True,
        loss="softmax",
        focal_gamma=2.0,
        *,
        user_col="user_id",
        item_col="item_id",
        positive_only=True,
        n_jobs=None,
        random_state=None,
        verbose=0,
    ):
        self.embedding_dim = embedding_dim
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.temperature = temperature
        self.logq_correction = logq_correction
        self.loss = loss
        self.focal_gamma = focal_gamma
        self.user_col = user_col
        self.item_col = item_col
        self.positive_only = positive_only
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _fit_matrix(self, R):
        coo = R.tocoo()
        n = coo.nnz
        weight = coo.data / coo.data.mean()
        logq = np.log(np.maximum(self.item_popularity_, 1e-12))
        data = {
            "user": torch.as_tensor(coo.row, dtype=torch.long),
            "item": torch.as_tensor(coo.col, dtype=torch.long),
            "logq": torch.as_tensor(logq[coo.col], dtype=torch.float32),
            "weight": torch.as_tensor(weight, dtype=torch.float32),
        }
        seed = derive_seed(self.random_state)
        net = _InBatchSoftmaxNet(
            _Towers,
            module__n_users=R.shape[0],
            module__n_items=R.shape[1],
            module__dim=self.embedding_dim,
            criterion=MulticlassFocalLoss,
            criterion__gamma=self.focal_gamma if self.loss == "focal" else 0.0,
            optimizer=torch.optim.Adam,
            optimizer__weight_decay=self.weight_decay,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=min(self.batch_size, n),
            iterator_train__shuffle=True,
            iterator_train__drop_last=n > self.batch_size,
            train_split=None,
            temperature=self.temperature,
            logq=self.logq_correction,
            verbose=int(self.verbose),
            device="cpu",
        )
        with torch_threads(self.n_jobs), seeded_torch(seed):
            net.fit(Dataset(data, np.zeros(n, dtype=np.float32)), y=None)
            module = net.module_.eval()
            with torch.no_grad():
                self.user_vectors_ = (
                    module.user_vectors(torch.arange(R.shape[0])).numpy().astype(float)
                )
                self.item_vectors_ = (
                    module.item_vectors(torch.arange(R.shape[1])).numpy().astype(float)
                )
        self.net_ = net

    def _user_scores(self, codes):
        return self.user_vectors_[codes] @ self.item_vectors_.T
