"""The documentation the three LightGBM wrappers share, written once.

LightGBM documents the parameters of ``LGBMClassifier``, ``LGBMRegressor`` and ``LGBMRanker`` in
one place; so do we: :data:`LGBM_PARAMETERS` and :data:`LGBM_DIFFERENCES` are put into the class
docstrings by :func:`fill_doc`, which replaces a line ``{name}`` of a docstring by the block
``name``, indented like that line.
"""

from __future__ import annotations

import textwrap

#: The parameters every wrapper takes: LightGBM's, with LightGBM's names, defaults and meaning,
#: then the wrappers' own (id columns, categorical columns, early stopping).
LGBM_PARAMETERS = """\
boosting_type : str, default="gbdt"
    ``"gbdt"`` (gradient boosting), ``"dart"`` (dropouts meet boosting) or ``"rf"``
    (random forest).
num_leaves : int, default=31
    Maximum number of leaves per tree.
max_depth : int, default=-1
    Maximum tree depth; <= 0 means no limit.
learning_rate : float, default=0.1
    Shrinkage of every tree.
n_estimators : int, default=100
    Maximum number of boosting rounds (fewer with early stopping).
subsample_for_bin : int, default=200000
    Number of rows used to construct the histogram bins.
min_split_gain : float, default=0.0
    Minimum loss reduction to make a split.
min_child_weight : float, default=1e-3
    Minimum sum of Hessians in a leaf.
min_child_samples : int, default=20
    Minimum number of rows in a leaf (LightGBM ``min_data_in_leaf``).
subsample : float, default=1.0
    Fraction of rows drawn for a tree (LightGBM ``bagging_fraction``); used only when
    ``subsample_freq > 0``.
subsample_freq : int, default=0
    Draw a new row sample every ``subsample_freq`` trees; <= 0 disables row sampling.
colsample_bytree : float, default=1.0
    Fraction of features drawn for each tree (LightGBM ``feature_fraction``).
reg_alpha : float, default=0.0
    L1 penalty on leaf values.
reg_lambda : float, default=0.0
    L2 penalty on leaf values.
random_state : int, RandomState instance or None, default=None
    LightGBM's seed: an int is passed on as it is, a ``RandomState`` draws one, None keeps
    LightGBM's default seeds. It also seeds the early-stopping validation split.
n_jobs : int or None, default=None
    LightGBM threads, with LightGBM's meaning: None uses the physical cores, -1 all threads,
    0 OpenMP's default.
importance_type : {"split", "gain"}, default="split"
    What ``feature_importances_`` holds: split counts or total gains per feature.
verbose : int, default=-1
    LightGBM's verbosity: < 0 fatal errors only, 0 also warnings, 1 also information,
    > 1 debugging output.
user_col, item_col : str, int or None, default="user_id", "item_id"
    Id columns of ``X``: a name, a position, or None for none. The default names apply when
    ``X`` has such a column (a numeric matrix goes in as it goes into LightGBM); any other
    name must be a column of a DataFrame ``X`` (an array has positions only). Whatever its
    name, an id column is never used as a number: its ids are mapped to ``1 .. n`` in ``fit``
    and given to LightGBM as a categorical feature, an id not seen in ``fit`` maps to the
    reserved code ``0`` (cold start), and missing ids are an error that names the parameter.
    To use such a column as a plain number, pass None; to leave it out, drop it from ``X``.
categorical_features : "auto", list or None, default="auto"
    Columns other than the ids given to LightGBM as categorical features (the id columns
    always are). ``"auto"``: every ``category``, object or string column of a DataFrame (no
    column of an array); a list names DataFrame columns (or array positions); None: none.
    Their values are coded like the ids, except that missing values stay missing.
early_stopping_rounds : int or None, default=None
    If set, hold out ``validation_fraction`` of the training data (stratified by class for
    the classifiers, whole queries for the ranker) and stop when its loss (NDCG for the
    ranker) has not improved for this many rounds.
validation_fraction : float, default=0.1
    Fraction of the rows (queries for the ranker) held out for early stopping.
lgbm_params : dict or None
    Deprecated: pass LightGBM parameters as keyword arguments instead (``max_bin=63``).
**kwargs
    Any other LightGBM parameter, with LightGBM's name and meaning (``max_bin=63``,
    ``cat_smooth=20``, ``deterministic=True``, ...), as for :class:`lightgbm.LGBMModel`;
    ``get_params``, ``set_params`` and ``clone`` see them. As in LightGBM, a name it does not
    know is ignored (with a warning when ``verbose >= 0``).
"""

#: The rows of the "Differences from LightGBM" table that hold for every wrapper.
LGBM_DIFFERENCES = """\
| ``verbose`` | 1: information and warnings | -1: silent |
| id columns (``user_col``, ``item_col``) | numbers | categorical; unseen ids: a reserved code |
| object / string columns | rejected | categorical, like ``category`` columns |
| early stopping | ``early_stopping_round`` and an ``eval_set`` | ``early_stopping_rounds`` |
| ``fit`` arguments | also ``eval_set``, ``init_score``, ``callbacks``, ... | ``sample_weight`` |
"""


def fill_doc(**blocks):
    """Decorator: replace each line ``{name}`` of the docstring by ``blocks[name]``.

    The block is indented like the line it replaces, so that it sits in a class or function
    docstring as if it had been written there.

    Examples
    --------
    >>> from sklearn_recsys.boosting._docs import fill_doc
    >>> @fill_doc(params="a : int\\n    Some number.\\n")
    ... def f(a):
    ...     '''Do it.
    ...
    ...     Parameters
    ...     ----------
    ...     {params}
    ...     '''
    >>> print(f.__doc__.splitlines()[4:6])
    ['    a : int', '        Some number.']
    """

    def decorate(obj):
        lines = obj.__doc__.splitlines()
        for name, block in blocks.items():
            marker = "{" + name + "}"
            at = [i for i, line in enumerate(lines) if line.strip() == marker]
            if len(at) != 1:
                raise ValueError(f"{obj.__qualname__}: the docstring needs one line {marker}.")
            line = lines[at[0]]
            indent = line[: len(line) - len(line.lstrip())]
            lines[at[0] : at[0] + 1] = textwrap.indent(block, indent).rstrip("\n").splitlines()
        obj.__doc__ = "\n".join(lines) + "\n"
        return obj

    return decorate
