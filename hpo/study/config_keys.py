"""The keys of a Dr.Opt ``config`` (and those an NNI experiment config shares with it): one
handler each, filling the fields of a :class:`~hpo.study.config_file.SearchConfig` or refusing
the value at its JSON path. NNI's keys for what runs where are in ``nni_keys``.
"""

from __future__ import annotations

import math
import re
from typing import Any

from hpo.errors import InvalidInputError, SpaceError, UnknownNameError
from hpo.objectives import DIRECTIONS, Direction, Metric
from hpo.space import Notice
from hpo.space.limits import check_name
from hpo.text import kind, show
from hpo.tuners import (
    NNI_ASSESSOR_ARGS,
    Component,
    nni_tuner,
    resolve_pruner_name,
    resolve_sampler_name,
)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_DURATION_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
#: The largest population of an evolutionary tuner: a generation is sampled at once, and
#: one of 10^12 never finished (``hpo.tuners.compatibility.OPTION_BOUNDS``).
MAX_POPULATION = 10_000
#: The longest duration: 100 years. Workers wait on timers of up to a budget's length, and
#: Python's timers overflow past 292 years; no experiment runs a century.
MAX_DURATION_S = 100 * 365 * 86400.0
#: The longest heartbeat interval and grace period (a week): a worker's threads wait that long,
#: and a trial silent for a week is dead by any measure.
MAX_LIVENESS_S = 7 * 86400


# --------------------------------------------------------------------------------------------


def _experiment_name(value: Any, at: str, fields: dict[str, Any], notices: list[Notice]) -> None:
    if not isinstance(value, str) or not value.strip():
        raise SpaceError(at, f"expected a non-empty string, got {show(value)}")
    check_name(value, "a study name", at)
    fields["experiment_name"] = value.strip()


def _max_trials(value: Any, at: str, fields: dict[str, Any], notices: list[Notice]) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SpaceError(at, f"expected a positive integer, got {show(value)}")
    fields["max_trials"] = value


def _max_duration(value: Any, at: str, fields: dict[str, Any], notices: list[Notice]) -> None:
    fields["max_duration_s"] = parse_duration(value, at)


def parse_duration(value: Any, at: str = "") -> float:
    """``"12h"``, ``"30m"``, ``"2d"``, ``"90s"`` or a number of seconds → seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        seconds = float(match.group(1)) * _DURATION_UNITS[match.group(2)]
    else:
        raise SpaceError(
            at, f'expected a duration like "12h", "30m", "2d" or "90s", got {show(value)}'
        )
    if not math.isfinite(seconds) or seconds <= 0:
        raise SpaceError(at, f"expected a positive duration, got {show(value)}")
    if seconds > MAX_DURATION_S:
        raise SpaceError(at, f"expected a duration of at most 100 years, got {show(value)}")
    return seconds


def _tuner(value: Any, at: str, fields: dict[str, Any], notices: list[Notice]) -> None:
    """NNI's ``tuner`` (or ``advisor``): ``name`` (v2) or ``builtinTunerName`` (v1)."""
    if not isinstance(value, dict):
        raise SpaceError(at, f"expected an object with a tuner name, got {kind(value)}")
    _refuse_custom(value, at, "tuner")
    name_key = next(
        (k for k in ("name", "builtinTunerName", "builtinAdvisorName") if k in value), None
    )
    if name_key is None:
        raise SpaceError(at, 'missing the tuner name (e.g. name: "TPE", "Random", "Evolution")')
    name, name_at = value[name_key], f"{at}.{name_key}"
    if not isinstance(name, str):
        raise SpaceError(name_at, f"expected a tuner name, got {show(name)}")
    fields.setdefault("nni_names", {})["tuner"] = name.strip()
    try:
        sampler = resolve_sampler_name(name)
    except (UnknownNameError, InvalidInputError) as exc:
        raise SpaceError(name_at, str(exc)) from None
    tuner = nni_tuner(name)
    if tuner is not None and tuner.note:
        notices.append(Notice(name_at, tuner.note))
    if tuner is not None and tuner.pruner is not None:
        fields["tuner_pruner"] = Component(tuner.pruner)
    for key in value:
        if key == "gpuIndices":
            fields.setdefault("ignored", []).append(f"{at}.{key}")  # samplers need no GPU
        elif key == "includeIntermediateResults":
            notices.append(
                Notice(f"{at}.{key}", "no effect: samplers learn from final values only")
            )
        elif key not in (name_key, "classArgs"):
            notices.append(Notice(f"{at}.{key}", "unknown tuner key ignored"))
    options: dict[str, Any] = {}
    class_args = value.get("classArgs") or {}
    if not isinstance(class_args, dict):
        raise SpaceError(f"{at}.classArgs", f"expected an object, got {kind(class_args)}")
    for arg, arg_value in class_args.items():
        arg_at = f"{at}.classArgs.{arg}"
        if arg == "optimize_mode":
            fields["direction"] = _direction(arg_value, arg_at)
        elif arg == "population_size":
            if (
                isinstance(arg_value, bool)
                or not isinstance(arg_value, int)
                or not 2 <= arg_value <= MAX_POPULATION
            ):
                raise SpaceError(
                    arg_at,
                    f"expected an integer from 2 to {MAX_POPULATION:,}, got {show(arg_value)}",
                )
            if sampler in ("cmaes", "nsga2", "nsga3"):
                options["population_size"] = arg_value
            else:
                notices.append(Notice(arg_at, f"ignored: the {sampler} sampler has no population"))
        elif arg == "seed":
            fields["seed"] = _seed(arg_value, arg_at)
        else:
            notices.append(Notice(arg_at, "unknown tuner argument ignored"))
    fields["tuner_sampler"] = Component(sampler, options)


def _refuse_custom(value: dict[str, Any], at: str, what: str) -> None:
    if "className" in value:
        raise SpaceError(
            f"{at}.className",
            f"custom NNI {what}s (className) are not supported: name a built-in one; hpo's "
            "samplers and pruners are Optuna's",
        )


def _assessor(value: Any, at: str, fields: dict[str, Any], notices: list[Notice]) -> None:
    if not isinstance(value, dict):
        raise SpaceError(at, f"expected an object with builtinAssessorName, got {kind(value)}")
    _refuse_custom(value, at, "assessor")
    name = value.get("builtinAssessorName", value.get("name"))
    if not isinstance(name, str):
        raise SpaceError(at, 'missing the assessor name (e.g. name: "Medianstop")')
    try:
        pruner = resolve_pruner_name(name)
    except UnknownNameError as exc:
        raise SpaceError(f"{at}.builtinAssessorName", str(exc)) from None
    fields.setdefault("nni_names", {})["assessor"] = name.strip()
    if name.strip().lower() == "curvefitting":
        notices.append(
            Notice(
                at,
                "the Curvefitting assessor runs as the median pruner (no curve is fitted: a "
                "trial below the median of earlier trials at the same step is stopped)",
            )
        )
    options: dict[str, Any] = {}
    class_args = value.get("classArgs") or {}
    if not isinstance(class_args, dict):
        raise SpaceError(f"{at}.classArgs", f"expected an object, got {kind(class_args)}")
    for arg, arg_value in class_args.items():
        if arg in NNI_ASSESSOR_ARGS:
            options[NNI_ASSESSOR_ARGS[arg]] = arg_value
        elif arg == "optimize_mode":
            fields.setdefault("direction", _direction(arg_value, f"{at}.classArgs.{arg}"))
        else:
            notices.append(
                Notice(f"{at}.classArgs.{arg}", f"no counterpart in the {pruner} pruner: ignored")
            )
    fields["assessor_pruner"] = Component(pruner, options)


def _component(field_name: str, resolve: Any) -> Any:
    """The handler of ``sampler`` or ``pruner``: a name, or ``{"name": ..., options}``."""

    def handler(value: Any, at: str, fields: dict[str, Any], notices: list[Notice]) -> None:
        if isinstance(value, str):
            name, options = value, {}
        elif isinstance(value, dict) and isinstance(value.get("name"), str):
            name = value["name"]
            options = {k: v for k, v in value.items() if k != "name"}
        else:
            raise SpaceError(
                at, f'expected a {field_name} name or {{"name": ..., options}}, got {show(value)}'
            )
        try:
            fields[field_name] = Component(resolve(name), options)
        except UnknownNameError as exc:
            raise SpaceError(at, str(exc)) from None

    return handler


def _objective(value: Any, at: str, fields: dict[str, Any], notices: list[Notice]) -> None:
    """``"training"``, ``"module:function"``, or ``{"command": ..., "code_dir": ...}``."""
    if isinstance(value, dict) and "command" in value:
        for key, item in value.items():
            if key == "command":
                if not isinstance(item, str) or not item.strip() or "\0" in item:
                    raise SpaceError(f"{at}.command", f"expected a command, got {show(item)}")
                fields["command"] = item.strip()
            elif key == "code_dir":
                if not isinstance(item, str) or not item.strip():
                    raise SpaceError(f"{at}.code_dir", f"expected a directory, got {show(item)}")
                fields["code_dir"] = (item.strip(), f"{at}.code_dir")
            else:
                raise SpaceError(f"{at}.{key}", "unknown key (expected command, code_dir)")
        return
    expected = '"training", "module:function" or {"command": ...}'
    if not isinstance(value, str) or not value.strip():
        raise SpaceError(at, f"expected {expected}, got {show(value)}")
    value = value.strip()
    if value != "training" and value.count(":") != 1:
        raise SpaceError(at, f"expected {expected}, got {show(value)}")
    fields["objective"] = value


def _model(value: Any, at: str, fields: dict[str, Any], notices: list[Notice]) -> None:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z_][\w.]*", value):
        raise SpaceError(at, f'expected a Python module name like "train", got {show(value)}')
    fields["model"] = value


def _metrics(value: Any, at: str, fields: dict[str, Any], notices: list[Notice]) -> None:
    items: list[tuple[str, Any, str]]
    if isinstance(value, dict):
        items = [(k, v, f"{at}.{k}") for k, v in value.items()]
    elif isinstance(value, list):
        items = []
        for i, m in enumerate(value):
            if not isinstance(m, dict) or not isinstance(m.get("name"), str):
                raise SpaceError(f"{at}[{i}]", 'expected {"name": ..., "direction": ...}')
            items.append((m["name"], m.get("direction", "maximize"), f"{at}[{i}].direction"))
    else:
        raise SpaceError(at, 'expected {"metric": "maximize" | "minimize", ...}')
    if not items:
        raise SpaceError(at, "give at least one metric")
    seen: set[str] = set()
    for name, _, where in items:
        where = where.removesuffix(".direction")
        if not name.strip():
            raise SpaceError(where, "a metric name must not be empty")
        check_name(name, "a metric name", where)
        if name in seen:
            raise SpaceError(where, f"metric {name!r} is named twice")
        seen.add(name)
    fields["metrics"] = tuple(Metric(name, _direction(d, where)) for name, d, where in items)


def _seed_key(value: Any, at: str, fields: dict[str, Any], notices: list[Notice]) -> None:
    fields["seed"] = _seed(value, at)


def _liveness_seconds(key: str, minimum: int, maximum: int | None = MAX_LIVENESS_S) -> Any:
    def handler(value: Any, at: str, fields: dict[str, Any], notices: list[Notice]) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise SpaceError(at, f"expected an integer ≥ {minimum}, got {show(value)}")
        if maximum is not None and value > maximum:
            raise SpaceError(at, f"expected at most {maximum} (a week), got {show(value)}")
        fields.setdefault("liveness", {})[key] = value

    return handler


def _checkpoint_dir(value: Any, at: str, fields: dict[str, Any], notices: list[Notice]) -> None:
    _directory(value, at)
    fields.setdefault("liveness", {})["checkpoint_dir"] = value


def _artifact_dir(value: Any, at: str, fields: dict[str, Any], notices: list[Notice]) -> None:
    _directory(value, at)
    fields["artifact_dir"] = value


def _directory(value: Any, at: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise SpaceError(at, f"expected a directory, got {show(value)}")
    if "\0" in value:  # no path can hold one: the OS refuses it
        raise SpaceError(at, f"a directory cannot hold a NUL character, got {show(value)}")


def _keep_weights(value: Any, at: str, fields: dict[str, Any], notices: list[Notice]) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SpaceError(
            at, f"expected an integer ≥ 0 (trials whose weights are kept), got {show(value)}"
        )
    fields["keep_weights"] = value


CONFIG_KEYS = {
    "experimentName": _experiment_name,
    "maxTrialNum": _max_trials,
    "maxTrialNumber": _max_trials,
    "maxExecDuration": _max_duration,
    "maxExperimentDuration": _max_duration,
    "tuner": _tuner,
    "advisor": _tuner,
    "assessor": _assessor,
    "sampler": _component("sampler", resolve_sampler_name),
    "pruner": _component("pruner", resolve_pruner_name),
    "objective": _objective,
    "model": _model,
    "metrics": _metrics,
    "seed": _seed_key,
    "heartbeat_interval": _liveness_seconds("heartbeat_interval", 1),
    "grace_period": _liveness_seconds("grace_period", 2),
    "max_retry": _liveness_seconds("max_retry", 0, None),
    "checkpoint_dir": _checkpoint_dir,
    "artifact_dir": _artifact_dir,
    "keep_weights": _keep_weights,
}


def merge_components(fields: dict[str, Any]) -> None:
    """hpo's own sampler / pruner keys win over NNI's assessor, which wins over the tuner."""
    tuner_sampler = fields.pop("tuner_sampler", None)
    fields.setdefault("sampler", tuner_sampler)
    if fields.get("sampler") is None:
        del fields["sampler"]
    elif (
        tuner_sampler is not None
        and fields["sampler"].name == tuner_sampler.name
        and not fields["sampler"].options
    ):
        # Keep NNI classArgs (population_size) unless hpo's sampler key gave options itself.
        fields["sampler"] = tuner_sampler
    pruner = (
        fields.get("pruner")
        or fields.pop("assessor_pruner", None)
        or fields.pop("tuner_pruner", None)
    )
    fields.pop("assessor_pruner", None)
    fields.pop("tuner_pruner", None)
    if pruner is not None:
        fields["pruner"] = pruner


def merge_direction(fields: dict[str, Any], notices: list[Notice]) -> None:
    direction = fields.get("direction")
    metrics = fields.get("metrics")
    if (
        direction is not None
        and metrics is not None
        and len(metrics) == 1
        and metrics[0].direction != direction
    ):
        notices.append(
            Notice("config.metrics", f"overrides optimize_mode {direction} for {metrics[0].name}")
        )


def _direction(value: Any, at: str) -> Direction:
    if isinstance(value, str) and value.strip().lower() in DIRECTIONS:
        return "maximize" if value.strip().lower() == "maximize" else "minimize"
    raise SpaceError(at, f'expected "maximize" or "minimize", got {show(value)}')


def _seed(value: Any, at: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31 - 1:
        raise SpaceError(at, f"expected an integer seed in [0, 2^31 - 1), got {show(value)}")
    return value
