"""Splitters for interaction logs (and, later, Optuna tuning)."""

from ._split import (
    LeaveLastOut,
    StratifiedUserKFold,
    TemporalSplit,
    UserTemporalSplit,
    leave_last_out_split,
    temporal_train_test_split,
    user_temporal_split,
)

__all__ = [
    "LeaveLastOut",
    "StratifiedUserKFold",
    "TemporalSplit",
    "UserTemporalSplit",
    "leave_last_out_split",
    "temporal_train_test_split",
    "user_temporal_split",
]
