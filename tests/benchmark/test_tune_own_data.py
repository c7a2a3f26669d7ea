"""``sklearn-recsys tune`` on a team's own file: the journal in the output folder, --resume."""

import json

import optuna
import pytest

from sklearn_recsys.cli import main

from .conftest import OWN_ARGS


@pytest.mark.slow
def test_tune_own_csv_keeps_a_journal_and_resumes(own_files, tmp_path, capsys):
    out = tmp_path / "tune"
    base = [
        "tune",
        "--data",
        str(own_files / "shop.csv"),
        *OWN_ARGS,
        "--recipe",
        "logistic",
        "--cv",
        "2",
        "--verbose",
        "0",
        "--output-dir",
        str(out),
    ]
    assert main([*base, "--n-trials", "2"]) == 0
    journal = out / "study.log"
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(journal))
    )
    assert len(optuna.load_study(study_name="sklearn-recsys-tune", storage=storage).trials) == 2
    summary = json.loads((out / "summary.json").read_text())
    assert summary["dataset"] == "shop" and 0 <= summary["test"]["roc_auc"] <= 1
    capsys.readouterr()
    # a second run into the same folder must not silently mix into the study
    assert main([*base, "--n-trials", "3"]) == 2
    assert "--resume continues it" in capsys.readouterr().err
    # --resume runs only what is missing: 3 finished trials in all
    assert main([*base, "--n-trials", "3", "--resume"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_trials_this_run"] == 1 and summary["n_trials_in_study"] == 3


def test_resume_without_a_study_is_a_user_error(tmp_path, capsys):
    rc = main(
        ["tune", "--n-interactions", "2000", "--resume", "--output-dir", str(tmp_path / "none")]
    )
    assert rc == 2 and "no study to continue" in capsys.readouterr().err


@pytest.mark.slow
def test_resume_after_a_kill_fails_the_orphaned_trial(own_files, tmp_path):
    out = tmp_path / "tune"
    out.mkdir()
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(out / "study.log"))
    )
    study = optuna.create_study(
        study_name="sklearn-recsys-tune", storage=storage, direction="maximize"
    )
    study.ask()  # a trial that was running when the process was killed
    rc = main(
        [
            "tune",
            "--data",
            str(own_files / "shop.csv"),
            *OWN_ARGS,
            "--recipe",
            "logistic",
            "--cv",
            "2",
            "--verbose",
            "0",
            "--n-trials",
            "1",
            "--resume",
            "--output-dir",
            str(out),
        ]
    )
    assert rc == 0
    states = [
        t.state for t in optuna.load_study(study_name="sklearn-recsys-tune", storage=storage).trials
    ]
    assert states == [optuna.trial.TrialState.FAIL, optuna.trial.TrialState.COMPLETE]
