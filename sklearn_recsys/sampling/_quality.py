"""How close synthetic rows are to real ones: marginals, correlations, detectability."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.utils import Bunch, check_random_state
from threadpoolctl import threadpool_limits

from .._contract import column_list
from ..utils import derive_seed

__all__ = ["synthetic_quality"]


def _as_frame(data, name):
    if isinstance(data, pd.DataFrame):
        frame = data.reset_index(drop=True)
    else:
        arr = np.asarray(data)
        if arr.ndim != 2:
            raise ValueError(f"{name} must be 2-D (rows x columns); got shape {arr.shape}.")
        frame = pd.DataFrame(arr, columns=[f"x{j}" for j in range(arr.shape[1])])
    if frame.shape[0] < 2:
        raise ValueError(f"{name} needs at least 2 rows; got {frame.shape[0]}.")
    return frame


def synthetic_quality(
    real, synthetic, *, columns=None, cv=5, max_rows=5000, random_state=None
) -> Bunch:
    """Compare synthetic rows with real rows: per-column KS, correlation distance, detection.

    Parameters
    ----------
    real, synthetic : DataFrame or 2-D array
        The real rows and the synthetic rows (same columns). Leave id columns out: they are
        copied from real rows and say nothing about the generator.
    columns : list of str, default=None
        Columns to compare; ``None``: every column of ``real``.
    cv : int, default=5
        Folds of the stratified cross-validation of the detector.
    max_rows : int, default=5000
        The detector uses at most this many rows of each side (a random subset, equal sizes).
    random_state : int, RandomState instance or None, default=None
        Seed of the subsets, the folds and the detector.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        ``ks`` (Series: per column, the two-sample Kolmogorov-Smirnov statistic for numeric
        columns and the total variation distance of the level frequencies for the others; 0 is
        identical), ``ks_mean``, ``correlation_distance`` (Frobenius norm of the difference of the
        Pearson correlation matrices of the numeric columns; 0 is identical),
        ``detection_auc`` and ``detection_auc_std`` (cross-validated ROC-AUC of a gradient
        boosting classifier telling real from synthetic rows; 0.5 is perfect, 1.0 is trivially
        detectable).

    Notes
    -----
    :math:`KS_j = \\sup_x |F^{real}_j(x) - F^{syn}_j(x)|` and
    :math:`d_{corr} = \\lVert C^{real} - C^{syn} \\rVert_F`; a constant column has correlation
    0 with every other column. The detector runs on one OpenMP thread: its fits are small, and
    extra threads only contend with other work.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_recsys.sampling import synthetic_quality
    >>> rng = np.random.default_rng(0)
    >>> real = rng.normal(size=(200, 3))
    >>> same = synthetic_quality(real, rng.normal(size=(200, 3)), random_state=0)
    >>> shifted = synthetic_quality(real, rng.normal(2.0, 1.0, size=(200, 3)), random_state=0)
    >>> bool(same.ks_mean < 0.15), bool(shifted.ks_mean > 0.5)
    (True, True)
    >>> bool(same.detection_auc < 0.65), bool(shifted.detection_auc > 0.9)
    (True, True)
    """
    real = _as_frame(real, "real")
    synthetic = _as_frame(synthetic, "synthetic")
    if columns is None:
        columns = list(real.columns)
    for name, frame in (("real", real), ("synthetic", synthetic)):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValueError(
                f"columns {missing!r} are not columns of {name}; its columns are "
                f"{column_list(frame)}."
            )
    if not isinstance(cv, (int, np.integer)) or isinstance(cv, bool) or cv < 2:
        raise ValueError(f"cv must be an integer >= 2; got {cv!r}.")
    if not isinstance(max_rows, (int, np.integer)) or isinstance(max_rows, bool) or max_rows < cv:
        raise ValueError(f"max_rows must be an integer >= cv={cv}; got {max_rows!r}.")
    rng = check_random_state(random_state)
    real, synthetic = real[columns], synthetic[columns]

    numeric = [
        c
        for c in columns
        if pd.api.types.is_numeric_dtype(real[c].dtype)
        and not pd.api.types.is_bool_dtype(real[c].dtype)
    ]
    ks = {}
    for c in columns:
        if c in numeric:
            a = pd.to_numeric(real[c]).to_numpy(dtype=float)
            b = pd.to_numeric(synthetic[c]).to_numpy(dtype=float)
            a, b = a[np.isfinite(a)], b[np.isfinite(b)]
            ks[c] = float(ks_2samp(a, b).statistic) if a.size and b.size else np.nan
        else:
            pa = real[c].astype(object).value_counts(normalize=True, dropna=False)
            pb = synthetic[c].astype(object).value_counts(normalize=True, dropna=False)
            pa, pb = pa.align(pb, fill_value=0.0)
            ks[c] = float(0.5 * np.abs(pa - pb).sum())
    ks = pd.Series(ks, name="ks")

    if len(numeric) >= 2:
        ca = np.nan_to_num(real[numeric].astype(float).corr().to_numpy())
        cb = np.nan_to_num(synthetic[numeric].astype(float).corr().to_numpy())
        corr_distance = float(np.linalg.norm(ca - cb))
    else:
        corr_distance = 0.0

    m = int(min(len(real), len(synthetic), max_rows))
    parts = []
    for frame in (real, synthetic):
        take = rng.choice(len(frame), size=m, replace=False)
        parts.append(frame.iloc[take])
    both = pd.concat(parts, ignore_index=True)
    for c in columns:
        if c not in numeric:
            both[c] = both[c].astype(object).astype("category")
        else:
            both[c] = both[c].astype(float)
    label = np.r_[np.zeros(m), np.ones(m)]
    seed = derive_seed(rng)
    detector = HistGradientBoostingClassifier(
        max_iter=100, categorical_features="from_dtype", random_state=seed
    )
    folds = StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed)
    with threadpool_limits(limits=1, user_api="openmp"):  # small fits: threads only contend
        auc = cross_val_score(detector, both, label, cv=folds, scoring="roc_auc")
    return Bunch(
        ks=ks,
        ks_mean=float(ks.mean()),
        correlation_distance=corr_distance,
        detection_auc=float(auc.mean()),
        detection_auc_std=float(auc.std()),
    )
