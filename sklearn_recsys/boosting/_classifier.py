"""LightGBM classifiers for rare positives: class-weight presets and a focal-loss objective."""

from __future__ import annotations

from numbers import Real

import lightgbm
import numpy as np
from scipy.special import expit
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
)

from ._base import BaseLGBM, class_weights
from ._focal import FocalEval, FocalObjective, focal_init_score


class _LGBMClassifierBase(ClassifierMixin, BaseLGBM):
    """Label handling and the stratified early-stopping split."""

    _parameter_constraints: dict = {
        **BaseLGBM._parameter_constraints,
        "imbalance": [StrOptions({"balanced", "sqrt"}), None],
    }

    def _check_y(self, X, y, sample_weight):
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        check_classification_targets(y)
        self.classes_, y_codes = np.unique(y, return_inverse=True)
        if self.classes_.shape[0] < 2:
            raise ValueError(
                f"y contains 1 class ({self.classes_[0]!r}); a classifier needs at least 2."
            )
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        return y_codes.astype(np.int64), sample_weight

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
            np.arange(y_codes.shape[0]), test_size=self.validation_fraction,
            stratify=y_codes, random_state=seed,
        )
        return np.sort(val)

    def predict(self, X):
        """Predict the class with the highest probability.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


class ImbalancedLGBMClassifier(_LGBMClassifierBase):
    """LightGBM classifier with class-weight presets for imbalanced labels.

    A thin wrapper of :class:`lightgbm.LGBMClassifier` that takes the interaction frame as it is
    (id and ``category`` columns become LightGBM categorical features, unseen ids at predict time
    are fine) and turns the usual imbalance recipes into one parameter.

    Parameters
    ----------
    imbalance : {"balanced", "sqrt"} or None, default="balanced"
        Class weights from the training labels. ``"balanced"``: weight of class ``c`` is
        ``n / (k n_c)``, i.e. for a binary target positives weigh ``n_neg / n_pos`` times the
        negatives (LightGBM's ``scale_pos_weight``); ``"sqrt"``: the square root of that, a
        milder correction; None: plain LightGBM. The weights multiply ``sample_weight`` (see
        Notes for why they are row weights rather than ``scale_pos_weight``).
    n_estimators : int, default=200
        Maximum number of boosting rounds (fewer with early stopping).
    learning_rate : float, default=0.05
        Shrinkage of every tree.
    num_leaves : int, default=31
        Maximum number of leaves per tree.
    max_depth : int, default=-1
        Maximum tree depth; -1 for no limit.
    min_child_samples : int, default=20
        Minimum number of rows in a leaf (LightGBM ``min_data_in_leaf``).
    min_child_weight : float, default=1e-3
        Minimum sum of Hessians in a leaf.
    min_split_gain : float, default=0.0
        Minimum loss reduction to make a split.
    reg_alpha : float, default=0.0
        L1 penalty on leaf values.
    reg_lambda : float, default=1.0
        L2 penalty on leaf values.
    subsample : float, default=0.8
        Fraction of rows drawn for each tree (LightGBM ``bagging_fraction``).
    subsample_freq : int, default=1
        Draw a new row sample every ``subsample_freq`` trees; 0 disables row sampling.
    colsample_bytree : float, default=0.8
        Fraction of features drawn for each tree (LightGBM ``feature_fraction``).
    categorical_features : "auto", list or None, default="auto"
        Columns given to LightGBM as categorical features. ``"auto"``: for a DataFrame, the id
        columns ``user_id`` / ``item_id`` when present and every ``category`` / object / string
        column; for an array, none. A list names DataFrame columns (or array positions). Ids are
        mapped to ``1 .. n`` with unseen ids -> ``0`` (cold start), as everywhere in the package.
    early_stopping_rounds : int or None, default=None
        If set, hold out a stratified ``validation_fraction`` of the rows and stop when the
        validation loss has not improved for this many rounds.
    validation_fraction : float, default=0.1
        Fraction of rows held out for early stopping.
    lgbm_params : dict or None, default=None
        Further LightGBM parameters (e.g. ``{"max_bin": 63, "cat_smooth": 20}``); they win over
        the ones above.
    n_jobs : int or None, default=None
        LightGBM threads; None uses LightGBM's default (the physical cores).
    random_state : int, RandomState instance or None, default=None
        Seeds row / feature sampling and the validation split.
    verbose : int, default=0
        LightGBM verbosity; 0 keeps LightGBM silent.

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
        Split counts per LightGBM feature.
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
    The class weights reach LightGBM as row weights. For a binary target that gives the same
    trees as ``scale_pos_weight = w_1 / w_0`` except for the starting score: LightGBM's
    ``boost_from_average`` ignores ``scale_pos_weight`` and starts from the unweighted log-odds,
    which the first trees then spend their effort correcting; with row weights it starts from
    the weighted log-odds (0 for ``"balanced"``), the optimum of the weighted loss. Early
    stopping monitors the log loss of the validation rows under the same class weights.

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

    def __init__(
        self,
        imbalance="balanced",
        *,
        n_estimators=200,
        learning_rate=0.05,
        num_leaves=31,
        max_depth=-1,
        min_child_samples=20,
        min_child_weight=1e-3,
        min_split_gain=0.0,
        reg_alpha=0.0,
        reg_lambda=1.0,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        categorical_features="auto",
        early_stopping_rounds=None,
        validation_fraction=0.1,
        lgbm_params=None,
        n_jobs=None,
        random_state=None,
        verbose=0,
    ):
        self.imbalance = imbalance
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.max_depth = max_depth
        self.min_child_samples = min_child_samples
        self.min_child_weight = min_child_weight
        self.min_split_gain = min_split_gain
        self.reg_alpha = reg_alpha
        self.reg_lambda = reg_lambda
        self.subsample = subsample
        self.subsample_freq = subsample_freq
        self.colsample_bytree = colsample_bytree
        self.categorical_features = categorical_features
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.lgbm_params = lgbm_params
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

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
            Row weights, multiplied by the class weights of ``imbalance``.

        Returns
        -------
        self : ImbalancedLGBMClassifier
        """
        Xe, categorical = self._encode_fit(X)
        y_codes, sample_weight = self._check_y(Xe, y, sample_weight)
        n_classes = self.classes_.shape[0]
        w = class_weights(y_codes, n_classes, self.imbalance, sample_weight)
        self.class_weight_ = {c: float(v / w[0]) for c, v in zip(self.classes_.tolist(), w)}
        seed = self._seed()
        kwargs = self._lgbm_kwargs(seed)
        rel = w / w[0]
        if self.imbalance is not None:
            kwargs.setdefault("class_weight", dict(enumerate(rel)))
        eval_weight = rel[y_codes] if sample_weight is None else rel[y_codes] * sample_weight
        self._fit_lgbm(
            lightgbm.LGBMClassifier(**kwargs), Xe, y_codes,
            sample_weight=sample_weight, categorical=categorical,
            val_idx=self._validation_rows(y_codes, seed), eval_weight=eval_weight,
        )
        return self

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


class FocalLGBMClassifier(_LGBMClassifierBase):
    """LightGBM with a focal-loss objective for rare positives (binary targets).

    The focal loss (Lin et al., ICCV 2017) down-weights the rows the model already classifies
    well, so that the trees concentrate on the hard, mostly minority rows:
    ``L = -a_t (1 - p_t)^gamma log(p_t)``. Gradient and Hessian are exact (see Notes); the
    boosting starts from the constant score that minimises the loss (``init_score_``) and
    ``predict_proba`` returns ``sigmoid(raw score + init_score_)``.

    Parameters
    ----------
    alpha : float in (0, 1) or None, default=None
        Weight of the positive class in the loss (``1 - alpha`` for negatives); None weighs
        both classes by 1.
    gamma : float, default=2.0
        Focusing parameter; 0 gives the plain (alpha-weighted) log loss.
    imbalance : {"balanced", "sqrt"} or None, default=None
        Class weights from the training labels, multiplied into ``sample_weight``
        (see :class:`ImbalancedLGBMClassifier`).
    n_estimators : int, default=200
        Maximum number of boosting rounds (fewer with early stopping).
    learning_rate : float, default=0.05
        Shrinkage of every tree.
    num_leaves : int, default=31
        Maximum number of leaves per tree.
    max_depth : int, default=-1
        Maximum tree depth; -1 for no limit.
    min_child_samples : int, default=20
        Minimum number of rows in a leaf (LightGBM ``min_data_in_leaf``).
    min_child_weight : float, default=1e-3
        Minimum sum of Hessians in a leaf.
    min_split_gain : float, default=0.0
        Minimum loss reduction to make a split.
    reg_alpha : float, default=0.0
        L1 penalty on leaf values.
    reg_lambda : float, default=1.0
        L2 penalty on leaf values.
    subsample : float, default=0.8
        Fraction of rows drawn for each tree (LightGBM ``bagging_fraction``).
    subsample_freq : int, default=1
        Draw a new row sample every ``subsample_freq`` trees; 0 disables row sampling.
    colsample_bytree : float, default=0.8
        Fraction of features drawn for each tree (LightGBM ``feature_fraction``).
    categorical_features : "auto", list or None, default="auto"
        Columns given to LightGBM as categorical features. ``"auto"``: for a DataFrame, the id
        columns ``user_id`` / ``item_id`` when present and every ``category`` / object / string
        column; for an array, none. A list names DataFrame columns (or array positions). Ids are
        mapped to ``1 .. n`` with unseen ids -> ``0`` (cold start), as everywhere in the package.
    early_stopping_rounds : int or None, default=None
        If set, hold out a stratified ``validation_fraction`` of the rows and stop when the
        validation loss has not improved for this many rounds.
    validation_fraction : float, default=0.1
        Fraction of rows held out for early stopping.
    lgbm_params : dict or None, default=None
        Further LightGBM parameters (e.g. ``{"max_bin": 63, "cat_smooth": 20}``); they win over
        the ones above.
    n_jobs : int or None, default=None
        LightGBM threads; None uses LightGBM's default (the physical cores).
    random_state : int, RandomState instance or None, default=None
        Seeds row / feature sampling and the validation split.
    verbose : int, default=0
        LightGBM verbosity; 0 keeps LightGBM silent.

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
        Split counts per LightGBM feature.
    n_features_in_ : int
        Number of columns of ``X`` seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` is a DataFrame.

    See Also
    --------
    ImbalancedLGBMClassifier : class-weight presets with LightGBM's own log loss.

    Notes
    -----
    With ``z`` the raw score, ``t = 2y - 1``, ``p_t = sigmoid(t z)``::

        dL/dz   = t a_t (1 - p_t)^g (g p_t log p_t - (1 - p_t))
        d2L/dz2 = a_t p_t (1 - p_t)^g ((1 - p_t)(g log p_t + 2g + 1) - g^2 p_t log p_t)

    The exact Hessian is negative on badly misclassified rows when ``gamma > 0``; it is floored
    at ``1e-6`` before it reaches LightGBM (the gradient is left exact). Early stopping monitors
    the focal loss of the validation rows.

    Examples
    --------
    >>> from sklearn_recsys.datasets import make_interactions
    >>> from sklearn_recsys.boosting import FocalLGBMClassifier
    >>> data = make_interactions(200, 100, 3000, random_state=0)
    >>> X = data.interactions.drop(columns="purchase")
    >>> y = data.interactions["purchase"]
    >>> clf = FocalLGBMClassifier(gamma=2.0, n_estimators=20, n_jobs=1, random_state=0)
    >>> proba = clf.fit(X, y).predict_proba(X)[:, 1]
    >>> bool(((proba > 0) & (proba < 1)).all())
    True
    """

    _parameter_constraints: dict = {
        **_LGBMClassifierBase._parameter_constraints,
        "alpha": [Interval(Real, 0, 1, closed="neither"), None],
        "gamma": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        alpha=None,
        gamma=2.0,
        imbalance=None,
        *,
        n_estimators=200,
        learning_rate=0.05,
        num_leaves=31,
        max_depth=-1,
        min_child_samples=20,
        min_child_weight=1e-3,
        min_split_gain=0.0,
        reg_alpha=0.0,
        reg_lambda=1.0,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        categorical_features="auto",
        early_stopping_rounds=None,
        validation_fraction=0.1,
        lgbm_params=None,
        n_jobs=None,
        random_state=None,
        verbose=0,
    ):
        self.alpha = alpha
        self.gamma = gamma
        self.imbalance = imbalance
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.max_depth = max_depth
        self.min_child_samples = min_child_samples
        self.min_child_weight = min_child_weight
        self.min_split_gain = min_split_gain
        self.reg_alpha = reg_alpha
        self.reg_lambda = reg_lambda
        self.subsample = subsample
        self.subsample_freq = subsample_freq
        self.colsample_bytree = colsample_bytree
        self.categorical_features = categorical_features
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.lgbm_params = lgbm_params
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Interaction frame (or a numeric matrix).
        y : array-like of shape (n_samples,)
            Binary labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights (they scale gradient and Hessian).

        Returns
        -------
        self : FocalLGBMClassifier
        """
        Xe, categorical = self._encode_fit(X)
        y_codes, sample_weight = self._check_y(Xe, y, sample_weight)
        if self.classes_.shape[0] > 2:
            raise ValueError(
                "Only binary classification is supported. The type of the target is "
                f"{type_of_target(y)}. (FocalLGBMClassifier: use ImbalancedLGBMClassifier for "
                "multiclass.)"
            )
        w = class_weights(y_codes, 2, self.imbalance, sample_weight)
        self.class_weight_ = {c: float(v / w[0]) for c, v in zip(self.classes_.tolist(), w)}
        if self.imbalance is not None:
            rel = (w / w[0])[y_codes]
            sample_weight = rel if sample_weight is None else sample_weight * rel
        seed = self._seed()
        val_idx = self._validation_rows(y_codes, seed)
        fit_rows = np.ones(y_codes.shape[0], dtype=bool)
        if val_idx is not None:
            fit_rows[val_idx] = False
        self.init_score_ = focal_init_score(
            y_codes[fit_rows], alpha=self.alpha, gamma=self.gamma,
            sample_weight=None if sample_weight is None else sample_weight[fit_rows],
        )
        kwargs = self._lgbm_kwargs(seed)
        # LightGBM drops unsplittable features before training; with a custom objective and
        # no feature left it aborts, so keep them (trees then stay single leaves).
        kwargs.setdefault("feature_pre_filter", False)
        kwargs.update(objective=FocalObjective(self.alpha, self.gamma), metric="None")
        self._fit_lgbm(
            lightgbm.LGBMClassifier(**kwargs), Xe, y_codes.astype(np.float64),
            sample_weight=sample_weight,
            init_score=np.full(y_codes.shape[0], self.init_score_),
            categorical=categorical, val_idx=val_idx, eval_weight=sample_weight,
            eval_metric=FocalEval(self.alpha, self.gamma),
        )
        return self

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
