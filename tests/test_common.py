"""scikit-learn's (and, for samplers, imbalanced-learn's) conformance suite over every public
estimator of the package, in one place.

Estimators that need the interaction frame are instantiated with positional id columns
(``user_col=0, item_col=1``) or without id columns, so that the checks' plain numeric arrays are
valid input: every distinct value of those columns is an id. Estimators that only work on a
DataFrame with named id and text columns (``PretrainedTextEncoder``, ``ContentAffinity``) or an
event log given at construction (``BehaviorHistoryFeaturizer``) are tested on such frames in
``tests/features`` instead, as their modules say (the parameter-level checks run there);
likewise ``LMTwoTowerClassifier`` (an item side table with text) in ``tests/neural/test_lm.py``.

Settings are small and fast but still learn the checks' toy problems.
"""

import warnings

import pytest
from imblearn.over_sampling import SMOTE
from imblearn.utils.estimator_checks import check_param_validation
from imblearn.utils.estimator_checks import (
    parametrize_with_checks as parametrize_with_imblearn_checks,
)
from optuna.distributions import IntDistribution
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_recsys.boosting import (
    FocalLGBMClassifier,
    GroupedLGBMRanker,
    ImbalancedLGBMClassifier,
)
from sklearn_recsys.dummy import PopularityRecommender
from sklearn_recsys.ensemble import SelfPacedEnsembleClassifier
from sklearn_recsys.features import InteractionFeaturizer, LabelHistoryFeaturizer
from sklearn_recsys.model_selection import OptunaSearchCV
from sklearn_recsys.neural import MultiTaskClassifier, NeuralClassifier
from sklearn_recsys.rerank import (
    CalibratedReranker,
    MMRReranker,
    PopularityPenaltyReranker,
    XQuADReranker,
)
from sklearn_recsys.retrieval import (
    ALSRecommender,
    BPRRecommender,
    EASERecommender,
    ItemKNNRecommender,
    TwoStageRecommender,
    TwoTowerRetriever,
)
from sklearn_recsys.sampling import (
    GANOverSampler,
    IdPreservingSampler,
    NegativeSampler,
    PopularityUnderSampler,
)

_LGBM = {"n_estimators": 10, "n_jobs": 1, "random_state": 0}
_NEURAL = {
    "max_epochs": 5,
    "lr": 0.05,
    "batch_size": 32,
    "hidden_units": (8,),
    "dropout": 0.0,
    "early_stopping": False,
    "random_state": 0,
    "user_col": None,
    "item_col": None,
}

ESTIMATORS = [
    InteractionFeaturizer(user_col=0, item_col=1, time_col=None, cv=3, n_factors=2, random_state=0),
    LabelHistoryFeaturizer(user_col=0, time_col=1),
    ImbalancedLGBMClassifier(**_LGBM),
    ImbalancedLGBMClassifier(class_weight=None, **_LGBM),
    FocalLGBMClassifier(**_LGBM),
    GroupedLGBMRanker(group_col=None, **_LGBM),
    SelfPacedEnsembleClassifier(n_estimators=2, random_state=0),
    SelfPacedEnsembleClassifier(
        DecisionTreeClassifier(max_depth=3), n_estimators=3, random_state=0
    ),
    NeuralClassifier(**_NEURAL),
    MultiTaskClassifier(**_NEURAL),
    PopularityRecommender(item_col=0),
    EASERecommender(l2=1.0, user_col=0, item_col=1),
    ItemKNNRecommender(user_col=0, item_col=1),
    ALSRecommender(factors=4, iterations=2, user_col=0, item_col=1, random_state=0),
    BPRRecommender(factors=4, iterations=2, user_col=0, item_col=1, random_state=0),
    TwoTowerRetriever(embedding_dim=4, max_epochs=1, user_col=0, item_col=1, random_state=0),
    TwoStageRecommender(
        EASERecommender(l2=1.0, user_col=0, item_col=1),
        n_candidates=5,
        user_col=0,
        item_col=1,
        time_col=None,
        random_state=0,
    ),
    PopularityPenaltyReranker(user_col=0, item_col=1),
    XQuADReranker(user_col=0, item_col=1),
    CalibratedReranker(user_col=0, item_col=1),
    MMRReranker(user_col=0, item_col=1, random_state=0),
    OptunaSearchCV(
        DecisionTreeClassifier(random_state=0),
        {"max_depth": IntDistribution(2, 4)},
        n_trials=2,
        cv=2,
        random_state=0,
    ),
]

SAMPLERS = [
    GANOverSampler(
        max_epochs=1,
        batch_size=200,
        generator_dims=(32,),
        critic_dims=(32,),
        user_col=None,
        item_col=None,
        random_state=0,
    ),
    IdPreservingSampler(SMOTE(random_state=0), user_col=0, item_col=None),
    PopularityUnderSampler(item_col=0, random_state=0),
    NegativeSampler(user_col=0, item_col=1, n_negatives=1, random_state=0),
]

_SGD = (
    "mini-batch SGD: zero-weight rows still change the batch composition and the number of "
    "optimizer steps, so they are not equivalent to removing (or repeating) rows"
)

#: suite -> estimator class -> check name -> reason.
#: Keep this short: a growing list is a defect.
EXPECTED_FAILED_CHECKS = {
    "sklearn": {
        "NeuralClassifier": {"check_sample_weight_equivalence_on_dense_data": _SGD},
        "MultiTaskClassifier": {"check_sample_weight_equivalence_on_dense_data": _SGD},
    },
    "imblearn": {
        "NegativeSampler": {
            "check_samplers_string": "needs a user and an item column; this check's X has one",
        },
    },
}


def _expected(suite):
    def lookup(estimator):
        return EXPECTED_FAILED_CHECKS[suite].get(type(estimator).__name__, {})

    return lookup


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected("sklearn"))
@pytest.mark.filterwarnings("ignore:MultiTaskClassifier got no auxiliary target")
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@parametrize_with_checks(SAMPLERS, expected_failed_checks=_expected("sklearn"))
def test_sklearn_compatible_sampler(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check(estimator)


@parametrize_with_imblearn_checks(SAMPLERS, expected_failed_checks=_expected("imblearn"))
def test_imblearn_compatible_sampler(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check(estimator)


@pytest.mark.parametrize("estimator", SAMPLERS, ids=lambda e: type(e).__name__)
def test_sampler_param_validation(estimator):
    check_param_validation(type(estimator).__name__, estimator)
