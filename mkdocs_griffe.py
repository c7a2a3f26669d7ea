"""Griffe extension: docstrings and signatures completed at import time are read at run time.

The LightGBM wrappers of ``sklearn_recsys.boosting`` and the ensemble recipes share parameter
blocks, put into their docstrings by ``sklearn_recsys.boosting._docs.fill_doc`` when the module
is imported (griffe reads the source, where a line ``{name}`` stands for the block), and the
wrappers' ``__init__`` signature is completed with the shared parameters
(``BaseLGBM.__init_subclass__``). For such objects this extension takes the docstring and the
signature of the imported object.
"""

import importlib
import inspect
import re

import griffe

_MARKER = re.compile(r"^\s*\{\w+\}\s*$", re.MULTILINE)
_KINDS = {
    inspect.Parameter.POSITIONAL_ONLY: griffe.ParameterKind.positional_only,
    inspect.Parameter.POSITIONAL_OR_KEYWORD: griffe.ParameterKind.positional_or_keyword,
    inspect.Parameter.VAR_POSITIONAL: griffe.ParameterKind.var_positional,
    inspect.Parameter.KEYWORD_ONLY: griffe.ParameterKind.keyword_only,
    inspect.Parameter.VAR_KEYWORD: griffe.ParameterKind.var_keyword,
}


def _runtime(obj):
    target = importlib.import_module(obj.module.path)
    for part in obj.path[len(obj.module.path) + 1 :].split("."):
        target = getattr(target, part)
    return target


def _fill(obj):
    if obj.docstring is None or not _MARKER.search(obj.docstring.value):
        return None
    target = _runtime(obj)
    obj.docstring.value = inspect.cleandoc(target.__doc__)
    return target


class RuntimeDocstrings(griffe.Extension):
    def on_function_instance(self, *, func, **kwargs):
        _fill(func)

    def on_class_members(self, *, cls, **kwargs):
        target = _fill(cls)
        init = cls.members.get("__init__")
        if target is None or init is None or "__signature__" not in vars(target.__init__):
            return
        params = [
            griffe.Parameter(
                p.name,
                kind=_KINDS[p.kind],
                default=None if p.default is p.empty else repr(p.default),
            )
            for p in inspect.signature(target.__init__).parameters.values()
        ]
        init.parameters = griffe.Parameters(*params)
