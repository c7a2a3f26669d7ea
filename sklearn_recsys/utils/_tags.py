"""Estimator tags shared by the estimators that read an interaction frame."""

from __future__ import annotations


def frame_input_tags(tags, *, allow_nan=None, sparse=None, target_required=None):
    """Mark ``tags`` (from ``super().__sklearn_tags__()``) as reading an interaction frame.

    Every estimator that takes the DataFrame of the data contract accepts string and categorical
    columns (the ids); the keyword arguments set the other tags that differ between them, and
    leave the inherited value when ``None``.

    Parameters
    ----------
    tags : sklearn.utils.Tags
        The parent's tags.
    allow_nan, sparse, target_required : bool or None, default=None
        ``input_tags.allow_nan``, ``input_tags.sparse``, ``target_tags.required``.

    Returns
    -------
    sklearn.utils.Tags
        ``tags``, changed in place.

    Examples
    --------
    >>> from sklearn.base import BaseEstimator
    >>> from sklearn_recsys.utils import frame_input_tags
    >>> tags = frame_input_tags(BaseEstimator().__sklearn_tags__(), allow_nan=True)
    >>> tags.input_tags.string, tags.input_tags.categorical, tags.input_tags.allow_nan
    (True, True, True)
    """
    tags.input_tags.string = True
    tags.input_tags.categorical = True
    if allow_nan is not None:
        tags.input_tags.allow_nan = allow_nan
    if sparse is not None:
        tags.input_tags.sparse = sparse
    if target_required is not None:
        tags.target_tags.required = target_required
    return tags
