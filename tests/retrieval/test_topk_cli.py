"""``sklearn-recsys topk``: the top-k mode of the command line."""

import json

import pytest

from sklearn_recsys.cli import main


@pytest.mark.slow
def test_topk_cli_synthetic(tmp_path, capsys):
    out = tmp_path / "topk.json"
    rc = main(["topk", "--dataset", "synthetic", "--n-interactions", "8000", "--models",
               "popularity,ease,two-stage", "--xquad", "0.5", "--output", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "all_ndcg" in text and "ease + xquad(0.5)" in text
    rows = {r["model"]: r for r in json.loads(out.read_text())["results"]}
    assert set(rows) == {"popularity", "popularity + xquad(0.5)", "ease", "ease + xquad(0.5)",
                         "two-stage", "two-stage + xquad(0.5)"}
    assert rows["ease"]["all_ndcg"] > rows["popularity"]["all_ndcg"]
    assert rows["ease + xquad(0.5)"]["all_aplt"] > rows["ease"]["all_aplt"]
    assert main(["topk", "--list"]) == 0
