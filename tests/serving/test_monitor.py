import json

import numpy as np
import pandas as pd
import pytest

from sklearn_recsys.metrics import average_percentage_long_tail, gini_index, item_coverage
from sklearn_recsys.serving import DriftMonitor
from sklearn_recsys.serving._monitor import estimated_roc_auc, psi


@pytest.fixture
def split(interactions):
    X, y, _ = interactions
    return X.iloc[:2500], y.iloc[:2500], X.iloc[2500:], y.iloc[2500:]


def test_no_alert_on_the_same_distribution(split):
    X_ref, y_ref, X_cur, _ = split
    monitor = DriftMonitor(min_samples=100).fit(X_ref, y_ref)
    rep = monitor.update(X_cur.sample(1000, random_state=0)).report()
    assert rep["alerts"] == []
    assert rep["features"]["price"]["psi"] < 0.05
    assert rep["features"]["price"]["ks"] < 0.06


def test_a_shifted_feature_raises_an_alert_naming_it(split):
    X_ref, y_ref, X_cur, _ = split
    monitor = DriftMonitor(min_samples=100).fit(X_ref, y_ref)
    shifted = X_cur.assign(position=X_cur["position"] + 5)
    rep = monitor.update(shifted.head(300)).report()
    names = {a["name"] for a in rep["alerts"]}
    assert names == {"position"}
    assert rep["features"]["position"]["psi"] > 0.2


def test_no_alert_below_min_samples(split):
    X_ref, y_ref, X_cur, _ = split
    monitor = DriftMonitor(min_samples=500).fit(X_ref, y_ref)
    rep = monitor.update(X_cur.assign(price=X_cur["price"] * 10).head(100)).report()
    assert rep["features"]["price"]["psi"] > 1 and rep["alerts"] == []


def test_item_popularity_shift_is_detected(split):
    X_ref, y_ref, X_cur, _ = split
    monitor = DriftMonitor(min_samples=100).fit(X_ref, y_ref)
    counts = X_ref["item_id"].value_counts()
    tail = counts.index[counts.to_numpy() <= counts.quantile(0.3)]
    rows = X_cur[X_cur["item_id"].isin(tail)]
    assert len(rows) >= 100
    rep = monitor.update(rows).report()
    assert "item_popularity" in {a["name"] for a in rep["alerts"]}
    assert (
        rep["features"]["item_popularity"]["mean"]
        < (rep["features"]["item_popularity"]["reference_mean"])
    )


def test_feedback_positive_rate_alert(split):
    X_ref, y_ref, _, _ = split
    monitor = DriftMonitor(min_feedback=100).fit(X_ref, y_ref)
    rate = float(np.mean(y_ref))
    rng = np.random.default_rng(0)
    monitor.record_feedback(rng.random(400), rng.random(400) < rate)
    assert not monitor.report()["alerts"]
    monitor.record_feedback(rng.random(400), rng.random(400) < rate * 4)
    rep = monitor.report()
    assert [a["name"] for a in rep["alerts"]] == ["feedback_positive_rate"]
    assert rep["positive_rate"]["feedback"] > rate


def test_score_drift_cbpe_and_measured_performance():
    rng = np.random.default_rng(0)
    n = 4000
    X = pd.DataFrame(
        {
            "user_id": rng.integers(0, 100, n),
            "item_id": rng.integers(0, 50, n),
            "x": rng.normal(size=n),
        }
    )
    p = 1 / (1 + np.exp(-(2 * X["x"].to_numpy() - 2)))
    y = rng.random(n) < p
    monitor = DriftMonitor(time_col=None, min_samples=100, min_feedback=100).fit(X, y, scores=p)
    # same traffic: the label-free estimate is close to the measured AUC, no alerts
    p2 = 1 / (1 + np.exp(-(2 * rng.normal(size=n) - 2)))
    y2 = rng.random(n) < p2
    monitor.update(X.assign(x=0.0).iloc[:0])  # empty update is fine
    monitor.update(X, p2, y2)
    rep = monitor.report()
    perf = rep["performance"]
    assert abs(perf["estimated_roc_auc"] - perf["measured_roc_auc"]) < 0.03
    assert not [a for a in rep["alerts"] if a["kind"] != "feature_drift"]
    # scores squeezed to the middle: score drift and a lower estimated AUC
    squeezed = DriftMonitor(time_col=None, min_samples=100).fit(X, y, scores=p)
    squeezed.update(X, 0.15 + 0.01 * rng.random(n))
    kinds = {a["kind"] for a in squeezed.report()["alerts"]}
    assert {"score_drift", "performance"} <= kinds


def test_estimated_roc_auc_matches_the_expectation_under_calibration():
    rng = np.random.default_rng(1)
    p = rng.beta(1, 5, 20000)
    y = rng.random(20000) < p
    from sklearn.metrics import roc_auc_score

    assert estimated_roc_auc(p) == pytest.approx(roc_auc_score(y, p), abs=0.01)
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0
    assert psi([0.5, 0.5], [0.9, 0.1]) == pytest.approx(0.4 * np.log(1.8) - 0.4 * np.log(0.2))


def test_long_tail_exposure_matches_the_metrics_module(split):
    X_ref, y_ref, _, _ = split
    monitor = DriftMonitor().fit(X_ref, y_ref)
    rng = np.random.default_rng(0)
    catalogue = monitor.item_ids_
    lists = [rng.choice(catalogue[:40], 5, replace=False) for _ in range(30)]
    for items in lists:
        monitor.record_recommendations(items)
    lt = monitor.report()["long_tail"]
    recs = np.vstack(lists)
    assert lt["n_lists"] == 30
    assert lt["coverage"] == pytest.approx(item_coverage(recs, catalog=catalogue, k=5))
    assert lt["gini"] == pytest.approx(gini_index(recs, catalog=catalogue, k=5))
    assert lt["aplt"] == pytest.approx(
        average_percentage_long_tail(recs, X_ref["item_id"].to_numpy(), k=5)
    )


def test_profile_round_trips_through_json(split):
    X_ref, y_ref, X_cur, _ = split
    scores = np.random.default_rng(0).random(len(X_ref))
    monitor = DriftMonitor(min_samples=50).fit(X_ref, y_ref, scores=scores)
    copy = DriftMonitor.from_dict(json.loads(json.dumps(monitor.to_dict())))
    for m in (monitor, copy):
        m.update(X_cur.head(300), scores[:300])
    a, b = monitor.report(), copy.report()
    assert a["features"] == b["features"] and a["alerts"] == b["alerts"]
    assert a["scores"] == b["scores"]


def test_window_keeps_the_last_rows(split):
    X_ref, y_ref, X_cur, _ = split
    monitor = DriftMonitor(window=100, min_samples=50).fit(X_ref, y_ref)
    monitor.update(X_cur.assign(price=X_cur["price"] * 10).head(100))
    assert monitor.report()["alerts"]
    monitor.update(X_cur.iloc[100:300])  # pushes the shifted rows out of the window
    rep = monitor.report()
    assert rep["n_rows"] == 300 and rep["n_window"] == 100
    assert not rep["alerts"]


def test_errors_name_the_problem(split):
    X_ref, y_ref, _, _ = split
    with pytest.raises(ValueError, match="item_col='item'"):
        DriftMonitor(item_col="item").fit(X_ref)
    with pytest.raises(ValueError, match="window"):
        DriftMonitor(window=0).fit(X_ref)
    with pytest.raises(ValueError, match="y has 3 labels"):
        DriftMonitor().fit(X_ref, y_ref[:3])
