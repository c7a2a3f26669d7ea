"""Splitters for interaction logs (temporal, with label-maturity purging) and Optuna tuning
under stratified, user-grouped CV."""

from ._multiobjective import TopKParetoSearch
from ._optuna import OptunaSearch, OptunaSearchCV
from ._spaces import (
    SEARCH_SPACES,
    StepChoice,
    classifier_choice,
    get_search_space,
    loss_choice,
    register_search_space,
    sampler_choice,
)
from ._split import (
    LeaveLastOut,
    RollingOriginSplit,
    StratifiedUserKFold,
    TemporalSplit,
    UserTemporalSplit,
    leave_last_out_split,
    temporal_train_test_split,
    user_temporal_split,
)
from ._storage import make_storage, open_study

__all__ = [
    "SEARCH_SPACES",
    "LeaveLastOut",
    "OptunaSearch",
    "OptunaSearchCV",
    "RollingOriginSplit",
    "StepChoice",
    "StratifiedUserKFold",
    "TemporalSplit",
    "TopKParetoSearch",
    "UserTemporalSplit",
    "classifier_choice",
    "get_search_space",
    "leave_last_out_split",
    "loss_choice",
    "make_storage",
    "open_study",
    "register_search_space",
    "sampler_choice",
    "temporal_train_test_split",
    "user_temporal_split",
]
