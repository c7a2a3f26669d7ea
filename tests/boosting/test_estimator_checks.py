"""scikit-learn's conformance checks for every public estimator of boosting and ensemble."""

from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_recsys.boosting import (
    FocalLGBMClassifier,
    GroupedLGBMRanker,
    ImbalancedLGBMClassifier,
)
from sklearn_recsys.ensemble import SelfPacedEnsembleClassifier

_SMALL = {"n_estimators": 10, "n_jobs": 1, "random_state": 0}

ESTIMATORS = [
    ImbalancedLGBMClassifier(**_SMALL),
    ImbalancedLGBMClassifier(imbalance=None, **_SMALL),
    FocalLGBMClassifier(**_SMALL),
    GroupedLGBMRanker(group_col=None, **_SMALL),
    SelfPacedEnsembleClassifier(n_estimators=2, random_state=0),
    SelfPacedEnsembleClassifier(DecisionTreeClassifier(max_depth=3), n_estimators=3,
                                random_state=0),
]

EXPECTED_FAILED = {}


def _expected_failed(estimator):
    return EXPECTED_FAILED.get(type(estimator).__name__, {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed)
def test_sklearn_compatible(estimator, check):
    check(estimator)
