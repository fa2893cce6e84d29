"""Keeping the weights of a study's best trials, in its artifact store (optuna-dashboard lists
them; ``hpo best --weights FILE`` downloads the best one).

A completed trial's weights are kept when fewer than ``keep_weights`` (default 1) complete
trials of the study beat it, decided before its own result is recorded. Weights kept earlier
stay: a new best is rare (about ln n of n trials), so the store holds a handful per study.
"""

from __future__ import annotations

import logging

import optuna
from optuna.storages import BaseStorage
from optuna.trial import TrialState

from hpo import optuna_compat as compat
from hpo.objectives import Outcome
from hpo.study import StudySpec
from hpo.study.artifacts import artifact_store

log = logging.getLogger("hpo.worker")


def keep_best_weights(
    storage: BaseStorage,
    study: optuna.Study,
    spec: StudySpec,
    trial: optuna.Trial,
    outcome: Outcome,
) -> str | None:
    """Upload the trial's weights if it is among the study's best; the artifact id, or None."""
    weights = outcome.files.get("weights")
    if weights is None or not weights.exists() or spec.is_multi_objective:
        return None
    value = outcome.values[0]
    maximize = spec.metrics[0].direction == "maximize"
    complete = storage.get_all_trials(
        compat.study_id(study), deepcopy=False, states=(TrialState.COMPLETE,)
    )
    better = sum(
        1
        for t in complete
        if t.value is not None and (t.value > value if maximize else t.value < value)
    )
    if better >= spec.keep_weights:
        return None
    url = getattr(compat.storage_backend(storage), "url", "") or ""
    artifact_id = optuna.artifacts.upload_artifact(
        artifact_store=artifact_store(spec, compat.study_id(study), storage, str(url)),
        file_path=str(weights),
        study_or_trial=trial,
        mimetype="application/octet-stream",
    )
    log.debug("trial %d: weights kept as artifact %s", trial.number, artifact_id)
    return artifact_id
