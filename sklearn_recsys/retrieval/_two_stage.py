"""Retrieve, then rank: a retriever's top-N candidates re-scored by a learned ranker."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, _fit_context, clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted, column_or_1d

from .._contract import (
    check_id_column,
    check_time_column,
    interaction_ids,
    plain_ids,
    sorted_id_index,
)
from ..metrics._scorers import predict_scores
from ..utils import frame_input_tags
from ._base import _BLOCK, _check_mask
from ._ease import EASERecommender

__all__ = ["TwoStageRecommender"]


class _History:
    """Id indices, the seen matrix and count features of one interaction log."""

    def __init__(self, users, items, times, recent_share):
        self.users = sorted_id_index(users)
        self.items = sorted_id_index(items)
        u = self.users.get_indexer(users)
        i = self.items.get_indexer(items)
        nu, ni = len(self.users), len(self.items)
        self.seen = sp.csr_matrix((np.ones(len(u), dtype=bool), (u, i)), shape=(nu, ni))
        self.seen.sum_duplicates()
        self.item_count = np.bincount(i, minlength=ni).astype(float)
        self.user_count = np.bincount(u, minlength=nu).astype(float)
        self.item_recent = None
        if times is not None:
            cut = np.quantile(times, 1 - recent_share)
            self.item_recent = np.bincount(i[times >= cut], minlength=ni).astype(float)


def _top_n(scores, n):
    """Column indices of the ``n`` best finite scores per row, best first, and their ranks."""
    n = min(n, scores.shape[1])
    part = np.argpartition(-scores, n - 1, axis=1)[:, :n]
    vals = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    cols = np.take_along_axis(part, order, axis=1)
    vals = np.take_along_axis(vals, order, axis=1)
    return cols, vals


class TwoStageRecommender(BaseEstimator):
    """A retriever's top-``n_candidates`` items per user, re-scored by a learned ranker.

    ``fit`` holds out the last ``target_size`` share of every user's interactions (by
    ``time_col``; at random without it), fits a clone of ``retriever`` on the rest (the
    history), and asks it for each user's top ``n_candidates`` unseen items. Those candidates
    are the ranker's training rows: the held-out interactions among them are the positives
    (labelled with their ``y``, a relevance grade), the others are the retriever's hard
    negatives; users without a positive candidate carry no ranking signal and are dropped.
    The ranker sees, besides ``user_col`` and ``item_col``, the retriever's score and rank,
    the gap to the user's best score, the item's and user's interaction counts (and the item's
    count in the most recent ``recent_share`` of the log) and the numeric columns of
    ``item_features`` / ``user_features``. The candidates are built from the history only, so
    no held-out row leaks into its own features. Finally ``retriever_`` is refitted on all of
    ``X`` for prediction.

    At prediction, a user's candidates are the retriever's top ``n_candidates`` items the user
    has not interacted with in ``fit``; they get the ranker's score, every other item
    ``-inf`` (not a candidate). :meth:`score_matrix` gives
    :func:`~sklearn_recsys.recommend.recommend` and
    :func:`~sklearn_recsys.recommend.evaluate_topk` the same scores for a users x catalogue
    grid while sending only the candidates to the ranker.

    Parameters
    ----------
    retriever : estimator or None, default=None
        Has ``fit(X, y)`` and ``score_matrix(users, items, exclude=...)`` (every
        :mod:`sklearn_recsys.retrieval` model); None means ``EASERecommender()``.
    ranker : estimator or None, default=None
        Fitted on the candidate frame with the grades as ``y``; scores through
        ``predict_proba`` / ``decision_function`` / ``predict``. None means
        :class:`~sklearn_recsys.boosting.GroupedLGBMRanker` (lambdarank grouped by user, with
        ``user_col`` and ``item_col`` as its id columns).
    n_candidates : int, default=100
        Candidates per user.
    target_size : float, default=0.2
        Share of each user's interactions held out as the ranker's targets in ``fit``.
    recent_share : float, default=0.1
        The "recent" window of the ``item_recent`` feature, as a share of the log's rows.
    user_col, item_col : str or int, default="user_id", "item_id"
    time_col : str, int or None, default="timestamp"
        Orders each user's interactions for the hold-out; None (or a missing column): random.
    item_features, user_features : DataFrame or None, default=None
        Side tables indexed by id; their numeric and boolean columns become ranker features.
    random_state : int, RandomState instance or None, default=None
        Seeds the random hold-out (without ``time_col``).

    Attributes
    ----------
    retriever_ : estimator
        The retriever refitted on all of ``X``.
    ranker_ : estimator or None
        The fitted ranker; None when the hold-out gave it no positive candidate (tiny data):
        the candidates then keep the retriever's scores.
    candidates_ : DataFrame
        The ranker's training rows: ids, features and ``label``.
    recall_candidates_ : float
        Share of the held-out positives (``y > 0``) that the history retriever put among the
        candidates in ``fit`` (the ceiling of the ranker's recall).
    feature_names_ : list of str
        The ranker's feature columns (besides the ids).
    user_index_, item_index_ : pandas.Index
        Users and items of ``X``.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when ``X`` has string column names.

    See Also
    --------
    sklearn_recsys.sampling.NegativeSampler : random (easy) negatives instead of hard ones.

    Examples
    --------
    >>> from sklearn_recsys.datasets import make_interactions
    >>> from sklearn_recsys.boosting import GroupedLGBMRanker
    >>> from sklearn_recsys.retrieval import EASERecommender, TwoStageRecommender
    >>> X = make_interactions(n_users=100, n_items=50, n_interactions=3000,
    ...                       random_state=0).interactions
    >>> model = TwoStageRecommender(EASERecommender(l2=50.0),
    ...                             GroupedLGBMRanker(n_estimators=20, n_jobs=1, random_state=0),
    ...                             n_candidates=20).fit(X)
    >>> scores = model.score_matrix([X.user_id.iloc[0]])
    >>> int((scores > -float("inf")).sum())
    20
    """

    _parameter_constraints = {
        "retriever": [HasMethods(["fit", "score_matrix"]), None],
        "ranker": [HasMethods(["fit"]), None],
        "n_candidates": [Interval(numbers.Integral, 1, None, closed="left")],
        "target_size": [Interval(numbers.Real, 0, 1, closed="neither")],
        "recent_share": [Interval(numbers.Real, 0, 1, closed="right")],
        "user_col": [str, numbers.Integral],
        "item_col": [str, numbers.Integral],
        "time_col": [str, numbers.Integral, None],
        "item_features": [pd.DataFrame, None],
        "user_features": [pd.DataFrame, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        retriever=None,
        ranker=None,
        *,
        n_candidates=100,
        target_size=0.2,
        recent_share=0.1,
        user_col="user_id",
        item_col="item_id",
        time_col="timestamp",
        item_features=None,
        user_features=None,
        random_state=None,
    ):
        self.retriever = retriever
        self.ranker = ranker
        self.n_candidates = n_candidates
        self.target_size = target_size
        self.recent_share = recent_share
        self.user_col = user_col
        self.item_col = item_col
        self.time_col = time_col
        self.item_features = item_features
        self.user_features = user_features
        self.random_state = random_state

    # ------------------------------------------------------------------ helpers
    def _times(self, X):
        if self.time_col is None or self.time_col not in X.columns:
            return None
        t = check_time_column(X[self.time_col], name=f"time_col={self.time_col!r}")
        return pd.to_numeric(
            t if not pd.api.types.is_datetime64_any_dtype(t) else t.astype("int64")
        ).to_numpy(dtype=float)

    def _target_mask(self, users, times):
        """The last ``target_size`` share of each user's rows (users with 2+ rows)."""
        n = len(users)
        codes = pd.factorize(users)[0]
        key = times if times is not None else check_random_state(self.random_state).rand(n)
        order = np.lexsort((np.arange(n), key, codes))
        counts = np.bincount(codes)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        pos = np.arange(n) - starts[codes[order]]
        n_target = np.floor(counts * self.target_size + 0.5).astype(int)
        n_target = np.where(counts >= 2, np.clip(n_target, 1, counts - 1), 0)
        mask = np.zeros(n, dtype=bool)
        mask[order] = pos >= (counts - n_target)[codes[order]]
        return mask

    def _side(self, table, ids, prefix):
        if table is None:
            return {}
        if table.index.has_duplicates:
            raise ValueError(f"{prefix}_features has duplicate ids in its index.")
        block = table.reindex(ids)
        out = {}
        for c in block.columns:
            col = block[c]
            if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
                out[f"{prefix}_{c}"] = col.to_numpy(dtype=float)
        return out

    def _candidates(self, retriever, hist, users, exclude=None):
        """(row, item code, score, rank) of the top-N unseen items of each of ``users``."""
        ucodes = hist.users.get_indexer(users)
        empty = np.empty(0, dtype=np.int64)
        rows, cols, vals, ranks = [empty], [empty], [np.empty(0)], [empty]
        step = max(1, _BLOCK // max(1, len(hist.items)))
        for s in range(0, len(users), step):
            uc = ucodes[s : s + step]
            mask = np.zeros((len(uc), len(hist.items)), dtype=bool)
            warm = np.flatnonzero(uc >= 0)
            if len(warm):
                mask[warm] = hist.seen[uc[warm]].toarray()
            if exclude is not None:
                mask |= exclude[s : s + step]
            scores = retriever.score_matrix(
                users[s : s + step], hist.items.to_numpy(), exclude=mask
            )
            c, v = _top_n(scores, self.n_candidates)
            ok = np.isfinite(v)
            r = np.broadcast_to(np.arange(c.shape[1]), c.shape)
            rows.append(np.broadcast_to(np.arange(s, s + len(uc))[:, None], c.shape)[ok])
            cols.append(c[ok])
            vals.append(v[ok])
            ranks.append(r[ok])
        return (
            np.concatenate(rows),
            np.concatenate(cols),
            np.concatenate(vals),
            np.concatenate(ranks),
        )

    def _features(self, hist, users, rows, cols, vals, ranks):
        ucodes = hist.users.get_indexer(users)[rows]
        top = np.full(len(users), -np.inf)
        np.maximum.at(top, rows, vals)
        item_ids = hist.items.to_numpy()[cols]
        feats = {
            str(self.user_col): users[rows],
            str(self.item_col): item_ids,
            "retriever_score": vals,
            "retriever_rank": ranks.astype(float),
            "retriever_gap": top[rows] - vals,
            "item_count": np.log1p(hist.item_count[cols]),
            "user_count": np.log1p(np.where(ucodes >= 0, hist.user_count[ucodes], 0.0)),
        }
        if hist.item_recent is not None:
            feats["item_recent"] = np.log1p(hist.item_recent[cols])
        feats.update(self._side(self.item_features, item_ids, "item"))
        feats.update(self._side(self.user_features, users[rows], "user"))
        return pd.DataFrame(feats)

    def _default_ranker(self):
        from ..boosting import GroupedLGBMRanker

        user, item = str(self.user_col), str(self.item_col)
        return GroupedLGBMRanker(
            group_col=user,
            user_col=user,
            item_col=item,
            categorical_features=None,
            n_estimators=200,
            n_jobs=1,
            learning_rate=0.05,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.8,
            reg_lambda=1.0,
            random_state=0,
        )

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit the retriever on the history, the ranker on its candidates, then refit.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            Interaction frame with ``user_col``, ``item_col`` (and ``time_col``).
        y : array-like of shape (n_samples,), default=None
            Relevance grade of each interaction (0 = negative, e.g. a view without purchase;
            the ranker learns the grades). None: every row is a positive of grade 1.

        Returns
        -------
        self : TwoStageRecommender
        """
        X, (users, items) = interaction_ids(self, X, reset=True)
        grade = np.ones(len(X))
        if y is not None:
            grade = np.asarray(column_or_1d(y), dtype=float)
            if len(grade) != len(X):
                raise ValueError(f"y has {len(grade)} rows but X has {len(X)}.")
        times = self._times(X)
        retriever = (
            EASERecommender(user_col=self.user_col, item_col=self.item_col)
            if (self.retriever is None)
            else self.retriever
        )
        ranker = self._default_ranker() if self.ranker is None else self.ranker
        target = self._target_mask(users, times)
        hist_rows = ~target
        y_hist = None if y is None else np.asarray(y)[hist_rows]
        retr_hist = clone(retriever).fit(X.iloc[hist_rows], y_hist)
        hist = _History(
            users[hist_rows],
            items[hist_rows],
            None if times is None else times[hist_rows],
            self.recent_share,
        )
        # targets: the held-out positives of users known to the history
        tu, ti, tg = users[target], items[target], grade[target]
        keep = (tg > 0) & (hist.users.get_indexer(tu) >= 0) & (hist.items.get_indexer(ti) >= 0)
        truth = pd.Series(
            tg[keep],
            index=pd.MultiIndex.from_arrays(
                [hist.users.get_indexer(tu[keep]), hist.items.get_indexer(ti[keep])]
            ),
        )
        truth = truth.groupby(level=[0, 1]).max()
        if len(truth) == 0:  # no target: an empty candidate frame (warned below)
            truth = pd.Series(
                [],
                index=pd.MultiIndex.from_arrays(
                    [np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)]
                ),
                dtype=float,
            )
        t_users = hist.users.to_numpy()[np.unique(truth.index.get_level_values(0))]
        rows, cols, vals, ranks = self._candidates(retr_hist, hist, t_users)
        frame = self._features(hist, t_users, rows, cols, vals, ranks)
        ucodes = hist.users.get_indexer(t_users)[rows]
        code = ucodes.astype(np.int64) * len(hist.items) + cols
        tcode = (
            truth.index.get_level_values(0).to_numpy().astype(np.int64) * len(hist.items)
            + truth.index.get_level_values(1).to_numpy()
        )
        pos = pd.Series(truth.to_numpy(), index=tcode)
        label = pos.reindex(code).fillna(0.0).to_numpy()
        self.recall_candidates_ = float((label > 0).sum() / max(len(truth), 1))
        has_pos = pd.Series(label > 0).groupby(rows).transform("any").to_numpy(dtype=bool)
        frame, label = frame[has_pos].reset_index(drop=True), label[has_pos]
        if np.all(label == np.round(label)):
            label = label.astype(np.int64)
        self.feature_names_ = [
            c for c in frame.columns if c not in (str(self.user_col), str(self.item_col))
        ]
        self.candidates_ = frame.assign(label=label)
        if len(label) == 0 or len(np.unique(label)) < 2:
            warnings.warn(
                "The hold-out of the training interactions gave the ranker no positive "
                "candidate (users need 2+ interactions, and the retriever must find some "
                "held-out ones among its n_candidates): the candidates keep the retriever's "
                "scores (ranker_ is None).",
                UserWarning,
                stacklevel=2,
            )
            self.ranker_ = None
        else:
            self.ranker_ = clone(ranker).fit(frame, label)
        self.retriever_ = clone(retriever).fit(X, y)
        self.history_ = _History(users, items, times, self.recent_share)
        self.user_index_, self.item_index_ = self.history_.users, self.history_.items
        return self

    # ------------------------------------------------------------------ predict
    def _rescore(self, users, exclude=None):
        """Candidates of ``users`` with their ranker scores: (rows, item codes, scores)."""
        rows, cols, vals, ranks = self._candidates(self.retriever_, self.history_, users, exclude)
        if self.ranker_ is None:
            return rows, cols, vals
        frame = self._features(self.history_, users, rows, cols, vals, ranks)
        return rows, cols, predict_scores(self.ranker_, frame)

    def score_matrix(self, users, items=None, *, exclude=None):
        """Ranker scores of each user's candidates over a catalogue, ``-inf`` elsewhere.

        Parameters
        ----------
        users : array-like of shape (n_users,)
        items : array-like of shape (n_items,) or None, default=None
            The catalogue (None: the items of ``fit``). Candidates are drawn from it.
        exclude : ndarray of bool of shape (n_users, n_items) or None, default=None
            Pairs that may not be candidates (besides the user's interactions in ``fit``).

        Returns
        -------
        scores : ndarray of shape (n_users, n_items)
        """
        check_is_fitted(self)
        users = plain_ids(check_id_column(np.asarray(users), name="users")).to_numpy()
        known = self.item_index_
        if items is None:
            items = known.to_numpy()
        items = plain_ids(check_id_column(np.asarray(items), name="items")).to_numpy()
        icodes = known.get_indexer(items)
        # a known item outside the catalogue, or excluded, is no candidate
        block = np.ones((len(users), len(known)), dtype=bool)
        inside = icodes >= 0
        block[:, icodes[inside]] = False
        if exclude is not None:
            ex = _check_mask(exclude, (len(users), len(items)))
            block[:, icodes[inside]] |= ex[:, inside]
        rows, cols, scores = self._rescore(users, block)
        out = np.full((len(users), len(items)), -np.inf)
        col_of = np.full(len(known), -1)
        col_of[icodes[inside]] = np.flatnonzero(inside)
        out[rows, col_of[cols]] = scores
        return out

    def predict(self, X):
        """Ranker score of each (user, item) row; ``-inf`` for rows that are no candidate.

        The scores are the matching entries of :meth:`score_matrix` with ``items=None``: each
        user's candidates are drawn from the items of ``fit`` (an unseen item is none).

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            The pairs to score, read from ``user_col`` and ``item_col`` (other columns are not
            used).

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        _, (users, items) = interaction_ids(self, X, reset=False)
        row_of, first = pd.factorize(users)
        rows, cols, scores = self._rescore(first)
        n_items = len(self.item_index_)
        table = pd.Series(scores, index=rows.astype(np.int64) * n_items + cols)
        icodes = self.item_index_.get_indexer(items)
        code = np.where(icodes >= 0, row_of.astype(np.int64) * n_items + icodes, -1)
        return table.reindex(code).fillna(-np.inf).to_numpy()

    def __sklearn_tags__(self):
        return frame_input_tags(super().__sklearn_tags__(), target_required=False)
