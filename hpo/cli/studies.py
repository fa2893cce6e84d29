"""Commands that make and change studies: validate, create-study, run, set-budget, stop,
resume, delete-study."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hpo.cli.app import command, log, open_storage, print_notices
from hpo.cli.local_run import fail_if_nothing_ran, run_local_workers, useful_workers
from hpo.cli.options import (
    CheckpointDirOption,
    DirectionOption,
    MaxDurationOption,
    MaxTrialsOption,
    NameOption,
    ObjectiveOption,
    ParamOption,
    PrunerOption,
    RepeatsOption,
    SamplerOption,
    SeedOption,
    SpaceOption,
    StorageOption,
)
from hpo.cli.study_arg import StudyAlias, StudyArgument, one_study
from hpo.text import clip

if TYPE_CHECKING:
    from hpo.storage import HpoRDBStorage
    from hpo.study import Created, Overrides, SearchConfig


ArtifactDirOption = Annotated[
    str | None,
    typer.Option(
        "--artifact-dir",
        help="Where the best trials' weights are kept (a directory every worker can write) "
        "[default: beside a SQLite database, else each machine's cache].",
        show_default=False,
    ),
]
CommandOption = Annotated[
    str | None,
    typer.Option(
        "--command",
        help="A command each trial runs (as NNI's trialCommand: params through the nni shim, "
        "HPO_PARAMS or HPO_PARAMS_FILE); overrides the file's objective.",
        show_default=False,
    ),
]


@command("validate")
def validate(
    file: Annotated[Path, typer.Argument(help="Search-space or experiment file to check.")],
    sampler: SamplerOption = None,
    objective: ObjectiveOption = None,
    command_: CommandOption = None,
) -> None:
    """Check a search-space file or NNI experiment config as create-study would, and print
    its parameters as Optuna will sample them and what each trial will run."""
    from hpo.space import ChoiceParam, describe_distribution
    from hpo.study import Overrides, load_file
    from hpo.study.describe import check_config, run_summary
    from hpo.text import table

    config = load_file(file)
    if sampler is not None and "," in sampler:
        from hpo.errors import InvalidInputError

        raise InvalidInputError("validate --sampler takes one sampler")
    plan = check_config(config, Overrides(sampler=sampler, objective=objective, command=command_))
    spec = plan.specs[0]
    rows = []
    for param, conditions in spec.space.walk():
        key = param.optuna_key if isinstance(param, ChoiceParam) else param.key
        nni = f"{param.nni_type} {json.dumps(param.nni_value)}"
        rows.append(
            [
                key,
                clip(nni, 48),
                clip(describe_distribution(param.distribution()), 60),
                clip(" and ".join(conditions), 60),
            ]
        )
    print_notices(plan.notices)
    typer.echo(table(["parameter", "NNI type", "Optuna distribution", "active when"], rows))
    summary = run_summary(config, spec)
    width = max(len(what) for what, _ in summary)
    typer.echo("")
    for what, how in summary:
        typer.echo(f"{what:<{width}}  {clip(how, 120)}")
    typer.echo(
        f"\n{file}: valid {config.format}, {len(rows)} parameters, sampler {spec.sampler.name}"
    )


@command("create-study")
def create_study(
    space: SpaceOption,
    sampler: SamplerOption = None,
    pruner: PrunerOption = None,
    name: NameOption = None,
    storage: StorageOption = None,
    seed: SeedOption = None,
    objective: ObjectiveOption = None,
    command_: CommandOption = None,
    max_trials: MaxTrialsOption = None,
    max_duration: MaxDurationOption = None,
    param: ParamOption = None,
    direction: DirectionOption = None,
    checkpoint_dir: CheckpointDirOption = None,
    artifact_dir: ArtifactDirOption = None,
    repeats: RepeatsOption = 1,
    exist_ok: Annotated[
        bool, typer.Option("--exist-ok", help="Succeed if the same study exists already.")
    ] = False,
) -> None:
    """Create a study from a search-space file; workers then need only its name.

    Several samplers (--sampler tpe,random,cmaes) and/or --repeats make a comparison group:
    one study per sampler and repeat, for hpo worker --group and hpo compare.
    """
    from hpo.study import load_file, parse_overrides

    overrides = parse_overrides(
        name=name,
        sampler=sampler,
        pruner=pruner,
        seed=seed,
        objective=objective,
        command=command_,
        max_trials=max_trials,
        max_duration=max_duration,
        param=param or [],
        direction=direction,
        checkpoint_dir=checkpoint_dir,
        artifact_dir=artifact_dir,
    )
    created, _ = _create(
        load_file(space), storage, overrides, repeats, exist_ok=exist_ok, many_machines=True
    )
    for member in created:
        typer.echo(member.spec.name)


def _create(
    config: SearchConfig,
    storage_url: str | None,
    overrides: Overrides,
    repeats: int,
    *,
    exist_ok: bool,
    many_machines: bool = False,
    runs_here: bool = False,
) -> tuple[list[Created], HpoRDBStorage]:
    """Create a study, or a comparison group when several samplers or repeats are asked for.

    ``many_machines`` (create-study): say what workers on other machines would lack.
    ``runs_here`` (run): refuse, before anything is created, what this machine cannot run.
    """
    from hpo.storage import mask_url, resolve_url
    from hpo.storage.existing import refuse_in_memory
    from hpo.study import budget_text, plan_studies
    from hpo.study.artifacts import check_shared
    from hpo.study.groups import create_studies
    from hpo.study.rerun import settle_budget

    plan = plan_studies(config, overrides, repeats)
    refuse_in_memory(resolve_url(storage_url))
    if runs_here:  # its warnings would only say it again: the error says it all
        from hpo.worker import check_runnable_here

        for spec in plan.specs:
            check_runnable_here(spec)
    print_notices(plan.notices)
    for warning in dict.fromkeys(
        w for s in plan.specs for w in check_shared(s, resolve_url(storage_url))
    ):
        if many_machines:
            log.warning("%s", warning)
    store = open_storage(storage_url)  # only now: an invalid file never touches the storage
    created = create_studies(store, plan.specs, exist_ok=exist_ok)  # all or none
    # A budget the file changed: applied by hpo run, reported by create-study.
    settled = [
        settle_budget(store, member, asked, apply=not many_machines)
        for member, asked in zip(created, plan.specs, strict=True)
    ]
    created = [member for member, _ in settled]
    print_notices([note for _, notes in settled for note in notes])
    for member in created:
        s = member.spec
        verb = "using existing" if member.reused else "created"
        directions = ", ".join(f"{m.name} {m.direction}" for m in s.metrics)
        log.info(
            "%s study %r in %s: sampler %s, pruner %s, objective %s (%s), budget %s%s",
            verb,
            s.name,
            mask_url(resolve_url(storage_url)),
            s.sampler.describe(),
            s.pruner.describe(),
            s.objective.describe(),
            directions,
            budget_text(s),
            ", baseline trial enqueued" if s.baseline and not member.reused else "",
        )
    if plan.group is not None:
        log.info(
            "group %r: %d studies; run them with hpo worker --group %s",
            plan.group,
            len(created),
            plan.group,
        )
    return created, store


@command("run")
def run(
    space: SpaceOption,
    sampler: SamplerOption = None,
    pruner: PrunerOption = None,
    name: NameOption = None,
    storage: StorageOption = None,
    seed: SeedOption = None,
    objective: ObjectiveOption = None,
    command_: CommandOption = None,
    max_trials: MaxTrialsOption = None,
    max_duration: MaxDurationOption = None,
    param: ParamOption = None,
    direction: DirectionOption = None,
    checkpoint_dir: CheckpointDirOption = None,
    artifact_dir: ArtifactDirOption = None,
    repeats: RepeatsOption = 1,
    n_trials: Annotated[
        int | None,
        typer.Option(
            "--n-trials", min=0, help="Stop after N trials in this process.", show_default=False
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Local worker processes, at most 64 and never more than the study has trials "
            "left [default: the config's trialConcurrency, else 1].",
            show_default=False,
        ),
    ] = None,
    detach: Annotated[
        bool,
        typer.Option(
            "--detach",
            help="Run the workers in the background (they outlive the terminal), with a log "
            "file; return once they run. hpo down STUDY ends them.",
        ),
    ] = False,
    dashboard: Annotated[
        bool, typer.Option("--dashboard", help="With --detach: optuna-dashboard alongside.")
    ] = False,
    dashboard_port: Annotated[
        int, typer.Option("--dashboard-port", min=1, max=65535, help="The dashboard's port.")
    ] = 8080,
) -> None:
    """Create a study (or resume the same one) and run its trials on this machine."""
    # The options are create-study's, and so is the call that turns them into Overrides:
    # Typer reads a command's options from its own signature, so each spells them out.
    from hpo.errors import InvalidInputError
    from hpo.storage.credentials import protect_process
    from hpo.study import load_file, parse_overrides
    from hpo.study.bounds import check_local_workers
    from hpo.study.summary import summary_of
    from hpo.worker import DEFAULT_STOP_TIMEOUT, GroupWorker, Worker

    # Before anything runs: the trials must not find the storage URL in this process.
    protect_process(storage)
    if workers is not None:  # before anything is created: the study would be left behind
        check_local_workers(workers, "--workers")
    if dashboard and not detach:
        raise InvalidInputError("--dashboard goes with --detach (else: hpo dashboard)")
    overrides = parse_overrides(
        name=name,
        sampler=sampler,
        pruner=pruner,
        seed=seed,
        objective=objective,
        command=command_,
        max_trials=max_trials,
        max_duration=max_duration,
        param=param or [],
        direction=direction,
        checkpoint_dir=checkpoint_dir,
        artifact_dir=artifact_dir,
    )
    config = load_file(space)
    created, store = _create(config, storage, overrides, repeats, exist_ok=True, runs_here=True)
    if detach:  # returns in the background run only
        from hpo.cli.background import go_background

        go_background(
            created[0].spec.group or created[0].spec.name,
            storage,
            dashboard_port if dashboard else None,
        )
    group = created[0].spec.group
    if group is not None:
        runner = GroupWorker(store, group, n_trials=n_trials, stop_timeout=DEFAULT_STOP_TIMEOUT)
        runner.run()
        typer.echo(f"compare the samplers: hpo compare {group}")
        # Stopped now (a second signal), like `hpo worker`: the exit code says so.
        raise typer.Exit(runner.stop.exit_code)
    spec = created[0].spec
    count = useful_workers(store, created[0], workers or config.concurrency or 1)
    if count > 1:
        code = run_local_workers(spec, config, count, storage, n_trials)
    else:
        worker = Worker(store, spec.name, n_trials=n_trials)
        worker.run()
        code = worker.stop.exit_code
    summary = summary_of(store, spec.name)
    if summary.best_value is not None:
        typer.echo(
            f"best {spec.metrics[0].name} {summary.best_value:.6g} (trial {summary.best_number}); "
            f"params: hpo best {spec.name}"
        )
    if code == 0:  # not stopped by a signal (the exit code says that already)
        fail_if_nothing_ran(summary)
    raise typer.Exit(code)


@command("set-budget")
def set_budget(
    study: StudyArgument = None,
    max_trials: MaxTrialsOption = None,
    max_duration: MaxDurationOption = None,
    study_option: StudyAlias = None,
    storage: StorageOption = None,
) -> None:
    """Change a study's budgets while it runs (workers pick the new ones up at once)."""
    study = one_study(study, study_option)
    from hpo.errors import InvalidInputError
    from hpo.study import budget_text, change_budget, load_spec
    from hpo.study.overrides import duration_option

    if max_trials is None and max_duration is None:
        raise InvalidInputError("give --max-trials and/or --max-duration")
    seconds = None if max_duration is None else duration_option(max_duration)
    store = open_storage(storage, create=False)
    study_id, spec = load_spec(store, study)
    change = change_budget(store, study_id, spec, max_trials=max_trials, max_duration_s=seconds)
    if change.notice:
        log.warning("%s", change.notice)
    log.info(
        "study %r budget: %s (was %s)", study, budget_text(change.after), budget_text(change.before)
    )


@command("stop")
def stop(
    study: StudyArgument = None,
    study_option: StudyAlias = None,
    storage: StorageOption = None,
) -> None:
    """Stop a study: its workers finish their current trial and exit (hpo resume undoes it)."""
    study = one_study(study, study_option)
    from hpo.study import set_stopped

    set_stopped(open_storage(storage, create=False), study, True)
    log.info("study %r stopped: workers exit after their current trial", study)


@command("resume")
def resume(
    study: StudyArgument = None,
    study_option: StudyAlias = None,
    storage: StorageOption = None,
) -> None:
    """Let workers run a stopped study again."""
    study = one_study(study, study_option)
    from hpo.study import set_stopped

    set_stopped(open_storage(storage, create=False), study, False)
    log.info("study %r resumed: start workers with hpo worker --study %s", study, study)


@command("delete-study")
def delete_study(
    study: StudyArgument = None,
    study_option: StudyAlias = None,
    storage: StorageOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a study and everything it owns: its trials, their logs and kept weights, and its
    folder of trial directories where this machine reaches it."""
    study = one_study(study, study_option)
    from hpo.storage import resolve_url
    from hpo.study import load_study_id
    from hpo.study.delete import delete_study as delete

    store = open_storage(storage, create=False)
    load_study_id(store, study)  # a missing study is an error before any question
    if not yes:
        typer.confirm(f"delete study {study!r} and all its trials?", abort=True)
    deleted = delete(store, study, resolve_url(storage))
    removed = [f"{deleted.chunks} stored chunks of weights and logs"] if deleted.chunks else []
    if deleted.files:
        removed.append(f"{deleted.files} weights files")
    if deleted.folder is not None:
        removed.append(f"its trial directories ({deleted.folder})")
    log.info("deleted study %r%s", study, f": {', '.join(removed)}" if removed else "")
