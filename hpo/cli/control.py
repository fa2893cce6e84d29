"""Commands that steer single trials: kill, enqueue."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from hpo.cli.app import command, log, open_storage
from hpo.cli.options import ParamOption, StorageOption
from hpo.cli.study_arg import StudyAlias, StudyArgument, one_study, study_and_number

#: Seconds ``hpo kill`` waits for the trial to end by default: its worker looks every second.
KILL_WAIT = 60.0
#: The longest wait ``hpo kill --wait`` takes: an hour.
MAX_KILL_WAIT = 3600.0


@command("kill")
def kill(
    study: StudyArgument = None,
    trial: Annotated[
        int | None, typer.Argument(min=0, help="Trial number.", show_default=False)
    ] = None,
    fail: Annotated[
        bool,
        typer.Option(
            "--fail",
            help="End it as FAIL (samplers ignore it) rather than PRUNED (samplers learn "
            "from its last value).",
        ),
    ] = False,
    reason: Annotated[
        str, typer.Option("--reason", help="Why, kept in the trial's hpo:error.")
    ] = "killed by hpo kill",
    wait: Annotated[
        float,
        typer.Option(
            "--wait",
            min=0,
            max=MAX_KILL_WAIT,
            help="Seconds to wait for the trial to end (0: do not wait).",
        ),
    ] = KILL_WAIT,
    study_option: StudyAlias = None,
    storage: StorageOption = None,
) -> None:
    """Stop one running trial, on whichever machine runs it: it ends as PRUNED (or FAIL with
    --fail) with the reason in its hpo:error, is not retried, and its worker takes the next."""
    from optuna.trial import TrialState

    from hpo import attrs
    from hpo.errors import InvalidInputError
    from hpo.text import one_line
    from hpo.worker.kill import KillRequest, request_kill, wait_for_end

    name, number = study_and_number(study, study_option, trial)
    if not reason.strip():
        raise InvalidInputError("--reason: expected a reason, got an empty one")
    request = KillRequest("fail" if fail else "pruned", one_line(reason.strip()))
    store = open_storage(storage, create=False)
    trial_id = request_kill(store, name, number, request)
    log.info("trial %d of study %r: asked its worker to end it (%s)", number, name, request.reason)
    ended = wait_for_end(store, trial_id, wait) if wait > 0 else None
    if ended is None:
        if wait > 0:
            log.warning(
                "trial %d still runs after %gs: its worker ends it when it next looks (every "
                "second); a worker that is gone leaves it to the liveness check, which fails "
                "it without a retry",
                number,
                wait,
            )
        return
    if ended.state == TrialState.COMPLETE:
        typer.echo(f"trial {number} COMPLETE: it ended before its worker saw the kill")
    else:
        typer.echo(f"trial {number} {ended.state.name}: {ended.user_attrs.get(attrs.ERROR, '')}")


@command("enqueue")
def enqueue(
    study: StudyArgument = None,
    param: ParamOption = None,
    study_option: StudyAlias = None,
    storage: StorageOption = None,
) -> None:
    """Queue a trial with params you choose (-p lr=0.1 -p batch_size=64), checked against the
    study's search space; params left out are the sampler's to choose. It runs before any new
    trial and counts against the trial budget."""
    from hpo.study.enqueue import enqueue as enqueue_trial
    from hpo.study.overrides import parse_params

    name = one_study(study, study_option)
    queued = enqueue_trial(open_storage(storage, create=False), name, parse_params(param or []))
    fixed = " ".join(f"{k}={json.dumps(v)}" for k, v in queued.fixed.items())
    sampled = f"; sampled: {', '.join(queued.sampled)}" if queued.sampled else ""
    log.info("trial %d of study %r queued: %s%s", queued.number, name, fixed, sampled)
    typer.echo(str(queued.number))
