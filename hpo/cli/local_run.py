"""What ``hpo run`` does on this machine once its study exists: how many local workers, starting
them, and whether the search found anything."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hpo.cli.app import log

if TYPE_CHECKING:
    from hpo.storage import HpoRDBStorage
    from hpo.study import Created, SearchConfig, StudySpec
    from hpo.study.summary import StudySummary


def fail_if_nothing_ran(summary: StudySummary) -> None:
    """Every trial failed: a search that found nothing is a failure, not exit 0."""
    from optuna.trial import TrialState

    from hpo.errors import HpoError

    counts = summary.counts
    failed = counts.get(TrialState.FAIL, 0)
    ended = counts.get(TrialState.COMPLETE) or counts.get(TrialState.PRUNED)
    if failed and not ended and not counts.get(TrialState.WAITING):  # no retry queued
        raise HpoError(
            f"every trial of study {summary.name!r} failed ({failed}); their errors: "
            f"hpo trials {summary.name} --state fail"
        )


def useful_workers(store: HpoRDBStorage, created: Created, asked: int) -> int:
    """The local workers to start: as many as asked, but never more than the study has trials
    left to run (``trialConcurrency: 8`` for a 3-trial study starts 3: the others would find
    the budget spent and exit)."""
    from hpo.storage import state_counts
    from hpo.study.bounds import trials_left

    left = trials_left(created.spec, state_counts(store, created.study_id))
    if left is None or asked <= max(1, left):
        return asked
    log.info("starting %d workers, not %d: the study has %d trials left", max(1, left), asked, left)
    return max(1, left)


def run_local_workers(
    spec: StudySpec, config: SearchConfig, count: int, storage: str | None, n_trials: int | None
) -> int:
    """``count`` worker processes on this machine (NNI's trialConcurrency), each with its own
    GPUs when trials ask for some; the exit code the supervisor gives."""
    from hpo.objectives.command import detect_gpus
    from hpo.storage import resolve_url
    from hpo.worker import DEFAULT_STOP_TIMEOUT, Supervisor, local_devices

    per_trial = spec.objective.gpus or 0
    gpus = list(config.gpu_indices or ()) or (detect_gpus() if per_trial else [])
    args = ["worker", "--study", spec.name, "--stop-timeout", str(DEFAULT_STOP_TIMEOUT)]
    if n_trials is not None:
        args += ["--n-trials", str(n_trials)]
    log.info("starting %d local workers for study %r", count, spec.name)
    return Supervisor(args, local_devices(count, per_trial, gpus), 1, resolve_url(storage)).run()
