"""``sklearn-recsys topk``: the top-k mode of the command line."""

import json

import pytest

from sklearn_recsys.cli import main


@pytest.mark.slow
def test_topk_cli_synthetic(tmp_path, capsys):
    out = tmp_path / "topk.json"
    rc = main(
        [
            "topk",
            "--dataset",
            "synthetic",
            "--n-interactions",
            "8000",
            "--models",
            "popularity,ease,two-stage",
            "--xquad",
            "0.5",
            "--output",
            str(out),
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "all_ndcg" in text and "ease + xquad(0.5)" in text
    rows = {r["model"]: r for r in json.loads(out.read_text())["results"]}
    assert set(rows) == {
        "popularity",
        "popularity + xquad(0.5)",
        "ease",
        "ease + xquad(0.5)",
        "two-stage",
        "two-stage + xquad(0.5)",
    }
    # (on 8,000 synthetic rows EASE and popularity tie: 0.199 vs 0.2015; quality is measured
    # in benchmarks/bench_topk.py and tests/test_recommend.py, not here)
    for row in rows.values():
        assert 0.0 < row["all_ndcg"] <= 1.0 and 0.0 <= row["all_recall"] <= 1.0
    assert rows["ease + xquad(0.5)"]["all_aplt"] > rows["ease"]["all_aplt"]
    assert main(["topk", "--list"]) == 0
