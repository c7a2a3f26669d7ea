"""DriftMonitor: data, score, label and exposure drift of served traffic against a reference."""

from __future__ import annotations

import collections
import numbers
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.stats import kstwobign
from sklearn.base import BaseEstimator, _fit_context
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from .._contract import check_columns, check_id_column, check_interactions
from ..metrics._longtail import _bucket_of_counts, _item_counts

__all__ = ["DriftMonitor"]

_EPS = 1e-4
_GRID = 200  # reference quantiles kept for the KS statistic


def psi(expected, actual):
    r"""Population stability index of two histograms (proportions).

    :math:`\mathrm{PSI} = \sum_b (a_b - e_b) \ln(a_b / e_b)`, proportions floored at 1e-4.
    """
    e = np.maximum(np.asarray(expected, dtype=float), _EPS)
    a = np.maximum(np.asarray(actual, dtype=float), _EPS)
    return float(np.sum((a - e) * np.log(a / e)))


def estimated_roc_auc(proba):
    """ROC AUC expected under calibrated probabilities (NannyML's CBPE): each row is a
    positive with probability ``p`` and a negative with ``1 - p``."""
    p = np.sort(np.asarray(proba, dtype=float))[::-1]
    pos, neg = p.sum(), (1 - p).sum()
    if pos <= 0 or neg <= 0:
        return float("nan")
    tpr = np.concatenate([[0.0], np.cumsum(p) / pos])
    fpr = np.concatenate([[0.0], np.cumsum(1 - p) / neg])
    return float(np.trapezoid(tpr, fpr))


class _Ring:
    """The last ``size`` rows of a float matrix."""

    def __init__(self, size, width):
        self.data = np.empty((size, width))
        self.n = 0  # rows ever added

    def add(self, rows):
        rows = np.asarray(rows, dtype=float).reshape(-1, self.data.shape[1])
        size = len(self.data)
        total = len(rows)
        if total > size:  # only the last `size` rows stay
            self.n += total - size
            rows = rows[-size:]
        start = self.n % size
        end = start + len(rows)
        if end <= size:
            self.data[start:end] = rows
        else:
            cut = size - start
            self.data[start:] = rows[:cut]
            self.data[: end - size] = rows[cut:]
        self.n += len(rows)

    def values(self):
        return self.data[: min(self.n, len(self.data))]


class DriftMonitor(BaseEstimator):
    """Drift of served traffic against a reference frame: features, scores, labels, exposure.

    :meth:`fit` profiles the reference (training or validation) interaction frame compactly:
    quantile bins of each numeric column, the level shares of each categorical column, the
    training popularity of every item (as a percentile, monitored as the derived feature
    ``item_popularity``), the score distribution, the positive rate and an isotonic calibration
    of the scores. :meth:`update` adds served rows and their scores (and labels when known);
    :meth:`record_feedback` adds labels that arrive later, :meth:`record_recommendations` the
    top-k lists shown. :meth:`report` compares the last ``window`` rows with the reference.

    Parameters
    ----------
    user_col, item_col : str, default="user_id", "item_id"
        Id columns (not monitored as such; the item's training popularity is).
    time_col : str or None, default="timestamp"
        Time column, never monitored.
    columns : list of str or None, default=None
        Columns to monitor; ``None``: every column of the reference but the ids and time.
    window : int, default=5000
        Served rows (and labels, and recommendation lists) the report looks at.
    n_bins : int, default=10
        Quantile bins of the population stability index.
    psi_threshold : float, default=0.2
        A feature (or the score) with PSI above this raises an alert.
    ks_threshold : float, default=0.15
        A numeric feature (or the score) with a KS distance above this raises an alert.
    min_samples : int, default=200
        Rows needed in the window before drift alerts are raised.
    rate_z : float, default=3.0
        The feedback positive rate raises an alert when it is more than ``rate_z`` binomial
        standard errors away from the reference rate.
    min_feedback : int, default=100
        Labels needed before the positive-rate and measured-performance alerts.
    auc_tolerance : float, default=0.05
        The estimated (label-free) or measured ROC AUC raises an alert when it falls this far
        below the reference's.
    head_share : float, default=0.8
        Head items make up this share of the reference interactions; the rest is the long tail.
    max_levels : int, default=20
        Levels of a categorical column kept (the others are pooled).

    Attributes
    ----------
    numeric_ : dict
        Column -> profile (``edges``, ``ref_props``, ``grid``, ``ref_cdf``).
    categorical_ : dict
        Column -> profile (``levels``, ``ref_props``).
    item_ids_, item_pct_ : ndarray
        Items of the reference and their popularity percentile.
    head_items_ : ndarray
        The head items (``head_share`` of the reference interactions).
    positive_rate_ : float or None
    score_profile_ : dict or None
    calibration_ : tuple of ndarray or None
        Isotonic calibration thresholds (scores, probabilities).
    reference_roc_auc_, reference_estimated_roc_auc_ : float or None
    n_reference_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_recsys.datasets import make_interactions
    >>> from sklearn_recsys.serving import DriftMonitor
    >>> X, y = make_interactions(n_interactions=4000, random_state=0, return_X_y=True)
    >>> monitor = DriftMonitor(min_samples=100).fit(X, y)
    >>> _ = monitor.update(X.sample(500, random_state=1))
    >>> monitor.report()["alerts"]
    []
    >>> shifted = X.sample(500, random_state=2).assign(price=lambda d: d["price"] * 3)
    >>> [a["name"] for a in monitor.update(shifted).report()["alerts"]]
    ['price']
    """

    _parameter_constraints = {
        "user_col": [str],
        "item_col": [str],
        "time_col": [str, None],
        "columns": [list, None],
        "window": [Interval(numbers.Integral, 10, None, closed="left")],
        "n_bins": [Interval(numbers.Integral, 2, None, closed="left")],
        "psi_threshold": [Interval(numbers.Real, 0, None, closed="neither")],
        "ks_threshold": [Interval(numbers.Real, 0, 1, closed="neither")],
        "min_samples": [Interval(numbers.Integral, 1, None, closed="left")],
        "rate_z": [Interval(numbers.Real, 0, None, closed="neither")],
        "min_feedback": [Interval(numbers.Integral, 1, None, closed="left")],
        "auc_tolerance": [Interval(numbers.Real, 0, 1, closed="neither")],
        "head_share": [Interval(numbers.Real, 0, 1, closed="neither")],
        "max_levels": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        user_col="user_id",
        item_col="item_id",
        *,
        time_col="timestamp",
        columns=None,
        window=5000,
        n_bins=10,
        psi_threshold=0.2,
        ks_threshold=0.15,
        min_samples=200,
        rate_z=3.0,
        min_feedback=100,
        auc_tolerance=0.05,
        head_share=0.8,
        max_levels=20,
    ):
        self.user_col = user_col
        self.item_col = item_col
        self.time_col = time_col
        self.columns = columns
        self.window = window
        self.n_bins = n_bins
        self.psi_threshold = psi_threshold
        self.ks_threshold = ks_threshold
        self.min_samples = min_samples
        self.rate_z = rate_z
        self.min_feedback = min_feedback
        self.auc_tolerance = auc_tolerance
        self.head_share = head_share
        self.max_levels = max_levels

    # ------------------------------------------------------------------------------ fit
    def _numeric_profile(self, values):
        values = np.asarray(values, dtype=float)
        values = values[np.isfinite(values)]
        qs = np.quantile(values, np.arange(1, self.n_bins) / self.n_bins)
        edges = np.unique(qs)
        counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
        grid = np.unique(np.quantile(values, np.linspace(0, 1, _GRID + 1)))
        cdf = np.searchsorted(np.sort(values), grid, side="right") / len(values)
        return {
            "edges": edges.tolist(),
            "ref_props": (counts / counts.sum()).tolist(),
            "grid": grid.tolist(),
            "ref_cdf": cdf.tolist(),
            "mean": float(values.mean()),
        }

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, *, scores=None):
        """Profile the reference frame (and its labels and scores).

        Parameters
        ----------
        X : DataFrame
            Reference interactions (with ``item_col``).
        y : array-like of shape (n_samples,) or None, default=None
            Binary labels: the reference positive rate and the score calibration.
        scores : array-like of shape (n_samples,) or None, default=None
            Model scores of ``X`` (NaN rows are ignored): the score distribution, and with
            ``y`` the isotonic calibration and the reference ROC AUC.

        Returns
        -------
        self : DriftMonitor
        """
        check_interactions(X)
        check_columns(X, item_col=self.item_col)
        items = check_id_column(X[self.item_col], name=f"item_col={self.item_col!r}")
        skip = {self.user_col, self.item_col, self.time_col}
        if self.columns is not None:
            check_columns(X, **{f"columns[{j}]": c for j, c in enumerate(self.columns)})
        cols = [
            c for c in (self.columns if self.columns is not None else X.columns) if c not in skip
        ]
        self.numeric_, self.categorical_ = {}, {}
        for col in cols:
            s = X[col]
            if pd.api.types.is_numeric_dtype(s.dtype) and not isinstance(
                s.dtype, pd.CategoricalDtype
            ):
                self.numeric_[str(col)] = self._numeric_profile(s.to_numpy(dtype=float))
            else:
                shares = s.astype(object).value_counts(normalize=True)
                levels = shares.index[: self.max_levels]
                props = shares.iloc[: self.max_levels].tolist()
                props.append(max(0.0, 1.0 - sum(props)))
                self.categorical_[str(col)] = {
                    "levels": [str(v) for v in levels],
                    "ref_props": props,
                }
        # the head / tail rule of sklearn_recsys.metrics (count desc, ties by item id)
        counts = _item_counts(items, self.item_col)
        ids, c = counts.index.to_numpy(dtype=object), counts.to_numpy(dtype=float)
        pct = np.searchsorted(np.sort(c), c, side="right") / len(c)
        self.item_ids_, self.item_pct_ = ids, pct
        self.head_items_ = ids[_bucket_of_counts(counts, np.array([self.head_share])) == 0]
        self.numeric_["item_popularity"] = self._numeric_profile(
            pct[np.repeat(np.arange(len(c)), c.astype(int))]
        )
        self.n_reference_ = len(X)

        self.positive_rate_ = None
        self.calibration_ = None
        self.score_profile_ = None
        self.reference_roc_auc_ = self.reference_estimated_roc_auc_ = None
        y_arr = None if y is None else (np.asarray(y, dtype=float) > 0).astype(float)
        if y_arr is not None:
            if len(y_arr) != len(X):
                raise ValueError(f"y has {len(y_arr)} labels for {len(X)} rows of X.")
            self.positive_rate_ = float(y_arr.mean())
        if scores is not None:
            s = np.asarray(scores, dtype=float)
            if len(s) != len(X):
                raise ValueError(f"scores has {len(s)} values for {len(X)} rows of X.")
            ok = np.isfinite(s)
            self.score_profile_ = self._numeric_profile(s[ok])
            if y_arr is not None and len(np.unique(y_arr[ok])) == 2:
                iso = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1)
                iso.fit(s[ok], y_arr[ok])
                self.calibration_ = (iso.X_thresholds_.copy(), iso.y_thresholds_.copy())
                self.reference_roc_auc_ = float(roc_auc_score(y_arr[ok], s[ok]))
                self.reference_estimated_roc_auc_ = estimated_roc_auc(self.calibrate(s[ok]))
        self._reset_state()
        return self

    def _reset_state(self):
        self._features = list(self.numeric_) + list(self.categorical_)
        self._rows = _Ring(self.window, len(self._features))
        self._scores = _Ring(self.window, 1)
        self._labels = _Ring(self.window, 2)  # (score, label)
        self._item_pos = pd.Index(self.item_ids_)
        self._level_pos = {name: pd.Index(p["levels"]) for name, p in self.categorical_.items()}
        self._head = np.isin(self.item_ids_, self.head_items_)
        self._lists = collections.deque()
        self._exposure = np.zeros(len(self.item_ids_) + 1)  # last slot: unseen items
        self._tail_shares = collections.deque()

    # ------------------------------------------------------------------------------ updates
    def calibrate(self, scores):
        """Calibrated probabilities of ``scores`` (the scores themselves without labels)."""
        check_is_fitted(self, "numeric_")
        s = np.asarray(scores, dtype=float)
        if self.calibration_ is None:
            return np.clip(s, 0, 1)
        x, p = self.calibration_
        return np.interp(s, x, p)

    def _item_percentiles(self, items):
        pos = self._item_pos.get_indexer(np.asarray(items, dtype=object))
        return np.where(pos < 0, 0.0, self.item_pct_[pos])

    def update(self, X, scores=None, y=None):
        """Add served rows, their scores and (optionally) their labels.

        Parameters
        ----------
        X : DataFrame or mapping of column -> array-like
            Served rows (the monitored columns and ``item_col``; a missing column is skipped).
        scores : array-like of shape (n_rows,) or None, default=None
        y : array-like of shape (n_rows,) or None, default=None
            Labels, when known at serving time (else see :meth:`record_feedback`).

        Returns
        -------
        self : DriftMonitor
        """
        check_is_fitted(self, "numeric_")
        items = np.asarray(X[self.item_col], dtype=object)
        n = len(items)
        block = np.full((n, len(self._features)), np.nan)
        for j, name in enumerate(self._features):
            if name == "item_popularity":
                block[:, j] = self._item_percentiles(items)
            elif name in self.categorical_:
                if name in X:
                    levels = self._level_pos[name]
                    codes = levels.get_indexer(np.asarray(X[name]).astype(str))
                    block[:, j] = np.where(codes < 0, len(levels), codes)
            elif name in X:
                block[:, j] = np.asarray(X[name], dtype=float)
        self._rows.add(block)
        if scores is not None:
            self._scores.add(np.asarray(scores, dtype=float))
            if y is not None:
                self.record_feedback(scores, y)
        return self

    def record_feedback(self, scores, y):
        """Add labels that arrived for served rows, with the scores those rows got."""
        check_is_fitted(self, "numeric_")
        s = np.asarray(scores, dtype=float).ravel()
        lab = (np.asarray(y, dtype=float).ravel() > 0).astype(float)
        self._labels.add(np.column_stack([s, lab]))
        return self

    def record_recommendations(self, items):
        """Add one top-k list that was shown (for coverage, Gini and APLT)."""
        check_is_fitted(self, "numeric_")
        pos = self._item_pos.get_indexer(np.asarray(items, dtype=object))
        pos = np.where(pos < 0, len(self.item_ids_), pos)
        np.add.at(self._exposure, pos, 1.0)
        known = pos < len(self.item_ids_)
        tail = (
            1.0 - np.mean(np.where(known, self._head[np.minimum(pos, len(self._head) - 1)], False))
            if len(pos)
            else 0.0
        )
        self._lists.append(pos)
        self._tail_shares.append(tail)
        if len(self._lists) > self.window:
            old = self._lists.popleft()
            np.add.at(self._exposure, old, -1.0)
            self._tail_shares.popleft()
        return self

    # ------------------------------------------------------------------------------ report
    @staticmethod
    def _compare(profile, values, categorical=False):
        values = values[np.isfinite(values)]
        if len(values) == 0:
            return None
        if categorical:
            counts = np.bincount(values.astype(int), minlength=len(profile["ref_props"]))
            props = counts / counts.sum()
            return {
                "psi": psi(profile["ref_props"], props),
                "ks": None,
                "ks_pvalue": None,
                "n": len(values),
                "props": props.tolist(),
            }
        edges = np.asarray(profile["edges"])
        counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
        grid = np.asarray(profile["grid"])
        cur_cdf = np.searchsorted(np.sort(values), grid, side="right") / len(values)
        d = float(np.max(np.abs(cur_cdf - np.asarray(profile["ref_cdf"]))))
        props = counts / counts.sum()
        return {
            "psi": psi(profile["ref_props"], props),
            "ks": d,
            "props": props.tolist(),
            "ks_pvalue": float(kstwobign.sf(d * np.sqrt(len(values)))),
            "mean": float(values.mean()),
            "reference_mean": profile["mean"],
            "n": len(values),
        }

    def _drifted(self, res):
        return (
            res is not None
            and res["n"] >= self.min_samples
            and (res["psi"] > self.psi_threshold or (res["ks"] or 0.0) > self.ks_threshold)
        )

    def report(self):
        """Drift, positive rate, performance and long-tail exposure of the current window.

        Returns
        -------
        report : dict
            ``features`` (PSI, KS per monitored column), ``scores``, ``positive_rate``,
            ``performance`` (estimated from calibrated scores, measured from labels),
            ``long_tail`` (coverage, Gini, APLT of the recommended lists) and ``alerts``
            (a list of ``{"kind", "name", "value", "threshold"}``).
        """
        check_is_fitted(self, "numeric_")
        rows = self._rows.values()
        alerts = []
        features = {}
        for j, name in enumerate(self._features):
            cat = name in self.categorical_
            profile = self.categorical_[name] if cat else self.numeric_[name]
            res = self._compare(profile, rows[:, j], categorical=cat)
            features[name] = res
            if self._drifted(res):
                key = "psi" if res["psi"] > self.psi_threshold else "ks"
                alerts.append(
                    {
                        "kind": "feature_drift",
                        "name": name,
                        "statistic": key,
                        "value": res[key],
                        "threshold": getattr(self, f"{key}_threshold"),
                    }
                )
        scores = self._scores.values().ravel()
        score_res = None
        if self.score_profile_ is not None:
            score_res = self._compare(self.score_profile_, scores)
            if self._drifted(score_res):
                key = "psi" if score_res["psi"] > self.psi_threshold else "ks"
                alerts.append(
                    {
                        "kind": "score_drift",
                        "name": "score",
                        "statistic": key,
                        "value": score_res[key],
                        "threshold": getattr(self, f"{key}_threshold"),
                    }
                )
        labels = self._labels.values()
        n_fb = len(labels)
        rate = {
            "reference": self.positive_rate_,
            "feedback": None,
            "n_feedback": n_fb,
            "z": None,
            "predicted": float(self.calibrate(scores).mean()) if len(scores) else None,
        }
        if n_fb and self.positive_rate_ is not None:
            p0 = min(max(self.positive_rate_, 1e-6), 1 - 1e-6)
            rate["feedback"] = float(labels[:, 1].mean())
            rate["z"] = float((rate["feedback"] - p0) / np.sqrt(p0 * (1 - p0) / n_fb))
            if n_fb >= self.min_feedback and abs(rate["z"]) > self.rate_z:
                alerts.append(
                    {
                        "kind": "positive_rate",
                        "name": "feedback_positive_rate",
                        "statistic": "z",
                        "value": rate["z"],
                        "threshold": self.rate_z,
                    }
                )
        perf = {
            "reference_roc_auc": self.reference_roc_auc_,
            "reference_estimated_roc_auc": self.reference_estimated_roc_auc_,
            "estimated_roc_auc": None,
            "measured_roc_auc": None,
            "measured_pr_auc": None,
        }
        if len(scores) >= self.min_samples and self.calibration_ is not None:
            perf["estimated_roc_auc"] = estimated_roc_auc(self.calibrate(scores))
            drop = self.reference_estimated_roc_auc_ - perf["estimated_roc_auc"]
            if drop > self.auc_tolerance:
                alerts.append(
                    {
                        "kind": "performance",
                        "name": "estimated_roc_auc",
                        "statistic": "drop",
                        "value": drop,
                        "threshold": self.auc_tolerance,
                    }
                )
        if n_fb and len(np.unique(labels[:, 1])) == 2:
            perf["measured_roc_auc"] = float(roc_auc_score(labels[:, 1], labels[:, 0]))
            perf["measured_pr_auc"] = float(average_precision_score(labels[:, 1], labels[:, 0]))
            ref = self.reference_roc_auc_
            if (
                n_fb >= self.min_feedback
                and ref is not None
                and (ref - perf["measured_roc_auc"] > self.auc_tolerance)
            ):
                alerts.append(
                    {
                        "kind": "performance",
                        "name": "measured_roc_auc",
                        "statistic": "drop",
                        "value": ref - perf["measured_roc_auc"],
                        "threshold": self.auc_tolerance,
                    }
                )
        return {
            "n_rows": int(self._rows.n),
            "n_window": len(rows),
            "features": features,
            "scores": score_res,
            "positive_rate": rate,
            "performance": perf,
            "long_tail": self._long_tail(),
            "alerts": alerts,
        }

    def _long_tail(self):
        n_lists = len(self._lists)
        exposure = self._exposure[:-1]
        n = len(exposure)
        x = np.sort(exposure)
        j = np.arange(1, n + 1)
        gini = float(np.sum((2 * j - n - 1) * x) / (n * x.sum())) if x.sum() > 0 else None
        return {
            "n_lists": n_lists,
            "coverage": float(np.mean(exposure > 0)) if n_lists else None,
            "gini": gini,
            "aplt": float(np.mean(self._tail_shares)) if n_lists else None,
            "reference_tail_items": float(1 - self._head.mean()),
        }

    # ------------------------------------------------------------------------------ json
    _STATE = (
        "numeric_",
        "categorical_",
        "positive_rate_",
        "score_profile_",
        "reference_roc_auc_",
        "reference_estimated_roc_auc_",
        "n_reference_",
    )

    def to_dict(self):
        """The reference profile as plain JSON types (what the manifest stores)."""
        check_is_fitted(self, "numeric_")
        return {
            "params": self.get_params(),
            **{k: getattr(self, k) for k in self._STATE},
            "item_ids": self.item_ids_.tolist(),
            "item_pct": self.item_pct_.tolist(),
            "head_items": self.head_items_.tolist(),
            "calibration": None
            if self.calibration_ is None
            else [self.calibration_[0].tolist(), self.calibration_[1].tolist()],
        }

    @classmethod
    def from_dict(cls, profile, **params):
        """A fitted monitor from :meth:`to_dict`'s output (``params`` override the saved ones)."""
        if not isinstance(profile, Mapping) or "numeric_" not in profile:
            raise ValueError("profile must be the output of DriftMonitor.to_dict().")
        monitor = cls(**{**profile["params"], **params})
        monitor._validate_params()
        for k in cls._STATE:
            setattr(monitor, k, profile[k])
        monitor.item_ids_ = np.asarray(profile["item_ids"], dtype=object)
        monitor.item_pct_ = np.asarray(profile["item_pct"], dtype=float)
        monitor.head_items_ = np.asarray(profile["head_items"], dtype=object)
        cal = profile["calibration"]
        monitor.calibration_ = None if cal is None else (np.asarray(cal[0]), np.asarray(cal[1]))
        monitor._reset_state()
        return monitor
