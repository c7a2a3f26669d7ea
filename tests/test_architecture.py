"""The package's layering (docs/architecture.md): imports go down the layers, never up.

Every module is parsed (nothing imported), each ``from .x`` / ``sklearn_recsys.x`` import is
mapped to the sub-package it reaches, and the pair is checked against the layers. Imports inside
functions count too: a lazy import is still a dependency.
"""

import ast
from pathlib import Path

import sklearn_recsys

ROOT = Path(sklearn_recsys.__file__).parent

#: layer of each top-level module or sub-package (lower = nearer the ground floor)
LAYERS = {
    "_contract": 0,
    "utils": 0,
    "metrics": 1,
    "datasets": 1,
    "features": 2,
    "sampling": 2,
    "losses": 2,
    "neural": 3,
    "boosting": 3,
    "dummy": 3,
    "ensemble": 4,
    "retrieval": 4,
    "rerank": 4,  # they combine the estimators below
    "model_selection": 5,
    "recommend": 5,
    "benchmark": 6,
    "serving": 6,
    "dask": 6,
    "cli": 7,
    "_topk_cli": 7,
    "_tune_cli": 7,
    "_benchmark": 7,
    "__init__": 8,
}
#: modules that form one unit: the command line is split over three files
UNITS = {"_topk_cli": "cli", "_tune_cli": "cli"}

#: imports between two estimator packages of the same layer, each with its reason
SIDEWAYS = {
    ("model_selection", "recommend"): "TopKParetoSearch scores top-k lists with evaluate_topk",
}


def _unit(path, root):
    rel = path.relative_to(root)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports(path, root):
    tree = ast.parse(path.read_text(), filename=str(path))
    package = path.relative_to(root.parent).with_suffix("").parts[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = (*base, *(node.module.split(".") if node.module else ()))
                if len(target) == 1:  # "from . import x" at the top: x is the unit
                    for alias in node.names:
                        yield alias.name, node.lineno
                    continue
            elif node.module and node.module.split(".")[0] == "sklearn_recsys":
                target = tuple(node.module.split("."))
            else:
                continue
            if len(target) > 1:
                yield target[1], node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "sklearn_recsys" and len(parts) > 1:
                    yield parts[1], node.lineno


def _edges(root):
    for path in sorted(root.rglob("*.py")):
        src = _unit(path, root)
        for dst, line in _imports(path, root):
            dst = dst.removesuffix(".py")
            if dst in LAYERS and UNITS.get(dst, dst) != UNITS.get(src, src):
                yield path.relative_to(root), line, src, dst


def _violations(root=ROOT):
    return [
        f"{path}:{line} {src} (layer {LAYERS[src]}) imports {dst} (layer {LAYERS[dst]})"
        for path, line, src, dst in _edges(root)
        if LAYERS[dst] >= LAYERS[src] and (src, dst) not in SIDEWAYS
    ]


def test_every_unit_has_a_layer():
    units = {_unit(p, ROOT) for p in ROOT.rglob("*.py")}
    assert units <= set(LAYERS), sorted(units - set(LAYERS))


def test_imports_go_down_the_layers():
    assert _violations() == []


def test_every_allowed_sideways_import_is_used():
    # the exceptions only shrink: one that is no longer needed is removed
    used = {(src, dst) for _, _, src, dst in _edges(ROOT)}
    assert set(SIDEWAYS) <= used, sorted(set(SIDEWAYS) - used)


def test_the_checker_sees_an_upward_import(tmp_path):
    # the check itself can fail: a metrics module importing the estimators, lazily
    bad = tmp_path / "sklearn_recsys"
    (bad / "metrics").mkdir(parents=True)
    (bad / "metrics" / "_bad.py").write_text(
        "def f():\n    from ..boosting import X\n    return X\n"
    )
    assert _violations(bad) == ["metrics/_bad.py:2 metrics (layer 1) imports boosting (layer 3)"]


def test_one_version_source():
    # pyproject.toml reads the version from the package: the installed metadata agrees
    from importlib.metadata import version

    assert version("sklearn-recsys") == sklearn_recsys.__version__
    assert (
        'version = "'
        not in (ROOT.parent / "pyproject.toml").read_text().split("[project]")[1].split("[")[0]
    )
