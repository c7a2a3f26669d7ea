"""Safe persistence of fitted pipelines: skops (no pickle) beside a JSON manifest.

:func:`save_pipeline` writes ``PATH`` (a skops zip archive) and ``PATH.json`` (the manifest:
package versions, input columns, feature names, the training positive rate, a compact profile
of the reference frame for drift checks and the SHA-256 of the archive). :func:`load_pipeline`
refuses an archive that holds a type outside the allow-list (skops' own trusted types, the
types of ``sklearn_recsys``, LightGBM's, and the few torch / skorch types a net needs) and
names the offending types.

skops cannot store pandas objects, LightGBM boosters are fine, and a skorch net holds torch
modules that only pickle can store. Before dumping, a copy of the estimator is rewritten into a
*portable* form: ``pandas.Index`` / ``Series`` / ``DataFrame`` become small records of numpy
arrays, a skorch net becomes its class, its plain parameters and its ``state_dict`` as numpy
arrays. Loading rebuilds the objects from those records; nothing is unpickled.
"""

from __future__ import annotations

import copy
import datetime as _dt
import hashlib
import json
import logging
import os
import platform
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_TRUSTED_PREFIXES",
    "UntrustedTypesError",
    "load_manifest",
    "load_pipeline",
    "save_pipeline",
]

logger = logging.getLogger(__name__)

FORMAT = "sklearn-recsys-pipeline/1"

#: Types whose fully qualified name starts with one of these are loaded without being named in
#: ``trusted``: our own package, scikit-learn, imbalanced-learn, LightGBM and numpy's scalar
#: and dtype classes. Everything else must be listed by the caller.
DEFAULT_TRUSTED_PREFIXES = (
    "sklearn_recsys.",
    "sklearn.",
    "imblearn.",
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.",
    "numpy.",
    "collections.OrderedDict",
    "collections.defaultdict",
    "builtins.slice",
    "torch.optim.",
    "torch.nn.modules.loss.",
    "skorch.classifier.",
    "skorch.net.NeuralNet",
    "skorch.dataset.",
)

_PACKAGES = (
    "sklearn-recsys",
    "scikit-learn",
    "numpy",
    "scipy",
    "pandas",
    "lightgbm",
    "skorch",
    "torch",
    "skops",
    "imbalanced-learn",
)
_RECURSE_MODULES = ("sklearn_recsys", "sklearn", "imblearn", "lightgbm.sklearn")


class UntrustedTypesError(TypeError):
    """A skops archive holds types that are not trusted; ``types`` lists them."""

    def __init__(self, path, types):
        self.types = list(types)
        super().__init__(
            f"{path} holds {len(self.types)} untrusted type(s): {self.types}. Audit them and, "
            "only if you trust the file, pass them as load_pipeline(..., trusted=[...])."
        )


# ---------------------------------------------------------------------------------- portable
class _PortableIndex:
    """A ``pandas.Index`` as numpy values, dtype name and name."""

    def __init__(self, index):
        self.kind = "category" if isinstance(index.dtype, pd.CategoricalDtype) else "plain"
        if self.kind == "category":
            self.values = np.asarray(index.codes)
            self.categories = _PortableIndex(index.categories)
            self.ordered = bool(index.dtype.ordered)
        else:
            self.values = _numpy_values(index)
        self.dtype = str(index.dtype)
        self.name = index.name if _jsonable(index.name) else None

    def restore(self):
        if self.kind == "category":
            cats = self.categories.restore()
            return pd.CategoricalIndex(
                pd.Categorical.from_codes(self.values, cats, ordered=self.ordered), name=self.name
            )
        return pd.Index(_restore_values(self.values, self.dtype), name=self.name)


class _PortableSeries:
    def __init__(self, series):
        self.values = _PortableIndex(pd.Index(series.array))
        self.index = _PortableIndex(series.index)
        self.name = series.name if _jsonable(series.name) else None

    def restore(self):
        return pd.Series(self.values.restore().array, index=self.index.restore(), name=self.name)


class _PortableFrame:
    def __init__(self, frame):
        self.columns = [c if _jsonable(c) else str(c) for c in frame.columns]
        self.data = [
            _PortableIndex(pd.Index(frame.iloc[:, j].array)) for j in range(frame.shape[1])
        ]
        self.index = _PortableIndex(frame.index)

    def restore(self):
        index = self.index.restore()
        cols = {
            c: pd.Series(d.restore().array, index=index) for c, d in zip(self.columns, self.data)
        }
        return pd.DataFrame(cols, index=index, columns=self.columns)


def _jsonable(value):
    return value is None or isinstance(value, (str, int, float, bool))


def _numpy_values(index):
    values = index.to_numpy()
    if values.dtype == object or values.dtype.kind in "OUS":
        return np.asarray(values.tolist(), dtype=object)  # python str / int elements
    return np.asarray(values)


def _restore_values(values, dtype):
    if dtype in ("str", "string", "object") or dtype.startswith("string"):
        return pd.array(values.tolist(), dtype=dtype if dtype != "str" else "str")
    return values


class _PortableNet:
    """A fitted skorch net: its class, plain init parameters, module weights and history."""

    def __init__(self, net):
        import torch

        self.net_class = type(net)
        params = {}
        for key, value in net.get_params(deep=False).items():
            if key == "callbacks" or key.startswith(("callbacks__", "criterion", "train_split")):
                continue
            if _plain(value):
                params[key] = value
        self.params = params
        self.state = {k: v.detach().cpu().numpy() for k, v in net.module_.state_dict().items()}
        self.history = json.loads(json.dumps(list(net.history), default=_json_default))
        self.torch_version = torch.__version__

    def restore(self):
        import torch
        from skorch import NeuralNet
        from skorch.history import History

        if not (isinstance(self.net_class, type) and issubclass(self.net_class, NeuralNet)):
            raise TypeError(f"{self.net_class!r} is not a skorch net class.")
        params = {**self.params, "train_split": None, "device": "cpu"}
        net = self.net_class(**params)
        net.initialize()
        net.module_.load_state_dict(
            {k: torch.from_numpy(np.array(v)) for k, v in self.state.items()}
        )
        net.module_.eval()
        net.history = History(self.history)
        return net


def _plain(value):
    """Primitive values, lists of them, and classes / functions (stored by reference)."""
    if _jsonable(value):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, type) or callable(value):
        name = getattr(value, "__qualname__", "")
        return "<" not in name  # module-level classes and functions only (no lambdas)
    return False


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _is_net(obj):
    try:
        from skorch import NeuralNet
    except ImportError:  # pragma: no cover - skorch is a core dependency
        return False
    return isinstance(obj, NeuralNet)


def _to_portable(obj, memo):
    """A copy of ``obj`` where pandas objects and skorch nets are replaced by portable records.

    Objects without anything to replace are returned as they are (never copied).
    """
    key = id(obj)
    if key in memo:
        return memo[key]
    if isinstance(obj, (str, bytes, int, float, bool, type(None), np.ndarray, np.generic, type)):
        return obj
    if isinstance(obj, pd.DataFrame):
        out = _PortableFrame(obj)
    elif isinstance(obj, pd.Series):
        out = _PortableSeries(obj)
    elif isinstance(obj, pd.Index):
        out = _PortableIndex(obj)
    elif _is_net(obj):
        out = _PortableNet(obj)
    elif type(obj) in (list, tuple):
        items = [_to_portable(v, memo) for v in obj]
        changed = any(a is not b for a, b in zip(items, obj))
        out = type(obj)(items) if changed else obj
    elif type(obj) is dict:
        items = {k: _to_portable(v, memo) for k, v in obj.items()}
        changed = any(items[k] is not obj[k] for k in obj)
        out = items if changed else obj
    elif hasattr(obj, "__dict__") and type(obj).__module__.startswith(_RECURSE_MODULES):
        attrs = {k: _to_portable(v, memo) for k, v in vars(obj).items()}
        changed = [k for k in attrs if attrs[k] is not vars(obj)[k]]
        if changed:
            out = copy.copy(obj)
            for k in changed:
                vars(out)[k] = attrs[k]
        else:
            out = obj
    else:
        out = obj
    memo[key] = out
    return out


def _from_portable(obj, memo):
    """Rebuild the objects :func:`_to_portable` replaced (in place: ``obj`` was just loaded)."""
    key = id(obj)
    if key in memo:
        return memo[key]
    if isinstance(obj, (_PortableIndex, _PortableSeries, _PortableFrame, _PortableNet)):
        out = obj.restore()
    elif isinstance(obj, list):
        obj[:] = [_from_portable(v, memo) for v in obj]
        out = obj
    elif type(obj) is tuple:
        out = tuple(_from_portable(v, memo) for v in obj)
    elif isinstance(obj, dict):
        for k in list(obj):
            obj[k] = _from_portable(obj[k], memo)
        out = obj
    elif hasattr(obj, "__dict__") and type(obj).__module__.startswith(_RECURSE_MODULES):
        for k, v in list(vars(obj).items()):
            vars(obj)[k] = _from_portable(v, memo)
        out = obj
    else:
        out = obj
    memo[key] = out
    return out


# ---------------------------------------------------------------------------------- manifest
def _versions():
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _featurizer_and_final(estimator):
    """(featurizer step or None, final step) of a pipeline; (None, estimator) otherwise."""
    from ..features import InteractionFeaturizer

    steps = getattr(estimator, "steps", None)
    if not steps:
        return None, estimator
    first = steps[0][1]
    return (first if isinstance(first, InteractionFeaturizer) else None), steps[-1][1]


def _feature_names(estimator):
    steps = getattr(estimator, "steps", None)
    if steps and len(steps) > 1:
        try:
            return [str(n) for n in estimator[:-1].get_feature_names_out()]
        except Exception:  # a step without get_feature_names_out
            pass
    names = getattr(estimator, "feature_names_in_", None)
    return None if names is None else [str(n) for n in names]


def _positive_rate(estimator, reference_y):
    if reference_y is not None:
        y = np.asarray(reference_y, dtype=float)
        return float(np.mean(y > 0))
    featurizer, _ = _featurizer_and_final(estimator)
    enc = getattr(featurizer, "target_encoder_", None)
    if enc is not None and enc.target_type_ == "binary":
        return float(enc.target_mean_)  # the training mean of y, kept by TargetEncoder
    return None


def _column_defaults(reference, columns):
    """Median of numeric columns, most frequent value otherwise (fills /recommend rows)."""
    out = {}
    if reference is None:
        return out
    for col in columns:
        if col not in reference.columns:
            continue
        s = reference[col]
        if pd.api.types.is_bool_dtype(s.dtype):
            out[str(col)] = bool(s.mode().iloc[0])
        elif pd.api.types.is_numeric_dtype(s.dtype):
            out[str(col)] = (
                float(s.median()) if pd.api.types.is_float_dtype(s.dtype) else int(s.median())
            )
        else:
            out[str(col)] = str(s.mode().iloc[0])
    return out


def save_pipeline(
    estimator, path, *, reference=None, reference_y=None, reference_scores=None, monitor_params=None
):
    """Save a fitted estimator with skops and write its JSON manifest beside it.

    Parameters
    ----------
    estimator : fitted estimator
        Usually a pipeline ``InteractionFeaturizer -> model``; any skops-storable estimator
        works, with pandas objects and skorch nets converted as the module docstring says.
    path : str or path-like
        The archive to write (``.skops`` by convention); the manifest is ``path + ".json"``.
        Both are written to temporary files first and moved into place (atomic on POSIX).
    reference : DataFrame or None, default=None
        The training (or a held-out validation) interaction frame. Its compact profile (a
        fitted :class:`DriftMonitor`) goes into the manifest for drift checks, and its medians /
        modes fill columns that a ``/recommend`` request does not give.
    reference_y : array-like or None, default=None
        Labels of ``reference``: the training positive rate, and the calibration of the scores
        for label-free performance estimates.
    reference_scores : array-like or None, default=None
        Scores of ``reference``; computed with ``estimator.predict_proba`` (at most 20,000
        rows) when ``None`` and ``reference`` is given.
    monitor_params : dict or None, default=None
        Parameters of the :class:`DriftMonitor` fitted on ``reference``.

    Returns
    -------
    manifest : dict
        What was written to ``path + ".json"``.

    Examples
    --------
    >>> import tempfile, os
    >>> from lightgbm import LGBMClassifier
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_recsys.datasets import make_interactions
    >>> from sklearn_recsys.features import InteractionFeaturizer
    >>> from sklearn_recsys.serving import load_pipeline, save_pipeline
    >>> X, y = make_interactions(n_interactions=2000, random_state=0, return_X_y=True)
    >>> pipe = make_pipeline(InteractionFeaturizer(keep_id_columns=False, random_state=0),
    ...                      LGBMClassifier(n_estimators=10, verbose=-1)).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.skops")
    >>> manifest = save_pipeline(pipe, path, reference=X, reference_y=y)
    >>> round(manifest["positive_rate"], 3) == round(float(y.mean()), 3)
    True
    >>> loaded = load_pipeline(path)
    >>> bool((loaded.predict_proba(X) == pipe.predict_proba(X)).all())
    True
    """
    import skops.io as sio

    from ._monitor import DriftMonitor

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    portable = _to_portable(estimator, {})
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    sio.dump(portable, tmp)
    sha = _sha256(tmp)
    featurizer, final = _featurizer_and_final(estimator)
    input_columns = getattr(estimator, "feature_names_in_", None)
    user_col = getattr(featurizer, "user_col", "user_id")
    item_col = getattr(featurizer, "item_col", "item_id")
    time_col = getattr(featurizer, "time_col", None)
    manifest = {
        "format": FORMAT,
        "model_file": path.name,
        "model_sha256": sha,
        "model_version": sha[:12],
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "estimator": type(estimator).__name__,
        "final_estimator": type(final).__name__,
        "versions": _versions(),
        "user_col": user_col,
        "item_col": item_col,
        "time_col": time_col,
        "input_columns": None if input_columns is None else [str(c) for c in input_columns],
        "feature_names": _feature_names(estimator),
        "positive_rate": _positive_rate(estimator, reference_y),
        "column_defaults": _column_defaults(
            reference, [] if input_columns is None else list(input_columns)
        ),
        "reference_profile": None,
    }
    if reference is not None:
        if reference_scores is None and hasattr(estimator, "predict_proba"):
            sample = (
                reference if len(reference) <= 20_000 else reference.sample(20_000, random_state=0)
            )
            reference_scores = np.full(len(reference), np.nan)
            pos = (
                reference.index.get_indexer(sample.index)
                if sample is not reference
                else (np.arange(len(reference)))
            )
            reference_scores[pos] = estimator.predict_proba(sample)[:, 1]
        params = {
            "user_col": user_col,
            "item_col": item_col,
            "time_col": time_col,
            **(monitor_params or {}),
        }
        monitor = DriftMonitor(**params).fit(reference, reference_y, scores=reference_scores)
        manifest["reference_profile"] = monitor.to_dict()
    tmp_manifest = path.with_name(f".{path.name}.json.{os.getpid()}.tmp")
    tmp_manifest.write_text(json.dumps(manifest, indent=1, default=_json_default))
    os.replace(tmp, path)
    os.replace(tmp_manifest, Path(f"{path}.json"))
    return manifest


def load_manifest(path):
    """The manifest written beside ``path`` by :func:`save_pipeline` (a dict)."""
    manifest_path = Path(f"{path}.json")
    if not manifest_path.is_file():
        raise FileNotFoundError(
            f"no manifest {manifest_path} beside {path}; save the pipeline "
            "with sklearn_recsys.serving.save_pipeline."
        )
    return json.loads(manifest_path.read_text())


def _allowed(name, trusted):
    return name in trusted or name.startswith(DEFAULT_TRUSTED_PREFIXES)


def load_pipeline(path, *, trusted=None, check_manifest=True):
    """Load a pipeline saved by :func:`save_pipeline`, refusing untrusted types.

    Parameters
    ----------
    path : str or path-like
        The skops archive.
    trusted : list of str or None, default=None
        Fully qualified type names to trust besides :data:`DEFAULT_TRUSTED_PREFIXES`. Name a
        type here only after auditing the file: skops will construct it.
    check_manifest : bool, default=True
        Check that the archive's SHA-256 is the one in the manifest (a torn save, or an archive
        and a manifest that do not belong together, raise ``ValueError``).

    Returns
    -------
    estimator : object
        The fitted estimator, with pandas objects and skorch nets rebuilt.

    Raises
    ------
    UntrustedTypesError
        Listing every type of the archive that is not trusted.
    """
    import skops.io as sio

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}.")
    trusted = list(trusted or [])
    data = path.read_bytes()
    if check_manifest:
        manifest = load_manifest(path)
        sha = hashlib.sha256(data).hexdigest()
        if manifest.get("model_sha256") != sha:
            raise ValueError(
                f"{path} (sha256 {sha[:12]}) is not the archive its manifest "
                f"describes (model_version {manifest.get('model_version')})."
            )
    found = sio.get_untrusted_types(data=data)
    untrusted = [t for t in found if not _allowed(t, trusted)]
    if untrusted:
        raise UntrustedTypesError(path, untrusted)
    obj = sio.loads(data, trusted=found)
    return _from_portable(obj, {})
