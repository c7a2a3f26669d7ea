"""Synthetic e-commerce interaction log: the embedded default data set."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils import Bunch, check_random_state

from ._labels import label_conversion
from ._taobao import BEHAVIOR_TYPES

__all__ = ["make_interactions"]

_CATEGORY_NOUNS = [
    "phone",
    "laptop",
    "sneaker",
    "dress",
    "novel",
    "blender",
    "headphones",
    "watch",
    "backpack",
    "lipstick",
    "toy",
    "sofa",
    "lamp",
    "camera",
    "jacket",
    "perfume",
    "tent",
    "guitar",
    "mug",
    "monitor",
    "keyboard",
    "scarf",
    "vase",
    "drill",
    "bicycle",
    "puzzle",
    "printer",
    "helmet",
    "kettle",
    "wallet",
]
_COLORS = ["black", "white", "red", "blue", "green", "silver", "grey", "pink", "navy", "beige"]
#: title words that carry the latent item quality (high, middle, low tercile).
_QUALITY_WORDS = (
    ["premium", "pro", "deluxe", "signature"],
    ["classic", "standard", "everyday", "essential"],
    ["basic", "budget", "lite", "generic"],
)

_DESCR = """\
Synthetic e-commerce interaction log (sklearn_recsys.datasets.make_interactions)
===============================================================================

One row per impression of an item shown to a user, with a binary label (a purchase by default).
The generating model, all of it vectorised and driven by one ``random_state``:

- categories: sizes follow a Zipf law with exponent ``category_exponent`` (a few hot categories,
  a long tail of cold ones with a handful of items); every category has at least one item;
- items: a category, a latent taste vector (its category's centroid plus noise), a quality
  ``q ~ N(0, 1)``, a log-normal price around its category's price level, and a title built from a
  quality word (premium / classic / basic ...), a colour and the category noun;
- popularity: the exposure of item ``i`` is proportional to ``rank_i ** -popularity_exponent``
  (a Zipf-like long tail, ranks shuffled so ids carry no order);
- users: a latent taste vector ``u ~ N(0, I)`` and an activity drawn log-normally with sigma
  ``user_activity_sigma`` (heavy users);
- each impression has a position in the result list (position ``p`` drawn with probability
  proportional to ``1 / p``) and a timestamp uniform over ``n_days`` days;
- the label: ``logit = b + affinity_strength * a + quality_strength * q
  - position_strength * log(p) - price_strength * z_price``, where ``a`` is the standardised
  user-item affinity ``u . v`` and ``z_price`` the item's log price relative to its category;
  ``b`` is solved so that the mean purchase probability equals ``positive_rate``; the label is a
  Bernoulli draw of ``sigmoid(logit)``, returned as ``purchase_proba``.

The rows are sorted by timestamp.
"""


def _zipf_weights(n, exponent, rng):
    ranks = rng.permutation(n) + 1
    w = ranks.astype(float) ** -exponent
    return w / w.sum()


def _solve_intercept(logit, rate):
    """Intercept b such that mean(sigmoid(logit + b)) == rate, by bisection."""
    lo, hi = -30.0, 30.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if np.mean(1.0 / (1.0 + np.exp(-(logit + mid)))) > rate:
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


def _titles(quality, item_cat, n_categories, rng):
    """Item titles "quality-word colour noun"; the word follows the quality tercile 70 % of
    the time."""
    n_items = len(quality)
    tercile = 2 - np.digitize(quality, np.quantile(quality, [1 / 3, 2 / 3]))  # 0 = high
    noisy = rng.random_sample(n_items) < 0.3
    tercile = np.where(noisy, rng.randint(0, 3, n_items), tercile)
    qword = np.array(_QUALITY_WORDS)[tercile, rng.randint(0, 4, n_items)]
    color = np.array(_COLORS)[rng.randint(0, len(_COLORS), n_items)]
    nouns = np.array([_CATEGORY_NOUNS[c % len(_CATEGORY_NOUNS)] for c in range(n_categories)])
    return pd.Series(qword).str.cat([pd.Series(color), pd.Series(nouns[item_cat])], sep=" ")


def _check_positive_int(value, name, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}.")


def _check_nonneg(value, name):
    if isinstance(value, bool) or not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0; got {value!r}.")


def make_interactions(
    n_users=2000,
    n_items=1000,
    n_interactions=100_000,
    *,
    n_categories=20,
    n_factors=8,
    positive_rate=0.02,
    popularity_exponent=1.1,
    category_exponent=1.5,
    user_activity_sigma=1.0,
    affinity_strength=1.5,
    quality_strength=0.8,
    position_strength=0.5,
    price_strength=0.3,
    n_positions=20,
    n_days=90,
    start="2026-01-01",
    label="purchase",
    multi_behavior=False,
    return_X_y=False,
    random_state=None,
):
    """Generate a synthetic e-commerce interaction log with a rare, learnable label.

    The data follow a documented latent model (see ``DESCR`` of the result and the Notes):
    users and items with latent tastes, Zipf-like item popularity, heavy users, hot and cold
    categories, prices, titles, positions, timestamps and a binary label whose probability
    depends on user-item affinity, item quality, position and price.

    Parameters
    ----------
    n_users : int, default=2000
        Number of users.
    n_items : int, default=1000
        Number of items.
    n_interactions : int, default=100_000
        Number of rows (impressions).
    n_categories : int, default=20
        Number of item categories (at most ``n_items``).
    n_factors : int, default=8
        Dimension of the latent taste vectors.
    positive_rate : float, default=0.02
        Mean purchase probability, in (0, 1).
    popularity_exponent : float, default=1.1
        Zipf exponent of item exposure; 0 gives uniform exposure.
    category_exponent : float, default=1.5
        Zipf exponent of category sizes.
    user_activity_sigma : float, default=1.0
        Sigma of the log-normal user activity; 0 gives equally active users.
    affinity_strength, quality_strength, position_strength, price_strength : float
        Weights of the label model (defaults 1.5, 0.8, 0.5, 0.3).
    n_positions : int, default=20
        Length of the result list an impression is drawn from.
    n_days : int, default=90
        Time span of the log.
    start : str, default="2026-01-01"
        Start of the log (anything :class:`pandas.Timestamp` parses); timestamps are Unix seconds.
    label : str, default="purchase"
        Name of the label column (e.g. ``"click"``).
    multi_behavior : bool, default=False
        If True, generate a multi-behaviour event log in the layout of the Taobao user behaviour
        log (see :func:`load_taobao`) instead: users run sessions in which they browse
        categories, view items, re-view some, and add to cart, favourite and buy with
        probabilities that rise with affinity, quality, earlier views and their buying
        propensity; buys come seconds to days after the views that led to them. The behaviour
        mix is near Taobao's (pv ~ 89.6 %, cart ~ 5.5 %, fav ~ 2.9 %, buy ~ 2.0 %) and
        ``n_interactions`` is the number of events. Only the first cart, fav and buy of a
        (user, item) pair are drawn, so a log with few distinct pairs for its length (a tiny
        catalogue) has fewer actions. ``positive_rate``, ``position_strength``, ``n_positions``
        and ``label`` are not used. The model is in ``DESCR`` of the result.
    return_X_y : bool, default=False
        If True, return ``(X, y)``: the interactions without the label, and the label; with
        ``multi_behavior=True``, ``label_conversion(interactions)``: the non-buy events (with a
        ``label_time`` column) and whether the user buys the item within 72 h.
    random_state : int, RandomState instance or None, default=None
        Seed of every random draw: the same seed gives the same data.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``interactions`` (DataFrame: ``user_id``, ``item_id``, ``category`` (category dtype),
        ``price``, ``position``, ``timestamp`` and the label column), ``item_info`` (indexed by
        ``item_id``: ``title``, ``category``, ``price``, ``quality``), ``user_info`` (indexed by
        ``user_id``: ``activity``), ``purchase_proba`` (true label probability of each row),
        ``target_name`` and ``DESCR``. With ``multi_behavior=True``: ``interactions``
        (DataFrame sorted by time: ``user_id``, ``item_id``, ``category_id`` (int32),
        ``behavior_type`` (category ``["pv", "cart", "fav", "buy"]``), ``timestamp`` (int64
        Unix seconds)), ``item_info`` (indexed by ``item_id``: ``title``, ``category_id``,
        ``price``, ``quality``), ``user_info`` (indexed by ``user_id``: ``activity``,
        ``buy_propensity``), ``target_name="buy"`` and ``DESCR``.
    (X, y) : tuple
        If ``return_X_y`` is True.

    Notes
    -----
    ``logit = b + affinity_strength * a + quality_strength * q - position_strength * log(p)
    - price_strength * z_price``; ``b`` is solved by bisection so that the mean of
    ``sigmoid(logit)`` over the generated rows is ``positive_rate``.

    Examples
    --------
    >>> from sklearn_recsys.datasets import make_interactions
    >>> data = make_interactions(n_users=100, n_items=50, n_interactions=2000, random_state=0)
    >>> data.interactions.shape
    (2000, 7)
    >>> list(data.interactions.columns)
    ['user_id', 'item_id', 'category', 'price', 'position', 'timestamp', 'purchase']
    >>> round(float(data.purchase_proba.mean()), 3)
    0.02

    The multi-behaviour event log and its 72 h conversion label:

    >>> log = make_interactions(n_interactions=20_000, multi_behavior=True, random_state=0)
    >>> list(log.interactions.columns)
    ['user_id', 'item_id', 'category_id', 'behavior_type', 'timestamp']
    >>> log.interactions.behavior_type.value_counts(normalize=True).round(2).to_dict()
    {'pv': 0.9, 'cart': 0.05, 'fav': 0.03, 'buy': 0.02}
    >>> X, y = make_interactions(n_interactions=20_000, multi_behavior=True, return_X_y=True,
    ...                          random_state=0)
    >>> y.name, len(X) == len(y)
    ('buy_within_72h', True)
    """
    for name, value in [
        ("n_users", n_users),
        ("n_items", n_items),
        ("n_interactions", n_interactions),
        ("n_categories", n_categories),
        ("n_factors", n_factors),
        ("n_positions", n_positions),
        ("n_days", n_days),
    ]:
        _check_positive_int(value, name)
    if n_categories > n_items:
        raise ValueError(f"n_categories={n_categories} must be <= n_items={n_items}.")
    if not (isinstance(positive_rate, (float, int)) and 0 < positive_rate < 1):
        raise ValueError(f"positive_rate must be in (0, 1); got {positive_rate!r}.")
    for name, value in [
        ("popularity_exponent", popularity_exponent),
        ("category_exponent", category_exponent),
        ("user_activity_sigma", user_activity_sigma),
        ("affinity_strength", affinity_strength),
        ("quality_strength", quality_strength),
        ("position_strength", position_strength),
        ("price_strength", price_strength),
    ]:
        _check_nonneg(value, name)
    if not isinstance(label, str) or label in {
        "user_id",
        "item_id",
        "category",
        "price",
        "position",
        "timestamp",
    }:
        raise ValueError(f"label must be a new column name (str); got {label!r}.")
    if not isinstance(multi_behavior, (bool, np.bool_)):
        raise ValueError(f"multi_behavior must be a bool; got {multi_behavior!r}.")
    rng = check_random_state(random_state)
    if multi_behavior:
        interactions, item_info, user_info = _multi_behavior_log(
            n_users,
            n_items,
            int(n_interactions),
            n_categories,
            n_factors,
            popularity_exponent,
            category_exponent,
            user_activity_sigma,
            affinity_strength,
            quality_strength,
            price_strength,
            n_days,
            start,
            rng,
        )
        if return_X_y:
            return label_conversion(interactions, target="buy", window="72h")
        return Bunch(
            interactions=interactions,
            item_info=item_info,
            user_info=user_info,
            target_name="buy",
            DESCR=_MULTI_DESCR,
        )
    n = int(n_interactions)
    params = {
        "n_users": n_users,
        "n_items": n_items,
        "n_categories": n_categories,
        "n_factors": n_factors,
        "category_exponent": category_exponent,
        "popularity_exponent": popularity_exponent,
        "user_activity_sigma": user_activity_sigma,
        "n_positions": n_positions,
        "n_days": n_days,
        "start": start,
        "affinity_strength": affinity_strength,
        "quality_strength": quality_strength,
        "position_strength": position_strength,
        "price_strength": price_strength,
    }
    model = _latent_model(rng, **params)
    # one generator for every quantity: users, then items, positions, timestamps for all rows
    rows = _draw_rows(model, Bunch(user=rng, item=rng, position=rng, time=rng), n, **params)
    logit = rows.logit
    sample = (
        logit if n <= _INTERCEPT_SAMPLE else logit[rng.choice(n, _INTERCEPT_SAMPLE, replace=False)]
    )
    logit += _solve_intercept(sample, positive_rate)
    proba = 1.0 / (1.0 + np.exp(-logit))
    y = (rng.random_sample(n) < proba).astype(np.int8)
    title = _titles(model.quality, model.item_cat, n_categories, rng)

    interactions = _rows_frame(model, rows, y, label)
    order = np.argsort(rows.timestamp, kind="stable")
    interactions = interactions.take(order).reset_index(drop=True)
    proba = proba[order]
    item_info, user_info = _side_tables(model, title)
    if return_X_y:
        return interactions.drop(columns=label), interactions[label]
    return Bunch(
        interactions=interactions,
        item_info=item_info,
        user_info=user_info,
        purchase_proba=proba,
        target_name=label,
        DESCR=_DESCR,
    )


# --------------------------------------------------------------------------------------------
# single-behaviour mode: the latent model, the rows and their frames (shared with
# write_interactions, which draws the rows chunk by chunk)
# --------------------------------------------------------------------------------------------

#: Rows the intercept of the label model is solved on (all rows up to this size).
_INTERCEPT_SAMPLE = 500_000
#: Rows of one (rows x factors) block of the affinity.
_EINSUM_ROWS = 1 << 20


def _latent_model(
    rng,
    *,
    n_users,
    n_items,
    n_categories,
    n_factors,
    category_exponent,
    popularity_exponent,
    user_activity_sigma,
    n_positions,
    n_days,
    start,
    **_,
):
    """Items, users and the per-row distributions, drawn from ``rng`` in the order of
    ``make_interactions`` (which draws every row quantity after them)."""
    cat_w = np.arange(1, n_categories + 1, dtype=float) ** -category_exponent
    cat_w /= cat_w.sum()
    item_cat = np.concatenate(
        [np.arange(n_categories), rng.choice(n_categories, n_items - n_categories, p=cat_w)]
    )
    rng.shuffle(item_cat)
    cat_names = [
        _CATEGORY_NOUNS[c % len(_CATEGORY_NOUNS)]
        + ("" if c < len(_CATEGORY_NOUNS) else f"_{c // len(_CATEGORY_NOUNS)}")
        for c in range(n_categories)
    ]
    centroids = rng.normal(size=(n_categories, n_factors))
    item_vec = (centroids[item_cat] + 0.7 * rng.normal(size=(n_items, n_factors))).astype(
        np.float32
    )
    user_vec = rng.normal(size=(n_users, n_factors)).astype(np.float32)
    quality = rng.normal(size=n_items)
    cat_price = rng.uniform(2.0, 5.5, size=n_categories)
    log_price_dev = 0.5 * rng.normal(size=n_items)
    price = np.round(np.exp(cat_price[item_cat] + log_price_dev), 2)
    item_p = _zipf_weights(n_items, popularity_exponent, rng)
    activity = rng.lognormal(0.0, user_activity_sigma, size=n_users)
    pos_w = 1.0 / np.arange(1, n_positions + 1)
    return Bunch(
        item_cat=item_cat,
        categories=pd.CategoricalDtype(cat_names),
        item_vec=item_vec,
        user_vec=user_vec,
        quality=quality,
        log_price_dev=log_price_dev,
        price=price,
        item_p=item_p,
        activity=activity,
        user_p=activity / activity.sum(),
        pos_w=pos_w / pos_w.sum(),
        t0=int(pd.Timestamp(start).timestamp()),
        span=n_days * 86400,
    )


def _draw_rows(
    m,
    cursors,
    size,
    *,
    n_factors,
    affinity_strength,
    quality_strength,
    position_strength,
    price_strength,
    **_,
):
    """The next ``size`` rows, each quantity from its cursor (``cursors.user``, ``.item``,
    ``.position``, ``.time``; one generator for all gives make_interactions' order), and their
    logits without the intercept."""
    users = cursors.user.choice(len(m.user_p), size=size, p=m.user_p)
    items = cursors.item.choice(len(m.item_p), size=size, p=m.item_p)
    position = (cursors.position.choice(len(m.pos_w), size=size, p=m.pos_w) + 1).astype(np.int16)
    timestamp = m.t0 + cursors.time.randint(0, m.span, size=size).astype(np.int64)
    affinity = np.empty(size, dtype=np.float32)
    for s in range(0, size, _EINSUM_ROWS):  # bounded memory: (rows x factors) by blocks
        e = min(s + _EINSUM_ROWS, size)
        np.einsum("ij,ij->i", m.user_vec[users[s:e]], m.item_vec[items[s:e]], out=affinity[s:e])
    affinity /= np.sqrt(np.float32(n_factors)) * 1.2247  # ~unit variance (|v|^2 ~ 1.49 d)
    logit = (
        affinity_strength * affinity
        + quality_strength * m.quality[items]
        - position_strength * np.log(position)
        - price_strength * (m.log_price_dev[items] / 0.5)
    )
    return Bunch(user=users, item=items, position=position, timestamp=timestamp, logit=logit)


def _rows_frame(m, rows, y, label):
    """The interaction columns of drawn rows, in drawing order."""
    return pd.DataFrame(
        {
            "user_id": rows.user.astype(np.int64),
            "item_id": rows.item.astype(np.int64),
            "category": pd.Categorical.from_codes(m.item_cat[rows.item], dtype=m.categories),
            "price": m.price[rows.item],
            "position": rows.position,
            "timestamp": rows.timestamp,
            label: y,
        }
    )


def _side_tables(m, title):
    """``item_info`` and ``user_info`` of the latent model."""
    item_info = pd.DataFrame(
        {
            "title": title.to_numpy(),
            "category": pd.Categorical.from_codes(m.item_cat, dtype=m.categories),
            "price": m.price,
            "quality": m.quality,
        },
        index=pd.Index(np.arange(len(m.quality), dtype=np.int64), name="item_id"),
    )
    user_info = pd.DataFrame(
        {"activity": m.activity},
        index=pd.Index(np.arange(len(m.activity), dtype=np.int64), name="user_id"),
    )
    return item_info, user_info


# --------------------------------------------------------------------------------------------
# multi-behaviour mode: a Taobao-like event log (pv / cart / fav / buy) built from sessions
# --------------------------------------------------------------------------------------------

#: share of each action among all events (Taobao: pv ~ 89.5 %, cart ~ 5.5 %, fav ~ 2.9 %,
#: buy ~ 2.0 %); the page views are the rest.
_ACTION_SHARES = {"cart": 0.055, "fav": 0.029, "buy": 0.020}
_PV_SHARE = 1.0 - sum(_ACTION_SHARES.values())
_SESSION_GAP = 1860  # minimum gap between two sessions of a user (seconds): more than 30 min
_VIEWS_PER_SESSION = 5.5  # mean page views per session
_REVISIT = 0.2  # probability that a page view returns to an item the user viewed before
_BUY_SAME_SESSION = 0.6  # share of buys in the session of the view that led to them
_DIRECT_BUY = 0.35  # share of first-time buys whose view is not logged
_CHUNK = 1 << 20

_MULTI_DESCR = """\
Synthetic multi-behaviour event log (make_interactions(multi_behavior=True))
============================================================================

One row per event, in the layout of the Taobao user behaviour log: ``user_id``, ``item_id``,
``category_id``, ``behavior_type`` (pv / cart / fav / buy) and ``timestamp`` (Unix seconds),
sorted by time. The generating model, vectorised and driven by one ``random_state``:

- items: a category (Zipf-sized categories, exponent ``category_exponent``), a taste vector
  ``v`` (the category's centroid plus noise), a quality ``q ~ N(0, 1)``, a log-normal price, a
  title, and a popularity weight ``rank ** -popularity_exponent``; a category's popularity is the
  sum of its items' weights;
- users: a taste vector ``u ~ N(0, I)``, a log-normal activity (sigma ``user_activity_sigma``)
  that sets their share of the page views, and a buying propensity ``b ~ N(0, 0.6^2)``;
- sessions: a user's number of sessions follows their activity; a session holds a geometric
  number of page views (mean 5.5; longer for the few users whose sessions would not fit in the
  span otherwise); the sessions are spread at random over ``n_days`` with more than 30 minutes
  between two sessions of a user; inside a session the gaps between events are log-normal
  (median 60 s, at most 25 min);
- browsing: a session visits 1-4 categories in turn; each is the best of four categories drawn
  by popularity, scored by 1.5 times the user's taste for the category's centroid plus Gumbel
  noise;
- page views: with probability 0.2 a view returns to an item the user viewed before (the best
  by affinity of three recent ones); otherwise it takes, in the session's current category, the
  best by ``affinity_strength * a`` plus Gumbel noise of four items drawn by popularity inside
  the category (``a`` is the standardised affinity ``u . v``); where the user has already seen
  that item, it is redrawn (up to three times) as the better by affinity of two items of the
  category drawn uniformly (novelty reaches into the long tail);
- actions: each view may lead to cart, fav and buy with
  ``logit P(cart) = c + 0.8 s + 0.7 log(1 + n) + 0.5 b``,
  ``logit P(fav) = f + 0.8 s + 0.5 log(1 + n)`` and
  ``logit P(buy) = d + s + 1.5 log(1 + n) + b + [cart]``, where
  ``s = affinity_strength * a + quality_strength * q - price_strength * z_price`` and ``n`` is
  the number of the user's earlier views of the item; only the first cart, fav and buy of a
  (user, item) pair is kept; the intercepts ``c, f, d`` are solved by bisection so that the
  behaviour mix is near Taobao's (pv 89.6 %, cart 5.5 %, fav 2.9 %, buy 2.0 %);
- direct buys: for 35 % of the buys that come from a first view of the item, the view is not
  logged (the item was bought from the cart page, a search result, or was known before);
- timing: cart and fav follow their view by seconds; a buy comes 60 % of the time in the same
  session (seconds to an hour later), otherwise in one of the user's next sessions within a week
  or, failing one, hours to days later (log-normal, median 6 h). Events after the end of the log
  are lost (censored), as in a real extract;
- ``n_interactions`` events are kept exactly: whole sessions (with all the events their views
  led to) are dropped at random from a slightly larger draw, and the last one kept is cut in time
  order.

The parameters ``positive_rate``, ``position_strength``, ``n_positions`` and ``label`` of the
single-behaviour mode are not used. ``return_X_y=True`` gives ``label_conversion(interactions)``:
the non-buy events and whether the user buys the item within 72 h.
"""


def _dots(left, left_idx, right, right_idx):
    """``out[r, k] = left[left_idx[r]] . right[right_idx[r, k]]`` in float32, by chunks."""
    out = np.empty(right_idx.shape, dtype=np.float32)
    step = max(1, _CHUNK // right_idx.shape[1])
    for s in range(0, len(left_idx), step):
        e = min(s + step, len(left_idx))
        np.einsum("rkf,rf->rk", right[right_idx[s:e]], left[left_idx[s:e]], out=out[s:e])
    return out


def _group_starts(sorted_groups, n_groups):
    """Index of the first row of each group in an array sorted by group (n_groups + 1 bounds)."""
    return np.searchsorted(sorted_groups, np.arange(n_groups + 1))


def _draw_within(groups, weights_sorted, bounds, rng):
    """For each entry of ``groups``, a row index inside its group, drawn by ``weights_sorted``.

    ``weights_sorted`` are the (positive) weights of rows sorted by group, ``bounds`` their group
    bounds; every group drawn from is non-empty. The table holds ``group + cumulative share``,
    exactly ``group + 1`` at a group's last row, so ``group + U[0, 1)`` lands inside its group.
    """
    n_groups = len(bounds) - 1
    sizes = np.diff(bounds)
    row_group = np.repeat(np.arange(n_groups), sizes)
    cum = np.cumsum(weights_sorted)
    base = np.concatenate([[0.0], cum])[bounds[:-1]]
    total = cum[bounds[1:] - 1] - base if len(cum) else base
    within = (cum - base[row_group]) / total[row_group]
    within[bounds[1:][sizes > 0] - 1] = 1.0
    table = row_group + within
    return np.searchsorted(table, groups + rng.random(groups.shape), side="right")


def _multi_behavior_log(
    n_users,
    n_items,
    n_events,
    n_categories,
    n_factors,
    popularity_exponent,
    category_exponent,
    user_activity_sigma,
    affinity_strength,
    quality_strength,
    price_strength,
    n_days,
    start,
    rng,
):
    span = n_days * 86400
    title_rng, rng = rng, np.random.default_rng(rng.randint(0, 2**31 - 1, size=4))
    # items and categories
    cat_w = np.arange(1, n_categories + 1, dtype=float) ** -category_exponent
    cat_w /= cat_w.sum()
    item_cat = np.concatenate(
        [np.arange(n_categories), rng.choice(n_categories, n_items - n_categories, p=cat_w)]
    )
    rng.shuffle(item_cat)
    centroids = rng.normal(size=(n_categories, n_factors)).astype(np.float32)
    item_vec = (centroids[item_cat] + 0.7 * rng.normal(size=(n_items, n_factors))).astype(
        np.float32
    )
    quality = rng.normal(size=n_items)
    cat_price = rng.uniform(2.0, 5.5, size=n_categories)
    log_price_dev = 0.5 * rng.normal(size=n_items)
    price = np.round(np.exp(cat_price[item_cat] + log_price_dev), 2)
    item_w = _zipf_weights(n_items, popularity_exponent, rng)
    cat_pop = np.bincount(item_cat, weights=item_w, minlength=n_categories)
    by_cat = np.argsort(item_cat, kind="stable")
    cat_bounds = _group_starts(item_cat[by_cat], n_categories)
    appeal_item = quality_strength * quality - price_strength * (log_price_dev / 0.5)
    # users
    user_vec = rng.normal(size=(n_users, n_factors)).astype(np.float32)
    activity = rng.lognormal(0.0, user_activity_sigma, size=n_users)
    propensity = rng.normal(0.0, 0.6, size=n_users)
    title = _titles(quality, item_cat, n_categories, title_rng)
    scale = np.float32(1.0 / (np.sqrt(n_factors) * 1.2247))  # ~unit variance of u . v

    per_view = 1.0 + sum(_ACTION_SHARES.values()) / _PV_SHARE
    n_views = int(np.ceil(n_events * 1.03 / per_view)) + 20
    while True:  # at most a few rounds: the draw is ~3 % larger than needed
        log = _draw_log(
            n_views,
            span,
            user_vec,
            activity,
            propensity,
            item_vec,
            item_cat,
            item_w,
            centroids,
            cat_pop,
            by_cat,
            cat_bounds,
            appeal_item,
            affinity_strength,
            scale,
            rng,
        )
        if len(log["time"]) >= n_events:
            break
        n_views = int(n_views * 1.1) + 20
    keep = _keep_sessions(log["session"], log["time"], log["n_sessions"], n_events, rng)
    order = keep[np.argsort(log["time"][keep], kind="stable")]
    t0 = int(pd.Timestamp(start).timestamp())
    interactions = pd.DataFrame(
        {
            "user_id": log["user"][order].astype(np.int32),
            "item_id": log["item"][order].astype(np.int32),
            "category_id": item_cat[log["item"][order]].astype(np.int32),
            "behavior_type": pd.Categorical.from_codes(log["code"][order], dtype=BEHAVIOR_TYPES),
            "timestamp": t0 + log["time"][order],
        }
    )
    item_info = pd.DataFrame(
        {
            "title": title.to_numpy(),
            "category_id": item_cat.astype(np.int32),
            "price": price,
            "quality": quality,
        },
        index=pd.Index(np.arange(n_items, dtype=np.int32), name="item_id"),
    )
    user_info = pd.DataFrame(
        {"activity": activity, "buy_propensity": propensity},
        index=pd.Index(np.arange(n_users, dtype=np.int32), name="user_id"),
    )
    return interactions, item_info, user_info


def _draw_log(
    n_views,
    span,
    user_vec,
    activity,
    propensity,
    item_vec,
    item_cat,
    item_w,
    centroids,
    cat_pop,
    by_cat,
    cat_bounds,
    appeal_item,
    affinity_strength,
    scale,
    rng,
):
    n_users, n_categories = len(user_vec), len(centroids)
    # --- sessions: sessions per user by activity, geometric numbers of views per session; a
    # user beyond the most sessions that fit in the span gets longer sessions instead
    wanted = rng.multinomial(int(np.ceil(n_views / _VIEWS_PER_SESSION)), activity / activity.sum())
    max_sessions = int(0.5 * span / _SESSION_GAP) + 1
    n_sess_user = np.minimum(wanted, max_sessions)
    mean_size = _VIEWS_PER_SESSION * wanted / np.maximum(n_sess_user, 1)
    sess_user = np.repeat(np.arange(n_users), n_sess_user)
    n_sess = len(sess_user)
    sizes = rng.geometric(1.0 / mean_size[sess_user])
    view_sess = np.repeat(np.arange(n_sess), sizes)
    n_views = len(view_sess)
    sess_first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    pos = np.arange(n_views) - sess_first[view_sess]
    # --- times: log-normal gaps inside a session, sessions spread over the span per user
    gap = np.clip(np.rint(rng.lognormal(np.log(60.0), 1.2, size=n_views)), 1, 1500)
    gap[pos == 0] = 0
    offset = np.cumsum(gap)
    offset -= offset[sess_first][view_sess]
    duration = offset[sess_first + sizes - 1]
    sess_count = np.bincount(sess_user, minlength=n_users)
    busy = np.bincount(sess_user, weights=duration, minlength=n_users)
    room = 0.95 * span - np.maximum(sess_count - 1, 0) * _SESSION_GAP
    shrink = np.where(busy > room, room / np.maximum(busy, 1), 1.0)  # only very heavy users
    offset = np.floor(offset * shrink[sess_user][view_sess])
    duration = offset[sess_first + sizes - 1]
    busy = np.bincount(sess_user, weights=duration, minlength=n_users)
    free = np.maximum(span - 1 - busy - np.maximum(sess_count - 1, 0) * _SESSION_GAP, 0)
    rank_in_user = np.arange(n_sess) - _group_starts(sess_user, n_users)[sess_user]
    spread = np.sort(sess_user + rng.random(n_sess)) - sess_user  # sorted per user
    before = np.cumsum(duration) - duration
    before -= before[_group_starts(sess_user, n_users)[sess_user]]
    sess_start = (np.floor(spread * free[sess_user]) + before + rank_in_user * _SESSION_GAP).astype(
        np.int64
    )
    view_time = sess_start[view_sess] + offset.astype(np.int64)
    # --- categories browsed by each session (1-4 in turn), chosen by taste among 4 candidates
    n_slots = 1 + np.minimum(rng.poisson(0.6, size=n_sess), 3)
    slot_sess = np.repeat(np.arange(n_sess), n_slots)
    cand = rng.choice(n_categories, size=(len(slot_sess), 4), p=cat_pop / cat_pop.sum())
    taste = _dots(user_vec, sess_user[slot_sess], centroids, cand)
    taste /= np.float32(np.sqrt(centroids.shape[1]))
    best = np.argmax(1.5 * taste + _gumbel(rng, cand.shape), axis=1)
    slot_cat = cand[np.arange(len(cand)), best]
    slot_first = np.concatenate([[0], np.cumsum(n_slots)[:-1]])
    view_slot = slot_first[view_sess] + (pos * n_slots[view_sess]) // sizes[view_sess]
    view_cat = slot_cat[view_slot]
    # --- fresh page views: the best by affinity of 4 popular items of the category, redrawn
    # (a few rounds) where the user has already seen the item: novelty, as in a real catalogue
    users = sess_user[view_sess]
    items = np.empty(n_views, dtype=np.int64)
    aff = np.empty(n_views, dtype=np.float32)
    w_sorted = item_w[by_cat]
    for s in range(0, n_views, _CHUNK):
        r = np.arange(s, min(s + _CHUNK, n_views))
        cand = by_cat[_draw_within(np.repeat(view_cat[r], 4), w_sorted, cat_bounds, rng)]
        items[r], aff[r] = _best_by_affinity(
            users[r], cand.reshape(-1, 4), user_vec, item_vec, affinity_strength, scale, rng
        )
    n_seen = n_views
    for _ in range(3):  # novelty: seen items are redrawn among 2 items of the category at random
        r = np.flatnonzero(pd.Series(users * len(item_vec) + items).duplicated().to_numpy())
        if len(r) > 0.9 * n_seen:  # users have seen most of their categories: no use redrawing
            break
        n_seen = len(r)
        lo, size = cat_bounds[view_cat[r]], np.diff(cat_bounds)[view_cat[r]]
        cand = by_cat[
            lo[:, None] + np.floor(rng.random((len(r), 2)) * size[:, None]).astype(np.int64)
        ]
        items[r], aff[r] = _best_by_affinity(
            users[r], cand, user_vec, item_vec, affinity_strength, scale, rng
        )
    # --- re-views: an item the user viewed before (recent ones, the best by affinity of 3)
    user_first = _group_starts(users, n_users)
    revisit = rng.random(n_views) < _REVISIT
    revisit[user_first[:-1][np.diff(user_first) > 0]] = False
    fresh = ~revisit
    fresh_at = np.flatnonzero(fresh)
    fresh_cum = np.cumsum(fresh)
    fresh_base = np.concatenate([[0], fresh_cum])[user_first[:-1]]  # fresh views before user
    rv = np.flatnonzero(revisit)
    n_before = fresh_cum[rv] - fresh_base[users[rv]]  # >= 1: a user's first view is fresh
    back = np.minimum(rng.geometric(0.2, size=(len(rv), 3)), n_before[:, None])
    src = fresh_at[fresh_base[users[rv]][:, None] + n_before[:, None] - back]
    best = np.argmax(affinity_strength * aff[src] + _gumbel(rng, src.shape), axis=1)
    src = src[np.arange(len(rv)), best]
    items[rv], aff[rv] = items[src], aff[src]
    # --- earlier views of the same item by the user (views are in (user, time) order)
    pair = users * len(item_vec) + items
    by_pair = np.argsort(pair, kind="stable")
    sorted_pair = pair[by_pair]
    starts = np.flatnonzero(np.r_[True, sorted_pair[1:] != sorted_pair[:-1]])
    run = np.diff(np.r_[starts, n_views])
    n_prev = np.empty(n_views, dtype=np.int64)
    n_prev[by_pair] = np.arange(n_views) - np.repeat(starts, run)
    # --- actions
    appeal = affinity_strength * aff + appeal_item[items]
    history = np.log1p(n_prev)
    b = propensity[users]
    rate = {k: v / _PV_SHARE for k, v in _ACTION_SHARES.items()}
    pair_code = pd.factorize(pair)[0]
    sub = _pair_sample(pair_code, rng)
    cart = _first_action(0.8 * appeal + 0.7 * history + 0.5 * b, rate["cart"], pair_code, sub, rng)
    fav = _first_action(0.8 * appeal + 0.5 * history, rate["fav"], pair_code, sub, rng)
    buy = _first_action(appeal + 1.5 * history + b + cart, rate["buy"], pair_code, sub, rng)
    # direct buys: some items are bought without a logged view (from the cart page, a search
    # result, a known item): the view that led to a first-time buy is hidden
    hidden = buy & (n_prev == 0) & (rng.random(n_views) < _DIRECT_BUY)
    # --- action times
    ic, i_f, ib = np.flatnonzero(cart), np.flatnonzero(fav), np.flatnonzero(buy)
    cart_t = view_time[ic] + np.clip(np.rint(rng.lognormal(np.log(15), 0.8, len(ic))), 1, 600)
    fav_t = view_time[i_f] + np.clip(np.rint(rng.lognormal(np.log(10), 0.8, len(i_f))), 1, 600)
    buy_t = view_time[ib] + np.clip(np.rint(rng.lognormal(np.log(90), 1.0, len(ib))), 1, 3600)
    later = rng.random(len(ib)) >= _BUY_SAME_SESSION
    nxt = view_sess[ib] + rng.geometric(0.5, size=len(ib))
    nxt_ok = np.minimum(nxt, n_sess - 1)
    in_next = (
        later
        & (nxt < n_sess)
        & (sess_user[nxt_ok] == users[ib])
        & (sess_start[nxt_ok] - view_time[ib] <= 7 * 86400)
    )
    next_t = sess_start[nxt_ok] + np.floor(
        rng.random(len(ib)) * (offset[sess_first[nxt_ok] + sizes[nxt_ok] - 1] + 1)
    )
    hours = np.clip(np.rint(rng.lognormal(np.log(6 * 3600), 1.0, len(ib))), 60, 7 * 86400)
    buy_t = np.where(in_next, next_t, np.where(later, view_time[ib] + hours, buy_t))
    # --- the event arrays; events after the end of the log are lost
    shown = np.flatnonzero(~hidden)
    src_view = np.concatenate([shown, ic, i_f, ib])
    code = np.concatenate(
        [
            np.zeros(len(shown), np.int8),
            np.full(len(ic), 1, np.int8),
            np.full(len(i_f), 2, np.int8),
            np.full(len(ib), 3, np.int8),
        ]
    )
    time = np.concatenate([view_time[shown], cart_t, fav_t, buy_t]).astype(np.int64)
    inside = time < span
    src_view, code, time = src_view[inside], code[inside], time[inside]
    return {
        "user": users[src_view],
        "item": items[src_view],
        "code": code,
        "time": time,
        "session": view_sess[src_view],
        "n_sessions": n_sess,
    }


def _best_by_affinity(users, cand, user_vec, item_vec, strength, scale, rng):
    """Per row, the candidate with the largest ``strength * affinity + Gumbel noise``."""
    a = _dots(user_vec, users, item_vec, cand)
    a *= scale
    best = np.argmax(strength * a + _gumbel(rng, cand.shape), axis=1)
    rows = np.arange(len(cand))
    return cand[rows, best], a[rows, best]


def _gumbel(rng, shape):
    """Standard Gumbel noise in float32: ``-log(E)`` with ``E ~ Exp(1)`` (ziggurat, fast)."""
    noise = rng.standard_exponential(shape, dtype=np.float32)
    np.log(np.maximum(noise, np.float32(1e-30), out=noise), out=noise)
    return np.negative(noise, out=noise)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _pair_sample(pair, rng, size=250_000):
    """A sample of (user, item) pairs for the rate solver: the heaviest pairs (about ``size``
    views) all, the others at random (about ``size`` views) with weight 1 / (their share).

    Returns the rows of the sampled views, their pair codes in the sample, and the weight of each
    sampled pair; ``sum(weight * x_pair)`` estimates the sum of ``x`` over all pairs without bias.
    """
    sizes = np.bincount(pair)
    heavy = np.zeros(len(sizes), dtype=bool)
    by_size = np.argsort(-sizes, kind="stable")
    heavy[by_size[: int(np.searchsorted(np.cumsum(sizes[by_size]), size, side="right"))]] = True
    share = min(1.0, size / max(len(pair) - int(sizes[heavy].sum()), 1))
    chosen = heavy | (rng.random(len(sizes)) < share)
    rows = np.flatnonzero(chosen[pair])
    codes, uniques = pd.factorize(pair[rows])
    return rows, codes, np.where(heavy[uniques], 1.0, 1.0 / share)


def _first_action(logit, rate, pair, sample, rng):
    """Bernoulli draws per view, only the first success of each (user, item) pair kept.

    The intercept is solved by bisection so that the expected number of pairs with a success,
    ``sum_pairs 1 - prod_views (1 - p)``, is ``rate`` per view (estimated on ``sample``).
    """
    rows, codes, weight = sample
    lg, target = logit[rows], rate * len(logit)
    lo, hi = -40.0, 10.0
    for _ in range(26):
        mid = 0.5 * (lo + hi)
        log_none = np.bincount(codes, weights=-np.logaddexp(0.0, lg + mid))  # log(1 - p)
        if np.dot(weight, -np.expm1(log_none)) > target:
            hi = mid
        else:
            lo = mid
    hit = np.flatnonzero(rng.random(len(logit)) < _sigmoid(logit + 0.5 * (lo + hi)))
    first = hit[np.unique(pair[hit], return_index=True)[1]]  # views are in time order per user
    out = np.zeros(len(logit), dtype=bool)
    out[first] = True
    return out


def _keep_sessions(session, time, n_sessions, n_events, rng):
    """Indices of exactly ``n_events`` events: whole sessions in random order, the last cut."""
    counts = np.bincount(session, minlength=n_sessions)
    perm = rng.permutation(n_sessions)
    cum = np.cumsum(counts[perm])
    n_full = int(np.searchsorted(cum, n_events, side="right"))
    rank = np.empty(n_sessions, dtype=np.int64)
    rank[perm] = np.arange(n_sessions)
    keep = rank[session] < n_full
    left = n_events - int(keep.sum())
    if left:
        part = np.flatnonzero(rank[session] == n_full)
        keep[part[np.argsort(time[part], kind="stable")[:left]]] = True
    return np.flatnonzero(keep)
