"""Deprecated aliases of renamed sampler parameters and attributes (kept for one release)."""

from __future__ import annotations

import inspect
import warnings

from sklearn.utils import deprecated
from sklearn.utils._param_validation import Hidden, StrOptions

#: Default of a renamed parameter's old name: "not set".
DEPRECATED = "deprecated"

#: The constraint that a renamed parameter's old name adds to the new name's constraints.
DEPRECATED_OPTION = Hidden(StrOptions({DEPRECATED}))

#: Version that removes the old names.
REMOVED_IN = "0.2"


def renamed_param(estimator, old, new):
    """The value of parameter ``new``, or of its deprecated alias ``old`` when that one is set.

    Setting ``old`` emits a :class:`FutureWarning` naming ``new``; setting both is an error.

    Examples
    --------
    >>> import warnings
    >>> from sklearn_recsys.sampling import GANOverSampler
    >>> from sklearn_recsys.sampling._deprecation import renamed_param
    >>> renamed_param(GANOverSampler(max_epochs=5), "epochs", "max_epochs")
    5
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     renamed_param(GANOverSampler(epochs=7), "epochs", "max_epochs")
    7
    >>> print(caught[0].message)
    GANOverSampler: 'epochs' is deprecated and will be removed in 0.2; use max_epochs=7.
    """
    value = getattr(estimator, old)
    if isinstance(value, str) and value == DEPRECATED:
        return getattr(estimator, new)
    current = getattr(estimator, new)
    default = inspect.signature(type(estimator).__init__).parameters[new].default
    if not (current is default or (type(current) is type(default) and current == default)):
        raise ValueError(
            f"{old} is the deprecated name of {new}; set only {new} (got {old}={value!r} and "
            f"{new}={current!r})."
        )
    warnings.warn(
        f"{type(estimator).__name__}: {old!r} is deprecated and will be removed in {REMOVED_IN}; "
        f"use {new}={value!r}.",
        FutureWarning,
        stacklevel=3,
    )
    return value


def renamed_attribute(old, new):
    """A read-only property ``old`` that warns and returns the fitted attribute ``new``."""
    message = f"{old} is deprecated and will be removed in {REMOVED_IN}; use {new}."
    return deprecated(message)(property(lambda self: getattr(self, new)))
