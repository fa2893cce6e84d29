"""Building a study spec from a search-space file and the command line, fully validated.

Everything is validated here, before the storage is touched, so an invalid file or option
leaves the database as it was.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from hpo.errors import InvalidInputError
from hpo.objectives import Metric, ObjectiveSpec, command_objective, resolve_target
from hpo.objectives import kind_of as objective_kind
from hpo.objectives.paths import absolute_path
from hpo.space import Notice
from hpo.study.budget import grid_budget
from hpo.study.config_file import SearchConfig
from hpo.study.overrides import Overrides
from hpo.study.seeds import new_study_seed
from hpo.study.spec import Liveness, StudySpec
from hpo.text import has_control_characters
from hpo.tuners import (
    Component,
    build_pruner,
    check_compatibility,
    encode_space_for,
    resolve_pruner_name,
    resolve_sampler_name,
)

DEFAULT_SAMPLER = "tpe"
#: The default pruner of single-objective studies (see docs/benchmarks.md, search efficiency).
DEFAULT_PRUNER = "asha"


def build_spec(
    config: SearchConfig, overrides: Overrides | None = None, *, cwd: str | None = None
) -> tuple[StudySpec, list[Notice]]:
    """The study spec for a parsed file and command-line overrides, fully validated."""
    o = overrides or Overrides()
    cwd = cwd or str(Path.cwd())
    notices: list[Notice] = list(config.all_notices)
    config = _fix_overridden(config, o, notices)
    sampler = _sampler(config, o)
    objective = _objective(config, o, cwd, notices)
    metrics = _metrics(config, o, objective)
    pruner = _pruner(config, o, n_objectives=len(metrics))
    if len(metrics) > 1 and pruner.name != "none":
        raise InvalidInputError(
            f"pruner {pruner.name} needs a single objective; this study has "
            f"{len(metrics)} ({', '.join(m.name for m in metrics)}): use --pruner none"
        )
    notices.extend(check_compatibility(sampler, config.space, len(metrics)))
    build_pruner(pruner)  # refuses unknown options now rather than in every worker

    kind = objective_kind(objective)
    params, param_notices = kind.check_params(
        {**config.params, **o.params}, config.space.spanning_values(), config.space_path, cwd
    )
    notices.extend(param_notices)
    searched = frozenset(config.space.names())
    for missing in kind.preflight(objective, params, searched):
        # A warning only: the workers' machines may have what this one lacks.
        notices.append(Notice("", f"on this machine, {missing}"))
    encoded = encode_space_for(sampler.name, config.space)
    baseline, baseline_notices = encoded.encode(params, "params")
    notices.extend(baseline_notices)

    max_trials = o.max_trials if o.max_trials is not None else config.max_trials
    if sampler.name == "grid":
        max_trials, cut = grid_budget(encoded, bool(baseline), max_trials)
        if cut:
            notices.append(Notice("", cut))
    if max_trials is not None and max_trials < 1:
        raise InvalidInputError(f"--max-trials must be at least 1, got {max_trials}")

    if o.name is not None and not o.name.strip():
        raise InvalidInputError("--name: expected a study name, got an empty one")
    name = o.name or config.experiment_name or f"{file_stem(config.source, 'study')}-{sampler.name}"
    if not name.strip() or len(name) > 500:
        raise InvalidInputError(f"study name must be 1 to 500 characters, got {name[:500]!r}")
    if has_control_characters(name):
        # PostgreSQL cannot store a NUL, and a line break would split every line naming it.
        raise InvalidInputError(f"study name must not hold control characters, got {name!r}")
    spec = StudySpec(
        name=name.strip(),
        search_space=config.space.to_json(),
        params=params,
        sampler=sampler,
        pruner=pruner,
        objective=objective,
        metrics=metrics,
        seed=o.seed
        if o.seed is not None
        else config.seed
        if config.seed is not None
        else new_study_seed(),
        created_at=time.time(),
        max_trials=max_trials,
        max_duration_s=o.max_duration_s if o.max_duration_s is not None else config.max_duration_s,
        baseline=baseline,
        source=Path(config.source).name if config.source else None,
        liveness=_liveness(config, o, cwd),
        artifact_dir=_absolute(o.artifact_dir or config.artifact_dir, cwd),
        artifacts_in_database=True,
        keep_weights=config.keep_weights if config.keep_weights is not None else 1,
    )
    return spec, notices


def _liveness(config: SearchConfig, o: Overrides, cwd: str) -> Liveness:
    settings = dict(config.liveness)
    if o.checkpoint_dir is not None:
        settings["checkpoint_dir"] = o.checkpoint_dir
    if settings.get("checkpoint_dir"):
        # Absolute, so that every worker finds it whatever its working directory.
        settings["checkpoint_dir"] = _absolute(settings["checkpoint_dir"], cwd, "checkpoint")
    liveness = Liveness(**settings)
    if liveness.grace_period <= liveness.heartbeat_interval:
        raise InvalidInputError(
            f"grace_period ({liveness.grace_period}s) must be longer than heartbeat_interval "
            f"({liveness.heartbeat_interval}s), or live trials would be failed"
        )
    return liveness


def _absolute(directory: str | None, cwd: str, what: str = "artifact") -> str | None:
    """A directory every worker finds, whatever its working directory."""
    if not directory:
        return None
    try:
        return str(absolute_path(directory, cwd))
    except ValueError as exc:
        raise InvalidInputError(f"{what} directory {directory!r}: {exc}") from None


def _fix_overridden(config: SearchConfig, o: Overrides, notices: list[Notice]) -> SearchConfig:
    """``-p KEY=VALUE`` fixes KEY: a search-space parameter of that name leaves the space."""
    fixed = set(o.params) & set(config.space.names())
    if not fixed:
        return config
    space = config.space.without(fixed)
    if not space.params:
        raise InvalidInputError(
            f"--param fixes every parameter of the search space ({', '.join(sorted(fixed))})"
        )
    for name in sorted(fixed):
        notices.append(Notice("", f"{name} fixed to {o.params[name]!r} by --param: not searched"))
    return replace(config, space=space)


def _sampler(config: SearchConfig, o: Overrides) -> Component:
    if o.sampler is None:
        return config.sampler or Component(DEFAULT_SAMPLER)
    name = resolve_sampler_name(o.sampler)
    # Keep the file's options (e.g. population_size) when the override names the same sampler.
    if config.sampler is not None and config.sampler.name == name:
        return config.sampler
    options: dict[str, Any] = {}
    if (
        config.sampler is not None
        and "population_size" in config.sampler.options
        and name in ("cmaes", "nsga2", "nsga3")
    ):
        options["population_size"] = config.sampler.options["population_size"]
    return Component(name, options)


def _pruner(config: SearchConfig, o: Overrides, *, n_objectives: int) -> Component:
    if o.pruner is None:
        # Optuna's pruners need a single objective: several objectives default to none.
        return config.pruner or Component(DEFAULT_PRUNER if n_objectives == 1 else "none")
    name = resolve_pruner_name(o.pruner)
    if config.pruner is not None and config.pruner.name == name:
        return config.pruner
    return Component(name)


def _objective(
    config: SearchConfig, o: Overrides, cwd: str, notices: list[Notice]
) -> ObjectiveSpec:
    if o.objective is not None and o.command is not None:
        raise InvalidInputError("give --objective or --command, not both")
    if o.command is not None:
        if not o.command.strip():
            raise InvalidInputError("--command: expected the command each trial runs")
        return command_objective(
            o.command.strip(),
            config.code_dir or cwd,
            gpus=config.trial_gpus,
            max_seconds=config.max_trial_duration_s,
        )
    if o.objective is not None:
        spec, found = resolve_target(o.objective, cwd, "--objective")
        if config.command is not None:
            notices.append(
                Notice("", f"--objective replaces the config's command {config.command!r}")
            )
        if config.trial_gpus is not None or config.max_trial_duration_s is not None:
            raise InvalidInputError(
                "--objective: the config's trialGpuNumber / maxTrialDuration apply to its "
                "command only; use --command to replace the command"
            )
    elif config.command is not None:
        return command_objective(
            config.command,
            config.code_dir or config.base_dir or cwd,
            gpus=config.trial_gpus,
            max_seconds=config.max_trial_duration_s,
        )
    elif config.objective is not None:
        spec, found = resolve_target(config.objective, config.base_dir or cwd, "config.objective")
    elif config.model is not None:
        spec, found = resolve_target(f"{config.model}:run", config.base_dir or cwd, "config.model")
    else:
        spec, found = ObjectiveSpec(), []
    notices.extend(found)
    return spec


def _metrics(config: SearchConfig, o: Overrides, objective: ObjectiveSpec) -> tuple[Metric, ...]:
    if config.metrics is not None:
        metrics = config.metrics
        if o.direction is not None and len(metrics) == 1:
            metrics = (replace(metrics[0], direction=o.direction),)
        return metrics
    name = objective_kind(objective).metric
    return (Metric(name, o.direction or config.direction or "maximize"),)


def file_stem(source: str | None, default: str) -> str:
    """The name of a study or group made from a file: the file's name without its suffix."""
    return Path(source).stem if source else default
