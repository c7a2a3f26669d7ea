"""LightGBM classifiers for rare positives: class-weight presets and a focal-loss objective."""

from __future__ import annotations

from numbers import Real

import lightgbm
import numpy as np
from scipy.special import expit
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import Hidden, Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
)

from ._base import _DEPRECATED, BaseLGBM
from ._docs import LGBM_DIFFERENCES, LGBM_PARAMETERS, fill_doc
from ._focal import FocalEval, FocalObjective, focal_init_score

_CLASS_WEIGHT = [StrOptions({"balanced", "sqrt"}), dict, None]


class ArgmaxPredictMixin:
    """``predict`` as the class of highest ``predict_proba`` (shared with the ensembles)."""

    def predict(self, X):
        """Predict the class with the highest probability.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class _LGBMClassifierBase(ArgmaxPredictMixin, ClassifierMixin, BaseLGBM):
    """Labels, class weights, the stratified early-stopping split and ``fit``.

    A subclass implements ``_fit_model`` (the LightGBM fit on the encoded matrix) and lists
    its renamed parameters in ``_aliases``.
    """

    _parameter_constraints: dict = {
        **BaseLGBM._parameter_constraints,
        "class_weight": _CLASS_WEIGHT,
        "imbalance": [StrOptions({"balanced", "sqrt"}), None, Hidden(StrOptions({_DEPRECATED}))],
    }

    #: (deprecated name, new name) of each renamed parameter
    _aliases = (("imbalance", "class_weight"),)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Interaction frame (or a numeric matrix).
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, multiplied by the class weights of ``class_weight``.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        renamed = {}
        for old, new in self._aliases:  # a loop, not a comprehension: the warnings' stacklevel
            renamed[new] = self._renamed(old, new)
        params = self._lgbm_params()
        Xe, categorical, y_codes, w = self._prepare(X, y, sample_weight, renamed["class_weight"])
        val_idx = self._validation_rows(y_codes, params["random_state"])
        self._fit_model(Xe, y_codes, w, categorical, val_idx, params, renamed)
        return self

    def _prepare(self, X, y, sample_weight, class_weight):
        """Validate and encode the training data; returns ``(Xe, categorical, y_codes, w)``.

        ``w``: the row weights, ``sample_weight`` times the class weights (None when all are 1).
        """
        X = self._validate_fit(X)
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        check_classification_targets(y)
        self.classes_, y_codes = np.unique(y, return_inverse=True)
        if self.classes_.shape[0] < 2:
            raise ValueError(
                f"y contains 1 class ({self.classes_[0]!r}); a classifier needs at least 2."
            )
        if self.classes_.shape[0] > 2 and not self.__sklearn_tags__().classifier_tags.multi_class:
            raise ValueError(
                "Only binary classification is supported. The type of the target is "
                f"{type_of_target(y)}. ({type(self).__name__}: use ImbalancedLGBMClassifier "
                "for multiclass.)"
            )
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        Xe, categorical = self._encode_fit(X)
        y_codes = y_codes.astype(np.int64)
        return Xe, categorical, y_codes, self._row_weights(y, y_codes, sample_weight, class_weight)

    def _row_weights(self, y, y_codes, sample_weight, class_weight):
        """Class weights (LightGBM's meaning, plus ``"sqrt"``) times ``sample_weight``.

        ``"balanced"`` counts the classes weighted by ``sample_weight`` (a row of weight 2
        counts as two rows); without ``sample_weight`` that is LightGBM's ``n / (k n_c)``.
        """
        k = self.classes_.shape[0]
        if class_weight is None:
            w = np.ones(k)
        elif isinstance(class_weight, dict):
            w = compute_class_weight(class_weight, classes=self.classes_, y=y)
        else:  # the formula of scikit-learn's compute_class_weight, which LightGBM calls
            counts = np.bincount(y_codes, weights=sample_weight, minlength=k).astype(np.float64)
            counts = np.maximum(counts, np.finfo(np.float64).tiny)
            w = counts.sum() / (k * counts)
            if class_weight == "sqrt":
                w = np.sqrt(w)
        self.class_weight_ = dict(zip(self.classes_.tolist(), w.tolist()))
        if class_weight is None:
            return sample_weight
        # multiplied in LightGBM's order, so that the weights are LightGBM's to the bit
        return w[y_codes] if sample_weight is None else sample_weight * w[y_codes]

    def _validation_rows(self, y_codes, seed):
        if self.early_stopping_rounds is None:
            return None
        counts = np.bincount(y_codes)
        if counts.min() < 2:
            raise ValueError(
                "early_stopping_rounds needs at least 2 rows of every class for a stratified "
                f"validation split; class counts are {counts.tolist()}."
            )
        _, val = train_test_split(
            np.arange(y_codes.shape[0]),
            test_size=self.validation_fraction,
            stratify=y_codes,
            random_state=seed,
        )
        return np.sort(val)


@fill_doc(lgbm_parameters=LGBM_PARAMETERS, lgbm_differences=LGBM_DIFFERENCES)
class ImbalancedLGBMClassifier(_LGBMClassifierBase):
    """LightGBM classifier with class-weight presets for imbalanced labels.

    A drop-in :class:`lightgbm.LGBMClassifier`: it takes LightGBM's parameters with LightGBM's
    names, defaults and meaning, and gives the same predictions for the same parameters on a
    numeric matrix (``class_weight=None``). It adds what an interaction frame needs (id and
    ``category`` columns become LightGBM categorical features, unseen ids at predict time are
    fine) and turns the usual imbalance recipes into one parameter, ``class_weight``, whose
    default is ``"balanced"``.

    Parameters
    ----------
    class_weight : {"balanced", "sqrt"}, dict or None, default="balanced"
        Class weights, LightGBM's parameter with its meaning: ``"balanced"`` weighs class ``c``
        ``n / (k n_c)`` (for a binary target, positives weigh ``n_neg / n_pos`` times the
        negatives, LightGBM's ``scale_pos_weight``), with ``n_c`` counted in ``sample_weight``
        when given; a dict ``{label: weight}`` sets them; None weighs all classes 1. ``"sqrt"``
        (ours) is the square root of the balanced weights, a milder correction. They multiply
        ``sample_weight`` (see Notes for why they are row weights rather than
        ``scale_pos_weight``).
    objective : str, callable or None, default=None
        LightGBM's objective; None is ``"binary"`` or ``"multiclass"``.
    {lgbm_parameters}
    imbalance : {"balanced", "sqrt"} or None
        Deprecated alias of ``class_weight``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    class_weight_ : dict
        Weight of each class used in training.
    estimator_ : lightgbm.LGBMClassifier
        The fitted LightGBM model.
    booster_ : lightgbm.Booster
        Its booster.
    n_estimators_ : int
        Number of boosting rounds kept (the best iteration with early stopping).
    categorical_features_ : list
        Columns (names for a DataFrame, positions for an array) passed as categorical.
    feature_importances_ : ndarray of shape (n_features_lgbm,)
        Importance of each LightGBM feature (see ``importance_type``).
    n_features_in_ : int
        Number of columns of ``X`` seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` is a DataFrame.

    See Also
    --------
    FocalLGBMClassifier : the same with a focal-loss objective.
    lightgbm.LGBMClassifier : the model underneath.

    Notes
    -----
    Differences from :class:`lightgbm.LGBMClassifier` (every other parameter has LightGBM's
    name, default and meaning):

    | | LightGBM | here |
    |---|---|---|
    | ``class_weight`` | default None | default ``"balanced"``; also ``"sqrt"`` |
    | ``"balanced"`` with ``sample_weight`` | counts rows | counts weights |
    {lgbm_differences}

    The class weights reach LightGBM as row weights, as LightGBM's own ``class_weight`` does.
    For a binary target that gives the same trees as ``scale_pos_weight = w_1 / w_0`` except for
    the starting score: LightGBM's ``boost_from_average`` ignores ``scale_pos_weight`` and starts
    from the unweighted log-odds, which the first trees then spend their effort correcting; with
    row weights it starts from the weighted log-odds (0 for ``"balanced"``), the optimum of the
    weighted loss. Early stopping monitors the log loss of the validation rows under the same
    class weights.

    Examples
    --------
    >>> from sklearn_recsys.datasets import make_interactions
    >>> from sklearn_recsys.boosting import ImbalancedLGBMClassifier
    >>> data = make_interactions(200, 100, 3000, random_state=0)
    >>> X = data.interactions.drop(columns="purchase")
    >>> y = data.interactions["purchase"]
    >>> clf = ImbalancedLGBMClassifier(n_estimators=20, n_jobs=1, random_state=0).fit(X, y)
    >>> clf.categorical_features_
    ['user_id', 'item_id', 'category']
    >>> round(clf.class_weight_[1] / clf.class_weight_[0]) == round((y == 0).sum() / y.sum())
    True
    >>> clf.predict_proba(X.head(2)).shape
    (2, 2)
    """

    _parameter_constraints: dict = {
        **_LGBMClassifierBase._parameter_constraints,
        "objective": [str, callable, None],
    }

    def __init__(self, class_weight="balanced", *, objective=None, imbalance=_DEPRECATED, **kwargs):
        self.class_weight = class_weight
        self.objective = objective
        self.imbalance = imbalance
        super().__init__(**kwargs)

    def _fit_model(self, Xe, y_codes, w, categorical, val_idx, params, renamed):
        model = lightgbm.LGBMClassifier(objective=self.objective, **params)
        self._fit_lgbm(
            model, Xe, y_codes, sample_weight=w, categorical=categorical, val_idx=val_idx
        )

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        return self.estimator_.predict_proba(self._encode(X))


@fill_doc(lgbm_parameters=LGBM_PARAMETERS, lgbm_differences=LGBM_DIFFERENCES)
class FocalLGBMClassifier(_LGBMClassifierBase):
    """LightGBM with a focal-loss objective for rare positives (binary targets).

    The focal loss (Lin et al., ICCV 2017) down-weights the rows the model already classifies
    well, so that the trees concentrate on the hard, mostly minority rows:
    ``L = -a_t (1 - p_t)^focal_gamma log(p_t)``. Gradient and Hessian are exact (see Notes); the
    boosting starts from the constant score that minimises the loss (``init_score_``) and
    ``predict_proba`` returns ``sigmoid(raw score + init_score_)``. Every other parameter is
    :class:`lightgbm.LGBMClassifier`'s, with LightGBM's name, default and meaning.

    Parameters
    ----------
    focal_alpha : float in (0, 1) or None, default=None
        Weight of the positive class in the loss (``1 - focal_alpha`` for negatives); None
        weighs both classes by 1.
    focal_gamma : float, default=2.0
        Focusing parameter; 0 gives the plain (alpha-weighted) log loss.
    class_weight : {"balanced", "sqrt"}, dict or None, default=None
        Class weights, multiplied into ``sample_weight`` (LightGBM's meaning; ``"sqrt"`` as in
        :class:`ImbalancedLGBMClassifier`).
    {lgbm_parameters}
    alpha : float in (0, 1) or None
        Deprecated alias of ``focal_alpha`` (LightGBM's own ``alpha``, the Huber / quantile
        parameter, has no use with the focal loss).
    gamma : float
        Deprecated alias of ``focal_gamma``.
    imbalance : {"balanced", "sqrt"} or None
        Deprecated alias of ``class_weight``.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        Class labels; ``classes_[1]`` is the positive class.
    init_score_ : float
        Constant raw score the boosting starts from.
    class_weight_ : dict
        Weight of each class used in training.
    estimator_ : lightgbm.LGBMClassifier
        The fitted LightGBM model (with the focal objective).
    booster_ : lightgbm.Booster
        Its booster; ``booster_.predict(raw_score=True)`` excludes ``init_score_``.
    n_estimators_ : int
        Number of boosting rounds kept (the best iteration with early stopping).
    categorical_features_ : list
        Columns passed to LightGBM as categorical.
    feature_importances_ : ndarray
        Importance of each LightGBM feature (see ``importance_type``).
    n_features_in_ : int
        Number of columns of ``X`` seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` is a DataFrame.

    See Also
    --------
    ImbalancedLGBMClassifier : class-weight presets with LightGBM's own log loss.

    Notes
    -----
    Differences from :class:`lightgbm.LGBMClassifier`:

    | | LightGBM | here |
    |---|---|---|
    | ``objective`` | a parameter | the focal loss (``focal_alpha``, ``focal_gamma``) |
    | targets | binary or multiclass | binary |
    {lgbm_differences}

    With ``z`` the raw score, ``t = 2y - 1``, ``p_t = sigmoid(t z)``::

        dL/dz   = t a_t (1 - p_t)^g (g p_t log p_t - (1 - p_t))
        d2L/dz2 = a_t p_t (1 - p_t)^g ((1 - p_t)(g log p_t + 2g + 1) - g^2 p_t log p_t)

    The exact Hessian is negative on badly misclassified rows when ``focal_gamma > 0``; it is
    floored at ``1e-6`` before it reaches LightGBM (the gradient is left exact). Early stopping
    monitors the focal loss of the validation rows.

    Examples
    --------
    >>> from sklearn_recsys.datasets import make_interactions
    >>> from sklearn_recsys.boosting import FocalLGBMClassifier
    >>> data = make_interactions(200, 100, 3000, random_state=0)
    >>> X = data.interactions.drop(columns="purchase")
    >>> y = data.interactions["purchase"]
    >>> clf = FocalLGBMClassifier(focal_gamma=2.0, n_estimators=20, n_jobs=1, random_state=0)
    >>> proba = clf.fit(X, y).predict_proba(X)[:, 1]
    >>> bool(((proba > 0) & (proba < 1)).all())
    True
    """

    _parameter_constraints: dict = {
        **_LGBMClassifierBase._parameter_constraints,
        "focal_alpha": [Interval(Real, 0, 1, closed="neither"), None],
        "focal_gamma": [Interval(Real, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, 1, closed="neither"), None, Hidden(StrOptions({_DEPRECATED}))],
        "gamma": [Interval(Real, 0, None, closed="left"), Hidden(StrOptions({_DEPRECATED}))],
    }

    _aliases = (("alpha", "focal_alpha"), ("gamma", "focal_gamma"), *_LGBMClassifierBase._aliases)

    def __init__(
        self,
        focal_alpha=None,
        focal_gamma=2.0,
        class_weight=None,
        *,
        alpha=_DEPRECATED,
        gamma=_DEPRECATED,
        imbalance=_DEPRECATED,
        **kwargs,
    ):
        self.focal_alpha = focal_alpha
        self.focal_gamma = focal_gamma
        self.class_weight = class_weight
        self.alpha = alpha
        self.gamma = gamma
        self.imbalance = imbalance
        super().__init__(**kwargs)

    def _fit_model(self, Xe, y_codes, w, categorical, val_idx, params, renamed):
        if "objective" in params:
            raise ValueError(
                f"objective={params['objective']!r}: the objective of FocalLGBMClassifier is "
                "the focal loss; use ImbalancedLGBMClassifier for another one."
            )
        alpha, gamma = renamed["focal_alpha"], renamed["focal_gamma"]
        fit_rows = np.ones(y_codes.shape[0], dtype=bool)
        if val_idx is not None:
            fit_rows[val_idx] = False
        self.init_score_ = focal_init_score(
            y_codes[fit_rows],
            alpha=alpha,
            gamma=gamma,
            sample_weight=None if w is None else w[fit_rows],
        )
        # LightGBM drops unsplittable features before training; with a custom objective and
        # no feature left it aborts, so keep them (trees then stay single leaves).
        params.setdefault("feature_pre_filter", False)
        params.update(objective=FocalObjective(alpha, gamma), metric="None")
        self._fit_lgbm(
            lightgbm.LGBMClassifier(**params),
            Xe,
            y_codes.astype(np.float64),
            sample_weight=w,
            init_score=np.full(y_codes.shape[0], self.init_score_),
            categorical=categorical,
            val_idx=val_idx,
            eval_metric=FocalEval(alpha, gamma),
        )

    def decision_function(self, X):
        """Raw score ``z`` (log-odds of the positive class), init score included.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        score : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        raw = self.booster_.predict(
            self._encode(X), raw_score=True, num_iteration=self.n_estimators_
        )
        return raw + self.init_score_

    def predict_proba(self, X):
        """Class probabilities ``[1 - p, p]`` with ``p = sigmoid(raw + init_score_)``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, 2)
        """
        p = expit(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags
