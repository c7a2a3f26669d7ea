"""What the re-rankers share: training statistics, candidate extraction, the greedy loop.

A re-ranker post-processes each user's scored candidates: it takes the ``n_candidates`` best
items of a user (by the model's score, ties in catalogue order), rescales their scores to
[0, 1] per user (min-max), and picks ``k`` of them greedily, trading the score against a
long-tail, calibration or diversity term with one parameter ``weight`` in [0, 1] (0 returns
the input order). It is fitted on the training interactions (popularity, head / tail, each
user's history).
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, column_or_1d

from .._contract import check_columns, interaction_ids, plain_ids
from ..utils import frame_input_tags

__all__ = ["BaseReranker"]


class _Candidates:
    """One batch of users' candidates as (n_users, n) matrices, best first."""

    def __init__(self, users, items, cols, rel, valid):
        self.users = users  # (n_users,) ids
        self.items = items  # (n_users, n) item ids
        self.cols = cols  # (n_users, n) column positions in the caller's matrix
        self.rel = rel  # (n_users, n) scores rescaled to [0, 1], 0 where invalid
        self.valid = valid  # (n_users, n) bool


class BaseReranker(BaseEstimator):
    """Base of the re-rankers (not public: subclass it).

    Subclasses declare ``weight``, ``n_candidates``, ``head_share``, ``user_col`` and
    ``item_col`` and implement ``_value(c, state, step)`` (the greedy objective of every
    candidate given the items chosen so far) and ``_update(c, state, chosen)``; a re-ranker
    whose objective does not depend on the chosen items sets ``_greedy = False`` and
    implements only ``_value``.
    """

    _greedy = True
    _common_constraints = {
        "weight": [Interval(numbers.Real, 0, 1, closed="both")],
        "n_candidates": [Interval(numbers.Integral, 1, None, closed="left")],
        "head_share": [Interval(numbers.Real, 0, 1, closed="neither")],
        "user_col": [str, numbers.Integral],
        "item_col": [str, numbers.Integral],
    }

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the item popularity, the head / tail split and each user's history.

        Parameters
        ----------
        X : DataFrame
            Training interactions with ``user_col`` and ``item_col``.
        y : array-like of shape (n_samples,), default=None
            When given, only rows with ``y > 0`` count.

        Returns
        -------
        self
        """
        X, (users, items) = interaction_ids(self, X, reset=True)
        if y is not None:
            keep = np.asarray(column_or_1d(y), dtype=float) > 0
            if len(keep) != len(users):
                raise ValueError(f"y has {len(keep)} rows but X has {len(users)}.")
            users, items = users[keep], items[keep]
        if len(users) == 0:
            raise ValueError(
                "No positive interaction to learn from: y has one class (every y <= 0)."
            )
        counts = pd.Series(items).value_counts()
        # the head / tail rule of sklearn_recsys.metrics (count descending, ties by id)
        ranked = pd.DataFrame({"item": counts.index, "n": counts.to_numpy()})
        try:
            ranked = ranked.sort_values(["n", "item"], ascending=[False, True], kind="stable")
        except TypeError:
            ranked = ranked.sort_values("n", ascending=False, kind="stable")
        cum = ranked["n"].cumsum().to_numpy() / ranked["n"].sum()
        n_head = int(np.searchsorted(cum, self.head_share) + 1)
        self.item_counts_ = pd.Series(ranked["n"].to_numpy(), index=pd.Index(ranked["item"]))
        self.head_items_ = pd.Index(ranked["item"].to_numpy()[:n_head])
        tail = self.head_items_.get_indexer(items) < 0
        share = pd.Series(tail.astype(float)).groupby(users).mean()
        self.user_tail_share_ = share
        self.tail_share_ = float(tail.mean())
        self._fit_extra(users, items)
        return self

    def _fit_extra(self, users, items):
        """Subclass hook: more statistics from the training interactions."""

    # ------------------------------------------------------------------ candidates
    def _pop(self, items):
        """Popularity in [0, 1] (count / largest count; 0 for unseen items)."""
        c = self.item_counts_.reindex(items.ravel()).fillna(0.0).to_numpy()
        return (c / self.item_counts_.max()).reshape(items.shape)

    def _is_tail(self, items):
        return (self.head_items_.get_indexer(items.ravel()) < 0).reshape(items.shape)

    def _user_tail(self, users):
        return self.user_tail_share_.reindex(users).fillna(self.tail_share_).to_numpy()

    def _candidates(self, users, items, scores):
        n = min(self.n_candidates, scores.shape[1])
        order = np.argsort(-scores, axis=1, kind="stable")[:, :n]
        vals = np.take_along_axis(scores, order, axis=1)
        valid = np.isfinite(vals)
        lo = np.where(valid, vals, np.inf).min(axis=1, keepdims=True)
        hi = np.where(valid, vals, -np.inf).max(axis=1, keepdims=True)
        span = np.where(hi > lo, hi - lo, 1.0)
        rel = np.where(
            valid, (np.where(valid, vals, 0.0) - np.where(np.isfinite(lo), lo, 0.0)) / span, 0.0
        )
        rel = np.where(valid & (hi == lo), 1.0, rel)
        return _Candidates(np.asarray(users), np.asarray(items)[order], order, rel, valid)

    # ------------------------------------------------------------------ greedy selection
    def _init_state(self, c):
        return {}

    def _update(self, c, state, chosen):  # pragma: no cover - greedy subclasses override
        raise NotImplementedError

    def _select(self, c, k):
        """Positions (n_users, k) in ``c``'s candidates, -1 where a user has fewer."""
        n_users, n = c.rel.shape
        k = min(k, n)
        if not self._greedy:
            value = np.where(c.valid, self._value(c, None, 0), -np.inf)
            pos = np.argsort(-value, axis=1, kind="stable")[:, :k]
            ok = np.take_along_axis(c.valid, pos, axis=1)
            return np.where(ok, pos, -1)
        state = self._init_state(c)
        taken = ~c.valid.copy()
        out = np.full((n_users, k), -1)
        rows = np.arange(n_users)
        for step in range(k):
            value = np.where(taken, -np.inf, self._value(c, state, step))
            best = np.argmax(value, axis=1)  # ties: the earliest candidate (input order)
            ok = np.isfinite(value[rows, best])
            out[ok, step] = best[ok]
            taken[rows[ok], best[ok]] = True
            self._update(c, state, np.where(ok, best, -1))
        return out

    # ------------------------------------------------------------------ public
    def rerank_scores(self, users, items, scores, k=10):
        """Scores whose ranking puts the re-ranked top ``k`` of every user first.

        The chosen items get values above every other item of the user, in the chosen order;
        the other items keep their order (and ties); ``-inf`` stays ``-inf``.

        Parameters
        ----------
        users : array-like of shape (n_users,)
        items : array-like of shape (n_items,)
            The columns of ``scores``.
        scores : ndarray of shape (n_users, n_items)
            The model's scores, ``-inf`` for pairs that are no candidate.
        k : int, default=10

        Returns
        -------
        new_scores : ndarray of shape (n_users, n_items)
        """
        check_is_fitted(self)
        scores = np.asarray(scores, dtype=float)
        items = np.asarray(items)
        if scores.shape != (len(users), len(items)):
            raise ValueError(
                f"scores has shape {scores.shape}; expected (len(users), "
                f"len(items)) = ({len(users)}, {len(items)})."
            )
        c = self._candidates(users, items, scores)
        pos = self._select(c, k)
        finite = np.isfinite(scores)
        new = np.where(
            finite,
            rankdata(np.where(finite, scores, -np.inf), method="min", axis=1).astype(float),
            -np.inf,
        )
        rows = np.repeat(np.arange(len(users)), pos.shape[1])
        ok = pos.ravel() >= 0
        cols = np.take_along_axis(c.cols, np.maximum(pos, 0), axis=1).ravel()
        bonus = (
            scores.shape[1] + 1.0 + (pos.shape[1] - np.tile(np.arange(pos.shape[1]), len(users)))
        )
        new[rows[ok], cols[ok]] = bonus[ok]
        return new

    def rerank(self, recommendations, k=10):
        """Re-rank a long table of scored candidates.

        Parameters
        ----------
        recommendations : DataFrame
            ``user_col``, ``item_col`` and ``score`` (e.g. the output of
            :func:`sklearn_recsys.recommend.recommend` with a large ``k``).
        k : int, default=10

        Returns
        -------
        reranked : DataFrame
            ``user_col``, ``item_col``, ``score`` (the input score) and ``rank`` (1 = best),
            at most ``k`` rows per user, users in order of first appearance.
        """
        check_is_fitted(self)
        check_columns(
            recommendations, user_col=self.user_col, item_col=self.item_col, score_col="score"
        )
        ucodes, users = pd.factorize(plain_ids(recommendations[self.user_col]))
        icodes, items = pd.factorize(plain_ids(recommendations[self.item_col]))
        scores = np.full((len(users), len(items)), -np.inf)
        scores[ucodes, icodes] = recommendations["score"].to_numpy(dtype=float)
        c = self._candidates(users.to_numpy(), items.to_numpy(), scores)
        pos = self._select(c, k)
        rows = np.repeat(np.arange(len(users)), pos.shape[1])
        ok = pos.ravel() >= 0
        cols = np.take_along_axis(c.cols, np.maximum(pos, 0), axis=1).ravel()[ok]
        rank = np.tile(np.arange(1, pos.shape[1] + 1), len(users))[ok]
        rows = rows[ok]
        return pd.DataFrame(
            {
                self.user_col: users.to_numpy()[rows],
                self.item_col: items.to_numpy()[cols],
                "score": scores[rows, cols],
                "rank": rank,
            }
        )

    def __sklearn_tags__(self):
        return frame_input_tags(super().__sklearn_tags__(), target_required=False)
