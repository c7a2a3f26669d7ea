"""Doctests of optional extras: skipped, not failed, when the extra is not installed."""

from __future__ import annotations

import importlib.util
import re

_EXAMPLE_LINE = re.compile(r"^[ \t]*>>> .*$", re.MULTILINE)


def _skip_example(match):
    line = match.group(0)
    return line + (", +SKIP" if "# doctest:" in line else "  # doctest: +SKIP")


def doctests_require(*modules):
    """Class / function decorator: skip the docstring's examples when a module is missing.

    With every one of ``modules`` installed the docstring is left as it is and its examples run.
    Without one (an optional extra that is not installed), every example gets
    ``# doctest: +SKIP``, so ``pytest --doctest-modules`` reports the docstring as skipped
    instead of failed. The modules are only looked up (:func:`importlib.util.find_spec`), never
    imported.

    Parameters
    ----------
    *modules : str
        Top-level module names, e.g. ``"sentence_transformers"``.

    Returns
    -------
    callable
        The decorator (it returns the object it decorates, its docstring changed or not).

    Examples
    --------
    >>> from sklearn_recsys.utils import doctests_require
    >>> def f():
    ...     pass
    >>> f.__doc__ = ">>> 1 + 1\\n3"
    >>> doctests_require("no_such_module_here")(f).__doc__.splitlines()[0]
    '>>> 1 + 1  # doctest: +SKIP'
    """
    missing = [m for m in modules if importlib.util.find_spec(m) is None]

    def decorate(obj):
        if missing and obj.__doc__:
            obj.__doc__ = _EXAMPLE_LINE.sub(_skip_example, obj.__doc__)
        return obj

    return decorate
