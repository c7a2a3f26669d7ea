"""Search spaces for :class:`OptunaSearchCV`: a registry of defaults and step choices.

A *search space* maps ``set_params`` names (``"lgbm__learning_rate"``) to Optuna distributions.
Three extras make one study compare whole strategies:

- :class:`StepChoice` makes the estimator of a pipeline step a categorical parameter (the sampler:
  none / SMOTE / ADASYN / GAN / under-sampling, :func:`sampler_choice`; the classifier and its
  loss: log loss / weighted / focal LightGBM, :func:`classifier_choice`), with a conditional
  sub-space per option;
- the registry (:func:`register_search_space`, :func:`get_search_space`) holds sensible default
  spaces per estimator class, looked up by class *name* through the MRO, so that registering the
  toolkit's own estimators imports none of them (nor torch, nor the optional extras);
- spaces are addressable by step name: ``{"lgbm": "default"}`` or ``{"lgbm": {"gamma": ...}}``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from sklearn.base import clone

__all__ = [
    "SEARCH_SPACES",
    "StepChoice",
    "classifier_choice",
    "get_search_space",
    "loss_choice",
    "register_search_space",
    "sampler_choice",
]


#: class name (or ``"module.QualName"``) -> ``space`` dict or ``factory(estimator) -> dict``.
SEARCH_SPACES: dict[str, dict | Callable] = {}

_PASSTHROUGH = ("passthrough", None)


def _is_estimator(obj):
    return hasattr(obj, "get_params") and (hasattr(obj, "fit") or hasattr(obj, "fit_resample"))


class StepChoice:
    """A categorical choice between estimators for one pipeline step, with conditional spaces.

    Optuna's categorical distributions only hold plain values, so the study records the option
    *label*; the search sets the step to a fresh clone of the chosen estimator and then samples
    that option's own sub-space. Sub-parameters are recorded in the study as
    ``"<step>[<label>]__<param>"`` (so that two options may use the same parameter name with
    different ranges) and passed to ``set_params`` as ``"<step>__<param>"``.

    Parameters
    ----------
    options : dict of str -> estimator, "passthrough" or None
        Label -> estimator for the step. ``"passthrough"`` / ``None`` drops the step (imblearn and
        scikit-learn pipelines accept both).
    spaces : "default" or dict of str -> dict, default="default"
        Label -> sub-space (names relative to the option estimator). ``"default"``: each
        estimator's registry space (:func:`get_search_space`); labels missing from a dict get
        no sub-space.

    Examples
    --------
    >>> from imblearn.over_sampling import SMOTE
    >>> from sklearn_recsys.model_selection._spaces import StepChoice
    >>> choice = StepChoice({"none": "passthrough", "smote": SMOTE()})
    >>> choice.labels
    ['none', 'smote']
    >>> sorted(choice.space_for("smote"))
    ['k_neighbors', 'sampling_strategy']
    """

    def __init__(self, options, spaces="default"):
        if not isinstance(options, Mapping) or not options:
            raise ValueError(
                f"StepChoice options must be a non-empty dict label -> estimator; got {options!r}."
            )
        for label, est in options.items():
            if not isinstance(label, str):
                raise TypeError(f"StepChoice labels must be str; got {label!r}.")
            if est not in _PASSTHROUGH and not _is_estimator(est):
                raise TypeError(
                    f"StepChoice option {label!r} must be an estimator, "
                    f"'passthrough' or None; got {type(est).__name__}."
                )
        if spaces != "default" and not isinstance(spaces, Mapping):
            raise TypeError(
                f"StepChoice spaces must be 'default' or a dict label -> space; got "
                f"{type(spaces).__name__}."
            )
        if isinstance(spaces, Mapping):
            unknown = sorted(set(spaces) - set(options))
            if unknown:
                raise ValueError(
                    f"StepChoice spaces names unknown options {unknown}; options "
                    f"are {list(options)}."
                )
        self.options = dict(options)
        self.spaces = spaces

    @property
    def labels(self):
        """The option labels, in order."""
        return list(self.options)

    def space_for(self, label):
        """The sub-space of option ``label`` (names relative to the option estimator)."""
        est = self.options[label]
        if est in _PASSTHROUGH:
            return {}
        if self.spaces == "default":
            return get_search_space(est)
        sub = self.spaces.get(label)
        if not sub:
            return {}
        return resolve_space(est, sub, param=f"StepChoice spaces[{label!r}]")

    def estimator_for(self, label):
        """A fresh clone of option ``label`` (or ``"passthrough"``)."""
        est = self.options[label]
        return "passthrough" if est in _PASSTHROUGH else clone(est)

    def __repr__(self):
        opts = ", ".join(
            f"{k!r}: " + (type(v).__name__ if _is_estimator(v) else repr(v))
            for k, v in self.options.items()
        )
        return f"StepChoice({{{opts}}})"


# ---------------------------------------------------------------------------------- registry
def register_search_space(estimator_class, space=None, *, replace=False):
    """Register the default search space of an estimator class.

    Parameters
    ----------
    estimator_class : type or str
        The class, or its name (``"FocalLGBMClassifier"``) or ``"module.QualName"``: a name lets a
        space be registered without importing the class. Sub-classes inherit the space (MRO).
    space : dict or callable, default=None
        Parameter name -> Optuna distribution (or :class:`StepChoice`), or a callable
        ``factory(estimator) -> dict``. When omitted, returns a decorator for a factory.
    replace : bool, default=False
        Allow replacing an existing registration.

    Examples
    --------
    >>> from optuna.distributions import FloatDistribution
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn_recsys.model_selection._spaces import get_search_space, register_search_space
    >>> _ = register_search_space(Ridge, {"alpha": FloatDistribution(1e-3, 1e3, log=True)},
    ...                           replace=True)
    >>> get_search_space(Ridge())
    {'alpha': FloatDistribution(high=1000.0, log=True, low=0.001, step=None)}
    """
    key = estimator_class if isinstance(estimator_class, str) else estimator_class.__name__
    if space is None:

        def decorate(factory):
            register_search_space(key, factory, replace=replace)
            return factory

        return decorate
    if not (isinstance(space, Mapping) or callable(space)):
        raise TypeError(f"space must be a dict or a callable; got {type(space).__name__}.")
    if key in SEARCH_SPACES and not replace:
        raise ValueError(f"a search space for {key!r} is already registered; pass replace=True.")
    SEARCH_SPACES[key] = space
    return space


def _registered(estimator):
    for cls in type(estimator).__mro__:
        for key in (f"{cls.__module__}.{cls.__qualname__}", cls.__name__):
            if key in SEARCH_SPACES:
                space = SEARCH_SPACES[key]
                return dict(space(estimator) if callable(space) else space)
    return None


def _prefixed(space, prefix):
    return {f"{prefix}{k}": v for k, v in space.items()}


def get_search_space(estimator, *, steps=None):
    """The default search space of an estimator, a pipeline or a meta-estimator.

    Pipelines (scikit-learn's and imbalanced-learn's) get the spaces of their steps prefixed by
    the step names; meta-estimators (anything with a nested estimator parameter such as
    ``estimator=``) get their own registered space plus the nested ones. A
    :class:`StepChoice` set as a pipeline step's default expands there.

    Parameters
    ----------
    estimator : estimator
    steps : list of str, default=None
        Only these pipeline steps (default: every step).

    Returns
    -------
    space : dict
        ``set_params`` name -> Optuna distribution or :class:`StepChoice`; empty when nothing is
        registered for the estimator.

    Examples
    --------
    >>> from imblearn.over_sampling import SMOTE
    >>> from imblearn.pipeline import Pipeline
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_recsys.model_selection._spaces import get_search_space
    >>> pipe = Pipeline([("smote", SMOTE()), ("clf", LogisticRegression())])
    >>> sorted(get_search_space(pipe))
    ['clf__C', 'clf__class_weight', 'smote__k_neighbors', 'smote__sampling_strategy']
    >>> sorted(get_search_space(pipe, steps=["clf"]))
    ['clf__C', 'clf__class_weight']
    """
    if estimator in _PASSTHROUGH:
        return {}
    step_list = getattr(estimator, "steps", None)
    if isinstance(step_list, list) and all(isinstance(s, tuple) for s in step_list):
        names = [name for name, _ in step_list]
        if steps is not None:
            unknown = [s for s in steps if s not in names]
            if unknown:
                raise ValueError(
                    f"steps {unknown} are not steps of the pipeline; steps are {names}."
                )
        space = {}
        for name, step in step_list:
            if steps is None or name in steps:
                space.update(_prefixed(get_search_space(step), f"{name}__"))
        return space
    if steps is not None:
        raise ValueError(f"steps= only applies to pipelines; got {type(estimator).__name__}.")
    space = _registered(estimator) or {}
    for name, value in estimator.get_params(deep=False).items():
        if _is_estimator(value) and not any(k.startswith(f"{name}__") for k in space):
            space.update(_prefixed(get_search_space(value), f"{name}__"))
    return space


# ------------------------------------------------------------------------ user spaces
def resolve_space(estimator, param_distributions, *, param="param_distributions"):
    """Flatten and validate a user space against ``estimator``'s parameters.

    Values may be Optuna distributions, lists / tuples (categorical), :class:`StepChoice`, a
    dict (a sub-space relative to the step of that name) or ``"default"`` (the registry space
    of that step). ``None`` means the whole registry space of ``estimator``.
    """
    if param_distributions is None:
        space = get_search_space(estimator)
        if not space:
            raise ValueError(
                f"no default search space is registered for {type(estimator).__name__} (nor "
                f"its steps); pass {param}= or register one with register_search_space()."
            )
        return space
    if not isinstance(param_distributions, Mapping):
        raise TypeError(
            f"{param} must be a dict name -> distribution; got "
            f"{type(param_distributions).__name__}."
        )
    if not param_distributions:
        raise ValueError(
            f"{param} is empty: there is nothing to tune. Pass None for the "
            f"registry's default space."
        )
    valid = estimator.get_params(deep=True)
    space = {}
    for name, dist in param_distributions.items():
        if not isinstance(name, str):
            raise TypeError(f"{param} keys must be parameter names (str); got {name!r}.")
        sub = valid.get(name, None) if name in valid else None
        if isinstance(dist, str) and dist == "default":
            if name not in valid:
                _unknown(estimator, name, valid, param)
            default = get_search_space(sub)
            if not default:
                raise ValueError(
                    f"{param}[{name!r}]='default' but no search space is registered "
                    f"for {type(sub).__name__}."
                )
            space.update(_prefixed(default, f"{name}__"))
        elif isinstance(dist, Mapping):
            if name not in valid or not hasattr(sub, "get_params"):
                _unknown(estimator, name, valid, param)
            space.update(
                _prefixed(resolve_space(sub, dist, param=f"{param}[{name!r}]"), f"{name}__")
            )
        else:
            if name not in valid and not _settable(estimator, name):
                _unknown(estimator, name, valid, param)
            space[name] = _as_distribution(dist, name, param)
    for name, dist in space.items():
        if isinstance(dist, StepChoice):
            clash = [k for k in space if k.startswith(f"{name}__")]
            if clash:
                raise ValueError(
                    f"{param} sets {clash} next to StepChoice {name!r}; put "
                    f"parameters of the options in StepChoice(spaces=...)."
                )
            for label in dist.labels:  # validates each option's sub-space now
                dist.space_for(label)
    return space


def _settable(estimator, name):
    """Whether ``set_params`` takes ``name`` although ``get_params`` does not list it (a routed
    parameter such as skorch's ``optimizer__weight_decay``)."""
    try:
        clone(estimator).set_params(**{name: None})
    except (ValueError, TypeError, AttributeError):
        return False
    return True


def _unknown(estimator, name, valid, param):
    head = name.split("__")[0]
    near = sorted(k for k in valid if k.split("__")[0] == head) or sorted(
        k for k in valid if "__" not in k
    )
    shown = near[:25] + (["..."] if len(near) > 25 else [])
    raise ValueError(
        f"{param} names {name!r}, which is not a parameter of "
        f"{type(estimator).__name__}; valid parameters include {shown}."
    )


def _as_distribution(dist, name, param):
    if isinstance(dist, (BaseDistribution, StepChoice)):
        return dist
    if isinstance(dist, (list, tuple)) and dist:
        return CategoricalDistribution(list(dist))
    raise TypeError(
        f"{param}[{name!r}] must be an Optuna distribution (FloatDistribution, "
        f"IntDistribution, CategoricalDistribution), a non-empty list of values, a "
        f"StepChoice, a dict sub-space or 'default'; got {dist!r}."
    )


# ------------------------------------------------------------------------- sampling
def suggest_params(trial, space, *, set_prefix="", name_prefix=""):
    """Sample ``space`` in ``trial`` and return ``set_params`` keyword arguments.

    Works with :class:`optuna.trial.FixedTrial` too, which turns a finished trial's recorded
    parameters back into ``set_params`` arguments.
    """
    params = {}
    for key, dist in space.items():
        name = f"{name_prefix}{key}"
        if isinstance(dist, StepChoice):
            label = trial.suggest_categorical(name, dist.labels)
            params[f"{set_prefix}{key}"] = dist.estimator_for(label)
            params.update(
                suggest_params(
                    trial,
                    dist.space_for(label),
                    set_prefix=f"{set_prefix}{key}__",
                    name_prefix=f"{name}[{label}]__",
                )
            )
        elif isinstance(dist, FloatDistribution):
            params[f"{set_prefix}{key}"] = trial.suggest_float(
                name, dist.low, dist.high, log=dist.log, step=dist.step
            )
        elif isinstance(dist, IntDistribution):
            params[f"{set_prefix}{key}"] = trial.suggest_int(
                name, dist.low, dist.high, log=dist.log, step=dist.step
            )
        elif isinstance(dist, CategoricalDistribution):
            params[f"{set_prefix}{key}"] = trial.suggest_categorical(name, list(dist.choices))
        else:
            raise TypeError(f"unsupported distribution for {name!r}: {dist!r}.")
    return params


# ------------------------------------------------------------------- default spaces
def _F(low, high, log=False):
    return FloatDistribution(low, high, log=log)


def _I(low, high, log=False):
    return IntDistribution(low, high, log=log)


def _C(*choices):
    return CategoricalDistribution(list(choices))


def _boosting():
    return {
        "n_estimators": _I(50, 500, log=True),
        "learning_rate": _F(0.01, 0.3, log=True),
        "num_leaves": _I(8, 128, log=True),
        "min_child_samples": _I(5, 100, log=True),
        "subsample": _F(0.5, 1.0),
        "colsample_bytree": _F(0.5, 1.0),
        "reg_lambda": _F(1e-3, 10.0, log=True),
    }


def _ratio():
    """Minority / majority ratio after re-sampling (binary targets).

    imbalanced-learn refuses a ratio below the one the data already has, so the range starts at
    0.3: valid for positive rates up to 23 % (MovieLens "loved" is 21 %).
    """
    return _F(0.3, 1.0)


def _neural():
    return {
        "embedding_dim": _C(8, 16, 32),
        "hidden_units": _I(16, 256, log=True),
        "dropout": _F(0.0, 0.5),
        "loss": _C("bce", "weighted", "focal", "class_balanced"),
        "focal_gamma": _F(0.5, 5.0),
        "lr": _F(1e-4, 1e-2, log=True),
        "optimizer__weight_decay": _F(1e-7, 1e-3, log=True),
        "batch_size": _C(128, 256, 512),
    }


_TREES = {
    "n_estimators": _I(50, 500, log=True),
    "max_depth": _I(2, 32, log=True),
    "min_samples_leaf": _I(1, 50, log=True),
    "max_features": _F(0.1, 1.0),
}
_LGBM = {k: v for k, v in _boosting().items() if k != "subsample"}

_DEFAULTS = {
    # scikit-learn
    "LogisticRegression": {"C": _F(1e-3, 1e2, log=True), "class_weight": _C(None, "balanced")},
    "RandomForestClassifier": {
        **_TREES,
        "class_weight": _C(None, "balanced", "balanced_subsample"),
    },
    "ExtraTreesClassifier": {**_TREES, "class_weight": _C(None, "balanced", "balanced_subsample")},
    "HistGradientBoostingClassifier": {
        "learning_rate": _F(0.01, 0.3, log=True),
        "max_iter": _I(50, 500, log=True),
        "max_leaf_nodes": _I(8, 128, log=True),
        "min_samples_leaf": _I(5, 200, log=True),
        "l2_regularization": _F(1e-4, 10.0, log=True),
        "class_weight": _C(None, "balanced"),
    },
    "DecisionTreeClassifier": {
        "max_depth": _I(2, 32, log=True),
        "min_samples_leaf": _I(1, 50, log=True),
        "class_weight": _C(None, "balanced"),
    },
    "KNeighborsClassifier": {
        "n_neighbors": _I(1, 100, log=True),
        "weights": _C("uniform", "distance"),
    },
    "SGDClassifier": {
        "alpha": _F(1e-6, 1e-1, log=True),
        "loss": _C("log_loss", "modified_huber", "hinge"),
        "class_weight": _C(None, "balanced"),
    },
    # LightGBM
    "LGBMClassifier": {**_LGBM, "class_weight": _C(None, "balanced")},
    "LGBMRegressor": _LGBM,
    "LGBMRanker": _LGBM,
    # imbalanced-learn samplers
    "SMOTE": {"k_neighbors": _I(2, 10), "sampling_strategy": _ratio()},
    "BorderlineSMOTE": {
        "k_neighbors": _I(2, 10),
        "sampling_strategy": _ratio(),
        "kind": _C("borderline-1", "borderline-2"),
    },
    "SVMSMOTE": {"k_neighbors": _I(2, 10), "sampling_strategy": _ratio()},
    "SMOTENC": {"k_neighbors": _I(2, 10), "sampling_strategy": _ratio()},
    # ADASYN spreads the new rows over the minority rows and rounds per row: just above the
    # data's own ratio it generates none and raises, hence a higher floor
    "ADASYN": {"n_neighbors": _I(2, 10), "sampling_strategy": _F(0.5, 1.0)},
    "RandomOverSampler": {"sampling_strategy": _ratio()},
    "RandomUnderSampler": {"sampling_strategy": _ratio()},
    "NearMiss": {"version": _C(1, 2, 3), "n_neighbors": _I(2, 10), "sampling_strategy": _ratio()},
    "EditedNearestNeighbours": {"n_neighbors": _I(2, 7)},
    "SMOTETomek": {"sampling_strategy": _ratio()},
    "SMOTEENN": {"sampling_strategy": _ratio()},
    # imbalanced-learn ensembles
    "BalancedRandomForestClassifier": _TREES,
    "BalancedBaggingClassifier": {
        "n_estimators": _I(10, 100, log=True),
        "max_samples": _F(0.3, 1.0),
    },
    "EasyEnsembleClassifier": {"n_estimators": _I(5, 50, log=True)},
    "RUSBoostClassifier": {
        "n_estimators": _I(20, 300, log=True),
        "learning_rate": _F(0.01, 1.0, log=True),
    },
    # sklearn_recsys (by name: registering imports none of them)
    "ImbalancedLGBMClassifier": {**_boosting(), "class_weight": _C("balanced", "sqrt", None)},
    "FocalLGBMClassifier": {
        **_boosting(),
        "focal_gamma": _F(0.5, 5.0),
        "class_weight": _C(None, "sqrt", "balanced"),
    },
    "GroupedLGBMRanker": {**_boosting(), "objective": _C("lambdarank", "rank_xendcg")},
    "NeuralClassifier": {
        **_neural(),
        "architecture": _C("mlp", "wide_deep", "deepfm", "two_tower"),
    },
    "MultiTaskClassifier": {**_neural(), "aux_weight": _F(0.1, 2.0, log=True)},
    "GANOverSampler": {
        "max_epochs": _I(10, 200, log=True),
        "sampling_strategy": _ratio(),
        "generator_lr": _F(5e-5, 1e-3, log=True),
    },
    "NegativeSampler": {
        "n_negatives": _I(1, 10, log=True),
        "strategy": _C("uniform", "popularity"),
        "popularity_exponent": _F(0.0, 1.0),
    },
    "PopularityUnderSampler": {"sampling_strategy": _ratio()},
    "SelfPacedEnsembleClassifier": {"n_estimators": _I(5, 50, log=True), "k_bins": _I(3, 20)},
    "InteractionFeaturizer": {"n_factors": _I(0, 32), "smooth": _C("auto", 1.0, 10.0, 100.0)},
}

for _name, _space in _DEFAULTS.items():
    register_search_space(_name, _space)


# ------------------------------------------------------------------- strategy choices
def sampler_choice(
    options=("none", "smote", "adasyn", "gan", "under"),
    *,
    random_state=None,
    gan_epochs=30,
    id_preserving=False,
):
    """A :class:`StepChoice` over re-sampling strategies, for a sampler step of a pipeline.

    Labels: ``"none"`` (no re-sampling), ``"smote"`` / ``"adasyn"`` / ``"random_over"``
    (imbalanced-learn), ``"gan"`` (:class:`~sklearn_recsys.sampling.GANOverSampler`) and
    ``"under"`` (:class:`~imblearn.under_sampling.RandomUnderSampler`). Each option brings its
    registry sub-space (ratio, neighbours, GAN epochs ...). The imbalanced-learn samplers work
    on numeric features: put the choice after a featurizer (``keep_id_columns=False``), or set
    ``id_preserving=True`` to wrap the over-samplers in
    :class:`~sklearn_recsys.sampling.IdPreservingSampler` for the raw interaction frame.

    Parameters
    ----------
    options : sequence of str
        Labels to include.
    random_state : int or None, default=None
        Seed of every sampler.
    gan_epochs : int, default=30
        ``max_epochs`` of the GAN option before tuning (its sub-space tunes it in [10, 200]).
    id_preserving : bool, default=False
        Wrap SMOTE / ADASYN / random over-sampling in ``IdPreservingSampler`` (sub-parameters
        become ``sampler__k_neighbors`` ...).

    Examples
    --------
    >>> from sklearn_recsys.model_selection._spaces import sampler_choice
    >>> sampler_choice(("none", "smote", "under"), random_state=0)
    StepChoice({'none': 'passthrough', 'smote': SMOTE, 'under': RandomUnderSampler})
    """
    from imblearn.over_sampling import ADASYN, SMOTE, RandomOverSampler
    from imblearn.under_sampling import RandomUnderSampler

    def gan():
        from ..sampling import GANOverSampler

        return GANOverSampler(max_epochs=gan_epochs, random_state=random_state)

    makers = {
        "none": lambda: "passthrough",
        "smote": lambda: SMOTE(random_state=random_state),
        "adasyn": lambda: ADASYN(random_state=random_state),
        "random_over": lambda: RandomOverSampler(random_state=random_state),
        "gan": gan,
        "under": lambda: RandomUnderSampler(random_state=random_state),
    }
    unknown = [o for o in options if o not in makers]
    if unknown:
        raise ValueError(f"unknown sampler options {unknown}; available: {list(makers)}.")
    chosen = {o: makers[o]() for o in options}
    if id_preserving:
        from ..sampling import IdPreservingSampler

        for o in ("smote", "adasyn", "random_over"):
            if o in chosen:
                chosen[o] = IdPreservingSampler(chosen[o])
    return StepChoice(chosen)


def classifier_choice(options=("logloss", "weighted", "focal"), *, random_state=None, n_jobs=None):
    """A :class:`StepChoice` over LightGBM classifiers and their losses, for a pipeline's
    classifier step.

    ``"logloss"``: :class:`lightgbm.LGBMClassifier`; ``"weighted"``:
    :class:`~sklearn_recsys.boosting.ImbalancedLGBMClassifier` (class-weight presets);
    ``"focal"``: :class:`~sklearn_recsys.boosting.FocalLGBMClassifier`. Each brings its
    registry sub-space (for the focal loss ``focal_gamma``).

    Parameters
    ----------
    options : sequence of str, default=("logloss", "weighted", "focal")
        Labels to include.
    random_state : int or None, default=None
        Seed of every classifier.
    n_jobs : int or None, default=None
        LightGBM's threads in every classifier.

    Returns
    -------
    choice : StepChoice
        The classifiers, by label.

    Examples
    --------
    >>> from sklearn_recsys.model_selection import classifier_choice
    >>> classifier_choice(("logloss", "focal")).labels
    ['logloss', 'focal']
    """
    from lightgbm import LGBMClassifier

    def ours(name):
        def make():
            from .. import boosting

            return getattr(boosting, name)(random_state=random_state, n_jobs=n_jobs)

        return make

    makers = {
        "logloss": lambda: LGBMClassifier(random_state=random_state, n_jobs=n_jobs, verbose=-1),
        "weighted": ours("ImbalancedLGBMClassifier"),
        "focal": ours("FocalLGBMClassifier"),
    }
    unknown = [o for o in options if o not in makers]
    if unknown:
        raise ValueError(f"unknown classifier options {unknown}; available: {list(makers)}.")
    return StepChoice({o: makers[o]() for o in options})


def loss_choice(options=("logloss", "weighted", "focal"), *, random_state=None, n_jobs=None):
    """Deprecated alias of :func:`classifier_choice`, removed in the next release.

    Parameters
    ----------
    options, random_state, n_jobs
        See :func:`classifier_choice`.

    Returns
    -------
    choice : StepChoice
        As :func:`classifier_choice` returns it.

    Examples
    --------
    >>> import warnings
    >>> from sklearn_recsys.model_selection import loss_choice
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FutureWarning)
    ...     loss_choice(("logloss",)).labels
    ['logloss']
    """
    warnings.warn(
        "loss_choice is deprecated and will be removed in the next release; use "
        "classifier_choice (same parameters).",
        FutureWarning,
        stacklevel=2,
    )
    return classifier_choice(options, random_state=random_state, n_jobs=n_jobs)
