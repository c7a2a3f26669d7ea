"""Imbalance classification metrics: closed forms, imblearn / sklearn agreement, bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from imblearn.metrics import classification_report_imbalanced, geometric_mean_score
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

from sklearn_recsys.metrics import (
    best_f1_threshold,
    expected_calibration_error,
    imbalanced_classification_scores,
    per_group_scores,
    precision_at_top_q,
    recall_at_top_q,
)


@pytest.fixture
def rare():
    """2 % positives with an informative score."""
    rng = np.random.default_rng(0)
    n = 5000
    y = (rng.random(n) < 0.02).astype(int)
    p = np.clip(0.02 + 0.3 * y + rng.normal(0, 0.08, n), 0, 1)
    return y, p


def test_top_q_closed_form():
    y = [1, 0, 1, 0, 0, 0, 0, 0, 0, 1]
    s = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0]
    # top 30 % = 3 rows: positives 1, 3 -> precision 2/3, recall 2/3
    assert precision_at_top_q(y, s, q=0.3) == pytest.approx(2 / 3)
    assert recall_at_top_q(y, s, q=0.3) == pytest.approx(2 / 3)
    # q so small that it rounds up to one row
    assert precision_at_top_q(y, s, q=0.001) == 1.0
    assert recall_at_top_q(y, s, q=1.0) == 1.0


def test_top_q_ties_are_pessimistic():
    y = [0, 1, 0, 1]
    assert precision_at_top_q(y, [0.5] * 4, q=0.5) == 0.0
    assert recall_at_top_q(y, [0.5] * 4, q=0.75) == 0.5


def test_best_f1_threshold_matches_brute_force(rare):
    y, p = rare
    y, p = y[:800], np.round(p[:800], 2)  # few distinct scores: ties handled as sklearn does
    thr, f1 = best_f1_threshold(y, p)
    pred = p[None, :] >= np.unique(p)[:, None]  # one row per candidate threshold
    tp = (pred & (y == 1)).sum(axis=1)
    brute = np.max(2 * tp / (pred.sum(axis=1) + y.sum()))
    assert f1 == pytest.approx(brute, abs=1e-12)
    assert f1_score(y, p >= thr) == pytest.approx(f1, abs=1e-12)


def test_ece_equals_weighted_gap_of_calibration_curve(rare):
    y, p = rare
    for strategy in ("uniform", "quantile"):
        ece = expected_calibration_error(y, p, n_bins=10, strategy=strategy)
        prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy=strategy)
        if strategy == "uniform":
            bins = np.linspace(0, 1, 11)
        else:
            bins = np.percentile(p, np.linspace(0, 100, 11))
        counts = np.bincount(np.searchsorted(bins[1:-1], p), minlength=10)
        counts = counts[counts > 0]
        assert ece == pytest.approx(np.sum(counts * np.abs(prob_true - prob_pred)) / len(y))


def test_ece_closed_form():
    # two bins of two rows: gaps |0 - 0.2| and |1 - 0.8| -> ECE = 0.2
    assert expected_calibration_error(
        [0, 0, 1, 1], [0.1, 0.3, 0.7, 0.9], n_bins=2
    ) == pytest.approx(0.2)
    # perfectly calibrated in every bin
    assert expected_calibration_error([0, 1, 0, 1], [0.5] * 4, n_bins=5) == 0.0


def test_report_agrees_with_sklearn_and_imblearn(rare):
    y, p = rare
    thr = 0.2
    s = imbalanced_classification_scores(y, p, threshold=thr, q=0.02)
    pred = (p >= thr).astype(int)
    rep = classification_report_imbalanced(y, pred, output_dict=True)
    assert s["average_precision"] == pytest.approx(average_precision_score(y, p))
    assert s["roc_auc"] == pytest.approx(roc_auc_score(y, p))
    assert s["recall"] == pytest.approx(rep["1"]["rec"])
    assert s["precision"] == pytest.approx(rep["1"]["pre"])
    assert s["f1"] == pytest.approx(rep["1"]["f1"])
    assert s["geometric_mean"] == pytest.approx(rep["1"]["geo"])
    assert s["geometric_mean"] == pytest.approx(geometric_mean_score(y, pred))
    assert s["balanced_accuracy"] == pytest.approx((rep["1"]["rec"] + rep["1"]["spe"]) / 2)
    assert s["precision@top0.02"] == pytest.approx(precision_at_top_q(y, p, q=0.02))
    assert s["n_samples"] == len(y) and s["positive_rate"] == pytest.approx(y.mean())
    assert 0 <= s["ece"] <= 1 and 0 <= s["brier"] <= 1


def test_report_nan_for_undefined():
    s = imbalanced_classification_scores([0, 0, 0], [0.1, 0.2, 3.0])
    assert np.isnan(s["roc_auc"]) and np.isnan(s["ece"]) and np.isnan(s["brier"])
    assert s["precision"] == 0.0
    with pytest.raises(ValueError, match="Unknown metrics"):
        imbalanced_classification_scores([0, 1], [0.1, 0.2], metrics=["accuracy"])


def test_per_group_scores_equal_subsets(rare):
    y, p = rare
    groups = np.where(np.arange(len(y)) % 3 == 0, "head", "tail")
    df = per_group_scores(y, p, groups=groups, metrics=["average_precision", "roc_auc"])
    assert list(df.index) == ["head", "tail"]
    for name in df.index:
        m = groups == name
        assert df.loc[name, "roc_auc"] == pytest.approx(roc_auc_score(y[m], p[m]))
        assert df.loc[name, "n_samples"] == m.sum()
        assert df.loc[name, "n_positives"] == y[m].sum()


def test_per_group_single_class_and_min_samples_and_callables():
    y = [0, 1, 0, 0, 0, 1]
    s = [0.1, 0.9, 0.2, 0.3, 0.1, 0.8]
    g = ["a", "a", "b", "b", "c", "c"]
    df = per_group_scores(y, s, groups=g, metrics=["roc_auc"], min_samples=2)
    assert df.loc["a", "roc_auc"] == 1.0 and np.isnan(df.loc["b", "roc_auc"])
    df = per_group_scores(
        y, s, groups=g, metrics={"mean_score": lambda yt, ys: ys.mean()}, min_samples=3
    )
    assert df["mean_score"].isna().all() and df["n_samples"].tolist() == [2, 2, 2]


@settings(max_examples=50, deadline=None)
@given(
    data=st.lists(st.tuples(st.integers(0, 1), st.floats(0, 1)), min_size=2, max_size=60),
    q=st.floats(0.01, 1.0),
)
def test_properties_in_unit_interval(data, q):
    y, p = (np.array(c) for c in zip(*data))
    assert 0 <= precision_at_top_q(y, p, q=q) <= 1
    assert 0 <= expected_calibration_error(y, p) <= 1
    if y.sum() > 0:
        r = recall_at_top_q(y, p, q=q)
        assert 0 <= r <= 1
        # recall at the top never decreases with q
        assert recall_at_top_q(y, p, q=min(1.0, q + 0.1)) >= r
        assert 0 < best_f1_threshold(y, p)[1] <= 1


def test_bad_input():
    with pytest.raises(ValueError, match="same length"):
        precision_at_top_q([0, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="NaN"):
        recall_at_top_q([0, 1], [np.nan, 0.2])
    with pytest.raises(ValueError, match="empty"):
        best_f1_threshold([], [])
    with pytest.raises(ValueError, match="binary"):
        precision_at_top_q([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="'q' parameter"):
        precision_at_top_q([0, 1], [0.1, 0.2], q=0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        expected_calibration_error([0, 1], [0.1, 1.2])
    with pytest.raises(ValueError, match="no positive"):
        recall_at_top_q([0, 0], [0.1, 0.2])
    with pytest.raises(ValueError, match="groups must have one value per row"):
        per_group_scores([0, 1], [0.1, 0.2], groups=["a"])
