"""Studies: build a spec from a file and options, create it once, load it in workers.

Everything is validated before the storage is touched, so an invalid file or option leaves
the database as it was.
"""

from __future__ import annotations

import importlib.util
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpo.config_file import SearchConfig
from hpo.errors import HpoError, InvalidInputError, StudyExistsError, StudyNotFoundError
from hpo.pruners import build_pruner, resolve_pruner_name
from hpo.samplers import (
    check_compatibility,
    encode_space_for,
    grid_size,
    resolve_sampler_name,
)
from hpo.seeds import new_study_seed
from hpo.space import Notice, Space
from hpo.spec import (
    BUILTIN_OBJECTIVE,
    SPEC_ATTR,
    Component,
    Direction,
    Liveness,
    Metric,
    ObjectiveSpec,
    StudySpec,
)

if TYPE_CHECKING:
    import optuna
    from optuna.storages import BaseStorage
    from optuna.trial import TrialState

DEFAULT_SAMPLER = "tpe"
#: The default pruner of single-objective studies (see docs/benchmarks.md, search efficiency).
DEFAULT_PRUNER = "asha"
#: The metric a number returned by the objective stands for (NNI's name for it).
DEFAULT_METRIC = "default"
#: The metric the built-in training objective optimises.
TRAINING_METRIC = "val_acc"
BASELINE_ATTR = "hpo:baseline"


@dataclass(frozen=True)
class Overrides:
    """What the command line says on top of the file (None: keep the file's value)."""

    name: str | None = None
    sampler: str | None = None
    pruner: str | None = None
    seed: int | None = None
    objective: str | None = None
    max_trials: int | None = None
    max_duration_s: float | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    direction: Direction | None = None
    checkpoint_dir: str | None = None


def build_spec(
    config: SearchConfig, overrides: Overrides | None = None, *, cwd: str | None = None
) -> tuple[StudySpec, list[Notice]]:
    """The study spec for a parsed file and command-line overrides, fully validated."""
    o = overrides or Overrides()
    notices: list[Notice] = list(config.all_notices)
    config = _fix_overridden(config, o, notices)
    sampler = _sampler(config, o)
    objective = _objective(config, o, cwd or str(Path.cwd()), notices)
    metrics = _metrics(config, o, objective)
    pruner = _pruner(config, o, n_objectives=len(metrics))
    if len(metrics) > 1 and pruner.name != "none":
        raise InvalidInputError(
            f"pruner {pruner.name} needs a single objective; this study has "
            f"{len(metrics)} ({', '.join(m.name for m in metrics)}): use --pruner none"
        )
    notices.extend(check_compatibility(sampler, config.space, len(metrics)))
    build_pruner(pruner)  # refuses unknown options now rather than in every worker

    params = {**config.params, **o.params}
    if objective.is_builtin:
        params = _check_training_params(params, config, cwd or str(Path.cwd()), notices)
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

    name = o.name or config.experiment_name or f"{_stem(config.source)}-{sampler.name}"
    if not name.strip() or len(name) > 500:
        raise InvalidInputError(f"study name must be 1 to 500 characters, got {name!r}")
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
        liveness=_liveness(config, o, cwd or str(Path.cwd())),
    )
    return spec, notices


def _liveness(config: SearchConfig, o: Overrides, cwd: str) -> Liveness:
    settings = dict(config.liveness)
    if o.checkpoint_dir is not None:
        settings["checkpoint_dir"] = o.checkpoint_dir
    if settings.get("checkpoint_dir"):
        # Absolute, so that every worker finds it whatever its working directory.
        directory = Path(settings["checkpoint_dir"]).expanduser()
        settings["checkpoint_dir"] = str((Path(cwd) / directory).resolve())
    liveness = Liveness(**settings)
    if liveness.grace_period <= liveness.heartbeat_interval:
        raise InvalidInputError(
            f"grace_period ({liveness.grace_period}s) must be longer than heartbeat_interval "
            f"({liveness.heartbeat_interval}s), or live trials would be failed"
        )
    return liveness


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
    base = config.base_dir
    if o.objective is not None:
        return _target(o.objective, cwd, "--objective", notices)
    if config.objective is not None:
        return _target(config.objective, base or cwd, "config.objective", notices)
    if config.model is not None:
        return _target(f"{config.model}:run", base or cwd, "config.model", notices)
    return ObjectiveSpec(BUILTIN_OBJECTIVE)


def _target(target: str, directory: str, where: str, notices: list[Notice]) -> ObjectiveSpec:
    """An objective reference: ``training``, ``module:function`` or ``file.py:function``."""
    target = target.strip()
    if target == BUILTIN_OBJECTIVE:
        return ObjectiveSpec(BUILTIN_OBJECTIVE)
    module, sep, function = target.partition(":")
    if not sep or not module or not function.isidentifier():
        raise InvalidInputError(
            f'{where}: expected "training", "module:function" or "file.py:function", got {target!r}'
        )
    directory = str(Path(directory).resolve())
    if module.endswith(".py"):
        file = (Path(directory) / module).resolve()
        directory, module = str(file.parent), file.stem
    path = (directory,)
    if not _importable(module, path):
        notices.append(
            Notice(
                where,
                f"module {module!r} is not importable here (looked in {directory} and on the "
                "Python path); workers must be able to import it",
            )
        )
    return ObjectiveSpec(f"{module}:{function}", path)


def _importable(module: str, path: Sequence[str]) -> bool:
    top = module.split(".")[0]
    if any(
        (Path(d) / f"{top}.py").exists() or (Path(d) / top / "__init__.py").exists() for d in path
    ):
        return True
    try:
        return importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        return False


def _metrics(config: SearchConfig, o: Overrides, objective: ObjectiveSpec) -> tuple[Metric, ...]:
    if config.metrics is not None:
        metrics = config.metrics
        if o.direction is not None and len(metrics) == 1:
            metrics = (replace(metrics[0], direction=o.direction),)
        return metrics
    name = TRAINING_METRIC if objective.is_builtin else DEFAULT_METRIC
    return (Metric(name, o.direction or config.direction or "maximize"),)


#: Training params that name files: stored absolute, so workers started elsewhere find them.
PATH_PARAMS = ("data_dir", "pretrained", "teacher", "checkpoint", "cache_dir")


def _check_training_params(
    params: dict[str, Any], config: SearchConfig, cwd: str, notices: list[Notice]
) -> dict[str, Any]:
    """Refuse params the built-in objective does not know, before any worker starts."""
    from training.config import ConfigError, TrainConfig, known_params, suggest

    known = known_params()
    prefix = f"{config.space_path}." if config.space_path else ""
    for name in config.space.names():
        if name not in known:
            raise InvalidInputError(
                f"{prefix}{name}: not a param of the built-in training objective{suggest(name)}"
            )
    fixed = {k: v for k, v in params.items() if k not in config.space.names()}
    try:
        TrainConfig.from_params(fixed)
    except ConfigError as exc:
        raise InvalidInputError(f"params: {exc}") from None
    resolved = dict(params)
    for key in PATH_PARAMS:
        value = resolved.get(key)
        if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
            resolved[key] = str((Path(cwd) / value).resolve())
            notices.append(Notice(f"params.{key}", f"relative path stored as {resolved[key]}"))
    return resolved


def _stem(source: str | None) -> str:
    return Path(source).stem if source else "study"


# --------------------------------------------------------------------------------------------
# Storage side
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Created:
    study_id: int
    spec: StudySpec
    reused: bool  # the study existed already with the same experiment


def create_study(storage: BaseStorage, spec: StudySpec, *, exist_ok: bool = False) -> Created:
    """Create the study, store its spec and enqueue the baseline trial (once per study)."""
    import optuna

    existing = find_study_id(storage, spec.name)
    if existing is not None:
        return _reuse(storage, existing, spec, exist_ok)
    try:
        study = optuna.create_study(
            storage=storage, study_name=spec.name, directions=list(spec.directions)
        )
    except optuna.exceptions.DuplicatedStudyError:
        # Another create-study won the race: the same rules as if it had existed before.
        existing = find_study_id(storage, spec.name)
        assert existing is not None
        return _reuse(storage, existing, spec, exist_ok)
    study_id = study._study_id
    try:
        study.set_user_attr(SPEC_ATTR, spec.to_json())
        study.set_user_attr("hpo:sampler", spec.sampler.name)
        # Plain Optuna and the dashboard then name the objectives (val_acc, num_params).
        study.set_metric_names([m.name for m in spec.metrics])
        if spec.baseline:
            study.enqueue_trial(dict(spec.baseline), user_attrs={BASELINE_ATTR: True})
    except BaseException:
        # A study without its spec is useless to workers: take it back out.
        storage.delete_study(study_id)
        raise
    return Created(study_id, spec, reused=False)


def _reuse(storage: BaseStorage, study_id: int, spec: StudySpec, exist_ok: bool) -> Created:
    stored = read_spec(storage, study_id, spec.name)
    differs = stored.same_experiment(spec)
    if not exist_ok or differs:
        reason = f" with a different {', '.join(differs)}" if differs else ""
        raise StudyExistsError(
            f"study {spec.name!r} exists already{reason}; choose another --name"
            + ("" if differs else " or resume it with hpo worker --study NAME")
        )
    return Created(study_id, stored, reused=True)


def find_study_id(storage: BaseStorage, name: str) -> int | None:
    try:
        return storage.get_study_id_from_name(name)
    except KeyError:
        return None


def load_study_id(storage: BaseStorage, name: str) -> int:
    study_id = find_study_id(storage, name)
    if study_id is None:
        names = [s.study_name for s in storage.get_all_studies()]
        import difflib

        close = difflib.get_close_matches(name, names, n=1)
        hint = (
            f"; did you mean {close[0]!r}?"
            if close
            else (
                f"; studies here: {', '.join(names[:8])}"
                if names
                else "; the storage has no studies"
            )
        )
        raise StudyNotFoundError(f"no study named {name!r}{hint}")
    return study_id


def read_spec(storage: BaseStorage, study_id: int, name: str) -> StudySpec:
    data = storage.get_study_user_attrs(study_id).get(SPEC_ATTR)
    if data is None:
        raise HpoError(
            f"study {name!r} has no hpo spec (was it created by plain Optuna?); "
            "create it with hpo create-study"
        )
    return StudySpec.from_json(data)


def grid_budget(space: Space, baseline: bool, max_trials: int | None) -> tuple[int, str | None]:
    """A grid study's trial budget: at most one trial per point, plus the baseline's.

    Past that, Optuna's GridSampler would run points again. Returns the budget and, when the
    asked one was cut, a sentence saying so.
    """
    # The baseline trial runs besides the grid (it takes a trial number but no grid point).
    points = grid_size(space)
    size = points + (1 if baseline else 0)
    if max_trials is None:
        return size, None
    if max_trials <= size:
        return max_trials, None
    besides = " and the baseline" if baseline else ""
    return size, f"the grid has {points} combinations{besides}: budget cut to {size} trials"


def load_spec(storage: BaseStorage, name: str) -> tuple[int, StudySpec]:
    study_id = load_study_id(storage, name)
    return study_id, read_spec(storage, study_id, name)


def load_optuna_study(
    storage: BaseStorage,
    spec: StudySpec,
    sampler: optuna.samplers.BaseSampler | None = None,
    pruner: optuna.pruners.BasePruner | None = None,
) -> optuna.Study:
    import optuna

    return optuna.load_study(study_name=spec.name, storage=storage, sampler=sampler, pruner=pruner)


# --------------------------------------------------------------------------------------------
# Summaries (hpo status)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StudySummary:
    name: str
    spec: StudySpec | None
    counts: Mapping[TrialState, int]
    best_value: float | None
    best_number: int | None
    n_pareto: int | None = None
    stopped: bool = False

    @property
    def n_trials(self) -> int:
        return sum(self.counts.values())


def summaries(storage: BaseStorage) -> list[StudySummary]:
    from optuna.trial import TrialState

    from hpo.storage import state_counts

    out: list[StudySummary] = []
    for frozen in storage.get_all_studies():
        study_id = frozen._study_id
        data = frozen.user_attrs.get(SPEC_ATTR)
        try:
            spec = StudySpec.from_json(data) if data else None
        except HpoError:
            spec = None
        counts = state_counts(storage, study_id)
        best_value = best_number = None
        n_pareto = None
        if counts.get(TrialState.COMPLETE):
            if len(frozen.directions) == 1:
                best = storage.get_best_trial(study_id)
                best_value, best_number = best.value, best.number
            else:
                import optuna

                study = optuna.load_study(study_name=frozen.study_name, storage=storage)
                n_pareto = len(study.best_trials)
        stopped = bool(frozen.user_attrs.get("hpo:stopped"))
        out.append(
            StudySummary(
                frozen.study_name, spec, counts, best_value, best_number, n_pareto, stopped
            )
        )
    return out


def budget_text(spec: StudySpec) -> str:
    parts = []
    if spec.max_trials is not None:
        parts.append(f"{spec.max_trials} trials")
    if spec.max_duration_s is not None:
        parts.append(format_duration(spec.max_duration_s))
    return " / ".join(parts) or "unlimited"


def format_duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    if seconds < 172800:
        return f"{seconds / 3600:.1f}h".replace(".0h", "h")
    return f"{seconds / 86400:.1f}d".replace(".0d", "d")


def time_left(spec: StudySpec, now: float | None = None) -> float:
    """Seconds until maxExecDuration (counted from study creation); inf without one."""
    if spec.max_duration_s is None:
        return math.inf
    return spec.created_at + spec.max_duration_s - (time.time() if now is None else now)
