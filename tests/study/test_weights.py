"""The best trials' weights, kept in the study's artifact store and loadable into their model."""

from __future__ import annotations

from pathlib import Path

import optuna
import torch
from optuna.trial import TrialState

from hpo import attrs
from tests.helpers import SEARCH_SPACES, hpo_cli, run_hpo, trials
from training.checkpoint import read_checkpoint
from training.models import ModelSpec, build_model


def test_the_best_trials_weights_are_kept_and_load_into_its_model(
    tmp_path: Path, sqlite_url: str
) -> None:
    result = run_hpo(
        "run",
        "--space",
        str(SEARCH_SPACES / "digits_cnn.json"),
        "--max-trials",
        "3",
        "-p",
        "num_epochs=1",
        "--pruner",
        "none",
        "--seed",
        "5",
        storage=sqlite_url,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    done = [t for t in trials(sqlite_url, "digits_cnn") if t.state == TrialState.COMPLETE]
    best = max(done, key=lambda t: t.value or 0.0)
    kept = [t for t in done if attrs.WEIGHTS in t.user_attrs]
    assert best in kept  # the best trial's, and only those that were best when they ended
    for trial in kept:
        assert all(
            t.value is not None and t.value <= (trial.value or 0)
            for t in done
            if t.number < trial.number
        )
    # Optuna knows them as the trials' artifacts: optuna-dashboard lists them. They are in
    # the study's database, not in a directory beside it.
    study = optuna.load_study(study_name="digits_cnn", storage=sqlite_url)
    metas = optuna.artifacts.get_all_artifact_meta(
        study.trials[best.number], storage=study._storage
    )
    assert [m.artifact_id for m in metas] == [best.user_attrs[attrs.WEIGHTS]]
    assert not (tmp_path / "hpo-artifacts").exists()

    saved = tmp_path / "best.pt"
    downloaded = hpo_cli(
        "best", "digits_cnn", "--weights", str(saved), storage=sqlite_url, cwd=tmp_path
    )
    assert downloaded.returncode == 0, downloaded.stderr
    checkpoint = read_checkpoint(torch.load(saved, weights_only=True))
    assert checkpoint is not None and checkpoint.model == "simple_cnn"
    model = build_model(
        checkpoint.model,
        ModelSpec(checkpoint.num_classes, checkpoint.in_channels, 8, checkpoint.width),
    )
    model.load_state_dict(checkpoint.state_dict)  # strict: every tensor matches the model
    again = hpo_cli("best", "digits_cnn", "--weights", str(saved), storage=sqlite_url)
    assert again.returncode == 2 and "exists" in again.stderr
