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
import warnings

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
from ..boosting._docs import fill_doc
from ..boosting._frame import DEFAULT_ID_COLUMNS, _is_categorical_dtype, id_columns
from ..utils import derive_seed

_DEPRECATED = "deprecated"

#: The parameters every recipe shares (inserted into their docstrings by ``fill_doc``).
_RECIPE_PARAMETERS = """\
sampler : imbalanced-learn sampler or None, default=None
    Optional first pipeline step applied to the interaction frame in ``fit``.
user_col, item_col : str, int or None, default="user_id", "item_id"
    Id columns of ``X``, encoded as categories, never used as raw numbers (with the category
    and string columns). The default names apply when ``X`` has such a column; any other name
    must be a column (a position for an array); None: no such column.
"""

#: The last parameters of every recipe.
_RECIPE_SEED = """\
random_state : int, RandomState instance or None, default=None
    Seeds the ensemble.
id_cols : sequence of str
    Deprecated: ``(u, i)`` is ``user_col=u, item_col=i``.
"""

#: ... and, for the recipes that return a pipeline, what they return.
_RECIPE_END = (
    _RECIPE_SEED
    + """
Returns
-------
pipeline : imblearn.pipeline.Pipeline
"""
)


class CategoricalColumns:
    """Column selector: the id columns of ``X`` plus its category / string columns.

    A picklable callable for :class:`~sklearn.compose.ColumnTransformer`. The id columns follow
    the rule of the whole package: the default names apply when ``X`` has such a column, any
    other name must be a column of ``X``; on an array only positions name id columns (every
    other column is numeric).

    Parameters
    ----------
    id_cols : sequence of str
        Deprecated: use ``user_col`` and ``item_col``. Id columns, categorical whatever their
        dtype, when present.
    invert : bool, default=False
        Select the other (numeric) columns instead.
    user_col, item_col : str, int or None, default="user_id", "item_id"
        Id columns, categorical whatever their dtype.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_recsys.ensemble import CategoricalColumns
    >>> X = pd.DataFrame({"user_id": [1], "price": [2.0], "category": ["a"]})
    >>> CategoricalColumns()(X), CategoricalColumns(invert=True)(X)
    (['user_id', 'category'], ['price'])
    >>> CategoricalColumns(user_col="uid")(X.rename(columns={"user_id": "uid"}))
    ['uid', 'category']
    """

    def __init__(
        self, id_cols=_DEPRECATED, invert=False, *, user_col="user_id", item_col="item_id"
    ):
        if not _is_deprecated(id_cols):
            warnings.warn(
                "CategoricalColumns: id_cols is deprecated and will be removed in the "
                "next release; pass user_col= and item_col=.",
                FutureWarning,
                stacklevel=2,
            )
        self.id_cols = id_cols
        self.invert = invert
        self.user_col = user_col
        self.item_col = item_col

    def __call__(self, X):
        if _is_deprecated(self.id_cols):
            ids = set(id_columns(X, self.user_col, self.item_col))
        else:
            ids = set(self.id_cols or ()) if isinstance(X, pd.DataFrame) else set()
        if not isinstance(X, pd.DataFrame):
            cats = sorted(ids)
            rest = [j for j in range(X.shape[1]) if j not in ids]
            return rest if self.invert else cats
        cats = [c for c in X.columns if c in ids or _is_categorical_dtype(X[c].dtype)]
        return [c for c in X.columns if c not in cats] if self.invert else cats

    def __repr__(self):
        ids = (
            f"id_cols={self.id_cols!r}"
            if not _is_deprecated(self.id_cols)
            else f"user_col={self.user_col!r}, item_col={self.item_col!r}"
        )
        return f"CategoricalColumns({ids}, invert={self.invert!r})"


def _is_deprecated(value):
    return isinstance(value, str) and value == _DEPRECATED


def _resolve_ids(recipe, user_col, item_col, id_cols):
    """``(user_col, item_col)`` of a recipe, from its deprecated ``id_cols`` when given."""
    if _is_deprecated(id_cols):
        return user_col, item_col
    if (user_col, item_col) != tuple(DEFAULT_ID_COLUMNS.values()):
        raise ValueError(
            f"{recipe}: id_cols is a deprecated alias of user_col / item_col; "
            "pass only user_col and item_col."
        )
    ids = list(id_cols or ())
    if len(ids) > 2:
        raise ValueError(
            f"{recipe}: id_cols={id_cols!r} names more than a user and an item "
            "column; pass user_col= and item_col=."
        )
    warnings.warn(
        f"{recipe}: id_cols is deprecated and will be removed in the next release; "
        "pass user_col= and item_col=.",
        FutureWarning,
        stacklevel=3,
    )
    ids += [None] * (2 - len(ids))
    return ids[0], ids[1]


def _ordinal_encoder(user_col, item_col):
    return ColumnTransformer(
        [
            (
                "ids",
                OrdinalEncoder(
                    handle_unknown="use_encoded_value", unknown_value=-1, dtype=np.float64
                ),
                CategoricalColumns(user_col=user_col, item_col=item_col),
            )
        ],
        remainder="passthrough",
    )


def _onehot_scaler(user_col, item_col, min_frequency):
    return ColumnTransformer(
        [
            (
                "ids",
                OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=min_frequency),
                CategoricalColumns(user_col=user_col, item_col=item_col),
            ),
            (
                "num",
                StandardScaler(),
                CategoricalColumns(user_col=user_col, item_col=item_col, invert=True),
            ),
        ]
    )


def _pipeline(recipe, model, sampler, user_col, item_col, id_cols):
    user_col, item_col = _resolve_ids(recipe, user_col, item_col, id_cols)
    steps = [] if sampler is None else [("sampler", sampler)]
    steps.append(("encode", _ordinal_encoder(user_col, item_col)))
    steps.append(("model", model))
    return Pipeline(steps)


def small_lgbm(**params):
    """The LightGBM member of the ensembles: 100 trees of 15 leaves, L2 penalty 1, row and
    feature fractions 0.8 (``params`` win)."""
    defaults = dict(
        class_weight=None,
        n_estimators=100,
        num_leaves=15,
        reg_lambda=1.0,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        n_jobs=1,
    )
    return ImbalancedLGBMClassifier(**{**defaults, **params})


@fill_doc(recipe_parameters=_RECIPE_PARAMETERS, recipe_end=_RECIPE_END)
def make_balanced_bagging(
    estimator=None,
    *,
    n_estimators=10,
    max_samples=1.0,
    max_features=1.0,
    sampling_strategy="auto",
    replacement=False,
    sampler=None,
    user_col="user_id",
    item_col="item_id",
    n_jobs=None,
    random_state=None,
    id_cols=_DEPRECATED,
):
    """Balanced bagging: each bag under-samples the majority class, then fits a LightGBM.

    Returns ``Pipeline([("encode", ...), ("model", BalancedBaggingClassifier(...))])``
    (:class:`imblearn.ensemble.BalancedBaggingClassifier`, Maclin & Opitz / Hido et al.).

    Parameters
    ----------
    estimator : estimator or None, default=None
        Base classifier; None: :class:`~sklearn_recsys.boosting.ImbalancedLGBMClassifier`
        (``class_weight=None``, 100 trees of 15 leaves, ``reg_lambda=1``, row / feature
        fractions 0.8), tunable as ``model__estimator__reg_lambda`` etc.
    n_estimators : int, default=10
        Number of bags.
    max_samples, max_features : float, default=1.0
        Fraction of the (re-sampled) rows and of the columns drawn for each bag.
    sampling_strategy : float, str or dict, default="auto"
        Target class ratio of each bag (imbalanced-learn's ``sampling_strategy``).
    replacement : bool, default=False
        Under-sample with replacement.
    {recipe_parameters}
    n_jobs : int or None, default=None
        Bags fitted in parallel.
    {recipe_end}

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
    model = BalancedBaggingClassifier(
        estimator=small_lgbm() if estimator is None else estimator,
        n_estimators=n_estimators,
        max_samples=max_samples,
        max_features=max_features,
        sampling_strategy=sampling_strategy,
        replacement=replacement,
        n_jobs=n_jobs,
        random_state=derive_seed(random_state),
    )
    return _pipeline("make_balanced_bagging", model, sampler, user_col, item_col, id_cols)


@fill_doc(recipe_parameters=_RECIPE_PARAMETERS, recipe_end=_RECIPE_END)
def make_easy_ensemble(
    estimator=None,
    *,
    n_estimators=10,
    sampling_strategy="auto",
    replacement=False,
    sampler=None,
    user_col="user_id",
    item_col="item_id",
    n_jobs=None,
    random_state=None,
    id_cols=_DEPRECATED,
):
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
    {recipe_parameters}
    n_jobs : int or None, default=None
    {recipe_end}

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
            DecisionTreeClassifier(max_depth=3, min_samples_leaf=10),
            n_estimators=50,
            learning_rate=0.5,
        )
    model = EasyEnsembleClassifier(
        n_estimators=n_estimators,
        estimator=estimator,
        sampling_strategy=sampling_strategy,
        replacement=replacement,
        n_jobs=n_jobs,
        random_state=derive_seed(random_state),
    )
    return _pipeline("make_easy_ensemble", model, sampler, user_col, item_col, id_cols)


@fill_doc(recipe_parameters=_RECIPE_PARAMETERS, recipe_end=_RECIPE_END)
def make_rusboost(
    estimator=None,
    *,
    n_estimators=50,
    learning_rate=0.5,
    sampling_strategy="auto",
    replacement=False,
    sampler=None,
    user_col="user_id",
    item_col="item_id",
    random_state=None,
    id_cols=_DEPRECATED,
):
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
    {recipe_parameters}
    {recipe_end}

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
        estimator=estimator,
        n_estimators=n_estimators,
        learning_rate=learning_rate,
        sampling_strategy=sampling_strategy,
        replacement=replacement,
        random_state=derive_seed(random_state),
    )
    return _pipeline("make_rusboost", model, sampler, user_col, item_col, id_cols)


@fill_doc(recipe_parameters=_RECIPE_PARAMETERS, recipe_end=_RECIPE_END)
def make_balanced_random_forest(
    *,
    n_estimators=200,
    max_depth=None,
    min_samples_leaf=5,
    max_features="sqrt",
    max_samples=None,
    sampling_strategy="all",
    replacement=True,
    sampler=None,
    user_col="user_id",
    item_col="item_id",
    n_jobs=None,
    random_state=None,
    id_cols=_DEPRECATED,
):
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
    {recipe_parameters}
    n_jobs : int or None, default=None
    {recipe_end}

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
        n_estimators=n_estimators,
        max_depth=max_depth,
        min_samples_leaf=min_samples_leaf,
        max_features=max_features,
        max_samples=max_samples,
        sampling_strategy=sampling_strategy,
        replacement=replacement,
        bootstrap=False,
        n_jobs=n_jobs,
        random_state=derive_seed(random_state),
    )
    return _pipeline("make_balanced_random_forest", model, sampler, user_col, item_col, id_cols)


def _neural_class():
    try:
        module = importlib.import_module("sklearn_recsys.neural")
        return module.NeuralClassifier
    except (ImportError, AttributeError):
        return None


@fill_doc(recipe_parameters=_RECIPE_PARAMETERS, recipe_end=_RECIPE_SEED)
def make_stacking(
    estimators=None,
    *,
    include_neural="auto",
    cv=5,
    calibration="sigmoid",
    sampler=None,
    user_col="user_id",
    item_col="item_id",
    min_frequency=5,
    n_jobs=None,
    random_state=None,
    id_cols=_DEPRECATED,
):
    """Stacking of NeuralClassifier + LightGBM + logistic regression with a calibrated meta-learner.

    The base models are fitted on out-of-fold rows of a shuffled :class:`StratifiedKFold`
    (``cv`` folds); their out-of-fold positive-class probabilities feed a logistic regression
    that is itself calibrated (:class:`~sklearn.calibration.CalibratedClassifierCV`, stratified
    3-fold), so ``predict_proba`` is a calibrated probability. With a ``sampler`` the result is
    ``Pipeline([("sampler", sampler), ("model", StackingClassifier(...))])``.

    Default base models (all take the interaction frame as it is, with the same id columns):

    - ``"neural"``: :class:`sklearn_recsys.neural.NeuralClassifier` (MLP over id embeddings, 10
      epochs with early stopping), imported lazily; when ``sklearn_recsys.neural`` is not
      importable and ``include_neural="auto"``, it is left out and the stack is LightGBM +
      logistic regression;
    - ``"lgbm"``: :class:`~sklearn_recsys.boosting.ImbalancedLGBMClassifier`
      (``class_weight="balanced"``, 200 trees of 15 leaves, ids as categorical features);
    - ``"logreg"``: one-hot ids / categories (values seen fewer than ``min_frequency`` times
      pooled) + standardised numeric columns -> ``LogisticRegression(class_weight="balanced")``.

    Parameters
    ----------
    estimators : list of (str, estimator) or None, default=None
        Base models; None builds the defaults above.
    include_neural : {"auto", True, False}, default="auto"
        Whether the default stack includes the NeuralClassifier (True: fail if unavailable).
    cv : int, default=5
        Folds of the stratified out-of-fold predictions.
    calibration : {"sigmoid", "isotonic"}, default="sigmoid"
        Calibration of the meta-learner.
    {recipe_parameters}
    min_frequency : int, default=5
        One-hot categories rarer than this are pooled in the logistic regression.
    n_jobs : int or None, default=None
        Base models fitted in parallel.
    {recipe_end}

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
    user_col, item_col = _resolve_ids("make_stacking", user_col, item_col, id_cols)
    rng = check_random_state(random_state)
    seeds = derive_seed(rng, size=5)
    if estimators is None:
        estimators = []
        neural_cls = _neural_class() if include_neural else None
        if include_neural is True and neural_cls is None:
            raise ImportError(
                "include_neural=True but sklearn_recsys.neural.NeuralClassifier cannot be imported."
            )
        if neural_cls is not None:
            estimators.append(
                (
                    "neural",
                    neural_cls(
                        max_epochs=10,
                        early_stopping=True,
                        user_col=user_col,
                        item_col=item_col,
                        random_state=int(seeds[0]),
                    ),
                )
            )
        estimators.append(
            (
                "lgbm",
                small_lgbm(
                    class_weight="balanced",
                    n_estimators=200,
                    learning_rate=0.05,
                    user_col=user_col,
                    item_col=item_col,
                    random_state=int(seeds[1]),
                ),
            )
        )
        estimators.append(
            (
                "logreg",
                Pipeline(
                    [
                        ("encode", _onehot_scaler(user_col, item_col, min_frequency)),
                        (
                            "model",
                            LogisticRegression(C=1.0, class_weight="balanced", solver="liblinear"),
                        ),
                    ]
                ),
            )
        )
    meta = CalibratedClassifierCV(
        LogisticRegression(C=1.0, max_iter=1000),
        method=calibration,
        cv=StratifiedKFold(3, shuffle=True, random_state=int(seeds[2])),
    )
    model = StackingClassifier(
        estimators=estimators,
        final_estimator=meta,
        cv=StratifiedKFold(cv, shuffle=True, random_state=int(seeds[3])),
        stack_method="predict_proba",
        n_jobs=n_jobs,
    )
    if sampler is None:
        return model
    return Pipeline([("sampler", sampler), ("model", model)])
