"""What the neural classifiers share: input checks, class weights, the stratified validation
split, the callbacks, skorch's routed parameters and the skorch keyword arguments."""

from __future__ import annotations

import copy
import math
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import Hidden, Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
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
from ._net import LOSSES, OPTIMIZER_DEFAULTS, OPTIMIZERS, make_loss

LR_SCHEDULES = ("constant", "cosine", "exponential", "plateau")
MONITORS = ("valid_loss", "valid_roc_auc", "valid_pr_auc", "valid_gmean")
#: skorch's prefixes that the estimators route: ``<prefix>__<name>`` goes to that part of the net.
ROUTED_PREFIXES = (
    "module",
    "criterion",
    "optimizer",
    "iterator_train",
    "iterator_valid",
    "callbacks",
)

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
    "optimizer": [StrOptions(set(OPTIMIZERS)), callable],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "lr_schedule": [StrOptions(set(LR_SCHEDULES))],
    "lr_decay": [Interval(Real, 0, 1, closed="neither")],
    "weight_decay": [Interval(Real, 0, None, closed="left"), Hidden(StrOptions({"deprecated"}))],
    "l1_penalty": [Interval(Real, 0, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "monitor": [StrOptions(set(MONITORS))],
    "callbacks": [list, None],
    "user_col": [str, Integral, None],
    "item_col": [str, Integral, None],
    "random_state": ["random_state"],
    "device": [str],
    "n_jobs": [Integral, None],
    "verbose": ["verbose"],
}


def is_routed(name):
    """Whether ``name`` is one of skorch's routed parameters, ``<prefix>__<name>``."""
    prefix, sep, rest = name.partition("__")
    return bool(sep and rest) and prefix in ROUTED_PREFIXES


class RenamedMixin:
    """Mixin of a deprecated class alias, ``class OldName(RenamedMixin, NewName)``: ``fit``
    warns (``FutureWarning``, naming ``NewName``) and then is ``NewName.fit``."""

    def fit(self, X, y, sample_weight=None):
        """Warn that this name is deprecated, then fit as the new class.

        Parameters
        ----------
        X, y, sample_weight
            As in the new class's ``fit``.

        Returns
        -------
        self : estimator instance
        """
        mro = type(self).__mro__
        at = mro.index(RenamedMixin)
        warnings.warn(
            f"{mro[at - 1].__name__} is deprecated and will be removed in the next release; use "
            f"{mro[at + 1].__name__} (same parameters and behaviour).",
            FutureWarning,
            stacklevel=2,
        )
        return super().fit(X, y, sample_weight=sample_weight)


class NeuralBase(ClassifierMixin, BaseEstimator):
    """Shared machinery; sub-classes define ``__init__``, ``fit`` and ``predict_proba``.

    Besides the parameters of its signature, an estimator takes skorch's routed parameters
    ``<prefix>__<name>`` (prefixes in :data:`ROUTED_PREFIXES`) as ``**kwargs``, stored
    unchanged, listed by ``get_params`` and set by ``set_params``, as in ``skorch.NeuralNet``.
    """

    # --- parameters ----------------------------------------------------------------------
    def _store_params(self, params):
        """The body of ``__init__``: store its arguments (``params``: its ``locals()``) unchanged,
        the routed ``**kwargs`` included (their names are checked in ``fit``, as skorch does)."""
        params = {k: v for k, v in params.items() if k not in ("self", "__class__")}
        routed = params.pop("kwargs")
        vars(self).update(params, **routed)

    def _get_param_names(self):
        # the signature's parameters and those of **kwargs: the public attributes that are
        # not fitted (``name_``), as in skorch
        names = super()._get_param_names()
        extra = [
            k
            for k in vars(self)
            if k not in names and not k.startswith("_") and not k.endswith("_")
        ]
        return sorted([*names, *extra])

    def _validate_params(self):
        own = super()._get_param_names()
        unexpected = sorted(k for k in self._get_param_names() if k not in own and not is_routed(k))
        if unexpected:
            raise TypeError(
                f"{type(self).__name__} got unexpected parameter(s) {unexpected}; besides its "
                "own parameters it takes skorch's routed parameters <prefix>__<name> with a "
                f"prefix among {list(ROUTED_PREFIXES)}."
            )
        super()._validate_params()

    def set_params(self, **params):
        """Set the parameters of this estimator, skorch's routed ``<prefix>__<name>`` included.

        Parameters
        ----------
        **params : dict
            Estimator parameters.

        Returns
        -------
        self : estimator instance
        """
        routed = {k: params.pop(k) for k in list(params) if is_routed(k)}
        super().set_params(**params)
        vars(self).update(routed)
        return self

    def _routed_params(self, prefix):
        """The routed parameters ``prefix__<name>`` as ``{name: value}``."""
        start = prefix + "__"
        return {k[len(start) :]: v for k, v in vars(self).items() if k.startswith(start)}

    def _routed(self, prefix, owned, defaults=None, sources=None):
        """Arguments of a part of the net: ``defaults``, then ``owned`` (what the estimator sets
        from its parameters or the training data), then the routed ``prefix__<name>``
        parameters, which may not set an ``owned`` argument (``sources``: name -> parameter that
        sets it, when the names differ)."""
        routed = self._routed_params(prefix)
        for name in sorted(set(routed) & set(owned)):
            source = (sources or {}).get(name, name)
            hint = (
                f"the parameter {source} sets it"
                if source in self.get_params(deep=False)
                else "it is derived from the training data"
            )
            raise ValueError(f"{prefix}__{name} cannot be set on {type(self).__name__}: {hint}.")
        return {**(defaults or {}), **owned, **routed}

    # --- input ---------------------------------------------------------------------------
    def _as_frame(self, X):
        """An array whose id columns are given by position becomes a DataFrame with the columns
        ``0 .. n_features - 1`` (as in ``InteractionFeaturizer``); anything else is unchanged."""
        if isinstance(X, pd.DataFrame) or not any(
            isinstance(c, Integral) for c in (self.user_col, self.item_col)
        ):
            return X
        # missing or infinite values are left to the encoder, whose errors name the column
        return pd.DataFrame(check_array(X, dtype=None, ensure_all_finite=False)).infer_objects()

    def _fitted_on_frame(self):
        return self.encoder_.is_frame_

    def _validate_X(self, X, reset):
        X = self._as_frame(X)
        if isinstance(X, pd.DataFrame) and (reset or self._fitted_on_frame()):
            check_interactions(X)
            validate_data(self, X, reset=reset, skip_check_array=True)
            return X
        if not reset and self._fitted_on_frame():
            raise TypeError(
                f"{type(self).__name__} was fitted on an interaction DataFrame; pass a DataFrame "
                f"with the same columns, got {type(X).__name__}."
            )
        return validate_data(self, X, reset=reset, dtype=np.float64)

    def _validate_fit_data(self, X, y):
        """``(X, y_enc)`` for ``fit``: checks ``X`` (and records its features) and the labels
        ``y``, whose sorted classes become ``classes_`` (``y_enc``: their codes)."""
        X = self._validate_X(X, reset=True)
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        check_classification_targets(y)
        self.classes_, y_enc = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes in y; got 1 class: "
                f"{self.classes_.tolist()}."
            )
        return X, y_enc.astype(np.int64)

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

    def _criterion(self, n_classes, y_enc, train_idx):
        """The loss module of ``loss`` (with the routed ``criterion__<name>`` parameters)."""
        return make_loss(
            self.loss,
            n_classes,
            class_weight=self._class_weight_vector(y_enc, n_classes),
            focal_gamma=self.focal_gamma,
            focal_alpha=self.focal_alpha,
            cb_beta=self.cb_beta,
            samples_per_class=np.bincount(y_enc[train_idx], minlength=n_classes),
            criterion_params=self._routed_params("criterion"),
        )

    def _output_bias(self, criterion, y_enc, sample_weight, train_idx, n_classes):
        """Output bias at the (class- and sample-weighted) prior log-odds of the training rows.

        ``None`` with balanced batches (every class is drawn equally often: the prior is
        uniform and the module's zero bias is right).
        """
        if self.balanced_batches:
            return None
        weight = np.ones(len(train_idx)) if sample_weight is None else sample_weight[train_idx]
        mass = np.bincount(y_enc[train_idx], weights=weight, minlength=n_classes)
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
        return train_test_split(np.arange(n), test_size=n_valid, stratify=y_enc, random_state=seed)

    # --- skorch configuration ------------------------------------------------------------
    def _callbacks(self, has_valid):
        callbacks = []
        if has_valid:
            callbacks += epoch_scoring_callbacks()
        if self.dynamic_class_weight:
            callbacks.append(
                (
                    "dynamic_class_weight",
                    DynamicClassWeight(
                        max_weight=self.dynamic_max_weight, min_weight=1.0 / self.dynamic_max_weight
                    ),
                )
            )
        monitor = self.monitor if has_valid else "train_loss"
        lower = monitor.endswith("loss")
        if self.lr_schedule == "cosine":
            callbacks.append(
                ("lr_scheduler", LRScheduler(policy=CosineAnnealingLR, T_max=self.max_epochs))
            )
        elif self.lr_schedule == "exponential":
            callbacks.append(
                ("lr_scheduler", LRScheduler(policy=ExponentialLR, gamma=self.lr_decay))
            )
        elif self.lr_schedule == "plateau":
            callbacks.append(
                (
                    "lr_scheduler",
                    LRScheduler(
                        policy=ReduceLROnPlateau,
                        monitor=monitor,
                        mode="min" if lower else "max",
                        factor=self.lr_decay,
                        patience=max(1, self.n_iter_no_change // 2),
                    ),
                )
            )
        if self.early_stopping:
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(
                        monitor=monitor,
                        patience=self.n_iter_no_change,
                        lower_is_better=lower,
                        load_best=True,
                    ),
                )
            )
        return callbacks

    def _optimizer(self):
        """skorch's ``optimizer`` (a class) and its ``optimizer__<name>`` arguments."""
        named = isinstance(self.optimizer, str)
        defaults = dict(OPTIMIZER_DEFAULTS.get(self.optimizer, {})) if named else {}
        if self.weight_decay != "deprecated":
            if "weight_decay" in self._routed_params("optimizer"):
                raise ValueError(
                    "weight_decay (deprecated) and optimizer__weight_decay are both set; set "
                    "optimizer__weight_decay only."
                )
            warnings.warn(
                "weight_decay is deprecated and will be removed in the next release; use "
                "optimizer__weight_decay (the same value).",
                FutureWarning,
                stacklevel=4,
            )
            defaults["weight_decay"] = self.weight_decay
        args = self._routed("optimizer", {"lr": self.lr}, defaults)
        return OPTIMIZERS[self.optimizer] if named else self.optimizer, args

    def _net_kwargs(
        self,
        data,
        y_arr,
        sample_weight,
        train_idx,
        valid_idx,
        y_enc,
        *,
        module_args=None,
        loader=batch_loader,
    ):
        """skorch keyword arguments shared by every net, and the training data.

        ``module_args``: the arguments the estimator gives the module class (``None`` when it
        builds the module itself); ``loader``: skorch's ``iterator_train`` / ``iterator_valid``.
        """

        def subset(idx):
            part = {k: v[idx] for k, v in data.items()}
            if sample_weight is not None:
                part["sample_weight"] = sample_weight[idx]
            return part

        X_train, y_train = subset(train_idx), y_arr[train_idx]
        optimizer, optimizer_args = self._optimizer()
        sampler = (
            {"sampler": make_balanced_sampler(y_enc[train_idx])} if self.balanced_batches else {}
        )
        train_args = self._routed(
            "iterator_train",
            sampler,
            {
                "shuffle": not self.balanced_batches,
                "drop_last": bool(self.batch_norm and len(train_idx) % self.batch_size == 1),
            },
            sources={"sampler": "balanced_batches"},
        )
        routed = {
            "optimizer": optimizer_args,
            "iterator_train": train_args,
            "iterator_valid": self._routed_params("iterator_valid"),
            # skorch classifiers' accuracy callback: replaced by the whole-validation scores
            "callbacks": {"valid_acc": None, **self._routed_params("callbacks")},
        }
        if module_args is not None:
            routed["module"] = self._routed("module", module_args)
        kwargs = dict(
            optimizer=optimizer,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            train_split=None,
            callbacks=self._callbacks(valid_idx is not None)
            + copy.deepcopy(list(self.callbacks or [])),
            device=self._check_device(),
            verbose=self.verbose,
            l1_penalty=self.l1_penalty,
            dataset=ArrayDictDataset,
            iterator_train=loader,
            iterator_valid=loader,
            **{f"{prefix}__{k}": v for prefix, args in routed.items() for k, v in args.items()},
        )
        if valid_idx is not None:
            kwargs["train_split"] = predefined_split(
                ArrayDictDataset(subset(valid_idx), y_arr[valid_idx])
            )
        return kwargs, X_train, y_train

    def _prepare(self, X, y_enc, sample_weight):
        """Seed, sample weights and split: (seed, sample_weight, train_idx, valid_idx)."""
        seed = derive_seed(self.random_state)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
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
