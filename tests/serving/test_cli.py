import json

import numpy as np
import pytest

from sklearn_recsys.cli import main
from sklearn_recsys.serving import PredictionLog, replay


@pytest.fixture
def logged(tmp_path, interactions, lgbm_pipeline):
    """A log with 300 scored rows, each labelled with its true label."""
    X, y, _ = interactions
    log = PredictionLog(tmp_path / "log.db")
    cols = X.drop(columns="timestamp").iloc[:300]
    scores = lgbm_pipeline.predict_proba(X.iloc[:300])[:, 1]
    for j in range(0, 300, 3):
        part = cols.iloc[j : j + 3]
        log.log_request(
            f"r{j}",
            "score",
            {c: part[c].tolist() for c in part.columns},
            scores[j : j + 3],
            model_version="v1",
        )
        for k in range(3):
            log.log_feedback(f"r{j}", int(part["item_id"].iloc[k]), int(y.iloc[j + k]))
    log.close()
    return tmp_path / "log.db", scores, y.iloc[:300].to_numpy()


def test_replay_evaluates_served_and_candidate_models(logged, saved_models):
    from sklearn.metrics import roc_auc_score

    path, scores, y = logged
    res = replay(path, saved_models[1])
    assert res["served"]["n"] == 300
    assert res["served"]["roc_auc"] == pytest.approx(roc_auc_score(y, scores))
    assert res["replayed"]["roc_auc"] is not None
    assert res["replayed"]["roc_auc"] != res["served"]["roc_auc"]  # another model
    assert set(res["by_model_version"]) == {"v1"}
    # the served model itself reproduces its logged scores
    same = replay(path, saved_models[0])
    np.testing.assert_allclose(same["frame"]["replayed_score"], same["frame"]["score"])


def test_replay_cli_prints_and_writes_json(logged, saved_models, tmp_path, capsys):
    path, _, _ = logged
    out = tmp_path / "replay.json"
    assert main(["replay", str(path), "--model", str(saved_models[1]), "--output", str(out)]) == 0
    text = capsys.readouterr().out
    assert "served" in text and "replayed" in text and "roc_auc" in text
    payload = json.loads(out.read_text())
    assert payload["served"]["n"] == 300


def test_monitor_cli_writes_an_html_report(tmp_path, interactions, saved_models, capsys):
    X, y, _ = interactions
    ref, cur = tmp_path / "ref.csv", tmp_path / "cur.csv"
    X.iloc[:2500].assign(label=y.iloc[:2500]).to_csv(ref, index=False)
    X.iloc[2500:].assign(price=X["price"].iloc[2500:] * 3).to_csv(cur, index=False)
    out = tmp_path / "report.html"
    rc = main(
        [
            "monitor",
            str(ref),
            str(cur),
            "--model",
            str(saved_models[0]),
            "--output",
            str(out),
            "--fail-on-alert",
        ]
    )
    assert rc == 1
    assert "ALERT feature_drift: price" in capsys.readouterr().out
    page = out.read_text()
    assert page.count("data:image/png;base64,") >= 5  # price, position, category, ..., score
    assert "price" in page
    # against the saved model's own reference profile, unshifted rows: no alert
    X.iloc[2500:].to_csv(cur, index=False)
    assert (
        main(["monitor", str(saved_models[0]), str(cur), "--output", str(out), "--fail-on-alert"])
        == 0
    )
