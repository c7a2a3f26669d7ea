"""scikit-learn's and imbalanced-learn's conformance checks over the samplers of the package.

The interaction samplers are instantiated with positional id columns (``user_col=0``,
``item_col=1``) so that the checks' plain arrays are valid input: every distinct value of those
columns is an id.
"""

import warnings

import pytest
from imblearn.over_sampling import SMOTE
from imblearn.utils.estimator_checks import (
    check_param_validation,
)
from imblearn.utils.estimator_checks import (
    parametrize_with_checks as parametrize_with_imblearn_checks,
)
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_recsys.sampling import (
    GANOverSampler,
    IdPreservingSampler,
    NegativeSampler,
    PopularityUnderSampler,
)

SAMPLERS = [
    GANOverSampler(epochs=1, batch_size=200, generator_dims=(32,), critic_dims=(32,),
                   random_state=0),
    IdPreservingSampler(SMOTE(random_state=0)),
    PopularityUnderSampler(item_col=0, random_state=0),
    NegativeSampler(user_col=0, item_col=1, n_negatives=1, random_state=0),
]

_NAMED = "the instance addresses ids by position; this check's frame names its columns"
_PANDAS = ["check_samplers_pandas", "check_samplers_pandas_sparse",
           "check_sampler_get_feature_names_out_pandas"]

#: suite -> estimator -> check name -> reason. Keep this short: a growing list is a defect.
EXPECTED_FAILED_CHECKS = {
    "sklearn": {},
    "imblearn": {
        "PopularityUnderSampler": dict.fromkeys(_PANDAS, _NAMED),
        "NegativeSampler": {
            **dict.fromkeys(_PANDAS, _NAMED),
            "check_samplers_string": "needs a user and an item column; this check's X has one",
        },
    },
}


def _expected(suite):
    def lookup(estimator):
        return EXPECTED_FAILED_CHECKS[suite].get(type(estimator).__name__, {})

    return lookup


@parametrize_with_checks(SAMPLERS, expected_failed_checks=_expected("sklearn"))
def test_sklearn_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check(estimator)


@parametrize_with_imblearn_checks(SAMPLERS, expected_failed_checks=_expected("imblearn"))
def test_imblearn_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check(estimator)


@pytest.mark.parametrize("estimator", SAMPLERS, ids=lambda e: type(e).__name__)
def test_param_validation(estimator):
    check_param_validation(type(estimator).__name__, estimator)
