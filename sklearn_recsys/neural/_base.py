"""What NeuralRanker and MultiTaskRanker share: input checks, class weights, the stratified
validation split, the callbacks and the skorch keyword arguments."""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)
from skorch.callbacks import EarlyStopping, LRScheduler
from skorch.helper import predefined_split
from torch.optim.lr_scheduler import CosineAnnealingLR, ExponentialLR, ReduceLROnPlateau

from .._contract import check_interactions
from ..utils import derive_seed, seeded_torch, torch_threads
from ._callbacks import DynamicClassWeight, epoch_scoring_callbacks, make_balanced_sampler
from ._data import ArrayDictDataset, batch_loader
from ._net import LOSSES, OPTIMIZERS

LR_SCHEDULES = ("constant", "cosine", "exponential", "plateau")
MONITORS = ("valid_loss", "valid_roc_auc", "valid_pr_auc", "valid_gmean")

COMMON_CONSTRAINTS = {
    "embedding_dim": [Interval(Integral, 1, None, closed="left")],
    "hidden_units": [Interval(Integral, 1, None, closed="left"), "array-like"],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "batch_norm": ["boolean"],
    "loss": [StrOptions(set(LOSSES))],
    "focal_gamma": [Interval(Real, 0, None, closed="left")],
    "focal_alpha": [Interval(Real, 0, 1, closed="both"), None],
    "cb_beta": [Interval(Real, 0, 1, closed="left")],
    "class_weight": [StrOptions({"balanced"}), dict, None],
    "dynamic_class_weight": ["boolean"],
    "dynamic_max_weight": [Interval(Real, 1, None, closed="left")],
    "balanced_batches": ["boolean"],
    "optimizer": [StrOptions(set(OPTIMIZERS))],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "lr_schedule": [StrOptions(set(LR_SCHEDULES))],
    "lr_decay": [Interval(Real, 0, 1, closed="neither")],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "l1_penalty": [Interval(Real, 0, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "monitor": [StrOptions(set(MONITORS))],
    "user_col": [str, None],
    "item_col": [str, None],
    "random_state": ["random_state"],
    "device": [str],
    "n_jobs": [Integral, None],
    "verbose": ["verbose"],
}


class NeuralBase(ClassifierMixin, BaseEstimator):
    """Shared machinery; sub-classes define ``__init__``, ``fit`` and ``predict_proba``."""

    # --- input ---------------------------------------------------------------------------
    def _validate_X(self, X, reset):
        if isinstance(X, pd.DataFrame) and (reset or self.encoder_.is_frame_):
            check_interactions(X)
            validate_data(self, X, reset=reset, skip_check_array=True)
            return X
        if not reset and self.encoder_.is_frame_:
            raise TypeError(
                f"{type(self).__name__} was fitted on an interaction DataFrame; pass a DataFrame "
                f"with the same columns, got {type(X).__name__}."
            )
        return validate_data(self, X, reset=reset, dtype=np.float64)

    def _validate_target(self, X, y):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        check_classification_targets(y)
        classes, y_enc = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes in y; got 1 class: "
                f"{classes.tolist()}."
            )
        return classes, y_enc.astype(np.int64)

    def _hidden_units(self):
        units = self.hidden_units
        units = [units] if isinstance(units, Integral) else list(units)
        if any(isinstance(u, bool) or not isinstance(u, Integral) or u < 1 for u in units):
            raise ValueError(
                f"hidden_units must be a sequence of integers >= 1; got {self.hidden_units!r}."
            )
        return [int(u) for u in units]

    def _check_device(self):
        try:
            device = torch.device(self.device)
        except RuntimeError as exc:
            raise ValueError(f"device={self.device!r} is not a torch device: {exc}") from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device={self.device!r} but CUDA is not available here.")
        return str(device)

    # --- class weights -------------------------------------------------------------------
    def _class_weight_vector(self, y_enc, n_classes):
        class_weight = self.class_weight
        if class_weight is None and self.loss == "weighted":
            class_weight = "balanced"
        if class_weight is None:
            return None
        if isinstance(class_weight, str):
            return compute_class_weight("balanced", classes=np.arange(n_classes), y=y_enc)
        weights = np.ones(n_classes)
        known = {label: i for i, label in enumerate(self.classes_.tolist())}
        for label, w in class_weight.items():
            key = label.item() if isinstance(label, np.generic) else label
            if key not in known:
                raise ValueError(
                    f"class_weight has a key {label!r} that is not a class of y; classes are "
                    f"{self.classes_.tolist()}."
                )
            if not np.isfinite(w) or w < 0:
                raise ValueError(
                    f"class_weight[{label!r}] must be a finite number >= 0; got {w!r}."
                )
            weights[known[key]] = w
        return weights

    @staticmethod
    def _prior_bias(criterion, y_train, sample_weight, n_classes):
        """Output bias at the (class- and sample-weighted) prior log-odds of the training rows.

        With balanced batches every class is drawn equally often: the prior is uniform.
        """
        weight = np.ones(len(y_train)) if sample_weight is None else sample_weight
        mass = np.bincount(y_train, weights=weight, minlength=n_classes).astype(np.float64)
        for name in ("cb_weight", "class_weight"):
            w = getattr(criterion, name, None)
            if w is not None:
                mass = mass * w.detach().cpu().numpy()
        prior = np.clip(mass / mass.sum(), 1e-6, 1.0)
        if n_classes == 2:
            return [float(np.log(prior[1] / prior[0]))]
        return np.log(prior).tolist()

    # --- validation split ----------------------------------------------------------------
    def _split(self, y_enc, seed):
        n = len(y_enc)
        if self.validation_fraction is None:
            for name in ("early_stopping", "dynamic_class_weight"):
                if getattr(self, name):
                    raise ValueError(
                        f"{name}=True needs a validation set; set validation_fraction (e.g. 0.1)."
                    )
            if self.monitor != "valid_loss":
                raise ValueError(f"monitor={self.monitor!r} needs a validation set.")
            return np.arange(n), None
        counts = np.bincount(y_enc)
        n_classes = len(counts)
        # at least one validation row per class, at least one training row per class
        n_valid = max(math.ceil(self.validation_fraction * n), n_classes)
        if counts.min() < 2 or n - n_valid < n_classes:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} cannot hold out a stratified "
                f"validation set from {n} samples with class counts {counts.tolist()} (each "
                "class needs 2+ samples); use validation_fraction=None with "
                "early_stopping=False to train on every row."
            )
        return train_test_split(np.arange(n), test_size=n_valid, stratify=y_enc,
                                random_state=seed)

    # --- skorch configuration ------------------------------------------------------------
    def _callbacks(self, has_valid):
        callbacks = []
        if has_valid:
            callbacks += epoch_scoring_callbacks()
        if self.dynamic_class_weight:
            callbacks.append(("dynamic_class_weight",
                              DynamicClassWeight(max_weight=self.dynamic_max_weight,
                                                 min_weight=1.0 / self.dynamic_max_weight)))
        monitor = self.monitor if has_valid else "train_loss"
        lower = monitor.endswith("loss")
        if self.lr_schedule == "cosine":
            callbacks.append(("lr_scheduler",
                              LRScheduler(policy=CosineAnnealingLR, T_max=self.max_epochs)))
        elif self.lr_schedule == "exponential":
            callbacks.append(("lr_scheduler", LRScheduler(policy=ExponentialLR,
                                                          gamma=self.lr_decay)))
        elif self.lr_schedule == "plateau":
            callbacks.append(("lr_scheduler", LRScheduler(
                policy=ReduceLROnPlateau, monitor=monitor, mode="min" if lower else "max",
                factor=self.lr_decay, patience=max(1, self.n_iter_no_change // 2))))
        if self.early_stopping:
            callbacks.append(("early_stopping", EarlyStopping(
                monitor=monitor, patience=self.n_iter_no_change, lower_is_better=lower,
                load_best=True)))
        return callbacks

    def _net_kwargs(self, data, y_arr, sample_weight, train_idx, valid_idx, y_enc):
        """skorch keyword arguments shared by every net, and the training data."""

        def subset(idx):
            part = {k: v[idx] for k, v in data.items()}
            if sample_weight is not None:
                part["sample_weight"] = sample_weight[idx]
            return part

        X_train, y_train = subset(train_idx), y_arr[train_idx]
        kwargs = dict(
            optimizer=OPTIMIZERS[self.optimizer],
            lr=self.lr,
            optimizer__weight_decay=self.weight_decay,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            train_split=None,
            callbacks=self._callbacks(valid_idx is not None),
            device=self._check_device(),
            verbose=self.verbose,
            l1_penalty=self.l1_penalty,
            dataset=ArrayDictDataset,
            iterator_train=batch_loader,
            iterator_valid=batch_loader,
            iterator_train__shuffle=not self.balanced_batches,
            iterator_train__drop_last=bool(self.batch_norm
                                           and len(train_idx) % self.batch_size == 1),
        )
        if self.optimizer == "sgd":
            kwargs["optimizer__momentum"] = 0.9
        if self.balanced_batches:
            kwargs["iterator_train__sampler"] = make_balanced_sampler(y_enc[train_idx])
        if valid_idx is not None:
            kwargs["train_split"] = predefined_split(
                ArrayDictDataset(subset(valid_idx), y_arr[valid_idx]))
        return kwargs, X_train, y_train

    def _prepare(self, X, y_enc, sample_weight):
        """Seed, sample weights and split: (seed, sample_weight, train_idx, valid_idx)."""
        seed = derive_seed(self.random_state)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                                 ensure_non_negative=True)
            sample_weight = sample_weight.astype(np.float32)
        train_idx, valid_idx = self._split(y_enc, seed)
        return seed, sample_weight, train_idx, valid_idx

    def _train(self, net, X_train, y_train, seed):
        with torch_threads(self.n_jobs), seeded_torch(seed, net.device):
            net.fit(X_train, y_train)
        net.train_split = None  # do not keep (and pickle) the validation data
        self.net_ = net
        self.n_epochs_ = len(net.history)
        return self

    # --- prediction ----------------------------------------------------------------------
    def _forward(self, X):
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        with torch_threads(self.n_jobs):
            return self.net_.forward(self.encoder_.transform(X), training=False, device="cpu")

    @staticmethod
    def _proba(logits):
        out = logits.detach().double().numpy()
        if out.ndim == 1:
            p = expit(out)
            return np.column_stack([1 - p, p])
        return softmax(out, axis=1)

    def predict(self, X):
        """Most probable class of each row.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, n_features)
            Interactions (same columns as in ``fit``; unknown ids are fine).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    @property
    def history_(self):
        """The skorch ``History`` of the fit: losses, validation scores, class weights."""
        check_is_fitted(self)
        return self.net_.history

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
