"""scikit-learn's conformance suite over every public estimator of the package.

Estimators that need the interaction frame are instantiated with positional id columns
(``user_col=0, item_col=1``) so that the checks' plain numeric arrays are valid input: every
distinct value of those columns is an id.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_recsys.features import InteractionFeaturizer

ESTIMATORS = [
    InteractionFeaturizer(user_col=0, item_col=1, time_col=None, cv=3, n_factors=2,
                          random_state=0),
]

#: check name -> reason, per estimator. Keep this short: a growing list is a defect.
EXPECTED_FAILED_CHECKS = {
    "InteractionFeaturizer": {},
}


def _expected_failed(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
