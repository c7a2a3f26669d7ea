"""The built-in strategies of the benchmark and the featurizer they share.

A *strategy* is a named factory ``f(data) -> estimator`` registered with
:func:`~sklearn_recsys.benchmark.register_strategy`; adding one is a few lines::

    @register_strategy("my-focal", "featurizer + focal-loss LightGBM")
    def _focal(data):
        return make_pipeline(featurizer(data), FocalLGBMClassifier(random_state=data.random_state))
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ..dummy import PopularityRecommender
from ..features import BehaviorHistoryFeaturizer, InteractionFeaturizer
from ._data import LGBM_BOOSTED_EVENTS, LGBM_FOREST_EVENTS
from ._registry import STRATEGIES, NotApplicable, register_strategy

__all__ = ["featurizer", "featurizer_steps", "oversampling_ratio"]


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
        return [InteractionFeaturizer(item_info=data.item_info, user_info=data.user_info, **params)]
    for key, value in dict(
        popularity=False,
        target_rates=False,
        n_factors=0,
        categorical_cols=[c for c in ("category_id", "behavior_type") if c in data.X_train.columns],
    ).items():
        params.setdefault(key, value)
    return [
        BehaviorHistoryFeaturizer(data.events),
        InteractionFeaturizer(item_info=data.item_info, user_info=data.user_info, **params),
    ]


def featurizer(data, **params):
    """The shared featurizer of the benchmark pipelines as one estimator (see
    :func:`featurizer_steps`)."""
    steps = featurizer_steps(data, **params)
    return steps[0] if len(steps) == 1 else make_pipeline(*steps)


@register_strategy(
    "lightgbm",
    "InteractionFeaturizer + LightGBM (the baseline; on conversion logs the behaviour "
    "history first, and boosted trees averaged with a LightGBM random forest)",
    default=True,
)
def _lightgbm(data):
    from lightgbm import LGBMClassifier

    if data.events is None:
        model = LGBMClassifier(**data.lgbm_params)
    else:  # conversion logs: few positives; the forest's deeper trees rank the top better
        seed = {"random_state": data.random_state}
        model = VotingClassifier(
            [
                ("boosted", LGBMClassifier(**LGBM_BOOSTED_EVENTS, **seed)),
                ("forest", LGBMClassifier(**LGBM_FOREST_EVENTS, **seed)),
            ],
            voting="soft",
        )
    return make_pipeline(*featurizer_steps(data), model).set_output(transform="pandas")


@register_strategy(
    "logistic", "InteractionFeaturizer + standardised logistic regression", default=True
)
def _logistic(data):
    return make_pipeline(
        *featurizer_steps(data), StandardScaler(), LogisticRegression(max_iter=1000)
    ).set_output(transform="pandas")


@register_strategy(
    "popularity", "item popularity among training positives (the floor)", default=True
)
def _popularity(data):
    return PopularityRecommender()


def _neural(data, architecture, **params):
    from ..neural import NeuralClassifier

    return make_pipeline(
        *featurizer_steps(data, keep_id_columns=True),  # ids become embeddings
        NeuralClassifier(
            architecture,
            embedding_dim=16,
            hidden_units=(128, 64),
            batch_size=1024,
            lr=2e-3,
            max_epochs=8,
            n_iter_no_change=2,
            verbose=0,
            random_state=data.random_state,
            **params,
        ),
    ).set_output(transform="pandas")


for _arch, _label in [
    ("mlp", "MLP"),
    ("wide_deep", "Wide & Deep"),
    ("deepfm", "DeepFM"),
    ("two_tower", "two-tower"),
]:
    register_strategy(
        f"neural-{_arch.replace('_', '-')}",
        f"InteractionFeaturizer + {_label} NeuralClassifier (BCE)",
        default=_arch == "deepfm",
    )(lambda data, _arch=_arch: _neural(data, _arch))


@register_strategy(
    "neural-deepfm-weighted", "DeepFM with class-weighted BCE, early-stopped on validation PR-AUC"
)
def _neural_weighted(data):
    return _neural(data, "deepfm", loss="weighted", monitor="valid_pr_auc")


@register_strategy("neural-deepfm-focal", "DeepFM with focal loss (gamma 2, alpha 0.75)")
def _neural_focal(data):
    return _neural(data, "deepfm", loss="focal", focal_gamma=2.0, focal_alpha=0.75)


#: the settings these strategies were measured with (the wrappers now keep LightGBM's defaults)
_WRAPPER_SETTINGS = dict(
    n_estimators=200,
    learning_rate=0.05,
    reg_lambda=1.0,
    subsample=0.8,
    subsample_freq=1,
    colsample_bytree=0.8,
    n_jobs=1,
)


def _on_features(data, model, **featurizer_params):
    return make_pipeline(*featurizer_steps(data, **featurizer_params), model).set_output(
        transform="pandas"
    )


@register_strategy("lightgbm-balanced", "LightGBM with balanced class weights", default=True)
def _lgbm_balanced(data):
    from ..boosting import ImbalancedLGBMClassifier

    return _on_features(
        data,
        ImbalancedLGBMClassifier(
            class_weight="balanced", random_state=data.random_state, **_WRAPPER_SETTINGS
        ),
    )


@register_strategy("lightgbm-sqrt", "LightGBM with sqrt-balanced class weights")
def _lgbm_sqrt(data):
    from ..boosting import ImbalancedLGBMClassifier

    return _on_features(
        data,
        ImbalancedLGBMClassifier(
            class_weight="sqrt", random_state=data.random_state, **_WRAPPER_SETTINGS
        ),
    )


@register_strategy(
    "lightgbm-focal", "LightGBM with the focal-loss objective (alpha .25, gamma 2)", default=True
)
def _lgbm_focal(data):
    from ..boosting import FocalLGBMClassifier

    return _on_features(
        data,
        FocalLGBMClassifier(
            focal_alpha=0.25, focal_gamma=2.0, random_state=data.random_state, **_WRAPPER_SETTINGS
        ),
    )


@register_strategy("lambdarank", "LightGBM lambdarank, query groups = users")
def _lambdarank(data):
    from ..boosting import GroupedLGBMRanker

    return _on_features(
        data,
        GroupedLGBMRanker(random_state=data.random_state, **_WRAPPER_SETTINGS),
        keep_id_columns=True,
    )


def _recipe(strategy, recipe, description, default=False):
    """Register an ``sklearn_recsys.ensemble`` recipe, applied after the featurizer."""

    def factory(data):
        from .. import ensemble

        return _on_features(data, getattr(ensemble, recipe)(random_state=data.random_state))

    register_strategy(strategy, description, default=default)(factory)


_recipe("balanced-bagging", "make_balanced_bagging", "balanced bagging of LightGBM", default=True)
_recipe("easy-ensemble", "make_easy_ensemble", "EasyEnsemble (AdaBoost on balanced subsets)")
_recipe("rusboost", "make_rusboost", "RUSBoost")
_recipe("balanced-rf", "make_balanced_random_forest", "balanced random forest")


@register_strategy("self-paced", "self-paced ensemble (hardness-harmonised under-sampling)")
def _self_paced(data):
    from ..ensemble import SelfPacedEnsembleClassifier

    return _on_features(data, SelfPacedEnsembleClassifier(random_state=data.random_state))


@register_strategy(
    "stacking",
    "stacking of NeuralClassifier + LightGBM + logistic regression, calibrated meta-learner (slow)",
)
def _stacking(data):
    from ..ensemble import make_stacking

    # the stack's NeuralClassifier embeds the ids and its logistic regression one-hot encodes them
    return _on_features(
        data, make_stacking(cv=3, random_state=data.random_state), keep_id_columns=True
    )


def _text(data, **featurizer_params):
    """MiniLM item vectors + content affinity in front of the LightGBM baseline."""
    from ..features import ContentAffinity, PretrainedTextEncoder

    info = data.item_info if data.item_info is not None else pd.DataFrame()
    text_cols = [c for c in ("title", "genres", "description") if c in info.columns]
    if not text_cols:
        raise NotApplicable(
            f"data set {data.name!r} has no item text (title, genres or description in item_info)"
        )
    baseline = STRATEGIES["lightgbm"].factory(data)
    baseline.set_params(**{f"interactionfeaturizer__{k}": v for k, v in featurizer_params.items()})
    return make_pipeline(
        # before the featurizer: the encoder joins on item_id, which the featurizer drops
        PretrainedTextEncoder(
            data.item_info, text_cols, n_components=16, random_state=data.random_state
        ),
        ContentAffinity(random_state=data.random_state),
        *[step for _, step in baseline.steps],
    ).set_output(transform="pandas")


@register_strategy(
    "lightgbm+text",
    "MiniLM title embeddings + content affinity + the LightGBM baseline (needs the [text] extra)",
)
def _lightgbm_text(data):
    return _text(data)


@register_strategy(
    "lightgbm+text+dropout",
    "lightgbm+text whose featurizer presents a fifth of "
    "the training items as cold (item dropout: for cold and tail items)",
)
def _lightgbm_text_dropout(data):
    return _text(data, cold_item_fraction=0.2)


def _resampled(data, sampler, *, before_features=False):
    """featurizer -> sampler -> LightGBM (samplers act in fit only, as imblearn's Pipeline does);
    ``before_features`` puts an interaction-level sampler ahead of the featurizer."""
    from imblearn.pipeline import make_pipeline as imb_pipeline
    from lightgbm import LGBMClassifier

    lgbm = LGBMClassifier(**data.lgbm_params)  # the baseline's boosted trees alone
    features = featurizer_steps(data)
    steps = [*features[:-1], sampler, features[-1]] if before_features else [*features, sampler]
    return imb_pipeline(*steps, lgbm).set_output(transform="pandas")


def oversampling_ratio(y, target=0.2):
    """Minority / majority ratio an over-sampler aims at: ``target``, or, when the training
    data already have at least that ratio, twice their ratio (at most 1, balanced).

    A fixed ``sampling_strategy=0.2`` fails on data whose positives already exceed a fifth of
    the negatives (imbalanced-learn refuses to remove samples when over-sampling).

    Examples
    --------
    >>> from sklearn_recsys.benchmark import oversampling_ratio
    >>> oversampling_ratio([0] * 98 + [1] * 2), oversampling_ratio([0] * 60 + [1] * 40)
    (0.2, 1.0)
    """
    counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=2)
    current = counts.min() / max(counts.max(), 1)
    return float(target if current < target else min(1.0, 2 * current))


@register_strategy("smote", "SMOTE on the features, then LightGBM")
def _smote(data):
    from imblearn.over_sampling import SMOTE

    return _resampled(
        data,
        SMOTE(sampling_strategy=oversampling_ratio(data.y_train), random_state=data.random_state),
    )


@register_strategy("random-over", "random over-sampling, then LightGBM")
def _random_over(data):
    from imblearn.over_sampling import RandomOverSampler

    return _resampled(
        data,
        RandomOverSampler(
            sampling_strategy=oversampling_ratio(data.y_train), random_state=data.random_state
        ),
    )


@register_strategy("gan-oversampling", "GANOverSampler (conditional WGAN-GP), then LightGBM")
def _gan(data):
    from ..sampling import GANOverSampler

    # the featurizer's output has no id columns: nothing for the GAN to copy
    return _resampled(
        data,
        GANOverSampler(
            sampling_strategy=oversampling_ratio(data.y_train),
            max_epochs=50,
            user_col=None,
            item_col=None,
            random_state=data.random_state,
        ),
    )


@register_strategy(
    "popularity-under", "popularity-aware under-sampling of head items, then featurizer + LightGBM"
)
def _popularity_under(data):
    from ..sampling import PopularityUnderSampler

    return _resampled(
        data, PopularityUnderSampler(random_state=data.random_state), before_features=True
    )
