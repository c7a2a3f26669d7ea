"""Parameters and plumbing shared by the LightGBM wrappers of :mod:`sklearn_recsys.boosting`.

:class:`BaseLGBM` takes LightGBM's own constructor parameters, with LightGBM's names, defaults
and meaning (``**kwargs`` included), plus the wrappers' id-column, categorical-column and
early-stopping parameters. A subclass's ``__init__`` takes only its own parameters and passes
the rest on; its signature is then completed with the shared ones (:meth:`__init_subclass__`),
so that scikit-learn's ``get_params`` / ``clone`` / ``repr`` and ``help()`` see one flat list.
"""

from __future__ import annotations

import inspect
import warnings
from numbers import Integral, Real

import lightgbm
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Hidden, Interval, StrOptions
from sklearn.utils.validation import validate_data

from .._contract import check_interactions
from ..utils import derive_seed, frame_input_tags
from ._frame import DEFAULT_ID_COLUMNS, FrameEncoder, _is_position, id_columns

#: LightGBM constructor parameters passed on under the same name (``random_state`` apart).
_LGBM_PARAMS = (
    "boosting_type",
    "num_leaves",
    "max_depth",
    "learning_rate",
    "n_estimators",
    "subsample_for_bin",
    "min_split_gain",
    "min_child_weight",
    "min_child_samples",
    "subsample",
    "subsample_freq",
    "colsample_bytree",
    "reg_alpha",
    "reg_lambda",
    "n_jobs",
    "importance_type",
    "verbose",
)

_DEPRECATED = "deprecated"
_COLUMN = [str, Integral, None]


def _is_deprecated_default(value):
    return isinstance(value, str) and value == _DEPRECATED


class BaseLGBM(BaseEstimator):
    """LightGBM's constructor parameters, the frame handling and the LightGBM fit."""

    _parameter_constraints: dict = {
        "boosting_type": [str],
        "num_leaves": [Interval(Integral, 2, None, closed="left")],
        "max_depth": [Integral],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "subsample_for_bin": [Interval(Integral, 1, None, closed="left")],
        "min_split_gain": [Interval(Real, 0, None, closed="left")],
        "min_child_weight": [Interval(Real, 0, None, closed="left")],
        "min_child_samples": [Interval(Integral, 0, None, closed="left")],
        "subsample": [Interval(Real, 0, 1, closed="right")],
        "subsample_freq": [Integral],
        "colsample_bytree": [Interval(Real, 0, 1, closed="right")],
        "reg_alpha": [Interval(Real, 0, None, closed="left")],
        "reg_lambda": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
        "importance_type": [StrOptions({"split", "gain"})],
        "verbose": [Integral],
        "user_col": _COLUMN,
        "item_col": _COLUMN,
        "categorical_features": [StrOptions({"auto"}), "array-like", None],
        "early_stopping_rounds": [Interval(Integral, 1, None, closed="left"), None],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "lgbm_params": [dict, None, Hidden(StrOptions({_DEPRECATED}))],
    }

    def __init__(
        self,
        *,
        boosting_type="gbdt",
        num_leaves=31,
        max_depth=-1,
        learning_rate=0.1,
        n_estimators=100,
        subsample_for_bin=200000,
        min_split_gain=0.0,
        min_child_weight=1e-3,
        min_child_samples=20,
        subsample=1.0,
        subsample_freq=0,
        colsample_bytree=1.0,
        reg_alpha=0.0,
        reg_lambda=0.0,
        random_state=None,
        n_jobs=None,
        importance_type="split",
        verbose=-1,
        user_col=DEFAULT_ID_COLUMNS["user_col"],
        item_col=DEFAULT_ID_COLUMNS["item_col"],
        categorical_features="auto",
        early_stopping_rounds=None,
        validation_fraction=0.1,
        lgbm_params=_DEPRECATED,
        **kwargs,
    ):
        self.boosting_type = boosting_type
        self.num_leaves = num_leaves
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.n_estimators = n_estimators
        self.subsample_for_bin = subsample_for_bin
        self.min_split_gain = min_split_gain
        self.min_child_weight = min_child_weight
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.subsample_freq = subsample_freq
        self.colsample_bytree = colsample_bytree
        self.reg_alpha = reg_alpha
        self.reg_lambda = reg_lambda
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.importance_type = importance_type
        self.verbose = verbose
        self.user_col = user_col
        self.item_col = item_col
        self.categorical_features = categorical_features
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.lgbm_params = lgbm_params
        # LightGBM's **kwargs, kept as LightGBM keeps them (see get_params / set_params)
        self._other_params = kwargs

    # ------------------------------------------------------------------ parameters
    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "__init__" in vars(cls):
            cls.__init__.__signature__ = _merged_signature(cls)

    def get_params(self, deep=True):
        """Get the parameters of this estimator, LightGBM's ``**kwargs`` included.

        Parameters
        ----------
        deep : bool, default=True
            Unused (no parameter is an estimator); kept for the scikit-learn signature.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        params = super().get_params(deep=deep)
        params.update(self._other_params)
        return params

    def set_params(self, **params):
        """Set parameters; a name that is not one of ours is a LightGBM parameter (``**kwargs``).

        Parameters
        ----------
        **params : dict
            Parameter names mapped to their new values.

        Returns
        -------
        self : estimator instance
        """
        known = set(self._get_param_names())
        extra = {k: params.pop(k) for k in list(params) if k not in known}
        super().set_params(**params)
        self._other_params = {**self._other_params, **extra}
        return self

    def _renamed(self, old, new):
        """The value of parameter ``new``, or of its deprecated alias ``old`` (FutureWarning).

        Call it from ``fit`` itself, so that the warning points at the caller of ``fit``.
        """
        value = getattr(self, old)
        if _is_deprecated_default(value):
            return getattr(self, new)
        default = inspect.signature(type(self)).parameters[new].default
        current = getattr(self, new)
        if current is not default and current != default:
            raise ValueError(
                f"{old}={value!r} and {new}={current!r} are both set; {old} is a deprecated "
                f"alias of {new}: pass only {new}."
            )
        warnings.warn(
            f"{type(self).__name__}: the parameter {old} was renamed {new}; {old} will be removed "
            f"in the next release. Pass {new}={value!r}.",
            FutureWarning,
            stacklevel=4,
        )
        return value

    def _lgbm_params(self):
        """The keyword arguments of the LightGBM scikit-learn model (call it from ``fit``).

        ``random_state`` is LightGBM's seed: an int or None as it is, a RandomState draws one;
        the wrappers' validation splits use the same seed.
        """
        params = {name: getattr(self, name) for name in _LGBM_PARAMS}
        rs = self.random_state
        params["random_state"] = rs if rs is None or _is_position(rs) else derive_seed(rs)
        params.update(self._other_params)
        if not _is_deprecated_default(self.lgbm_params):
            warnings.warn(
                f"{type(self).__name__}: lgbm_params is deprecated and will be removed in the next "
                "release; pass LightGBM parameters as keyword arguments, e.g. "
                f"{type(self).__name__}(max_bin=63).",
                FutureWarning,
                stacklevel=4,
            )
            params.update(self.lgbm_params or {})
        return params

    # ------------------------------------------------------------------ data
    def _validate_fit(self, X, positions=()):
        """Validate ``X`` in ``fit``; return it as the encoder reads it.

        A DataFrame comes back as it is; an array as a float matrix, wrapped in a DataFrame
        whose labels are the positions when a column parameter (``positions`` too) is one.
        """
        if isinstance(X, pd.DataFrame):
            check_interactions(X)
            validate_data(self, X, skip_check_array=True, reset=True)
            if X.shape[0] < 2:
                raise ValueError(
                    f"Found array with {X.shape[0]} sample(s) (shape={X.shape}) while a "
                    "minimum of 2 is required."
                )
            self._from_array = False
            return X
        X = validate_data(
            self,
            X,
            reset=True,
            dtype=np.float64,
            ensure_all_finite="allow-nan",
            ensure_min_samples=2,
        )
        self._from_array = True
        cats = self.categorical_features
        if cats is None or (isinstance(cats, str) and cats == "auto"):
            cats = []
        bad = [c for c in cats if not _is_position(c) or not 0 <= c < X.shape[1]]
        if bad:
            raise ValueError(
                f"categorical_features={self.categorical_features!r}: with an array X entries "
                f"must be column positions in [0, {X.shape[1]}); got {bad[0]!r}."
            )
        if list(cats) or any(map(_is_position, (self.user_col, self.item_col, *positions))):
            return pd.DataFrame(X)
        return X

    def _encode_fit(self, X, exclude=(), rows=None):
        """Encode the validated ``X`` (from :meth:`_validate_fit`); return the float matrix and
        the positions of its categorical columns. ``rows`` selects and orders the rows."""
        ids = id_columns(X, self.user_col, self.item_col, array=self._from_array)
        if not isinstance(X, pd.DataFrame):
            self._encoder = None
            self.categorical_features_ = []
            return (X if rows is None else X[rows]), []
        self._encoder = FrameEncoder(
            ids, self.categorical_features, exclude, from_array=self._from_array
        ).fit(X)
        self.categorical_features_ = list(self._encoder.categorical_)
        return self._encoder.transform(X, rows), list(self._encoder.categorical_index_)

    def _encode(self, X):
        """Validate and encode ``X`` at predict time like in ``fit``."""
        enc = self._encoder
        if isinstance(X, pd.DataFrame) and enc is not None and not enc.from_array:
            validate_data(self, X, skip_check_array=True, reset=False)
            return enc.transform(X)
        if enc is not None and not enc.from_array and enc.categorical_:
            raise TypeError(
                "this model was fitted on a DataFrame with categorical columns "
                f"{enc.categorical_}; pass a DataFrame with the same columns, got "
                f"{type(X).__name__}."
            )
        X = validate_data(self, X, reset=False, dtype=np.float64, ensure_all_finite="allow-nan")
        return X if enc is None else enc.transform(pd.DataFrame(X, columns=enc.input_columns_))

    # ------------------------------------------------------------------ LightGBM
    def _fit_lgbm(
        self,
        model,
        X,
        y,
        *,
        sample_weight=None,
        init_score=None,
        categorical=(),
        val_idx=None,
        eval_metric=None,
        groups=None,
        extra_fit=None,
    ):
        """Fit a LightGBM scikit-learn model, with early stopping on the rows ``val_idx``.

        ``groups`` (ranking only) are query codes, sorted; LightGBM gets the group sizes.
        The validation rows keep their ``sample_weight`` (class weights included).
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
                eval_sample_weight=[part(sample_weight, val_idx)],
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
        return frame_input_tags(super().__sklearn_tags__(), allow_nan=True)


def _merged_signature(cls):
    """The signature of ``cls.__init__`` followed by the parameters it passes on.

    Order: the class's own parameters, then those of the parent's ``__init__`` (already merged),
    the deprecated aliases (default ``"deprecated"``) last, then ``**kwargs``.
    """
    parent = next(k for k in cls.__mro__[1:] if "__init__" in vars(k))
    own = list(inspect.signature(cls.__init__).parameters.values())
    inherited = list(inspect.signature(parent.__init__).parameters.values())[1:]  # no self
    names = {p.name for p in own}
    params = [p for p in own if p.kind != p.VAR_KEYWORD]
    params += [
        p.replace(kind=p.KEYWORD_ONLY)
        for p in inherited
        if p.name not in names and p.kind != p.VAR_KEYWORD
    ]
    params.sort(key=lambda p: _is_deprecated_default(p.default))  # stable: only moves aliases
    params += [p for p in own if p.kind == p.VAR_KEYWORD]
    return inspect.Signature(params)


def _eval_xy(X, y):
    """The validation set in the form this LightGBM version wants (eval_X from 4.7 on)."""
    if "eval_X" in inspect.signature(lightgbm.LGBMModel.fit).parameters:
        return {"eval_X": (X,), "eval_y": (y,)}
    return {"eval_set": [(X, y)]}


def _group_sizes(sorted_codes):
    """Sizes of the runs of equal codes in a sorted code array (LightGBM's ``group``)."""
    _, counts = np.unique(sorted_codes, return_counts=True)
    return counts
