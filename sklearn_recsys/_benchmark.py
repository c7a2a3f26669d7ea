"""The main job: train strategies on one split of a data set and compare them in a table.

A *strategy* is a named factory ``f(data) -> estimator`` registered with
:func:`register_strategy`; adding one is a few lines::

    @register_strategy("lightgbm+focal", "featurizer + focal-loss LightGBM")
    def _focal(data):
        return make_pipeline(_featurizer(data), FocalLGBMClassifier(random_state=data.random_state))
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    average_precision_score,
    balanced_accuracy_score,
    f1_score,
    recall_score,
    roc_auc_score,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from tqdm.auto import tqdm

from .datasets import (
    label_conversion,
    label_loved,
    load_movielens,
    load_taobao,
    make_interactions,
)
from .features import BehaviorHistoryFeaturizer, InteractionFeaturizer, check_label_leakage
from .metrics import ranking_report
from .model_selection import RollingOriginSplit, user_temporal_split
from .recommend import PopularityRecommender

__all__ = ["BenchmarkData", "NotApplicable", "STRATEGIES", "featurizer", "featurizer_steps",
           "load_benchmark_data", "load_benchmark_folds", "oversampling_ratio",
           "register_strategy", "run_benchmark", "run_benchmark_folds"]

logger = logging.getLogger(__name__)

DATASETS = ("synthetic", "ml-100k", "taobao", "synthetic-events")

#: LightGBM settings of the ``lightgbm`` baseline: the general one, and for the conversion
#: logs (about a thousand training positives after the purge) shallower, more regularised
#: trees, chosen on the rolling-origin folds (docs/taobao.md)
LGBM_PARAMS = dict(n_estimators=300, learning_rate=0.05, num_leaves=31, subsample=0.8,
                   subsample_freq=1, colsample_bytree=0.8, n_jobs=1, verbose=-1)
LGBM_PARAMS_EVENTS = dict(n_estimators=300, learning_rate=0.03, num_leaves=7,
                          min_child_samples=200, reg_lambda=30.0, subsample=0.8,
                          subsample_freq=1, colsample_bytree=0.5, n_jobs=1, verbose=-1)


@dataclasses.dataclass
class BenchmarkData:
    """One split of one data set, as every strategy factory receives it.

    ``events`` is the whole event log of a conversion data set (``taobao``,
    ``synthetic-events``): the point-in-time behaviour features are computed from it, and its
    featurizer drops the counts that are not point-in-time. ``n_purged`` counts the training
    rows dropped because their label matures after the split time.
    """

    name: str
    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: pd.Series
    y_test: pd.Series
    item_info: pd.DataFrame | None = None
    user_info: pd.DataFrame | None = None
    random_state: int | None = 0
    events: pd.DataFrame | None = None
    n_purged: int = 0
    protocol: str = "per-user temporal split"
    fold: int | None = None

    @property
    def lgbm_params(self):
        """Settings of the LightGBM baseline on this data set."""
        return dict(LGBM_PARAMS if self.events is None else LGBM_PARAMS_EVENTS,
                    random_state=self.random_state)


@dataclasses.dataclass
class Strategy:
    name: str
    description: str
    factory: Callable[[BenchmarkData], object]
    default: bool = False


class NotApplicable(ValueError):
    """Raised by a strategy factory whose strategy cannot run on the data set (e.g. the text
    strategies on a log without item text); the benchmark reports it instead of failing."""


#: name -> Strategy; filled by :func:`register_strategy`.
STRATEGIES: dict[str, Strategy] = {}


def register_strategy(name, description, *, default=False):
    """Decorator registering ``factory(data) -> estimator`` under ``name``.

    ``default=True`` puts the strategy in the set run when none is named (``make demo``).
    """

    def decorate(factory):
        if name in STRATEGIES:
            raise ValueError(f"strategy {name!r} is already registered")
        STRATEGIES[name] = Strategy(name, description, factory, default)
        return factory

    return decorate


def featurizer_steps(data, **params):
    """The shared featurizer of the benchmark pipelines, as a list of steps.

    ``params`` go to the :class:`InteractionFeaturizer` (ids dropped unless asked). On a
    conversion log (``data.events`` set) a :class:`BehaviorHistoryFeaturizer` comes first and
    the interaction featurizer keeps only what is point-in-time: no training-set counts, no
    target rates or latent factors of the training rows (they see each user's later rows and
    labels; docs/taobao.md measures what they cost), so it passes the history columns through
    and keeps the ids when asked.
    """
    params.setdefault("random_state", data.random_state)
    params.setdefault("keep_id_columns", False)
    if data.events is None:
        return [InteractionFeaturizer(item_info=data.item_info, user_info=data.user_info,
                                      **params)]
    for key, value in dict(popularity=False, target_rates=False, n_factors=0,
                           categorical_cols=[c for c in ("category_id", "behavior_type")
                                             if c in data.X_train.columns]).items():
        params.setdefault(key, value)
    return [BehaviorHistoryFeaturizer(data.events),
            InteractionFeaturizer(item_info=data.item_info, user_info=data.user_info, **params)]


def featurizer(data, **params):
    """The shared featurizer of the benchmark pipelines as one estimator (see
    :func:`featurizer_steps`)."""
    steps = featurizer_steps(data, **params)
    return steps[0] if len(steps) == 1 else make_pipeline(*steps)


@register_strategy("lightgbm", "InteractionFeaturizer + LightGBM (the baseline; on conversion "
                   "logs the behaviour history first)", default=True)
def _lightgbm(data):
    from lightgbm import LGBMClassifier

    return make_pipeline(
        *featurizer_steps(data), LGBMClassifier(**data.lgbm_params),
    ).set_output(transform="pandas")


@register_strategy("logistic", "InteractionFeaturizer + standardised logistic regression",
                   default=True)
def _logistic(data):
    return make_pipeline(
        *featurizer_steps(data), StandardScaler(), LogisticRegression(max_iter=1000)
    ).set_output(transform="pandas")


@register_strategy("popularity", "item popularity among training positives (the floor)",
                   default=True)
def _popularity(data):
    return PopularityRecommender()


def _neural(data, architecture, **params):
    from .neural import NeuralRanker

    return make_pipeline(
        *featurizer_steps(data, keep_id_columns=True),  # ids become embeddings
        NeuralRanker(architecture, embedding_dim=16, hidden_units=(128, 64), batch_size=1024,
                     lr=2e-3, max_epochs=8, n_iter_no_change=2, verbose=0,
                     random_state=data.random_state, **params),
    ).set_output(transform="pandas")


for _arch, _label in [("mlp", "MLP"), ("wide_deep", "Wide & Deep"), ("deepfm", "DeepFM"),
                      ("two_tower", "two-tower")]:
    register_strategy(f"neural-{_arch.replace('_', '-')}",
                      f"InteractionFeaturizer + {_label} NeuralRanker (BCE)",
                      default=_arch == "deepfm")(
        lambda data, _arch=_arch: _neural(data, _arch))


@register_strategy("neural-deepfm-weighted",
                   "DeepFM with class-weighted BCE, early-stopped on validation PR-AUC")
def _neural_weighted(data):
    return _neural(data, "deepfm", loss="weighted", monitor="valid_pr_auc")


@register_strategy("neural-deepfm-focal", "DeepFM with focal loss (gamma 2, alpha 0.75)")
def _neural_focal(data):
    return _neural(data, "deepfm", loss="focal", focal_gamma=2.0, focal_alpha=0.75)


def _on_features(data, model, **featurizer_params):
    return make_pipeline(*featurizer_steps(data, **featurizer_params), model).set_output(
        transform="pandas")


@register_strategy("lightgbm-balanced", "LightGBM with balanced class weights", default=True)
def _lgbm_balanced(data):
    from .boosting import ImbalancedLGBMClassifier

    return _on_features(data, ImbalancedLGBMClassifier(imbalance="balanced", n_jobs=1,
                                                       random_state=data.random_state))


@register_strategy("lightgbm-sqrt", "LightGBM with sqrt-balanced class weights")
def _lgbm_sqrt(data):
    from .boosting import ImbalancedLGBMClassifier

    return _on_features(data, ImbalancedLGBMClassifier(imbalance="sqrt", n_jobs=1,
                                                       random_state=data.random_state))


@register_strategy("lightgbm-focal", "LightGBM with the focal-loss objective (alpha .25, gamma 2)",
                   default=True)
def _lgbm_focal(data):
    from .boosting import FocalLGBMClassifier

    return _on_features(data, FocalLGBMClassifier(alpha=0.25, gamma=2.0, n_jobs=1,
                                                  random_state=data.random_state))


@register_strategy("lambdarank", "LightGBM lambdarank, query groups = users")
def _lambdarank(data):
    from .boosting import GroupedLGBMRanker

    return _on_features(data, GroupedLGBMRanker(n_jobs=1, random_state=data.random_state),
                        keep_id_columns=True)


def _recipe(strategy, recipe, description, default=False):
    """Register an ``sklearn_recsys.ensemble`` recipe, applied after the featurizer."""

    def factory(data):
        from . import ensemble

        return _on_features(data, getattr(ensemble, recipe)(random_state=data.random_state))

    register_strategy(strategy, description, default=default)(factory)


_recipe("balanced-bagging", "make_balanced_bagging", "balanced bagging of LightGBM",
        default=True)
_recipe("easy-ensemble", "make_easy_ensemble", "EasyEnsemble (AdaBoost on balanced subsets)")
_recipe("rusboost", "make_rusboost", "RUSBoost")
_recipe("balanced-rf", "make_balanced_random_forest", "balanced random forest")


@register_strategy("self-paced", "self-paced ensemble (hardness-harmonised under-sampling)")
def _self_paced(data):
    from .ensemble import SelfPacedEnsembleClassifier

    return _on_features(data, SelfPacedEnsembleClassifier(random_state=data.random_state))


@register_strategy("stacking", "stacking of NeuralRanker + LightGBM + logistic regression, "
                   "calibrated meta-learner (slow)")
def _stacking(data):
    from .ensemble import make_stacking

    # the stack's NeuralRanker embeds the ids and its logistic regression one-hot encodes them
    return _on_features(data, make_stacking(cv=3, random_state=data.random_state),
                        keep_id_columns=True)


def _text(data, **featurizer_params):
    """MiniLM item vectors + content affinity in front of the LightGBM baseline."""
    from .features import ContentAffinity, PretrainedTextEncoder

    info = data.item_info if data.item_info is not None else pd.DataFrame()
    text_cols = [c for c in ("title", "genres", "description") if c in info.columns]
    if not text_cols:
        raise NotApplicable(f"data set {data.name!r} has no item text (title, genres or "
                            "description in item_info)")
    baseline = STRATEGIES["lightgbm"].factory(data)
    baseline.set_params(**{f"interactionfeaturizer__{k}": v
                           for k, v in featurizer_params.items()})
    return make_pipeline(
        # before the featurizer: the encoder joins on item_id, which the featurizer drops
        PretrainedTextEncoder(data.item_info, text_cols, n_components=16,
                              random_state=data.random_state),
        ContentAffinity(random_state=data.random_state),
        *[step for _, step in baseline.steps],
    ).set_output(transform="pandas")


@register_strategy("lightgbm+text", "MiniLM title embeddings + content affinity + the LightGBM "
                   "baseline (needs the [text] extra)")
def _lightgbm_text(data):
    return _text(data)


@register_strategy("lightgbm+text+dropout", "lightgbm+text whose featurizer presents a fifth of "
                   "the training items as cold (item dropout: for cold and tail items)")
def _lightgbm_text_dropout(data):
    return _text(data, cold_item_fraction=0.2)


def _resampled(data, sampler, *, before_features=False):
    """featurizer -> sampler -> LightGBM (samplers act in fit only, as imblearn's Pipeline does);
    ``before_features`` puts an interaction-level sampler ahead of the featurizer."""
    from imblearn.pipeline import make_pipeline as imb_pipeline

    lgbm = STRATEGIES["lightgbm"].factory(data).steps[-1][1]
    features = featurizer_steps(data)
    steps = [*features[:-1], sampler, features[-1]] if before_features \
        else [*features, sampler]
    return imb_pipeline(*steps, lgbm).set_output(transform="pandas")


def oversampling_ratio(y, target=0.2):
    """Minority / majority ratio an over-sampler aims at: ``target``, or, when the training
    data already have at least that ratio, twice their ratio (at most 1, balanced).

    A fixed ``sampling_strategy=0.2`` fails on data whose positives already exceed a fifth of
    the negatives (imbalanced-learn refuses to remove samples when over-sampling).

    Examples
    --------
    >>> from sklearn_recsys._benchmark import oversampling_ratio
    >>> oversampling_ratio([0] * 98 + [1] * 2), oversampling_ratio([0] * 60 + [1] * 40)
    (0.2, 1.0)
    """
    counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=2)
    current = counts.min() / max(counts.max(), 1)
    return float(target if current < target else min(1.0, 2 * current))


@register_strategy("smote", "SMOTE on the features, then LightGBM")
def _smote(data):
    from imblearn.over_sampling import SMOTE

    return _resampled(data, SMOTE(sampling_strategy=oversampling_ratio(data.y_train),
                                  random_state=data.random_state))


@register_strategy("random-over", "random over-sampling, then LightGBM")
def _random_over(data):
    from imblearn.over_sampling import RandomOverSampler

    return _resampled(data, RandomOverSampler(sampling_strategy=oversampling_ratio(data.y_train),
                                              random_state=data.random_state))


@register_strategy("gan-oversampling", "GANOverSampler (conditional WGAN-GP), then LightGBM")
def _gan(data):
    from .sampling import GANOverSampler

    return _resampled(data, GANOverSampler(sampling_strategy=oversampling_ratio(data.y_train),
                                           epochs=50, random_state=data.random_state))


@register_strategy("popularity-under", "popularity-aware under-sampling of head items, then "
                   "featurizer + LightGBM")
def _popularity_under(data):
    from .sampling import PopularityUnderSampler

    return _resampled(data, PopularityUnderSampler(random_state=data.random_state),
                      before_features=True)


def _load_dataset(dataset, *, data_home, n_interactions, random_state):
    """X, y, item_info, user_info, events (None unless a conversion log) of a data set."""
    if dataset == "synthetic":
        d = make_interactions(n_interactions=n_interactions, random_state=random_state)
        X = d.interactions.drop(columns=d.target_name)
        y = d.interactions[d.target_name]
        item_info = d.item_info.drop(columns=["quality", "category", "price"])
        return X, y, item_info, None, None
    if dataset == "ml-100k":
        d = load_movielens("100k", data_home=data_home)
        return (d.interactions.drop(columns="rating"), label_loved(d.interactions),
                d.item_info, d.user_info, None)
    if dataset in ("taobao", "synthetic-events"):
        if dataset == "taobao":
            events = load_taobao(data_home=data_home).interactions
        else:
            events = make_interactions(n_interactions=n_interactions, multi_behavior=True,
                                       random_state=random_state).interactions
        X, y = label_conversion(events, target="buy", window="72h")
        return X, y, None, None, events
    raise ValueError(f"dataset must be one of {list(DATASETS)}; got {dataset!r}.")


def load_benchmark_data(dataset="synthetic", *, data_home=None, n_interactions=100_000,
                        test_size=0.2, random_state=0):
    """Load a data set and split it per user in time (the benchmarks' protocol).

    ``"synthetic"``: :func:`~sklearn_recsys.datasets.make_interactions` (label ``purchase``);
    ``"ml-100k"``: MovieLens-100k with the "loved" label (rating == 5); ``"taobao"``: the Taobao
    behaviour log (:func:`~sklearn_recsys.datasets.load_taobao`) with the 72 h purchase
    conversion label (:func:`~sklearn_recsys.datasets.label_conversion`: one row per non-buy
    event); ``"synthetic-events"``: the multi-behaviour synthetic log with the same label. On the
    conversion logs the training rows whose label is known only after their user's split time
    are purged (``label_time_col``), and the point-in-time behaviour features are computed from
    the whole log.
    """
    X, y, item_info, user_info, events = _load_dataset(
        dataset, data_home=data_home, n_interactions=n_interactions, random_state=random_state)
    if events is None:
        X_tr, X_te, y_tr, y_te = user_temporal_split(X, y, test_size=test_size)
        return BenchmarkData(dataset, X_tr, X_te, y_tr, y_te, item_info, user_info,
                             random_state)
    X_tr, X_te, y_tr, y_te = user_temporal_split(X, y, test_size=test_size,
                                                 label_time_col="label_time")
    n_purged = len(X) - len(X_tr) - len(X_te)
    return BenchmarkData(dataset, X_tr.drop(columns="label_time"),
                         X_te.drop(columns="label_time"), y_tr, y_te, item_info, user_info,
                         random_state, events=events, n_purged=n_purged,
                         protocol="per-user temporal split, purged (72 h label)")


def load_benchmark_folds(dataset="synthetic", *, n_splits=3, test_size="1D", data_home=None,
                         n_interactions=100_000, random_state=0):
    """Rolling-origin folds of a data set (for the spread of each strategy's scores).

    Fold ``k`` trains on every row before its origin (the conversion logs: whose label is known
    by then) and tests on the ``test_size`` that follows; the origins are the last
    ``n_splits`` spans of the log (:class:`~sklearn_recsys.model_selection.RollingOriginSplit`).
    Test users absent from a fold's training rows are kept (cold users).

    Returns
    -------
    folds : list of BenchmarkData
    """
    X, y, item_info, user_info, events = _load_dataset(
        dataset, data_home=data_home, n_interactions=n_interactions, random_state=random_state)
    label_time = "label_time" if events is not None else None
    cv = RollingOriginSplit(n_splits=n_splits, test_size=test_size, time_col="timestamp",
                            label_time_col=label_time)
    folds = []
    drop = [label_time] if label_time else []
    purged = cv.split_summary(X)["n_purged"].to_numpy()
    for k, (train, test) in enumerate(cv.split(X)):
        folds.append(BenchmarkData(
            dataset, X.iloc[train].drop(columns=drop), X.iloc[test].drop(columns=drop),
            y.iloc[train], y.iloc[test], item_info, user_info, random_state, events=events,
            n_purged=int(purged[k]),
            protocol=f"rolling origin, fold {k + 1} of {n_splits} ({test_size} test span"
                     + (", purged)" if label_time else ")"),
            fold=k))
    return folds


#: ranking and long-tail columns of the table (re-ranking of each user's test rows, k = 10)
RANKING_COLUMNS = {"ndcg@10": "ndcg@10", "recall@10": "recall@10",
                   "coverage@10": "coverage@10", "aplt@10": "aplt@10", "arp@10": "arp@10"}


def _scores_and_labels(estimator, X):
    """Scores of the positive class and, for classifiers, the predicted labels.

    Scorers without ``predict_proba`` / ``decision_function`` (e.g. the popularity floor) are
    ranked by ``predict``; they have no class predictions, so the thresholded metrics are NaN.
    """
    if hasattr(estimator, "predict_proba"):
        return estimator.predict_proba(X)[:, 1], estimator.predict(X)
    if hasattr(estimator, "decision_function"):
        return estimator.decision_function(X), estimator.predict(X)
    return np.asarray(estimator.predict(X), dtype=float), None


def classification_table(y_true, y_score, y_pred):
    """The benchmark's classification metrics for one strategy (NaN where ``y_pred`` is None)."""
    y_true = np.asarray(y_true)
    row = {
        "roc_auc": roc_auc_score(y_true, y_score),
        "pr_auc": average_precision_score(y_true, y_score),
        "f1_pos": np.nan, "recall_pos": np.nan, "balanced_acc": np.nan,
        "pos_rate_test": float(y_true.mean()), "pos_rate_pred": np.nan,
    }
    if y_pred is not None:
        row.update(f1_pos=f1_score(y_true, y_pred, zero_division=0),
                   recall_pos=recall_score(y_true, y_pred, zero_division=0),
                   balanced_acc=balanced_accuracy_score(y_true, y_pred),
                   pos_rate_pred=float(np.mean(y_pred)))
    return row


def ranking_table(data, y_score):
    """NDCG@10, Recall@10, coverage, APLT and ARP of each user's re-ranked test rows."""
    train_pos = data.X_train.loc[np.asarray(data.y_train) > 0]
    r = ranking_report(data.y_test, y_score, groups=data.X_test["user_id"],
                       items=data.X_test["item_id"], train=train_pos, k=10)
    return {col: r[key] for col, key in RANKING_COLUMNS.items()}


def _strategy_names(strategies):
    if strategies is None:
        names = [n for n, s in STRATEGIES.items() if s.default]
    elif list(strategies) == ["all"]:
        names = list(STRATEGIES)
    else:
        names = list(strategies)
    unknown = [n for n in names if n not in STRATEGIES]
    if unknown:
        raise ValueError(f"unknown strategies {unknown}; available: {sorted(STRATEGIES)}")
    return names


def run_benchmark(data, strategies=None, *, verbose=1):
    """Fit each strategy on the training split and score it on the test split.

    A strategy that does not apply to the data set (:class:`NotApplicable`, e.g. the text
    strategies without item text) gets a row of NaN metrics and the reason in ``note``. The
    training frame is checked once for columns that reproduce the label
    (:func:`~sklearn_recsys.features.check_label_leakage` warns, naming them).

    Returns
    -------
    table : DataFrame
        One row per strategy: the metrics, fit and predict seconds, and ``note``.
    scores : dict
        Strategy name -> test scores (for plots).
    """
    names = _strategy_names(strategies)
    check_label_leakage(data.X_train, data.y_train, stacklevel=3)
    rows, scores = [], {}
    for name in tqdm(names, desc=f"benchmark {data.name}", disable=not verbose):
        try:
            est = STRATEGIES[name].factory(data)
        except NotApplicable as exc:
            logger.info("strategy %s skipped: %s", name, exc)
            rows.append({"strategy": name, "note": f"not applicable: {exc}"})
            continue
        t0 = time.perf_counter()
        est.fit(data.X_train, data.y_train)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        s, pred = _scores_and_labels(est, data.X_test)
        pred_s = time.perf_counter() - t0
        scores[name] = s
        rows.append({"strategy": name, **classification_table(data.y_test, s, pred),
                     **ranking_table(data, s), "fit_s": fit_s, "predict_s": pred_s,
                     "note": ""})
    table = pd.DataFrame(rows).set_index("strategy")
    return table[[c for c in table.columns if c != "note"] + ["note"]], scores


def run_benchmark_folds(folds, strategies=None, *, verbose=1):
    """Run :func:`run_benchmark` on each fold and summarise each strategy's spread.

    Returns
    -------
    summary : DataFrame
        One row per strategy: mean and standard deviation over the folds of ROC-AUC, PR-AUC,
        F1 and recall of the positive class (``<metric>_mean`` / ``<metric>_std``), and the
        number of folds.
    per_fold : DataFrame
        Every fold's table, with a ``fold`` column.
    """
    tables = []
    for k, data in enumerate(folds):
        table, _ = run_benchmark(data, strategies, verbose=verbose)
        tables.append(table.assign(fold=k))
    per_fold = pd.concat(tables)
    metrics = ["roc_auc", "pr_auc", "f1_pos", "recall_pos"]
    grouped = per_fold.groupby(level="strategy", sort=False)[metrics]
    summary = grouped.mean().add_suffix("_mean").join(grouped.std(ddof=1).add_suffix("_std"))
    summary = summary[[f"{m}_{a}" for m in metrics for a in ("mean", "std")]]
    summary["n_folds"] = grouped.count()["roc_auc"]
    return summary, per_fold
