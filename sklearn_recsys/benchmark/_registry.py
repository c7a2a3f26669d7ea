"""The strategy registry: named factories ``f(data) -> estimator`` the benchmark compares."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

__all__ = ["STRATEGIES", "NotApplicable", "Strategy", "get_strategy_names", "register_strategy"]


@dataclasses.dataclass
class Strategy:
    """One registered strategy.

    Attributes
    ----------
    name : str
        The name to select it by.
    description : str
        One line for ``--list``.
    factory : callable
        ``factory(data) -> estimator`` (an unfitted scikit-learn estimator).
    default : bool
        Whether it runs when no strategy is named.
    """

    name: str
    description: str
    factory: Callable
    default: bool = False


class NotApplicable(ValueError):
    """Raised by a strategy factory whose strategy cannot run on the data set (e.g. the text
    strategies on a log without item text); the benchmark reports it instead of failing."""


#: name -> Strategy; filled by :func:`register_strategy`.
STRATEGIES: dict[str, Strategy] = {}


def register_strategy(name, description, *, default=False, replace=False):
    """Decorator registering ``factory(data) -> estimator`` under ``name``.

    Parameters
    ----------
    name : str
        The name used by ``run_benchmark(data, [name])`` and ``--strategies name``.
    description : str
        One line shown by ``sklearn-recsys benchmark --list``.
    default : bool, default=False
        Put the strategy in the set run when none is named (``make demo``).
    replace : bool, default=False
        Replace a strategy already registered under ``name``; without it a taken name is an
        error (the built-in names are listed by :func:`get_strategy_names`).

    Returns
    -------
    decorate : callable
        Registers the factory and returns it unchanged.

    Examples
    --------
    >>> from lightgbm import LGBMClassifier
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_recsys.benchmark import featurizer, register_strategy
    >>> @register_strategy("my-lightgbm", "featurizer + LightGBM, 50 trees")
    ... def my_lightgbm(data):
    ...     return make_pipeline(featurizer(data),
    ...                          LGBMClassifier(n_estimators=50, n_jobs=1, verbose=-1))
    >>> from sklearn_recsys.benchmark import STRATEGIES
    >>> STRATEGIES["my-lightgbm"].description
    'featurizer + LightGBM, 50 trees'
    >>> _ = STRATEGIES.pop("my-lightgbm")
    """

    def decorate(factory):
        if name in STRATEGIES and not replace:
            raise ValueError(
                f"strategy {name!r} is already registered; pick another name or pass replace=True"
            )
        STRATEGIES[name] = Strategy(name, description, factory, default)
        return factory

    return decorate


def get_strategy_names(strategies=None):
    """Resolve a selection of strategies to a list of registered names.

    Parameters
    ----------
    strategies : list of str, str or None, default=None
        ``None``: the default set (``default=True``); ``"all"`` (or ``["all"]``): every
        registered strategy; a comma-separated string or a list: those names, checked.

    Returns
    -------
    names : list of str

    Raises
    ------
    ValueError
        If a name is not registered (the unknown names and the registered ones are listed).

    Examples
    --------
    >>> from sklearn_recsys.benchmark import get_strategy_names
    >>> "lightgbm" in get_strategy_names()
    True
    >>> get_strategy_names("popularity,logistic")
    ['popularity', 'logistic']
    """
    if isinstance(strategies, str):
        strategies = [s.strip() for s in strategies.split(",") if s.strip()]
    if strategies is None:
        names = [n for n, s in STRATEGIES.items() if s.default]
    elif list(strategies) == ["all"]:
        names = list(STRATEGIES)
    else:
        names = list(strategies)
    unknown = [n for n in names if n not in STRATEGIES]
    if unknown:
        raise ValueError(f"unknown strategies {unknown}; available: {sorted(STRATEGIES)}")
    if not names:
        raise ValueError("no strategy selected; name at least one (see --list)")
    return names
