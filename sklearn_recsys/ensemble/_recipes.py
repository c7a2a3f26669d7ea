"""Ready-made imbalance ensembles: plain imbalanced-learn / scikit-learn estimators, configured.

Each ``make_*`` function returns an ordinary estimator (no new wrapper class) that accepts the
interaction frame: imbalanced-learn's ensembles want a numeric matrix, so they come in an
:class:`imblearn.pipeline.Pipeline` whose ``encode`` step ordinal-encodes the id and category
columns (unseen values -> -1); numeric columns pass through. A ``sampler`` (any
imbalanced-learn sampler, e.g. one of :mod:`sklearn_recsys.sampling`, which keep the frame's
columns valid) becomes the first step and runs in ``fit`` only.
"""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
from imblearn.ensemble import (
    BalancedBaggingClassifier,
    BalancedRandomForestClassifier,
    EasyEnsembleClassifier,
    RUSBoostClassifier,
)
from imblearn.pipeline import Pipeline
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import AdaBoostClassifier, StackingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils import check_random_state

from ..boosting import ImbalancedLGBMClassifier
from ..utils import derive_seed

_ID_COLS = ("user_id", "item_id")


class CategoricalColumns:
    """Column selector: the id columns present in ``X`` plus its category / string columns.

    A picklable callable for :class:`~sklearn.compose.ColumnTransformer`; on an array it selects
    nothing (every column is numeric).

    Parameters
    ----------
    id_cols : sequence of str, default=("user_id", "item_id")
        Id columns, categorical whatever their dtype.
    invert : bool, default=False
        Select the other (numeric) columns instead.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_recsys.ensemble import CategoricalColumns
    >>> X = pd.DataFrame({"user_id": [1], "price": [2.0], "category": ["a"]})
    >>> CategoricalColumns()(X), CategoricalColumns(invert=True)(X)
    (['user_id', 'category'], ['price'])
    """

    def __init__(self, id_cols=_ID_COLS, invert=False):
        self.id_cols = id_cols
        self.invert = invert

    def __call__(self, X):
        if not isinstance(X, pd.DataFrame):
            n = X.shape[1]
            return list(range(n)) if self.invert else []
        ids = set(self.id_cols or ())
        cats = [
            c for c in X.columns
            if c in ids
            or isinstance(X[c].dtype, pd.CategoricalDtype)
            or pd.api.types.is_object_dtype(X[c].dtype)
            or pd.api.types.is_string_dtype(X[c].dtype)
        ]
        return [c for c in X.columns if c not in cats] if self.invert else cats

    def __repr__(self):
        return f"CategoricalColumns(id_cols={self.id_cols!r}, invert={self.invert!r})"


def _ordinal_encoder(id_cols):
    return ColumnTransformer(
        [("ids", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                                dtype=np.float64), CategoricalColumns(id_cols))],
        remainder="passthrough",
    )


def _onehot_scaler(id_cols, min_frequency):
    return ColumnTransformer([
        ("ids", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=min_frequency),
         CategoricalColumns(id_cols)),
        ("num", StandardScaler(), CategoricalColumns(id_cols, invert=True)),
    ])


def _pipeline(model, sampler, id_cols):
    steps = [] if sampler is None else [("sampler", sampler)]
    steps.append(("encode", _ordinal_encoder(id_cols)))
    steps.append(("model", model))
    return Pipeline(steps)


def _seed(random_state):
    return derive_seed(random_state)


def _lgbm_base(n_estimators=100, seed=None, **params):
    defaults = dict(imbalance=None, n_estimators=n_estimators, learning_rate=0.1,
                    num_leaves=15, min_child_samples=20, reg_lambda=1.0, subsample=0.8,
                    colsample_bytree=0.8, n_jobs=1, random_state=seed)
    defaults.update(params)
    return ImbalancedLGBMClassifier(**defaults)


def make_balanced_bagging(estimator=None, *, n_estimators=10, max_samples=1.0, max_features=1.0,
                          sampling_strategy="auto", replacement=False, sampler=None,
                          id_cols=_ID_COLS, n_jobs=None, random_state=None):
    """Balanced bagging: each bag under-samples the majority class, then fits a LightGBM.

    Returns ``Pipeline([("encode", ...), ("model", BalancedBaggingClassifier(...))])``
    (:class:`imblearn.ensemble.BalancedBaggingClassifier`, Maclin & Opitz / Hido et al.).

    Parameters
    ----------
    estimator : estimator or None, default=None
        Base classifier; None: :class:`~sklearn_recsys.boosting.ImbalancedLGBMClassifier`
        (``imbalance=None``, 100 trees of 15 leaves, ``reg_lambda=1``, row / feature fractions
        0.8), tunable as ``model__estimator__reg_lambda`` etc.
    n_estimators : int, default=10
        Number of bags.
    max_samples, max_features : float, default=1.0
        Fraction of the (re-sampled) rows and of the columns drawn for each bag.
    sampling_strategy : float, str or dict, default="auto"
        Target class ratio of each bag (imbalanced-learn's ``sampling_strategy``).
    replacement : bool, default=False
        Under-sample with replacement.
    sampler : imbalanced-learn sampler or None, default=None
        Optional first pipeline step applied to the interaction frame in ``fit``.
    id_cols : sequence of str, default=("user_id", "item_id")
        Id columns to ordinal-encode (with the category / string columns).
    n_jobs : int or None, default=None
        Bags fitted in parallel.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    pipeline : imblearn.pipeline.Pipeline

    Examples
    --------
    >>> from sklearn_recsys.datasets import make_interactions
    >>> from sklearn_recsys.ensemble import make_balanced_bagging
    >>> df = make_interactions(200, 100, 3000, random_state=0).interactions
    >>> X, y = df.drop(columns="purchase"), df["purchase"]
    >>> model = make_balanced_bagging(n_estimators=3, random_state=0).fit(X, y)
    >>> model.predict_proba(X.head(2)).shape
    (2, 2)
    """
    seed = _seed(random_state)
    model = BalancedBaggingClassifier(
        estimator=_lgbm_base() if estimator is None else estimator,
        n_estimators=n_estimators, max_samples=max_samples, max_features=max_features,
        sampling_strategy=sampling_strategy, replacement=replacement, n_jobs=n_jobs,
        random_state=seed,
    )
    return _pipeline(model, sampler, id_cols)


def make_easy_ensemble(estimator=None, *, n_estimators=10, sampling_strategy="auto",
                       replacement=False, sampler=None, id_cols=_ID_COLS, n_jobs=None,
                       random_state=None):
    """EasyEnsemble (Liu, Wu & Zhou 2009): AdaBoost learners on balanced random subsets.

    Returns ``Pipeline([("encode", ...), ("model", EasyEnsembleClassifier(...))])``.

    Parameters
    ----------
    estimator : estimator or None, default=None
        Learner fitted on each balanced subset; None: ``AdaBoostClassifier`` of 50 depth-3 trees
        with ``min_samples_leaf=10`` and ``learning_rate=0.5``.
    n_estimators : int, default=10
        Number of balanced subsets.
    sampling_strategy : float, str or dict, default="auto"
        Target class ratio of each subset.
    replacement : bool, default=False
        Under-sample with replacement.
    sampler : imbalanced-learn sampler or None, default=None
        Optional first pipeline step applied to the interaction frame in ``fit``.
    id_cols : sequence of str, default=("user_id", "item_id")
        Id columns to ordinal-encode.
    n_jobs : int or None, default=None
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    pipeline : imblearn.pipeline.Pipeline

    Examples
    --------
    >>> from sklearn_recsys.datasets import make_interactions
    >>> from sklearn_recsys.ensemble import make_easy_ensemble
    >>> df = make_interactions(200, 100, 3000, random_state=0).interactions
    >>> X, y = df.drop(columns="purchase"), df["purchase"]
    >>> model = make_easy_ensemble(n_estimators=2, random_state=0).fit(X, y)
    >>> model.predict(X.head(2)).shape
    (2,)
    """
    if estimator is None:
        estimator = AdaBoostClassifier(
            DecisionTreeClassifier(max_depth=3, min_samples_leaf=10), n_estimators=50,
            learning_rate=0.5,
        )
    model = EasyEnsembleClassifier(
        n_estimators=n_estimators, estimator=estimator, sampling_strategy=sampling_strategy,
        replacement=replacement, n_jobs=n_jobs, random_state=_seed(random_state),
    )
    return _pipeline(model, sampler, id_cols)


def make_rusboost(estimator=None, *, n_estimators=50, learning_rate=0.5,
                  sampling_strategy="auto", replacement=False, sampler=None, id_cols=_ID_COLS,
                  random_state=None):
    """RUSBoost (Seiffert et al. 2010): AdaBoost with random under-sampling at every round.

    Returns ``Pipeline([("encode", ...), ("model", RUSBoostClassifier(...))])``.

    Parameters
    ----------
    estimator : estimator or None, default=None
        Weak learner; None: a depth-3 tree with ``min_samples_leaf=10`` (regularised through
        ``model__estimator__max_depth`` / ``min_samples_leaf``).
    n_estimators : int, default=50
        Boosting rounds.
    learning_rate : float, default=0.5
        Shrinkage of each round.
    sampling_strategy : float, str or dict, default="auto"
        Target class ratio after each round's under-sampling.
    replacement : bool, default=False
        Under-sample with replacement.
    sampler : imbalanced-learn sampler or None, default=None
        Optional first pipeline step applied to the interaction frame in ``fit``.
    id_cols : sequence of str, default=("user_id", "item_id")
        Id columns to ordinal-encode.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    pipeline : imblearn.pipeline.Pipeline

    Examples
    --------
    >>> from sklearn_recsys.datasets import make_interactions
    >>> from sklearn_recsys.ensemble import make_rusboost
    >>> df = make_interactions(200, 100, 3000, positive_rate=0.1, random_state=0).interactions
    >>> X, y = df.drop(columns="purchase"), df["purchase"]
    >>> model = make_rusboost(n_estimators=5, random_state=0).fit(X, y)
    >>> model.predict_proba(X.head(2)).shape
    (2, 2)
    """
    if estimator is None:
        estimator = DecisionTreeClassifier(max_depth=3, min_samples_leaf=10)
    model = RUSBoostClassifier(
        estimator=estimator, n_estimators=n_estimators, learning_rate=learning_rate,
        sampling_strategy=sampling_strategy, replacement=replacement,
        random_state=_seed(random_state),
    )
    return _pipeline(model, sampler, id_cols)


def make_balanced_random_forest(*, n_estimators=200, max_depth=None, min_samples_leaf=5,
                                max_features="sqrt", max_samples=None, sampling_strategy="all",
                                replacement=True, sampler=None, id_cols=_ID_COLS, n_jobs=None,
                                random_state=None):
    """Balanced random forest (Chen, Liaw & Breiman 2004): each tree on a balanced bootstrap.

    Returns ``Pipeline([("encode", ...), ("model", BalancedRandomForestClassifier(...))])``
    with imbalanced-learn's current defaults made explicit (``sampling_strategy="all"``,
    ``replacement=True``, ``bootstrap=False``: the balanced draw is the bootstrap).

    Parameters
    ----------
    n_estimators : int, default=200
        Number of trees.
    max_depth : int or None, default=None
        Tree depth limit.
    min_samples_leaf : int, default=5
        Minimum rows per leaf (the main regulariser).
    max_features : {"sqrt", "log2"}, int, float or None, default="sqrt"
        Features tried at each split.
    max_samples : int, float or None, default=None
        Size of each tree's sample.
    sampling_strategy : float, str or dict, default="all"
        Which classes are re-sampled to the minority size.
    replacement : bool, default=True
        Draw with replacement.
    sampler : imbalanced-learn sampler or None, default=None
        Optional first pipeline step applied to the interaction frame in ``fit``.
    id_cols : sequence of str, default=("user_id", "item_id")
        Id columns to ordinal-encode.
    n_jobs : int or None, default=None
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    pipeline : imblearn.pipeline.Pipeline

    Examples
    --------
    >>> from sklearn_recsys.datasets import make_interactions
    >>> from sklearn_recsys.ensemble import make_balanced_random_forest
    >>> df = make_interactions(200, 100, 3000, random_state=0).interactions
    >>> X, y = df.drop(columns="purchase"), df["purchase"]
    >>> model = make_balanced_random_forest(n_estimators=10, random_state=0).fit(X, y)
    >>> model.predict_proba(X.head(2)).shape
    (2, 2)
    """
    model = BalancedRandomForestClassifier(
        n_estimators=n_estimators, max_depth=max_depth, min_samples_leaf=min_samples_leaf,
        max_features=max_features, max_samples=max_samples, sampling_strategy=sampling_strategy,
        replacement=replacement, bootstrap=False, n_jobs=n_jobs,
        random_state=_seed(random_state),
    )
    return _pipeline(model, sampler, id_cols)


def _neural_ranker_class():
    try:
        module = importlib.import_module("sklearn_recsys.neural")
        return module.NeuralRanker
    except (ImportError, AttributeError):
        return None


def make_stacking(estimators=None, *, include_neural="auto", cv=5, calibration="sigmoid",
                  sampler=None, id_cols=_ID_COLS, min_frequency=5, n_jobs=None,
                  random_state=None):
    """Stacking of NeuralRanker + LightGBM + logistic regression with a calibrated meta-learner.

    The base models are fitted on out-of-fold rows of a shuffled :class:`StratifiedKFold`
    (``cv`` folds); their out-of-fold positive-class probabilities feed a logistic regression
    that is itself calibrated (:class:`~sklearn.calibration.CalibratedClassifierCV`, stratified
    3-fold), so ``predict_proba`` is a calibrated probability.

    Default base models (all take the interaction frame as it is):

    - ``"neural"``: :class:`sklearn_recsys.neural.NeuralRanker` (MLP over id embeddings, 10
      epochs with early stopping), imported lazily; when ``sklearn_recsys.neural`` is not
      importable and ``include_neural="auto"``, it is left out and the stack is LightGBM +
      logistic regression;
    - ``"lgbm"``: :class:`~sklearn_recsys.boosting.ImbalancedLGBMClassifier`
      (``imbalance="balanced"``, 200 trees of 15 leaves, ids as categorical features);
    - ``"logreg"``: one-hot ids / categories (values seen fewer than ``min_frequency`` times
      pooled) + standardised numeric columns -> ``LogisticRegression(class_weight="balanced")``.

    Parameters
    ----------
    estimators : list of (str, estimator) or None, default=None
        Base models; None builds the defaults above.
    include_neural : {"auto", True, False}, default="auto"
        Whether the default stack includes the NeuralRanker (True: fail if unavailable).
    cv : int, default=5
        Folds of the stratified out-of-fold predictions.
    calibration : {"sigmoid", "isotonic"}, default="sigmoid"
        Calibration of the meta-learner.
    sampler : imbalanced-learn sampler or None, default=None
        Optional first step, applied to the interaction frame in ``fit``; then the result is
        ``Pipeline([("sampler", sampler), ("model", StackingClassifier(...))])``.
    id_cols : sequence of str, default=("user_id", "item_id")
        Id columns of the interaction frame.
    min_frequency : int, default=5
        One-hot categories rarer than this are pooled in the logistic regression.
    n_jobs : int or None, default=None
        Base models fitted in parallel.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    model : sklearn.ensemble.StackingClassifier or imblearn.pipeline.Pipeline

    Examples
    --------
    >>> from sklearn_recsys.datasets import make_interactions
    >>> from sklearn_recsys.ensemble import make_stacking
    >>> df = make_interactions(100, 50, 1500, positive_rate=0.1, random_state=0).interactions
    >>> X, y = df.drop(columns="purchase"), df["purchase"]
    >>> model = make_stacking(include_neural=False, cv=2, random_state=0)
    >>> model = model.set_params(lgbm__n_estimators=50).fit(X, y)
    >>> [name for name, _ in model.estimators]
    ['lgbm', 'logreg']
    >>> model.predict_proba(X.head(2)).shape
    (2, 2)
    """
    rng = check_random_state(random_state)
    seeds = derive_seed(rng, size=5)
    if estimators is None:
        estimators = []
        neural_cls = _neural_ranker_class() if include_neural else None
        if include_neural is True and neural_cls is None:
            raise ImportError(
                "include_neural=True but sklearn_recsys.neural.NeuralRanker cannot be imported."
            )
        if neural_cls is not None:
            estimators.append(("neural", neural_cls(
                max_epochs=10, early_stopping=True, random_state=int(seeds[0]),
            )))
        estimators.append(("lgbm", _lgbm_base(n_estimators=200, seed=int(seeds[1]),
                                              imbalance="balanced", learning_rate=0.05)))
        estimators.append(("logreg", Pipeline([
            ("encode", _onehot_scaler(id_cols, min_frequency)),
            ("model", LogisticRegression(C=1.0, class_weight="balanced", solver="liblinear")),
        ])))
    meta = CalibratedClassifierCV(
        LogisticRegression(C=1.0, max_iter=1000), method=calibration,
        cv=StratifiedKFold(3, shuffle=True, random_state=int(seeds[2])),
    )
    model = StackingClassifier(
        estimators=estimators, final_estimator=meta,
        cv=StratifiedKFold(cv, shuffle=True, random_state=int(seeds[3])),
        stack_method="predict_proba", n_jobs=n_jobs,
    )
    if sampler is None:
        return model
    return Pipeline([("sampler", sampler), ("model", model)])
