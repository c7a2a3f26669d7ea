"""The serving fast path: score request columns through the fitted featurizer's arrays.

``InteractionFeaturizer.transform`` validates a DataFrame, indexes ids, runs the target encoder
and assembles the output; on a request of one row that costs milliseconds, most of it pandas
overhead. :class:`PipelineScorer` reads the fitted state once (indexers, counts, target-rate
tables, latent factors, side tables) and computes the same matrix from plain column arrays, then
calls the LightGBM booster directly. The result is identical to ``pipeline.predict_proba``
(tested). Pipelines it does not know (another first step, a multiclass target, more than one
step after the featurizer) are scored by ``predict_proba`` on one DataFrame per request.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["PipelineScorer"]


def _lookup_table(categories, encodings, size, prior):
    """code -> target rate, for codes 0 .. size - 1 (unseen codes get the prior)."""
    table = np.full(
        max(size, int(categories.max()) + 1 if len(categories) else 0), prior, dtype=float
    )
    table[categories.astype(np.int64)] = encodings
    return table


class PipelineScorer:
    """Positive-class scores of request columns, through the fast path when possible.

    Parameters
    ----------
    estimator : fitted estimator
        A pipeline ``InteractionFeaturizer -> classifier`` gets the fast path.
    manifest : dict or None, default=None
        The manifest of :func:`save_pipeline` (column defaults for :meth:`recommend`).

    Attributes
    ----------
    fast : bool
        Whether the featurizer's arrays are used (else one DataFrame per request).
    required_columns : list of str
        Columns every scored row must have.
    catalogue : ndarray
        The known items (what ``/recommend`` ranks without candidates).
    """

    def __init__(self, estimator, manifest=None):
        from ..features import InteractionFeaturizer

        self.estimator = estimator
        self.manifest = manifest or {}
        steps = getattr(estimator, "steps", None) or []
        feat = steps[0][1] if steps else None
        self.featurizer = feat if isinstance(feat, InteractionFeaturizer) else None
        self.final = steps[-1][1] if steps else estimator
        enc = getattr(self.featurizer, "target_encoder_", None)
        self.fast = (
            self.featurizer is not None
            and len(steps) == 2
            and (enc is None or enc.target_type_ in ("binary", "continuous"))
        )
        names = getattr(estimator, "feature_names_in_", None)
        self.input_columns = [] if names is None else [str(c) for c in names]
        self.user_col = self.manifest.get("user_col", "user_id")
        self.item_col = self.manifest.get("item_col", "item_id")
        if self.featurizer is not None:
            self.user_col, self.item_col = self.featurizer.user_col, self.featurizer.item_col
        self.defaults = dict(self.manifest.get("column_defaults") or {})
        if self.fast:
            self._prepare()
            f = self.featurizer
            self.required_columns = [
                f.user_col,
                f.item_col,
                *map(str, f.passthrough_cols_),
                *map(str, f.categorical_cols_),
            ]
            self.catalogue = f.item_indexer_.ids_.to_numpy()
        else:
            time_col = self.manifest.get("time_col")
            self.required_columns = [c for c in self.input_columns if c != time_col]
            if self.featurizer is not None:
                self.catalogue = self.featurizer.item_indexer_.ids_.to_numpy()
            else:
                self.catalogue = np.asarray(
                    (self.manifest.get("reference_profile") or {}).get("item_ids", []), dtype=object
                )
        self.optional_columns = [c for c in self.input_columns if c not in self.required_columns]

    # ---------------------------------------------------------------------------- set-up
    def _prepare(self):
        f = self.featurizer
        self._users = f.user_indexer_.ids_
        self._items = f.item_indexer_.ids_
        self._levels = list(f.category_levels_) if f.target_encoder_ is not None else []
        self._tables = None
        enc = f.target_encoder_
        if enc is not None:
            prior = float(enc.target_mean_)
            sizes = [
                f.user_indexer_.n_indices_,
                f.item_indexer_.n_indices_,
                *(len(lv) + 1 for lv in self._levels),
            ]
            self._tables = [
                _lookup_table(c, e, s, prior)
                for c, e, s in zip(enc.categories_, enc.encodings_, sizes)
            ]
        self._side = [
            (f.item_col if p == "item_info" else f.user_col, idx, values)
            for p, (idx, values, _) in f.side_.items()
        ]
        self._booster = None
        final = self.final
        booster = getattr(final, "booster_", None) if hasattr(final, "_Booster") else None
        if (
            booster is not None
            and getattr(final, "objective_", None) == "binary"
            and not callable(getattr(final, "objective", None))
            and type(final).predict_proba is _lgbm_predict_proba()
        ):
            self._booster = booster
        self._names = list(f.feature_names_out_)

    # ---------------------------------------------------------------------------- features
    def _matrix(self, cols, u, i):
        """The featurizer's numeric block (without id columns) for index arrays u, i."""
        f = self.featurizer
        n = len(u)
        blocks = []
        if f.passthrough_cols_:
            pt = np.column_stack([np.asarray(cols[c], dtype=float) for c in f.passthrough_cols_])
            if not np.isfinite(pt).all():
                j = int(np.flatnonzero(~np.isfinite(pt).all(axis=0))[0])
                raise ValueError(f"column {f.passthrough_cols_[j]!r} holds NaN or inf.")
            blocks.append(pt)
        if getattr(f, "popularity", True):
            ic, uc = f.item_counts_[i], f.user_counts_[u]
            blocks += [ic, np.log1p(ic), f.item_pop_pct_[i], f.item_is_head_[i], uc, np.log1p(uc)]
        if self._tables is not None:
            codes = [u, i] + [
                lv.get_indexer(np.asarray(cols[c], dtype=object)) + 1
                for c, lv in zip(f.categorical_cols_, self._levels)
            ]
            blocks.append(np.column_stack([t[c] for t, c in zip(self._tables, codes)]))
        if f.svd_ is not None:
            uf, itf = f._user_factors[u], f._item_factors[i]
            blocks += [uf, itf, np.einsum("ij,ij->i", uf, itf)]
        for col, idx, values in self._side:
            pos = idx.get_indexer(np.asarray(cols[col]))
            blocks.append(values[np.where(pos < 0, len(values) - 1, pos)])
        widths = [1 if b.ndim == 1 else b.shape[1] for b in blocks]
        out = np.empty((n, sum(widths)))
        start = 0
        for block, width in zip(blocks, widths):
            out[:, start : start + width] = block.reshape(n, width)
            start += width
        return out

    def _predict(self, cols, u, i):
        f = self.featurizer
        numeric = self._matrix(cols, u, i)
        if self._booster is not None:
            return self._booster.predict(numeric, num_threads=1)
        if f.keep_id_columns:
            frame = pd.DataFrame(numeric, columns=self._names[2:])
            frame.insert(0, f.item_col, np.asarray(cols[f.item_col]))
            frame.insert(0, f.user_col, np.asarray(cols[f.user_col]))
        else:
            frame = pd.DataFrame(numeric, columns=self._names)
        return self.final.predict_proba(frame)[:, 1]

    # ---------------------------------------------------------------------------- public
    def score(self, cols):
        """Scores of the rows given as ``{column: list of values}`` (one list per column)."""
        if not self.fast:
            frame = pd.DataFrame({c: cols[c] for c in self.input_columns if c in cols})
            for c in self.optional_columns:
                if c not in frame:
                    frame[c] = self.defaults.get(c, 0)
            return self.estimator.predict_proba(frame[self.input_columns])[:, 1]
        u = self._users.get_indexer(np.asarray(cols[self.user_col])) + 1
        i = self._items.get_indexer(np.asarray(cols[self.item_col])) + 1
        return self._predict(cols, u, i)

    def is_known_user(self, user):
        if self.featurizer is None:
            return None
        return bool(self.featurizer.user_indexer_.ids_.get_indexer([user])[0] >= 0)

    def recommend(self, user, k, candidates=None, context=None):
        """Top-``k`` items and scores for ``user`` among ``candidates`` (default: catalogue)."""
        items = self.catalogue if candidates is None else np.asarray(candidates)
        n = len(items)
        cols = {self.user_col: [user] * n, self.item_col: items}
        for c in self.required_columns + self.optional_columns:
            if c in cols:
                continue
            value = (context or {}).get(c, self.defaults.get(c, 0))
            cols[c] = [value] * n
        if self.fast:
            u = np.full(n, self._users.get_indexer([user])[0] + 1)
            i = np.arange(1, n + 1) if candidates is None else self._items.get_indexer(items) + 1
            scores = self._predict(cols, u, i)
        else:
            scores = self.score(cols)
        k = min(k, n)
        top = np.argpartition(-scores, k - 1)[:k] if k < n else np.arange(n)
        top = top[np.lexsort((top, -scores[top]))]  # best first, ties by position
        return items[top], scores[top]


def _lgbm_predict_proba():
    from lightgbm import LGBMClassifier

    return LGBMClassifier.predict_proba
