"""MultiTaskClassifier: a shared bottom with a main and an auxiliary head, trained with skorch."""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import type_of_target

from ._base import COMMON_CONSTRAINTS, NeuralBase, RenamedMixin
from ._encoding import _TabularEncoder
from ._modules import MultiTaskModule
from ._net import MultiTaskLoss, MultiTaskNet, sigmoid_proba, softmax_proba

__all__ = ["MultiTaskClassifier", "MultiTaskRanker"]


class MultiTaskClassifier(NeuralBase):
    """Shared-bottom multi-task network: a main task and an auxiliary task, one model.

    An MLP bottom over the embeddings (ids, categories) and scaled numeric columns feeds two
    heads: the main task (binary or multiclass; ``predict_proba`` returns it) and an auxiliary
    task, e.g. click next to the far rarer purchase, or the item category next to an interest
    label. The auxiliary task is a 0/1 label (BCE), a class (cross-entropy) or a number
    (squared error on the standardised value), detected from its values. The training loss is

    .. math::

        L = \\lambda_{main} L_{main} + \\lambda_{aux} L_{aux}

    with :math:`L_{main}` any loss of :class:`NeuralClassifier` (``loss``, ``class_weight``,
    dynamic weights, ...). Training runs in skorch (``NeuralNet`` with the same callbacks and
    routed parameters; ``criterion__<name>`` goes to the main task's loss).

    The auxiliary target comes from ``y`` with two columns ``[main, aux]``, or from the column
    ``aux_col`` of the DataFrame ``X`` (removed from the features; optional at prediction time).
    Without either, the model trains the main task only and warns.

    Parameters
    ----------
    aux_col : str or None, default=None
        Column of the DataFrame ``X`` holding the auxiliary target.
    main_weight, aux_weight : float, default=1.0, 1.0
        Per-task loss weights :math:`\\lambda`.
    head_units : int or sequence of int, default=(16,)
        Hidden units of each task head.
    embedding_dim, hidden_units, dropout, batch_norm : see :class:`NeuralClassifier`
        Embedding size and the shared bottom MLP.
    loss, focal_gamma, focal_alpha, cb_beta, class_weight : see :class:`NeuralClassifier`
        Loss of the main task.
    dynamic_class_weight, dynamic_max_weight, balanced_batches : see :class:`NeuralClassifier`
        Imbalance handling of the main task.
    optimizer, lr, lr_schedule, lr_decay, l1_penalty : see :class:`NeuralClassifier`
        Optimisation.
    weight_decay : float
        Deprecated: use ``optimizer__weight_decay`` (removed in the next release).
    batch_size, max_epochs, early_stopping, validation_fraction, n_iter_no_change, monitor : \
            see :class:`NeuralClassifier`
        Training length; the validation split is stratified on the main task.
    callbacks : list or None, default=None
        More skorch callbacks, as in :class:`NeuralClassifier`.
    user_col, item_col, random_state, device, n_jobs, verbose : see :class:`NeuralClassifier`
        Id columns (names, or positions in an array), reproducibility and hardware.
    **kwargs
        skorch's routed parameters, as in :class:`NeuralClassifier`; the module
        (``MultiTaskModule``) takes ``module__activation`` and ``module__embedding_std``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Classes of the main task.
    n_tasks_ : int
        2, or 1 when no auxiliary target was given.
    aux_task_ : {"binary", "multiclass", "continuous"} or None
        Type of the auxiliary target.
    aux_classes_ : ndarray or None
        Classes of a binary / multiclass auxiliary target.
    net_ : skorch.NeuralNet
        The trained skorch net.
    encoder_ : object
        The fitted column encoder.
    n_epochs_ : int
        Epochs actually run.
    history_ : skorch.History
        Per-epoch losses and validation scores of the main task.
    n_features_in_ : int
        Number of feature columns (``aux_col`` excluded).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature column names, when ``X`` is a DataFrame.

    See Also
    --------
    NeuralClassifier : single-task architectures (MLP, Wide & Deep, DeepFM, two-tower).

    Examples
    --------
    >>> from sklearn_recsys.datasets import make_interactions
    >>> from sklearn_recsys.neural import MultiTaskClassifier
    >>> df = make_interactions(n_users=100, n_items=40, n_interactions=1500,
    ...                        positive_rate=0.1, random_state=0).interactions
    >>> X, y = df.drop(columns=["purchase", "timestamp"]), df["purchase"]
    >>> model = MultiTaskClassifier(aux_col="category", aux_weight=0.5, max_epochs=3,
    ...                             random_state=0).fit(X, y)
    >>> model.aux_task_
    'multiclass'
    >>> out = model.predict_all(X.head(4))
    >>> out["main"].shape, out["aux"].shape[0]
    ((4, 2), 4)
    """

    _parameter_constraints = {
        **COMMON_CONSTRAINTS,
        "aux_col": [str, None],
        "main_weight": [Interval(Real, 0, None, closed="left")],
        "aux_weight": [Interval(Real, 0, None, closed="left")],
        "head_units": [Interval(Integral, 1, None, closed="left"), "array-like"],
    }

    def __init__(
        self,
        aux_col=None,
        *,
        main_weight=1.0,
        aux_weight=1.0,
        head_units=(16,),
        embedding_dim=16,
        hidden_units=(64, 32),
        dropout=0.1,
        batch_norm=False,
        loss="bce",
        focal_gamma=2.0,
        focal_alpha=None,
        cb_beta=0.999,
        class_weight=None,
        dynamic_class_weight=False,
        dynamic_max_weight=10.0,
        balanced_batches=False,
        optimizer="adam",
        lr=1e-3,
        lr_schedule="constant",
        lr_decay=0.9,
        weight_decay="deprecated",
        l1_penalty=0.0,
        batch_size=256,
        max_epochs=20,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=5,
        monitor="valid_loss",
        callbacks=None,
        user_col="user_id",
        item_col="item_id",
        random_state=None,
        device="cpu",
        n_jobs=None,
        verbose=0,
        **kwargs,
    ):
        self._store_params(locals())

    # --- targets -------------------------------------------------------------------------
    def _targets(self, X, y):
        """Split (X, y) into (X features, main target, aux target or None)."""
        y_2d = (
            None
            if y is None
            else np.asarray(y, dtype=object if isinstance(y, pd.DataFrame) else None)
        )
        if y_2d is not None and y_2d.ndim == 2 and y_2d.shape[1] != 1:
            if y_2d.shape[1] != 2:
                raise ValueError(
                    f"y must have 1 column (main task) or 2 columns (main, auxiliary); got "
                    f"{y_2d.shape[1]}."
                )
            if self.aux_col is not None:
                raise ValueError(
                    f"the auxiliary target is given twice: y has 2 columns and "
                    f"aux_col={self.aux_col!r}; use one of them."
                )
            return X, y_2d[:, 0], y_2d[:, 1]
        if self.aux_col is not None:
            if not isinstance(X, pd.DataFrame) or self.aux_col not in X.columns:
                cols = list(X.columns) if isinstance(X, pd.DataFrame) else type(X).__name__
                raise ValueError(f"aux_col={self.aux_col!r} is not a column of X ({cols}).")
            return X.drop(columns=[self.aux_col]), y, X[self.aux_col]
        if y is None:
            return X, y, None
        warnings.warn(
            f"{type(self).__name__} got no auxiliary target (y has one column and "
            "aux_col=None): training the main task only.",
            UserWarning,
            stacklevel=3,
        )
        return X, y, None

    def _encode_aux(self, aux):
        aux = pd.Series(np.asarray(aux) if not isinstance(aux, pd.Series) else aux)
        if aux.isna().any():
            raise ValueError(f"the auxiliary target has {int(aux.isna().sum())} missing values.")
        self.aux_classes_, self.aux_mean_, self.aux_scale_ = None, None, None
        if (
            isinstance(aux.dtype, pd.CategoricalDtype)
            or not pd.api.types.is_numeric_dtype(aux.dtype)
            or pd.api.types.is_bool_dtype(aux.dtype)
        ):
            kind = "multiclass"
        else:
            kind = type_of_target(aux.to_numpy())
        if kind in ("binary", "multiclass"):
            codes, classes = pd.factorize(aux, sort=True)
            if len(classes) < 2:
                raise ValueError("the auxiliary target has a single class; nothing to learn.")
            self.aux_classes_ = np.asarray(classes)
            self.aux_task_ = "binary" if len(classes) == 2 else "multiclass"
            return codes.astype(np.float32), 1 if len(classes) == 2 else len(classes)
        if kind == "continuous":
            values = aux.to_numpy(dtype=np.float64)
            if not np.all(np.isfinite(values)):
                raise ValueError("the auxiliary target holds infinite values.")
            self.aux_mean_ = float(values.mean())
            self.aux_scale_ = float(values.std()) or 1.0
            self.aux_task_ = "continuous"
            return ((values - self.aux_mean_) / self.aux_scale_).astype(np.float32), 1
        raise ValueError(f"the auxiliary target must be a label or a number; got {kind!r}.")

    def _drop_aux(self, X):
        if self.aux_col is not None and isinstance(X, pd.DataFrame) and self.aux_col in X:
            return X.drop(columns=[self.aux_col])
        return X

    # --- fit / predict -------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train both tasks.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, n_features)
            Interactions (with ``aux_col`` if that is where the auxiliary target is).
        y : array-like of shape (n_samples,) or (n_samples, 2)
            Main-task labels, or ``[main, auxiliary]`` columns.
        sample_weight : array-like of shape (n_samples,) or None, default=None
            Per-row weights, applied to both task losses.

        Returns
        -------
        self : MultiTaskClassifier
        """
        X, y_main, aux = self._targets(X, y)
        X, y_enc = self._validate_fit_data(X, y_main)
        n_classes = len(self.classes_)
        binary = n_classes == 2
        if aux is None:
            self.n_tasks_, self.aux_task_ = 1, None
            self.aux_classes_ = self.aux_mean_ = self.aux_scale_ = None
            aux_values, n_aux = np.zeros(len(y_enc), dtype=np.float32), 1
        else:
            if len(aux) != len(y_enc):
                raise ValueError(
                    f"the auxiliary target has {len(aux)} values for {len(y_enc)} rows."
                )
            self.n_tasks_ = 2
            aux_values, n_aux = self._encode_aux(aux)
        head_units = (
            [self.head_units] if isinstance(self.head_units, Integral) else list(self.head_units)
        )
        self.encoder_ = enc = _TabularEncoder(self.user_col, self.item_col).fit(X)
        seed, sample_weight, train_idx, valid_idx = self._prepare(X, y_enc, sample_weight)
        main_loss = self._criterion(n_classes, y_enc, train_idx)
        module_args = dict(
            embedding_dim=self.embedding_dim,
            hidden_units=self._hidden_units(),
            head_units=head_units,
            dropout=self.dropout,
            batch_norm=self.batch_norm,
            n_dense=enc.n_dense_,
            cardinalities=enc.cardinalities_,
            n_outputs=1 if binary else n_classes,
            n_aux_outputs=n_aux,
            output_bias=self._output_bias(main_loss, y_enc, sample_weight, train_idx, n_classes),
        )
        y_arr = np.column_stack([y_enc.astype(np.float32), aux_values])
        kwargs, X_train, y_train = self._net_kwargs(
            enc.transform(X),
            y_arr,
            sample_weight,
            train_idx,
            valid_idx,
            y_enc,
            module_args=module_args,
        )
        criterion = MultiTaskLoss(
            main_loss,
            aux_task=self.aux_task_,
            main_weight=self.main_weight,
            aux_weight=self.aux_weight,
        )
        net = MultiTaskNet(
            MultiTaskModule,
            criterion=criterion,
            predict_nonlinearity=sigmoid_proba if binary else softmax_proba,
            **kwargs,
        )
        return self._train(net, X_train, y_train, seed)

    def predict_proba(self, X):
        """Probabilities of the main task.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, n_features)
            Same feature columns as in ``fit`` (``aux_col`` may be present or not).

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        main, _ = self._forward(self._drop_aux(X))
        return self._proba(main)

    def predict_all(self, X):
        """Outputs of both heads.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, n_features)
            Same feature columns as in ``fit``.

        Returns
        -------
        outputs : dict
            ``"main"``: main-task probabilities (n_samples, n_classes). ``"aux"``: class
            probabilities (n_samples, n_aux_classes) for a label, predicted values
            (n_samples,) for a number, ``None`` without an auxiliary task.
        """
        main, aux = self._forward(self._drop_aux(X))
        out = {"main": self._proba(main), "aux": None}
        if self.aux_task_ == "continuous":
            out["aux"] = aux.detach().double().numpy() * self.aux_scale_ + self.aux_mean_
        elif self.aux_task_ is not None:
            out["aux"] = self._proba(aux)
        return out


class MultiTaskRanker(RenamedMixin, MultiTaskClassifier):
    """Deprecated alias of :class:`MultiTaskClassifier`; use ``MultiTaskClassifier``.

    A pointwise classifier, not a ranker: renamed, removed in the next release. Same
    parameters and behaviour; :meth:`fit` warns (``FutureWarning``).
    """
