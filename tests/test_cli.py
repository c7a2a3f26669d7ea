import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sklearn_recsys import benchmark
from sklearn_recsys.cli import main


def strict_load(path):
    """json.load that refuses NaN / Infinity (what other tools' strict parsers do)."""

    def refuse(token):
        raise ValueError(f"not strict JSON: {token}")

    with open(path) as f:
        return json.load(f, parse_constant=refuse)


def test_benchmark_synthetic_prints_a_table_and_writes_json(tmp_path, capsys):
    out = tmp_path / "r.json"
    plot = tmp_path / "pr.png"
    rc = main(
        [
            "benchmark",
            "--n-interactions",
            "20000",
            "--verbose",
            "0",
            "--strategies",
            "lightgbm,logistic,popularity",
            "--output",
            str(out),
            "--plot",
            str(plot),
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    for column in (
        "roc_auc",
        "pr_auc",
        "f1_pos",
        "recall_pos",
        "balanced_acc",
        "pos_rate_test",
        "ndcg@10",
        "recall@10",
        "coverage@10",
        "aplt@10",
        "arp@10",
    ):
        assert column in text
    payload = strict_load(out)
    rows = {r["strategy"]: r for r in payload["results"]}
    assert set(rows) >= {"lightgbm", "logistic", "popularity"}
    assert rows["lightgbm"]["roc_auc"] > 0.65  # the label is learnable
    assert 0 < rows["lightgbm"]["ndcg@10"] <= 1 and 0 < rows["lightgbm"]["coverage@10"] <= 1
    assert rows["popularity"]["f1_pos"] is None  # a scorer without class predictions: null
    assert any("FewTestRowsWarning" in w for w in payload["warnings"])
    assert plot.stat().st_size > 1000


@pytest.mark.slow
def test_benchmark_movielens_clears_the_reference_scores(data_home, tmp_path):
    """Reference on this split and label: item rate 0.728, user + item rates 0.785."""
    out = tmp_path / "r.json"
    main(
        [
            "benchmark",
            "--dataset",
            "ml-100k",
            "--data-home",
            str(data_home),
            "--strategies",
            "lightgbm",
            "--verbose",
            "0",
            "--output",
            str(out),
        ]
    )
    row = strict_load(out)["results"][0]
    assert row["roc_auc"] > 0.785
    assert row["ndcg@10"] > 0.62  # the popularity floor re-ranks the test rows to 0.620
    assert 0.17 < row["pos_rate_test"] < 0.19


OWN = [
    "--user-col",
    "customer",
    "--item-col",
    "sku",
    "--time-col",
    "ts",
    "--label",
    "outcome",
    "--positive",
    "bought",
]


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    from sklearn_recsys.datasets import make_interactions

    d = make_interactions(n_users=300, n_items=150, n_interactions=8000, random_state=0)
    log = d.interactions.rename(
        columns={"user_id": "customer", "item_id": "sku", "timestamp": "ts"}
    )
    log["outcome"] = log.pop("purchase").map({0: "viewed", 1: "bought"})
    folder = tmp_path_factory.mktemp("shop")
    log.to_csv(folder / "shop.csv", index=False)
    log.to_parquet(folder / "shop.parquet")
    return folder, log


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_benchmark_own_file(shop, suffix, tmp_path, capsys):
    folder, log = shop
    out = tmp_path / "r.json"
    rc = main(
        [
            "benchmark",
            "--data",
            str(folder / f"shop.{suffix}"),
            *OWN,
            "--verbose",
            "0",
            "--strategies",
            "popularity,logistic",
            "--output",
            str(out),
        ]
    )
    assert rc == 0
    payload = strict_load(out)
    assert payload["dataset"] == "shop"
    assert payload["n_train"] + payload["n_test"] == len(log)
    rows = {r["strategy"]: r for r in payload["results"]}
    assert rows["logistic"]["roc_auc"] > 0.55 and rows["popularity"]["f1_pos"] is None
    expected = (log["outcome"] == "bought").mean()
    test_rate = rows["logistic"]["pos_rate_test"]
    assert abs(test_rate - expected) < 0.02


def _error(argv, capsys):
    """Run the CLI, expect a user error: exit 2, one line on stderr, no traceback."""
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize(
    "extra, expected",
    [
        (["--strategies", "lightgbm,nope"], "--strategies: unknown strategies ['nope']"),
        (["--user-col", "uid"], "user_col='uid' is not a column of the data (shop)"),
        (
            ["--positive", None],
            "label column 'outcome' holds strings ['bought', 'viewed']; name "
            "the positive class with positive= (--positive VALUE)",
        ),
        (["--label", None], "--data needs a label: --label COL"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(shop, capsys, extra, expected):
    argv = ["benchmark", "--data", str(shop[0] / "shop.csv"), *OWN, "--verbose", "0"]
    if extra[1] is None:  # drop an option and its value
        k = argv.index(extra[0])
        del argv[k : k + 2]
    else:
        argv += extra
    assert expected in _error(argv, capsys)


@pytest.mark.parametrize(
    "change, expected",
    [
        ("nan_ids", "user_col='customer' has 2 missing ids (NaN)"),
        ("one_class", "label 'outcome' has one class only"),
    ],
)
def test_bad_data_is_one_line_and_exit_2(shop, tmp_path, capsys, change, expected):
    log = shop[1].copy()
    if change == "nan_ids":
        log["customer"] = log["customer"].astype(float)
        log.loc[log.index[[3, 7]], "customer"] = np.nan
    else:
        log["outcome"] = "bought"
    log.to_csv(tmp_path / "bad.csv", index=False)
    line = _error(["benchmark", "--data", str(tmp_path / "bad.csv"), *OWN], capsys)
    assert expected in line


def test_argument_errors_are_one_line_and_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["benchmark", "--test-size", "1.5"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1
    assert "--test-size: expected a fraction in (0, 1); got 1.5" in err
    assert "--data PATH" in _error(["benchmark", "--label", "y"], capsys)
    assert "not both" in _error(
        ["benchmark", "--dataset", "synthetic", "--data", "x.csv", "--label", "y"], capsys
    )
    assert "does not exist" in _error(
        ["benchmark", "--data", "missing.csv", "--label", "y"], capsys
    )


def test_debug_shows_the_traceback(shop):
    with pytest.raises(ValueError, match="is not a column"):
        main(
            ["benchmark", "--data", str(shop[0] / "shop.csv"), *OWN, "--user-col", "uid", "--debug"]
        )


def test_missing_data_folder_from_a_fresh_shell(tmp_path):
    """As the README's command on a fresh clone: no traceback, no folder, no network."""
    env = {k: v for k, v in os.environ.items() if k != "SKLEARN_RECSYS_DATA"}
    env["HOME"] = str(tmp_path / "home")
    proc = subprocess.run(
        [sys.executable, "-m", "sklearn_recsys.cli", "benchmark", "--dataset", "ml-100k"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert f"looked in {tmp_path}/home/sklearn_recsys_data/ml-100k" in proc.stderr
    assert "SKLEARN_RECSYS_DATA" in proc.stderr and "--download" in proc.stderr
    assert not (tmp_path / "home").exists()


def test_version_and_help_show_defaults(capsys):
    from sklearn_recsys import __version__

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.strip().endswith(__version__)
    with pytest.raises(SystemExit):
        main(["benchmark", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: 0.2)" in text and "(default: user_id)" in text
    with pytest.raises(SystemExit):
        main(["tune", "--help"])
    assert "(default: 20)" in " ".join(capsys.readouterr().out.split())


def test_list_and_errors(capsys):
    assert main(["benchmark", "--list"]) == 0
    assert "lightgbm" in capsys.readouterr().out
    data = benchmark.load_benchmark_data("synthetic", n_interactions=2000)
    with pytest.raises(ValueError, match="unknown strategies"):
        benchmark.run_benchmark(data, ["nope"])
    with pytest.raises(ValueError, match="dataset"):
        benchmark.load_benchmark_data("nope")


def test_registry_rejects_duplicates_unless_replaced():
    with pytest.raises(ValueError, match="already registered"):
        benchmark.register_strategy("lightgbm", "again")(lambda data: None)
    before = benchmark.STRATEGIES["popularity"]
    try:
        benchmark.register_strategy("popularity", "mine", replace=True)(lambda data: None)
        assert benchmark.STRATEGIES["popularity"].description == "mine"
    finally:
        benchmark.STRATEGIES["popularity"] = before


def test_user_strategy_runs_from_python_as_the_docs_write_it():
    from lightgbm import LGBMClassifier
    from sklearn.pipeline import make_pipeline

    from sklearn_recsys.benchmark import featurizer, register_strategy

    @register_strategy("my-balanced", "featurizer + LightGBM with balanced class weights")
    def _balanced(data):
        return make_pipeline(
            featurizer(data),
            LGBMClassifier(class_weight="balanced", n_estimators=30, n_jobs=1, verbose=-1),
        )

    try:
        data = benchmark.load_benchmark_data("synthetic", n_interactions=5000)
        table, scores = benchmark.run_benchmark(data, ["my-balanced", "popularity"], verbose=0)
        assert table.loc["my-balanced", "roc_auc"] > 0.55
        # balanced weights predict positives where a plain model predicts none
        assert table.loc["my-balanced", "pos_rate_pred"] > 0
    finally:
        benchmark.STRATEGIES.pop("my-balanced")


def test_deprecated_private_alias_reexports_the_same_objects():
    import importlib

    with pytest.warns(DeprecationWarning, match="sklearn_recsys.benchmark"):
        import sklearn_recsys._benchmark as old

        importlib.reload(old)
    assert old.STRATEGIES is benchmark.STRATEGIES
    assert old.load_benchmark_data is benchmark.load_benchmark_data


def test_every_registered_strategy_builds_an_estimator():
    from sklearn.base import clone

    data = benchmark.load_benchmark_data("synthetic", n_interactions=2000)
    for name, strategy in benchmark.STRATEGIES.items():
        est = strategy.factory(data)
        clone(est)  # a plain scikit-learn estimator
        assert hasattr(est, "fit"), name
    defaults = [n for n, s in benchmark.STRATEGIES.items() if s.default]
    assert {"lightgbm", "popularity"} <= set(defaults)


def test_text_dropout_strategy_turns_on_item_dropout():
    data = benchmark.load_benchmark_data("synthetic", n_interactions=2000)
    key = "interactionfeaturizer__cold_item_fraction"
    dropout = benchmark.STRATEGIES["lightgbm+text+dropout"].factory(data)
    plain = benchmark.STRATEGIES["lightgbm+text"].factory(data)
    assert dropout.get_params()[key] == 0.2 and plain.get_params()[key] == 0.0
    assert [n for n, _ in dropout.steps] == [n for n, _ in plain.steps]


def test_records_are_strict_json():
    from sklearn_recsys.cli import _records

    table = pd.DataFrame(
        {"a": [1.0, np.nan, np.inf]}, index=pd.Index(["x", "y", "z"], name="strategy")
    )
    assert json.loads(json.dumps(_records(table), allow_nan=False)) == [
        {"strategy": "x", "a": 1.0},
        {"strategy": "y", "a": None},
        {"strategy": "z", "a": None},
    ]
