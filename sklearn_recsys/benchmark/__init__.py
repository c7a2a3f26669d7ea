"""The strategy benchmark: compare imbalance strategies on a data set, or on your own log.

A *strategy* is a named factory ``f(data) -> estimator``; :func:`register_strategy` adds one,
:func:`load_benchmark_data` loads a named data set or your own CSV / Parquet log and splits it
per user in time, :func:`run_benchmark` fits and scores the strategies, and
:func:`write_report` writes the self-contained HTML case-study report.

Examples
--------
>>> from lightgbm import LGBMClassifier
>>> from sklearn.pipeline import make_pipeline
>>> from sklearn_recsys.benchmark import (featurizer, load_benchmark_data, register_strategy,
...                                      run_benchmark)
>>> @register_strategy("lightgbm-balanced-50", "featurizer + balanced LightGBM, 50 trees",
...                    replace=True)
... def balanced(data):
...     return make_pipeline(featurizer(data), LGBMClassifier(
...         n_estimators=50, class_weight="balanced", n_jobs=1, verbose=-1))
>>> data = load_benchmark_data("synthetic", n_interactions=5000)
>>> table, _ = run_benchmark(data, ["popularity", "lightgbm-balanced-50"], verbose=0)
>>> bool(table.loc["lightgbm-balanced-50", "roc_auc"] > 0.5)
True
>>> from sklearn_recsys.benchmark import STRATEGIES
>>> _ = STRATEGIES.pop("lightgbm-balanced-50")  # (the registry is process-wide)
"""

from . import _strategies  # noqa: F401  (registers the built-in strategies)
from ._data import (
    DATASETS,
    LGBM_BOOSTED_EVENTS,
    LGBM_FOREST_EVENTS,
    LGBM_PARAMS,
    LGBM_PARAMS_EVENTS,
    BenchmarkData,
    load_benchmark_data,
    load_benchmark_folds,
    read_table,
)
from ._registry import (
    STRATEGIES,
    NotApplicable,
    Strategy,
    get_strategy_names,
    register_strategy,
)
from ._report import make_report, write_report
from ._run import (
    FewTestRowsWarning,
    check_benchmark_labels,
    classification_table,
    ranking_table,
    run_benchmark,
    run_benchmark_folds,
    share_of_short_users,
)
from ._strategies import featurizer, featurizer_steps, oversampling_ratio

__all__ = [
    "DATASETS",
    "LGBM_BOOSTED_EVENTS",
    "LGBM_FOREST_EVENTS",
    "LGBM_PARAMS",
    "LGBM_PARAMS_EVENTS",
    "STRATEGIES",
    "BenchmarkData",
    "FewTestRowsWarning",
    "NotApplicable",
    "Strategy",
    "check_benchmark_labels",
    "classification_table",
    "featurizer",
    "featurizer_steps",
    "get_strategy_names",
    "load_benchmark_data",
    "load_benchmark_folds",
    "make_report",
    "oversampling_ratio",
    "ranking_table",
    "read_table",
    "register_strategy",
    "run_benchmark",
    "run_benchmark_folds",
    "share_of_short_users",
    "write_report",
]
