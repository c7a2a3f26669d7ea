"""Parameters and plumbing shared by the LightGBM wrappers of :mod:`sklearn_recsys.boosting`."""

from __future__ import annotations

import inspect
from numbers import Integral, Real

import lightgbm
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data

from .._contract import check_interactions
from ..utils import derive_seed
from ._frame import FrameEncoder

#: Parameters every wrapper passes on to LightGBM under the same name.
_LGBM_PARAMS = (
    "n_estimators",
    "learning_rate",
    "num_leaves",
    "max_depth",
    "min_child_samples",
    "min_child_weight",
    "min_split_gain",
    "reg_alpha",
    "reg_lambda",
    "subsample",
    "subsample_freq",
    "colsample_bytree",
    "n_jobs",
)


class BaseLGBM(BaseEstimator):
    """Common parameters (trees, regularisation, early stopping) and frame handling."""

    _parameter_constraints: dict = {
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "num_leaves": [Interval(Integral, 2, None, closed="left")],
        "max_depth": [Interval(Integral, -1, None, closed="left")],
        "min_child_samples": [Interval(Integral, 1, None, closed="left")],
        "min_child_weight": [Interval(Real, 0, None, closed="left")],
        "min_split_gain": [Interval(Real, 0, None, closed="left")],
        "reg_alpha": [Interval(Real, 0, None, closed="left")],
        "reg_lambda": [Interval(Real, 0, None, closed="left")],
        "subsample": [Interval(Real, 0, 1, closed="right")],
        "subsample_freq": [Interval(Integral, 0, None, closed="left")],
        "colsample_bytree": [Interval(Real, 0, 1, closed="right")],
        "categorical_features": [StrOptions({"auto"}), "array-like", None],
        "early_stopping_rounds": [Interval(Integral, 1, None, closed="left"), None],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "lgbm_params": [dict, None],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # ------------------------------------------------------------------ LightGBM parameters
    def _seed(self):
        return derive_seed(self.random_state)

    def _lgbm_kwargs(self, seed):
        kwargs = {name: getattr(self, name) for name in _LGBM_PARAMS}
        kwargs.update(
            random_state=seed,
            verbose=int(self.verbose) if self.verbose else -1,
            deterministic=True,
        )
        kwargs.update(self.lgbm_params or {})
        return kwargs

    # ------------------------------------------------------------------ data
    def _encode_fit(self, X, exclude=(), rows=None):
        """Validate ``X`` in ``fit``; return the float matrix and categorical indices.

        ``rows`` (integer positions) selects and orders the rows of the returned matrix.
        """
        if isinstance(X, pd.DataFrame):
            check_interactions(X)
            validate_data(self, X, skip_check_array=True, reset=True)
            if X.shape[0] < 2:
                raise ValueError(
                    f"Found array with {X.shape[0]} sample(s) (shape={X.shape}) while a "
                    "minimum of 2 is required."
                )
            self._encoder = FrameEncoder(self.categorical_features, exclude).fit(X)
            self.categorical_features_ = list(self._encoder.categorical_)
            return self._encoder.transform(X, rows), list(self._encoder.categorical_index_)
        self._encoder = None
        X = validate_data(self, X, reset=True, dtype=np.float64, ensure_all_finite="allow-nan",
                          ensure_min_samples=2)
        cats = self.categorical_features
        if cats is None or (isinstance(cats, str) and cats == "auto"):
            cats = []
        else:
            cats = list(cats)
            bad = [c for c in cats if not isinstance(c, (Integral, np.integer))
                   or not 0 <= c < X.shape[1]]
            if bad:
                raise ValueError(
                    f"categorical_features={self.categorical_features!r}: with an array X "
                    f"entries must be column positions in [0, {X.shape[1]}); got {bad[0]!r}."
                )
        self.categorical_features_ = [int(c) for c in cats]
        return (X if rows is None else X[rows]), self.categorical_features_

    def _encode(self, X):
        """Validate and encode ``X`` at predict time like in ``fit``."""
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, skip_check_array=True, reset=False)
            if self._encoder is not None:
                return self._encoder.transform(X)
            return check_array(X, dtype=np.float64, ensure_all_finite="allow-nan")
        if self._encoder is not None and self._encoder.categorical_:
            return self._encoder.transform(X)  # raises a TypeError naming the columns
        return validate_data(
            self, X, reset=False, dtype=np.float64, ensure_all_finite="allow-nan"
        )

    def _fit_lgbm(self, model, X, y, *, sample_weight=None, init_score=None, categorical=(),
                  val_idx=None, eval_weight=None, eval_metric=None, groups=None,
                  extra_fit=None):
        """Fit a LightGBM scikit-learn model, with early stopping on the rows ``val_idx``.

        ``groups`` (ranking only) are query codes, sorted; LightGBM gets the group sizes.
        """
        fit_kwargs = {"categorical_feature": list(categorical), **(extra_fit or {})}
        if eval_metric is not None:
            fit_kwargs["eval_metric"] = eval_metric
        if val_idx is not None:
            train = np.ones(X.shape[0], dtype=bool)
            train[val_idx] = False

            def part(a, rows):
                return None if a is None else a[rows]

            fit_kwargs.update(
                **_eval_xy(X[val_idx], y[val_idx]),
                eval_sample_weight=[part(eval_weight, val_idx)],
                callbacks=[lightgbm.early_stopping(self.early_stopping_rounds, verbose=False)],
            )
            if init_score is not None:
                fit_kwargs["eval_init_score"] = [init_score[val_idx]]
            if groups is not None:
                fit_kwargs["eval_group"] = [_group_sizes(groups[val_idx])]
            X, y = X[train], y[train]
            sample_weight, init_score = part(sample_weight, train), part(init_score, train)
            groups = part(groups, train)
        if groups is not None:
            fit_kwargs["group"] = _group_sizes(groups)
        model.fit(X, y, sample_weight=sample_weight, init_score=init_score, **fit_kwargs)
        self.estimator_ = model
        self.booster_ = model.booster_
        if val_idx is not None and model.best_iteration_ > 0:
            self.n_estimators_ = int(model.best_iteration_)
        else:
            self.n_estimators_ = int(model.booster_.current_iteration())
        self.feature_importances_ = model.feature_importances_
        return model

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags


def class_weights(y_codes, n_classes, imbalance, sample_weight=None):
    """Per-class weights from the training labels: ``(n / (k n_c)) ** power``.

    ``power`` is 1 for ``"balanced"``, 1/2 for ``"sqrt"``; ``None`` gives ones. Counts are
    weighted by ``sample_weight`` (a row of weight 2 counts like two rows).
    """
    if imbalance is None:
        return np.ones(n_classes)
    counts = np.bincount(y_codes, weights=sample_weight, minlength=n_classes)
    counts = np.maximum(counts.astype(np.float64), np.finfo(np.float64).tiny)
    w = counts.sum() / (n_classes * counts)
    return np.sqrt(w) if imbalance == "sqrt" else w


def _eval_xy(X, y):
    """The validation set in the form this LightGBM version wants (eval_X from 4.7 on)."""
    if "eval_X" in inspect.signature(lightgbm.LGBMModel.fit).parameters:
        return {"eval_X": (X,), "eval_y": (y,)}
    return {"eval_set": [(X, y)]}


def _group_sizes(sorted_codes):
    """Sizes of the runs of equal codes in a sorted code array (LightGBM's ``group``)."""
    _, counts = np.unique(sorted_codes, return_counts=True)
    return counts
