"""Every estimator and sampler that reads ids gives the same result whatever the id columns are
called: the interaction frame with ``user_id`` / ``item_id`` against the same frame with ``uid``
/ ``iid`` and ``user_col="uid", item_col="iid"``.

The public estimators are discovered (every class of a sub-package's ``__all__`` with a
``user_col`` or ``item_col`` parameter), so a new one must appear here or in ``ELSEWHERE``
with the test that covers it.
"""

import importlib
import inspect

import numpy as np
import pandas as pd
import pytest
from imblearn.over_sampling import SMOTE
from sklearn.base import BaseEstimator

from sklearn_recsys.datasets import make_interactions

PACKAGES = [
    "boosting",
    "dummy",
    "ensemble",
    "features",
    "model_selection",
    "neural",
    "rerank",
    "retrieval",
    "sampling",
]
RENAME = {"user_id": "uid", "item_id": "iid"}
NAMES = {"user_col": "uid", "item_col": "iid"}

_LGBM = {"n_estimators": 20, "n_jobs": 1, "random_state": 0}
_NEURAL = {"max_epochs": 2, "batch_size": 64, "random_state": 0}

#: name -> (factory of keyword arguments -> estimator, what to compare)
FACTORIES = {
    "ImbalancedLGBMClassifier": (lambda **kw: _lgbm("ImbalancedLGBMClassifier", **kw), "proba"),
    "FocalLGBMClassifier": (lambda **kw: _lgbm("FocalLGBMClassifier", **kw), "proba"),
    "GroupedLGBMRanker": (
        lambda **kw: _lgbm("GroupedLGBMRanker", **kw, group_col=kw.get("user_col", "user_id")),
        "predict",
    ),
    "SelfPacedEnsembleClassifier": (
        lambda **kw: _cls("ensemble", "SelfPacedEnsembleClassifier")(
            n_estimators=2, random_state=0, **kw
        ),
        "proba",
    ),
    "NeuralClassifier": (lambda **kw: _cls("neural", "NeuralClassifier")(**_NEURAL, **kw), "proba"),
    "MultiTaskClassifier": (
        lambda **kw: _cls("neural", "MultiTaskClassifier")(**_NEURAL, **kw),
        "proba",
    ),
    "InteractionFeaturizer": (
        lambda **kw: _cls("features", "InteractionFeaturizer")(n_factors=2, random_state=0, **kw),
        "transform",
    ),
    "LabelHistoryFeaturizer": (  # the log has no time column: its positions stand in
        lambda **kw: _cls("features", "LabelHistoryFeaturizer")(
            time_col="position", **{k: v for k, v in kw.items() if k == "user_col"}
        ),
        "transform",
    ),
    "PopularityRecommender": (
        lambda **kw: _cls("dummy", "PopularityRecommender")(
            **{k: v for k, v in kw.items() if k == "item_col"}
        ),
        "predict",
    ),
    "EASERecommender": (
        lambda **kw: _cls("retrieval", "EASERecommender")(l2=10.0, **kw),
        "predict",
    ),
    "ItemKNNRecommender": (lambda **kw: _cls("retrieval", "ItemKNNRecommender")(**kw), "predict"),
    "ALSRecommender": (
        lambda **kw: _cls("retrieval", "ALSRecommender")(
            factors=4, iterations=2, random_state=0, **kw
        ),
        "predict",
    ),
    "BPRRecommender": (
        lambda **kw: _cls("retrieval", "BPRRecommender")(
            factors=4, iterations=2, random_state=0, **kw
        ),
        "predict",
    ),
    "TwoTowerRetriever": (
        lambda **kw: _cls("retrieval", "TwoTowerRetriever")(
            embedding_dim=4, max_epochs=1, random_state=0, **kw
        ),
        "predict",
    ),
    "TwoStageRecommender": (
        lambda **kw: _cls("retrieval", "TwoStageRecommender")(
            _cls("retrieval", "EASERecommender")(l2=10.0, **kw),
            n_candidates=10,
            random_state=0,
            **kw,
        ),
        "predict",
    ),
    **{
        name: (lambda name=name, **kw: _cls("rerank", name)(weight=0.5, **kw), "rerank")
        for name in (
            "PopularityPenaltyReranker",
            "XQuADReranker",
            "CalibratedReranker",
            "MMRReranker",
        )
    },
    "GANOverSampler": (
        lambda **kw: _cls("sampling", "GANOverSampler")(
            max_epochs=1,
            batch_size=200,
            generator_dims=(16,),
            critic_dims=(16,),
            random_state=0,
            **kw,
        ),
        "resample",
    ),
    "IdPreservingSampler": (
        lambda **kw: _cls("sampling", "IdPreservingSampler")(SMOTE(random_state=0), **kw),
        "resample",
    ),
    "NegativeSampler": (
        lambda **kw: _cls("sampling", "NegativeSampler")(n_negatives=1, random_state=0, **kw),
        "resample",
    ),
    "PopularityUnderSampler": (
        lambda **kw: _cls("sampling", "PopularityUnderSampler")(
            random_state=0, **{k: v for k, v in kw.items() if k == "item_col"}
        ),
        "resample",
    ),
}

#: estimators tested with renamed or positional ids in their own test files
ELSEWHERE = {
    "BehaviorHistoryFeaturizer": "needs the event log at construction; "
    "tests/features/test_behavior.py",
    "PretrainedTextEncoder": "needs the [text] model; tests/features/test_text.py",
    "ContentAffinity": "needs item texts; tests/features/test_affinity.py",
    "LMTwoTowerClassifier": "fine-tunes a language model; tests/neural/test_lm.py (positions)",
    "OptunaSearchCV": "groups folds by its user_col; tests/model_selection/test_optuna.py",
    "TopKParetoSearch": "scores top-k lists; tests/model_selection/test_multiobjective.py",
}
DEPRECATED = {"NeuralRanker", "MultiTaskRanker", "LMTwoTowerRanker", "OptunaSearch"}


def _cls(package, name):
    return getattr(importlib.import_module(f"sklearn_recsys.{package}"), name)


def _lgbm(name, **kw):
    return _cls("boosting", name)(**_LGBM, **kw)


def _id_readers():
    found = set()
    for package in PACKAGES:
        module = importlib.import_module(f"sklearn_recsys.{package}")
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
                params = inspect.signature(obj).parameters
                if "user_col" in params or "item_col" in params:
                    found.add(name)
    return found


@pytest.fixture(scope="module")
def log():
    data = make_interactions(
        n_users=60, n_items=40, n_interactions=1200, positive_rate=0.2, random_state=0
    )
    X = data.interactions[["user_id", "item_id", "price", "position"]].copy()
    X["item_id"] = "sku" + X["item_id"].astype(str)  # string item ids: never numbers
    return X, data.interactions["purchase"].to_numpy()


def test_every_id_reader_is_covered():
    assert _id_readers() - DEPRECATED == set(FACTORIES) | set(ELSEWHERE)


def _result(est, kind, X, y):
    if kind == "resample":
        Xr, yr = est.fit_resample(X, y)
        return np.c_[Xr.astype(str).to_numpy(), np.asarray(yr)]
    if kind == "rerank":
        est.fit(X, y)
        cands = (
            X.drop_duplicates(X.columns[:2].tolist())
            .head(200)
            .assign(score=np.linspace(1, 0, min(200, len(X))))
        )
        return est.rerank(cands, k=5).to_numpy()
    est.fit(X, y)
    if kind == "proba":
        return est.predict_proba(X)
    if kind == "transform":
        return np.asarray(est.transform(X))
    return est.predict(X)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_renamed_id_columns_give_the_same_result(name, log):
    X, y = log
    factory, kind = FACTORIES[name]
    if kind == "resample" and name == "NegativeSampler":
        X, y = X[y == 1], y[y == 1]  # implicit feedback: positives in, negatives out
    default = _result(factory(), kind, X, y)
    renamed = _result(factory(**NAMES), kind, X.rename(columns=RENAME), y)
    if default.dtype.kind in "fc":
        np.testing.assert_allclose(renamed, default, rtol=1e-6, atol=1e-9)
    else:
        assert pd.DataFrame(renamed).equals(pd.DataFrame(default))
