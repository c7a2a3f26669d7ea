"""``sklearn-recsys tune`` (add_tune_parser / tune_main), on small synthetic data."""

import argparse
import json

import joblib
import optuna
import pytest

from sklearn_recsys._tune_cli import add_tune_parser, make_recipe


def parse(argv):
    parser = argparse.ArgumentParser(prog="sklearn-recsys")
    add_tune_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["tune", *argv])


SMALL = [
    "--dataset",
    "synthetic",
    "--n-interactions",
    "4000",
    "--cv",
    "2",
    "--verbose",
    "0",
    "--samplers",
    "none,under",
    "--losses",
    "logloss,weighted",
]


@pytest.mark.slow
def test_tune_writes_summary_pipeline_and_plots(tmp_path):
    args = parse([*SMALL, "--n-trials", "3", "--output-dir", str(tmp_path)])
    assert args.func(args) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["n_trials_this_run"] == 3 and summary["recipe"] == "strategies"
    assert summary["best_params"]["sampler"] in {"none", "under"}
    assert 0 <= summary["test"]["pr_auc"] <= 1
    pipe = joblib.load(tmp_path / "best_pipeline.joblib")
    assert pipe.named_steps["features"].memory is None and hasattr(pipe, "predict_proba")
    assert (tmp_path / "cv_results.csv").read_text().count("\n") == 4
    assert {p.rsplit("/", 1)[1] for p in summary["plots"]} == {
        "optimization_history.png",
        "param_importances.png",
    }


@pytest.mark.slow
def test_tune_workers_join_one_study(tmp_path):
    storage = f"journal://{tmp_path}/study.log"
    common = [*SMALL, "--n-trials", "2", "--storage", storage, "--study-name", "w", "--no-refit"]
    for seed in (0, 1):
        args = parse([*common, "--worker-seed", str(seed), "--output-dir", str(tmp_path)])
        assert args.func(args) == 0
    backend = optuna.storages.journal.JournalFileBackend(str(tmp_path / "study.log"))
    study = optuna.load_study(study_name="w", storage=optuna.storages.JournalStorage(backend))
    assert len(study.trials) == 4
    assert json.loads((tmp_path / "summary.json").read_text())["n_trials_in_study"] == 4
    # another --random-state draws other data: refused rather than mixed into the study
    args = parse([*common, "--random-state", "5", "--output-dir", str(tmp_path)])
    with pytest.raises(ValueError, match="other data"):
        args.func(args)


def test_recipes():
    from sklearn_recsys._benchmark import load_benchmark_data

    data = load_benchmark_data("synthetic", n_interactions=2000)
    pipe, space = make_recipe("lightgbm", data)
    assert space == {"clf": "default"} and pipe.steps[-1][0] == "clf"
    with pytest.raises(ValueError, match="recipe must be one of"):
        make_recipe("xgboost", data)
