"""Long-tail, calibration and diversity re-rankers of each user's scored candidates."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseReranker

__all__ = ["CalibratedReranker", "MMRReranker", "PopularityPenaltyReranker", "XQuADReranker"]

_SEE_BASE = """
    Each user's ``n_candidates`` best items (by score) are rescaled to [0, 1] (min-max per
    user); ``weight=0`` returns the input order.
"""

_COMMON_PARAMS = """    n_candidates : int, default=100
        Best-scored items per user that may enter the list.
    head_share : float, default=0.8
        Head / tail rule of :mod:`sklearn_recsys.metrics` (the head is the most popular items
        that make up this share of the training interactions).
    user_col, item_col : str or int, default="user_id", "item_id"
"""

_COMMON_ATTRS = """    item_counts_ : pandas.Series
        Training interactions per item.
    head_items_ : pandas.Index
        The head items; every other item (unseen ones included) is in the tail.
    user_tail_share_ : pandas.Series
        Share of tail items in each user's training interactions.
    tail_share_ : float
        Share of tail items among all training interactions (the value of cold users).
"""


def _example(cls, expected, extra=""):
    return f"""
    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_recsys.rerank import {cls}
    >>> train = pd.DataFrame({{"user_id": [1, 1, 2, 2, 3, 3],
    ...                       "item_id": ["a", "b", "a", "b", "a", "c"]}})
    >>> cands = pd.DataFrame({{"user_id": [3, 3, 3], "item_id": ["a", "b", "d"],
    ...                       "score": [0.9, 0.8, 0.7]}})
    >>> {cls}(weight=0.0{extra}).fit(train).rerank(cands, k=3)["item_id"].tolist()
    ['a', 'b', 'd']
    >>> {cls}(weight=0.9{extra}).fit(train).rerank(cands, k=3)["item_id"].tolist()
    {expected}
"""


class PopularityPenaltyReranker(BaseReranker):
    __doc__ = (
        """Subtract a popularity penalty from each candidate's score.

    The new score of item :math:`i` is :math:`(1 - w)\\, s_i - w\\, p_i`, with :math:`s_i` the
    rescaled score and :math:`p_i` the item's training count over the largest count.
    """
        + _SEE_BASE
        + """
    Parameters
    ----------
    weight : float in [0, 1], default=0.3
        Trade-off :math:`w`.
"""
        + _COMMON_PARAMS
        + """
    Attributes
    ----------
"""
        + _COMMON_ATTRS
        + _example("PopularityPenaltyReranker", "['d', 'b', 'a']")
    )

    _greedy = False
    _parameter_constraints = {**BaseReranker._common_constraints}

    def __init__(
        self,
        weight=0.3,
        *,
        n_candidates=100,
        head_share=0.8,
        user_col="user_id",
        item_col="item_id",
    ):
        self.weight = weight
        self.n_candidates = n_candidates
        self.head_share = head_share
        self.user_col = user_col
        self.item_col = item_col

    def _value(self, c, state, step):
        return (1 - self.weight) * c.rel - self.weight * self._pop(c.items)


class XQuADReranker(BaseReranker):
    __doc__ = (
        """xQuAD with head and tail as the two aspects (Abdollahpouri et al. 2019).

    Greedy: the next item maximises

    .. math::
        (1 - w)\\, s_i + w \\sum_{d \\in \\{head, tail\\}} P(d \\mid u)\\, [i \\in d]
        \\prod_{j \\in S} (1 - P(j \\mid d, S))

    where :math:`P(d \\mid u)` is the share of aspect :math:`d` in the user's training
    interactions and :math:`S` the list so far. ``variant="binary"``: :math:`P(j \\mid d, S)`
    is 1 for :math:`j \\in d` (an aspect stops counting once covered); ``"smooth"``: the
    product is :math:`1 - |S \\cap d| / |S|`, the aspect's uncovered share of the list.
    """
        + _SEE_BASE
        + """
    Parameters
    ----------
    weight : float in [0, 1], default=0.3
        Trade-off :math:`w` (the paper's :math:`\\lambda`).
    variant : {"smooth", "binary"}, default="smooth"
"""
        + _COMMON_PARAMS
        + """
    Attributes
    ----------
"""
        + _COMMON_ATTRS
        + _example("XQuADReranker", "['a', 'd', 'b']")
    )

    _parameter_constraints = {
        **BaseReranker._common_constraints,
        "variant": [StrOptions({"smooth", "binary"})],
    }

    def __init__(
        self,
        weight=0.3,
        *,
        variant="smooth",
        n_candidates=100,
        head_share=0.8,
        user_col="user_id",
        item_col="item_id",
    ):
        self.weight = weight
        self.variant = variant
        self.n_candidates = n_candidates
        self.head_share = head_share
        self.user_col = user_col
        self.item_col = item_col

    def _init_state(self, c):
        pt = self._user_tail(c.users)
        return {
            "tail": self._is_tail(c.items),
            "p": np.stack([1 - pt, pt], axis=1),
            "n": np.zeros((len(c.users), 2)),
            "size": 0,
        }

    def _value(self, c, state, step):
        if self.variant == "binary":
            uncovered = (state["n"] == 0).astype(float)
        elif state["size"] == 0:
            uncovered = np.ones_like(state["n"])
        else:
            uncovered = 1 - state["n"] / state["size"]
        gain = state["p"] * uncovered  # (n_users, 2): head, tail
        bonus = np.where(state["tail"], gain[:, 1:2], gain[:, 0:1])
        return (1 - self.weight) * c.rel + self.weight * bonus

    def _update(self, c, state, chosen):
        rows = np.flatnonzero(chosen >= 0)
        t = state["tail"][rows, chosen[rows]].astype(int)
        state["n"][rows, t] += 1
        state["size"] += 1


class CalibratedReranker(BaseReranker):
    __doc__ = (
        """Calibrated recommendations (Steck 2018): the list's category mix follows the user.

    Greedy: the next item maximises :math:`(1 - w) \\sum_{j \\in S \\cup i} s_j - w\\,
    KL(p_u \\,\\|\\, \\tilde q(S \\cup i))`, with :math:`p_u` the category distribution of the
    user's training interactions, :math:`q(S)` that of the list (each item spreads its weight
    over its categories) and :math:`\\tilde q = (1 - \\alpha) q + \\alpha p_u`.
    ``item_categories=None`` uses head / tail as the two categories, which calibrates the
    list's popularity to the user's taste (Abdollahpouri et al. 2021).
    """
        + _SEE_BASE
        + """
    Parameters
    ----------
    weight : float in [0, 1], default=0.5
        Trade-off :math:`w` (the paper's :math:`\\lambda`).
    item_categories : DataFrame or None, default=None
        Indexed by item id, one non-negative column per category (e.g. genre flags); items
        missing from it have no category.
    alpha : float, default=0.01
        Smoothing :math:`\\alpha` of the list's distribution.
"""
        + _COMMON_PARAMS
        + """
    Attributes
    ----------
"""
        + _COMMON_ATTRS
        + """    user_profile_ : DataFrame
        Category distribution :math:`p_u` of each user.
    global_profile_ : ndarray of shape (n_categories,)
        Category distribution of all training interactions (the profile of cold users).
    categories_ : list
"""
        + _example("CalibratedReranker", "['a', 'd', 'b']")
    )

    _parameter_constraints = {
        **BaseReranker._common_constraints,
        "item_categories": [pd.DataFrame, None],
        "alpha": [Interval(numbers.Real, 0, 1, closed="neither")],
    }

    def __init__(
        self,
        weight=0.5,
        *,
        item_categories=None,
        alpha=0.01,
        n_candidates=100,
        head_share=0.8,
        user_col="user_id",
        item_col="item_id",
    ):
        self.weight = weight
        self.item_categories = item_categories
        self.alpha = alpha
        self.n_candidates = n_candidates
        self.head_share = head_share
        self.user_col = user_col
        self.item_col = item_col

    def _item_dist(self, items):
        flat = np.asarray(items).ravel()
        if self.item_categories is None:
            tail = self._is_tail(flat).astype(float)
            m = np.stack([1 - tail, tail], axis=1)
        else:
            m = self.item_categories.reindex(flat).fillna(0.0).to_numpy(dtype=float)
            if (m < 0).any():
                raise ValueError("item_categories must be non-negative.")
            tot = m.sum(axis=1, keepdims=True)
            m = np.divide(m, tot, out=np.zeros_like(m), where=tot > 0)
        return m.reshape(*np.shape(items), m.shape[1])

    def _fit_extra(self, users, items):
        m = self._item_dist(items)
        self.categories_ = (
            ["head", "tail"] if self.item_categories is None else list(self.item_categories.columns)
        )
        prof = pd.DataFrame(m, columns=self.categories_).groupby(users).mean()
        tot = prof.sum(axis=1).to_numpy()[:, None]
        self.user_profile_ = prof.div(np.where(tot > 0, tot, 1.0), axis=None)
        glob = m.mean(axis=0)
        self.global_profile_ = glob / max(glob.sum(), 1e-12)

    def _init_state(self, c):
        p = np.array(self.user_profile_.reindex(c.users).to_numpy(), dtype=float)
        missing = np.isnan(p).any(axis=1)
        p[missing] = self.global_profile_
        return {
            "p": p,
            "dist": self._item_dist(c.items),
            "sum": np.zeros_like(p),
            "rel": np.zeros(len(c.users)),
            "size": 0,
        }

    def _value(self, c, state, step):
        p = state["p"][:, None, :]  # (u, 1, g)
        q = (state["sum"][:, None, :] + state["dist"]) / (state["size"] + 1)
        q = (1 - self.alpha) * q + self.alpha * p
        with np.errstate(divide="ignore", invalid="ignore"):
            kl = np.where(p > 0, p * np.log(p / q), 0.0).sum(axis=2)
        return (1 - self.weight) * (state["rel"][:, None] + c.rel) - self.weight * kl

    def _update(self, c, state, chosen):
        rows = np.flatnonzero(chosen >= 0)
        state["sum"][rows] += state["dist"][rows, chosen[rows]]
        state["rel"][rows] += c.rel[rows, chosen[rows]]
        state["size"] += 1


class MMRReranker(BaseReranker):
    __doc__ = (
        """Maximal marginal relevance (Carbonell and Goldstein 1998) on item embeddings.

    Greedy: the next item maximises :math:`(1 - w)\\, s_i - w \\max_{j \\in S} \\cos(e_i, e_j)`
    (0 for the first item). ``item_embeddings=None`` embeds the items by a truncated SVD of
    the training item x user matrix, so that items that share their users are similar.
    """
        + _SEE_BASE
        + """
    Parameters
    ----------
    weight : float in [0, 1], default=0.3
        Trade-off :math:`w` (1 - the paper's :math:`\\lambda`).
    item_embeddings : DataFrame or None, default=None
        Indexed by item id, one column per dimension; items missing from it have similarity
        0 to every item.
    n_components : int, default=32
        Dimensions of the SVD embeddings (``item_embeddings=None``).
"""
        + _COMMON_PARAMS
        + """    random_state : int, RandomState instance or None, default=None
        Seeds the SVD.

    Attributes
    ----------
"""
        + _COMMON_ATTRS
        + """    embeddings_ : DataFrame
        Unit-norm item embeddings, indexed by item id.
"""
        + _example("MMRReranker", "['a', 'd', 'b']", ", n_components=2, random_state=0")
    )

    _parameter_constraints = {
        **BaseReranker._common_constraints,
        "item_embeddings": [pd.DataFrame, None],
        "n_components": [Interval(numbers.Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        weight=0.3,
        *,
        item_embeddings=None,
        n_components=32,
        n_candidates=100,
        head_share=0.8,
        user_col="user_id",
        item_col="item_id",
        random_state=None,
    ):
        self.weight = weight
        self.item_embeddings = item_embeddings
        self.n_components = n_components
        self.n_candidates = n_candidates
        self.head_share = head_share
        self.user_col = user_col
        self.item_col = item_col
        self.random_state = random_state

    def _fit_extra(self, users, items):
        if self.item_embeddings is not None:
            emb = self.item_embeddings.astype(float)
        else:
            import scipy.sparse as sp
            from sklearn.decomposition import TruncatedSVD

            ucodes, _ = pd.factorize(users)
            icodes, iids = pd.factorize(items)
            M = sp.csr_matrix(
                (np.ones(len(ucodes)), (icodes, ucodes)), shape=(len(iids), ucodes.max() + 1)
            )
            n = max(1, min(self.n_components, min(M.shape) - 1))
            if min(M.shape) > 1:
                vec = TruncatedSVD(n, random_state=self.random_state).fit_transform(M)
            else:
                vec = M.toarray()[:, :1].astype(float)
            emb = pd.DataFrame(vec, index=pd.Index(iids))
        norm = np.linalg.norm(emb.to_numpy(), axis=1, keepdims=True)
        self.embeddings_ = emb / np.where(norm > 0, norm, 1.0)

    def _init_state(self, c):
        e = self.embeddings_.reindex(c.items.ravel()).fillna(0.0).to_numpy()
        return {
            "emb": e.reshape(*c.items.shape, -1),
            "max_sim": np.zeros(c.items.shape),
            "first": True,
        }

    def _value(self, c, state, step):
        return (1 - self.weight) * c.rel - self.weight * state["max_sim"]

    def _update(self, c, state, chosen):
        rows = np.flatnonzero(chosen >= 0)
        picked = state["emb"][rows, chosen[rows]]  # (r, d)
        sim = np.einsum("rnd,rd->rn", state["emb"][rows], picked)
        state["max_sim"][rows] = (
            np.maximum(state["max_sim"][rows], sim) if not (state["first"]) else sim
        )
        state["first"] = False
