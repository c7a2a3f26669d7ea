"""DaskLGBMClassifier (lightgbm.dask with the package's presets) and partition-wise metrics."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, log_loss, roc_auc_score

from sklearn_recsys.boosting import FocalLGBMClassifier, ImbalancedLGBMClassifier
from sklearn_recsys.dask import DaskLGBMClassifier, InteractionFeaturizer, classification_scores
from sklearn_recsys.dask._lgbm import _training_part

pytestmark = pytest.mark.dask

_LGBM = {"n_estimators": 25, "num_leaves": 15, "random_state": 0}


@pytest.fixture(scope="module")
def features(log, Xy, to_dask):
    """Featurized training rows (out-of-fold rates), as a Dask frame and in pandas."""
    X, y = Xy
    feat = InteractionFeaturizer(n_factors=3, keep_id_columns=False, random_state=0)
    Xd, yd = to_dask(X, y, 4)
    Ft = feat.fit_transform(Xd, yd)
    return Ft, yd, Ft.compute(), y


def test_class_weight_preset_and_serving(client, features):
    Ft, yd, F, y = features
    clf = DaskLGBMClassifier(ImbalancedLGBMClassifier(**_LGBM)).fit(Ft, yd)
    ref = ImbalancedLGBMClassifier(**_LGBM).fit(F, y)
    assert clf.class_weight_ == pytest.approx(ref.class_weight_)  # the same preset
    assert clf.n_estimators_ == 25 and clf.sampling_rate_ == 1.0 and clf.init_score_ is None
    proba = clf.predict_proba(Ft)
    assert list(proba.columns) == ["0", "1"] and proba.npartitions == Ft.npartitions
    p = proba["1"].compute().to_numpy()
    np.testing.assert_allclose(clf.predict_proba(F)[:, 1], p)  # pandas in process: same model
    np.testing.assert_array_equal(clf.predict(F), clf.predict(Ft).compute().to_numpy())
    # as good as the in-memory model on the same rows (trees differ: per-worker binning)
    assert roc_auc_score(y, p) > roc_auc_score(y, ref.predict_proba(F)[:, 1]) - 0.02
    scores = classification_scores(yd, proba["1"])
    assert scores["roc_auc"] == pytest.approx(roc_auc_score(y, p), abs=1e-4)
    assert scores["log_loss"] == pytest.approx(log_loss(y, p), rel=1e-9)


def test_focal_with_down_sampling(client, features):
    Ft, yd, F, y = features
    est = FocalLGBMClassifier(focal_gamma=2.0, class_weight="balanced", **_LGBM)
    clf = DaskLGBMClassifier(est, sampling_strategy=0.25, random_state=0).fit(Ft, yd)
    n_pos, n_neg = int(y.sum()), int((y == 0).sum())
    assert clf.sampling_rate_ == pytest.approx(n_pos / (0.25 * n_neg))
    assert clf.class_counts_ == {0: n_neg, 1: n_pos}
    assert clf.init_score_ == pytest.approx(0.0, abs=1e-4)  # balanced weights: even start
    p = clf.predict_proba(F)[:, 1]
    assert ((p > 0) & (p < 1)).all()
    assert roc_auc_score(y, p) > 0.8


def test_down_sampling_kernel_per_partition():
    """Majority rows kept with probability r and weighted 1 / r, minority rows all kept with
    their weight; the draw depends on (seed, partition) only."""
    from sklearn_recsys.boosting._frame import FrameEncoder

    rng = np.random.RandomState(0)
    X = pd.DataFrame({"a": rng.normal(size=20_000)})
    y = pd.Series((rng.random_sample(20_000) < 0.05).astype(int))
    plan = {
        "classes": np.array([0, 1]),
        "encoder": FrameEncoder({}, None).fit(X),
        "focal": False,
        "names": ["Column_0"],
        "rate": 0.2,
        "majority": 0,
        "seed": 5,
        "row_weight": np.array([1.0, 3.0]),
        "init_score": 0.0,
    }
    out = _training_part(X, y, None, plan, partition_info={"number": 3})
    kept_neg = out["__y__"] == 0
    assert (out["__y__"] == 1).sum() == y.sum()
    assert kept_neg.sum() == pytest.approx(0.2 * (y == 0).sum(), rel=0.05)
    np.testing.assert_allclose(out.loc[kept_neg, "__weight__"], 5.0)
    np.testing.assert_allclose(out.loc[~kept_neg, "__weight__"], 3.0)
    assert out["__weight__"].sum() == pytest.approx(len(y) + 2 * y.sum(), rel=0.02)
    again = _training_part(X, y, None, plan, partition_info={"number": 3})
    other = _training_part(X, y, None, plan, partition_info={"number": 4})
    pd.testing.assert_frame_equal(out, again)
    assert not out.index.equals(other.index)


def test_errors(features, monkeypatch):
    Ft, yd, _, _ = features
    import distributed

    def no_client():
        raise ValueError("No clients found")

    monkeypatch.setattr(distributed, "default_client", no_client)
    with pytest.raises(RuntimeError, match="needs a distributed Client"):
        DaskLGBMClassifier().fit(Ft, yd)
    monkeypatch.undo()
    with pytest.raises(ValueError, match="early_stopping_rounds is not available"):
        DaskLGBMClassifier(ImbalancedLGBMClassifier(early_stopping_rounds=5)).fit(Ft, yd)
    with pytest.raises(ValueError, match="sampling_strategy"):
        DaskLGBMClassifier(sampling_strategy=-1.0).fit(Ft, yd)


def test_classification_scores_match_sklearn(to_dask):
    rng = np.random.RandomState(0)
    y = pd.Series(rng.binomial(1, 0.05, size=20_000))
    p = pd.Series(1 / (1 + np.exp(-(3 * y - 4 + rng.normal(size=len(y))))))
    w = pd.Series(rng.uniform(0.5, 2.0, size=len(y)))
    frame = pd.DataFrame({"y": y, "p": p, "w": w})
    d = to_dask(frame, npartitions=5)
    s = classification_scores(d["y"], d["p"], sample_weight=d["w"])
    assert s["n_samples"] == 20_000
    assert s["roc_auc"] == pytest.approx(roc_auc_score(y, p, sample_weight=w), abs=1e-5)
    assert s["average_precision"] == pytest.approx(
        average_precision_score(y, p, sample_weight=w), abs=1e-4
    )
    assert s["log_loss"] == pytest.approx(log_loss(y, p, sample_weight=w), rel=1e-9)
    assert s["positive_rate"] == pytest.approx(np.average(y, weights=w))
    raw = classification_scores(y, 3 * np.log(p / (1 - p)))  # raw scores: same ranking
    assert raw["roc_auc"] == pytest.approx(roc_auc_score(y, p), abs=1e-5)
    assert np.isnan(raw["log_loss"])


def test_classification_scores_on_a_filtered_parquet_log(tmp_path):
    from sklearn_recsys.dask import read_interactions, write_interactions

    data = write_interactions(
        tmp_path, 12_000, chunk_size=2000, n_users=300, n_items=100, random_state=0
    )
    log = read_interactions(tmp_path)
    frame = pd.read_parquet(data.interactions_path)
    cut = int(frame["timestamp"].quantile(0.45))
    part = log[log["timestamp"] < cut]
    s = classification_scores(part["purchase"], part["price"])  # a raw score
    frame = frame[frame["timestamp"] < cut]
    assert s["n_samples"] == len(frame)
    assert s["roc_auc"] == pytest.approx(roc_auc_score(frame["purchase"], frame["price"]), abs=1e-4)


def test_worker_killed_mid_training_raises(client):
    """A worker process killed while LightGBM trains: the fit raises, no partial model."""
    import os
    import signal
    import threading
    import time

    import dask.dataframe as dd

    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.normal(size=(4000, 4)), columns=list("abcd"))
    y = pd.Series((X["a"] + rng.normal(size=4000) > 1).astype(int), name="y")
    Xd, yd = dd.from_pandas(X, npartitions=4), dd.from_pandas(y, npartitions=4)
    killed = []

    def kill_a_trainer():
        deadline = time.time() + 120
        while time.time() < deadline and not killed:
            busy = [
                w
                for w, keys in client.processing().items()
                if any("_train_part" in str(k) for k in keys)
            ]
            if busy:
                time.sleep(1.0)  # let the boosting start
                pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.1)

    threading.Thread(target=kill_a_trainer, daemon=True).start()
    clf = DaskLGBMClassifier(ImbalancedLGBMClassifier(n_estimators=200_000, num_leaves=7))
    with pytest.raises(RuntimeError, match="LightGBM training on the Dask workers failed"):
        clf.fit(Xd, yd)
    assert killed and not hasattr(clf, "booster_")
    client.wait_for_workers(2, timeout=60)
