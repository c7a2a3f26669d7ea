"""Synthetic e-commerce interaction log: the embedded default data set."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils import Bunch, check_random_state

__all__ = ["make_interactions"]

_CATEGORY_NOUNS = [
    "phone", "laptop", "sneaker", "dress", "novel", "blender", "headphones", "watch",
    "backpack", "lipstick", "toy", "sofa", "lamp", "camera", "jacket", "perfume", "tent",
    "guitar", "mug", "monitor", "keyboard", "scarf", "vase", "drill", "bicycle", "puzzle",
    "printer", "helmet", "kettle", "wallet",
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
    return_X_y : bool, default=False
        If True, return ``(X, y)``: the interactions without the label, and the label.
    random_state : int, RandomState instance or None, default=None
        Seed of every random draw: the same seed gives the same data.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``interactions`` (DataFrame: ``user_id``, ``item_id``, ``category`` (category dtype),
        ``price``, ``position``, ``timestamp`` and the label column), ``item_info`` (indexed by
        ``item_id``: ``title``, ``category``, ``price``, ``quality``), ``user_info`` (indexed by
        ``user_id``: ``activity``), ``purchase_proba`` (true label probability of each row),
        ``target_name`` and ``DESCR``.
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
    """
    for name, value in [("n_users", n_users), ("n_items", n_items),
                        ("n_interactions", n_interactions), ("n_categories", n_categories),
                        ("n_factors", n_factors), ("n_positions", n_positions),
                        ("n_days", n_days)]:
        _check_positive_int(value, name)
    if n_categories > n_items:
        raise ValueError(f"n_categories={n_categories} must be <= n_items={n_items}.")
    if not (isinstance(positive_rate, (float, int)) and 0 < positive_rate < 1):
        raise ValueError(f"positive_rate must be in (0, 1); got {positive_rate!r}.")
    for name, value in [("popularity_exponent", popularity_exponent),
                        ("category_exponent", category_exponent),
                        ("user_activity_sigma", user_activity_sigma),
                        ("affinity_strength", affinity_strength),
                        ("quality_strength", quality_strength),
                        ("position_strength", position_strength),
                        ("price_strength", price_strength)]:
        _check_nonneg(value, name)
    if not isinstance(label, str) or label in {"user_id", "item_id", "category", "price",
                                                  "position", "timestamp"}:
        raise ValueError(f"label must be a new column name (str); got {label!r}.")
    rng = check_random_state(random_state)
    n = int(n_interactions)

    # categories: one item each first, then Zipf-sized
    cat_w = np.arange(1, n_categories + 1, dtype=float) ** -category_exponent
    cat_w /= cat_w.sum()
    item_cat = np.concatenate(
        [np.arange(n_categories), rng.choice(n_categories, n_items - n_categories, p=cat_w)]
    )
    rng.shuffle(item_cat)
    cat_names = np.array([
        _CATEGORY_NOUNS[c % len(_CATEGORY_NOUNS)]
        + ("" if c < len(_CATEGORY_NOUNS) else f"_{c // len(_CATEGORY_NOUNS)}")
        for c in range(n_categories)
    ])

    # latent model
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
    user_p = activity / activity.sum()
    pos_w = 1.0 / np.arange(1, n_positions + 1)
    pos_w /= pos_w.sum()

    users = rng.choice(n_users, size=n, p=user_p)
    items = rng.choice(n_items, size=n, p=item_p)
    position = (rng.choice(n_positions, size=n, p=pos_w) + 1).astype(np.int16)
    t0 = int(pd.Timestamp(start).timestamp())
    timestamp = t0 + rng.randint(0, n_days * 86400, size=n).astype(np.int64)

    affinity = np.empty(n, dtype=np.float32)
    chunk = 1 << 20
    for s in range(0, n, chunk):  # bounded memory: one chunk of (rows x factors) at a time
        e = min(s + chunk, n)
        np.einsum("ij,ij->i", user_vec[users[s:e]], item_vec[items[s:e]], out=affinity[s:e])
    affinity /= np.sqrt(np.float32(n_factors)) * 1.2247  # ~unit variance (|v|^2 ~ 1.49 d)
    logit = (
        affinity_strength * affinity
        + quality_strength * quality[items]
        - position_strength * np.log(position)
        - price_strength * (log_price_dev[items] / 0.5)
    )
    sub = logit if n <= 500_000 else logit[rng.choice(n, 500_000, replace=False)]
    logit += _solve_intercept(sub, positive_rate)
    proba = 1.0 / (1.0 + np.exp(-logit))
    y = (rng.random_sample(n) < proba).astype(np.int8)

    # titles: the quality word follows the item's quality tercile 70 % of the time
    tercile = 2 - np.digitize(quality, np.quantile(quality, [1 / 3, 2 / 3]))  # 0 = high
    noisy = rng.random_sample(n_items) < 0.3
    tercile = np.where(noisy, rng.randint(0, 3, n_items), tercile)
    qword = np.array(_QUALITY_WORDS)[tercile, rng.randint(0, 4, n_items)]
    color = np.array(_COLORS)[rng.randint(0, len(_COLORS), n_items)]
    nouns = np.array([_CATEGORY_NOUNS[c % len(_CATEGORY_NOUNS)] for c in range(n_categories)])
    title = pd.Series(qword).str.cat([pd.Series(color), pd.Series(nouns[item_cat])], sep=" ")

    categories = pd.CategoricalDtype(cat_names)
    interactions = pd.DataFrame({
        "user_id": users.astype(np.int64),
        "item_id": items.astype(np.int64),
        "category": pd.Categorical.from_codes(item_cat[items], dtype=categories),
        "price": price[items],
        "position": position,
        "timestamp": timestamp,
        label: y,
    })
    order = np.argsort(timestamp, kind="stable")
    interactions = interactions.take(order).reset_index(drop=True)
    proba = proba[order]

    item_info = pd.DataFrame(
        {
            "title": title.to_numpy(),
            "category": pd.Categorical.from_codes(item_cat, dtype=categories),
            "price": price,
            "quality": quality,
        },
        index=pd.Index(np.arange(n_items, dtype=np.int64), name="item_id"),
    )
    user_info = pd.DataFrame(
        {"activity": activity}, index=pd.Index(np.arange(n_users, dtype=np.int64), name="user_id")
    )
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
