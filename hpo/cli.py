"""The ``hpo`` command line (typer). Thin: parse options, call the modules, print.

Heavy imports (optuna, SQLAlchemy, torch) happen inside the commands, so ``hpo --help``
answers at once. Every :class:`~hpo.errors.HpoError` becomes one line on stderr and its exit
code, in one place (:func:`_command`).
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

app = typer.Typer(
    name="hpo",
    help=(
        "Hyperparameter search for PyTorch image classification: NNI / Dr.Opt search spaces "
        "become Optuna studies that any number of workers share."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

log = logging.getLogger("hpo")
F = TypeVar("F", bound=Callable[..., Any])

StorageOption = Annotated[
    str | None,
    typer.Option(
        "--storage",
        envvar="HPO_STORAGE",
        show_envvar=True,
        help="Study storage URL (default sqlite:///hpo.db). Prefer the environment variable "
        "for URLs with a password: it stays out of ps.",
        show_default=False,
    ),
]
SpaceOption = Annotated[
    Path,
    typer.Option("--space", help="Search-space file: a bare NNI space or a Dr.Opt config (JSON)."),
]
RepeatsOption = Annotated[
    int,
    typer.Option(
        "--repeats",
        help="With several samplers (--sampler tpe,random,cmaes): studies per sampler, each "
        "with its own seed, for hpo compare.",
    ),
]
SamplerOption = Annotated[
    str | None,
    typer.Option(
        "--sampler",
        help="tpe, random, cmaes (evolution), grid, qmc, gp, nsga2, … "
        "or an NNI tuner name; overrides the file. [default: tpe]",
        show_default=False,
    ),
]
PrunerOption = Annotated[
    str | None,
    typer.Option(
        "--pruner",
        help="none, median, percentile, asha, hyperband, patient, threshold; "
        "overrides the file. [default: none]",
        show_default=False,
    ),
]
NameOption = Annotated[
    str | None,
    typer.Option(
        "--name",
        help="Study name [default: the config's experimentName, else FILE-SAMPLER].",
        show_default=False,
    ),
]
SeedOption = Annotated[
    int | None,
    typer.Option("--seed", help="Study seed [default: random, stored].", show_default=False),
]
ObjectiveOption = Annotated[
    str | None,
    typer.Option(
        "--objective",
        help='"training" (built-in) or module:function / file.py:function; overrides the file.',
        show_default=False,
    ),
]
MaxTrialsOption = Annotated[
    int | None,
    typer.Option(
        "--max-trials", help="Study-wide trial budget; overrides maxTrialNum.", show_default=False
    ),
]
MaxDurationOption = Annotated[
    str | None,
    typer.Option(
        "--max-duration",
        help="Study-wide time budget like 12h or 30m, counted from "
        "creation; overrides maxExecDuration.",
        show_default=False,
    ),
]
ParamOption = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        "-p",
        help="Fixed param KEY=VALUE (VALUE read as JSON, else as text), "
        "e.g. -p data_dir=/data/food11. Repeatable.",
        show_default=False,
    ),
]
CheckpointDirOption = Annotated[
    str | None,
    typer.Option(
        "--checkpoint-dir",
        help="Directory every worker can read (shared between machines) where trials keep "
        "their epoch checkpoints, so a retried trial resumes [default: each machine's cache].",
        show_default=False,
    ),
]
DirectionOption = Annotated[
    str | None,
    typer.Option(
        "--direction", help="maximize or minimize; overrides optimize_mode.", show_default=False
    ),
]


def _command(*args: Any, **kwargs: Any) -> Callable[[F], F]:
    """``app.command`` that turns hpo's errors into one line and an exit code."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*a: Any, **k: Any) -> Any:
            from hpo.errors import HpoError

            try:
                return function(*a, **k)
            except HpoError as exc:
                _error(str(exc))
                raise typer.Exit(exc.exit_code) from None
            except KeyboardInterrupt:
                _error("interrupted")
                raise typer.Exit(130) from None
            except Exception as exc:
                message = _storage_failure(exc)
                if message is None:
                    raise
                _error(message)
                raise typer.Exit(1) from None

        app.command(*args, **kwargs)(wrapper)
        return function

    return decorate


def _storage_failure(exc: Exception) -> str | None:
    """One line for a database failure in the middle of a command (password removed)."""
    import os

    import sqlalchemy.exc
    from optuna.exceptions import StorageInternalError

    if not isinstance(exc, sqlalchemy.exc.SQLAlchemyError | StorageInternalError):
        return None
    from hpo.storage import describe_db_error, mask_url

    url = os.environ.get("HPO_STORAGE", "") or _current_url
    return f"storage {mask_url(url)} failed: {describe_db_error(exc, url)}"


_current_url = ""
#: Seconds a starting worker keeps trying to reach a database that drops its connections.
WORKER_CONNECT_PATIENCE = 30.0


def _error(message: str) -> None:
    typer.echo(f"error: {message}", err=True)


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show debug logs.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only warnings and errors.")] = False,
) -> None:
    _configure_logging(logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO)


class _Formatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        # Workers started by hpo worker --gpus label their lines (gpu0, gpu1.1, …).
        import os

        label = os.environ.get("HPO_WORKER_LABEL")
        self.prefix = f"[{label}] " if label else ""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.levelno >= logging.ERROR:
            return f"{self.prefix}error: {message}"
        if record.levelno >= logging.WARNING:
            return f"{self.prefix}warning: {message}"
        return f"{self.prefix}{message}"


def _configure_logging(level: int) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter())
    for name in ("hpo", "training"):  # training logs each epoch at debug level (-v)
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False
    import warnings

    warnings.filterwarnings("ignore", message=".*is experimental.*")


def _quiet_optuna() -> None:
    """Route Optuna's log through ours, warnings only: its INFO lines would repeat ours.

    Called once optuna is imported (its import installs its own handler).
    """
    import optuna

    optuna.logging.disable_default_handler()
    optuna_logger = logging.getLogger("optuna")
    optuna_logger.handlers[:] = logging.getLogger("hpo").handlers
    verbose = logging.getLogger("hpo").level <= logging.DEBUG
    optuna_logger.setLevel(logging.DEBUG if verbose else logging.WARNING)
    optuna_logger.propagate = False


def _storage(url: str | None, patience: float = 0.0) -> Any:
    global _current_url
    from hpo.storage import open_storage, resolve_url

    _quiet_optuna()
    _current_url = resolve_url(url)
    return open_storage(_current_url, patience=patience)


def _overrides(
    *,
    name: str | None,
    sampler: str | None,
    pruner: str | None,
    seed: int | None,
    objective: str | None,
    max_trials: int | None,
    max_duration: str | None,
    param: list[str] | None,
    direction: str | None,
    checkpoint_dir: str | None = None,
) -> Any:
    from hpo.config_file import parse_duration
    from hpo.errors import InvalidInputError, SpaceError
    from hpo.pruners import resolve_pruner_name
    from hpo.samplers import resolve_sampler_name
    from hpo.study import Overrides

    for listed in (sampler or "").split(","):
        if listed.strip():
            resolve_sampler_name(listed)  # unknown names fail before the file is read
    if pruner is not None:
        resolve_pruner_name(pruner)
    if seed is not None and not 0 <= seed < 2**31 - 1:
        raise InvalidInputError(f"--seed must be in [0, 2^31 - 1), got {seed}")
    duration = None
    if max_duration is not None:
        try:
            duration = parse_duration(max_duration)
        except SpaceError as exc:
            raise InvalidInputError(f"--max-duration: {exc.reason}") from None
    if direction is not None and direction not in ("maximize", "minimize"):
        raise InvalidInputError(f"--direction must be maximize or minimize, got {direction!r}")
    return Overrides(
        name=name,
        sampler=sampler,
        pruner=pruner,
        seed=seed,
        objective=objective,
        max_trials=max_trials,
        max_duration_s=duration,
        params=_parse_params(param or []),
        direction=direction,  # type: ignore[arg-type]
        checkpoint_dir=checkpoint_dir,
    )


def _parse_params(items: list[str]) -> dict[str, Any]:
    from hpo.errors import InvalidInputError

    params: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(f"--param expects KEY=VALUE, got {item!r}")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        params[key.strip()] = value
    return params


def _print_notices(notices: Any) -> None:
    for notice in notices:
        log.warning("%s", notice)


@_command("validate")
def validate(
    file: Annotated[Path, typer.Argument(help="Search-space file to check.")],
    sampler: SamplerOption = None,
) -> None:
    """Check a search-space file and print its parameters as Optuna will sample them."""
    from hpo.config_file import load_file
    from hpo.samplers import check_compatibility, encode_space_for, resolve_sampler_name
    from hpo.space import ChoiceParam, describe_distribution
    from hpo.spec import Component
    from hpo.table import render

    config = load_file(file)
    name = (
        resolve_sampler_name(sampler)
        if sampler
        else (config.sampler.name if config.sampler else "tpe")
    )
    component = Component(
        name, config.sampler.options if config.sampler and config.sampler.name == name else {}
    )
    notices = [
        *config.all_notices,
        *check_compatibility(component, config.space, len(config.metrics or ()) or 1),
    ]
    space = encode_space_for(name, config.space)
    rows = []
    for param, conditions in space.walk():
        key = param.optuna_key if isinstance(param, ChoiceParam) else param.key
        nni = f"{param.nni_type} {json.dumps(param.nni_value)}"
        rows.append(
            [
                key,
                _clip(nni, 48),
                describe_distribution(param.distribution()),
                " and ".join(conditions) or "",
            ]
        )
    _print_notices(notices)
    typer.echo(render(["parameter", "NNI type", "Optuna distribution", "active when"], rows))
    kind = (
        "Dr.Opt config"
        if config.sampler or config.params or config.experiment_name
        else "search space"
    )
    typer.echo(f"\n{file}: valid {kind}, {len(rows)} parameters, sampler {name}")


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@_command("create-study")
def create_study(
    space: SpaceOption,
    sampler: SamplerOption = None,
    pruner: PrunerOption = None,
    name: NameOption = None,
    storage: StorageOption = None,
    seed: SeedOption = None,
    objective: ObjectiveOption = None,
    max_trials: MaxTrialsOption = None,
    max_duration: MaxDurationOption = None,
    param: ParamOption = None,
    direction: DirectionOption = None,
    checkpoint_dir: CheckpointDirOption = None,
    repeats: RepeatsOption = 1,
    exist_ok: Annotated[
        bool, typer.Option("--exist-ok", help="Succeed if the same study exists already.")
    ] = False,
) -> None:
    """Create a study from a search-space file; workers then need only its name.

    Several samplers (--sampler tpe,random,cmaes) and/or --repeats make a comparison group:
    one study per sampler and repeat, for hpo worker --group and hpo compare.
    """
    created, _ = _create(
        space,
        storage,
        exist_ok=exist_ok,
        repeats=repeats,
        overrides=_overrides(
            name=name,
            sampler=sampler,
            pruner=pruner,
            seed=seed,
            objective=objective,
            max_trials=max_trials,
            max_duration=max_duration,
            param=param,
            direction=direction,
            checkpoint_dir=checkpoint_dir,
        ),
    )
    for member in created:
        typer.echo(member.spec.name)


def _create(
    space: Path, storage_url: str | None, *, exist_ok: bool, overrides: Any, repeats: int = 1
) -> tuple[list[Any], Any]:
    """Create a study, or a comparison group when several samplers or repeats are asked for."""
    from dataclasses import replace

    from hpo.config_file import load_file
    from hpo.groups import build_group
    from hpo.storage import mask_url
    from hpo.study import budget_text, build_spec, create_study

    config = load_file(space)
    samplers = [s.strip() for s in (overrides.sampler or "").split(",") if s.strip()]
    if len(samplers) > 1 or repeats > 1:
        if not samplers:
            samplers = [config.sampler.name if config.sampler else "tpe"]
        group, specs, notices = build_group(
            config, replace(overrides, sampler=None), samplers, repeats
        )
    else:
        spec, notices = build_spec(config, overrides)
        group, specs = None, [spec]
    _print_notices(notices)
    store = _storage(storage_url)  # only now: an invalid file never touches the storage
    created = [create_study(store, spec, exist_ok=exist_ok) for spec in specs]
    for member in created:
        s = member.spec
        verb = "using existing" if member.reused else "created"
        directions = ", ".join(f"{m.name} {m.direction}" for m in s.metrics)
        log.info(
            "%s study %r in %s: sampler %s, pruner %s, objective %s (%s), budget %s%s",
            verb,
            s.name,
            mask_url(_current_url),
            s.sampler.describe(),
            s.pruner.describe(),
            s.objective.target,
            directions,
            budget_text(s),
            ", baseline trial enqueued" if s.baseline and not member.reused else "",
        )
    if group is not None:
        log.info(
            "group %r: %d studies; run them with hpo worker --group %s", group, len(created), group
        )
    return created, store


@_command("worker")
def worker(
    study: Annotated[
        str | None,
        typer.Option("--study", help="Name of the study to work on.", show_default=False),
    ] = None,
    group: Annotated[
        str | None,
        typer.Option(
            "--group", help="Work on every study of a comparison group, evenly.", show_default=False
        ),
    ] = None,
    storage: StorageOption = None,
    n_trials: Annotated[
        int | None,
        typer.Option(
            "--n-trials",
            help="Stop this process after N trials (the study's budget still applies).",
            show_default=False,
        ),
    ] = None,
    gpus: Annotated[
        str | None,
        typer.Option(
            "--gpus",
            help="all, or GPU indices like 0,1: one worker process per GPU "
            "(CUDA_VISIBLE_DEVICES set for each), restarted if it dies.",
            show_default=False,
        ),
    ] = None,
    trials_per_gpu: Annotated[
        int, typer.Option("--trials-per-gpu", help="With --gpus: worker processes per GPU.")
    ] = 1,
    stop_timeout: Annotated[
        float,
        typer.Option(
            "--stop-timeout",
            help="On SIGTERM / Ctrl-C, seconds to let the current epoch finish before "
            "interrupting it (the trial is retried either way).",
        ),
    ] = 20.0,
) -> None:
    """Run trials of a study until its budget is spent (one per GPU, on any machine)."""
    from hpo.errors import InvalidInputError

    if (study is None) == (group is None):
        raise InvalidInputError("give --study NAME or --group NAME")
    if gpus is not None:
        from hpo.gpus import Supervisor, parse_gpus
        from hpo.storage import resolve_url

        target = ["--study", study] if study is not None else ["--group", str(group)]
        args = ["worker", *target, "--stop-timeout", str(stop_timeout)]
        if n_trials is not None:
            args += ["--n-trials", str(n_trials)]
        url = resolve_url(storage)
        code = Supervisor(args, parse_gpus(gpus), trials_per_gpu, url).run()
        raise typer.Exit(code)
    from hpo.groups import GroupWorker
    from hpo.worker import Worker

    # A worker may start while the database restarts: it waits a little for it.
    store = _storage(storage, patience=WORKER_CONNECT_PATIENCE)
    if group is not None:
        GroupWorker(store, group, n_trials=n_trials, stop_timeout=stop_timeout).run()
    else:
        assert study is not None
        Worker(store, study, n_trials=n_trials, stop_timeout=stop_timeout).run()


@_command("run")
def run(
    space: SpaceOption,
    sampler: SamplerOption = None,
    pruner: PrunerOption = None,
    name: NameOption = None,
    storage: StorageOption = None,
    seed: SeedOption = None,
    objective: ObjectiveOption = None,
    max_trials: MaxTrialsOption = None,
    max_duration: MaxDurationOption = None,
    param: ParamOption = None,
    direction: DirectionOption = None,
    checkpoint_dir: CheckpointDirOption = None,
    repeats: RepeatsOption = 1,
    n_trials: Annotated[
        int | None,
        typer.Option("--n-trials", help="Stop after N trials in this process.", show_default=False),
    ] = None,
) -> None:
    """Create a study (or resume the same one) and run its trials in this process."""
    from hpo.study import summaries
    from hpo.worker import Worker

    created, store = _create(
        space,
        storage,
        exist_ok=True,
        repeats=repeats,
        overrides=_overrides(
            name=name,
            sampler=sampler,
            pruner=pruner,
            seed=seed,
            objective=objective,
            max_trials=max_trials,
            max_duration=max_duration,
            param=param,
            direction=direction,
            checkpoint_dir=checkpoint_dir,
        ),
    )
    group = created[0].spec.group
    if group is not None:
        from hpo.groups import GroupWorker

        GroupWorker(store, group, n_trials=n_trials, stop_timeout=20.0).run()
        typer.echo(f"compare the samplers: hpo compare {group}")
        return
    spec = created[0].spec
    Worker(store, spec.name, n_trials=n_trials).run()
    summary = next(s for s in summaries(store) if s.name == spec.name)
    if summary.best_value is not None:
        typer.echo(
            f"best {spec.metrics[0].name} {summary.best_value:.6g} (trial {summary.best_number}); "
            f"params: hpo best {spec.name}"
        )


@_command("status")
def status(storage: StorageOption = None) -> None:
    """List the studies in the storage with their trials per state and best value."""
    from optuna.trial import TrialState

    from hpo.study import budget_text, summaries
    from hpo.table import render

    rows = []
    for s in summaries(_storage(storage)):
        c = s.counts
        best = (
            f"{s.best_value:.6g} (#{s.best_number})"
            if s.best_value is not None
            else f"{s.n_pareto} pareto"
            if s.n_pareto
            else None
        )
        rows.append(
            [
                f"{s.name} (stopped)" if s.stopped else s.name,
                s.spec.sampler.name if s.spec else "(optuna)",
                s.spec.pruner.name if s.spec else None,
                ",".join(m.direction[:3] for m in s.spec.metrics) if s.spec else None,
                c.get(TrialState.COMPLETE, 0),
                c.get(TrialState.PRUNED, 0),
                c.get(TrialState.FAIL, 0),
                c.get(TrialState.RUNNING, 0),
                c.get(TrialState.WAITING, 0),
                budget_text(s.spec) if s.spec else None,
                best,
            ]
        )
    if not rows:
        typer.echo("no studies")
        return
    typer.echo(
        render(
            [
                "study",
                "sampler",
                "pruner",
                "dir",
                "complete",
                "pruned",
                "fail",
                "running",
                "waiting",
                "budget",
                "best",
            ],
            rows,
        )
    )


@_command("best")
def best(
    study: Annotated[str, typer.Argument(help="Study name.")],
    output_format: Annotated[
        str,
        typer.Option(
            "--format",
            help="json: the best trial; dropt: a Dr.Opt config whose params are the best "
            "(hpo create-study reads it back, starting from them).",
        ),
    ] = "json",
    storage: StorageOption = None,
) -> None:
    """Print the best trial's params as JSON (the fixed params included)."""
    import optuna

    from hpo.errors import HpoError, InvalidInputError
    from hpo.study import load_spec

    store = _storage(storage)
    _, spec = load_spec(store, study)
    loaded = optuna.load_study(study_name=study, storage=store)
    if spec.is_multi_objective:
        trials = loaded.best_trials
        if not trials:
            raise HpoError(f"study {study!r} has no complete trial yet")
        out: Any = [_trial_json(spec, t) for t in trials]
    else:
        try:
            trial = loaded.best_trial
        except ValueError:
            raise HpoError(f"study {study!r} has no complete trial yet") from None
        out = _trial_json(spec, trial)
    if output_format == "dropt":
        first = out[0] if isinstance(out, list) else out
        out = _dropt_config(spec, first["params"])
    elif output_format != "json":
        raise InvalidInputError(f"--format must be json or dropt, got {output_format!r}")
    typer.echo(json.dumps(out, indent=2))


def _dropt_config(spec: Any, params: dict[str, Any]) -> dict[str, Any]:
    """The study as a Dr.Opt config with the best params as its params (its baseline)."""
    config: dict[str, Any] = {
        "experimentName": spec.name,
        "objective": spec.objective.target,
        "sampler": {"name": spec.sampler.name, **spec.sampler.options},
        "pruner": {"name": spec.pruner.name, **spec.pruner.options},
        "metrics": {m.name: m.direction for m in spec.metrics},
        "seed": spec.seed,
    }
    if spec.max_trials is not None:
        config["maxTrialNum"] = spec.max_trials
    if spec.max_duration_s is not None:
        config["maxExecDuration"] = f"{int(spec.max_duration_s)}s"
    return {"config": config, "params": params, "search_space": dict(spec.search_space)}


def _trial_json(spec: Any, trial: Any) -> dict[str, Any]:
    values = dict(zip([m.name for m in spec.metrics], trial.values, strict=True))
    return {
        "trial": trial.number,
        "values": values,
        "params": {**spec.params, **spec.space.decode(trial.params)},
    }


@_command("compare")
def compare(
    names: Annotated[
        list[str], typer.Argument(help="Comparison groups and/or studies.", show_default=False)
    ],
    target: Annotated[
        float | None,
        typer.Option(
            "--target", help="Value to reach (e.g. 0.9 accuracy): trials and compute to it."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write best-so-far curves there (compare.png, compare.html)."),
    ] = None,
    storage: StorageOption = None,
) -> None:
    """Compare tuners: best value over repeats, trials and compute to a target, rank test."""
    from hpo.compare import compare as summarise
    from hpo.compare import load_runs, render_comparison, resolve_studies

    store = _storage(storage)
    comparison = summarise(load_runs(store, resolve_studies(store, names)), target)
    if out is not None:
        from hpo.plots import write_html, write_png

        out.mkdir(parents=True, exist_ok=True)
        for written in (
            write_png(comparison, out / "compare.png"),
            write_html(comparison, out / "compare.html"),
        ):
            log.info("wrote %s", written)
    if as_json:
        typer.echo(json.dumps(comparison.to_json(), indent=2))
    else:
        typer.echo(render_comparison(comparison))


@_command("importance")
def importance(
    names: Annotated[
        list[str], typer.Argument(help="Studies and/or comparison groups.", show_default=False)
    ],
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", help="Half-samples for the intervals (0: none).", min=0)
    ] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    storage: StorageOption = None,
) -> None:
    """Parameter importance by PED-ANOVA and fANOVA, with intervals; per tuner for a group."""
    from hpo.compare import load_trials, resolve_studies
    from hpo.importance import importance_by_tuner, render_importance, render_per_tuner

    store = _storage(storage)
    specs = resolve_studies(store, names)
    results = importance_by_tuner(specs, load_trials(store, specs), bootstrap=bootstrap)
    if as_json:
        typer.echo(json.dumps([r.to_json() for r in results], indent=2))
        return
    typer.echo("\n\n".join(render_importance(r) for r in results))
    if len(results) > 1:
        typer.echo("\nmost important parameter per tuner:")
        typer.echo(render_per_tuner(results))


@_command("report")
def report(
    names: Annotated[
        list[str], typer.Argument(help="Studies and/or comparison groups.", show_default=False)
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder for report.html and its PNGs.")] = Path(
        "hpo-report"
    ),
    target: Annotated[
        float | None, typer.Option("--target", help="Value to reach, for the comparison.")
    ] = None,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", help="Resamples for the importance intervals.", min=0)
    ] = 20,
    storage: StorageOption = None,
) -> None:
    """One self-contained HTML report: comparison, importance, curves and best params."""
    from hpo.report import write_report

    store = _storage(storage)
    path = write_report(store, names, out, target=target, bootstrap=bootstrap)
    log.info("wrote %s", path)
    typer.echo(str(path))


@_command("dashboard")
def dashboard(
    host: Annotated[
        str,
        typer.Option("--host", help="Address to listen on; 0.0.0.0 exposes it to the network."),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8080,
    storage: StorageOption = None,
) -> None:
    """Start optuna-dashboard on the study storage (every study, groups included)."""
    import optuna_dashboard

    from hpo.errors import HpoError
    from hpo.storage import mask_url

    store = _storage(storage)
    if host not in ("127.0.0.1", "localhost", "::1"):
        log.warning(
            "the dashboard has no login: anyone who reaches %s:%d sees the studies", host, port
        )
    log.info(
        "optuna-dashboard on http://%s:%d for %s (Ctrl-C stops it)",
        host,
        port,
        mask_url(_current_url),
    )
    try:
        optuna_dashboard.run_server(store, host=host, port=port)
    except OSError as exc:
        raise HpoError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


@_command("stop")
def stop(
    study: Annotated[str, typer.Argument(help="Study name.")],
    storage: StorageOption = None,
) -> None:
    """Stop a study: its workers finish their current trial and exit (hpo resume undoes it)."""
    _set_stopped(study, storage, True)
    log.info("study %r stopped: workers exit after their current trial", study)


@_command("resume")
def resume(
    study: Annotated[str, typer.Argument(help="Study name.")],
    storage: StorageOption = None,
) -> None:
    """Let workers run a stopped study again."""
    _set_stopped(study, storage, False)
    log.info("study %r resumed: start workers with hpo worker --study %s", study, study)


def _set_stopped(study: str, storage: str | None, stopped: bool) -> None:
    from hpo.study import load_study_id
    from hpo.worker import STOP_ATTR

    store = _storage(storage)
    store.set_study_user_attr(load_study_id(store, study), STOP_ATTR, stopped)


@_command("set-budget")
def set_budget(
    study: Annotated[str, typer.Argument(help="Study name.")],
    max_trials: MaxTrialsOption = None,
    max_duration: MaxDurationOption = None,
    storage: StorageOption = None,
) -> None:
    """Change a study's budgets while it runs (workers pick the new ones up at once)."""
    from dataclasses import replace

    from hpo.config_file import parse_duration
    from hpo.errors import InvalidInputError, SpaceError
    from hpo.spec import SPEC_ATTR
    from hpo.study import budget_text, grid_budget, load_spec

    if max_trials is None and max_duration is None:
        raise InvalidInputError("give --max-trials and/or --max-duration")
    if max_trials is not None and max_trials < 1:
        raise InvalidInputError(f"--max-trials must be at least 1, got {max_trials}")
    store = _storage(storage)
    study_id, spec = load_spec(store, study)
    changes: dict[str, Any] = {}
    if max_trials is not None and spec.sampler.name == "grid":
        max_trials, cut = grid_budget(spec.space, bool(spec.baseline), max_trials)
        if cut:
            log.warning("%s", cut)
    if max_trials is not None:
        changes["max_trials"] = max_trials
    if max_duration is not None:
        try:
            changes["max_duration_s"] = parse_duration(max_duration)
        except SpaceError as exc:
            raise InvalidInputError(f"--max-duration: {exc.reason}") from None
    updated = replace(spec, **changes)
    store.set_study_user_attr(study_id, SPEC_ATTR, updated.to_json())
    log.info("study %r budget: %s (was %s)", study, budget_text(updated), budget_text(spec))


@_command("serve-storage")
def serve_storage(
    storage: StorageOption = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "0.0.0.0",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 13000,
    threads: Annotated[int, typer.Option("--threads", help="Requests served at once.")] = 16,
) -> None:
    """Serve the storage over gRPC for many workers (they use --storage grpc://HOST:PORT)."""
    from hpo.grpc_storage import serve
    from hpo.storage import open_storage, resolve_url

    _quiet_optuna()
    url = resolve_url(storage)
    serve(open_storage(url, pool_size=max(1, threads // 2)), host, port, threads)


@_command("delete-study")
def delete_study(
    study: Annotated[str, typer.Argument(help="Study name.")],
    storage: StorageOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a study and all its trials."""
    from hpo.study import load_study_id

    store = _storage(storage)
    study_id = load_study_id(store, study)
    if not yes:
        typer.confirm(f"delete study {study!r} and all its trials?", abort=True)
    store.delete_study(study_id)
    log.info("deleted study %r", study)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
