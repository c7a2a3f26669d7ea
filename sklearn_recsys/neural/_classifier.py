"""NeuralClassifier: CTR / purchase classifiers (MLP, Wide & Deep, DeepFM, two-tower) on skorch."""

from __future__ import annotations

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import StrOptions

from ._base import COMMON_CONSTRAINTS, NeuralBase
from ._encoding import _TabularEncoder
from ._modules import ARCHITECTURES, RankerModule
from ._net import BinaryRankerNet, MulticlassRankerNet, sigmoid_proba, softmax_proba

__all__ = ["NeuralClassifier"]


class NeuralClassifier(NeuralBase):
    """Neural click / purchase scorer for interaction tables, trained with skorch.

    Id columns (``user_col``, ``item_col``) and category / string columns become embeddings,
    with a reserved index ``0`` for ids and categories not seen in ``fit`` (cold start);
    numeric and boolean columns are standardised. A plain numeric array is accepted too (then
    every column is dense). Training is skorch's loop (``NeuralNetBinaryClassifier`` for two
    classes, ``NeuralNetClassifier`` otherwise) with callbacks for early stopping, learning-rate
    schedules, whole-validation-set ROC-AUC / PR-AUC / G-mean and :class:`DynamicClassWeight`.
    The main knobs are flat parameters; everything else of the net is reached as in skorch,
    through routed parameters ``module__<name>``, ``criterion__<name>``, ``optimizer__<name>``,
    ``iterator_train__<name>``, ``iterator_valid__<name>`` and ``callbacks__<name>__<param>``
    (``**kwargs``), which ``get_params`` / ``set_params`` / ``clone``, ``GridSearchCV`` and
    Optuna handle like any other parameter.

    Parameters
    ----------
    architecture : {"mlp", "wide_deep", "deepfm", "two_tower"}, default="mlp"
        ``mlp``: an MLP over the embeddings and dense values. ``wide_deep``: plus a wide
        (first-order) part. ``deepfm``: plus a factorisation machine over the embeddings.
        ``two_tower``: a user tower and an item tower (item, categories, dense values) whose
        dot product is the logit; needs ``user_col`` and ``item_col``.
    embedding_dim : int, default=16
        Size of each id / category embedding.
    hidden_units : int or sequence of int, default=(64, 32)
        Units of the hidden layers of the MLP (of each tower for ``two_tower``).
    dropout : float in [0, 1), default=0.1
        Dropout after each hidden layer.
    batch_norm : bool, default=False
        Batch normalisation after each hidden linear layer.
    loss : {"bce", "weighted", "focal", "class_balanced"}, default="bce"
        ``bce``: log loss (cross-entropy for multiclass). ``weighted``: the same with
        ``class_weight`` (``"balanced"`` when ``class_weight=None``). ``focal``: focal loss.
        ``class_balanced``: weights from the effective number of samples (Cui et al., 2019).
        ``class_weight`` multiplies every loss.
    focal_gamma : float, default=2.0
        Focusing parameter of the focal loss.
    focal_alpha : float in [0, 1] or None, default=None
        Positive-class weight of the binary focal loss.
    cb_beta : float in [0, 1), default=0.999
        Effective-number parameter of the class-balanced loss.
    class_weight : dict, "balanced" or None, default=None
        Per-class weights (keys: class labels); ``"balanced"`` is ``n / (n_classes * count)``.
    dynamic_class_weight : bool, default=False
        Add :class:`DynamicClassWeight`: re-weight classes each epoch from the validation
        per-class recall.
    dynamic_max_weight : float >= 1, default=10.0
        Bound of the dynamic factors: within ``[1 / dynamic_max_weight, dynamic_max_weight]``.
    balanced_batches : bool, default=False
        Draw training mini-batches with every class equally likely (with replacement).
    optimizer : {"adam", "adamw", "sgd", "adagrad", "rmsprop"} or torch optimizer class, \
            default="adam"
        torch optimizer. By name, it has torch's defaults except ``momentum=0.9`` for SGD and
        ``weight_decay=0`` for AdamW; a class has its own defaults. Any of its settings is a
        routed parameter, e.g. ``optimizer__momentum=0.5``, ``optimizer__betas=(0.9, 0.99)``,
        ``optimizer__weight_decay=1e-5`` (L2; decoupled for AdamW).
    lr : float, default=1e-3
        Learning rate.
    lr_schedule : {"constant", "cosine", "exponential", "plateau"}, default="constant"
        Learning-rate schedule over epochs (skorch ``LRScheduler``).
    lr_decay : float in (0, 1), default=0.9
        Factor of the ``exponential`` (per epoch) and ``plateau`` schedules.
    weight_decay : float
        Deprecated: use ``optimizer__weight_decay``, which it only passes on (removed in the
        next release).
    l1_penalty : float, default=0.0
        L1 penalty on weight matrices and embeddings, added to the training loss.
    batch_size : int, default=256
        Mini-batch size.
    max_epochs : int, default=20
        Maximum number of epochs (early stopping may end sooner).
    early_stopping : bool, default=True
        Stop when ``monitor`` has not improved for ``n_iter_no_change`` epochs and restore the
        best weights.
    validation_fraction : float in (0, 1) or None, default=0.1
        Stratified fraction of the training rows held out for validation scores, early stopping
        and dynamic class weights. ``None``: train on every row (then ``early_stopping`` and
        ``dynamic_class_weight`` must be off).
    n_iter_no_change : int, default=5
        Patience of early stopping (and twice the patience of the ``plateau`` schedule).
    monitor : {"valid_loss", "valid_roc_auc", "valid_pr_auc", "valid_gmean"}, \
            default="valid_loss"
        What early stopping and the ``plateau`` schedule watch.
    callbacks : list or None, default=None
        More skorch callbacks (instances or ``(name, callback)`` pairs), run after the
        estimator's own: ``valid_roc_auc``, ``valid_pr_auc``, ``valid_gmean`` (with a
        validation set), ``dynamic_class_weight``, ``lr_scheduler``, ``early_stopping``. A
        parameter of any of them is ``callbacks__<name>__<param>``, e.g.
        ``callbacks__early_stopping__load_best=False``; ``callbacks__<name>=None`` removes one.
    user_col, item_col : str, int or None, default="user_id", "item_id"
        Id columns: names of columns of a DataFrame ``X``, or positions of columns of an array
        ``X`` (as in :class:`~sklearn_recsys.features.InteractionFeaturizer`); ``None``: no
        such column. An array is all dense unless an id column is given by position.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout, shuffling, sampling and the validation split (in
        a fork of torch's RNG state: the global state is left untouched).
    device : str, default="cpu"
        torch device, e.g. ``"cuda"``.
    n_jobs : int or None, default=None
        torch threads during ``fit`` and ``predict`` (``None``: 1, ``-1``: all cores; torch's
        own setting is restored afterwards). One thread is often fastest for these small
        models.
    verbose : int, default=0
        skorch's epoch table when > 0.
    **kwargs
        skorch's routed parameters ``<prefix>__<name>`` for the prefixes ``module``,
        ``criterion``, ``optimizer``, ``iterator_train``, ``iterator_valid`` and ``callbacks``,
        passed to that part of the net as in ``skorch.NeuralNet``. The module
        (``RankerModule``) takes ``module__activation`` (a module class, default
        ``torch.nn.ReLU``) and ``module__embedding_std`` (default 0.05); ``criterion__<name>``
        goes to the loss module of ``loss`` (e.g. ``criterion__gamma`` of the class-balanced
        loss). What a flat parameter or the data sets (``module__embedding_dim``,
        ``criterion__alpha`` of the focal loss, ...) is an error naming that parameter.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    net_ : skorch.NeuralNet
        The trained skorch net (``net_.module_`` the torch module).
    encoder_ : object
        The fitted column encoder (id / category indexers, numeric scaling).
    n_epochs_ : int
        Epochs actually run.
    history_ : skorch.History
        Per-epoch ``train_loss``, ``valid_loss``, ``valid_roc_auc``, ``valid_pr_auc``,
        ``valid_gmean``, ``class_weight`` (dynamic), ...
    n_features_in_ : int
        Number of columns of ``X`` in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` is a DataFrame.

    See Also
    --------
    MultiTaskClassifier : shared bottom with a main and an auxiliary head.
    sklearn_recsys.losses : the losses behind ``loss``.

    Notes
    -----
    The binary output is a logit :math:`z`; ``predict_proba`` returns
    :math:`[1 - \\sigma(z), \\sigma(z)]`. DeepFM's second-order term over the field vectors
    :math:`v_f` (embeddings, and for dense columns a vector times the value) is
    :math:`\\frac{1}{2} \\sum_k [(\\sum_f v_{fk})^2 - \\sum_f v_{fk}^2]`.

    The output bias starts at the log-odds of the training prior, weighted by the class (and
    sample) weights of the loss, so that training starts from the base rate instead of 0.5
    (the initialisation of Lin et al. for the focal loss); with ``balanced_batches`` it starts
    at 0.

    Examples
    --------
    >>> from sklearn_recsys.datasets import make_interactions
    >>> from sklearn_recsys.neural import NeuralClassifier
    >>> df = make_interactions(n_users=100, n_items=40, n_interactions=1500,
    ...                        positive_rate=0.1, random_state=0).interactions
    >>> X, y = df.drop(columns=["purchase", "timestamp"]), df["purchase"]
    >>> model = NeuralClassifier(architecture="deepfm", loss="focal", max_epochs=3,
    ...                          optimizer__weight_decay=1e-5, random_state=0).fit(X, y)
    >>> model.predict_proba(X.head(3)).shape
    (3, 2)
    >>> len(model.history_[:, "valid_pr_auc"])  # scored on the whole validation set
    3
    >>> model.get_params()["optimizer__weight_decay"]
    1e-05
    """

    _parameter_constraints = {
        **COMMON_CONSTRAINTS,
        "architecture": [StrOptions(set(ARCHITECTURES))],
    }

    def __init__(
        self,
        architecture="mlp",
        *,
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

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the network.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, n_features)
            Interaction table (id, category and numeric columns; no label column) or a dense
            numeric array.
        y : array-like of shape (n_samples,)
            Class labels (binary or multiclass).
        sample_weight : array-like of shape (n_samples,) or None, default=None
            Per-row weights, multiplied into every loss.

        Returns
        -------
        self : NeuralClassifier
        """
        X, y_enc = self._validate_fit_data(X, y)
        n_classes = len(self.classes_)
        self.encoder_ = enc = _TabularEncoder(self.user_col, self.item_col).fit(X)
        if self.architecture == "two_tower" and (
            enc.user_field_ is None or enc.item_field_ is None
        ):
            raise ValueError(
                "architecture='two_tower' needs an interaction DataFrame with both id columns "
                f"(user_col={self.user_col!r}, item_col={self.item_col!r})."
            )
        seed, sample_weight, train_idx, valid_idx = self._prepare(X, y_enc, sample_weight)
        criterion = self._criterion(n_classes, y_enc, train_idx)
        binary = n_classes == 2
        module_args = dict(
            architecture=self.architecture,
            embedding_dim=self.embedding_dim,
            hidden_units=self._hidden_units(),
            dropout=self.dropout,
            batch_norm=self.batch_norm,
            n_dense=enc.n_dense_,
            cardinalities=enc.cardinalities_,
            user_field=enc.user_field_,
            n_outputs=1 if binary else n_classes,
            output_bias=self._output_bias(criterion, y_enc, sample_weight, train_idx, n_classes),
        )
        kwargs, X_train, y_train = self._net_kwargs(
            enc.transform(X),
            y_enc.astype(np.float32) if binary else y_enc,
            sample_weight,
            train_idx,
            valid_idx,
            y_enc,
            module_args=module_args,
        )
        if not binary:
            kwargs["classes"] = list(range(n_classes))
        net = (BinaryRankerNet if binary else MulticlassRankerNet)(
            RankerModule,
            criterion=criterion,
            predict_nonlinearity=sigmoid_proba if binary else softmax_proba,
            **kwargs,
        )
        return self._train(net, X_train, y_train, seed)

    def predict_proba(self, X):
        """Class probabilities (deterministic: dropout is off at prediction time).

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, n_features)
            Same columns as in ``fit``; ids not seen in ``fit`` use the unknown embedding.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return self._proba(self._forward(X))
