"""Deprecated name of :class:`~sklearn_recsys.neural.NeuralClassifier` (kept in its old module
for one release, so that models saved under the old name still load)."""

from __future__ import annotations

from ._base import RenamedMixin
from ._classifier import NeuralClassifier

__all__ = ["NeuralRanker"]


class NeuralRanker(RenamedMixin, NeuralClassifier):
    """Deprecated alias of :class:`NeuralClassifier`; use ``NeuralClassifier``.

    A pointwise classifier, not a ranker: renamed, removed in the next release. Same
    parameters and behaviour; :meth:`fit` warns (``FutureWarning``).

    Examples
    --------
    >>> import warnings
    >>> from sklearn_recsys.datasets import make_interactions
    >>> from sklearn_recsys.neural import NeuralRanker
    >>> df = make_interactions(n_users=50, n_items=20, n_interactions=400,
    ...                        random_state=0).interactions
    >>> X, y = df.drop(columns=["purchase", "timestamp"]), df["purchase"]
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     model = NeuralRanker(max_epochs=1, random_state=0).fit(X, y)
    >>> [str(w.message).split(";")[0] for w in caught if w.category is FutureWarning]
    ['NeuralRanker is deprecated and will be removed in the next release']
    """
